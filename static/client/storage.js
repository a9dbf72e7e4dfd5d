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

/**
 * The client's own records in the app's storage (cursors, outbox), under a
 * namespace per server, database and user, as JSON. Writes go out in order,
 * one at a time; a storage that fails is reported as an `error` event, and
 * a read that fails reads as nothing stored.
 */
export class ClientStore {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    this.namespace = '';
    /** @type {Promise<void>} */
    this.writes = Promise.resolve();
  }

  /** @param {string} namespace */
  use(namespace) {
    this.namespace = namespace;
  }

  /** @param {string} name */
  async load(name) {
    try {
      const raw = await this.client.storage.getItem(`${this.namespace}:${name}`);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      this.client._emitError(error);
      return null;
    }
  }

  /** @param {string} name @param {any} value */
  save(name, value) {
    const key = `${this.namespace}:${name}`;
    const text = JSON.stringify(value);
    this.writes = this.writes
      .then(() => this.client.storage.setItem(key, text))
      .catch((error) => this.client._emitError(error));
    return this.writes;
  }
}
