// @ts-check
/** Odoo's exception name when the session is not valid any more. */
export const SESSION_EXPIRED = 'odoo.http.SessionExpiredException';

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
  constructor(message, details) {
    super(message);
    this.name = 'BusMobileError';
    /** @type {ErrorKind} */
    this.kind = details.kind;
    /** Odoo's exception, e.g. `odoo.exceptions.AccessError` (rpc and session errors). */
    this.exceptionName = details.exceptionName ?? null;
    /** The JSON-RPC route, when the error came from one. */
    this.route = details.route ?? null;
    /** The HTTP status, when there was one. */
    this.status = details.status ?? null;
    /** The socket's close code, for `closed` errors. */
    this.code = details.code ?? null;
    /**
     * Why a bearer token was refused (`INVALID_TOKEN`, `TOKEN_EXPIRED`,
     * `TOKEN_REVOKED`, `USER_ARCHIVED`, `USER_MISMATCH`): HTTP 401, or the
     * reason of a 4001. `USER_ARCHIVED`: an API key of an archived user
     * (signing in again does not help).
     */
    this.reason = details.reason ?? null;
    /** @type {unknown} */
    this.cause = details.cause;
  }

  /** `AccessError` for `odoo.exceptions.AccessError`. */
  get shortName() {
    return this.exceptionName ? this.exceptionName.split('.').pop() ?? null : null;
  }

  /** Worth trying again later (network errors, 5xx, 429). */
  get retryable() {
    return (
      this.kind === 'network' ||
      (this.kind === 'http' && this.status !== null && (this.status >= 500 || this.status === 429 || this.status === 408))
    );
  }
}
