// Signing in from an app: device tokens, the two-factor step, bearer tokens
// on the routes and the socket, sign-out and revocation (live server).
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import WebSocket from 'ws';
import { BusMobileClient, BusMobileError, MemoryStorage } from 'odoo-bus-mobile';
import { URL, DB, WS_BASE, FAST, newUser, callKw, closeAll, waitForEvent, waitUntil } from './helpers.js';

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
  assert.ok(delay < 1000, line);
});
