export class JsonRpc {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    fetch: typeof fetch;
    lastId: number;
    /**
     * One call, as it is: an expired session is the caller's to renew.
     * @param {string} route
     * @param {Record<string, any>} params
     * @param {{auth?: boolean}} [how] `auth: false` sends no credentials (sign-in routes)
     * @returns {Promise<any>} the JSON-RPC result
     */
    call(route: string, params: Record<string, any>, { auth }?: {
        auth?: boolean;
    }): Promise<any>;
}
