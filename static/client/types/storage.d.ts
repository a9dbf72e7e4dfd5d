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
 * The part of React Native's AsyncStorage the client uses. Any object with
 * these two methods works (sync or async).
 */
export type KeyValueStorage = {
    getItem: (key: string) => Promise<string | null> | string | null;
    setItem: (key: string, value: string) => Promise<void> | void;
};
