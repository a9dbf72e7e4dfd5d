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
