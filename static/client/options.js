// @ts-check
/**
 * The client's options, and the platform pieces an app passes in: the
 * WebSocket, the app-state and network sources (types and defaults).
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
 * @property {boolean} [socketTicket] open the socket with a one-time ticket
 *   (`/bus_mobile/socket/ticket`) instead of the bearer token's header, as a browser
 *   must: default true in a browser (a `document`, not React Native) when neither
 *   `WebSocket` nor `createWebSocket` is passed; only with a `token`
 * @property {typeof fetch} [fetch] default: the global one
 * @property {typeof FormData} [FormData] for uploads; default: the global one
 * @property {any} [XMLHttpRequest] for uploads with progress; default: the global one
 *   (React Native, browsers); without it uploads go through `fetch`
 * @property {import('./storage.js').KeyValueStorage} [storage] AsyncStorage in an app (default: memory)
 * @property {string} [storageKey] prefix of the stored keys (default `odoo-bus-mobile`)
 * @property {AppStateSource} [appState] pass React Native's `AppState`
 * @property {NetworkSource} [network] pass NetInfo
 * @property {(client: import('./client.js').BusMobileClient) => Promise<unknown>} [reauthenticate] called once
 *   when the session expired (close 4001): sign in again (e.g. `client.login(...)`)
 *   or resolve to a new session id; not called again for a request or socket
 *   that carried the credentials of before the last sign-in
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

export const DEFAULTS = {
  storageKey: 'odoo-bus-mobile',
  minDelay: 1000,
  maxDelay: 30000,
  tryLaterDelay: 5000,
  backgroundGrace: 30000,
  typingThrottle: 3000,
  timeout: 15000,
};
