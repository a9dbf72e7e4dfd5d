/**
 * What the socket brings: frames of bus notifications
 * `[{id, message: {type, payload}}]`, turned into the client's events.
 *
 * Each notification type has a handler in `handlers`; a type without one
 * is only emitted raw (`notification`). A handler that returns true says
 * that my channels changed: the client subscribes again and syncs. A module
 * for other notifications (Discuss's, say) adds its own handlers here.
 */
/** @typedef {(payload: any) => boolean | void} NotificationHandler */
export class Notifications {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    /** @type {Map<string, NotificationHandler>} notification type -> what it does */
    handlers: Map<string, NotificationHandler>;
    /** One frame from the socket. @param {any} data */
    receive(data: any): void;
}
export type NotificationHandler = (payload: any) => boolean | void;
