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
export function closeAction(code: number | undefined): CloseAction;
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
export function backoffDelay(attempt: number, limits: {
    minDelay: number;
    maxDelay: number;
    tryLaterDelay?: number;
}, action?: CloseAction, random?: () => number): number;
/** Close codes the client gives a meaning to (Odoo's `CloseCode`). */
export const CLOSE: Readonly<{
    CLEAN: 1000;
    GOING_AWAY: 1001;
    ABNORMAL: 1006;
    TRY_LATER: 1013;
    SESSION_EXPIRED: 4001;
    KEEP_ALIVE_TIMEOUT: 4002;
}>;
/**
 * What to do after the server closed the socket:
 * `stop` (a meant close), `reauth` (sign in again first), `now` (the server
 * rotated the socket), `later` (overloaded or rate limited: back off longer),
 * `retry` (a drop or a restart).
 */
export type CloseAction = "stop" | "reauth" | "now" | "later" | "retry";
