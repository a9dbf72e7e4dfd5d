/** Odoo's exception name when the session is not valid any more. */
export const SESSION_EXPIRED: "odoo.http.SessionExpiredException";
/**
 * What went wrong:
 * - `rpc`: Odoo answered with a JSON-RPC error (`exceptionName` says which);
 * - `session`: the session expired or is missing (sign in again);
 * - `network`: no answer (offline, timeout, server down);
 * - `http`: an HTTP status that is not JSON-RPC (404: the addon is missing);
 * - `closed`: the server closed the socket for good, or the client was closed.
 * @typedef {'rpc' | 'session' | 'network' | 'http' | 'closed'} ErrorKind
 */
/**
 * The one error class of the client. Server errors carry Odoo's exception
 * name, e.g. `odoo.exceptions.AccessError` or `odoo.exceptions.ValidationError`.
 */
export class BusMobileError extends Error {
    /**
     * @param {string} message
     * @param {{kind: ErrorKind, exceptionName?: string | null, route?: string | null,
     *   status?: number | null, code?: number | null, reason?: string | null, cause?: unknown}} details
     */
    constructor(message: string, details: {
        kind: ErrorKind;
        exceptionName?: string | null;
        route?: string | null;
        status?: number | null;
        code?: number | null;
        reason?: string | null;
        cause?: unknown;
    });
    /** @type {ErrorKind} */
    kind: ErrorKind;
    /** Odoo's exception, e.g. `odoo.exceptions.AccessError` (rpc and session errors). */
    exceptionName: string | null;
    /** The JSON-RPC route, when the error came from one. */
    route: string | null;
    /** The HTTP status, when there was one. */
    status: number | null;
    /** The socket's close code, for `closed` errors. */
    code: number | null;
    /**
     * Why a bearer token was refused (`INVALID_TOKEN`, `TOKEN_EXPIRED`,
     * `TOKEN_REVOKED`, `USER_ARCHIVED`, `USER_MISMATCH`): HTTP 401, or the
     * reason of a 4001. `USER_ARCHIVED`: an API key of an archived user
     * (signing in again does not help).
     */
    reason: string | null;
    /** `AccessError` for `odoo.exceptions.AccessError`. */
    get shortName(): string | null;
    /** Worth trying again later (network errors, 5xx, 429). */
    get retryable(): boolean;
}
/**
 * What went wrong:
 * - `rpc`: Odoo answered with a JSON-RPC error (`exceptionName` says which);
 * - `session`: the session expired or is missing (sign in again);
 * - `network`: no answer (offline, timeout, server down);
 * - `http`: an HTTP status that is not JSON-RPC (404: the addon is missing);
 * - `closed`: the server closed the socket for good, or the client was closed.
 */
export type ErrorKind = "rpc" | "session" | "network" | "http" | "closed";
