/** @typedef {import('./shapes.js').Presence} Presence */
/** @typedef {import('./shapes.js').Thread} Thread */
export class PresenceWatch {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    /** @type {Map<number, number>} watched partner id -> watchers */
    watched: Map<number, number>;
    /**
     * Partner id -> when the socket last told its status (a count), kept
     * after an unwatch: an answer still on its way is older all the same.
     * @type {Map<number, number>}
     */
    heardAt: Map<number, number>;
    heard: number;
    /** A status the socket told: newer than any answer still on its way. @param {Presence} presence */
    fromSocket(presence: Presence): void;
    /**
     * The statuses now. An answer that comes after the socket told a newer
     * status of a partner (a slow request) does not undo it: no event for
     * that partner.
     * @param {number[]} partnerIds @returns {Promise<Presence[]>}
     */
    fetch(partnerIds: number[]): Promise<Presence[]>;
    /** @param {number[]} partnerIds @returns {() => void} stops watching them */
    watch(partnerIds: number[]): () => void;
    /** The bus channels of the watched partners, for `subscribe`. */
    busChannels(): string[];
    /** After a reconnect: the watched partners' current status (changes may have been missed). */
    refresh(): void;
}
export class TypingThrottle {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    /** @type {Map<string, {typing: boolean, at: number}>} thread key -> what was sent last */
    sent: Map<string, {
        typing: boolean;
        at: number;
    }>;
    /**
     * @param {Thread} thread
     * @param {boolean} isTyping
     * @returns {Promise<boolean>} whether a request was sent
     */
    send(thread: Thread, isTyping: boolean): Promise<boolean>;
    /** A post ends typing on the server: the next `true` goes out at once. @param {Thread} thread */
    forget(thread: Thread): void;
}
export type Presence = import("./shapes.js").Presence;
export type Thread = import("./shapes.js").Thread;
