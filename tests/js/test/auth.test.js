// Signing in from an app: device tokens, the two-factor step, bearer tokens
// on the routes and the socket, sign-out and revocation (live server).
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import WebSocket from 'ws';
import { BusMobileClient, BusMobileError, MemoryStorage } from 'odoo-bus-mobile';
import { URL, DB, WS_BASE, FAST, newUser, callKw, closeAll, exclusively, setParam, waitForEvent, waitUntil } from './helpers.js';

afterEach(closeAll);
const LABEL = process.env.BUS_MOBILE_JS_LABEL || 'server';

/** A client that signs in with a device token only (no password kept). */
function tokenClient(options = {}) {
  return new BusMobileClient({ url: URL, db: DB, WebSocket, wsBase: WS_BASE || undefined, storage: new MemoryStorage(), ...FAST, ...options });
}

/** RFC 6238 code of a base32 secret, computed here (HMAC-SHA1, 30 s). */
function totpCode(secret) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1e6).padStart(6, '0');
}

/** Two-factor authentication on, as a person turns it on in Preferences. */
async function enableTotp(user) {
  const web = new BusMobileClient({ url: URL, db: DB });
  await web.login({ login: user.login, password: user.password });
  const call = (model, method, args, kwargs = {}) => web.rpc(`/web/dataset/call_kw/${model}/${method}`, { model, method, args, kwargs });
  let action = await call('res.users', 'action_totp_enable_wizard', [[user.id]]);
  if (action.res_model === 'res.users.identitycheck') {
    await call('res.users.identitycheck', 'write', [[action.res_id], { password: user.password }]);
    action = await call('res.users.identitycheck', 'run_check', [[action.res_id]]);
  }
  const [{ secret }] = await call('auth_totp.wizard', 'read', [[action.res_id], ['secret']]);
  await call('auth_totp.wizard', 'write', [[action.res_id], { code: totpCode(secret) }]);
  await call('auth_totp.wizard', 'enable', [[action.res_id]]);
  return secret;
}

async function deviceOf(user, deviceUuid) {
  const rows = await callKw('bus_mobile.device', 'search_read', [[['user_id', '=', user.id], ['device_uuid', '=', deviceUuid]], ['status', 'signed_in']]);
  return rows[0];
}

test('device sign-in: the token replaces the cookie on routes and socket; sign-out revokes it', async () => {
  const user = await newUser('jstok');
  const client = tokenClient({ platform: 'ios', appVersion: '4.0.0' });
  const signIn = await client.deviceLogin({ login: user.login, password: user.password });
  assert.equal(signIn.totpRequired, false);
  assert.match(signIn.token, /^[0-9a-f]{40}$/);
  assert.equal(client.token, signIn.token);
  assert.equal(client.sessionId, null);
  assert.equal(signIn.user.id, user.id);
  assert.equal(signIn.device.device_uuid, client.deviceUuid);
  assert.equal(signIn.device.platform, 'ios');
  await client.start();
  assert.equal(client.state, 'open');
  assert.equal(client.config.user.id, user.id);
  await waitUntil(async () => (await deviceOf(user, client.deviceUuid)).status === 'online', 'the device online');
  const token = client.token;
  await client.signOut();
  assert.equal(client.token, null);
  const replay = tokenClient({ token });
  await assert.rejects(replay.channels(), (e) => e instanceof BusMobileError && e.kind === 'session' && e.status === 401 && e.reason === 'TOKEN_REVOKED');
  await waitUntil(async () => (await deviceOf(user, client.deviceUuid)).status === 'offline', 'the device offline');
});

test('a wrong token is refused with its reason', async () => {
  const client = tokenClient({ token: randomBytes(20).toString('hex') });
  await assert.rejects(client.loadConfig(), (e) => e.status === 401 && e.reason === 'INVALID_TOKEN');
});

test('two-factor sign-in: the first answer asks for the code', async () => {
  const user = await newUser('jstotp');
  const secret = await enableTotp(user);
  const client = tokenClient();
  const first = await client.deviceLogin({ login: user.login, password: user.password });
  assert.deepEqual(first, { totpRequired: true });
  assert.equal(client.token, null);
  await assert.rejects(client.deviceLogin({ login: user.login, password: user.password, totpCode: '000000' === totpCode(secret) ? '111111' : '000000' }), (e) => e.exceptionName === 'odoo.exceptions.AccessDenied');
  const second = await client.deviceLogin({ login: user.login, password: user.password, totpCode: totpCode(secret) });
  assert.equal(second.totpRequired, false);
  assert.equal((await client.loadConfig()).user.id, user.id);
});

test('the backend Sign out closes the open socket with 4001 TOKEN_REVOKED', async () => {
  const user = await newUser('jskick');
  const client = tokenClient();
  await client.deviceLogin({ login: user.login, password: user.password });
  await client.start();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const device = await deviceOf(user, client.deviceUuid);
  const failed = waitForEvent(client, 'error', (e) => e.kind === 'session').then((e) => ({ e, at: performance.now() }));
  // From the request (its commit revokes): the close may come before its answer.
  const revokedAt = performance.now();
  await callKw('bus_mobile.device', 'action_bus_mobile_sign_out', [[device.id]]);
  const answeredAt = performance.now();
  const { e: error, at } = await failed;
  const delay = at - revokedAt;
  assert.equal(error.reason, 'TOKEN_REVOKED');
  assert.deepEqual(client.stats.closes.at(-1), { code: 4001, reason: 'TOKEN_REVOKED' });
  assert.equal(client.state, 'closed');
  const line = `JS client, Sign out request -> 4001 (${LABEL}): ${delay.toFixed(0)} ms (the request itself ${(answeredAt - revokedAt).toFixed(0)} ms)`;
  console.log(line);
  if (process.env.BUS_MOBILE_RUN_DIR) appendFileSync(`${process.env.BUS_MOBILE_RUN_DIR}/revocation-delay.txt`, `${line}\n`);
  // The promise is a second from the revocation's commit, which is done by
  // the request's answer: a slow request (a loaded machine) is not the socket's.
  assert.ok(at - answeredAt < 1000, line);
});

// A web build on its own origin (Expo web's dev server), allowed by the administrator.
const APP_ORIGIN = 'http://app.example.test:8081';

/**
 * What a browser's WebSocket does, on `ws`: the app's headers (the third
 * argument) are ignored, the page's Origin is sent. `tamper` may rewrite a
 * URL before it is opened.
 */
function browserWebSocket({ tamper = (url) => url, cookie = null } = {}) {
  const opened = [];
  class BrowserWebSocket extends WebSocket {
    constructor(url, protocols) {
      const actual = tamper(url);
      opened.push(actual);
      // The cookie jar's, when the page shares Odoo's site.
      super(actual, protocols, { origin: APP_ORIGIN, headers: cookie ? { Cookie: cookie } : {} });
    }
  }
  return { BrowserWebSocket, opened };
}

/**
 * Runs `body` as in a browser page: a `document`, the browser's WebSocket,
 * APP_ORIGIN allowed. The origin stays allowed: `make test` runs this file
 * against two servers of one database at once, and one run putting the
 * setting back would refuse the other's sockets (ORIGIN_NOT_ALLOWED). The
 * two runs add it one at a time: two writes of the row at once fail one
 * transaction (a serialization error in the server's log).
 */
async function inBrowser(BrowserWebSocket, body) {
  await exclusively('allowed-origins', async () => {
    const allowed = await callKw('ir.config_parameter', 'get_param', ['bus_mobile.allowed_origins', '']);
    if (!allowed.split(',').map((o) => o.trim()).includes(APP_ORIGIN)) {
      await setParam('bus_mobile.allowed_origins', [allowed.trim(), APP_ORIGIN].filter(Boolean).join(','));
    }
  });
  globalThis.document = {};
  globalThis.WebSocket = BrowserWebSocket;
  try {
    return await body();
  } finally {
    delete globalThis.document;
    delete globalThis.WebSocket;
  }
}

// Clients made here, closed after each test (closeAll knows makeClient's only).
const made = [];
afterEach(() => {
  for (const client of made.splice(0)) client.close();
});

const ticketOf = (url) => new globalThis.URL(url).searchParams.get('ticket');

test('in a browser the socket carries a one-time ticket, never the token; a refused ticket is retried with a new one', async () => {
  const user = await newUser('jsweb');
  let reauths = 0;
  let replayed = null;
  // The second socket replays the first one's ticket: used, the server refuses it (401 INVALID_TICKET).
  const { BrowserWebSocket, opened } = browserWebSocket({
    tamper: (url) => (opened.length === 1 ? ((replayed = url.replace(/ticket=[^&]+/, `ticket=${ticketOf(opened[0])}`)), replayed) : url),
  });
  await inBrowser(BrowserWebSocket, async () => {
    const client = new BusMobileClient({
      url: URL, db: DB, wsBase: WS_BASE || undefined, storage: new MemoryStorage(), platform: 'web', ...FAST,
      reauthenticate: async () => { reauths += 1; },
    });
    made.push(client);
    const expired = [];
    client.on('sessionExpired', (e) => expired.push(e));
    await client.deviceLogin({ login: user.login, password: user.password });
    await client.start();
    assert.equal(opened.length, 1);
    assert.match(ticketOf(opened[0]), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!opened[0].includes(client.token), 'the token is in the socket URL');
    await waitUntil(async () => (await deviceOf(user, client.deviceUuid)).status === 'online', 'the device online');

    // A drop: the next handshake's ticket is refused, the one after gets a new ticket and opens.
    const reopened = waitForEvent(client, 'reconnect');
    client._connection.ws.terminate();
    await reopened;
    assert.equal(opened.length, 3, opened.join('\n'));
    assert.equal(opened[1], replayed);
    assert.equal(client.stats.closes.length, 2, 'the drop and the refused handshake');
    assert.equal(client.stats.closes[1].code, 1006, 'a browser sees a refused handshake as a drop');
    const tickets = opened.map(ticketOf);
    assert.equal(tickets[1], tickets[0]);
    assert.notEqual(tickets[2], tickets[0]);
    assert.deepEqual([reauths, expired.length], [0, 0], 'a refused ticket is not a sign-out');
    assert.equal(client.state, 'open');

    // Signed out elsewhere: the next ticket is refused with the token's reason, and the client stops.
    const device = await deviceOf(user, client.deviceUuid);
    const failed = waitForEvent(client, 'error', (e) => e.kind === 'session');
    await callKw('bus_mobile.device', 'action_bus_mobile_sign_out', [[device.id]]);
    assert.equal((await failed).reason, 'TOKEN_REVOKED');
    await waitUntil(() => client.state === 'closed', 'the client closed');
  });
});

test("in a browser, an app's own WebSocket or a session cookie opens the socket without a ticket", async () => {
  const user = await newUser('jsweb2');
  const { BrowserWebSocket, opened } = browserWebSocket({ cookie: `session_id=${user.sessionId}` });
  await inBrowser(BrowserWebSocket, async () => {
    // The app's WebSocket (ws here) sends the Authorization header.
    const withHeader = tokenClient({ WebSocket });
    made.push(withHeader);
    await withHeader.deviceLogin({ login: user.login, password: user.password });
    await withHeader.start();
    withHeader.close();
    assert.deepEqual(opened, []);
    // A session cookie, in the browser's WebSocket.
    const withCookie = new BusMobileClient({ url: URL, db: DB, wsBase: WS_BASE || undefined, storage: new MemoryStorage(), sessionId: user.sessionId, ...FAST });
    made.push(withCookie);
    await withCookie.start();
    withCookie.close();
    assert.equal(opened.length, 1);
    assert.equal(ticketOf(opened[0]), null);
  });
});
