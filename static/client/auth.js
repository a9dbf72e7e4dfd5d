// @ts-check
/**
 * Signing in, and the credentials every request and the socket carry.
 *
 * Two ways: Odoo's session cookie (`login()`, or a `sessionId` the app
 * already has), or a bearer token (`deviceLogin()`'s device token, or an
 * Odoo API key) sent as `Authorization: Bearer`. A token wins over the
 * cookie. When the server says the session is gone, the app's
 * `reauthenticate` option is called, once for every caller waiting.
 */
import { BusMobileError } from './errors.js';
import { dropUndefined, uuid4 } from './util.js';

export class Auth {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    /** @type {Promise<boolean> | null} */
    this.reauthPromise = null;
  }

  /** The headers every request and the socket carry: the one place auth is added. */
  headers() {
    const client = this.client;
    /** @type {Record<string, string>} */
    const headers = {};
    if (client.token) headers.Authorization = `Bearer ${client.token}`;
    else if (client.sessionId && client.options.sendCookie !== false) headers.Cookie = `session_id=${client.sessionId}`;
    return headers;
  }

  /**
   * Whether the socket carries a one-time ticket instead of the bearer
   * token: a browser sets no header on a WebSocket, and the token must
   * not travel in a URL (logs, history). Needs a token; the `socketTicket`
   * option decides, else a browser does (a `document`, not React Native,
   * and no `WebSocket` or `createWebSocket` of the app's, which may send
   * headers).
   */
  usesSocketTicket() {
    const { token, options } = this.client;
    if (!token) return false;
    if (options.socketTicket !== undefined) return Boolean(options.socketTicket);
    if (options.WebSocket || options.createWebSocket) return false;
    const platform = /** @type {any} */ (globalThis);
    return typeof platform.document !== 'undefined' && !(platform.navigator && platform.navigator.product === 'ReactNative');
  }

  /**
   * A new ticket for the next socket when it needs one (`/bus_mobile/socket/ticket`:
   * it opens one socket, within seconds), else null.
   * @returns {Promise<string | null>}
   */
  async socketTicket() {
    if (!this.usesSocketTicket()) return null;
    const answer = await this.client.rpc('/bus_mobile/socket/ticket', {});
    return answer.ticket;
  }

  /** Odoo sets the cookie on login and when it rotates the session. @param {Response} response */
  noteSessionCookie(response) {
    // Browsers hide Set-Cookie (they keep the cookie themselves); node and
    // some React Native versions show it.
    const raw = response.headers && response.headers.get('set-cookie');
    const match = raw && /(?:^|[\s,;])session_id=([^;,\s]+)/.exec(raw);
    if (match) this.client.sessionId = match[1];
  }

  /** The device's id: the option, else the one kept in `storage`, else a new one (kept). */
  async ensureDeviceUuid() {
    const client = this.client;
    if (client.deviceUuid) return;
    const key = `${client.options.storageKey}:device_uuid`;
    client.deviceUuid = await client.storage.getItem(key);
    if (!client.deviceUuid) {
      client.deviceUuid = uuid4();
      await client.storage.setItem(key, client.deviceUuid);
    }
  }

  /**
   * @param {{db?: string, login: string, password: string}} credentials
   * @returns {Promise<any>} Odoo's session info (`uid`, ...)
   */
  async login({ db, login, password }) {
    const client = this.client;
    db = db ?? client.db ?? undefined;
    if (!db) throw new TypeError('login: no database (pass `db` here or to the client)');
    client.db = db;
    // A stale cookie would route the login to its own database.
    client.sessionId = null;
    const info = await client._http.call('/web/session/authenticate', { db, login, password });
    if (!info || !info.uid) {
      throw new BusMobileError(`login of ${login} returned no user (multi-factor authentication?)`, {
        kind: 'rpc',
        route: '/web/session/authenticate',
      });
    }
    return info;
  }

  /**
   * @param {{db?: string, login: string, password: string, totpCode?: string,
   *   platform?: 'ios' | 'android' | 'web' | 'other', appVersion?: string}} credentials
   * @returns {Promise<import('./shapes.js').DeviceSignIn>}
   */
  async deviceLogin({ db, login, password, totpCode, platform, appVersion }) {
    const client = this.client;
    db = db ?? client.db ?? undefined;
    if (!db) throw new TypeError('deviceLogin: no database (pass `db` here or to the client)');
    client.db = db;
    await this.ensureDeviceUuid();
    const answer = await client._http.call(
      '/bus_mobile/device/login',
      dropUndefined({
        db,
        login,
        password,
        device_uuid: client.deviceUuid,
        platform: platform ?? client.options.platform ?? 'other',
        app_version: appVersion ?? client.options.appVersion,
        totp_code: totpCode,
      }),
      { auth: false },
    );
    if (answer.totp_required) return { totpRequired: true };
    client.token = answer.token;
    client.sessionId = null;
    return { totpRequired: false, token: answer.token, expiresAt: answer.expires_at, device: answer.device, user: answer.user };
  }

  /** `/bus_mobile/device/logout`, then close the client. */
  async signOut() {
    const client = this.client;
    try {
      await this.ensureDeviceUuid();
      await client._http.call('/bus_mobile/device/logout', client.token ? {} : { device_uuid: client.deviceUuid });
    } finally {
      client.token = null;
      client.close();
    }
  }

  /** `/web/session/destroy`, then close the client. */
  async logout() {
    const client = this.client;
    try {
      await client._http.call('/web/session/destroy', {});
    } finally {
      client.sessionId = null;
      client.close();
    }
  }

  /** What requests and the socket carry now: the token, else the session id. */
  credential() {
    const client = this.client;
    return client.token || client.sessionId || null;
  }

  /**
   * The session expired: call the app's `reauthenticate`, once for every
   * caller waiting meanwhile. A caller refused for a credential that was
   * replaced since (a request or socket older than the last sign-in) gets
   * yes at once: signing in again would replace a session that works.
   * @param {string | null} [refused] the credential the refused request or socket carried
   * @returns {Promise<boolean>} whether a new session is there
   */
  reauthenticate(refused) {
    const client = this.client;
    if (refused !== undefined && refused !== this.credential()) return Promise.resolve(true);
    const reauthenticate = client.options.reauthenticate;
    if (!reauthenticate) return Promise.resolve(false);
    if (!this.reauthPromise) {
      this.reauthPromise = (async () => {
        try {
          const result = await reauthenticate(client);
          if (typeof result === 'string' && result) client.sessionId = result;
          client.stats.reauths += 1;
          return true;
        } catch (error) {
          client._emitError(error, 'session');
          return false;
        } finally {
          this.reauthPromise = null;
        }
      })();
    }
    return this.reauthPromise;
  }
}
