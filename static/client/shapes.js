// @ts-check
/**
 * The shapes the server sends and the events the client emits (types only).
 *
 * A message, a channel, a presence: what the `/bus_mobile/*` routes answer
 * and what the socket's notifications carry (the addon's doc/protocol.md and
 * doc/discuss.md), in the shapes the client gives apps.
 */

/**
 * @typedef {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} ConnectionState
 * `idle`: not started, or suspended in the background; `connecting`: the
 * first connection; `open`: the socket is up; `reconnecting`: it dropped and
 * a new one is on the way (or waits for the network); `closed`: closed by
 * the app, or given up (a clean close by the server, sign-in impossible).
 */

/**
 * @typedef {Object} Thread How a conversation is named (threads.js).
 * @property {'discuss.channel' | 'bus_mobile.channel'} model
 * @property {number} id
 */

/**
 * @typedef {number | Thread} ThreadName What the methods and hooks take: a
 * mobile channel's id (as in earlier versions), or a thread.
 */

/**
 * @typedef {Object} Attachment A file of a Discuss message.
 * @property {number} id
 * @property {string} name
 * @property {string} mimetype
 * @property {number} size bytes
 * @property {string | null} url the download path on the server (send the client's
 *   credentials); null for an upload not posted yet
 * @property {string | null} image_url images: the path of the image (append
 *   `/<width>x<height>` for a thumbnail); else null
 */

/**
 * @typedef {Object} Reaction
 * @property {string} content the emoji
 * @property {number} count
 * @property {number[]} partner_ids who reacted (partners)
 */

/**
 * @typedef {Object} ParentMessage The message replied to.
 * @property {number} id
 * @property {number | null} author_id
 * @property {string} author_name
 * @property {string} body plain text
 */

/** @typedef {{partner_id: number, name: string}} Mention */

/**
 * @typedef {Object} Message A message, in one shape whatever its source
 * (a mobile channel or Discuss, a route or the socket).
 * @property {number} id
 * @property {Thread} thread its conversation
 * @property {number} [channel_id] mobile channels only: `thread.id` (as in earlier versions)
 * @property {'comment' | 'notification' | string} message_type `notification`: mail's
 *   system lines ("joined the channel")
 * @property {number | null} author_id partner id (null: a guest or an e-mail sender)
 * @property {string} author_name
 * @property {string} body plain text
 * @property {string} [body_html] Discuss: mail's sanitized HTML
 * @property {Mention[]} [mentions] Discuss: the people mentioned
 * @property {string} create_date ISO 8601 UTC
 * @property {boolean} edited
 * @property {Attachment[]} attachments
 * @property {ParentMessage | null} parent the message replied to
 * @property {Reaction[]} reactions
 * @property {string | null} client_uuid the key of the post that made it
 * @property {false} pending
 */

/**
 * @typedef {Object} PendingMessage A post not yet acknowledged by the server.
 * @property {null} id
 * @property {Thread} thread
 * @property {number} [channel_id] mobile channels only
 * @property {'comment'} message_type
 * @property {number | null} author_id
 * @property {string} author_name
 * @property {string} body
 * @property {string} client_uuid
 * @property {string} create_date
 * @property {false} edited
 * @property {Attachment[]} attachments
 * @property {ParentMessage | null} parent
 * @property {Reaction[]} reactions
 * @property {true} pending
 * @property {number[]} [partner_ids] Discuss: the mentions the post sends
 * @property {number[]} [attachment_ids] Discuss: the uploads the post sends
 * @property {number | null} [parent_id] Discuss: the message replied to
 */

/**
 * @typedef {Object} PostOptions What a Discuss post carries beside its text.
 * @property {number[]} [partnerIds] the people mentioned: the server links each
 *   one's `@Name` in the text and notifies them, as the web composer does
 * @property {Attachment[]} [attachments] uploaded with `uploadAttachment()`
 * @property {Message | ParentMessage} [replyTo] the message replied to
 */

/**
 * @typedef {Object} Channel A mobile channel.
 * @property {number} id
 * @property {Thread} thread
 * @property {string} name
 * @property {'public' | 'private' | 'direct'} channel_type
 * @property {boolean} active
 * @property {number[]} member_partner_ids
 * @property {number} [unread_count]
 * @property {Message | null} [last_message]
 */

/**
 * @typedef {Object} DiscussMember A member of a Discuss chat or group.
 * @property {number | null} partner_id
 * @property {string} name
 * @property {string} im_status
 * @property {number | null} seen_message_id the last message they have seen ("seen" ticks)
 */

/**
 * @typedef {Object} DiscussChannel A Discuss conversation (doc/discuss.md, `channel`).
 * @property {number} id
 * @property {Thread} thread
 * @property {'chat' | 'group' | 'channel'} channel_type
 * @property {string} name as the web client shows it (a chat: the other person)
 * @property {string | null} description
 * @property {number} member_count
 * @property {DiscussMember[]} members chats and groups (channels: empty)
 * @property {number} unread_count the web client's counter
 * @property {number | null} seen_message_id the last message I have seen
 * @property {Message | null} last_message
 * @property {string | null} mute_until ISO 8601 UTC (`9999-12-31T23:59:59Z`: until unmuted)
 * @property {'all' | 'mentions' | 'no_notif' | null} notifications null: my default
 */

/** @typedef {{partner_id: number, name: string, im_status: string}} Partner */

/**
 * @typedef {Blob | {uri: string, name?: string, type?: string}} UploadFile A file to
 * upload: a Blob or File (browsers, node), or React Native's `{uri, name, type}`.
 */

/**
 * @typedef {Object} UploadOptions
 * @property {string} [name] the file name (default: the file's)
 * @property {(progress: {loaded: number, total: number}) => void} [onProgress]
 * @property {AbortSignal} [signal] cancels the upload
 * @property {string} [csrfToken] Odoo's CSRF token, for a page of the same Odoo
 *   signed in by its cookie only (apps send their bearer token instead)
 */

/** @typedef {{thread: Thread, seen_message_id: number | null, unread_count: number}} ReadState */

/**
 * @typedef {Object} ServerConfig What `/bus_mobile/config` returns.
 * @property {string} websocket_url
 * @property {string} worker_version
 * @property {string} server_version
 * @property {{id: number, partner_id: number, name: string}} user
 * @property {string[]} channels
 * @property {{heartbeat_s: number, away_after_s: number, offline_after_s: number}} presence
 * @property {{max_body_chars: number, page_max: number, rate_limit_burst: number, rate_limit_delay: number}} limits
 * @property {{available: boolean, upload_max_bytes?: number, reason?: string}} [discuss] whether the
 *   server has Discuss (`mail` installed)
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
/** @typedef {{thread: Thread, channel_id?: number, partner_id: number, is_typing: boolean}} Typing */
/** @typedef {{thread: Thread, channel_id?: number, partner_id: number, message_id: number}} Read */
/** @typedef {{thread: Thread, unread_count: number}} Unread */
/** @typedef {{event: 'created' | 'updated' | 'member_added' | 'member_removed', channel: Channel, partner_ids: number[]}} ChannelEvent */
/**
 * @typedef {Object} DiscussChannelEvent A Discuss conversation came, changed or went.
 * @property {'added' | 'updated' | 'removed'} event
 * @property {Thread} thread
 * @property {DiscussChannel | null} [channel] `added`: the conversation
 * @property {Partial<DiscussChannel>} [changes] `updated`: what changed
 */
/**
 * @typedef {Object} MessageUpdate A Discuss message edited or deleted (empty body, no attachments).
 * @property {number} id
 * @property {Thread | null} thread null when the client never saw the message
 * @property {string} body
 * @property {string} body_html
 * @property {boolean} edited
 * @property {Attachment[]} [attachments]
 * @property {Mention[]} [mentions]
 */
/**
 * @typedef {Object} ReactionsUpdate Reactions of a Discuss message changed.
 * @property {Thread | null} thread
 * @property {number} message_id
 * @property {Reaction[]} reactions the contents that changed (count 0: gone)
 */
/** @typedef {{id: number, message: {type: string, payload: any}}} Notification */

/**
 * @typedef {Object} BusMobileEvents
 * @property {{state: ConnectionState, previous: ConnectionState, code?: number, reason?: string}} state
 * @property {Message} message a new message, once; mobile channels in id order, Discuss in the server's commit order
 * @property {Typing} typing
 * @property {Read} read someone (or I, elsewhere) has seen up to a message
 * @property {Unread} unread Discuss: my unread counter of a conversation was set (read elsewhere)
 * @property {MessageUpdate} messageUpdated Discuss: a message was edited or deleted
 * @property {ReactionsUpdate} reactions Discuss: reactions changed
 * @property {ChannelEvent} channel a mobile channel changed
 * @property {DiscussChannelEvent} discussChannel a Discuss conversation came, changed or went
 * @property {{cursor: number}} discussReset Discuss: offline longer than the server keeps
 *   its journal; reload the conversations and the pages shown
 * @property {Presence} presence
 * @property {Notification} notification every raw bus notification (Discuss ones too)
 * @property {import('./errors.js').BusMobileError} error
 * @property {{code?: number, route?: string}} sessionExpired
 * @property {{recovered: number, opens: number}} reconnect after each resume: how many messages the sync recovered
 * @property {PendingMessage[]} outbox the pending posts changed
 */

export {};
