// @ts-check
/**
 * Discuss for the app: the `/bus_mobile/discuss/*` routes (doc/discuss.md),
 * the upload of attachments with progress, and what the client remembers of
 * the user's conversations (which ones it knows, the conversation of each
 * message it saw) to read mail's notifications.
 *
 * Where `mail` is not installed the server refuses every route with a
 * `UserError` naming the module; the client asks nothing by itself then.
 */
import { BusMobileError, SESSION_EXPIRED } from './errors.js';
import { discussThread } from './threads.js';
import { dropUndefined, errorText } from './util.js';

/** @typedef {import('./shapes.js').Message} Message */
/** @typedef {import('./shapes.js').DiscussChannel} DiscussChannel */
/** @typedef {import('./shapes.js').Attachment} Attachment */
/** @typedef {import('./shapes.js').PendingMessage} PendingMessage */
/** @typedef {import('./shapes.js').UploadFile} UploadFile */
/** @typedef {import('./shapes.js').UploadOptions} UploadOptions */

const PREFIX = '/bus_mobile/discuss/';
// Message id -> conversation, for the notifications that do not say it.
const MAX_REMEMBERED_MESSAGES = 5000;

/** @param {Message} message */
const confirmed = (message) => /** @type {Message} */ ({ ...message, pending: false });

export class Discuss {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    /** @type {Map<number, string | null>} conversation id -> channel_type (null: not known yet) */
    this.known = new Map();
    /** @type {Map<number, number>} message id -> conversation id */
    this.messageThreads = new Map();
  }

  /** Whether the server said Discuss is there (`/bus_mobile/config`). */
  get available() {
    const config = /** @type {any} */ (this.client.config);
    return Boolean(config && config.discuss && config.discuss.available);
  }

  /** @param {string} route @param {Record<string, any>} [params] */
  rpc(route, params = {}) {
    return this.client.rpc(PREFIX + route, dropUndefined(params));
  }

  // ------------------------------------------------------------------
  // What the client knows of the user's conversations
  // ------------------------------------------------------------------

  /** @param {number} id */
  knows(id) {
    return this.known.has(id);
  }

  /** @param {number} id */
  channelType(id) {
    return this.known.get(id) ?? null;
  }

  /** @param {number} messageId @returns {number | null} */
  threadOfMessage(messageId) {
    return this.messageThreads.get(messageId) ?? null;
  }

  /** @param {DiscussChannel} channel @returns {DiscussChannel} */
  rememberChannel(channel) {
    if (!channel || !Number.isInteger(channel.id)) return channel;
    this.known.set(channel.id, channel.channel_type ?? null);
    const last = channel.last_message ? confirmed(channel.last_message) : null;
    if (last) this.rememberMessages([last]);
    return { ...channel, last_message: last };
  }

  /** @param {Message[]} messages @returns {Message[]} in the one shape */
  rememberMessages(messages) {
    for (const message of messages) {
      if (message && Number.isInteger(message.id) && message.thread) this.messageThreads.set(message.id, message.thread.id);
    }
    if (this.messageThreads.size > MAX_REMEMBERED_MESSAGES) {
      // A Map keeps insertion order: forget the oldest half.
      const drop = [...this.messageThreads.keys()].slice(0, this.messageThreads.size - MAX_REMEMBERED_MESSAGES / 2);
      for (const id of drop) this.messageThreads.delete(id);
    }
    return messages.map(confirmed);
  }

  /**
   * I became a member of a conversation: tell the app with its dict.
   * @param {import('./shapes.js').Thread} thread
   */
  added(thread) {
    const client = this.client;
    if (!this.known.has(thread.id)) this.known.set(thread.id, null);
    this.channel(thread.id).then(
      (channel) => client.emit('discussChannel', { event: 'added', thread, channel }),
      // Gone again (left, removed) before it could be read: nothing to show.
      () => {},
    );
  }

  /** @param {import('./shapes.js').Thread} thread */
  removed(thread) {
    this.known.delete(thread.id);
    this.client.emit('discussChannel', { event: 'removed', thread, channel: null });
  }

  // ------------------------------------------------------------------
  // Conversations
  // ------------------------------------------------------------------

  /** @returns {Promise<{channels: DiscussChannel[], sync_cursor: number}>} */
  async channels() {
    const answer = await this.rpc('channels');
    return { ...answer, channels: answer.channels.map((/** @type {DiscussChannel} */ c) => this.rememberChannel(c)) };
  }

  /** @param {Promise<DiscussChannel>} answer */
  async one(answer) {
    return this.rememberChannel(await answer);
  }

  /**
   * A conversation I made or joined: one the client did not know is
   * followed at once (the socket learns new conversations at subscribe).
   * @param {Promise<DiscussChannel>} answer
   */
  async mine(answer) {
    const client = this.client;
    const channel = await answer;
    const isNew = !this.known.has(channel.id);
    const remembered = this.rememberChannel(channel);
    if (isNew) {
      client._frames.subscribe();
      client._resume.catchUp();
      client.emit('discussChannel', { event: 'added', thread: channel.thread, channel: remembered });
    }
    return remembered;
  }

  /** @param {number} id */
  channel(id) {
    return this.one(this.rpc('channel', { channel_id: id }));
  }

  /** @param {number} partnerId */
  chat(partnerId) {
    return this.mine(this.rpc('chat', { partner_id: partnerId }));
  }

  /** @param {number[]} partnerIds @param {string} [name] */
  createGroup(partnerIds, name) {
    return this.mine(this.rpc('group/create', { partner_ids: partnerIds, name }));
  }

  /** @param {number} id @param {number[]} partnerIds */
  addMembers(id, partnerIds) {
    return this.one(this.rpc('channel/add_members', { channel_id: id, partner_ids: partnerIds }));
  }

  /** @param {number} id */
  join(id) {
    return this.mine(this.rpc('channel/join', { channel_id: id }));
  }

  /** @param {number} id @returns {Promise<{left: true, thread: import('./shapes.js').Thread}>} */
  async leave(id) {
    const answer = await this.rpc('channel/leave', { channel_id: id });
    this.known.delete(id);
    return answer;
  }

  /** @param {number} id @param {number} minutes */
  mute(id, minutes) {
    return this.one(this.rpc('mute', { channel_id: id, minutes }));
  }

  /** @param {number} id @param {'all' | 'mentions' | 'no_notif' | null} setting */
  setNotifications(id, setting) {
    return this.one(this.rpc('notifications', { channel_id: id, setting }));
  }

  /** @param {string} search @param {number} [limit] */
  partners(search, limit) {
    return this.rpc('partners', { search, limit });
  }

  // ------------------------------------------------------------------
  // Messages
  // ------------------------------------------------------------------

  /**
   * @param {number} id
   * @param {{before?: number, after?: number, around?: number, limit?: number, search?: string}} page
   * @returns {Promise<{messages: Message[], count?: number}>}
   */
  async messages(id, { before, after, around, limit, search }) {
    const answer = await this.rpc('messages', { channel_id: id, before, after, around, limit, search_term: search });
    return { ...answer, messages: this.rememberMessages(answer.messages) };
  }

  /** @param {number} cursor @param {number} [limit] @returns {Promise<{messages: Message[], cursor: number, has_more: boolean, reset: boolean}>} */
  async sync(cursor, limit) {
    const answer = await this.rpc('sync', { cursor, limit });
    return { ...answer, messages: this.rememberMessages(answer.messages) };
  }

  /** The outbox's post. @param {PendingMessage} entry @returns {Promise<Message>} */
  async post(entry) {
    const message = await this.rpc('message/post', {
      channel_id: entry.thread.id,
      body: entry.body,
      client_uuid: entry.client_uuid,
      partner_ids: entry.partner_ids?.length ? entry.partner_ids : undefined,
      attachment_ids: entry.attachment_ids?.length ? entry.attachment_ids : undefined,
      parent_id: entry.parent_id ?? undefined,
    });
    return this.rememberMessages([message])[0];
  }

  /** @param {Promise<Message>} answer */
  async changed(answer) {
    return this.rememberMessages([await answer])[0];
  }

  /** @param {number} messageId @param {string} body @param {number[]} [partnerIds] */
  edit(messageId, body, partnerIds) {
    return this.changed(this.rpc('message/edit', { message_id: messageId, body, partner_ids: partnerIds }));
  }

  /** @param {number} messageId */
  delete(messageId) {
    return this.changed(this.rpc('message/delete', { message_id: messageId }));
  }

  /** @param {number} messageId @param {string} content @param {'add' | 'remove'} action */
  react(messageId, content, action) {
    return this.changed(this.rpc('message/react', { message_id: messageId, content, action }));
  }

  /**
   * Seen up to `messageId`; tells this client's own listeners at once (the
   * server tells the others: the web client, my other devices).
   * @param {number} id @param {number} messageId
   * @returns {Promise<{thread: import('./shapes.js').Thread, seen_message_id: number | null, unread_count: number}>}
   */
  async markRead(id, messageId) {
    const client = this.client;
    const answer = await this.rpc('mark_read', { channel_id: id, message_id: messageId });
    const thread = discussThread(id);
    if (answer.seen_message_id && client.partnerId) {
      client.emit('read', { thread, partner_id: client.partnerId, message_id: answer.seen_message_id });
    }
    client.emit('unread', { thread, unread_count: answer.unread_count });
    return answer;
  }

  /** @param {number} id @param {boolean} isTyping */
  typing(id, isTyping) {
    return this.rpc('typing', { channel_id: id, is_typing: isTyping });
  }

  // ------------------------------------------------------------------
  // Attachments
  // ------------------------------------------------------------------

  /**
   * Upload a file for a post in the conversation `id` (multipart, with the
   * client's credentials); `onProgress` follows the bytes sent where the
   * platform tells them (XMLHttpRequest: React Native and browsers).
   * @param {number} id
   * @param {UploadFile} file
   * @param {UploadOptions} [options]
   * @returns {Promise<Attachment>}
   */
  async upload(id, file, { name, onProgress, signal, csrfToken } = {}) {
    const client = this.client;
    const route = `${PREFIX}attachment/upload`;
    const fileName = name ?? /** @type {any} */ (file).name;
    if (!file || typeof file !== 'object') throw new TypeError('uploadAttachment: the file must be a Blob, a File or {uri, name, type}');
    if (typeof fileName !== 'string' || !fileName) throw new TypeError('uploadAttachment: the file has no name (pass `name`)');
    const FormDataCtor = client.options.FormData ?? /** @type {any} */ (globalThis).FormData;
    if (!FormDataCtor) throw new TypeError('uploadAttachment: no FormData (pass the `FormData` option)');
    const form = new FormDataCtor();
    form.append('channel_id', String(id));
    if (csrfToken) form.append('csrf_token', csrfToken);
    const isBlob = typeof Blob !== 'undefined' && file instanceof Blob;
    // React Native's FormData takes {uri, name, type} for a file on the device.
    if (isBlob) form.append('ufile', file, fileName);
    else form.append('ufile', { ...file, name: fileName });
    const total = isBlob ? /** @type {Blob} */ (file).size : 0;
    const XHR = client.options.XMLHttpRequest ?? /** @type {any} */ (globalThis).XMLHttpRequest;
    const send = XHR ? sendWithXhr : sendWithFetch;
    const { status, text } = await send(client, XHR, client.url + route, form, { total, onProgress, signal });
    return /** @type {Attachment} */ (uploadAnswer(route, status, text).attachment);
  }
}

/**
 * @typedef {{total: number, onProgress?: (progress: {loaded: number, total: number}) => void, signal?: AbortSignal}} SendOptions
 * @typedef {{status: number, text: string}} RawAnswer
 */

/**
 * @param {import('./client.js').BusMobileClient} client @param {any} XHR
 * @param {string} url @param {any} form @param {SendOptions} how @returns {Promise<RawAnswer>}
 */
function sendWithXhr(client, XHR, url, form, { onProgress, signal }) {
  return new Promise((resolve, reject) => {
    const xhr = new XHR();
    const failed = (/** @type {string} */ why) =>
      reject(new BusMobileError(`${PREFIX}attachment/upload: ${why}`, { kind: 'network', route: `${PREFIX}attachment/upload` }));
    xhr.open('POST', url);
    for (const [header, value] of Object.entries(client._auth.headers())) {
      try {
        xhr.setRequestHeader(header, value);
      } catch {
        // a browser's forbidden header (Cookie): it sends its own cookies
      }
    }
    if (onProgress && xhr.upload) {
      xhr.upload.onprogress = (/** @type {any} */ event) => onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : 0 });
    }
    xhr.onload = () => resolve({ status: xhr.status, text: String(xhr.responseText ?? '') });
    xhr.onerror = () => failed(`no answer from ${client.url}`);
    xhr.onabort = () => failed('aborted');
    if (signal) {
      if (signal.aborted) return xhr.abort();
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    xhr.send(form);
  });
}

/**
 * Without XMLHttpRequest (node): progress at the start and the end only.
 * @param {import('./client.js').BusMobileClient} client @param {any} _XHR
 * @param {string} url @param {any} form @param {SendOptions} how @returns {Promise<RawAnswer>}
 */
async function sendWithFetch(client, _XHR, url, form, { total, onProgress, signal }) {
  const fetcher = client._http.fetch;
  if (!fetcher) throw new TypeError('uploadAttachment: no fetch (pass the `fetch` option)');
  onProgress?.({ loaded: 0, total });
  let response;
  try {
    response = await fetcher(url, { method: 'POST', headers: client._auth.headers(), body: form, signal });
  } catch (cause) {
    throw new BusMobileError(`${PREFIX}attachment/upload: no answer from ${client.url} (${errorText(cause)})`, {
      kind: 'network',
      route: `${PREFIX}attachment/upload`,
      cause,
    });
  }
  const text = await response.text().catch(() => '');
  if (response.status === 200) onProgress?.({ loaded: total, total });
  return { status: response.status, text };
}

/**
 * The upload's JSON answer, or its JSON error (doc/discuss.md, "Attachments")
 * as a `BusMobileError` with Odoo's exception name and the HTTP status.
 * @param {string} route @param {number} status @param {string} text
 * @returns {{attachment: Attachment}}
 */
function uploadAnswer(route, status, text) {
  let answer = null;
  try {
    answer = JSON.parse(text);
  } catch {
    // an answer from something else than the route (a proxy's error page)
  }
  if (status === 200 && answer && answer.attachment) return answer;
  const error = (answer && answer.error) || {};
  const message = error.message || `HTTP ${status} ${text.slice(0, 200)}`.trim();
  const name = error.name || null;
  const kind = status === 401 || name === SESSION_EXPIRED ? 'session' : name ? 'rpc' : 'http';
  throw new BusMobileError(`${route}: ${message}`, { kind, exceptionName: name, route, status });
}
