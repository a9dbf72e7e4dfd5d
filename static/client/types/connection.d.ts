export class Connection {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    /** @type {ConnectionState} */
    state: ConnectionState;
    /** @type {WebSocketLike | null} */
    ws: WebSocketLike | null;
    gen: number;
    attempt: number;
    started: boolean;
    closedByApp: boolean;
    /** @type {'foreground' | 'background'} */
    appState: "foreground" | "background";
    online: boolean;
    timers: Timers<"retry" | "open" | "grace">;
    /** @type {(() => void)[]} the app-state and network sources' unsubscribes */
    unsubscribe: (() => void)[];
    reauthedSocket: boolean;
    /** @type {string | null} the credential the socket was opened with */
    socketCredential: string | null;
    openedAt: number;
    /** @type {{promise: Promise<void>, resolve: () => void, reject: (e: unknown) => void} | null} */
    firstOpen: {
        promise: Promise<void>;
        resolve: () => void;
        reject: (e: unknown) => void;
    } | null;
    /** @returns {Promise<void>} see `BusMobileClient.start` */
    start(): Promise<void>;
    close(): void;
    watchSources(): void;
    /** @param {ConnectionState} state @param {{code?: number, reason?: string}} [why] */
    setState(state: ConnectionState, why?: {
        code?: number;
        reason?: string;
    }): void;
    /** Give up (the outbox keeps its posts for the next `start()`). @param {BusMobileError} error */
    fail(error: BusMobileError): void;
    /** Bootstrap (each time: the config may have changed with a server update), then open. */
    connect(): Promise<void>;
    /** @param {string | null} [ticket] a socket ticket, see `Auth.socketTicket` */
    socketUrl(ticket?: string | null): string;
    /** @param {number} gen @param {string | null} [ticket] */
    openSocket(gen: number, ticket?: string | null): void;
    /** @param {number} gen */
    onOpen(gen: number): Promise<void>;
    /** A frame came: the session works. */
    frameReceived(): void;
    /**
     * @param {number | undefined} code
     * @param {string} [reason]
     */
    onClose(code: number | undefined, reason?: string): void | Promise<void>;
    /**
     * @param {number | undefined} code
     * @param {string} [reason] e.g. `TOKEN_REVOKED` for a signed-out device
     */
    onSessionExpired(code: number | undefined, reason?: string): Promise<void>;
    /** @param {import('./backoff.js').CloseAction} action */
    scheduleRetry(action: import("./backoff.js").CloseAction): void;
    /** @param {number} code @param {string} reason */
    dropSocket(code: number, reason: string): void;
    /** @param {string} raw app state from the source */
    onAppState(raw: string): void;
    suspend(): void;
    /** @param {boolean} online */
    onNetwork(online: boolean): void;
}
export type ConnectionState = import("./shapes.js").ConnectionState;
export type WebSocketLike = import("./options.js").WebSocketLike;
import { Timers } from './util.js';
import { BusMobileError } from './errors.js';
