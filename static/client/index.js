// @ts-check
/**
 * odoo-bus-mobile: real-time Odoo 18 (the `bus_mobile` addon) for React
 * Native apps and browsers. React hooks: `odoo-bus-mobile/react`.
 */
export { BusMobileClient } from './client.js';
export { BusMobileError, SESSION_EXPIRED } from './errors.js';
export { CLOSE, backoffDelay, closeAction } from './backoff.js';
export { MemoryStorage } from './storage.js';

/** @typedef {import('./client.js').BusMobileOptions} BusMobileOptions */
/** @typedef {import('./client.js').BusMobileEvents} BusMobileEvents */
/** @typedef {import('./client.js').ConnectionState} ConnectionState */
/** @typedef {import('./client.js').Message} Message */
/** @typedef {import('./client.js').PendingMessage} PendingMessage */
/** @typedef {import('./client.js').Channel} Channel */
/** @typedef {import('./client.js').ChannelEvent} ChannelEvent */
/** @typedef {import('./client.js').Presence} Presence */
/** @typedef {import('./client.js').Typing} Typing */
/** @typedef {import('./client.js').Read} Read */
/** @typedef {import('./client.js').Notification} Notification */
/** @typedef {import('./client.js').ServerConfig} ServerConfig */
/** @typedef {import('./client.js').AppStateSource} AppStateSource */
/** @typedef {import('./client.js').NetworkSource} NetworkSource */
/** @typedef {import('./client.js').WebSocketLike} WebSocketLike */
/** @typedef {import('./storage.js').KeyValueStorage} KeyValueStorage */
