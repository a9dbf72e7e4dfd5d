// @ts-check
/**
 * JSON-RPC over `fetch`: one POST per call, with the client's credentials, a
 * timeout, and every failure turned into a `BusMobileError` whose `kind`
 * says what to do (`network` and 5xx: retry; `session`: sign in again;
 * `rpc`: Odoo refused, `exceptionName` says why).
 */
import { BusMobileError, SESSION_EXPIRED } from './errors.js';
import { errorText } from './util.js';

/**
 * The bearer token was refused (HTTP 401): a `session` error (sign in again)
 * whose `reason` says why.
 * @param {string} route
 * @param {Response} response
 */
async function tokenRefused(route, response) {
  const answer = await response.json().catch(() => null);
  const data = (answer && answer.error && answer.error.data) || {};
  const message = data.message || 'the bearer token was refused';
  return new BusMobileError(`${route}: ${message}`, {
    kind: 'session',
    exceptionName: data.name || null,
    route,
    status: 401,
    reason: String(message).split(':')[0],
  });
}

export class JsonRpc {
  /** @param {import('./client.js').BusMobileClient} client */
  constructor(client) {
    this.client = client;
    this.fetch = client.options.fetch ?? globalThis.fetch?.bind(globalThis);
    this.lastId = 0;
  }

  /**
   * One call, as it is: an expired session is the caller's to renew.
   * @param {string} route
   * @param {Record<string, any>} params
   * @param {{auth?: boolean}} [how] `auth: false` sends no credentials (sign-in routes)
   * @returns {Promise<any>} the JSON-RPC result
   */
  async call(route, params, { auth = true } = {}) {
    const client = this.client;
    if (!this.fetch) throw new TypeError('BusMobileClient: no fetch (pass the `fetch` option)');
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'call', params, id: ++this.lastId });
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), client.options.timeout) : null;
    try {
      let response;
      try {
        response = await this.fetch(client.url + route, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...(auth ? client._auth.headers() : {}) },
          body,
          signal: controller?.signal,
        });
      } catch (cause) {
        throw new BusMobileError(`${route}: no answer from ${client.url} (${errorText(cause)})`, { kind: 'network', route, cause });
      }
      if (!client.token) client._auth.noteSessionCookie(response);
      if (response.status === 401) throw await tokenRefused(route, response);
      if (response.status !== 200) {
        const text = await response.text().catch(() => '');
        const hint = response.status === 404 && route.startsWith('/bus_mobile/') ? ' (is bus_mobile installed in this database?)' : '';
        throw new BusMobileError(`${route}: HTTP ${response.status}${hint} ${text.slice(0, 200)}`.trim(), { kind: 'http', route, status: response.status });
      }
      let answer;
      try {
        answer = await response.json();
      } catch (cause) {
        throw new BusMobileError(`${route}: the answer is not JSON-RPC (${errorText(cause)})`, { kind: 'http', route, status: 200, cause });
      }
      if (answer && answer.error) {
        const data = answer.error.data || {};
        const name = data.name || null;
        const message = data.message || answer.error.message || 'server error';
        throw new BusMobileError(`${route}: ${message}`, { kind: name === SESSION_EXPIRED ? 'session' : 'rpc', exceptionName: name, route });
      }
      return answer ? answer.result : undefined;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
