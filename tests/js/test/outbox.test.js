// The outbox: posts survive an app restart and are never doubled.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { makeClient, pair, closeAll, waitForEvent, waitUntil, sleep, cuttableProxy } from './helpers.js';

afterEach(closeAll);

/** node's fetch, with the post route's network switchable: the phone goes offline. */
function flakyFetch() {
  const control = { mode: 'ok', posts: 0 };
  control.fetch = async (url, init) => {
    if (String(url).endsWith('/bus_mobile/message/post')) {
      control.posts += 1;
      if (control.mode === 'lose-answer') {
        // The server gets the post, the answer is lost on the way back.
        await fetch(url, init);
        control.mode = 'down';
        throw new TypeError('fetch failed (answer lost)');
      }
      if (control.mode === 'down') throw new TypeError('fetch failed (offline)');
    }
    return fetch(url, init);
  };
  return control;
}

test('the outbox survives a client restart over the same storage', async () => {
  const net = flakyFetch();
  const proxy = await cuttableProxy();
  const listeners = new Set();
  const network = { addEventListener: (fn) => (listeners.add(fn), () => listeners.delete(fn)) };
  try {
    const { alice, bob, aliceUser, channel } = await pair({
      alice: { fetch: net.fetch, wsBase: proxy.wsBase, network, minDelay: 60000, maxDelay: 60000 },
    });
    const seen = [];
    bob.on('message', (m) => m.channel_id === channel.id && seen.push(m));
    // Alice's phone goes offline: socket gone, posts fail (the first one
    // reaches the server but its answer is lost).
    for (const fn of listeners) fn({ isConnected: false });
    proxy.cut();
    await waitForEvent(alice, 'state', (s) => s.state === 'reconnecting');
    net.mode = 'lose-answer';
    const posted = ['one', 'two', 'three'].map((body) => alice.post(channel.id, body));
    await waitUntil(() => net.mode === 'down', 'the first post to go out');
    await waitUntil(() => seen.length === 1, 'bob to see the first post');
    assert.deepEqual(alice.pendingMessages(channel.id).map((m) => m.body), ['one', 'two', 'three']);
    assert.equal(net.posts, 1);
    alice.close();
    await alice.flushStorage();

    // The app starts again with the same storage and a working network.
    const again = makeClient(aliceUser, { storage: alice.storage });
    assert.deepEqual(again.pendingMessages(), [], 'nothing in memory: it comes from storage');
    const confirmed = [];
    again.on('message', (m) => m.channel_id === channel.id && confirmed.push(m));
    await again.start();
    await waitUntil(() => again.pendingMessages().length === 0, 'the outbox to empty');
    await waitUntil(() => seen.length >= 3, 'bob to see the three posts');
    await sleep(1000);
    assert.deepEqual(seen.map((m) => m.body), ['one', 'two', 'three'], 'each once, in order');
    assert.deepEqual(seen.map((m) => m.client_uuid), posted.map((p) => p.client_uuid));
    const stored = await bob.messages(channel.id);
    assert.deepEqual(stored.map((m) => m.body), ['one', 'two', 'three'], 'the retry of "one" made no duplicate');
    assert.deepEqual(confirmed.map((m) => m.body), ['one', 'two', 'three'], 'the restarted app shows each once');
  } finally {
    await proxy.close();
  }
});

test('a post the server refuses leaves the outbox with an error', async () => {
  const { alice, channel } = await pair();
  const failed = waitForEvent(alice, 'error', (e) => e.pending);
  const pending = alice.post(channel.id, '   ');
  const error = await failed;
  assert.equal(error.pending.client_uuid, pending.client_uuid);
  assert.equal(error.exceptionName, 'odoo.exceptions.ValidationError');
  assert.deepEqual(alice.pendingMessages(), []);
});
