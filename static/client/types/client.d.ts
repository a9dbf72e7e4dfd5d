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
    _discuss: Discuss;
    /** @internal */
    _discussResume: DiscussResume;
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
    /** Whether the server has Discuss (`mail` installed), once the config is loaded. */
    get discussAvailable(): boolean;
    /** @returns {Promise<Channel[]>} my mobile channels, with `unread_count` and `last_message` */
    channels(): Promise<Channel[]>;
    /**
     * My Discuss conversations as the web client lists them (channels and
     * groups I am a member of, pinned chats), with `unread_count` and
     * `last_message`. A `UserError` where Discuss is not available.
     * @returns {Promise<DiscussChannel[]>}
     */
    discussChannels(): Promise<DiscussChannel[]>;
    /**
     * All my conversations: Discuss's (where the server has it) and the
     * mobile channels, the most recently active first.
     * @returns {Promise<(DiscussChannel | Channel)[]>}
     */
    conversations(): Promise<(DiscussChannel | Channel)[]>;
    /** One Discuss conversation. @param {ThreadName} thread @returns {Promise<DiscussChannel>} */
    discussChannel(thread: ThreadName): Promise<DiscussChannel>;
    /**
     * @param {{name?: string, type?: 'public' | 'private' | 'direct', partnerIds?: number[]}} spec
     * @returns {Promise<Channel>} a mobile channel (direct: the pair's channel, made on first use)
     */
    createChannel({ name, type, partnerIds }: {
        name?: string;
        type?: "public" | "private" | "direct";
        partnerIds?: number[];
    }): Promise<Channel>;
    /**
     * The Discuss direct chat with a person (a partner of an internal user),
     * made on first use, as the web client's "Start a conversation".
     * @param {number} partnerId @returns {Promise<DiscussChannel>}
     */
    startChat(partnerId: number): Promise<DiscussChannel>;
    /** A Discuss group with me and them. @param {number[]} partnerIds @param {string} [name] @returns {Promise<DiscussChannel>} */
    createGroup(partnerIds: number[], name?: string): Promise<DiscussChannel>;
    /** People I may chat with, by name (Discuss). @param {string} search @param {number} [limit] @returns {Promise<Partner[]>} */
    searchPartners(search: string, limit?: number): Promise<Partner[]>;
    /** Join a public channel. @param {ThreadName} thread @returns {Promise<Channel | DiscussChannel>} */
    join(thread: ThreadName): Promise<Channel | DiscussChannel>;
    /** Leave a channel or a group (a Discuss chat: hide it). @param {ThreadName} thread @returns {Promise<any>} */
    leave(thread: ThreadName): Promise<any>;
    /** @param {ThreadName} thread @param {number[]} partnerIds @returns {Promise<Channel | DiscussChannel>} */
    addMembers(thread: ThreadName, partnerIds: number[]): Promise<Channel | DiscussChannel>;
    /**
     * Mute a Discuss conversation for `minutes` (-1: until unmuted, 0: unmute).
     * @param {ThreadName} thread @param {number} minutes @returns {Promise<DiscussChannel>}
     */
    mute(thread: ThreadName, minutes: number): Promise<DiscussChannel>;
    /**
     * Which messages of a Discuss conversation notify me (null: my default).
     * @param {ThreadName} thread @param {'all' | 'mentions' | 'no_notif' | null} setting @returns {Promise<DiscussChannel>}
     */
    setNotifications(thread: ThreadName, setting: "all" | "mentions" | "no_notif" | null): Promise<DiscussChannel>;
    /**
     * A page of history, ascending id: the last `limit`, or those before
     * `beforeId` (or after `afterId`). Discuss also finds messages around one
     * (`aroundId`) and by text (`search`).
     * @param {ThreadName} thread
     * @param {{beforeId?: number, afterId?: number, aroundId?: number, limit?: number, search?: string}} [page]
     * @returns {Promise<Message[]>}
     */
    messages(thread: ThreadName, { beforeId, afterId, aroundId, limit, search }?: {
        beforeId?: number;
        afterId?: number;
        aroundId?: number;
        limit?: number;
        search?: string;
    }): Promise<Message[]>;
    /**
     * Every message of my mobile channels after `afterId`: the catch-up the
     * client runs by itself after each reconnect (Discuss's too).
     * @param {number} afterId
     * @param {number} [limit]
     * @returns {Promise<{messages: Message[], has_more: boolean}>}
     */
    sync(afterId: number, limit?: number): Promise<{
        messages: Message[];
        has_more: boolean;
    }>;
    /**
     * Read receipt: `messageId` and all before it are read. For Discuss, the
     * web client's counter and seen ticks follow, and the answer gives mine.
     * @param {ThreadName} thread @param {number} messageId
     * @returns {Promise<ReadState | void>}
     */
    markRead(thread: ThreadName, messageId: number): Promise<ReadState | void>;
    /**
     * Tell the conversation I am (not) typing. Throttled: `true` goes out at
     * most once per `typingThrottle` ms while it holds; `false` only after a `true`.
     * @param {ThreadName} thread
     * @param {boolean} [isTyping]
     * @returns {Promise<boolean>} whether a request was sent
     */
    typing(thread: ThreadName, isTyping?: boolean): Promise<boolean>;
    /**
     * Replace the text of my Discuss message (marked edited); its attachments stay.
     * @param {ThreadName} thread @param {number} messageId @param {string} body plain text
     * @param {{partnerIds?: number[]}} [options] the people mentioned (`@Name` in the text)
     * @returns {Promise<Message>}
     */
    editMessage(thread: ThreadName, messageId: number, body: string, { partnerIds }?: {
        partnerIds?: number[];
    }): Promise<Message>;
    /** Delete my Discuss message (as the web client: empty, no attachments). @param {ThreadName} thread @param {number} messageId @returns {Promise<Message>} */
    deleteMessage(thread: ThreadName, messageId: number): Promise<Message>;
    /**
     * Add (or remove) my reaction to a Discuss message.
     * @param {ThreadName} thread @param {number} messageId @param {string} content an emoji
     * @param {'add' | 'remove'} [action]
     * @returns {Promise<Message>}
     */
    react(thread: ThreadName, messageId: number, content: string, action?: "add" | "remove"): Promise<Message>;
    /**
     * Upload a file for a Discuss post; then post with `{attachments: [it]}`.
     * `onProgress` follows the bytes sent (XMLHttpRequest: React Native,
     * browsers; elsewhere at the start and the end only).
     * @param {ThreadName} thread
     * @param {UploadFile} file a Blob or File, or React Native's `{uri, name, type}`
     * @param {UploadOptions} [options]
     * @returns {Promise<Attachment>}
     */
    uploadAttachment(thread: ThreadName, file: UploadFile, options?: UploadOptions): Promise<Attachment>;
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
     * `body` is plain text; in a Discuss conversation the server makes mail's
     * HTML of it as the web composer does (line breaks, links, and a mention
     * link for `@Name` of each of `partnerIds`).
     * @param {ThreadName} thread
     * @param {string} body
     * @param {PostOptions} [options] Discuss only: mentions, uploaded attachments, the message replied to
     * @returns {PendingMessage}
     */
    post(thread: ThreadName, body: string, { partnerIds, attachments, replyTo }?: PostOptions): PendingMessage;
    /** The posts waiting for the server, oldest first (of one conversation). @param {ThreadName} [thread] */
    pendingMessages(thread?: ThreadName): import("./shapes.js").PendingMessage[];
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
export type Thread = import("./shapes.js").Thread;
export type ThreadName = import("./shapes.js").ThreadName;
export type DiscussChannel = import("./shapes.js").DiscussChannel;
export type Attachment = import("./shapes.js").Attachment;
export type PostOptions = import("./shapes.js").PostOptions;
export type UploadFile = import("./shapes.js").UploadFile;
export type UploadOptions = import("./shapes.js").UploadOptions;
export type ReadState = import("./shapes.js").ReadState;
export type Partner = import("./shapes.js").Partner;
import { Emitter } from './emitter.js';
import { Auth } from './auth.js';
import { JsonRpc } from './http.js';
import { Connection } from './connection.js';
import { Frames } from './frames.js';
import { Discuss } from './discuss.js';
import { DiscussResume } from './discuss_resume.js';
import { Notifications } from './notifications.js';
import { Resume } from './resume.js';
import { Outbox } from './outbox.js';
import { PresenceWatch } from './presence.js';
import { TypingThrottle } from './presence.js';
import { ClientStore } from './storage.js';
