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
export class BusMobileClient extends Emitter<import("./shapes.js").BusMobileEvents> {
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
        WebSocket?: import("./options.js").WebSocketConstructor | undefined;
        /**
         * full control over how the socket is made (wins over `WebSocket`)
         */
        createWebSocket?: ((url: string, options: {
            headers: Record<string, string>;
        }) => import("./options.js").WebSocketLike) | undefined;
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
        appState?: import("./options.js").AppStateSource | undefined;
        /**
         * pass NetInfo
         */
        network?: import("./options.js").NetworkSource | undefined;
        /**
         * called once
         * when the session expired (close 4001): sign in again (e.g. `client.login(...)`)
         * or resolve to a new session id
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
    /** @internal */
    _auth: Auth;
    /** @internal */
    _http: JsonRpc;
    /** @internal */
    _connection: Connection;
    /** @internal */
    _frames: Frames;
    /** @internal */
    _notifications: Notifications;
    /** @internal */
    _resume: Resume;
    /** @internal */
    _outbox: Outbox;
    /** @internal */
    _presence: PresenceWatch;
    /** @internal */
    _typing: TypingThrottle;
    /** @internal */
    _store: ClientStore;
    /** @returns {ConnectionState} */
    get state(): ConnectionState;
    /** The signed-in user's partner id, once the config is loaded. */
    get partnerId(): number | null;
    /**
     * Sign in with Odoo's `/web/session/authenticate`; keeps the session.
     * @param {{db?: string, login: string, password: string}} credentials
     * @returns {Promise<any>} Odoo's session info (`uid`, ...)
     */
    login(credentials: {
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
    deviceLogin(credentials: {
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
     * @returns {Promise<void>}
     */
    signOut(): Promise<void>;
    /**
     * Sign out on the server (`/web/session/destroy`) and close the client.
     * @returns {Promise<void>}
     */
    logout(): Promise<void>;
    /**
     * Call a JSON-RPC route of the addon (or of Odoo). An expired session is
     * renewed once through `reauthenticate`.
     * @param {string} route
     * @param {Record<string, any>} [params] `undefined` values are left out
     * @returns {Promise<any>}
     */
    rpc(route: string, params?: Record<string, any>): Promise<any>;
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
    pendingMessages(channelId?: number): import("./shapes.js").PendingMessage[];
    /**
     * Connect, and stay connected while the app is in the foreground.
     * Resolves once the socket is open and caught up the first time; rejects
     * if the client is closed (or gives up) before.
     * @returns {Promise<void>}
     */
    start(): Promise<void>;
    /** Close the socket cleanly (1000) and stop; `start()` may be called again. */
    close(): void;
    /** Resolves when everything written so far is in `storage`. */
    flushStorage(): Promise<void>;
    /**
     * Report `error` as an `error` event (a `BusMobileError` of `kind` if it is not one).
     * @internal
     * @param {unknown} error
     * @param {import('./errors.js').ErrorKind} [kind]
     */
    _emitError(error: unknown, kind?: import("./errors.js").ErrorKind): void;
}
export type BusMobileOptions = import("./options.js").BusMobileOptions;
export type BusMobileEvents = import("./shapes.js").BusMobileEvents;
export type ConnectionState = import("./shapes.js").ConnectionState;
export type Message = import("./shapes.js").Message;
export type PendingMessage = import("./shapes.js").PendingMessage;
export type Channel = import("./shapes.js").Channel;
export type Presence = import("./shapes.js").Presence;
export type ServerConfig = import("./shapes.js").ServerConfig;
export type DeviceSignIn = import("./shapes.js").DeviceSignIn;
import { Emitter } from './emitter.js';
import { Auth } from './auth.js';
import { JsonRpc } from './http.js';
import { Connection } from './connection.js';
import { Frames } from './frames.js';
import { Notifications } from './notifications.js';
import { Resume } from './resume.js';
import { Outbox } from './outbox.js';
import { PresenceWatch } from './presence.js';
import { TypingThrottle } from './presence.js';
import { ClientStore } from './storage.js';
