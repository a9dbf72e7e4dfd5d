export class Discuss {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    /** @type {Map<number, string | null>} conversation id -> channel_type (null: not known yet) */
    known: Map<number, string | null>;
    /** @type {Map<number, number>} message id -> conversation id */
    messageThreads: Map<number, number>;
    /** Whether the server said Discuss is there (`/bus_mobile/config`). */
    get available(): boolean;
    /** @param {string} route @param {Record<string, any>} [params] */
    rpc(route: string, params?: Record<string, any>): Promise<any>;
    /** @param {number} id */
    knows(id: number): boolean;
    /** @param {number} id */
    channelType(id: number): string | null;
    /** @param {number} messageId @returns {number | null} */
    threadOfMessage(messageId: number): number | null;
    /** @param {DiscussChannel} channel @returns {DiscussChannel} */
    rememberChannel(channel: DiscussChannel): DiscussChannel;
    /** @param {Message[]} messages @returns {Message[]} in the one shape */
    rememberMessages(messages: Message[]): Message[];
    /**
     * I became a member of a conversation: tell the app with its dict.
     * @param {import('./shapes.js').Thread} thread
     */
    added(thread: import("./shapes.js").Thread): void;
    /** @param {import('./shapes.js').Thread} thread */
    removed(thread: import("./shapes.js").Thread): void;
    /** @returns {Promise<{channels: DiscussChannel[], sync_cursor: number}>} */
    channels(): Promise<{
        channels: DiscussChannel[];
        sync_cursor: number;
    }>;
    /** @param {Promise<DiscussChannel>} answer */
    one(answer: Promise<DiscussChannel>): Promise<import("./shapes.js").DiscussChannel>;
    /**
     * A conversation I made or joined: one the client did not know is
     * followed at once (the socket learns new conversations at subscribe).
     * @param {Promise<DiscussChannel>} answer
     */
    mine(answer: Promise<DiscussChannel>): Promise<import("./shapes.js").DiscussChannel>;
    /** @param {number} id */
    channel(id: number): Promise<import("./shapes.js").DiscussChannel>;
    /** @param {number} partnerId */
    chat(partnerId: number): Promise<import("./shapes.js").DiscussChannel>;
    /** @param {number[]} partnerIds @param {string} [name] */
    createGroup(partnerIds: number[], name?: string): Promise<import("./shapes.js").DiscussChannel>;
    /** @param {number} id @param {number[]} partnerIds */
    addMembers(id: number, partnerIds: number[]): Promise<import("./shapes.js").DiscussChannel>;
    /** @param {number} id */
    join(id: number): Promise<import("./shapes.js").DiscussChannel>;
    /** @param {number} id @returns {Promise<{left: true, thread: import('./shapes.js').Thread}>} */
    leave(id: number): Promise<{
        left: true;
        thread: import("./shapes.js").Thread;
    }>;
    /** @param {number} id @param {number} minutes */
    mute(id: number, minutes: number): Promise<import("./shapes.js").DiscussChannel>;
    /** @param {number} id @param {'all' | 'mentions' | 'no_notif' | null} setting */
    setNotifications(id: number, setting: "all" | "mentions" | "no_notif" | null): Promise<import("./shapes.js").DiscussChannel>;
    /** @param {string} search @param {number} [limit] */
    partners(search: string, limit?: number): Promise<any>;
    /**
     * @param {number} id
     * @param {{before?: number, after?: number, around?: number, limit?: number, search?: string}} page
     * @returns {Promise<{messages: Message[], count?: number}>}
     */
    messages(id: number, { before, after, around, limit, search }: {
        before?: number;
        after?: number;
        around?: number;
        limit?: number;
        search?: string;
    }): Promise<{
        messages: Message[];
        count?: number;
    }>;
    /** @param {number} cursor @param {number} [limit] @returns {Promise<{messages: Message[], cursor: number, has_more: boolean, reset: boolean}>} */
    sync(cursor: number, limit?: number): Promise<{
        messages: Message[];
        cursor: number;
        has_more: boolean;
        reset: boolean;
    }>;
    /** The outbox's post. @param {PendingMessage} entry @returns {Promise<Message>} */
    post(entry: PendingMessage): Promise<Message>;
    /** @param {Promise<Message>} answer */
    changed(answer: Promise<Message>): Promise<import("./shapes.js").Message>;
    /** @param {number} messageId @param {string} body @param {number[]} [partnerIds] */
    edit(messageId: number, body: string, partnerIds?: number[]): Promise<import("./shapes.js").Message>;
    /** @param {number} messageId */
    delete(messageId: number): Promise<import("./shapes.js").Message>;
    /** @param {number} messageId @param {string} content @param {'add' | 'remove'} action */
    react(messageId: number, content: string, action: "add" | "remove"): Promise<import("./shapes.js").Message>;
    /**
     * Seen up to `messageId`; tells this client's own listeners at once (the
     * server tells the others: the web client, my other devices).
     * @param {number} id @param {number} messageId
     * @returns {Promise<{thread: import('./shapes.js').Thread, seen_message_id: number | null, unread_count: number}>}
     */
    markRead(id: number, messageId: number): Promise<{
        thread: import("./shapes.js").Thread;
        seen_message_id: number | null;
        unread_count: number;
    }>;
    /** @param {number} id @param {boolean} isTyping */
    typing(id: number, isTyping: boolean): Promise<any>;
    /**
     * Upload a file for a post in the conversation `id` (multipart, with the
     * client's credentials); `onProgress` follows the bytes sent where the
     * platform tells them (XMLHttpRequest: React Native and browsers).
     * @param {number} id
     * @param {UploadFile} file
     * @param {UploadOptions} [options]
     * @returns {Promise<Attachment>}
     */
    upload(id: number, file: UploadFile, { name, onProgress, signal, csrfToken }?: UploadOptions): Promise<Attachment>;
}
export type SendOptions = {
    total: number;
    onProgress?: (progress: {
        loaded: number;
        total: number;
    }) => void;
    signal?: AbortSignal;
};
export type RawAnswer = {
    status: number;
    text: string;
};
export type Message = import("./shapes.js").Message;
export type DiscussChannel = import("./shapes.js").DiscussChannel;
export type Attachment = import("./shapes.js").Attachment;
export type PendingMessage = import("./shapes.js").PendingMessage;
export type UploadFile = import("./shapes.js").UploadFile;
export type UploadOptions = import("./shapes.js").UploadOptions;
