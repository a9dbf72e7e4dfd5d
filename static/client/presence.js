// @ts-check
/**
 * The ephemeral signals: who is online (presence, followed on the socket
 * through Odoo's `odoo-presence-res.partner_<id>` channels) and who is
 * typing (sent throttled).
 */

import { isDiscuss, threadKey } from './threads.js';

/** @typedef {import('./shapes.js').Presence} Presence */
/** @typedef {import('./shapes.js').Thread} Thread */

export class PresenceWatch {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    /** @type {Map<number, number>} watched partner id -> watchers */
    this.watched = new Map();
    /**
     * Partner id -> when the socket last told its status (a count), kept
     * after an unwatch: an answer still on its way is older all the same.
     * @type {Map<number, number>}
     */
    this.heardAt = new Map();
    this.heard = 0;
  }

  /** A status the socket told: newer than any answer still on its way. @param {Presence} presence */
  fromSocket(presence) {
    if (presence && Number.isInteger(presence.partner_id)) this.heardAt.set(presence.partner_id, ++this.heard);
    this.client.emit('presence', presence);
  }

  /**
   * The statuses now. An answer that comes after the socket told a newer
   * status of a partner (a slow request) does not undo it: no event for
   * that partner.
   * @param {number[]} partnerIds @returns {Promise<Presence[]>}
   */
  async fetch(partnerIds) {
    const client = this.client;
    const asked = this.heard;
    const list = /** @type {Presence[]} */ (await client.rpc('/bus_mobile/presence', { partner_ids: partnerIds }));
    for (const presence of list) {
      if ((this.heardAt.get(presence.partner_id) ?? 0) <= asked) client.emit('presence', presence);
    }
    return list;
  }

  /** @param {number[]} partnerIds @returns {() => void} stops watching them */
  watch(partnerIds) {
    const client = this.client;
    const ids = [...new Set(partnerIds)];
    let added = false;
    for (const id of ids) {
      added = added || !this.watched.has(id);
      this.watched.set(id, (this.watched.get(id) ?? 0) + 1);
    }
    if (added) client._frames.subscribe();
    if (ids.length) this.fetch(ids).catch((error) => client._emitError(error));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      let removed = false;
      for (const id of ids) {
        const count = (this.watched.get(id) ?? 1) - 1;
        if (count > 0) this.watched.set(id, count);
        else {
          this.watched.delete(id);
          removed = true;
        }
      }
      if (removed) client._frames.subscribe();
    };
  }

  /** The bus channels of the watched partners, for `subscribe`. */
  busChannels() {
    return [...this.watched.keys()].map((id) => `odoo-presence-res.partner_${id}`);
  }

  /** After a reconnect: the watched partners' current status (changes may have been missed). */
  refresh() {
    if (this.watched.size) this.fetch([...this.watched.keys()]).catch((error) => this.client._emitError(error));
  }
}

export class TypingThrottle {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    /** @type {Map<string, {typing: boolean, at: number}>} thread key -> what was sent last */
    this.sent = new Map();
  }

  /**
   * @param {Thread} thread
   * @param {boolean} isTyping
   * @returns {Promise<boolean>} whether a request was sent
   */
  async send(thread, isTyping) {
    const now = Date.now();
    const key = threadKey(thread);
    const last = this.sent.get(key);
    if (isTyping ? last && last.typing && now - last.at < this.client.options.typingThrottle : !last || !last.typing) {
      return false;
    }
    this.sent.set(key, { typing: isTyping, at: now });
    if (isDiscuss(thread)) await this.client._discuss.typing(thread.id, isTyping);
    else await this.client.rpc('/bus_mobile/typing', { channel_id: thread.id, is_typing: isTyping });
    return true;
  }

  /** A post ends typing on the server: the next `true` goes out at once. @param {Thread} thread */
  forget(thread) {
    this.sent.delete(threadKey(thread));
  }
}
