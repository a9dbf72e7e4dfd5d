/** @typedef {import('./client.js').BusMobileClient} BusMobileClient */
/** @typedef {import('./shapes.js').Message} Message */
/** @typedef {import('./shapes.js').PendingMessage} PendingMessage */
/** @typedef {import('./shapes.js').Channel} Channel */
/** @typedef {import('./shapes.js').DiscussChannel} DiscussChannel */
/** @typedef {import('./shapes.js').Presence} Presence */
/** @typedef {import('./shapes.js').ConnectionState} ConnectionState */
/** @typedef {import('./errors.js').BusMobileError} BusMobileError */
/** @typedef {import('./react_thread.js').Upload} Upload */
/** `idle`, `connecting`, `open`, `reconnecting` or `closed`. @returns {ConnectionState} */
export function useConnectionState(): ConnectionState;
/**
 * My mobile channels, kept current: new messages update `last_message` and
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
 * All my conversations, Discuss's (where the server has it) and the mobile
 * channels, the most recently active first, kept current: new messages,
 * my unread counters (read here or elsewhere), conversations that come,
 * change or go.
 * @returns {{conversations: (DiscussChannel | Channel)[], loading: boolean, error: BusMobileError | null, refresh: () => void}}
 */
export function useConversations(): {
    conversations: (DiscussChannel | Channel)[];
    loading: boolean;
    error: BusMobileError | null;
    refresh: () => void;
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
export type DiscussChannel = import("./shapes.js").DiscussChannel;
export type Presence = import("./shapes.js").Presence;
export type ConnectionState = import("./shapes.js").ConnectionState;
export type BusMobileError = import("./errors.js").BusMobileError;
export type Upload = import("./react_thread.js").Upload;
export type Listen<T> = (reload: () => void, patch: (change: (list: T[]) => T[]) => void) => (() => void)[];
export { BusMobileProvider, useBusMobileClient } from "./react_context.js";
export { useMessages, useReadState, useTyping, useUploads } from "./react_thread.js";
