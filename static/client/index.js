// @ts-check
/**
 * odoo-bus-mobile: real-time Odoo 18 (the `bus_mobile` addon) for React
 * Native apps and browsers: mobile channels and Odoo Discuss. React hooks:
 * `odoo-bus-mobile/react`.
 */
export { BusMobileClient } from './client.js';
export { BusMobileError, SESSION_EXPIRED } from './errors.js';
export { CLOSE, backoffDelay, closeAction } from './backoff.js';
export { MemoryStorage } from './storage.js';
export { DISCUSS_CHANNEL, MOBILE_CHANNEL, threadKey, toThread } from './threads.js';
export { htmlToText } from './discuss_shape.js';

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
/** @typedef {import('./shapes.js').Thread} Thread */
/** @typedef {import('./shapes.js').ThreadName} ThreadName */
/** @typedef {import('./shapes.js').DiscussChannel} DiscussChannel */
/** @typedef {import('./shapes.js').DiscussMember} DiscussMember */
/** @typedef {import('./shapes.js').DiscussChannelEvent} DiscussChannelEvent */
/** @typedef {import('./shapes.js').Attachment} Attachment */
/** @typedef {import('./shapes.js').Reaction} Reaction */
/** @typedef {import('./shapes.js').ParentMessage} ParentMessage */
/** @typedef {import('./shapes.js').Mention} Mention */
/** @typedef {import('./shapes.js').Partner} Partner */
/** @typedef {import('./shapes.js').PostOptions} PostOptions */
/** @typedef {import('./shapes.js').UploadFile} UploadFile */
/** @typedef {import('./shapes.js').UploadOptions} UploadOptions */
/** @typedef {import('./shapes.js').ReadState} ReadState */
/** @typedef {import('./shapes.js').Unread} Unread */
/** @typedef {import('./shapes.js').MessageUpdate} MessageUpdate */
/** @typedef {import('./shapes.js').ReactionsUpdate} ReactionsUpdate */
/** @typedef {import('./options.js').AppStateSource} AppStateSource */
/** @typedef {import('./options.js').NetworkSource} NetworkSource */
/** @typedef {import('./options.js').WebSocketLike} WebSocketLike */
/** @typedef {import('./storage.js').KeyValueStorage} KeyValueStorage */
