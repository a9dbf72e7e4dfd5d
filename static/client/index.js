// @ts-check
/**
 * odoo-bus-mobile: real-time Odoo 18 (the `bus_mobile` addon) for React
 * Native apps and browsers. React hooks: `odoo-bus-mobile/react`.
 */
export { BusMobileClient } from './client.js';
export { BusMobileError, SESSION_EXPIRED } from './errors.js';
export { CLOSE, backoffDelay, closeAction } from './backoff.js';
export { MemoryStorage } from './storage.js';
