// @ts-check
/** Small helpers the client's modules share. */

/** @returns {string} a random UUID (an idempotency key, a device id) */
export function uuid4() {
  const c = /** @type {any} */ (globalThis).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  // Hermes has no crypto.randomUUID: good enough for an idempotency key.
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (ch) => {
    const r = (Math.random() * 16) | 0;
    return (ch === 'x' ? r : (r & 0x3) | 0x8).toString(16);
  });
}

/** @param {Record<string, any>} object @returns {Record<string, any>} `object` without its `undefined` values */
export function dropUndefined(object) {
  /** @type {Record<string, any>} */
  const result = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) result[key] = value;
  return result;
}

/**
 * Named timers: each part of the client keeps its own, so that stopping it
 * clears exactly what it started.
 * @template {string} Name
 */
export class Timers {
  /** @param {readonly Name[]} names */
  constructor(names) {
    /** @type {Record<Name, ReturnType<typeof setTimeout> | null>} */
    this.handles = /** @type {any} */ (Object.fromEntries(names.map((name) => [name, null])));
  }

  /** @param {Name} name @returns {boolean} whether it is set */
  has(name) {
    return this.handles[name] !== null;
  }

  /** Replaces a timer of the same name. @param {Name} name @param {() => void} fn @param {number} ms */
  set(name, fn, ms) {
    this.clear(name);
    this.handles[name] = setTimeout(fn, ms);
  }

  /** @param {Name} name */
  clear(name) {
    const timer = this.handles[name];
    if (timer) clearTimeout(timer);
    this.handles[name] = null;
  }

  clearAll() {
    for (const name of /** @type {Name[]} */ (Object.keys(this.handles))) this.clear(name);
  }
}

/** A listener source's unsubscribe, whatever its shape. @param {any} subscription @returns {() => void} */
export function remover(subscription) {
  if (typeof subscription === 'function') return subscription;
  if (subscription && typeof subscription.remove === 'function') return () => subscription.remove();
  return () => {};
}

/** @param {unknown} error @returns {string} the message, with its cause's */
export function errorText(error) {
  if (!error) return '';
  if (error instanceof Error) {
    const cause = /** @type {any} */ (error).cause;
    return cause && cause.message ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
