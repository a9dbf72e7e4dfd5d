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
 */
import { backoffDelay, closeAction, CLOSE } from './backoff.js';
import { Emitter } from './emitter.js';
import { BusMobileError, SESSION_EXPIRED } from './errors.js';
import { MemoryStorage } from './storage.js';

/**
 * @typedef {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} ConnectionState
 * `idle`: not started, or suspended in the background; `connecting`: the
 * first connection; `open`: the socket is up; `reconnecting`: it dropped and
 * a new one is on the way (or waits for the network); `closed`: closed by
 * the app, or given up (a clean close by the server, sign-in impossible).
 */

/**
 * @typedef {Object} Message A message as the server sends it.
 * @property {number} id
 * @property {number} channel_id
 * @property {number} author_id partner id
 * @property {string} author_name
 * @property {string} body
 * @property {string | null} client_uuid
 * @property {string} create_date ISO 8601 UTC
 */

/**
 * @typedef {Object} PendingMessage A post not yet acknowledged by the server.
 * @property {null} id
 * @property {number} channel_id
 * @property {number | null} author_id
 * @property {string} author_name
 * @property {string} body
 * @property {string} client_uuid
 * @property {string} create_date
 * @property {true} pending
 */

/**
 * @typedef {Object} Channel
 * @property {number} id
 * @property {string} name
 * @property {'public' | 'private' | 'direct'} channel_type
 * @property {boolean} active
 * @property {number[]} member_partner_ids
 * @property {number} [unread_count]
 * @property {Message | null} [last_message]
 */

/**
 * @typedef {Object} ServerConfig What `/bus_mobile/config` returns.
 * @property {string} websocket_url
 * @property {string} worker_version
 * @property {string} server_version
 * @property {{id: number, partner_id: number, name: string}} user
 * @property {string[]} channels
 * @property {{heartbeat_s: number, away_after_s: number, offline_after_s: number}} presence
 * @property {{max_body_chars: number, page_max: number, rate_limit_burst: number, rate_limit_delay: number}} limits
 */

/**
 * @typedef {Object} DeviceSignIn What `deviceLogin()` resolves to.
 * @property {boolean} totpRequired true: call again with `totpCode`
 * @property {string} [token] the device token (shown once: keep it)
 * @property {string} [expiresAt] ISO 8601 UTC; each use renews it
 * @property {{id: number, device_uuid: string, platform: string, app_version: string | null, status: string}} [device]
 * @property {{id: number, partner_id: number, name: string}} [user]
 */

/** @typedef {{partner_id: number, im_status: string, last_seen: string | null}} Presence */
/** @typedef {{channel_id: number, partner_id: number, is_typing: boolean}} Typing */
/** @typedef {{channel_id: number, partner_id: number, message_id: number}} Read */
/** @typedef {{event: 'created' | 'updated' | 'member_added' | 'member_removed', channel: Channel, partner_ids: number[]}} ChannelEvent */
/** @typedef {{id: number, message: {type: string, payload: any}}} Notification */

/**
 * @typedef {Object} BusMobileEvents
 * @property {{state: ConnectionState, previous: ConnectionState, code?: number, reason?: string}} state
 * @property {Message} message a new message, once, in id order
 * @property {Typing} typing
 * @property {Read} read
 * @property {ChannelEvent} channel
 * @property {Presence} presence
 * @property {Notification} notification every raw bus notification (Discuss ones too)
 * @property {BusMobileError} error
 * @property {{code?: number, route?: string}} sessionExpired
 * @property {{recovered: number, opens: number}} reconnect after each resume: how many messages the sync recovered
 * @property {PendingMessage[]} outbox the pending posts changed
 */

/**
 * A WebSocket as browsers, React Native and node's `ws` all implement it.
 * @typedef {Object} WebSocketLike
 * @property {number} readyState
 * @property {(data: string) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {((event: any) => void) | null} onopen
 * @property {((event: {data: any}) => void) | null} onmessage
 * @property {((event: {code?: number, reason?: string}) => void) | null} onclose
 * @property {((event: any) => void) | null} onerror
 */

/**
 * React Native's and `ws`'s constructor: `new WebSocket(url, protocols,
 * {headers})`. Browsers ignore the third argument (they send their cookies).
 * @typedef {new (url: string, protocols?: string | string[], options?: {headers?: Record<string, string>}) => WebSocketLike} WebSocketConstructor
 */

/**
 * React Native's `AppState` fits: `currentState` is `active`, `background`
 * or `inactive`; `addEventListener('change', fn)` returns `{remove()}`.
 * @typedef {Object} AppStateSource
 * @property {string | null} [currentState]
 * @property {(type: 'change', listener: (state: string) => void) => {remove: () => void} | (() => void)} addEventListener
 */

/**
 * `@react-native-community/netinfo`'s `NetInfo` fits: `addEventListener(fn)`
 * returns the unsubscribe function; `isConnected === false` means offline.
 * @typedef {Object} NetworkSource
 * @property {(listener: (state: {isConnected: boolean | null}) => void) => (() => void) | {remove: () => void}} addEventListener
 */

/**
 * @typedef {Object} BusMobileOptions
 * @property {string} url the Odoo server, e.g. `https://odoo.example.com`
 * @property {string} [db] the database, for `login()`
 * @property {string} [sessionId] an existing session id (`session_id` cookie)
 * @property {string} [token] a bearer token: a device token from `deviceLogin()` (kept by the
 *   app in its secure storage) or one of the user's Odoo API keys; sent as
 *   `Authorization: Bearer` on every call and on the socket instead of the cookie
 * @property {boolean} [sendCookie] send `Cookie: session_id=...` yourself (default true;
 *   React Native's native cookie jar also carries it; browsers drop the header and send theirs)
 * @property {string} [wsBase] `ws(s)://host:port` of the socket when it is not next
 *   to `url` (Odoo's gevent port without a proxy); the path comes from the config
 * @property {WebSocketConstructor} [WebSocket] default: the global one
 * @property {(url: string, options: {headers: Record<string, string>}) => WebSocketLike} [createWebSocket]
 *   full control over how the socket is made (wins over `WebSocket`)
 * @property {typeof fetch} [fetch] default: the global one
 * @property {import('./storage.js').KeyValueStorage} [storage] AsyncStorage in an app (default: memory)
 * @property {string} [storageKey] prefix of the stored keys (default `odoo-bus-mobile`)
 * @property {AppStateSource} [appState] pass React Native's `AppState`
 * @property {NetworkSource} [network] pass NetInfo
 * @property {(client: BusMobileClient) => Promise<unknown>} [reauthenticate] called once
 *   when the session expired (close 4001): sign in again (e.g. `client.login(...)`)
 *   or resolve to a new session id
 * @property {string} [deviceUuid] default: made once and kept in `storage`
 * @property {'ios' | 'android' | 'web' | 'other'} [platform] registers the device with it
 * @property {string} [appVersion]
 * @property {string[]} [channels] extra bus channels to subscribe to
 * @property {number} [minDelay] ms, first reconnect delay (default 1000)
 * @property {number} [maxDelay] ms, longest reconnect delay (default 30000)
 * @property {number} [tryLaterDelay] ms, least delay after a 1013 (default 5000)
 * @property {number} [backgroundGrace] ms in the background before the socket closes (default 30000)
 * @property {number} [typingThrottle] ms between two `typing(…, true)` sent (default 3000)
 * @property {number} [timeout] ms for each HTTP call and socket handshake (default 15000)
 * @property {() => number} [random] in [0, 1), for the jitter
 */

const DEFAULTS = {
  storageKey: 'odoo-bus-mobile',
  minDelay: 1000,
  maxDelay: 30000,
  tryLaterDelay: 5000,
  backgroundGrace: 30000,
  typingThrottle: 3000,
  timeout: 15000,
};
const MOBILE_SOCKET_PATH = '/bus_mobile/websocket';
// A socket that received a frame or stayed open this long proved that a new
// sign-in worked: a later 4001 may sign in again.
const SESSION_PROOF_MS = 5000;
const MAX_SEEN = 10000;

/** @returns {string} */
function uuid4() {
  const c = /** @type {any} */ (globalThis).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  // Hermes has no crypto.randomUUID: good enough for an idempotency key.
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (ch) => {
    const r = (Math.random() * 16) | 0;
    return (ch === 'x' ? r : (r & 0x3) | 0x8).toString(16);
  });
}

/**
 * The bearer token was refused (HTTP 401): a `session` error (sign in again)
 * whose `reason` says why.
 * @param {string} route
 * @param {Response} response
 */
async function tokenRefused(route, response) {
  const answer = await response.json().catch(() => null);
  const data = (answer && answer.error && answer.error.data) || {};
  const message = data.message || 'the bearer token was refused';
  return new BusMobileError(`${route}: ${message}`, {
    kind: 'session',
    exceptionName: data.name || null,
    route,
    status: 401,
    reason: String(message).split(':')[0],
  });
}

/** @param {any} subscription */
function remover(subscription) {
  if (typeof subscription === 'function') return subscription;
  if (subscription && typeof subscription.remove === 'function') return () => subscription.remove();
  return () => {};
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

    /** @type {ConnectionState} */
    this._state = 'idle';
    this._fetch = options.fetch ?? globalThis.fetch?.bind(globalThis);
    /** @type {WebSocketLike | null} */
    this._ws = null;
    this._gen = 0; // bumps on every connect/close: stale callbacks check it
    this._attempt = 0;
    this._started = false;
    this._closedByApp = false;
    /** @type {'foreground' | 'background'} */
    this._appState = 'foreground';
    this._online = true;
    this._rpcId = 0;
    /** @type {Record<string, ReturnType<typeof setTimeout> | null>} */
    this._timers = { retry: null, heartbeat: null, grace: null, open: null, frames: null, outbox: null, save: null };
    /** @type {(() => void)[]} */
    this._unsubscribe = [];
    // Resume cursors: `last` (bus id) and the last message id; `_floor` is
    // where this run started: anything at or below it was delivered before.
    this._cursor = { last: 0, lastMessageId: 0 };
    this._floor = 0;
    /** @type {number | null} */
    this._loadedFor = null;
    this._resumed = false;
    this._ns = '';
    /** @type {Set<number>} */
    this._seen = new Set();
    this._catchingUp = false;
    this._catchUpAgain = false;
    /** @type {Message[]} */
    this._held = [];
    /** @type {Set<number>} ids of held messages that came from a post's answer */
    this._postIds = new Set();
    /** @type {Promise<number | null> | null} */
    this._catchUpRun = null;
    /** @type {PendingMessage[]} */
    this._outbox = [];
    this._outboxAttempt = 0;
    this._flushing = false;
    /** @type {Map<string, any>} frames waiting for the rate limit, latest wins */
    this._frames = new Map();
    /** @type {number[]} */
    this._sentAt = [];
    /** @type {Map<number, number>} watched partner id -> watchers */
    this._watched = new Map();
    /** @type {Map<number, {typing: boolean, at: number}>} */
    this._typingSent = new Map();
    /** @type {Promise<boolean> | null} */
    this._reauthPromise = null;
    this._reauthedSocket = false;
    this._openedAt = 0;
    /** @type {Promise<void>} */
    this._writes = Promise.resolve();
    /** @type {{promise: Promise<void>, resolve: () => void, reject: (e: unknown) => void} | null} */
    this._firstOpen = null;
  }

  /** @returns {ConnectionState} */
  get state() {
    return this._state;
  }

  /** The signed-in user's partner id, once the config is loaded. */
  get partnerId() {
    return this.config ? this.config.user.partner_id : null;
  }

  // ------------------------------------------------------------------
  // HTTP: session and JSON-RPC
  // ------------------------------------------------------------------

  /**
   * Sign in with Odoo's `/web/session/authenticate`; keeps the session.
   * @param {{db?: string, login: string, password: string}} credentials
   * @returns {Promise<any>} Odoo's session info (`uid`, ...)
   */
  async login({ db, login, password }) {
    db = db ?? this.db ?? undefined;
    if (!db) throw new TypeError('login: no database (pass `db` here or to the client)');
    this.db = db;
    // A stale cookie would route the login to its own database.
    this.sessionId = null;
    const info = await this._jsonrpc('/web/session/authenticate', { db, login, password });
    if (!info || !info.uid) {
      throw new BusMobileError(`login of ${login} returned no user (multi-factor authentication?)`, {
        kind: 'rpc',
        route: '/web/session/authenticate',
      });
    }
    return info;
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
  async deviceLogin({ db, login, password, totpCode, platform, appVersion }) {
    db = db ?? this.db ?? undefined;
    if (!db) throw new TypeError('deviceLogin: no database (pass `db` here or to the client)');
    this.db = db;
    await this._loadDeviceUuid();
    const answer = await this._jsonrpc(
      '/bus_mobile/device/login',
      dropUndefined({
        db,
        login,
        password,
        device_uuid: this.deviceUuid,
        platform: platform ?? this.options.platform ?? 'other',
        app_version: appVersion ?? this.options.appVersion,
        totp_code: totpCode,
      }),
      { auth: false },
    );
    if (answer.totp_required) return { totpRequired: true };
    this.token = answer.token;
    this.sessionId = null;
    return { totpRequired: false, token: answer.token, expiresAt: answer.expires_at, device: answer.device, user: answer.user };
  }

  /**
   * Sign this device out (`/bus_mobile/device/logout`): its token stops
   * working and its sockets close on the server; then close the client.
   */
  async signOut() {
    try {
      await this._loadDeviceUuid();
      await this._jsonrpc('/bus_mobile/device/logout', this.token ? {} : { device_uuid: this.deviceUuid });
    } finally {
      this.token = null;
      this.close();
    }
  }

  /** Sign out on the server (`/web/session/destroy`) and close the client. */
  async logout() {
    try {
      await this._jsonrpc('/web/session/destroy', {});
    } finally {
      this.sessionId = null;
      this.close();
    }
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
      return await this._jsonrpc(route, params);
    } catch (error) {
      if (!(error instanceof BusMobileError) || error.kind !== 'session') throw error;
      this.emit('sessionExpired', { route });
      if (!(await this._reauthenticate())) throw error;
      return this._jsonrpc(route, params);
    }
  }

  /** The headers every request and the socket carry: the one place auth is added. */
  _headers() {
    /** @type {Record<string, string>} */
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    else if (this.sessionId && this.options.sendCookie !== false) headers.Cookie = `session_id=${this.sessionId}`;
    return headers;
  }

  /**
   * @param {string} route
   * @param {Record<string, any>} params
   */
  async _jsonrpc(route, params, { auth = true } = {}) {
    if (!this._fetch) throw new TypeError('BusMobileClient: no fetch (pass the `fetch` option)');
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'call', params, id: ++this._rpcId });
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), this.options.timeout) : null;
    try {
      let response;
      try {
        response = await this._fetch(this.url + route, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...(auth ? this._headers() : {}) },
          body,
          signal: controller?.signal,
        });
      } catch (cause) {
        throw new BusMobileError(`${route}: no answer from ${this.url} (${errorText(cause)})`, { kind: 'network', route, cause });
      }
      if (!this.token) this._noteSessionCookie(response);
      if (response.status === 401) throw await tokenRefused(route, response);
      if (response.status !== 200) {
        const text = await response.text().catch(() => '');
        const hint = response.status === 404 && route.startsWith('/bus_mobile/') ? ' (is bus_mobile installed in this database?)' : '';
        throw new BusMobileError(`${route}: HTTP ${response.status}${hint} ${text.slice(0, 200)}`.trim(), { kind: 'http', route, status: response.status });
      }
      let answer;
      try {
        answer = await response.json();
      } catch (cause) {
        throw new BusMobileError(`${route}: the answer is not JSON-RPC (${errorText(cause)})`, { kind: 'http', route, status: 200, cause });
      }
      if (answer && answer.error) {
        const data = answer.error.data || {};
        const name = data.name || null;
        const message = data.message || answer.error.message || 'server error';
        throw new BusMobileError(`${route}: ${message}`, { kind: name === SESSION_EXPIRED ? 'session' : 'rpc', exceptionName: name, route });
      }
      return answer ? answer.result : undefined;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** Odoo sets the cookie on login and when it rotates the session. @param {Response} response */
  _noteSessionCookie(response) {
    // Browsers hide Set-Cookie (they keep the cookie themselves); node and
    // some React Native versions show it.
    const raw = response.headers && response.headers.get('set-cookie');
    const match = raw && /(?:^|[\s,;])session_id=([^;,\s]+)/.exec(raw);
    if (match) this.sessionId = match[1];
  }

  /**
   * The JSON-RPC routes' answers on failure: `reauthenticate` once.
   * @returns {Promise<boolean>} whether a new session is there
   */
  _reauthenticate() {
    const reauthenticate = this.options.reauthenticate;
    if (!reauthenticate) return Promise.resolve(false);
    if (!this._reauthPromise) {
      this._reauthPromise = (async () => {
        try {
          const result = await reauthenticate(this);
          if (typeof result === 'string' && result) this.sessionId = result;
          this.stats.reauths += 1;
          return true;
        } catch (error) {
          this._emitError(error, 'session');
          return false;
        } finally {
          this._reauthPromise = null;
        }
      })();
    }
    return this._reauthPromise;
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
  async typing(channelId, isTyping = true) {
    const now = Date.now();
    const last = this._typingSent.get(channelId);
    if (isTyping ? last && last.typing && now - last.at < this.options.typingThrottle : !last || !last.typing) {
      return false;
    }
    this._typingSent.set(channelId, { typing: isTyping, at: now });
    await this.rpc('/bus_mobile/typing', { channel_id: channelId, is_typing: isTyping });
    return true;
  }

  /** @param {number[]} partnerIds @returns {Promise<Presence[]>} */
  async presence(partnerIds) {
    const list = /** @type {Presence[]} */ (await this.rpc('/bus_mobile/presence', { partner_ids: partnerIds }));
    for (const presence of list) this.emit('presence', presence);
    return list;
  }

  /**
   * Follow the presence of `partnerIds`: `presence` events now (their
   * current status) and on every change. Returns the function that stops.
   * @param {number[]} partnerIds
   * @returns {() => void}
   */
  watchPresence(partnerIds) {
    const ids = [...new Set(partnerIds)];
    let added = false;
    for (const id of ids) {
      added = added || !this._watched.has(id);
      this._watched.set(id, (this._watched.get(id) ?? 0) + 1);
    }
    if (added) this._sendSubscribe();
    if (ids.length) this.presence(ids).catch((error) => this._emitError(error));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      let removed = false;
      for (const id of ids) {
        const count = (this._watched.get(id) ?? 1) - 1;
        if (count > 0) this._watched.set(id, count);
        else {
          this._watched.delete(id);
          removed = true;
        }
      }
      if (removed) this._sendSubscribe();
    };
  }

  /**
   * @param {{platform?: string, appVersion?: string, pushToken?: string}} [device]
   */
  async registerDevice({ platform, appVersion, pushToken } = {}) {
    await this._loadDeviceUuid();
    return this.rpc('/bus_mobile/device/register', dropUndefined({
      device_uuid: this.deviceUuid,
      platform: platform ?? this.options.platform ?? 'other',
      app_version: appVersion ?? this.options.appVersion ?? '',
      push_token: pushToken,
    }));
  }

  // ------------------------------------------------------------------
  // Posting: the outbox
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
    /** @type {PendingMessage} */
    const pending = {
      id: null,
      channel_id: channelId,
      author_id: this.partnerId,
      author_name: this.config ? this.config.user.name : '',
      body,
      client_uuid: uuid4(),
      create_date: new Date().toISOString(),
      pending: true,
    };
    this._typingSent.delete(channelId);
    this._outbox.push(pending);
    this._outboxChanged();
    this._flushOutbox();
    return pending;
  }

  /** The posts waiting for the server, oldest first. @param {number} [channelId] */
  pendingMessages(channelId) {
    return this._outbox.filter((m) => channelId === undefined || m.channel_id === channelId);
  }

  _outboxChanged() {
    const outbox = [...this._outbox];
    if (this._loadedFor !== null) this._save('outbox', outbox);
    this.emit('outbox', outbox);
  }

  async _flushOutbox() {
    // Not before the stored outbox is loaded: posts keep their order.
    if (this._flushing || this._closedByApp || this._loadedFor === null) return;
    this._flushing = true;
    clearTimer(this._timers, 'outbox');
    try {
      while (this._outbox.length && !this._closedByApp) {
        const entry = this._outbox[0];
        let message;
        try {
          message = await this.rpc('/bus_mobile/message/post', {
            channel_id: entry.channel_id,
            body: entry.body,
            client_uuid: entry.client_uuid,
          });
        } catch (error) {
          if (error instanceof BusMobileError && (error.retryable || error.kind === 'session')) {
            // Same client_uuid next time: the server returns the first message.
            const delay = backoffDelay(this._outboxAttempt++, this.options, 'retry', this.options.random);
            this._timers.outbox = setTimeout(() => this._flushOutbox(), delay);
            return;
          }
          this._removeFromOutbox(entry.client_uuid);
          const failure = error instanceof BusMobileError ? error : new BusMobileError(errorText(error), { kind: 'rpc' });
          /** @type {any} */ (failure).pending = entry;
          this.emit('error', failure);
          continue;
        }
        this._outboxAttempt = 0;
        // The confirmed message first, then the outbox without it: a list
        // built from both never loses the message in between.
        this._acceptMessages([message], 'post');
        this._removeFromOutbox(entry.client_uuid);
      }
    } finally {
      this._flushing = false;
    }
  }

  /** @param {string} clientUuid */
  _removeFromOutbox(clientUuid) {
    const before = this._outbox.length;
    this._outbox = this._outbox.filter((m) => m.client_uuid !== clientUuid);
    if (this._outbox.length !== before) this._outboxChanged();
  }

  // ------------------------------------------------------------------
  // Lifecycle
  // ------------------------------------------------------------------

  /**
   * Connect, and stay connected while the app is in the foreground.
   * Resolves once the socket is open and caught up the first time; rejects
   * if the client is closed (or gives up) before.
   * @returns {Promise<void>}
   */
  start() {
    if (!this._started) {
      /** @type {any} */
      const deferred = {};
      deferred.promise = new Promise((resolve, reject) => Object.assign(deferred, { resolve, reject }));
      deferred.promise.catch(() => {}); // an app may never await it
      this._firstOpen = deferred;
    }
    const firstOpen = /** @type {{promise: Promise<void>}} */ (this._firstOpen);
    if (this._started) return firstOpen.promise;
    this._started = true;
    this._closedByApp = false;
    this._watchSources();
    this._setState('connecting');
    this._connect();
    return firstOpen.promise;
  }

  /** Close the socket cleanly (1000) and stop; `start()` may be called again. */
  close() {
    this._closedByApp = true;
    this._started = false;
    this._gen += 1;
    for (const name of Object.keys(this._timers)) {
      if (name !== 'save') clearTimer(this._timers, name);
    }
    for (const unsubscribe of this._unsubscribe.splice(0)) unsubscribe();
    this._dropSocket(CLOSE.CLEAN, 'closed by the app');
    this._flushSave();
    this._setState('closed');
    this._firstOpen?.reject(new BusMobileError('the client was closed', { kind: 'closed' }));
  }

  _watchSources() {
    const { appState, network } = this.options;
    if (appState) {
      if (appState.currentState) this._appState = appState.currentState === 'background' ? 'background' : 'foreground';
      this._unsubscribe.push(remover(appState.addEventListener('change', (state) => this._onAppState(state))));
    }
    if (network) {
      this._unsubscribe.push(remover(network.addEventListener((state) => this._onNetwork(state.isConnected !== false))));
    }
  }

  /** @param {ConnectionState} state @param {{code?: number, reason?: string}} [why] */
  _setState(state, why = {}) {
    if (state === this._state) return;
    const previous = this._state;
    this._state = state;
    this.emit('state', { state, previous, ...why });
  }

  /** @param {unknown} error @param {import('./errors.js').ErrorKind} [kind] */
  _emitError(error, kind = 'rpc') {
    this.emit('error', error instanceof BusMobileError ? error : new BusMobileError(errorText(error), { kind, cause: error }));
  }

  /** @param {BusMobileError} error */
  _fail(error) {
    this._gen += 1;
    for (const name of Object.keys(this._timers)) {
      if (name !== 'save' && name !== 'outbox') clearTimer(this._timers, name);
    }
    this._dropSocket(CLOSE.CLEAN, 'given up');
    this._started = false;
    this.emit('error', error);
    this._setState('closed', { code: error.code ?? undefined });
    this._firstOpen?.reject(error);
  }

  async _loadDeviceUuid() {
    if (this.deviceUuid) return;
    const key = `${this.options.storageKey}:device_uuid`;
    this.deviceUuid = await this.storage.getItem(key);
    if (!this.deviceUuid) {
      this.deviceUuid = uuid4();
      await this.storage.setItem(key, this.deviceUuid);
    }
  }

  /** Bootstrap (each time: the config may have changed with a server update), then open. */
  async _connect() {
    clearTimer(this._timers, 'retry');
    if (this._ws || this._closedByApp) return;
    if (this._appState === 'background') return this._setState('idle');
    if (!this._online) return this._setState(this.stats.opens ? 'reconnecting' : 'connecting');
    const gen = ++this._gen;
    try {
      await this._loadDeviceUuid();
      await this.loadConfig();
      await this._loadStored();
      this._flushOutbox();
      if (this.options.platform && this.stats.opens === 0) await this.registerDevice();
    } catch (error) {
      if (gen !== this._gen) return;
      const failure = error instanceof BusMobileError ? error : new BusMobileError(errorText(error), { kind: 'rpc', cause: error });
      if (failure.retryable) {
        this.emit('error', failure);
        return this._scheduleRetry('retry');
      }
      return this._fail(failure);
    }
    if (gen !== this._gen || this._closedByApp) return;
    this._openSocket(gen);
  }

  _socketUrl() {
    const path = (this.config && this.config.websocket_url) || MOBILE_SOCKET_PATH;
    const base = /^wss?:/.test(path) ? path : (this.options.wsBase ? this.options.wsBase.replace(/\/+$/, '') : this.url.replace(/^http/, 'ws')) + path;
    const separator = base.includes('?') ? '&' : '?';
    return `${base}${separator}device_uuid=${encodeURIComponent(/** @type {string} */ (this.deviceUuid))}`;
  }

  /** @param {number} gen */
  _openSocket(gen) {
    const url = this._socketUrl();
    const headers = this._headers();
    /** @type {WebSocketLike} */
    let ws;
    try {
      if (this.options.createWebSocket) ws = this.options.createWebSocket(url, { headers });
      else {
        const Ctor = this.options.WebSocket ?? /** @type {any} */ (globalThis).WebSocket;
        if (!Ctor) throw new TypeError('no WebSocket (pass the `WebSocket` option)');
        // React Native and `ws` read headers from the THIRD argument (the
        // second is the subprotocols); browsers ignore it.
        ws = new Ctor(url, [], { headers });
      }
    } catch (error) {
      this._emitError(error, 'network');
      return this._scheduleRetry('retry');
    }
    this._ws = ws;
    this._timers.open = setTimeout(() => {
      if (this._ws === ws && gen === this._gen) {
        this._dropSocket(CLOSE.CLEAN, 'handshake timeout');
        this._onClose(undefined, 'handshake timeout');
      }
    }, this.options.timeout);
    ws.onopen = () => {
      if (this._ws === ws) this._onOpen(gen);
    };
    ws.onmessage = (event) => {
      if (this._ws === ws) this._onFrame(event.data);
    };
    ws.onerror = (event) => {
      if (this._ws === ws) this._emitError(new BusMobileError(`socket error: ${errorText(event && (event.message || event.error)) || 'connection failed'}`, { kind: 'network' }));
    };
    ws.onclose = (event) => {
      if (this._ws !== ws) return;
      this._ws = null;
      this._onClose(event.code, event.reason);
    };
  }

  /** @param {number} gen */
  async _onOpen(gen) {
    clearTimer(this._timers, 'open');
    const reconnect = this.stats.opens > 0;
    this.stats.opens += 1;
    this._attempt = 0;
    this._openedAt = Date.now();
    this._sentAt = [];
    this._frames.clear();
    this._sendSubscribe();
    this._sendHeartbeat();
    this._setState('open');
    const recovered = await this._catchUp();
    if (gen !== this._gen || recovered === null) return;
    if (reconnect || this._resumed) this.emit('reconnect', { recovered, opens: this.stats.opens });
    if (this._watched.size) this.presence([...this._watched.keys()]).catch((error) => this._emitError(error));
    this._flushOutbox();
    this._firstOpen?.resolve();
  }

  /**
   * @param {number | undefined} code
   * @param {string} [reason]
   */
  _onClose(code, reason) {
    clearTimer(this._timers, 'open');
    clearTimer(this._timers, 'heartbeat');
    clearTimer(this._timers, 'frames');
    this._frames.clear();
    if (this._closedByApp) return;
    this.stats.closes.push({ code, reason });
    const why = { code, reason };
    if (this._appState === 'background') return this._setState('idle', why);
    const action = closeAction(code);
    if (action === 'stop') {
      return this._fail(new BusMobileError(`the server closed the socket (${code} ${reason || ''})`.trim(), { kind: 'closed', code }));
    }
    this._setState(this.stats.opens ? 'reconnecting' : 'connecting', why);
    if (action === 'reauth') return this._onSessionExpired(code, reason);
    this._scheduleRetry(action);
  }

  /**
   * @param {number | undefined} code
   * @param {string} [reason] e.g. `TOKEN_REVOKED` for a signed-out device
   */
  async _onSessionExpired(code, reason) {
    this.emit('sessionExpired', { code });
    const gen = this._gen;
    // Once: a 4001 right after a new sign-in means signing in does not help.
    const again = this._reauthedSocket && Date.now() - this._openedAt < SESSION_PROOF_MS;
    const ok = !again && (await this._reauthenticate());
    if (gen !== this._gen || this._closedByApp) return;
    if (!ok) {
      const detail = again ? 'again after signing in' : this.options.reauthenticate ? 'and signing in again failed' : 'and no reauthenticate option is set';
      const why = reason && reason !== 'SESSION_EXPIRED' ? ` ${reason}` : '';
      return this._fail(new BusMobileError(`the session expired (${code}${why}) ${detail}`, { kind: 'session', exceptionName: SESSION_EXPIRED, code, reason: reason || null }));
    }
    this._reauthedSocket = true;
    this._connect();
  }

  /** @param {import('./backoff.js').CloseAction} action */
  _scheduleRetry(action) {
    if (this._closedByApp) return;
    clearTimer(this._timers, 'retry');
    if (!this._online) return; // the network source says when to try again
    const delay = backoffDelay(this._attempt, this.options, action, this.options.random);
    if (action !== 'now') this._attempt += 1;
    this._timers.retry = setTimeout(() => this._connect(), delay);
  }

  /** @param {number} code @param {string} reason */
  _dropSocket(code, reason) {
    const ws = this._ws;
    this._ws = null;
    if (!ws) return;
    // No-ops, not null: node's `ws` throws an 'error' without a listener.
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = () => {};
    try {
      ws.close(code, reason);
    } catch {
      // already closing or closed
    }
  }

  /** @param {string} raw app state from the source */
  _onAppState(raw) {
    // iOS's `inactive` (app switcher, a call) changes nothing.
    const state = raw === 'background' ? 'background' : raw === 'active' || raw === 'foreground' ? 'foreground' : null;
    if (!state || state === this._appState) return;
    this._appState = state;
    if (!this._started) return;
    if (state === 'background') {
      // Tell the server at once (the user shows away), then let the socket
      // go: iOS and Android suspend a backgrounded app, and a frozen socket
      // would keep the device online until the server's keepalive gives up.
      this._sendHeartbeat();
      clearTimer(this._timers, 'grace');
      this._timers.grace = setTimeout(() => this._suspend(), this.options.backgroundGrace);
      return;
    }
    clearTimer(this._timers, 'grace');
    if (this._ws && this._state === 'open') this._sendHeartbeat();
    else if (!this._ws) {
      this._attempt = 0;
      this._connect();
    }
  }

  _suspend() {
    clearTimer(this._timers, 'grace');
    clearTimer(this._timers, 'retry');
    this._gen += 1;
    this._dropSocket(CLOSE.CLEAN, 'app in background');
    this._onClose(CLOSE.CLEAN, 'app in background');
  }

  /** @param {boolean} online */
  _onNetwork(online) {
    if (online === this._online) return;
    this._online = online;
    if (!online || !this._started) return;
    this._attempt = 0;
    this._outboxAttempt = 0;
    if (!this._ws) this._connect();
    this._flushOutbox();
  }

  // ------------------------------------------------------------------
  // Frames
  // ------------------------------------------------------------------

  _sendSubscribe() {
    const presence = [...this._watched.keys()].map((id) => `odoo-presence-res.partner_${id}`);
    const channels = [...new Set([...(this.config ? this.config.channels : []), ...(this.options.channels ?? []), ...presence])];
    this._sendFrame('subscribe', { channels, last: this._cursor.last });
  }

  _sendHeartbeat() {
    clearTimer(this._timers, 'heartbeat');
    // im_status_ids_by_model: stock ir.websocket requires the key.
    this._sendFrame('update_presence', { inactivity_period: 0, im_status_ids_by_model: {}, app_state: this._appState });
    if (this._appState === 'foreground' && this._ws) {
      const seconds = (this.config && this.config.presence.heartbeat_s) || 30;
      this._timers.heartbeat = setTimeout(() => this._sendHeartbeat(), seconds * 1000);
    }
  }

  /**
   * Send a frame within Odoo's rate limit (`rate_limit_burst` frames per
   * `burst * rate_limit_delay` seconds, or it closes with 1013). Frames of
   * one kind replace each other while they wait: only the latest counts.
   * @param {string} eventName
   * @param {any} data
   */
  _sendFrame(eventName, data) {
    if (!this._ws) return;
    this._frames.set(eventName, data);
    this._drainFrames();
  }

  _drainFrames() {
    clearTimer(this._timers, 'frames');
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) return;
    const limits = this.config ? this.config.limits : { rate_limit_burst: 10, rate_limit_delay: 0.2 };
    // Keep a margin: the socket's pongs count too.
    const budget = Math.max(1, limits.rate_limit_burst - 3);
    const windowMs = limits.rate_limit_burst * limits.rate_limit_delay * 1000 + 100;
    const now = Date.now();
    this._sentAt = this._sentAt.filter((at) => now - at < windowMs);
    for (const [eventName, data] of this._frames) {
      if (this._sentAt.length >= budget) break;
      this._frames.delete(eventName);
      this._sentAt.push(now);
      try {
        ws.send(JSON.stringify({ event_name: eventName, data }));
      } catch (error) {
        this._emitError(error, 'network');
      }
    }
    if (this._frames.size) {
      this._timers.frames = setTimeout(() => this._drainFrames(), Math.max(10, this._sentAt[0] + windowMs - now));
    }
  }

  /** @param {any} data */
  _onFrame(data) {
    let notifications;
    try {
      notifications = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      return;
    }
    if (!Array.isArray(notifications)) return;
    this._reauthedSocket = false; // a frame came: the session works
    let last = this._cursor.last;
    let channelChanged = false;
    for (const notification of notifications) {
      if (!notification || !notification.message) continue;
      if (Number.isInteger(notification.id) && notification.id > last) last = notification.id;
      this.emit('notification', notification);
      const { type, payload } = notification.message;
      switch (type) {
        case 'bus_mobile/message':
          this._acceptMessages([payload], 'socket');
          break;
        case 'bus_mobile/typing':
          this.emit('typing', payload);
          break;
        case 'bus_mobile/read':
          this.emit('read', payload);
          break;
        case 'bus_mobile/presence':
          this.emit('presence', payload);
          break;
        case 'bus_mobile/channel':
          channelChanged = true;
          this.emit('channel', payload);
          break;
        default:
          break;
      }
    }
    if (last !== this._cursor.last) {
      this._cursor.last = last;
      this._saveCursor();
    }
    if (channelChanged) {
      // A channel was made or I was added: subscribe again (the server adds
      // my channels), then sync what it got before the subscription.
      this._sendSubscribe();
      this._catchUp();
    }
  }

  // ------------------------------------------------------------------
  // Resume: cursors, catch-up, de-duplication
  // ------------------------------------------------------------------

  async _loadStored() {
    const config = /** @type {ServerConfig} */ (this.config);
    if (this._loadedFor === config.user.id) return;
    this._loadedFor = null;
    this._seen.clear();
    this._ns = `${this.options.storageKey}:${this.url}:${this.db ?? ''}:${config.user.id}`;
    const cursor = await this._load('cursor');
    this._resumed = Boolean(cursor && Number.isInteger(cursor.last) && Number.isInteger(cursor.lastMessageId));
    if (cursor && this._resumed) {
      this._cursor = { last: Math.max(0, cursor.last), lastMessageId: Math.max(0, cursor.lastMessageId) };
    } else {
      // First run for this user: start after the newest message, history is
      // for `messages()`; a sync from 0 would send every message ever.
      const channels = await this.channels();
      const newest = Math.max(0, ...channels.map((c) => (c.last_message ? c.last_message.id : 0)));
      this._cursor = { last: 0, lastMessageId: newest };
    }
    this._floor = this._cursor.lastMessageId;
    const stored = /** @type {PendingMessage[]} */ ((await this._load('outbox')) || []);
    const known = new Set(stored.map((m) => m.client_uuid));
    this._outbox = [...stored, ...this._outbox.filter((m) => !known.has(m.client_uuid))];
    this._loadedFor = config.user.id;
    this._saveCursor();
    this._outboxChanged();
  }

  /**
   * Fetch what the socket missed. Socket messages wait meanwhile, so that
   * all are emitted in id order. One at a time: a call during a run makes
   * the run sync once more.
   * @returns {Promise<number | null>} how many messages it recovered; null if it failed
   */
  _catchUp() {
    if (this._catchUpRun) {
      this._catchUpAgain = true;
      return this._catchUpRun;
    }
    this._catchUpRun = this._runCatchUp().finally(() => {
      this._catchUpRun = null;
    });
    return this._catchUpRun;
  }

  async _runCatchUp() {
    this._catchingUp = true;
    /** @type {Message[]} */
    const synced = [];
    let failed = false;
    try {
      do {
        this._catchUpAgain = false;
        let after = this._cursor.lastMessageId;
        for (;;) {
          const page = await this.sync(after);
          const messages = page && Array.isArray(page.messages) ? page.messages : [];
          synced.push(...messages);
          if (!page.has_more || !messages.length) break;
          after = messages[messages.length - 1].id;
        }
      } while (this._catchUpAgain && !this._closedByApp);
    } catch (error) {
      this._emitError(error);
      failed = true;
    } finally {
      this._catchingUp = false;
    }
    const held = this._held;
    this._held = [];
    if (failed) {
      // What the socket brought meanwhile would move the cursor over the
      // gap: drop it and reconnect; the next sync brings it all.
      if (this._ws) {
        this._dropSocket(CLOSE.CLEAN, 'sync failed');
        this._onClose(undefined, 'sync failed');
      }
      return null;
    }
    const syncedIds = new Set(synced.map((m) => m.id));
    const before = new Set(this._seen);
    const fresh = this._acceptMessages([...synced, ...held], 'sync');
    const recovered = fresh.filter((m) => syncedIds.has(m.id) && !before.has(m.id)).length;
    this.stats.recovered += recovered;
    return recovered;
  }

  /**
   * Emit the messages not delivered before, in id order.
   * @param {Message[]} messages
   * @param {'socket' | 'sync' | 'post'} source
   * @returns {Message[]} the fresh ones
   */
  _acceptMessages(messages, source) {
    if (this._catchingUp && source !== 'sync') {
      this._held.push(...messages);
      if (source === 'post') for (const m of messages) this._postIds.add(m.id);
      return [];
    }
    const fresh = [];
    const sorted = [...messages].filter((m) => m && Number.isInteger(m.id)).sort((a, b) => a.id - b.id);
    let cursor = this._cursor.lastMessageId;
    for (const message of sorted) {
      if (this._seen.has(message.id) || message.id <= this._floor) {
        this.stats.duplicates += 1;
        continue;
      }
      this._seen.add(message.id);
      // A post's answer does not move the cursor: messages of others below
      // it may still be on their way on the socket.
      if (source !== 'post' && !this._postIds.has(message.id) && message.id > cursor) cursor = message.id;
      fresh.push(message);
    }
    this._postIds.clear();
    if (this._seen.size > MAX_SEEN) {
      // Forget the lowest ids: far below the cursors, neither the bus replay
      // nor the sync can bring them back.
      const keep = [...this._seen].sort((a, b) => a - b).slice(-MAX_SEEN / 2);
      this._seen = new Set(keep);
    }
    if (cursor !== this._cursor.lastMessageId) {
      this._cursor.lastMessageId = cursor;
      this._saveCursor();
    }
    for (const message of fresh) {
      if (source !== 'post' && message.client_uuid && message.author_id === this.partnerId) {
        // My own post, seen before its answer: no need to send it again.
        this._removeFromOutbox(message.client_uuid);
      }
      this.emit('message', message);
    }
    return fresh;
  }

  // ------------------------------------------------------------------
  // Storage
  // ------------------------------------------------------------------

  /** @param {string} name */
  async _load(name) {
    try {
      const raw = await this.storage.getItem(`${this._ns}:${name}`);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      this._emitError(error);
      return null;
    }
  }

  /** Writes go out in order, one at a time. @param {string} name @param {any} value */
  _save(name, value) {
    const key = `${this._ns}:${name}`;
    const text = JSON.stringify(value);
    this._writes = this._writes
      .then(() => this.storage.setItem(key, text))
      .catch((error) => this._emitError(error));
    return this._writes;
  }

  /** The cursors move on every frame: write them at most every 200 ms. */
  _saveCursor() {
    if (this._loadedFor === null || this._timers.save) return;
    this._timers.save = setTimeout(() => this._flushSave(), 200);
  }

  _flushSave() {
    if (!this._timers.save) return;
    clearTimer(this._timers, 'save');
    this._save('cursor', { ...this._cursor });
  }

  /** Resolves when everything written so far is in `storage`. */
  async flushStorage() {
    this._flushSave();
    await this._writes;
  }
}

/** @param {Record<string, any>} object */
function dropUndefined(object) {
  /** @type {Record<string, any>} */
  const result = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) result[key] = value;
  return result;
}

/** @param {Record<string, ReturnType<typeof setTimeout> | null>} timers @param {string} name */
function clearTimer(timers, name) {
  const timer = timers[name];
  if (timer) clearTimeout(timer);
  timers[name] = null;
}

/** @param {unknown} error */
function errorText(error) {
  if (!error) return '';
  if (error instanceof Error) {
    const cause = /** @type {any} */ (error).cause;
    return cause && cause.message ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
