// Close code 4001: the session ended on the server.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { URL, pair, closeAll, waitForEvent } from './helpers.js';

afterEach(closeAll);

/** Log `sessionId` out on the server, as an admin or a password change would. */
async function destroySession(sessionId) {
  const response = await fetch(`${URL}/web/session/destroy`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: `session_id=${sessionId}` },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: {} }),
  });
  assert.equal(response.status, 200);
}

test('4001: sessionExpired, one re-authentication, then reconnect and catch up', async () => {
  const { alice, bob, channel } = await pair();
  const oldSession = bob.sessionId;
  const expired = waitForEvent(bob, 'sessionExpired', (e) => e.code === 4001);
  await destroySession(oldSession);
  const got = [];
  bob.on('message', (m) => m.channel_id === channel.id && got.push(m.body));
  const delivered = waitForEvent(bob, 'message', (m) => m.body === 'after the logout');
  alice.post(channel.id, 'after the logout'); // the server checks bob's session before delivering
  await expired;
  await delivered;
  assert.equal(bob.stats.reauths, 1);
  assert.notEqual(bob.sessionId, oldSession);
  assert.equal(bob.state, 'open');
  assert.ok(bob.stats.closes.some((c) => c.code === 4001));
  assert.deepEqual(got, ['after the logout']);
});

test('a request that signed in again spares the socket a second sign-in', async () => {
  const { alice, bob, channel } = await pair();
  const oldSession = bob.sessionId;
  await destroySession(oldSession);
  // The socket still carries the old session: its 4001 comes at the next delivery.
  await bob.channels();
  assert.equal(bob.stats.reauths, 1, 'the refused request signed in again');
  const expired = waitForEvent(bob, 'sessionExpired', (e) => e.code === 4001);
  const delivered = waitForEvent(bob, 'message', (m) => m.body === 'after the request');
  alice.post(channel.id, 'after the request');
  await expired;
  await delivered;
  assert.equal(bob.stats.reauths, 1, 'the socket reconnected with the new session');
  assert.equal(bob.state, 'open');
});

test('4001 without a way to sign in again closes the client with a session error', async () => {
  const { alice, bob, channel } = await pair({ bob: { reauthenticate: undefined } });
  const failed = waitForEvent(bob, 'error', (e) => e.kind === 'session');
  const closed = waitForEvent(bob, 'state', (s) => s.state === 'closed');
  await destroySession(bob.sessionId);
  alice.post(channel.id, 'nobody will read this');
  const error = await failed;
  assert.equal(error.code, 4001);
  await closed;
  assert.equal(bob.stats.opens, 1, 'no reconnect');
});
