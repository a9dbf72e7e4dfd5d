// Reconnect and resume: nothing lost, nothing twice, in id order.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { makeClient, newUser, pair, closeAll, waitForEvent, waitUntil, cuttableProxy, sleep } from './helpers.js';

afterEach(closeAll);
const COUNT = 40;

/** Alice posts 1..COUNT (the outbox retries), `middle()` runs after COUNT/2. */
async function numberedPosts(alice, bob, channel, middle) {
  const run = randomUUID().slice(0, 8);
  const seen = [];
  const off = bob.on('message', (m) => {
    if (m.channel_id === channel.id && m.body.startsWith(run)) seen.push(m);
  });
  for (let seq = 1; seq <= COUNT; seq++) {
    if (seq === COUNT / 2 + 1) await middle(seen);
    alice.post(channel.id, `${run} seq ${seq}`);
    await sleep(20);
  }
  await waitUntil(() => new Set(seen.map((m) => m.id)).size >= COUNT, `${COUNT} messages on bob's side (got ${seen.length})`, 120000);
  // A sentinel posted after them: a late duplicate would come before it.
  const sentinel = alice.post(channel.id, `${run} sentinel`);
  await waitUntil(() => seen.some((m) => m.client_uuid === sentinel.client_uuid), 'the sentinel on bob\'s side', 30000);
  off();
  const seqs = seen.filter((m) => m.client_uuid !== sentinel.client_uuid).map((m) => Number(m.body.split(' ').pop()));
  assert.deepEqual(seqs, Array.from({ length: COUNT }, (_, i) => i + 1), 'each message once, in order');
  const ids = seen.map((m) => m.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'emitted in id order');
  const stored = (await alice.messages(channel.id, { limit: 100 })).filter((m) => m.body.startsWith(run));
  assert.equal(stored.length, COUNT + 1, 'the server stored each post once');
  return run;
}

/** node's fetch, keeping what each /bus_mobile/sync answered. */
function recordingSyncs() {
  const syncs = [];
  const recording = async (url, init) => {
    const response = await fetch(url, init);
    if (String(url).endsWith('/bus_mobile/sync')) {
      const body = await response.clone().json();
      syncs.push((body.result?.messages ?? []).map((m) => m.id));
    }
    return response;
  };
  return { syncs, fetch: recording };
}

test('40 numbered posts across a killed TCP connection arrive once each', async () => {
  const proxy = await cuttableProxy();
  const recorder = recordingSyncs();
  try {
    // Bob waits 1.5 s or more before reconnecting: the posts of that gap
    // reach him through the sync.
    const { alice, bob, channel } = await pair({ bob: { wsBase: proxy.wsBase, fetch: recorder.fetch, minDelay: 1500, maxDelay: 2000 } });
    const reconnected = waitForEvent(bob, 'reconnect');
    let seenAtCut;
    let syncsAtCut;
    await numberedPosts(alice, bob, channel, async (seen) => {
      proxy.cut(); // the network goes away under bob's socket
      await waitForEvent(bob, 'state', (s) => s.state === 'reconnecting');
      seenAtCut = new Set(seen.map((m) => m.id));
      syncsAtCut = recorder.syncs.length;
    });
    const { recovered } = await reconnected;
    // Between the cut and the catch-up bob emits nothing: what the sync
    // brought that he had not seen at the cut is what it recovered.
    const synced = new Set(recorder.syncs.slice(syncsAtCut).flat());
    const fresh = [...synced].filter((id) => !seenAtCut.has(id));
    assert.ok(fresh.length > 0, 'posts made while bob was away came through the sync');
    assert.equal(recovered, fresh.length, `recovered counts the messages the sync brought back (${JSON.stringify(fresh)})`);
    assert.equal(bob.state, 'open');
    assert.ok(bob.stats.opens >= 2, 'bob reconnected by itself');
    assert.ok(bob.stats.closes.some((c) => c.code === 1006), JSON.stringify(bob.stats.closes));
  } finally {
    await proxy.close();
  }
});

test('messages missed while cut off are recovered by the sync and reported', async () => {
  const proxy = await cuttableProxy();
  try {
    const { alice, bob, channel } = await pair({ bob: { wsBase: proxy.wsBase, minDelay: 3000, maxDelay: 4000 } });
    proxy.cut();
    await waitForEvent(bob, 'state', (s) => s.state === 'reconnecting');
    // Posted while bob waits (3 s or more) to reconnect.
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await alice.rpc('/bus_mobile/message/post', { channel_id: channel.id, body: `missed ${i}`, client_uuid: randomUUID() })).id);
    const got = [];
    bob.on('message', (m) => m.channel_id === channel.id && got.push(m.id));
    const { recovered } = await waitForEvent(bob, 'reconnect');
    assert.equal(recovered, 5);
    // The bus replay brings them again: dropped. A sentinel posted now
    // comes after any copy.
    const sentinel = (await alice.rpc('/bus_mobile/message/post', { channel_id: channel.id, body: 'sentinel', client_uuid: randomUUID() })).id;
    await waitUntil(() => got.includes(sentinel), 'the sentinel');
    assert.deepEqual(got, [...ids, sentinel]);
  } finally {
    await proxy.close();
  }
});

test('an app restart resumes from the cursors kept in storage', async () => {
  const { alice, bob, bobUser, channel } = await pair();
  const seen = waitForEvent(bob, 'message', (m) => m.body === 'before the app closed');
  alice.post(channel.id, 'before the app closed');
  await seen;
  bob.close();
  await bob.flushStorage();
  const missed = [];
  for (let i = 0; i < 3; i++) missed.push((await alice.rpc('/bus_mobile/message/post', { channel_id: channel.id, body: `while closed ${i}`, client_uuid: randomUUID() })).id);

  const again = makeClient(bobUser, { storage: bob.storage, deviceUuid: undefined });
  const got = [];
  again.on('message', (m) => m.channel_id === channel.id && got.push(m.id));
  const resumed = waitForEvent(again, 'reconnect');
  await again.start();
  assert.equal((await resumed).recovered, 3);
  assert.deepEqual(got, missed, 'only what was missed, once, in order');
  assert.equal(again.deviceUuid, bob.deviceUuid, 'the device uuid is kept');
});

test('while the network source says offline the client waits, then reconnects at once', async () => {
  const proxy = await cuttableProxy();
  try {
    const user = await newUser('netinfo');
    const listeners = new Set();
    const network = { addEventListener: (fn) => (listeners.add(fn), () => listeners.delete(fn)) };
    const client = makeClient(user, { wsBase: proxy.wsBase, network });
    await client.start();
    const opens = client.stats.opens;
    for (const fn of listeners) fn({ isConnected: false });
    proxy.cut();
    await waitForEvent(client, 'state', (s) => s.state === 'reconnecting');
    await sleep(3000); // 15 retry windows of 200 ms: none may be tried offline
    assert.equal(client.stats.opens, opens);
    assert.equal(client.state, 'reconnecting');
    const open = waitForEvent(client, 'state', (s) => s.state === 'open');
    for (const fn of listeners) fn({ isConnected: true });
    await open;
    assert.equal(client.stats.opens, opens + 1);
  } finally {
    await proxy.close();
  }
});
