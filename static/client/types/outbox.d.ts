/** @typedef {import('./shapes.js').PendingMessage} PendingMessage */
/** @typedef {import('./shapes.js').Thread} Thread */
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
     * @param {Thread} thread
     * @param {string} body
     * @param {{partnerIds?: number[], attachments?: import('./shapes.js').Attachment[],
     *   parent?: import('./shapes.js').ParentMessage | null}} [options] Discuss only
     * @returns {PendingMessage}
     */
    post(thread: Thread, body: string, { partnerIds, attachments, parent }?: {
        partnerIds?: number[];
        attachments?: import("./shapes.js").Attachment[];
        parent?: import("./shapes.js").ParentMessage | null;
    }): PendingMessage;
    /** @param {Thread} [thread] */
    pending(thread?: Thread): import("./shapes.js").PendingMessage[];
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
export type Thread = import("./shapes.js").Thread;
import { Timers } from './util.js';
