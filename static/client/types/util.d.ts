/** Small helpers the client's modules share. */
/** @returns {string} a random UUID (an idempotency key, a device id) */
export function uuid4(): string;
/** @param {Record<string, any>} object @returns {Record<string, any>} `object` without its `undefined` values */
export function dropUndefined(object: Record<string, any>): Record<string, any>;
/** A listener source's unsubscribe, whatever its shape. @param {any} subscription @returns {() => void} */
export function remover(subscription: any): () => void;
/** @param {unknown} error @returns {string} the message, with its cause's */
export function errorText(error: unknown): string;
/**
 * Named timers: each part of the client keeps its own, so that stopping it
 * clears exactly what it started.
 * @template {string} Name
 */
export class Timers<Name extends string> {
    /** @param {readonly Name[]} names */
    constructor(names: readonly Name[]);
    /** @type {Record<Name, ReturnType<typeof setTimeout> | null>} */
    handles: Record<Name, ReturnType<typeof setTimeout> | null>;
    /** @param {Name} name @returns {boolean} whether it is set */
    has(name: Name): boolean;
    /** Replaces a timer of the same name. @param {Name} name @param {() => void} fn @param {number} ms */
    set(name: Name, fn: () => void, ms: number): void;
    /** @param {Name} name */
    clear(name: Name): void;
    clearAll(): void;
}
