// @ts-check
/**
 * A minimal typed event emitter: `on` returns the function that removes the
 * listener, which is what React effects want to return.
 * @template {Record<string, any>} Events
 */
export class Emitter {
  constructor() {
    /** @type {Map<keyof Events, Set<(data: any) => void>>} */
    this._listeners = new Map();
  }

  /**
   * @template {keyof Events} K
   * @param {K} event
   * @param {(data: Events[K]) => void} listener
   * @returns {() => void} removes the listener
   */
  on(event, listener) {
    let set = this._listeners.get(event);
    if (!set) this._listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  /**
   * @template {keyof Events} K
   * @param {K} event
   * @param {(data: Events[K]) => void} listener
   */
  off(event, listener) {
    this._listeners.get(event)?.delete(listener);
  }

  /**
   * @template {keyof Events} K
   * @param {K} event
   * @param {Events[K]} data
   */
  emit(event, data) {
    const set = this._listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(data);
      } catch (error) {
        // A failing listener must not break delivery to the others, nor
        // the client's own state: report it asynchronously, like the DOM.
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }
}
