// @ts-check
/**
 * Nothing lost, nothing twice, for Discuss messages (doc/discuss.md,
 * "Catch-up"). The cursor is the server's journal position, which only
 * `/bus_mobile/discuss/sync` gives: socket messages do not move it. So the
 * ids of the messages already delivered are kept too (in `storage`, the
 * newest ones), and a message that comes again, from the socket's replay
 * or from a sync, is dropped.
 *
 * The mobile catch-up (resume.js) drives this one: it runs the sync while
 * its own runs, socket messages wait meanwhile, and all go out in the
 * server's commit order, each once.
 */

/** @typedef {import('./shapes.js').Message} Message */
/** @typedef {{cursor: number, messages: Message[], reset: boolean}} SyncedPages what a catch-up fetched */

const MAX_SEEN = 10000;
// The newest delivered ids kept in `storage` (an app restart's dedup).
const MAX_STORED_SEEN = 1000;

export class DiscussResume {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    /** @type {number | null} the journal cursor; null: Discuss is not followed */
    this.cursor = null;
    /** @type {Set<number>} ids of delivered messages, oldest first */
    this.seen = new Set();
    /** @type {Message[]} socket messages that came during a sync */
    this.held = [];
    /** socket messages delivered since the last sync */
    this.sinceSync = 0;
  }

  get active() {
    return this.cursor !== null;
  }

  /**
   * The stored state of the user, or a fresh start from the server's cursor
   * (`channels` also tells the client which conversations are the user's).
   * @param {any} stored what `state()` returned in an earlier run
   */
  async load(stored) {
    const client = this.client;
    this.seen.clear();
    this.held = [];
    if (!client._discuss.available) {
      this.cursor = null;
      return;
    }
    const { sync_cursor: fresh } = await client._discuss.channels();
    if (stored && Number.isInteger(stored.discuss) && stored.discuss >= 0) {
      this.cursor = stored.discuss;
      for (const id of Array.isArray(stored.discussSeen) ? stored.discussSeen : []) if (Number.isInteger(id)) this.seen.add(id);
    } else {
      // First run: from now; history is for `messages()`.
      this.cursor = fresh;
    }
  }

  /** What `storage` keeps, beside the mobile cursors. */
  state() {
    if (this.cursor === null) return {};
    return { discuss: this.cursor, discussSeen: [...this.seen].slice(-MAX_STORED_SEEN) };
  }

  /**
   * Every page from `from` (the cursor, or where an earlier fetch of the
   * same catch-up stopped). Throws if a page fails: nothing is delivered then.
   * @param {SyncedPages | null} from
   * @returns {Promise<SyncedPages | null>}
   */
  async fetch(from) {
    if (this.cursor === null) return null;
    const result = from ?? { cursor: this.cursor, messages: [], reset: false };
    for (;;) {
      const page = await this.client._discuss.sync(result.cursor);
      if (page.reset) {
        // Offline longer than the server keeps its journal: reload what is shown.
        result.reset = true;
        result.messages = [];
      }
      result.messages.push(...page.messages);
      result.cursor = page.cursor;
      if (!page.has_more) return result;
    }
  }

  /**
   * The catch-up succeeded: move the cursor, deliver what it brought, then
   * what the socket brought meanwhile.
   * @param {SyncedPages | null} synced
   * @returns {number} how many messages the sync recovered
   */
  finish(synced) {
    const held = this.held;
    this.held = [];
    if (!synced) return 0;
    this.cursor = synced.cursor;
    if (synced.reset) this.client.emit('discussReset', { cursor: synced.cursor });
    const syncedIds = new Set(synced.messages.map((m) => m.id));
    const fresh = this.accept([...synced.messages, ...held], 'sync');
    this.client._resume.saveCursor();
    return fresh.filter((m) => syncedIds.has(m.id)).length;
  }

  /** The catch-up failed: the next one brings it all again. */
  drop() {
    this.held = [];
  }

  /**
   * Emit the messages not delivered before, in the order given (the
   * server's commit order).
   * @param {Message[]} messages
   * @param {'socket' | 'sync' | 'post'} source
   * @returns {Message[]} the fresh ones
   */
  accept(messages, source) {
    const client = this.client;
    client._discuss.rememberMessages(messages);
    if (client._resume.catchingUp && source !== 'sync') {
      this.held.push(...messages);
      return [];
    }
    const fresh = [];
    for (const message of messages) {
      if (!message || !Number.isInteger(message.id)) continue;
      if (this.seen.has(message.id)) {
        client.stats.duplicates += 1;
        continue;
      }
      this.seen.add(message.id);
      fresh.push(/** @type {Message} */ ({ ...message, pending: false }));
    }
    if (this.seen.size > MAX_SEEN) this.seen = new Set([...this.seen].slice(-MAX_SEEN / 2));
    if (fresh.length) client._resume.saveCursor();
    this.sinceSync = source === 'sync' ? 0 : this.sinceSync + fresh.length;
    // Many socket messages and no sync: move the cursor, so that an app
    // restart does not need more remembered ids than storage keeps.
    if (this.sinceSync >= MAX_STORED_SEEN / 2) {
      this.sinceSync = 0;
      client._resume.catchUp();
    }
    for (const message of fresh) {
      if (source !== 'post' && message.client_uuid && message.author_id === client.partnerId) {
        // My own post, seen before its answer: no need to send it again.
        client._outbox.remove(message.client_uuid);
      }
      client.emit('message', message);
    }
    return fresh;
  }
}
