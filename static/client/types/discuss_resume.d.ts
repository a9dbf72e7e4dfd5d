export class DiscussResume {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    /** @type {number | null} the journal cursor; null: Discuss is not followed */
    cursor: number | null;
    /** @type {Set<number>} ids of delivered messages, oldest first */
    seen: Set<number>;
    /** @type {Message[]} socket messages that came during a sync */
    held: Message[];
    /** socket messages delivered since the last sync */
    sinceSync: number;
    get active(): boolean;
    /**
     * The stored state of the user, or a fresh start from the server's cursor
     * (`channels` also tells the client which conversations are the user's).
     * @param {any} stored what `state()` returned in an earlier run
     */
    load(stored: any): Promise<void>;
    /** What `storage` keeps, beside the mobile cursors. */
    state(): {
        discuss?: undefined;
        discussSeen?: undefined;
    } | {
        discuss: number;
        discussSeen: number[];
    };
    /**
     * Every page from `from` (the cursor, or where an earlier fetch of the
     * same catch-up stopped). Throws if a page fails: nothing is delivered then.
     * @param {SyncedPages | null} from
     * @returns {Promise<SyncedPages | null>}
     */
    fetch(from: SyncedPages | null): Promise<SyncedPages | null>;
    /**
     * The catch-up succeeded: move the cursor, deliver what it brought, then
     * what the socket brought meanwhile.
     * @param {SyncedPages | null} synced
     * @returns {number} how many messages the sync recovered
     */
    finish(synced: SyncedPages | null): number;
    /** The catch-up failed: the next one brings it all again. */
    drop(): void;
    /**
     * Emit the messages not delivered before, in the order given (the
     * server's commit order).
     * @param {Message[]} messages
     * @param {'socket' | 'sync' | 'post'} source
     * @returns {Message[]} the fresh ones
     */
    accept(messages: Message[], source: "socket" | "sync" | "post"): Message[];
}
export type Message = import("./shapes.js").Message;
/**
 * what a catch-up fetched
 */
export type SyncedPages = {
    cursor: number;
    messages: Message[];
    reset: boolean;
};
