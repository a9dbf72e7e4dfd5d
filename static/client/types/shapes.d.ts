/**
 * `idle`: not started, or suspended in the background; `connecting`: the
 * first connection; `open`: the socket is up; `reconnecting`: it dropped and
 * a new one is on the way (or waits for the network); `closed`: closed by
 * the app, or given up (a clean close by the server, sign-in impossible).
 */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";
/**
 * A message as the server sends it.
 */
export type Message = {
    id: number;
    channel_id: number;
    /**
     * partner id
     */
    author_id: number;
    author_name: string;
    body: string;
    client_uuid: string | null;
    /**
     * ISO 8601 UTC
     */
    create_date: string;
};
/**
 * A post not yet acknowledged by the server.
 */
export type PendingMessage = {
    id: null;
    channel_id: number;
    author_id: number | null;
    author_name: string;
    body: string;
    client_uuid: string;
    create_date: string;
    pending: true;
};
export type Channel = {
    id: number;
    name: string;
    channel_type: "public" | "private" | "direct";
    active: boolean;
    member_partner_ids: number[];
    unread_count?: number | undefined;
    last_message?: Message | null | undefined;
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
    channel_id: number;
    partner_id: number;
    is_typing: boolean;
};
export type Read = {
    channel_id: number;
    partner_id: number;
    message_id: number;
};
export type ChannelEvent = {
    event: "created" | "updated" | "member_added" | "member_removed";
    channel: Channel;
    partner_ids: number[];
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
     * a new message, once, in id order
     */
    message: Message;
    typing: Typing;
    read: Read;
    channel: ChannelEvent;
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
