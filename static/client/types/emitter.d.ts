/**
 * A minimal typed event emitter: `on` returns the function that removes the
 * listener, which is what React effects want to return.
 * @template {Record<string, any>} Events
 */
export class Emitter<Events extends Record<string, any>> {
    /** @type {Map<keyof Events, Set<(data: any) => void>>} */
    _listeners: Map<keyof Events, Set<(data: any) => void>>;
    /**
     * @template {keyof Events} K
     * @param {K} event
     * @param {(data: Events[K]) => void} listener
     * @returns {() => void} removes the listener
     */
    on<K extends keyof Events>(event: K, listener: (data: Events[K]) => void): () => void;
    /**
     * @template {keyof Events} K
     * @param {K} event
     * @param {(data: Events[K]) => void} listener
     */
    off<K extends keyof Events>(event: K, listener: (data: Events[K]) => void): void;
    /**
     * @template {keyof Events} K
     * @param {K} event
     * @param {Events[K]} data
     */
    emit<K extends keyof Events>(event: K, data: Events[K]): void;
}
