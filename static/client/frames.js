// @ts-check
/**
 * What the client sends on the socket: `subscribe` (its channels and the
 * bus cursor to replay from) and `update_presence` (the heartbeat), within
 * Odoo's rate limit.
 */
import { Timers } from './util.js';

export class Frames {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    /** @type {Map<string, any>} frames waiting for the rate limit, latest wins */
    this.pending = new Map();
    /** @type {number[]} when the frames of the current window went out */
    this.sentAt = [];
    this.timers = new Timers(/** @type {const} */ (['heartbeat', 'drain']));
  }

  /** A new socket: a new rate-limit window, nothing left to send. */
  reset() {
    this.sentAt = [];
    this.pending.clear();
  }

  /** The socket is gone: no heartbeat, nothing left to send. */
  stop() {
    this.timers.clearAll();
    this.pending.clear();
  }

  /** My channels (the server adds the mobile ones), the app's, and the watched presences. */
  subscribe() {
    const client = this.client;
    const channels = [
      ...new Set([...(client.config ? client.config.channels : []), ...(client.options.channels ?? []), ...client._presence.busChannels()]),
    ];
    this.send('subscribe', { channels, last: client._resume.cursor.last });
  }

  heartbeat() {
    const client = this.client;
    const appState = client._connection.appState;
    this.timers.clear('heartbeat');
    // im_status_ids_by_model: stock ir.websocket requires the key.
    this.send('update_presence', { inactivity_period: 0, im_status_ids_by_model: {}, app_state: appState });
    if (appState === 'foreground' && client._connection.ws) {
      const seconds = (client.config && client.config.presence.heartbeat_s) || 30;
      this.timers.set('heartbeat', () => this.heartbeat(), seconds * 1000);
    }
  }

  /**
   * Send a frame within Odoo's rate limit (`rate_limit_burst` frames per
   * `burst * rate_limit_delay` seconds, or it closes with 1013). Frames of
   * one kind replace each other while they wait: only the latest counts.
   * @param {string} eventName
   * @param {any} data
   */
  send(eventName, data) {
    if (!this.client._connection.ws) return;
    this.pending.set(eventName, data);
    this.drain();
  }

  drain() {
    const client = this.client;
    this.timers.clear('drain');
    const ws = client._connection.ws;
    if (!ws || ws.readyState !== 1) return;
    const limits = client.config ? client.config.limits : { rate_limit_burst: 10, rate_limit_delay: 0.2 };
    // Keep a margin: the socket's pongs count too.
    const budget = Math.max(1, limits.rate_limit_burst - 3);
    const windowMs = limits.rate_limit_burst * limits.rate_limit_delay * 1000 + 100;
    const now = Date.now();
    this.sentAt = this.sentAt.filter((at) => now - at < windowMs);
    for (const [eventName, data] of this.pending) {
      if (this.sentAt.length >= budget) break;
      this.pending.delete(eventName);
      this.sentAt.push(now);
      try {
        ws.send(JSON.stringify({ event_name: eventName, data }));
      } catch (error) {
        client._emitError(error, 'network');
      }
    }
    if (this.pending.size) {
      this.timers.set('drain', () => this.drain(), Math.max(10, this.sentAt[0] + windowMs - now));
    }
  }
}
