export class Resume {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    cursor: {
        last: number;
        lastMessageId: number;
    };
    floor: number;
    /** @type {number | null} the user whose stored state is loaded */
    loadedFor: number | null;
    /** whether the cursors came from `storage` (an earlier run) */
    resumed: boolean;
    /** @type {Set<number>} */
    seen: Set<number>;
    catchingUp: boolean;
    catchUpAgain: boolean;
    /** @type {Message[]} messages that came during a sync */
    held: Message[];
    /** @type {Set<number>} ids of held messages that came from a post's answer */
    postIds: Set<number>;
    /** @type {Promise<number | null> | null} */
    run: Promise<number | null> | null;
    timers: Timers<"save">;
    /** The stored cursors and outbox of the signed-in user (once per user). */
    load(): Promise<void>;
    /**
     * Fetch what the socket missed. Socket messages wait meanwhile, so that
     * all are emitted in id order. One at a time: a call during a run makes
     * the run sync once more.
     * @returns {Promise<number | null>} how many messages it recovered; null if it failed
     */
    catchUp(): Promise<number | null>;
    runCatchUp(): Promise<number | null>;
    /** Every page of `/bus_mobile/sync` after the cursor. @returns {Promise<Message[]>} */
    fetch(): Promise<Message[]>;
    /**
     * Emit the messages not delivered before, in id order.
     * @param {Message[]} messages
     * @param {'socket' | 'sync' | 'post'} source
     * @returns {Message[]} the fresh ones
     */
    accept(messages: Message[], source: "socket" | "sync" | "post"): Message[];
    /** The socket delivered up to bus notification `last`. @param {number} last */
    advanceBus(last: number): void;
    /** The cursors move on every frame: write them at most every 200 ms. */
    saveCursor(): void;
    flushCursor(): void;
}
export type Message = import("./shapes.js").Message;
export type ServerConfig = import("./shapes.js").ServerConfig;
export type SyncedPages = import("./discuss_resume.js").SyncedPages;
import { Timers } from './util.js';
