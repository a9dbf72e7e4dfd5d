export class Auth {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    /** @type {Promise<boolean> | null} */
    reauthPromise: Promise<boolean> | null;
    /** The headers every request and the socket carry: the one place auth is added. */
    headers(): Record<string, string>;
    /**
     * Whether the socket carries a one-time ticket instead of the bearer
     * token: a browser sets no header on a WebSocket, and the token must
     * not travel in a URL (logs, history). Needs a token; the `socketTicket`
     * option decides, else a browser does (a `document`, not React Native,
     * and no `WebSocket` or `createWebSocket` of the app's, which may send
     * headers).
     */
    usesSocketTicket(): boolean;
    /**
     * A new ticket for the next socket when it needs one (`/bus_mobile/socket/ticket`:
     * it opens one socket, within seconds), else null.
     * @returns {Promise<string | null>}
     */
    socketTicket(): Promise<string | null>;
    /** Odoo sets the cookie on login and when it rotates the session. @param {Response} response */
    noteSessionCookie(response: Response): void;
    /** The device's id: the option, else the one kept in `storage`, else a new one (kept). */
    ensureDeviceUuid(): Promise<void>;
    /**
     * @param {{db?: string, login: string, password: string}} credentials
     * @returns {Promise<any>} Odoo's session info (`uid`, ...)
     */
    login({ db, login, password }: {
        db?: string;
        login: string;
        password: string;
    }): Promise<any>;
    /**
     * @param {{db?: string, login: string, password: string, totpCode?: string,
     *   platform?: 'ios' | 'android' | 'web' | 'other', appVersion?: string}} credentials
     * @returns {Promise<import('./shapes.js').DeviceSignIn>}
     */
    deviceLogin({ db, login, password, totpCode, platform, appVersion }: {
        db?: string;
        login: string;
        password: string;
        totpCode?: string;
        platform?: "ios" | "android" | "web" | "other";
        appVersion?: string;
    }): Promise<import("./shapes.js").DeviceSignIn>;
    /** `/bus_mobile/device/logout`, then close the client. */
    signOut(): Promise<void>;
    /** `/web/session/destroy`, then close the client. */
    logout(): Promise<void>;
    /** What requests and the socket carry now: the token, else the session id. */
    credential(): string | null;
    /**
     * The session expired: call the app's `reauthenticate`, once for every
     * caller waiting meanwhile. A caller refused for a credential that was
     * replaced since (a request or socket older than the last sign-in) gets
     * yes at once: signing in again would replace a session that works.
     * @param {string | null} [refused] the credential the refused request or socket carried
     * @returns {Promise<boolean>} whether a new session is there
     */
    reauthenticate(refused?: string | null): Promise<boolean>;
}
