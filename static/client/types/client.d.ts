/** @extends {Emitter<BusMobileEvents>} */
export class BusMobileClient extends Emitter<BusMobileEvents> {
    /** @param {BusMobileOptions} options */
    constructor(options: BusMobileOptions);
    options: {
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
         * default: the global one
         */
        fetch?: typeof fetch | undefined;
        /**
         * AsyncStorage in an app (default: memory)
         */
        storage?: import("./storage.js").KeyValueStorage | undefined;
        /**
         * prefix of the stored keys (default `odoo-bus-mobile`)
         */
        storageKey: string;
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
         * or resolve to a new session id
         */
        reauthenticate?: ((client: BusMobileClient) => Promise<unknown>) | undefined;
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
        minDelay: number;
        /**
         * ms, longest reconnect delay (default 30000)
         */
        maxDelay: number;
        /**
         * ms, least delay after a 1013 (default 5000)
         */
        tryLaterDelay: number;
        /**
         * ms in the background before the socket closes (default 30000)
         */
        backgroundGrace: number;
        /**
         * ms between two `typing(…, true)` sent (default 3000)
         */
        typingThrottle: number;
        /**
         * ms for each HTTP call and socket handshake (default 15000)
         */
        timeout: number;
        /**
         * in [0, 1), for the jitter
         */
        random?: (() => number) | undefined;
    };
    url: string;
    db: string | null;
    /** The `session_id` cookie's value, when the client knows it. */
    sessionId: string | null;
    /** The bearer token (device token or API key), when the client signs in with one. */
    token: string | null;
    /** @type {ServerConfig | null} */
    config: ServerConfig | null;
    /** @type {string | null} */
    deviceUuid: string | null;
    storage: import("./storage.js").KeyValueStorage;
    stats: {
        opens: number;
        reauths: number;
        recovered: number;
        duplicates: number;
        closes: {
            code?: number;
            reason?: string;
        }[];
    };
    /** @type {ConnectionState} */
    _state: ConnectionState;
    _fetch: typeof fetch;
    /** @type {WebSocketLike | null} */
    _ws: WebSocketLike | null;
    _gen: number;
    _attempt: number;
    _started: boolean;
    _closedByApp: boolean;
    /** @type {'foreground' | 'background'} */
    _appState: "foreground" | "background";
    _online: boolean;
    _rpcId: number;
    /** @type {Record<string, ReturnType<typeof setTimeout> | null>} */
    _timers: Record<string, ReturnType<typeof setTimeout> | null>;
    /** @type {(() => void)[]} */
    _unsubscribe: (() => void)[];
    _cursor: {
        last: number;
        lastMessageId: number;
    };
    _floor: number;
    /** @type {number | null} */
    _loadedFor: number | null;
    _resumed: boolean;
    _ns: string;
    /** @type {Set<number>} */
    _seen: Set<number>;
    _catchingUp: boolean;
    _catchUpAgain: boolean;
    /** @type {Message[]} */
    _held: Message[];
    /** @type {Set<number>} ids of held messages that came from a post's answer */
    _postIds: Set<number>;
    /** @type {Promise<number | null> | null} */
    _catchUpRun: Promise<number | null> | null;
    /** @type {PendingMessage[]} */
    _outbox: PendingMessage[];
    _outboxAttempt: number;
    _flushing: boolean;
    /** @type {Map<string, any>} frames waiting for the rate limit, latest wins */
    _frames: Map<string, any>;
    /** @type {number[]} */
    _sentAt: number[];
    /** @type {Map<number, number>} watched partner id -> watchers */
    _watched: Map<number, number>;
    /** @type {Map<number, {typing: boolean, at: number}>} */
    _typingSent: Map<number, {
        typing: boolean;
        at: number;
    }>;
    /** @type {Promise<boolean> | null} */
    _reauthPromise: Promise<boolean> | null;
    _reauthedSocket: boolean;
    _openedAt: number;
    /** @type {Promise<void>} */
    _writes: Promise<void>;
    /** @type {{promise: Promise<void>, resolve: () => void, reject: (e: unknown) => void} | null} */
    _firstOpen: {
        promise: Promise<void>;
        resolve: () => void;
        reject: (e: unknown) => void;
    } | null;
    /** @returns {ConnectionState} */
    get state(): ConnectionState;
    /** The signed-in user's partner id, once the config is loaded. */
    get partnerId(): number | null;
    /**
     * Sign in with Odoo's `/web/session/authenticate`; keeps the session.
     * @param {{db?: string, login: string, password: string}} credentials
     * @returns {Promise<any>} Odoo's session info (`uid`, ...)
     */
    login({ db, login, password }: {
        db?: string;
        login: string;
        password: string;
    }): Promise<any>;
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
    deviceLogin({ db, login, password, totpCode, platform, appVersion }: {
        db?: string;
        login: string;
        password: string;
        totpCode?: string;
        platform?: "ios" | "android" | "web" | "other";
        appVersion?: string;
    }): Promise<DeviceSignIn>;
    /**
     * Sign this device out (`/bus_mobile/device/logout`): its token stops
     * working and its sockets close on the server; then close the client.
     */
    signOut(): Promise<void>;
    /** Sign out on the server (`/web/session/destroy`) and close the client. */
    logout(): Promise<void>;
    /**
     * Call a JSON-RPC route of the addon (or of Odoo). An expired session is
     * renewed once through `reauthenticate`.
     * @param {string} route
     * @param {Record<string, any>} [params] `undefined` values are left out
     * @returns {Promise<any>}
     */
    rpc(route: string, params?: Record<string, any>): Promise<any>;
    /** The headers every request and the socket carry: the one place auth is added. */
    _headers(): Record<string, string>;
    /**
     * @param {string} route
     * @param {Record<string, any>} params
     */
    _jsonrpc(route: string, params: Record<string, any>, { auth }?: {
        auth?: boolean | undefined;
    }): Promise<any>;
    /** Odoo sets the cookie on login and when it rotates the session. @param {Response} response */
    _noteSessionCookie(response: Response): void;
    /**
     * The JSON-RPC routes' answers on failure: `reauthenticate` once.
     * @returns {Promise<boolean>} whether a new session is there
     */
    _reauthenticate(): Promise<boolean>;
    /** @returns {Promise<ServerConfig>} */
    loadConfig(): Promise<ServerConfig>;
    /** @returns {Promise<Channel[]>} my channels, with `unread_count` and `last_message` */
    channels(): Promise<Channel[]>;
    /**
     * @param {{name?: string, type?: 'public' | 'private' | 'direct', partnerIds?: number[]}} spec
     * @returns {Promise<Channel>} (direct: the pair's channel, made on first use)
     */
    createChannel({ name, type, partnerIds }: {
        name?: string;
        type?: "public" | "private" | "direct";
        partnerIds?: number[];
    }): Promise<Channel>;
    /** @param {number} channelId @returns {Promise<Channel>} */
    join(channelId: number): Promise<Channel>;
    /** @param {number} channelId @returns {Promise<Channel>} */
    leave(channelId: number): Promise<Channel>;
    /** @param {number} channelId @param {number[]} partnerIds @returns {Promise<Channel>} */
    addMembers(channelId: number, partnerIds: number[]): Promise<Channel>;
    /**
     * A page of history, ascending id: the last `limit`, or those before `beforeId`.
     * @param {number} channelId
     * @param {{beforeId?: number, afterId?: number, limit?: number}} [page]
     * @returns {Promise<Message[]>}
     */
    messages(channelId: number, { beforeId, afterId, limit }?: {
        beforeId?: number;
        afterId?: number;
        limit?: number;
    }): Promise<Message[]>;
    /**
     * Every message of my channels after `afterId`: the catch-up the client
     * runs by itself after each reconnect.
     * @param {number} afterId
     * @param {number} [limit]
     * @returns {Promise<{messages: Message[], has_more: boolean}>}
     */
    sync(afterId: number, limit?: number): Promise<{
        messages: Message[];
        has_more: boolean;
    }>;
    /** Read receipt: `messageId` and all before it are read. @param {number} channelId @param {number} messageId */
    markRead(channelId: number, messageId: number): Promise<any>;
    /**
     * Tell the channel I am (not) typing. Throttled: `true` goes out at most
     * once per `typingThrottle` ms while it holds; `false` only after a `true`.
     * @param {number} channelId
     * @param {boolean} [isTyping]
     * @returns {Promise<boolean>} whether a request was sent
     */
    typing(channelId: number, isTyping?: boolean): Promise<boolean>;
    /** @param {number[]} partnerIds @returns {Promise<Presence[]>} */
    presence(partnerIds: number[]): Promise<Presence[]>;
    /**
     * Follow the presence of `partnerIds`: `presence` events now (their
     * current status) and on every change. Returns the function that stops.
     * @param {number[]} partnerIds
     * @returns {() => void}
     */
    watchPresence(partnerIds: number[]): () => void;
    /**
     * @param {{platform?: string, appVersion?: string, pushToken?: string}} [device]
     */
    registerDevice({ platform, appVersion, pushToken }?: {
        platform?: string;
        appVersion?: string;
        pushToken?: string;
    }): Promise<any>;
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
    post(channelId: number, body: string): PendingMessage;
    /** The posts waiting for the server, oldest first. @param {number} [channelId] */
    pendingMessages(channelId?: number): PendingMessage[];
    _outboxChanged(): void;
    _flushOutbox(): Promise<void>;
    /** @param {string} clientUuid */
    _removeFromOutbox(clientUuid: string): void;
    /**
     * Connect, and stay connected while the app is in the foreground.
     * Resolves once the socket is open and caught up the first time; rejects
     * if the client is closed (or gives up) before.
     * @returns {Promise<void>}
     */
    start(): Promise<void>;
    /** Close the socket cleanly (1000) and stop; `start()` may be called again. */
    close(): void;
    _watchSources(): void;
    /** @param {ConnectionState} state @param {{code?: number, reason?: string}} [why] */
    _setState(state: ConnectionState, why?: {
        code?: number;
        reason?: string;
    }): void;
    /** @param {unknown} error @param {import('./errors.js').ErrorKind} [kind] */
    _emitError(error: unknown, kind?: import("./errors.js").ErrorKind): void;
    /** @param {BusMobileError} error */
    _fail(error: BusMobileError): void;
    _loadDeviceUuid(): Promise<void>;
    /** Bootstrap (each time: the config may have changed with a server update), then open. */
    _connect(): Promise<void>;
    _socketUrl(): string;
    /** @param {number} gen */
    _openSocket(gen: number): void;
    /** @param {number} gen */
    _onOpen(gen: number): Promise<void>;
    /**
     * @param {number | undefined} code
     * @param {string} [reason]
     */
    _onClose(code: number | undefined, reason?: string): void | Promise<void>;
    /**
     * @param {number | undefined} code
     * @param {string} [reason] e.g. `TOKEN_REVOKED` for a signed-out device
     */
    _onSessionExpired(code: number | undefined, reason?: string): Promise<void>;
    /** @param {import('./backoff.js').CloseAction} action */
    _scheduleRetry(action: import("./backoff.js").CloseAction): void;
    /** @param {number} code @param {string} reason */
    _dropSocket(code: number, reason: string): void;
    /** @param {string} raw app state from the source */
    _onAppState(raw: string): void;
    _suspend(): void;
    /** @param {boolean} online */
    _onNetwork(online: boolean): void;
    _sendSubscribe(): void;
    _sendHeartbeat(): void;
    /**
     * Send a frame within Odoo's rate limit (`rate_limit_burst` frames per
     * `burst * rate_limit_delay` seconds, or it closes with 1013). Frames of
     * one kind replace each other while they wait: only the latest counts.
     * @param {string} eventName
     * @param {any} data
     */
    _sendFrame(eventName: string, data: any): void;
    _drainFrames(): void;
    /** @param {any} data */
    _onFrame(data: any): void;
    _loadStored(): Promise<void>;
    /**
     * Fetch what the socket missed. Socket messages wait meanwhile, so that
     * all are emitted in id order. One at a time: a call during a run makes
     * the run sync once more.
     * @returns {Promise<number | null>} how many messages it recovered; null if it failed
     */
    _catchUp(): Promise<number | null>;
    _runCatchUp(): Promise<number | null>;
    /**
     * Emit the messages not delivered before, in id order.
     * @param {Message[]} messages
     * @param {'socket' | 'sync' | 'post'} source
     * @returns {Message[]} the fresh ones
     */
    _acceptMessages(messages: Message[], source: "socket" | "sync" | "post"): Message[];
    /** @param {string} name */
    _load(name: string): Promise<any>;
    /** Writes go out in order, one at a time. @param {string} name @param {any} value */
    _save(name: string, value: any): Promise<void>;
    /** The cursors move on every frame: write them at most every 200 ms. */
    _saveCursor(): void;
    _flushSave(): void;
    /** Resolves when everything written so far is in `storage`. */
    flushStorage(): Promise<void>;
}
/**
 * `idle`: not started, or suspended in the background; `connecting`: the
 * first connection; `open`: the socket is up; `reconnecting`: it dropped and
 * a new one is on the way (or waits for the network); `closed`: closed by
 * the app, or given up (a clean close by the server, sign-in impossible).
 */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";
/**
 * A message as the server sends it.
 */
export type Message = {
    id: number;
    channel_id: number;
    /**
     * partner id
     */
    author_id: number;
    author_name: string;
    body: string;
    client_uuid: string | null;
    /**
     * ISO 8601 UTC
     */
    create_date: string;
};
/**
 * A post not yet acknowledged by the server.
 */
export type PendingMessage = {
    id: null;
    channel_id: number;
    author_id: number | null;
    author_name: string;
    body: string;
    client_uuid: string;
    create_date: string;
    pending: true;
};
export type Channel = {
    id: number;
    name: string;
    channel_type: "public" | "private" | "direct";
    active: boolean;
    member_partner_ids: number[];
    unread_count?: number | undefined;
    last_message?: Message | null | undefined;
};
/**
 * What `/bus_mobile/config` returns.
 */
export type ServerConfig = {
    websocket_url: string;
    worker_version: string;
    server_version: string;
    user: {
        id: number;
        partner_id: number;
        name: string;
    };
    channels: string[];
    presence: {
        heartbeat_s: number;
        away_after_s: number;
        offline_after_s: number;
    };
    limits: {
        max_body_chars: number;
        page_max: number;
        rate_limit_burst: number;
        rate_limit_delay: number;
    };
};
/**
 * What `deviceLogin()` resolves to.
 */
export type DeviceSignIn = {
    /**
     * true: call again with `totpCode`
     */
    totpRequired: boolean;
    /**
     * the device token (shown once: keep it)
     */
    token?: string | undefined;
    /**
     * ISO 8601 UTC; each use renews it
     */
    expiresAt?: string | undefined;
    device?: {
        id: number;
        device_uuid: string;
        platform: string;
        app_version: string | null;
        status: string;
    } | undefined;
    user?: {
        id: number;
        partner_id: number;
        name: string;
    } | undefined;
};
export type Presence = {
    partner_id: number;
    im_status: string;
    last_seen: string | null;
};
export type Typing = {
    channel_id: number;
    partner_id: number;
    is_typing: boolean;
};
export type Read = {
    channel_id: number;
    partner_id: number;
    message_id: number;
};
export type ChannelEvent = {
    event: "created" | "updated" | "member_added" | "member_removed";
    channel: Channel;
    partner_ids: number[];
};
export type Notification = {
    id: number;
    message: {
        type: string;
        payload: any;
    };
};
export type BusMobileEvents = {
    state: {
        state: ConnectionState;
        previous: ConnectionState;
        code?: number;
        reason?: string;
    };
    /**
     * a new message, once, in id order
     */
    message: Message;
    typing: Typing;
    read: Read;
    channel: ChannelEvent;
    presence: Presence;
    /**
     * every raw bus notification (Discuss ones too)
     */
    notification: Notification;
    error: BusMobileError;
    sessionExpired: {
        code?: number;
        route?: string;
    };
    /**
     * after each resume: how many messages the sync recovered
     */
    reconnect: {
        recovered: number;
        opens: number;
    };
    /**
     * the pending posts changed
     */
    outbox: PendingMessage[];
};
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
     * default: the global one
     */
    fetch?: typeof fetch | undefined;
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
     * or resolve to a new session id
     */
    reauthenticate?: ((client: BusMobileClient) => Promise<unknown>) | undefined;
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
import { Emitter } from './emitter.js';
import { BusMobileError } from './errors.js';
