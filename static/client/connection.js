// @ts-check
/**
 * The socket's life: one socket to `/bus_mobile/websocket` while the app is
 * in the foreground, opened after a bootstrap (device id, `/bus_mobile/config`,
 * the stored cursors and outbox), and opened again after every drop with a
 * jittered backoff, at once after a rotation (4002), after signing in again
 * (4001), or when the network or the app comes back. A clean close (1000)
 * by the server ends it.
 *
 * `gen` bumps on every connect and close: a callback of an older socket or
 * bootstrap sees that it is stale and does nothing.
 */
import { backoffDelay, closeAction, CLOSE } from './backoff.js';
import { BusMobileError, SESSION_EXPIRED } from './errors.js';
import { errorText, remover, Timers } from './util.js';

/** @typedef {import('./shapes.js').ConnectionState} ConnectionState */
/** @typedef {import('./options.js').WebSocketLike} WebSocketLike */

const MOBILE_SOCKET_PATH = '/bus_mobile/websocket';
// A socket that received a frame or stayed open this long proved that a new
// sign-in worked: a later 4001 may sign in again.
const SESSION_PROOF_MS = 5000;

export class Connection {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    /** @type {ConnectionState} */
    this.state = 'idle';
    /** @type {WebSocketLike | null} */
    this.ws = null;
    this.gen = 0;
    this.attempt = 0;
    this.started = false;
    this.closedByApp = false;
    /** @type {'foreground' | 'background'} */
    this.appState = 'foreground';
    this.online = true;
    this.timers = new Timers(/** @type {const} */ (['retry', 'grace', 'open']));
    /** @type {(() => void)[]} the app-state and network sources' unsubscribes */
    this.unsubscribe = [];
    this.reauthedSocket = false;
    /** @type {string | null} the credential the socket was opened with */
    this.socketCredential = null;
    this.openedAt = 0;
    /** @type {{promise: Promise<void>, resolve: () => void, reject: (e: unknown) => void} | null} */
    this.firstOpen = null;
  }

  /** @returns {Promise<void>} see `BusMobileClient.start` */
  start() {
    if (!this.started) {
      /** @type {any} */
      const deferred = {};
      deferred.promise = new Promise((resolve, reject) => Object.assign(deferred, { resolve, reject }));
      deferred.promise.catch(() => {}); // an app may never await it
      this.firstOpen = deferred;
    }
    const firstOpen = /** @type {{promise: Promise<void>}} */ (this.firstOpen);
    if (this.started) return firstOpen.promise;
    this.started = true;
    this.closedByApp = false;
    this.watchSources();
    this.setState('connecting');
    this.connect();
    return firstOpen.promise;
  }

  close() {
    const client = this.client;
    this.closedByApp = true;
    this.started = false;
    this.gen += 1;
    this.timers.clearAll();
    client._frames.stop();
    client._outbox.stop();
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    this.dropSocket(CLOSE.CLEAN, 'closed by the app');
    client._resume.flushCursor();
    this.setState('closed');
    this.firstOpen?.reject(new BusMobileError('the client was closed', { kind: 'closed' }));
  }

  watchSources() {
    const { appState, network } = this.client.options;
    if (appState) {
      if (appState.currentState) this.appState = appState.currentState === 'background' ? 'background' : 'foreground';
      this.unsubscribe.push(remover(appState.addEventListener('change', (state) => this.onAppState(state))));
    }
    if (network) {
      this.unsubscribe.push(remover(network.addEventListener((state) => this.onNetwork(state.isConnected !== false))));
    }
  }

  /** @param {ConnectionState} state @param {{code?: number, reason?: string}} [why] */
  setState(state, why = {}) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.client.emit('state', { state, previous, ...why });
  }

  /** Give up (the outbox keeps its posts for the next `start()`). @param {BusMobileError} error */
  fail(error) {
    this.gen += 1;
    this.timers.clearAll();
    this.client._frames.stop();
    this.dropSocket(CLOSE.CLEAN, 'given up');
    this.started = false;
    this.client.emit('error', error);
    this.setState('closed', { code: error.code ?? undefined });
    this.firstOpen?.reject(error);
  }

  /** Bootstrap (each time: the config may have changed with a server update), then open. */
  async connect() {
    const client = this.client;
    this.timers.clear('retry');
    if (this.ws || this.closedByApp) return;
    if (this.appState === 'background') return this.setState('idle');
    if (!this.online) return this.setState(client.stats.opens ? 'reconnecting' : 'connecting');
    const gen = ++this.gen;
    /** @type {string | null} */
    let ticket = null;
    try {
      await client._auth.ensureDeviceUuid();
      await client.loadConfig();
      await client._resume.load();
      client._outbox.flush();
      if (client.options.platform && client.stats.opens === 0) await client.registerDevice();
      // Last: it lives seconds. Each attempt gets its own, so a refused
      // handshake (in a browser, a drop without a reason) is retried with a
      // new one, never read as a sign-out.
      ticket = await client._auth.socketTicket();
    } catch (error) {
      if (gen !== this.gen) return;
      const failure = error instanceof BusMobileError ? error : new BusMobileError(errorText(error), { kind: 'rpc', cause: error });
      if (failure.retryable) {
        client.emit('error', failure);
        return this.scheduleRetry('retry');
      }
      return this.fail(failure);
    }
    if (gen !== this.gen || this.closedByApp) return;
    this.openSocket(gen, ticket);
  }

  /** @param {string | null} [ticket] a socket ticket, see `Auth.socketTicket` */
  socketUrl(ticket) {
    const { config, options, url, deviceUuid } = this.client;
    const path = (config && config.websocket_url) || MOBILE_SOCKET_PATH;
    const base = /^wss?:/.test(path) ? path : (options.wsBase ? options.wsBase.replace(/\/+$/, '') : url.replace(/^http/, 'ws')) + path;
    const separator = base.includes('?') ? '&' : '?';
    const query = `device_uuid=${encodeURIComponent(/** @type {string} */ (deviceUuid))}`;
    return `${base}${separator}${query}${ticket ? `&ticket=${encodeURIComponent(ticket)}` : ''}`;
  }

  /** @param {number} gen @param {string | null} [ticket] */
  openSocket(gen, ticket = null) {
    const client = this.client;
    const url = this.socketUrl(ticket);
    // The ticket stands for the token: the server refuses both at once.
    const headers = ticket ? {} : client._auth.headers();
    this.socketCredential = client._auth.credential();
    /** @type {WebSocketLike} */
    let ws;
    try {
      if (client.options.createWebSocket) ws = client.options.createWebSocket(url, { headers });
      else {
        const Ctor = client.options.WebSocket ?? /** @type {any} */ (globalThis).WebSocket;
        if (!Ctor) throw new TypeError('no WebSocket (pass the `WebSocket` option)');
        // React Native and `ws` read headers from the THIRD argument (the
        // second is the subprotocols); browsers ignore it.
        ws = new Ctor(url, [], { headers });
      }
    } catch (error) {
      client._emitError(error, 'network');
      return this.scheduleRetry('retry');
    }
    this.ws = ws;
    this.timers.set(
      'open',
      () => {
        if (this.ws === ws && gen === this.gen) {
          this.dropSocket(CLOSE.CLEAN, 'handshake timeout');
          this.onClose(undefined, 'handshake timeout');
        }
      },
      client.options.timeout,
    );
    ws.onopen = () => {
      if (this.ws === ws) this.onOpen(gen);
    };
    ws.onmessage = (event) => {
      if (this.ws === ws) client._notifications.receive(event.data);
    };
    ws.onerror = (event) => {
      if (this.ws === ws) client._emitError(new BusMobileError(`socket error: ${errorText(event && (event.message || event.error)) || 'connection failed'}`, { kind: 'network' }));
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onClose(event.code, event.reason);
    };
  }

  /** @param {number} gen */
  async onOpen(gen) {
    const client = this.client;
    this.timers.clear('open');
    const reconnect = client.stats.opens > 0;
    client.stats.opens += 1;
    this.attempt = 0;
    this.openedAt = Date.now();
    client._frames.reset();
    client._frames.subscribe();
    client._frames.heartbeat();
    this.setState('open');
    const recovered = await client._resume.catchUp();
    if (gen !== this.gen || recovered === null) return;
    if (reconnect || client._resume.resumed) client.emit('reconnect', { recovered, opens: client.stats.opens });
    client._presence.refresh();
    client._outbox.flush();
    this.firstOpen?.resolve();
  }

  /** A frame came: the session works. */
  frameReceived() {
    this.reauthedSocket = false;
  }

  /**
   * @param {number | undefined} code
   * @param {string} [reason]
   */
  onClose(code, reason) {
    const client = this.client;
    this.timers.clear('open');
    client._frames.stop();
    if (this.closedByApp) return;
    client.stats.closes.push({ code, reason });
    const why = { code, reason };
    if (this.appState === 'background') return this.setState('idle', why);
    const action = closeAction(code);
    if (action === 'stop') {
      return this.fail(new BusMobileError(`the server closed the socket (${code} ${reason || ''})`.trim(), { kind: 'closed', code }));
    }
    this.setState(client.stats.opens ? 'reconnecting' : 'connecting', why);
    if (action === 'reauth') return this.onSessionExpired(code, reason);
    this.scheduleRetry(action);
  }

  /**
   * @param {number | undefined} code
   * @param {string} [reason] e.g. `TOKEN_REVOKED` for a signed-out device
   */
  async onSessionExpired(code, reason) {
    const client = this.client;
    client.emit('sessionExpired', { code });
    const gen = this.gen;
    // Once: a 4001 right after a new sign-in means signing in does not help.
    // A request that signed in again since the socket opened: no new sign-in.
    const again = this.reauthedSocket && Date.now() - this.openedAt < SESSION_PROOF_MS;
    const ok = !again && (await client._auth.reauthenticate(this.socketCredential));
    if (gen !== this.gen || this.closedByApp) return;
    if (!ok) {
      const detail = again ? 'again after signing in' : client.options.reauthenticate ? 'and signing in again failed' : 'and no reauthenticate option is set';
      const why = reason && reason !== 'SESSION_EXPIRED' ? ` ${reason}` : '';
      return this.fail(new BusMobileError(`the session expired (${code}${why}) ${detail}`, { kind: 'session', exceptionName: SESSION_EXPIRED, code, reason: reason || null }));
    }
    this.reauthedSocket = true;
    this.connect();
  }

  /** @param {import('./backoff.js').CloseAction} action */
  scheduleRetry(action) {
    if (this.closedByApp) return;
    this.timers.clear('retry');
    if (!this.online) return; // the network source says when to try again
    const options = this.client.options;
    const delay = backoffDelay(this.attempt, options, action, options.random);
    if (action !== 'now') this.attempt += 1;
    this.timers.set('retry', () => this.connect(), delay);
  }

  /** @param {number} code @param {string} reason */
  dropSocket(code, reason) {
    const ws = this.ws;
    this.ws = null;
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
  onAppState(raw) {
    // iOS's `inactive` (app switcher, a call) changes nothing.
    const state = raw === 'background' ? 'background' : raw === 'active' || raw === 'foreground' ? 'foreground' : null;
    if (!state || state === this.appState) return;
    this.appState = state;
    if (!this.started) return;
    const frames = this.client._frames;
    if (state === 'background') {
      // Tell the server at once (the user shows away), then let the socket
      // go: iOS and Android suspend a backgrounded app, and a frozen socket
      // would keep the device online until the server's keepalive gives up.
      frames.heartbeat();
      this.timers.set('grace', () => this.suspend(), this.client.options.backgroundGrace);
      return;
    }
    this.timers.clear('grace');
    if (this.ws && this.state === 'open') frames.heartbeat();
    else if (!this.ws) {
      this.attempt = 0;
      this.connect();
    }
  }

  suspend() {
    this.timers.clear('grace');
    this.timers.clear('retry');
    this.gen += 1;
    this.dropSocket(CLOSE.CLEAN, 'app in background');
    this.onClose(CLOSE.CLEAN, 'app in background');
  }

  /** @param {boolean} online */
  onNetwork(online) {
    if (online === this.online) return;
    this.online = online;
    if (!online || !this.started) return;
    this.attempt = 0;
    this.client._outbox.attempt = 0;
    if (!this.ws) this.connect();
    this.client._outbox.flush();
  }
}
