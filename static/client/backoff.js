// @ts-check
/** Close codes the client gives a meaning to (Odoo's `CloseCode`). */
export const CLOSE = Object.freeze({
  CLEAN: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  TRY_LATER: 1013,
  SESSION_EXPIRED: 4001,
  KEEP_ALIVE_TIMEOUT: 4002,
});

/**
 * What to do after the server closed the socket:
 * `stop` (a meant close), `reauth` (sign in again first), `now` (the server
 * rotated the socket), `later` (overloaded or rate limited: back off longer),
 * `retry` (a drop or a restart).
 * @typedef {'stop' | 'reauth' | 'now' | 'later' | 'retry'} CloseAction
 */

/**
 * @param {number | undefined} code the close code (1006 or none for a drop)
 * @returns {CloseAction}
 */
export function closeAction(code) {
  switch (code) {
    case CLOSE.CLEAN:
      return 'stop';
    case CLOSE.SESSION_EXPIRED:
      return 'reauth';
    case CLOSE.KEEP_ALIVE_TIMEOUT:
      return 'now';
    case CLOSE.TRY_LATER:
      return 'later';
    default:
      return 'retry';
  }
}

/**
 * Delay before retry number `attempt` (0 first), in ms: full jitter, a
 * random point between `minDelay` and a ceiling that doubles per attempt
 * up to `maxDelay`. Thousands of phones cut off by one server restart then
 * come back spread over the window instead of all in the same second.
 * A `later` close (1013) waits at least `tryLaterDelay`.
 * @param {number} attempt
 * @param {{minDelay: number, maxDelay: number, tryLaterDelay?: number}} limits
 * @param {CloseAction} [action]
 * @param {() => number} [random] in [0, 1)
 */
export function backoffDelay(attempt, limits, action = 'retry', random = Math.random) {
  const { minDelay, maxDelay } = limits;
  if (action === 'now') return 0;
  const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(attempt + 1, 30));
  let low = minDelay;
  let high = Math.max(ceiling, low);
  if (action === 'later') {
    const floor = limits.tryLaterDelay ?? minDelay * 5;
    low = Math.max(low, floor);
    high = Math.max(high, 2 * floor);
  }
  return low + random() * (high - low);
}
