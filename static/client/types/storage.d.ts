/**
 * The part of React Native's AsyncStorage the client uses. Any object with
 * these two methods works (sync or async).
 * @typedef {Object} KeyValueStorage
 * @property {(key: string) => Promise<string | null> | string | null} getItem
 * @property {(key: string, value: string) => Promise<void> | void} setItem
 */
/**
 * The default storage: in memory, so nothing survives the process. Pass
 * AsyncStorage in an app; share one MemoryStorage between two clients to
 * simulate an app restart.
 * @implements {KeyValueStorage}
 */
export class MemoryStorage implements KeyValueStorage {
    /** @type {Map<string, string>} */
    map: Map<string, string>;
    /** @param {string} key */
    getItem(key: string): Promise<string | null>;
    /** @param {string} key @param {string} value */
    setItem(key: string, value: string): Promise<void>;
}
/**
 * The client's own records in the app's storage (cursors, outbox), under a
 * namespace per server, database and user, as JSON. Writes go out in order,
 * one at a time; a storage that fails is reported as an `error` event, and
 * a read that fails reads as nothing stored.
 */
export class ClientStore {
    /** @param {import('./client.js').BusMobileClient} client */
    constructor(client: import("./client.js").BusMobileClient);
    client: import("./client.js").BusMobileClient;
    namespace: string;
    /** @type {Promise<void>} */
    writes: Promise<void>;
    /** @param {string} namespace */
    use(namespace: string): void;
    /** @param {string} name */
    load(name: string): Promise<any>;
    /** @param {string} name @param {any} value */
    save(name: string, value: any): Promise<void>;
}
/**
 * The part of React Native's AsyncStorage the client uses. Any object with
 * these two methods works (sync or async).
 */
export type KeyValueStorage = {
    getItem: (key: string) => Promise<string | null> | string | null;
    setItem: (key: string, value: string) => Promise<void> | void;
};
