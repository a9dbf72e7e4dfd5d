// The outbox: posts survive an app restart and are never doubled.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { makeClient, pair, closeAll, waitForEvent, waitUntil, cuttableProxy } from './helpers.js';

afterEach(closeAll);

/**
 * node's fetch, with the post route's network switchable: the phone goes
 * offline. `uuids`: the client_uuid of every post that was tried.
 */
function flakyFetch() {
  const control = { mode: 'ok', posts: 0, uuids: [] };
  control.fetch = async (url, init) => {
    if (String(url).endsWith('/bus_mobile/message/post')) {
      control.posts += 1;
      control.uuids.push(JSON.parse(init.body).params.client_uuid);
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
    // A sentinel posted after them: a late duplicate would come before it.
    const sentinel = again.post(channel.id, 'sentinel');
    await waitUntil(() => seen.some((m) => m.client_uuid === sentinel.client_uuid), 'bob to see the sentinel');
    await waitUntil(() => confirmed.some((m) => m.client_uuid === sentinel.client_uuid), 'the app to show the sentinel');
    assert.deepEqual(seen.map((m) => m.body), ['one', 'two', 'three', 'sentinel'], 'each once, in order');
    assert.deepEqual(seen.slice(0, 3).map((m) => m.client_uuid), posted.map((p) => p.client_uuid));
    const stored = await bob.messages(channel.id);
    assert.deepEqual(stored.map((m) => m.body), ['one', 'two', 'three', 'sentinel'], 'the retry of "one" made no duplicate');
    assert.deepEqual(confirmed.map((m) => m.body), ['one', 'two', 'three', 'sentinel'], 'the restarted app shows each once');
  } finally {
    await proxy.close();
  }
});

test('the same client retries a post whose answer was lost, once back online: stored and shown once', async () => {
  const net = flakyFetch();
  const proxy = await cuttableProxy();
  const listeners = new Set();
  const network = { addEventListener: (fn) => (listeners.add(fn), () => listeners.delete(fn)) };
  try {
    const { alice, bob, channel } = await pair({
      alice: { fetch: net.fetch, wsBase: proxy.wsBase, network },
    });
    const seenByBob = [];
    bob.on('message', (m) => m.channel_id === channel.id && seenByBob.push(m));
    const shownByAlice = [];
    alice.on('message', (m) => m.channel_id === channel.id && shownByAlice.push(m));
    // Alice's phone loses the network: no socket (her own copy of the post
    // can't confirm it), the post reaches the server, its answer is lost.
    for (const fn of listeners) fn({ isConnected: false });
    proxy.cut();
    await waitForEvent(alice, 'state', (s) => s.state === 'reconnecting');
    net.mode = 'lose-answer';
    const pending = alice.post(channel.id, 'said once');
    await waitUntil(() => net.mode === 'down', 'the post to reach the server');
    await waitUntil(() => seenByBob.length === 1, 'bob to see the post');
    assert.deepEqual(alice.pendingMessages(channel.id).map((m) => m.client_uuid), [pending.client_uuid], 'still pending: its answer never came');
    assert.deepEqual(shownByAlice, []);

    // The network comes back: the same client instance tries again.
    net.mode = 'ok';
    const open = waitForEvent(alice, 'state', (s) => s.state === 'open');
    for (const fn of listeners) fn({ isConnected: true });
    await open;
    await waitUntil(() => alice.pendingMessages().length === 0, 'the outbox to empty');
    // A sentinel posted after the retry: once bob has it, a copy of the
    // retried post would have come before it.
    const sentinel = alice.post(channel.id, 'after the retry');
    await waitUntil(() => seenByBob.some((m) => m.client_uuid === sentinel.client_uuid), 'bob to see the sentinel');
    await waitUntil(() => shownByAlice.some((m) => m.client_uuid === sentinel.client_uuid), 'alice to show the sentinel');

    assert.ok(net.posts >= 2, `the post was tried again (${net.posts} attempts)`);
    assert.deepEqual(new Set(net.uuids.slice(0, -1)), new Set([pending.client_uuid]), 'every attempt carried the same client_uuid');
    assert.deepEqual(seenByBob.map((m) => m.body), ['said once', 'after the retry'], 'the other client got it once');
    assert.equal(seenByBob[0].client_uuid, pending.client_uuid);
    const stored = await bob.messages(channel.id);
    assert.deepEqual(stored.map((m) => m.body), ['said once', 'after the retry'], 'the server stored it once');
    const mine = shownByAlice.filter((m) => m.body === 'said once');
    assert.equal(mine.length, 1, `alice showed it once: ${JSON.stringify(shownByAlice)}`);
    assert.equal(mine[0].id, seenByBob[0].id);
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
