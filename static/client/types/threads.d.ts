/**
 * The thread a name stands for; throws a `TypeError` naming the problem.
 * @param {ThreadName} name a mobile channel id, or `{model, id}`
 * @param {string} [what] what the caller calls it, for the message
 * @returns {Thread}
 */
export function toThread(name: ThreadName, what?: string): Thread;
/** @param {Thread} thread */
export function isDiscuss(thread: Thread): boolean;
/** A string naming the thread, for maps and React keys: `discuss.channel:7`. @param {Thread} thread */
export function threadKey(thread: Thread): string;
/** @param {number} id @returns {Thread} */
export function discussThread(id: number): Thread;
/** @param {number} id @returns {Thread} */
export function mobileThread(id: number): Thread;
/**
 * A mobile channel's message in the one message shape (the Discuss keys
 * it has no use for are empty).
 * @param {any} message as `/bus_mobile/*` answers it
 * @returns {import('./shapes.js').Message}
 */
export function mobileMessage(message: any): import("./shapes.js").Message;
/**
 * A mobile channel dict with its `thread` (and its last message in the one shape).
 * @param {any} channel
 * @returns {import('./shapes.js').Channel}
 */
export function mobileChannel(channel: any): import("./shapes.js").Channel;
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
export const MOBILE_CHANNEL: "bus_mobile.channel";
export const DISCUSS_CHANNEL: "discuss.channel";
export type Thread = import("./shapes.js").Thread;
export type ThreadName = import("./shapes.js").ThreadName;
