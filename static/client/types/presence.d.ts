/**
 * The ephemeral signals: who is online (presence, followed on the socket
 * through Odoo's `odoo-presence-res.partner_<id>` channels) and who is
 * typing (sent throttled).
 */
/** @typedef {import('./shapes.js').Presence} Presence */
export class PresenceWatch {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    /** @type {Map<number, number>} watched partner id -> watchers */
    watched: Map<number, number>;
    /** @param {number[]} partnerIds @returns {Promise<Presence[]>} */
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
    /** @type {Map<number, {typing: boolean, at: number}>} channel id -> what was sent last */
    sent: Map<number, {
        typing: boolean;
        at: number;
    }>;
    /**
     * @param {number} channelId
     * @param {boolean} isTyping
     * @returns {Promise<boolean>} whether a request was sent
     */
    send(channelId: number, isTyping: boolean): Promise<boolean>;
    /** A post ends typing on the server: the next `true` goes out at once. @param {number} channelId */
    forget(channelId: number): void;
}
export type Presence = import("./shapes.js").Presence;
