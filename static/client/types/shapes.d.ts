/**
 * `idle`: not started, or suspended in the background; `connecting`: the
 * first connection; `open`: the socket is up; `reconnecting`: it dropped and
 * a new one is on the way (or waits for the network); `closed`: closed by
 * the app, or given up (a clean close by the server, sign-in impossible).
 */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";
/**
 * How a conversation is named (threads.js).
 */
export type Thread = {
    model: "discuss.channel" | "bus_mobile.channel";
    id: number;
};
/**
 * What the methods and hooks take: a
 * mobile channel's id (as in earlier versions), or a thread.
 */
export type ThreadName = number | Thread;
/**
 * A file of a Discuss message.
 */
export type Attachment = {
    id: number;
    name: string;
    mimetype: string;
    /**
     * bytes
     */
    size: number;
    /**
     * the download path on the server (send the client's
     * credentials); null for an upload not posted yet
     */
    url: string | null;
    /**
     * images: the path of the image (append
     * `/<width>x<height>` for a thumbnail); else null
     */
    image_url: string | null;
};
export type Reaction = {
    /**
     * the emoji
     */
    content: string;
    count: number;
    /**
     * who reacted (partners)
     */
    partner_ids: number[];
};
/**
 * The message replied to.
 */
export type ParentMessage = {
    id: number;
    author_id: number | null;
    author_name: string;
    /**
     * plain text
     */
    body: string;
};
export type Mention = {
    partner_id: number;
    name: string;
};
/**
 * A message, in one shape whatever its source
 * (a mobile channel or Discuss, a route or the socket).
 */
export type Message = {
    id: number;
    /**
     * its conversation
     */
    thread: Thread;
    /**
     * mobile channels only: `thread.id` (as in earlier versions)
     */
    channel_id?: number | undefined;
    /**
     * `notification`: mail's
     * system lines ("joined the channel")
     */
    message_type: "comment" | "notification" | string;
    /**
     * partner id (null: a guest or an e-mail sender)
     */
    author_id: number | null;
    author_name: string;
    /**
     * plain text
     */
    body: string;
    /**
     * Discuss: mail's sanitized HTML
     */
    body_html?: string | undefined;
    /**
     * Discuss: the people mentioned
     */
    mentions?: Mention[] | undefined;
    /**
     * ISO 8601 UTC
     */
    create_date: string;
    edited: boolean;
    attachments: Attachment[];
    /**
     * the message replied to
     */
    parent: ParentMessage | null;
    reactions: Reaction[];
    /**
     * the key of the post that made it
     */
    client_uuid: string | null;
    pending: false;
};
/**
 * A post not yet acknowledged by the server.
 */
export type PendingMessage = {
    id: null;
    thread: Thread;
    /**
     * mobile channels only
     */
    channel_id?: number | undefined;
    message_type: "comment";
    author_id: number | null;
    author_name: string;
    body: string;
    client_uuid: string;
    create_date: string;
    edited: false;
    attachments: Attachment[];
    parent: ParentMessage | null;
    reactions: Reaction[];
    pending: true;
    /**
     * Discuss: the mentions the post sends
     */
    partner_ids?: number[] | undefined;
    /**
     * Discuss: the uploads the post sends
     */
    attachment_ids?: number[] | undefined;
    /**
     * Discuss: the message replied to
     */
    parent_id?: number | null | undefined;
};
/**
 * What a Discuss post carries beside its text.
 */
export type PostOptions = {
    /**
     * the people mentioned: the server links each
     * one's `@Name` in the text and notifies them, as the web composer does
     */
    partnerIds?: number[] | undefined;
    /**
     * uploaded with `uploadAttachment()`
     */
    attachments?: Attachment[] | undefined;
    /**
     * the message replied to
     */
    replyTo?: ParentMessage | Message | undefined;
};
/**
 * A mobile channel.
 */
export type Channel = {
    id: number;
    thread: Thread;
    name: string;
    channel_type: "public" | "private" | "direct";
    active: boolean;
    member_partner_ids: number[];
    unread_count?: number | undefined;
    last_message?: Message | null | undefined;
};
/**
 * A member of a Discuss chat or group.
 */
export type DiscussMember = {
    partner_id: number | null;
    name: string;
    im_status: string;
    /**
     * the last message they have seen ("seen" ticks)
     */
    seen_message_id: number | null;
};
/**
 * A Discuss conversation (doc/discuss.md, `channel`).
 */
export type DiscussChannel = {
    id: number;
    thread: Thread;
    channel_type: "chat" | "group" | "channel";
    /**
     * as the web client shows it (a chat: the other person)
     */
    name: string;
    description: string | null;
    member_count: number;
    /**
     * chats and groups (channels: empty)
     */
    members: DiscussMember[];
    /**
     * the web client's counter
     */
    unread_count: number;
    /**
     * the last message I have seen
     */
    seen_message_id: number | null;
    last_message: Message | null;
    /**
     * ISO 8601 UTC (`9999-12-31T23:59:59Z`: until unmuted)
     */
    mute_until: string | null;
    /**
     * null: my default
     */
    notifications: "all" | "mentions" | "no_notif" | null;
};
export type Partner = {
    partner_id: number;
    name: string;
    im_status: string;
};
/**
 * A file to
 * upload: a Blob or File (browsers, node), or React Native's `{uri, name, type}`.
 */
export type UploadFile = Blob | {
    uri: string;
    name?: string;
    type?: string;
};
export type UploadOptions = {
    /**
     * the file name (default: the file's)
     */
    name?: string | undefined;
    onProgress?: ((progress: {
        loaded: number;
        total: number;
    }) => void) | undefined;
    /**
     * cancels the upload
     */
    signal?: AbortSignal | undefined;
    /**
     * Odoo's CSRF token, for a page of the same Odoo
     * signed in by its cookie only (apps send their bearer token instead)
     */
    csrfToken?: string | undefined;
};
export type ReadState = {
    thread: Thread;
    seen_message_id: number | null;
    unread_count: number;
};
/**
 * What `/bus_mobile/config` returns.
 */
export type ServerConfig = {
    websocket_url: string;
    worker_version: string;
    server_version: string;
    user: {
        id: number;
        partner_id: number;
        name: string;
    };
    channels: string[];
    presence: {
        heartbeat_s: number;
        away_after_s: number;
        offline_after_s: number;
    };
    limits: {
        max_body_chars: number;
        page_max: number;
        rate_limit_burst: number;
        rate_limit_delay: number;
    };
    /**
     * whether the
     * server has Discuss (`mail` installed)
     */
    discuss?: {
        available: boolean;
        upload_max_bytes?: number;
        reason?: string;
    } | undefined;
};
/**
 * What `deviceLogin()` resolves to.
 */
export type DeviceSignIn = {
    /**
     * true: call again with `totpCode`
     */
    totpRequired: boolean;
    /**
     * the device token (shown once: keep it)
     */
    token?: string | undefined;
    /**
     * ISO 8601 UTC; each use renews it
     */
    expiresAt?: string | undefined;
    device?: {
        id: number;
        device_uuid: string;
        platform: string;
        app_version: string | null;
        status: string;
    } | undefined;
    user?: {
        id: number;
        partner_id: number;
        name: string;
    } | undefined;
};
export type Presence = {
    partner_id: number;
    im_status: string;
    last_seen: string | null;
};
export type Typing = {
    thread: Thread;
    channel_id?: number;
    partner_id: number;
    is_typing: boolean;
};
export type Read = {
    thread: Thread;
    channel_id?: number;
    partner_id: number;
    message_id: number;
};
export type Unread = {
    thread: Thread;
    unread_count: number;
};
export type ChannelEvent = {
    event: "created" | "updated" | "member_added" | "member_removed";
    channel: Channel;
    partner_ids: number[];
};
/**
 * A Discuss conversation came, changed or went.
 */
export type DiscussChannelEvent = {
    event: "added" | "updated" | "removed";
    thread: Thread;
    /**
     * `added`: the conversation
     */
    channel?: DiscussChannel | null | undefined;
    /**
     * `updated`: what changed
     */
    changes?: Partial<DiscussChannel> | undefined;
};
/**
 * A Discuss message edited or deleted (empty body, no attachments).
 */
export type MessageUpdate = {
    id: number;
    /**
     * null when the client never saw the message
     */
    thread: Thread | null;
    body: string;
    body_html: string;
    edited: boolean;
    attachments?: Attachment[] | undefined;
    mentions?: Mention[] | undefined;
};
/**
 * Reactions of a Discuss message changed.
 */
export type ReactionsUpdate = {
    thread: Thread | null;
    message_id: number;
    /**
     * the contents that changed (count 0: gone)
     */
    reactions: Reaction[];
};
export type Notification = {
    id: number;
    message: {
        type: string;
        payload: any;
    };
};
export type BusMobileEvents = {
    state: {
        state: ConnectionState;
        previous: ConnectionState;
        code?: number;
        reason?: string;
    };
    /**
     * a new message, once; mobile channels in id order, Discuss in the server's commit order
     */
    message: Message;
    typing: Typing;
    /**
     * someone (or I, elsewhere) has seen up to a message
     */
    read: Read;
    /**
     * Discuss: my unread counter of a conversation was set (read elsewhere)
     */
    unread: Unread;
    /**
     * Discuss: a message was edited or deleted
     */
    messageUpdated: MessageUpdate;
    /**
     * Discuss: reactions changed
     */
    reactions: ReactionsUpdate;
    /**
     * a mobile channel changed
     */
    channel: ChannelEvent;
    /**
     * a Discuss conversation came, changed or went
     */
    discussChannel: DiscussChannelEvent;
    /**
     * Discuss: offline longer than the server keeps
     * its journal; reload the conversations and the pages shown
     */
    discussReset: {
        cursor: number;
    };
    presence: Presence;
    /**
     * every raw bus notification (Discuss ones too)
     */
    notification: Notification;
    error: import("./errors.js").BusMobileError;
    sessionExpired: {
        code?: number;
        route?: string;
    };
    /**
     * after each resume: how many messages the sync recovered
     */
    reconnect: {
        recovered: number;
        opens: number;
    };
    /**
     * the pending posts changed
     */
    outbox: PendingMessage[];
};
