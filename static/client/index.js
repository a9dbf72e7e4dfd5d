// @ts-check
/**
 * odoo-bus-mobile: real-time Odoo 18 (the `bus_mobile` addon) for React
 * Native apps and browsers. React hooks: `odoo-bus-mobile/react`.
 */
export { BusMobileClient } from './client.js';
export { BusMobileError, SESSION_EXPIRED } from './errors.js';
export { CLOSE, backoffDelay, closeAction } from './backoff.js';
export { MemoryStorage } from './storage.js';

/** @typedef {import('./options.js').BusMobileOptions} BusMobileOptions */
/** @typedef {import('./shapes.js').BusMobileEvents} BusMobileEvents */
/** @typedef {import('./shapes.js').ConnectionState} ConnectionState */
/** @typedef {import('./shapes.js').Message} Message */
/** @typedef {import('./shapes.js').PendingMessage} PendingMessage */
/** @typedef {import('./shapes.js').Channel} Channel */
/** @typedef {import('./shapes.js').ChannelEvent} ChannelEvent */
/** @typedef {import('./shapes.js').Presence} Presence */
/** @typedef {import('./shapes.js').Typing} Typing */
/** @typedef {import('./shapes.js').Read} Read */
/** @typedef {import('./shapes.js').Notification} Notification */
/** @typedef {import('./shapes.js').ServerConfig} ServerConfig */
/** @typedef {import('./shapes.js').DeviceSignIn} DeviceSignIn */
/** @typedef {import('./options.js').AppStateSource} AppStateSource */
/** @typedef {import('./options.js').NetworkSource} NetworkSource */
/** @typedef {import('./options.js').WebSocketLike} WebSocketLike */
/** @typedef {import('./storage.js').KeyValueStorage} KeyValueStorage */
