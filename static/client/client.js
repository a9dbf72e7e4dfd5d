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
 */
import { Auth } from './auth.js';
import { Connection } from './connection.js';
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
    try {
      return await this._http.call(route, params);
    } catch (error) {
      if (!(error instanceof BusMobileError) || error.kind !== 'session') throw error;
      this.emit('sessionExpired', { route });
      if (!(await this._auth.reauthenticate())) throw error;
      return this._http.call(route, params);
    }
  }

  // ------------------------------------------------------------------
  // The routes
  // ------------------------------------------------------------------

  /** @returns {Promise<ServerConfig>} */
  async loadConfig() {
    this.config = await this.rpc('/bus_mobile/config');
    return /** @type {ServerConfig} */ (this.config);
  }

  /** @returns {Promise<Channel[]>} my channels, with `unread_count` and `last_message` */
  channels() {
    return this.rpc('/bus_mobile/channels');
  }

  /**
   * @param {{name?: string, type?: 'public' | 'private' | 'direct', partnerIds?: number[]}} spec
   * @returns {Promise<Channel>} (direct: the pair's channel, made on first use)
   */
  createChannel({ name, type = 'private', partnerIds = [] }) {
    return this.rpc('/bus_mobile/channel/create', { name, channel_type: type, partner_ids: partnerIds });
  }

  /** @param {number} channelId @returns {Promise<Channel>} */
  join(channelId) {
    return this.rpc('/bus_mobile/channel/join', { channel_id: channelId });
  }

  /** @param {number} channelId @returns {Promise<Channel>} */
  leave(channelId) {
    return this.rpc('/bus_mobile/channel/leave', { channel_id: channelId });
  }

  /** @param {number} channelId @param {number[]} partnerIds @returns {Promise<Channel>} */
  addMembers(channelId, partnerIds) {
    return this.rpc('/bus_mobile/channel/add_members', { channel_id: channelId, partner_ids: partnerIds });
  }

  /**
   * A page of history, ascending id: the last `limit`, or those before `beforeId`.
   * @param {number} channelId
   * @param {{beforeId?: number, afterId?: number, limit?: number}} [page]
   * @returns {Promise<Message[]>}
   */
  messages(channelId, { beforeId, afterId, limit } = {}) {
    return this.rpc('/bus_mobile/messages', dropUndefined({ channel_id: channelId, before_id: beforeId, after_id: afterId, limit }));
  }

  /**
   * Every message of my channels after `afterId`: the catch-up the client
   * runs by itself after each reconnect.
   * @param {number} afterId
   * @param {number} [limit]
   * @returns {Promise<{messages: Message[], has_more: boolean}>}
   */
  sync(afterId, limit) {
    return this.rpc('/bus_mobile/sync', dropUndefined({ after_id: afterId, limit }));
  }

  /** Read receipt: `messageId` and all before it are read. @param {number} channelId @param {number} messageId */
  markRead(channelId, messageId) {
    return this.rpc('/bus_mobile/message/read', { channel_id: channelId, message_id: messageId });
  }

  /**
   * Tell the channel I am (not) typing. Throttled: `true` goes out at most
   * once per `typingThrottle` ms while it holds; `false` only after a `true`.
   * @param {number} channelId
   * @param {boolean} [isTyping]
   * @returns {Promise<boolean>} whether a request was sent
   */
  typing(channelId, isTyping = true) {
    return this._typing.send(channelId, isTyping);
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
   * @param {number} channelId
   * @param {string} body
   * @returns {PendingMessage}
   */
  post(channelId, body) {
    this._typing.forget(channelId);
    return this._outbox.post(channelId, body);
  }

  /** The posts waiting for the server, oldest first. @param {number} [channelId] */
  pendingMessages(channelId) {
    return this._outbox.pending(channelId);
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
