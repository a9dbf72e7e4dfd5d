/** @typedef {import('./shapes.js').PendingMessage} PendingMessage */
export class Outbox {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    /** @type {PendingMessage[]} oldest first */
    items: PendingMessage[];
    attempt: number;
    flushing: boolean;
    timers: Timers<"retry">;
    /**
     * @param {number} channelId
     * @param {string} body
     * @returns {PendingMessage}
     */
    post(channelId: number, body: string): PendingMessage;
    /** @param {number} [channelId] */
    pending(channelId?: number): import("./shapes.js").PendingMessage[];
    /** The stored posts first (an earlier run's), then this run's not among them. */
    restore(): Promise<void>;
    changed(): void;
    stop(): void;
    flush(): Promise<void>;
    /** @param {PendingMessage} entry @returns {Promise<import('./shapes.js').Message>} */
    send(entry: PendingMessage): Promise<import("./shapes.js").Message>;
    /** @param {string} clientUuid */
    remove(clientUuid: string): void;
}
export type PendingMessage = import("./shapes.js").PendingMessage;
import { Timers } from './util.js';
