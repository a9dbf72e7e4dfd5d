/**
 * The Discuss handlers for the client's `Notifications` (notification type -> handler).
 * @param {import('./client.js').BusMobileClient} client
 * @returns {[string, NotificationHandler][]}
 */
export function discussHandlers(client: import("./client.js").BusMobileClient): [string, NotificationHandler][];
export type NotificationHandler = import("./notifications.js").NotificationHandler;
