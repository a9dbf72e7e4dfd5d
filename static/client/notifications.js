// @ts-check
/**
 * What the socket brings: frames of bus notifications
 * `[{id, message: {type, payload}}]`, turned into the client's events.
 *
 * Each notification type has a handler in `handlers`; a type without one
 * is only emitted raw (`notification`). A handler that returns true says
 * that my channels changed: the client subscribes again and syncs. Mail's
 * Discuss notifications have theirs in discuss_notifications.js.
 */
import { discussHandlers } from './discuss_notifications.js';
import { mobileChannel, mobileThread } from './threads.js';

/** @typedef {(payload: any) => boolean | void} NotificationHandler */

/** A mobile channel's typing or read payload, with its `thread`. @param {any} payload */
function withThread(payload) {
  return payload && Number.isInteger(payload.channel_id) ? { ...payload, thread: mobileThread(payload.channel_id) } : payload;
}

export class Notifications {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    /** @type {Map<string, NotificationHandler>} notification type -> what it does */
    this.handlers = new Map([
      ['bus_mobile/message', (payload) => void client._resume.accept([payload], 'socket')],
      ['bus_mobile/typing', (payload) => client.emit('typing', withThread(payload))],
      ['bus_mobile/read', (payload) => client.emit('read', withThread(payload))],
      ['bus_mobile/presence', (payload) => client._presence.fromSocket(payload)],
      [
        'bus_mobile/channel',
        (payload) => {
          client.emit('channel', payload && payload.channel ? { ...payload, channel: mobileChannel(payload.channel) } : payload);
          return true;
        },
      ],
      ...discussHandlers(client),
    ]);
  }

  /** One frame from the socket. @param {any} data */
  receive(data) {
    const client = this.client;
    let notifications;
    try {
      notifications = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      return;
    }
    if (!Array.isArray(notifications)) return;
    client._connection.frameReceived();
    let last = client._resume.cursor.last;
    let channelsChanged = false;
    for (const notification of notifications) {
      if (!notification || !notification.message) continue;
      if (Number.isInteger(notification.id) && notification.id > last) last = notification.id;
      client.emit('notification', notification);
      const { type, payload } = notification.message;
      const handler = this.handlers.get(type);
      try {
        if (handler && handler(payload)) channelsChanged = true;
      } catch (error) {
        // A payload the client cannot read costs that notification only.
        client._emitError(error);
      }
    }
    client._resume.advanceBus(last);
    if (channelsChanged) {
      // A channel was made or I was added: subscribe again (the server adds
      // my channels), then sync what it got before the subscription.
      client._frames.subscribe();
      client._resume.catchUp();
    }
  }
}
