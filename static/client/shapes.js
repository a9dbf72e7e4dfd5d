// @ts-check
/**
 * The shapes the server sends and the events the client emits (types only).
 *
 * A message, a channel, a presence: what the `/bus_mobile/*` routes answer
 * and what the socket's notifications carry (the addon's doc/protocol.md).
 */

/**
 * @typedef {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} ConnectionState
 * `idle`: not started, or suspended in the background; `connecting`: the
 * first connection; `open`: the socket is up; `reconnecting`: it dropped and
 * a new one is on the way (or waits for the network); `closed`: closed by
 * the app, or given up (a clean close by the server, sign-in impossible).
 */

/**
 * @typedef {Object} Message A message as the server sends it.
 * @property {number} id
 * @property {number} channel_id
 * @property {number} author_id partner id
 * @property {string} author_name
 * @property {string} body
 * @property {string | null} client_uuid
 * @property {string} create_date ISO 8601 UTC
 */

/**
 * @typedef {Object} PendingMessage A post not yet acknowledged by the server.
 * @property {null} id
 * @property {number} channel_id
 * @property {number | null} author_id
 * @property {string} author_name
 * @property {string} body
 * @property {string} client_uuid
 * @property {string} create_date
 * @property {true} pending
 */

/**
 * @typedef {Object} Channel
 * @property {number} id
 * @property {string} name
 * @property {'public' | 'private' | 'direct'} channel_type
 * @property {boolean} active
 * @property {number[]} member_partner_ids
 * @property {number} [unread_count]
 * @property {Message | null} [last_message]
 */

/**
 * @typedef {Object} ServerConfig What `/bus_mobile/config` returns.
 * @property {string} websocket_url
 * @property {string} worker_version
 * @property {string} server_version
 * @property {{id: number, partner_id: number, name: string}} user
 * @property {string[]} channels
 * @property {{heartbeat_s: number, away_after_s: number, offline_after_s: number}} presence
 * @property {{max_body_chars: number, page_max: number, rate_limit_burst: number, rate_limit_delay: number}} limits
 */

/**
 * @typedef {Object} DeviceSignIn What `deviceLogin()` resolves to.
 * @property {boolean} totpRequired true: call again with `totpCode`
 * @property {string} [token] the device token (shown once: keep it)
 * @property {string} [expiresAt] ISO 8601 UTC; each use renews it
 * @property {{id: number, device_uuid: string, platform: string, app_version: string | null, status: string}} [device]
 * @property {{id: number, partner_id: number, name: string}} [user]
 */

/** @typedef {{partner_id: number, im_status: string, last_seen: string | null}} Presence */
/** @typedef {{channel_id: number, partner_id: number, is_typing: boolean}} Typing */
/** @typedef {{channel_id: number, partner_id: number, message_id: number}} Read */
/** @typedef {{event: 'created' | 'updated' | 'member_added' | 'member_removed', channel: Channel, partner_ids: number[]}} ChannelEvent */
/** @typedef {{id: number, message: {type: string, payload: any}}} Notification */

/**
 * @typedef {Object} BusMobileEvents
 * @property {{state: ConnectionState, previous: ConnectionState, code?: number, reason?: string}} state
 * @property {Message} message a new message, once, in id order
 * @property {Typing} typing
 * @property {Read} read
 * @property {ChannelEvent} channel
 * @property {Presence} presence
 * @property {Notification} notification every raw bus notification (Discuss ones too)
 * @property {import('./errors.js').BusMobileError} error
 * @property {{code?: number, route?: string}} sessionExpired
 * @property {{recovered: number, opens: number}} reconnect after each resume: how many messages the sync recovered
 * @property {PendingMessage[]} outbox the pending posts changed
 */

export {};
