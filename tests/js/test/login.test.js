// Sign-in and bootstrap against the live server.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { BusMobileClient, BusMobileError } from 'odoo-bus-mobile';
import { URL, DB, newUser, makeClient, closeAll } from './helpers.js';

afterEach(closeAll);

test('login keeps the session and the config comes from the server', async () => {
  const user = await newUser('login');
  const client = makeClient({ ...user, sessionId: undefined });
  const info = await client.login({ login: user.login, password: user.password });
  assert.equal(info.uid, user.id);
  assert.match(client.sessionId ?? '', /^\S{20,}$/);
  await client.start();
  assert.equal(client.state, 'open');
  const config = client.config;
  assert.equal(config.user.partner_id, user.partnerId);
  assert.equal(config.websocket_url, '/bus_mobile/websocket');
  assert.ok(config.presence.heartbeat_s > 0 && config.limits.rate_limit_burst > 0);
  assert.match(config.worker_version, /^\d+\.\d+-\d+$/);
});

test('a wrong password is an error carrying Odoo exception name', async () => {
  const user = await newUser('wrong');
  const client = new BusMobileClient({ url: URL, db: DB });
  await assert.rejects(client.login({ login: user.login, password: 'not the password' }), (error) => {
    assert.ok(error instanceof BusMobileError);
    assert.equal(error.kind, 'rpc');
    assert.equal(error.exceptionName, 'odoo.exceptions.AccessDenied');
    return true;
  });
  assert.equal(client.sessionId, null);
});

test('an existing session id is accepted', async () => {
  const user = await newUser('existing');
  const client = makeClient(user, { reauthenticate: undefined });
  assert.equal(client.sessionId, user.sessionId);
  const channels = await client.channels();
  assert.deepEqual(channels, []);
  await client.start();
  assert.equal(client.state, 'open');
});

test('server errors come as BusMobileError with the exception name', async () => {
  const user = await newUser('errors');
  const client = makeClient(user);
  await assert.rejects(client.messages(999999999), (e) => e instanceof BusMobileError && e.exceptionName === 'odoo.exceptions.MissingError');
  await assert.rejects(client.createChannel({ name: 'x', type: 'nonsense' }), (e) => e instanceof BusMobileError && e.kind === 'rpc' && /ValidationError|UserError/.test(e.exceptionName));
  const anonymous = new BusMobileClient({ url: URL, db: DB });
  await assert.rejects(anonymous.channels(), (e) => e.kind === 'session' && e.exceptionName === 'odoo.http.SessionExpiredException');
});
