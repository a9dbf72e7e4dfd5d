// @ts-check
/**
 * How a conversation is named: a *thread*, `{model, id}`, so that Discuss
 * conversations and the addon's mobile channels fit the same methods and
 * hooks. A bare number keeps meaning a mobile channel (the `channel_id` of
 * earlier versions), so existing apps keep working.
 *
 *   7                                     a mobile channel
 *   {model: 'bus_mobile.channel', id: 7}  the same
 *   {model: 'discuss.channel', id: 7}     a Discuss channel, group or chat
 *
 * A name that is neither is refused with a `TypeError` saying why, before
 * anything is sent.
 */

export const MOBILE_CHANNEL = 'bus_mobile.channel';
export const DISCUSS_CHANNEL = 'discuss.channel';
const MODELS = [MOBILE_CHANNEL, DISCUSS_CHANNEL];
// PostgreSQL's integer: the server refuses larger ids.
const MAX_ID = 2147483647;

/** @typedef {import('./shapes.js').Thread} Thread */
/** @typedef {import('./shapes.js').ThreadName} ThreadName */

/** A short, safe description of a value for an error message. @param {unknown} value */
function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    let text;
    try {
      text = JSON.stringify(value);
    } catch {
      text = '';
    }
    return text ? `the object ${text.slice(0, 80)}` : 'an object';
  }
  return typeof value;
}

/** @param {unknown} id */
function isId(id) {
  return typeof id === 'number' && Number.isInteger(id) && id > 0 && id <= MAX_ID;
}

/**
 * The thread a name stands for; throws a `TypeError` naming the problem.
 * @param {ThreadName} name a mobile channel id, or `{model, id}`
 * @param {string} [what] what the caller calls it, for the message
 * @returns {Thread}
 */
export function toThread(name, what = 'thread') {
  if (typeof name === 'number') {
    if (isId(name)) return { model: MOBILE_CHANNEL, id: name };
    throw new TypeError(`${what}: a mobile channel id is an integer from 1 to ${MAX_ID}, not ${describe(name)}`);
  }
  if (!name || typeof name !== 'object' || Array.isArray(name)) {
    throw new TypeError(`${what} must be a mobile channel id or {model: 'discuss.channel' | 'bus_mobile.channel', id}, not ${describe(name)}`);
  }
  const { model, id } = /** @type {any} */ (name);
  if (!MODELS.includes(model)) {
    throw new TypeError(`${what}: the model must be 'discuss.channel' or 'bus_mobile.channel', not ${describe(model)}`);
  }
  if (!isId(id)) throw new TypeError(`${what}: the id of a ${model} is an integer from 1 to ${MAX_ID}, not ${describe(id)}`);
  return { model, id };
}

/** @param {Thread} thread */
export function isDiscuss(thread) {
  return thread.model === DISCUSS_CHANNEL;
}

/** A string naming the thread, for maps and React keys: `discuss.channel:7`. @param {Thread} thread */
export function threadKey(thread) {
  return `${thread.model}:${thread.id}`;
}

/** @param {number} id @returns {Thread} */
export function discussThread(id) {
  return { model: DISCUSS_CHANNEL, id };
}

/** @param {number} id @returns {Thread} */
export function mobileThread(id) {
  return { model: MOBILE_CHANNEL, id };
}

/**
 * A mobile channel's message in the one message shape (the Discuss keys
 * it has no use for are empty).
 * @param {any} message as `/bus_mobile/*` answers it
 * @returns {import('./shapes.js').Message}
 */
export function mobileMessage(message) {
  if (!message || typeof message !== 'object' || message.thread) return message;
  return {
    ...message,
    thread: mobileThread(message.channel_id),
    message_type: 'comment',
    edited: false,
    attachments: [],
    parent: null,
    reactions: [],
    pending: false,
  };
}

/**
 * A mobile channel dict with its `thread` (and its last message in the one shape).
 * @param {any} channel
 * @returns {import('./shapes.js').Channel}
 */
export function mobileChannel(channel) {
  if (!channel || typeof channel !== 'object') return channel;
  return {
    ...channel,
    thread: mobileThread(channel.id),
    ...(channel.last_message ? { last_message: mobileMessage(channel.last_message) } : {}),
  };
}
