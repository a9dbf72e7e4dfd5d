export class Frames {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    /** @type {Map<string, any>} frames waiting for the rate limit, latest wins */
    pending: Map<string, any>;
    /** @type {number[]} when the frames of the current window went out */
    sentAt: number[];
    timers: Timers<"heartbeat" | "drain">;
    /** A new socket: a new rate-limit window, nothing left to send. */
    reset(): void;
    /** The socket is gone: no heartbeat, nothing left to send. */
    stop(): void;
    /** My channels (the server adds the mobile ones), the app's, and the watched presences. */
    subscribe(): void;
    heartbeat(): void;
    /**
     * Send a frame within Odoo's rate limit (`rate_limit_burst` frames per
     * `burst * rate_limit_delay` seconds, or it closes with 1013). Frames of
     * one kind replace each other while they wait: only the latest counts.
     * @param {string} eventName
     * @param {any} data
     */
    send(eventName: string, data: any): void;
    drain(): void;
}
import { Timers } from './util.js';
