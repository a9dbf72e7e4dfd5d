// @ts-check
/**
 * Posts that survive a lost network and an app restart: each post gets a
 * `client_uuid` and waits in the outbox, kept in `storage`, until the
 * server acknowledges it. A retry sends the same `client_uuid`, for which
 * the server returns the first message: never a duplicate. Posts go out one
 * at a time, in order, to mobile channels and Discuss conversations alike.
 */
import { backoffDelay } from './backoff.js';
import { BusMobileError } from './errors.js';
import { isDiscuss, mobileMessage, threadKey } from './threads.js';
import { errorText, Timers, uuid4 } from './util.js';

/** @typedef {import('./shapes.js').PendingMessage} PendingMessage */
/** @typedef {import('./shapes.js').Thread} Thread */

export class Outbox {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    /** @type {PendingMessage[]} oldest first */
    this.items = [];
    this.attempt = 0;
    this.flushing = false;
    this.timers = new Timers(/** @type {const} */ (['retry']));
  }

  /**
   * @param {Thread} thread
   * @param {string} body
   * @param {{partnerIds?: number[], attachments?: import('./shapes.js').Attachment[],
   *   parent?: import('./shapes.js').ParentMessage | null}} [options] Discuss only
   * @returns {PendingMessage}
   */
  post(thread, body, { partnerIds = [], attachments = [], parent = null } = {}) {
    const client = this.client;
    /** @type {PendingMessage} */
    const pending = {
      id: null,
      thread,
      ...(isDiscuss(thread) ? {} : { channel_id: thread.id }),
      message_type: 'comment',
      author_id: client.partnerId,
      author_name: client.config ? client.config.user.name : '',
      body,
      client_uuid: uuid4(),
      create_date: new Date().toISOString(),
      edited: false,
      attachments,
      parent,
      reactions: [],
      pending: true,
    };
    if (isDiscuss(thread)) {
      // What the post sends, beside the body.
      pending.partner_ids = partnerIds;
      pending.attachment_ids = attachments.map((a) => a.id);
      pending.parent_id = parent ? parent.id : null;
    }
    this.items.push(pending);
    this.changed();
    this.flush();
    return pending;
  }

  /** @param {Thread} [thread] */
  pending(thread) {
    if (!thread) return [...this.items];
    const key = threadKey(thread);
    return this.items.filter((m) => threadKey(m.thread) === key);
  }

  /** The stored posts first (an earlier run's), then this run's not among them. */
  async restore() {
    // Posts stored by an earlier version name their channel only.
    const stored = /** @type {PendingMessage[]} */ ((await this.client._store.load('outbox')) || []).map((m) =>
      m.thread ? m : /** @type {PendingMessage} */ ({ ...mobileMessage({ ...m }), id: null, pending: true }),
    );
    const known = new Set(stored.map((m) => m.client_uuid));
    this.items = [...stored, ...this.items.filter((m) => !known.has(m.client_uuid))];
  }

  changed() {
    const client = this.client;
    const outbox = [...this.items];
    if (client._resume.loadedFor !== null) client._store.save('outbox', outbox);
    client.emit('outbox', outbox);
  }

  stop() {
    this.timers.clearAll();
  }

  async flush() {
    const client = this.client;
    // Not before the stored outbox is loaded: posts keep their order.
    if (this.flushing || client._connection.closedByApp || client._resume.loadedFor === null) return;
    this.flushing = true;
    this.timers.clear('retry');
    try {
      while (this.items.length && !client._connection.closedByApp) {
        const entry = this.items[0];
        let message;
        try {
          message = await this.send(entry);
        } catch (error) {
          if (error instanceof BusMobileError && (error.retryable || error.kind === 'session')) {
            // Same client_uuid next time: the server returns the first message.
            const delay = backoffDelay(this.attempt++, client.options, 'retry', client.options.random);
            this.timers.set('retry', () => this.flush(), delay);
            return;
          }
          this.remove(entry.client_uuid);
          const failure = error instanceof BusMobileError ? error : new BusMobileError(errorText(error), { kind: 'rpc' });
          /** @type {any} */ (failure).pending = entry;
          client.emit('error', failure);
          continue;
        }
        this.attempt = 0;
        // The confirmed message first, then the outbox without it: a list
        // built from both never loses the message in between.
        if (isDiscuss(entry.thread)) client._discussResume.accept([message], 'post');
        else client._resume.accept([message], 'post');
        this.remove(entry.client_uuid);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** @param {PendingMessage} entry @returns {Promise<import('./shapes.js').Message>} */
  send(entry) {
    if (isDiscuss(entry.thread)) return this.client._discuss.post(entry);
    return this.client.rpc('/bus_mobile/message/post', {
      channel_id: entry.thread.id,
      body: entry.body,
      client_uuid: entry.client_uuid,
    });
  }

  /** @param {string} clientUuid */
  remove(clientUuid) {
    const before = this.items.length;
    this.items = this.items.filter((m) => m.client_uuid !== clientUuid);
    if (this.items.length !== before) this.changed();
  }
}
