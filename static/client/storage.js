// @ts-check
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
export class MemoryStorage {
  constructor() {
    /** @type {Map<string, string>} */
    this.map = new Map();
  }

  /** @param {string} key */
  async getItem(key) {
    return this.map.has(key) ? /** @type {string} */ (this.map.get(key)) : null;
  }

  /** @param {string} key @param {string} value */
  async setItem(key, value) {
    this.map.set(key, String(value));
  }
}
