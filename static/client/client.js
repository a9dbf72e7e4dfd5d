// @ts-check
/**
 * `BusMobileClient`: real-time Odoo (the `bus_mobile` addon) for apps.
 *
 * It signs in, reads `/bus_mobile/config`, keeps one socket to
 * `/bus_mobile/websocket` open while the app is in the foreground, and
 * after every reconnect resumes with `subscribe` + `last`, then
 * `/bus_mobile/sync`, so that messages are emitted once, in id order, with
 * nothing lost. Posts go through a persisted outbox, retried with the same
 * `client_uuid` until the server acknowledges them.
 *
 * No runtime dependency: `fetch`, `WebSocket`, the storage, the app-state and
 * network sources are the platform's or injected.
 *
 * This class is the public API and holds what the parts share (options,
 * config, credentials, stats); each concern is a part of its own:
 *   auth.js           sign-in and the credentials requests carry
 *   http.js           JSON-RPC over fetch
 *   connection.js     the socket's life: bootstrap, reconnects, app state, network
 *   frames.js         what the client sends on the socket (rate-limited)
 *   notifications.js  what the socket brings, turned into events
 *   resume.js         cursors, catch-up and de-duplication
 *   outbox.js         posts kept until acknowledged
 *   presence.js       presence watching and typing
 *   storage.js        the client's records in the app's storage
 *   threads.js        how a conversation is named (Discuss or mobile channel)
 *   discuss.js        Discuss's routes and attachments; discuss_notifications.js
 *                     and discuss_shape.js read mail's notifications;
 *                     discuss_resume.js is Discuss's catch-up
 */
import { Auth } from './auth.js';
import { Connection } from './connection.js';
import { Discuss } from './discuss.js';
import { DiscussResume } from './discuss_resume.js';
import { Emitter } from './emitter.js';
import { BusMobileError } from './errors.js';
import { Frames } from './frames.js';
import { JsonRpc } from './http.js';
import { Notifications } from './notifications.js';
import { DEFAULTS } from './options.js';
import { Outbox } from './outbox.js';
import { PresenceWatch, TypingThrottle } from './presence.js';
import { Resume } from './resume.js';
import { ClientStore, MemoryStorage } from './storage.js';
import { isDiscuss, mobileChannel, mobileMessage, toThread } from './threads.js';
import { dropUndefined, errorText } from './util.js';

/** @typedef {import('./options.js').BusMobileOptions} BusMobileOptions */
/** @typedef {import('./shapes.js').BusMobileEvents} BusMobileEvents */
/** @typedef {import('./shapes.js').ConnectionState} ConnectionState */
/** @typedef {import('./shapes.js').Message} Message */
/** @typedef {import('./shapes.js').PendingMessage} PendingMessage */
/** @typedef {import('./shapes.js').Channel} Channel */
/** @typedef {import('./shapes.js').Presence} Presence */
/** @typedef {import('./shapes.js').ServerConfig} ServerConfig */
/** @typedef {import('./shapes.js').DeviceSignIn} DeviceSignIn */
/** @typedef {import('./shapes.js').Thread} Thread */
/** @typedef {import('./shapes.js').ThreadName} ThreadName */
/** @typedef {import('./shapes.js').DiscussChannel} DiscussChannel */
/** @typedef {import('./shapes.js').Attachment} Attachment */
/** @typedef {import('./shapes.js').PostOptions} PostOptions */
/** @typedef {import('./shapes.js').UploadFile} UploadFile */
/** @typedef {import('./shapes.js').UploadOptions} UploadOptions */
/** @typedef {import('./shapes.js').ReadState} ReadState */
/** @typedef {import('./shapes.js').Partner} Partner */

/**
 * The Discuss conversation a name stands for; a `TypeError` for any other.
 * @param {ThreadName} name @param {string} what
 */
function discussThreadOf(name, what) {
  const thread = toThread(name, what);
  if (!isDiscuss(thread)) {
    throw new TypeError(`${what}: only Discuss conversations ({model: 'discuss.channel', id}) have it; ${thread.id} is a mobile channel`);
  }
  return thread;
}

/** @extends {Emitter<BusMobileEvents>} */
export class BusMobileClient extends Emitter {
  /** @param {BusMobileOptions} options */
  constructor(options) {
    super();
    if (!options || !options.url) throw new TypeError('BusMobileClient: the `url` option is required');
    this.options = { ...DEFAULTS, ...options };
    this.url = options.url.replace(/\/+$/, '');
    this.db = options.db ?? null;
    /** The `session_id` cookie's value, when the client knows it. */
    this.sessionId = options.sessionId ?? null;
    /** The bearer token (device token or API key), when the client signs in with one. */
    this.token = options.token ?? null;
    /** @type {ServerConfig | null} */
    this.config = null;
    /** @type {string | null} */
    this.deviceUuid = options.deviceUuid ?? null;
    this.storage = options.storage ?? new MemoryStorage();
    /** Counters, for apps' diagnostics and for tests. */
    /** @type {{code?: number, reason?: string}[]} */
    const closes = [];
    this.stats = { opens: 0, reauths: 0, recovered: 0, duplicates: 0, closes };

    // The parts (see the list above); each reaches the others through the client.
    /** @internal */
    this._auth = new Auth(this);
    /** @internal */
    this._http = new JsonRpc(this);
    /** @internal */
    this._connection = new Connection(this);
    /** @internal */
    this._frames = new Frames(this);
    /** @internal */
    this._discuss = new Discuss(this);
    /** @internal */
    this._discussResume = new DiscussResume(this);
    /** @internal */
    this._notifications = new Notifications(this);
    /** @internal */
    this._resume = new Resume(this);
    /** @internal */
    this._outbox = new Outbox(this);
    /** @internal */
    this._presence = new PresenceWatch(this);
    /** @internal */
    this._typing = new TypingThrottle(this);
    /** @internal */
    this._store = new ClientStore(this);
  }

  /** @returns {ConnectionState} */
  get state() {
    return this._connection.state;
  }

  /** The signed-in user's partner id, once the config is loaded. */
  get partnerId() {
    return this.config ? this.config.user.partner_id : null;
  }

  // ------------------------------------------------------------------
  // Signing in and out (auth.js)
  // ------------------------------------------------------------------

  /**
   * Sign in with Odoo's `/web/session/authenticate`; keeps the session.
   * @param {{db?: string, login: string, password: string}} credentials
   * @returns {Promise<any>} Odoo's session info (`uid`, ...)
   */
  login(credentials) {
    return this._auth.login(credentials);
  }

  /**
   * Sign this device in with `/bus_mobile/device/login`: the answer's device
   * token replaces the password and the cookie (keep it in the app's secure
   * storage; the server shows it once). A two-factor account answers
   * `{totpRequired: true}` first: call again with `totpCode`, the 6 digits of
   * the user's authenticator app.
   * @param {{db?: string, login: string, password: string, totpCode?: string,
   *   platform?: 'ios' | 'android' | 'web' | 'other', appVersion?: string}} credentials
   * @returns {Promise<DeviceSignIn>}
   */
  deviceLogin(credentials) {
    return this._auth.deviceLogin(credentials);
  }

  /**
   * Sign this device out (`/bus_mobile/device/logout`): its token stops
   * working and its sockets close on the server; then close the client.
   * @returns {Promise<void>}
   */
  signOut() {
    return this._auth.signOut();
  }

  /**
   * Sign out on the server (`/web/session/destroy`) and close the client.
   * @returns {Promise<void>}
   */
  logout() {
    return this._auth.logout();
  }

  /**
   * Call a JSON-RPC route of the addon (or of Odoo). An expired session is
   * renewed once through `reauthenticate`.
   * @param {string} route
   * @param {Record<string, any>} [params] `undefined` values are left out
   * @returns {Promise<any>}
   */
  async rpc(route, params = {}) {
    const sent = this._auth.credential();
    try {
      return await this._http.call(route, params);
    } catch (error) {
      if (!(error instanceof BusMobileError) || error.kind !== 'session') throw error;
      this.emit('sessionExpired', { route });
      if (!(await this._auth.reauthenticate(sent))) throw error;
      return this._http.call(route, params);
    }
  }

  // ------------------------------------------------------------------
  // Conversations. A conversation is named by a thread (threads.js): a
  // mobile channel's id, or `{model: 'discuss.channel', id}`.
  // ------------------------------------------------------------------

  /** @returns {Promise<ServerConfig>} */
  async loadConfig() {
    this.config = await this.rpc('/bus_mobile/config');
    return /** @type {ServerConfig} */ (this.config);
  }

  /** Whether the server has Discuss (`mail` installed), once the config is loaded. */
  get discussAvailable() {
    return this._discuss.available;
  }

  /** @returns {Promise<Channel[]>} my mobile channels, with `unread_count` and `last_message` */
  async channels() {
    const channels = await this.rpc('/bus_mobile/channels');
    return channels.map(mobileChannel);
  }

  /**
   * My Discuss conversations as the web client lists them (channels and
   * groups I am a member of, pinned chats), with `unread_count` and
   * `last_message`. A `UserError` where Discuss is not available.
   * @returns {Promise<DiscussChannel[]>}
   */
  async discussChannels() {
    return (await this._discuss.channels()).channels;
  }

  /**
   * All my conversations: Discuss's (where the server has it) and the
   * mobile channels, the most recently active first.
   * @returns {Promise<(DiscussChannel | Channel)[]>}
   */
  async conversations() {
    if (!this.config) await this.loadConfig();
    const [mobile, discuss] = await Promise.all([this.channels(), this._discuss.available ? this.discussChannels() : []]);
    /** @param {DiscussChannel | Channel} c */
    const activity = (c) => (c.last_message ? c.last_message.create_date : '');
    return [...discuss, ...mobile].sort((a, b) => activity(b).localeCompare(activity(a)) || a.name.localeCompare(b.name));
  }

  /** One Discuss conversation. @param {ThreadName} thread @returns {Promise<DiscussChannel>} */
  discussChannel(thread) {
    return this._discuss.channel(discussThreadOf(thread, 'discussChannel').id);
  }

  /**
   * @param {{name?: string, type?: 'public' | 'private' | 'direct', partnerIds?: number[]}} spec
   * @returns {Promise<Channel>} a mobile channel (direct: the pair's channel, made on first use)
   */
  async createChannel({ name, type = 'private', partnerIds = [] }) {
    return mobileChannel(await this.rpc('/bus_mobile/channel/create', { name, channel_type: type, partner_ids: partnerIds }));
  }

  /**
   * The Discuss direct chat with a person (a partner of an internal user),
   * made on first use, as the web client's "Start a conversation".
   * @param {number} partnerId @returns {Promise<DiscussChannel>}
   */
  startChat(partnerId) {
    return this._discuss.chat(partnerId);
  }

  /** A Discuss group with me and them. @param {number[]} partnerIds @param {string} [name] @returns {Promise<DiscussChannel>} */
  createGroup(partnerIds, name) {
    return this._discuss.createGroup(partnerIds, name);
  }

  /** People I may chat with, by name (Discuss). @param {string} search @param {number} [limit] @returns {Promise<Partner[]>} */
  searchPartners(search, limit) {
    return this._discuss.partners(search, limit);
  }

  /** Join a public channel. @param {ThreadName} thread @returns {Promise<Channel | DiscussChannel>} */
  async join(thread) {
    const { model, id } = toThread(thread, 'join');
    if (model === 'discuss.channel') return this._discuss.join(id);
    return mobileChannel(await this.rpc('/bus_mobile/channel/join', { channel_id: id }));
  }

  /** Leave a channel or a group (a Discuss chat: hide it). @param {ThreadName} thread @returns {Promise<any>} */
  async leave(thread) {
    const { model, id } = toThread(thread, 'leave');
    if (model === 'discuss.channel') return this._discuss.leave(id);
    return mobileChannel(await this.rpc('/bus_mobile/channel/leave', { channel_id: id }));
  }

  /** @param {ThreadName} thread @param {number[]} partnerIds @returns {Promise<Channel | DiscussChannel>} */
  async addMembers(thread, partnerIds) {
    const { model, id } = toThread(thread, 'addMembers');
    if (model === 'discuss.channel') return this._discuss.addMembers(id, partnerIds);
    return mobileChannel(await this.rpc('/bus_mobile/channel/add_members', { channel_id: id, partner_ids: partnerIds }));
  }

  /**
   * Mute a Discuss conversation for `minutes` (-1: until unmuted, 0: unmute).
   * @param {ThreadName} thread @param {number} minutes @returns {Promise<DiscussChannel>}
   */
  mute(thread, minutes) {
    return this._discuss.mute(discussThreadOf(thread, 'mute').id, minutes);
  }

  /**
   * Which messages of a Discuss conversation notify me (null: my default).
   * @param {ThreadName} thread @param {'all' | 'mentions' | 'no_notif' | null} setting @returns {Promise<DiscussChannel>}
   */
  setNotifications(thread, setting) {
    return this._discuss.setNotifications(discussThreadOf(thread, 'setNotifications').id, setting);
  }

  // ------------------------------------------------------------------
  // Messages
  // ------------------------------------------------------------------

  /**
   * A page of history, ascending id: the last `limit`, or those before
   * `beforeId` (or after `afterId`). Discuss also finds messages around one
   * (`aroundId`) and by text (`search`).
   * @param {ThreadName} thread
   * @param {{beforeId?: number, afterId?: number, aroundId?: number, limit?: number, search?: string}} [page]
   * @returns {Promise<Message[]>}
   */
  async messages(thread, { beforeId, afterId, aroundId, limit, search } = {}) {
    const { model, id } = toThread(thread, 'messages');
    if (model === 'discuss.channel') {
      return (await this._discuss.messages(id, { before: beforeId, after: afterId, around: aroundId, limit, search })).messages;
    }
    if (aroundId !== undefined || search !== undefined) throw new TypeError('messages: aroundId and search are for Discuss conversations');
    const page = await this.rpc('/bus_mobile/messages', dropUndefined({ channel_id: id, before_id: beforeId, after_id: afterId, limit }));
    return page.map(mobileMessage);
  }

  /**
   * Every message of my mobile channels after `afterId`: the catch-up the
   * client runs by itself after each reconnect (Discuss's too).
   * @param {number} afterId
   * @param {number} [limit]
   * @returns {Promise<{messages: Message[], has_more: boolean}>}
   */
  async sync(afterId, limit) {
    const page = await this.rpc('/bus_mobile/sync', dropUndefined({ after_id: afterId, limit }));
    return { ...page, messages: page.messages.map(mobileMessage) };
  }

  /**
   * Read receipt: `messageId` and all before it are read. For Discuss, the
   * web client's counter and seen ticks follow, and the answer gives mine.
   * @param {ThreadName} thread @param {number} messageId
   * @returns {Promise<ReadState | void>}
   */
  markRead(thread, messageId) {
    const { model, id } = toThread(thread, 'markRead');
    if (model === 'discuss.channel') return this._discuss.markRead(id, messageId);
    return this.rpc('/bus_mobile/message/read', { channel_id: id, message_id: messageId });
  }

  /**
   * Tell the conversation I am (not) typing. Throttled: `true` goes out at
   * most once per `typingThrottle` ms while it holds; `false` only after a `true`.
   * @param {ThreadName} thread
   * @param {boolean} [isTyping]
   * @returns {Promise<boolean>} whether a request was sent
   */
  typing(thread, isTyping = true) {
    return this._typing.send(toThread(thread, 'typing'), isTyping);
  }

  /**
   * Replace the text of my Discuss message (marked edited); its attachments stay.
   * @param {ThreadName} thread @param {number} messageId @param {string} body plain text
   * @param {{partnerIds?: number[]}} [options] the people mentioned (`@Name` in the text)
   * @returns {Promise<Message>}
   */
  editMessage(thread, messageId, body, { partnerIds } = {}) {
    discussThreadOf(thread, 'editMessage');
    return this._discuss.edit(messageId, body, partnerIds);
  }

  /** Delete my Discuss message (as the web client: empty, no attachments). @param {ThreadName} thread @param {number} messageId @returns {Promise<Message>} */
  deleteMessage(thread, messageId) {
    discussThreadOf(thread, 'deleteMessage');
    return this._discuss.delete(messageId);
  }

  /**
   * Add (or remove) my reaction to a Discuss message.
   * @param {ThreadName} thread @param {number} messageId @param {string} content an emoji
   * @param {'add' | 'remove'} [action]
   * @returns {Promise<Message>}
   */
  react(thread, messageId, content, action = 'add') {
    discussThreadOf(thread, 'react');
    return this._discuss.react(messageId, content, action);
  }

  /**
   * Upload a file for a Discuss post; then post with `{attachments: [it]}`.
   * `onProgress` follows the bytes sent (XMLHttpRequest: React Native,
   * browsers; elsewhere at the start and the end only).
   * @param {ThreadName} thread
   * @param {UploadFile} file a Blob or File, or React Native's `{uri, name, type}`
   * @param {UploadOptions} [options]
   * @returns {Promise<Attachment>}
   */
  async uploadAttachment(thread, file, options = {}) {
    const { id } = discussThreadOf(thread, 'uploadAttachment');
    const sent = this._auth.credential();
    try {
      return await this._discuss.upload(id, file, options);
    } catch (error) {
      if (!(error instanceof BusMobileError) || error.kind !== 'session') throw error;
      this.emit('sessionExpired', { route: error.route ?? undefined });
      if (!(await this._auth.reauthenticate(sent))) throw error;
      return this._discuss.upload(id, file, options);
    }
  }

  /** @param {number[]} partnerIds @returns {Promise<Presence[]>} */
  presence(partnerIds) {
    return this._presence.fetch(partnerIds);
  }

  /**
   * Follow the presence of `partnerIds`: `presence` events now (their
   * current status) and on every change. Returns the function that stops.
   * @param {number[]} partnerIds
   * @returns {() => void}
   */
  watchPresence(partnerIds) {
    return this._presence.watch(partnerIds);
  }

  /**
   * @param {{platform?: string, appVersion?: string, pushToken?: string}} [device]
   */
  async registerDevice({ platform, appVersion, pushToken } = {}) {
    await this._auth.ensureDeviceUuid();
    return this.rpc('/bus_mobile/device/register', dropUndefined({
      device_uuid: this.deviceUuid,
      platform: platform ?? this.options.platform ?? 'other',
      app_version: appVersion ?? this.options.appVersion ?? '',
      push_token: pushToken,
    }));
  }

  // ------------------------------------------------------------------
  // Posting: the outbox (outbox.js)
  // ------------------------------------------------------------------

  /**
   * Post at once: returns the pending message (with its `client_uuid`). The
   * outbox, kept in `storage`, retries it until the server acknowledges it
   * (a retry never makes a duplicate), then a `message` event brings the
   * confirmed one. A post the server refuses (a `ValidationError`, ...) is
   * dropped and reported as an `error` event whose `pending` is the message.
   * `body` is plain text; in a Discuss conversation the server makes mail's
   * HTML of it as the web composer does (line breaks, links, and a mention
   * link for `@Name` of each of `partnerIds`).
   * @param {ThreadName} thread
   * @param {string} body
   * @param {PostOptions} [options] Discuss only: mentions, uploaded attachments, the message replied to
   * @returns {PendingMessage}
   */
  post(thread, body, { partnerIds, attachments, replyTo } = {}) {
    const target = toThread(thread, 'post');
    if (!isDiscuss(target) && (partnerIds?.length || attachments?.length || replyTo)) {
      throw new TypeError('post: mentions, attachments and replies are for Discuss conversations, not mobile channels');
    }
    const parent = replyTo ? { id: replyTo.id, author_id: replyTo.author_id, author_name: replyTo.author_name, body: replyTo.body } : null;
    this._typing.forget(target);
    return this._outbox.post(target, body, { partnerIds, attachments, parent });
  }

  /** The posts waiting for the server, oldest first (of one conversation). @param {ThreadName} [thread] */
  pendingMessages(thread) {
    return this._outbox.pending(thread === undefined ? undefined : toThread(thread, 'pendingMessages'));
  }

  // ------------------------------------------------------------------
  // Lifecycle (connection.js)
  // ------------------------------------------------------------------

  /**
   * Connect, and stay connected while the app is in the foreground.
   * Resolves once the socket is open and caught up the first time; rejects
   * if the client is closed (or gives up) before.
   * @returns {Promise<void>}
   */
  start() {
    return this._connection.start();
  }

  /** Close the socket cleanly (1000) and stop; `start()` may be called again. */
  close() {
    this._connection.close();
  }

  /** Resolves when everything written so far is in `storage`. */
  async flushStorage() {
    this._resume.flushCursor();
    await this._store.writes;
  }

  /**
   * Report `error` as an `error` event (a `BusMobileError` of `kind` if it is not one).
   * @internal
   * @param {unknown} error
   * @param {import('./errors.js').ErrorKind} [kind]
   */
  _emitError(error, kind = 'rpc') {
    this.emit('error', error instanceof BusMobileError ? error : new BusMobileError(errorText(error), { kind, cause: error }));
  }
}
