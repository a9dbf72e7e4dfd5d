export namespace DEFAULTS {
    let storageKey: string;
    let minDelay: number;
    let maxDelay: number;
    let tryLaterDelay: number;
    let backgroundGrace: number;
    let typingThrottle: number;
    let timeout: number;
}
/**
 * A WebSocket as browsers, React Native and node's `ws` all implement it.
 */
export type WebSocketLike = {
    readyState: number;
    send: (data: string) => void;
    close: (code?: number, reason?: string) => void;
    onopen: ((event: any) => void) | null;
    onmessage: ((event: {
        data: any;
    }) => void) | null;
    onclose: ((event: {
        code?: number;
        reason?: string;
    }) => void) | null;
    onerror: ((event: any) => void) | null;
};
/**
 * React Native's and `ws`'s constructor: `new WebSocket(url, protocols,
 * {headers})`. Browsers ignore the third argument (they send their cookies).
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: {
    headers?: Record<string, string>;
}) => WebSocketLike;
/**
 * React Native's `AppState` fits: `currentState` is `active`, `background`
 * or `inactive`; `addEventListener('change', fn)` returns `{remove()}`.
 */
export type AppStateSource = {
    currentState?: string | null | undefined;
    addEventListener: (type: "change", listener: (state: string) => void) => {
        remove: () => void;
    } | (() => void);
};
/**
 * `@react-native-community/netinfo`'s `NetInfo` fits: `addEventListener(fn)`
 * returns the unsubscribe function; `isConnected === false` means offline.
 */
export type NetworkSource = {
    addEventListener: (listener: (state: {
        isConnected: boolean | null;
    }) => void) => (() => void) | {
        remove: () => void;
    };
};
export type BusMobileOptions = {
    /**
     * the Odoo server, e.g. `https://odoo.example.com`
     */
    url: string;
    /**
     * the database, for `login()`
     */
    db?: string | undefined;
    /**
     * an existing session id (`session_id` cookie)
     */
    sessionId?: string | undefined;
    /**
     * a bearer token: a device token from `deviceLogin()` (kept by the
     * app in its secure storage) or one of the user's Odoo API keys; sent as
     * `Authorization: Bearer` on every call and on the socket instead of the cookie
     */
    token?: string | undefined;
    /**
     * send `Cookie: session_id=...` yourself (default true;
     * React Native's native cookie jar also carries it; browsers drop the header and send theirs)
     */
    sendCookie?: boolean | undefined;
    /**
     * `ws(s)://host:port` of the socket when it is not next
     * to `url` (Odoo's gevent port without a proxy); the path comes from the config
     */
    wsBase?: string | undefined;
    /**
     * default: the global one
     */
    WebSocket?: WebSocketConstructor | undefined;
    /**
     * full control over how the socket is made (wins over `WebSocket`)
     */
    createWebSocket?: ((url: string, options: {
        headers: Record<string, string>;
    }) => WebSocketLike) | undefined;
    /**
     * open the socket with a one-time ticket
     * (`/bus_mobile/socket/ticket`) instead of the bearer token's header, as a browser
     * must: default true in a browser (a `document`, not React Native) when neither
     * `WebSocket` nor `createWebSocket` is passed; only with a `token`
     */
    socketTicket?: boolean | undefined;
    /**
     * default: the global one
     */
    fetch?: typeof fetch | undefined;
    /**
     * for uploads; default: the global one
     */
    FormData?: {
        new (form?: HTMLFormElement, submitter?: HTMLElement | null): FormData;
        prototype: FormData;
    } | undefined;
    /**
     * for uploads with progress; default: the global one
     * (React Native, browsers); without it uploads go through `fetch`
     */
    XMLHttpRequest?: any;
    /**
     * AsyncStorage in an app (default: memory)
     */
    storage?: import("./storage.js").KeyValueStorage | undefined;
    /**
     * prefix of the stored keys (default `odoo-bus-mobile`)
     */
    storageKey?: string | undefined;
    /**
     * pass React Native's `AppState`
     */
    appState?: AppStateSource | undefined;
    /**
     * pass NetInfo
     */
    network?: NetworkSource | undefined;
    /**
     * called once
     * when the session expired (close 4001): sign in again (e.g. `client.login(...)`)
     * or resolve to a new session id; not called again for a request or socket
     * that carried the credentials of before the last sign-in
     */
    reauthenticate?: ((client: import("./client.js").BusMobileClient) => Promise<unknown>) | undefined;
    /**
     * default: made once and kept in `storage`
     */
    deviceUuid?: string | undefined;
    /**
     * registers the device with it
     */
    platform?: "ios" | "android" | "web" | "other" | undefined;
    appVersion?: string | undefined;
    /**
     * extra bus channels to subscribe to
     */
    channels?: string[] | undefined;
    /**
     * ms, first reconnect delay (default 1000)
     */
    minDelay?: number | undefined;
    /**
     * ms, longest reconnect delay (default 30000)
     */
    maxDelay?: number | undefined;
    /**
     * ms, least delay after a 1013 (default 5000)
     */
    tryLaterDelay?: number | undefined;
    /**
     * ms in the background before the socket closes (default 30000)
     */
    backgroundGrace?: number | undefined;
    /**
     * ms between two `typing(…, true)` sent (default 3000)
     */
    typingThrottle?: number | undefined;
    /**
     * ms for each HTTP call and socket handshake (default 15000)
     */
    timeout?: number | undefined;
    /**
     * in [0, 1), for the jitter
     */
    random?: (() => number) | undefined;
};
