// @ts-check
/**
 * Nothing lost, nothing twice: the cursors, the catch-up after each
 * reconnect, and the de-duplication.
 *
 * Two cursors, kept in `storage` per server, database and user: `last`, the
 * bus notification id the socket's `subscribe` replays from, and
 * `lastMessageId`, the newest message delivered, from which
 * `/bus_mobile/sync` fetches what the socket missed. While a sync runs,
 * messages from the socket and from posts' answers wait, so that all are
 * emitted in id order, each once. Discuss's catch-up (discuss_resume.js)
 * runs inside this one, and its cursor is stored with these.
 */
import { CLOSE } from './backoff.js';
import { mobileMessage } from './threads.js';
import { Timers } from './util.js';

/** @typedef {import('./shapes.js').Message} Message */
/** @typedef {import('./shapes.js').ServerConfig} ServerConfig */
/** @typedef {import('./discuss_resume.js').SyncedPages} SyncedPages */

const MAX_SEEN = 10000;

export class Resume {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    // `floor` is where this run started: anything at or below it was delivered before.
    this.cursor = { last: 0, lastMessageId: 0 };
    this.floor = 0;
    /** @type {number | null} the user whose stored state is loaded */
    this.loadedFor = null;
    /** whether the cursors came from `storage` (an earlier run) */
    this.resumed = false;
    /** @type {Set<number>} */
    this.seen = new Set();
    this.catchingUp = false;
    this.catchUpAgain = false;
    /** @type {Message[]} messages that came during a sync */
    this.held = [];
    /** @type {Set<number>} ids of held messages that came from a post's answer */
    this.postIds = new Set();
    /** @type {Promise<number | null> | null} */
    this.run = null;
    this.timers = new Timers(/** @type {const} */ (['save']));
  }

  /** The stored cursors and outbox of the signed-in user (once per user). */
  async load() {
    const client = this.client;
    const config = /** @type {ServerConfig} */ (client.config);
    if (this.loadedFor === config.user.id) return;
    this.loadedFor = null;
    this.seen.clear();
    client._store.use(`${client.options.storageKey}:${client.url}:${client.db ?? ''}:${config.user.id}`);
    const cursor = await client._store.load('cursor');
    this.resumed = Boolean(cursor && Number.isInteger(cursor.last) && Number.isInteger(cursor.lastMessageId));
    if (cursor && this.resumed) {
      this.cursor = { last: Math.max(0, cursor.last), lastMessageId: Math.max(0, cursor.lastMessageId) };
    } else {
      // First run for this user: start after the newest message, history is
      // for `messages()`; a sync from 0 would send every message ever.
      const channels = await client.channels();
      const newest = Math.max(0, ...channels.map((c) => (c.last_message ? c.last_message.id : 0)));
      this.cursor = { last: 0, lastMessageId: newest };
    }
    await client._discussResume.load(this.resumed ? cursor : null);
    this.floor = this.cursor.lastMessageId;
    await client._outbox.restore();
    this.loadedFor = config.user.id;
    this.saveCursor();
    client._outbox.changed();
  }

  /**
   * Fetch what the socket missed. Socket messages wait meanwhile, so that
   * all are emitted in id order. One at a time: a call during a run makes
   * the run sync once more.
   * @returns {Promise<number | null>} how many messages it recovered; null if it failed
   */
  catchUp() {
    if (this.run) {
      this.catchUpAgain = true;
      return this.run;
    }
    this.run = this.runCatchUp().finally(() => {
      this.run = null;
    });
    return this.run;
  }

  async runCatchUp() {
    const client = this.client;
    this.catchingUp = true;
    /** @type {Message[]} */
    const synced = [];
    /** @type {SyncedPages | null} */
    let discussSynced = null;
    let failed = false;
    try {
      do {
        this.catchUpAgain = false;
        // Both at once: mobile channels here, Discuss in discuss_resume.js.
        /** @type {[Message[], SyncedPages | null]} */
        const fetched = await Promise.all([this.fetch(), client._discussResume.fetch(discussSynced)]);
        synced.push(...fetched[0]);
        discussSynced = fetched[1];
      } while (this.catchUpAgain && !client._connection.closedByApp);
    } catch (error) {
      client._emitError(error);
      failed = true;
    } finally {
      this.catchingUp = false;
    }
    const held = this.held;
    this.held = [];
    if (failed) {
      client._discussResume.drop();
      // What the socket brought meanwhile would move the cursor over the
      // gap: drop it and reconnect; the next sync brings it all.
      const connection = client._connection;
      if (connection.ws) {
        connection.dropSocket(CLOSE.CLEAN, 'sync failed');
        connection.onClose(undefined, 'sync failed');
      }
      return null;
    }
    const syncedIds = new Set(synced.map((m) => m.id));
    const before = new Set(this.seen);
    const fresh = this.accept([...synced, ...held], 'sync');
    const recovered = fresh.filter((m) => syncedIds.has(m.id) && !before.has(m.id)).length + client._discussResume.finish(discussSynced);
    client.stats.recovered += recovered;
    return recovered;
  }

  /** Every page of `/bus_mobile/sync` after the cursor. @returns {Promise<Message[]>} */
  async fetch() {
    /** @type {Message[]} */
    const synced = [];
    let after = this.cursor.lastMessageId;
    for (;;) {
      const page = await this.client.sync(after);
      const messages = page && Array.isArray(page.messages) ? page.messages : [];
      synced.push(...messages);
      if (!page.has_more || !messages.length) return synced;
      after = messages[messages.length - 1].id;
    }
  }

  /**
   * Emit the messages not delivered before, in id order.
   * @param {Message[]} messages
   * @param {'socket' | 'sync' | 'post'} source
   * @returns {Message[]} the fresh ones
   */
  accept(messages, source) {
    const client = this.client;
    if (this.catchingUp && source !== 'sync') {
      this.held.push(...messages);
      if (source === 'post') for (const m of messages) this.postIds.add(m.id);
      return [];
    }
    const fresh = [];
    const sorted = [...messages]
      .filter((m) => m && Number.isInteger(m.id))
      .map(mobileMessage)
      .sort((a, b) => a.id - b.id);
    let cursor = this.cursor.lastMessageId;
    for (const message of sorted) {
      if (this.seen.has(message.id) || message.id <= this.floor) {
        client.stats.duplicates += 1;
        continue;
      }
      this.seen.add(message.id);
      // A post's answer does not move the cursor: messages of others below
      // it may still be on their way on the socket.
      if (source !== 'post' && !this.postIds.has(message.id) && message.id > cursor) cursor = message.id;
      fresh.push(message);
    }
    this.postIds.clear();
    if (this.seen.size > MAX_SEEN) {
      // Forget the lowest ids: far below the cursors, neither the bus replay
      // nor the sync can bring them back.
      const keep = [...this.seen].sort((a, b) => a - b).slice(-MAX_SEEN / 2);
      this.seen = new Set(keep);
    }
    if (cursor !== this.cursor.lastMessageId) {
      this.cursor.lastMessageId = cursor;
      this.saveCursor();
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

  /** The socket delivered up to bus notification `last`. @param {number} last */
  advanceBus(last) {
    if (last === this.cursor.last) return;
    this.cursor.last = last;
    this.saveCursor();
  }

  /** The cursors move on every frame: write them at most every 200 ms. */
  saveCursor() {
    if (this.loadedFor === null || this.timers.has('save')) return;
    this.timers.set('save', () => this.flushCursor(), 200);
  }

  flushCursor() {
    if (!this.timers.has('save')) return;
    this.timers.clear('save');
    this.client._store.save('cursor', { ...this.cursor, ...this.client._discussResume.state() });
  }
}
