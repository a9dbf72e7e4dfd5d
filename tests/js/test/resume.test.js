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
    if (seq === COUNT / 2 + 1) await middle();
    alice.post(channel.id, `${run} seq ${seq}`);
    await sleep(20);
  }
  await waitUntil(() => new Set(seen.map((m) => m.id)).size >= COUNT, `${COUNT} messages on bob's side (got ${seen.length})`, 120000);
  await sleep(1000); // a late duplicate would show now
  off();
  const seqs = seen.map((m) => Number(m.body.split(' ').pop()));
  assert.deepEqual(seqs, Array.from({ length: COUNT }, (_, i) => i + 1), 'each message once, in order');
  const ids = seen.map((m) => m.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'emitted in id order');
  const stored = (await alice.messages(channel.id, { limit: 100 })).filter((m) => m.body.startsWith(run));
  assert.equal(stored.length, COUNT, 'the server stored each post once');
  return run;
}

test('40 numbered posts across a killed TCP connection arrive once each', async () => {
  const proxy = await cuttableProxy();
  try {
    const { alice, bob, channel } = await pair({ bob: { wsBase: proxy.wsBase } });
    const reconnected = waitForEvent(bob, 'reconnect');
    await numberedPosts(alice, bob, channel, async () => {
      proxy.cut(); // the network goes away under bob's socket
      await waitForEvent(bob, 'state', (s) => s.state === 'reconnecting');
    });
    const { recovered } = await reconnected;
    assert.ok(recovered >= 0);
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
    await sleep(1000); // the bus replay brings them again: dropped
    assert.deepEqual(got, ids);
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
