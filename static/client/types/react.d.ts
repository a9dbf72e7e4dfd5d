/**
 * Makes `client` available to the hooks below it, and starts it (unless
 * `autoStart` is false). It never closes the client: call `client.close()`
 * on sign-out.
 * @param {{client: BusMobileClient, autoStart?: boolean, children?: import('react').ReactNode}} props
 */
export function BusMobileProvider({ client, autoStart, children }: {
    client: BusMobileClient;
    autoStart?: boolean;
    children?: import("react").ReactNode;
}): import("react").FunctionComponentElement<import("react").ProviderProps<import("./client.js").BusMobileClient | null>>;
/** The provider's client. @returns {BusMobileClient} */
export function useBusMobileClient(): BusMobileClient;
/** `idle`, `connecting`, `open`, `reconnecting` or `closed`. @returns {ConnectionState} */
export function useConnectionState(): ConnectionState;
/**
 * My channels, kept current: new messages update `last_message` and
 * `unread_count`; channel events and reconnects reload the list.
 * @returns {{channels: Channel[], loading: boolean, error: BusMobileError | null, refresh: () => void}}
 */
export function useChannels(): {
    channels: Channel[];
    loading: boolean;
    error: BusMobileError | null;
    refresh: () => void;
};
/**
 * The live message list of a channel: its last page of history, then every
 * new message in id order, and my pending posts after them, each kept in
 * place until the server confirms it (same `client_uuid`).
 * @param {number | null | undefined} channelId
 * @param {{limit?: number}} [options] page size (default 30)
 * @returns {{messages: (Message | PendingMessage)[], loading: boolean, error: BusMobileError | null,
 *   hasMore: boolean, loadOlder: () => Promise<void>, post: (body: string) => PendingMessage}}
 */
export function useMessages(channelId: number | null | undefined, { limit }?: {
    limit?: number;
}): {
    messages: (Message | PendingMessage)[];
    loading: boolean;
    error: BusMobileError | null;
    hasMore: boolean;
    loadOlder: () => Promise<void>;
    post: (body: string) => PendingMessage;
};
/**
 * Who is typing in a channel (partner ids, not mine), and `setTyping` to
 * say I am (throttled by the client). A typing mark lasts `timeout` ms
 * unless renewed; a message from that partner ends it.
 * @param {number | null | undefined} channelId
 * @param {{timeout?: number}} [options] default 10000
 * @returns {{partnerIds: number[], setTyping: (isTyping: boolean) => void}}
 */
export function useTyping(channelId: number | null | undefined, { timeout }?: {
    timeout?: number;
}): {
    partnerIds: number[];
    setTyping: (isTyping: boolean) => void;
};
/**
 * The presence of `partnerIds` (`im_status`: online, away or offline), live.
 * @param {number[]} partnerIds
 * @returns {Record<number, Presence>}
 */
export function usePresence(partnerIds: number[]): Record<number, Presence>;
export type BusMobileClient = import("./client.js").BusMobileClient;
export type Message = import("./shapes.js").Message;
export type PendingMessage = import("./shapes.js").PendingMessage;
export type Channel = import("./shapes.js").Channel;
export type Presence = import("./shapes.js").Presence;
export type ConnectionState = import("./shapes.js").ConnectionState;
export type BusMobileError = import("./errors.js").BusMobileError;
