// Pure functions of the package: no server needed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, closeAction, CLOSE, BusMobileClient, BusMobileError } from 'odoo-bus-mobile';

const limits = { minDelay: 1000, maxDelay: 30000, tryLaterDelay: 5000 };

test('backoff: full jitter between the min delay and a doubling ceiling, capped', () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = Math.min(30000, 1000 * 2 ** (attempt + 1));
    assert.equal(backoffDelay(attempt, limits, 'retry', () => 0), 1000);
    assert.equal(backoffDelay(attempt, limits, 'retry', () => 0.999999), 1000 + 0.999999 * (ceiling - 1000));
  }
  assert.ok(backoffDelay(50, limits, 'retry', () => 0.999999) <= 30000);
  // Random points spread over the window, not a fixed doubling.
  const delays = new Set(Array.from({ length: 50 }, () => Math.round(backoffDelay(4, limits))));
  assert.ok(delays.size > 10, `delays should be spread: ${[...delays]}`);
});

test('backoff: 1013 waits at least tryLaterDelay, 4002 not at all', () => {
  assert.equal(backoffDelay(0, limits, 'later', () => 0), 5000);
  assert.ok(backoffDelay(0, limits, 'later', () => 0.99) < 10000);
  assert.equal(backoffDelay(7, limits, 'now', () => 0.5), 0);
});

test('close codes: what the client does', () => {
  assert.equal(closeAction(CLOSE.CLEAN), 'stop');
  assert.equal(closeAction(4001), 'reauth');
  assert.equal(closeAction(4002), 'now');
  assert.equal(closeAction(1013), 'later');
  for (const code of [1001, 1006, 1011, undefined]) assert.equal(closeAction(code), 'retry');
});

test('BusMobileError: retryable for network, 5xx and 429 only', () => {
  assert.ok(new BusMobileError('x', { kind: 'network' }).retryable);
  assert.ok(new BusMobileError('x', { kind: 'http', status: 502 }).retryable);
  assert.ok(new BusMobileError('x', { kind: 'http', status: 429 }).retryable);
  assert.ok(!new BusMobileError('x', { kind: 'http', status: 404 }).retryable);
  const rpc = new BusMobileError('x', { kind: 'rpc', exceptionName: 'odoo.exceptions.AccessError' });
  assert.ok(!rpc.retryable);
  assert.equal(rpc.shortName, 'AccessError');
});

test('socket tickets: a browser with a bearer token uses one, React Native and node do not', () => {
  const saved = { document: globalThis.document, navigator: Object.getOwnPropertyDescriptor(globalThis, 'navigator') };
  const setNavigator = (value) => Object.defineProperty(globalThis, 'navigator', { value, configurable: true, writable: true });
  const uses = (options = {}) => new BusMobileClient({ url: 'https://odoo.example', token: 'secret', ...options })._auth.usesSocketTicket();
  try {
    delete globalThis.document;
    setNavigator(undefined);
    assert.equal(uses(), false, 'node: no document');
    globalThis.document = {};
    setNavigator({ product: 'Gecko' });
    assert.equal(uses(), true, 'a browser');
    assert.equal(uses({ token: undefined }), false, 'a cookie needs no ticket');
    assert.equal(uses({ WebSocket: class {} }), false, "the app's WebSocket may send headers");
    assert.equal(uses({ createWebSocket: () => ({}) }), false);
    assert.equal(uses({ socketTicket: false }), false, 'the option wins');
    setNavigator({ product: 'ReactNative' });
    assert.equal(uses(), false, 'React Native sets the header');
    assert.equal(uses({ socketTicket: true, WebSocket: class {} }), true, 'the option wins');
  } finally {
    if (saved.document === undefined) delete globalThis.document;
    else globalThis.document = saved.document;
    if (saved.navigator) Object.defineProperty(globalThis, 'navigator', saved.navigator);
    else delete globalThis.navigator;
  }
});

test('presence: an answer slower than the socket does not undo what the socket told', async () => {
  const answers = [];
  const client = new BusMobileClient({
    url: 'http://127.0.0.1:9',
    // Each /bus_mobile/presence answer waits until the test gives it.
    fetch: () => new Promise((resolve) => answers.push(resolve)),
  });
  const statuses = [];
  client.on('presence', (p) => statuses.push(`${p.partner_id}:${p.im_status}`));
  const answer = (result) =>
    answers.shift()(new Response(JSON.stringify({ jsonrpc: '2.0', id: 1, result }), { headers: { 'Content-Type': 'application/json' } }));
  const fromSocket = (payload) => client._notifications.receive(JSON.stringify([{ id: 1, message: { type: 'bus_mobile/presence', payload } }]));

  const slow = client.presence([7, 8]);
  while (!answers.length) await new Promise((resolve) => setTimeout(resolve, 1));
  fromSocket({ partner_id: 7, im_status: 'away' });
  answer([
    { partner_id: 7, im_status: 'online' },
    { partner_id: 8, im_status: 'offline' },
  ]);
  assert.equal((await slow).length, 2, 'the answer itself is returned whole');
  // 7's answer is older than the socket's news; 8 had none.
  assert.deepEqual(statuses, ['7:away', '8:offline']);
  // A question asked after the socket's news gets its answer.
  const later = client.presence([7]);
  while (!answers.length) await new Promise((resolve) => setTimeout(resolve, 1));
  answer([{ partner_id: 7, im_status: 'offline' }]);
  await later;
  assert.deepEqual(statuses, ['7:away', '8:offline', '7:offline']);
  // Watched, unwatched, watched again while the first answer is on its
  // way: the socket's news in between still wins over that answer.
  const stopFirst = client.watchPresence([9]);
  while (!answers.length) await new Promise((resolve) => setTimeout(resolve, 1));
  const firstAnswer = answers.shift();
  fromSocket({ partner_id: 9, im_status: 'away' });
  stopFirst();
  client.watchPresence([9]);
  while (!answers.length) await new Promise((resolve) => setTimeout(resolve, 1));
  answers.unshift(firstAnswer);
  answer([{ partner_id: 9, im_status: 'online' }]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(statuses.slice(3), ['9:away']);
  client.close();
});
