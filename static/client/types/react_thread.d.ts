/**
 * The live message list of a conversation: its last page of history, then
 * every new message, and my pending posts after them, each kept in place
 * until the server confirms it (same `client_uuid`). Discuss messages
 * follow their edits, deletions and reactions.
 * @param {ThreadName | null | undefined} threadName a mobile channel id, or `{model: 'discuss.channel', id}`
 * @param {{limit?: number}} [options] page size (default 30)
 * @returns {{messages: (Message | PendingMessage)[], loading: boolean, error: BusMobileError | null,
 *   hasMore: boolean, loadOlder: () => Promise<void>, post: (body: string, options?: PostOptions) => PendingMessage}}
 */
export function useMessages(threadName: ThreadName | null | undefined, { limit }?: {
    limit?: number;
}): {
    messages: (Message | PendingMessage)[];
    loading: boolean;
    error: BusMobileError | null;
    hasMore: boolean;
    loadOlder: () => Promise<void>;
    post: (body: string, options?: PostOptions) => PendingMessage;
};
/**
 * Who is typing in a conversation (partner ids, not mine), and `setTyping`
 * to say I am (throttled by the client). A typing mark lasts `timeout` ms
 * unless renewed; a message from that partner ends it.
 * @param {ThreadName | null | undefined} threadName
 * @param {{timeout?: number}} [options] default 10000
 * @returns {{partnerIds: number[], setTyping: (isTyping: boolean) => void}}
 */
export function useTyping(threadName: ThreadName | null | undefined, { timeout }?: {
    timeout?: number;
}): {
    partnerIds: number[];
    setTyping: (isTyping: boolean) => void;
};
/**
 * Who has seen what in a conversation, and my unread counter: `seen`
 * (partner id -> the last message they have seen, mine included),
 * `seenBy(messageId)` (the others who have seen it: "seen" ticks), and
 * `markRead(messageId)`. Discuss conversations start from the server's
 * state; mobile channels from the read receipts that come.
 * @param {ThreadName | null | undefined} threadName
 * @returns {{seen: Record<number, number>, unreadCount: number | null, seenBy: (messageId: number) => number[],
 *   markRead: (messageId: number) => Promise<void>}}
 */
export function useReadState(threadName: ThreadName | null | undefined): {
    seen: Record<number, number>;
    unreadCount: number | null;
    seenBy: (messageId: number) => number[];
    markRead: (messageId: number) => Promise<void>;
};
/**
 * @typedef {Object} Upload A file being uploaded for a Discuss post.
 * @property {string} key
 * @property {string} name
 * @property {number} loaded bytes sent
 * @property {number} total bytes to send (0: unknown)
 * @property {Attachment | null} attachment once uploaded
 * @property {BusMobileError | Error | null} error if it failed
 */
/**
 * Uploads for a post in a Discuss conversation, with their progress:
 * `upload(file)` starts one; `attachments` are those done, for
 * `post(body, {attachments})`; `clear()` after posting.
 * @param {ThreadName | null | undefined} threadName
 * @returns {{uploads: Upload[], attachments: Attachment[], upload: (file: UploadFile, options?: {name?: string}) => Promise<Attachment | null>,
 *   remove: (key: string) => void, clear: () => void}}
 */
export function useUploads(threadName: ThreadName | null | undefined): {
    uploads: Upload[];
    attachments: Attachment[];
    upload: (file: UploadFile, options?: {
        name?: string;
    }) => Promise<Attachment | null>;
    remove: (key: string) => void;
    clear: () => void;
};
/**
 * A file being uploaded for a Discuss post.
 */
export type Upload = {
    key: string;
    name: string;
    /**
     * bytes sent
     */
    loaded: number;
    /**
     * bytes to send (0: unknown)
     */
    total: number;
    /**
     * once uploaded
     */
    attachment: Attachment | null;
    /**
     * if it failed
     */
    error: BusMobileError | Error | null;
};
export type Message = import("./shapes.js").Message;
export type PendingMessage = import("./shapes.js").PendingMessage;
export type PostOptions = import("./shapes.js").PostOptions;
export type Thread = import("./shapes.js").Thread;
export type ThreadName = import("./shapes.js").ThreadName;
export type Attachment = import("./shapes.js").Attachment;
export type Reaction = import("./shapes.js").Reaction;
export type UploadFile = import("./shapes.js").UploadFile;
export type BusMobileError = import("./errors.js").BusMobileError;
