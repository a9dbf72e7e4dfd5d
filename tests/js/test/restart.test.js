// A server restart mid-conversation (BUS_MOBILE_STOP_CMD / START_CMD).
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { pair, closeAll, waitUntil, run, sleep } from './helpers.js';

afterEach(closeAll);
const COUNT = 40;
const STOP = process.env.BUS_MOBILE_STOP_CMD;
const START = process.env.BUS_MOBILE_START_CMD;
if (!STOP || !START) throw new Error('set BUS_MOBILE_STOP_CMD and BUS_MOBILE_START_CMD to run the restart test');

test('40 numbered posts across a server restart: each shown exactly once', async () => {
  const { alice, bob, channel } = await pair();
  const tag = randomUUID().slice(0, 8);
  const seen = [];
  bob.on('message', (m) => m.channel_id === channel.id && m.body.startsWith(tag) && seen.push(m));
  let restarted;
  for (let seq = 1; seq <= COUNT; seq++) {
    if (seq === COUNT / 2 + 1) {
      await run(STOP); // Odoo closes the sockets (1001) and goes away
      // The second half is posted into the outage and after it: the outbox keeps retrying.
      restarted = sleep(1000).then(() => run(START));
    }
    alice.post(channel.id, `${tag} seq ${seq}`);
    await sleep(25);
  }
  await restarted;
  await waitUntil(() => new Set(seen.map((m) => m.id)).size >= COUNT, `${COUNT} messages after the restart (got ${seen.length})`, 180000);
  // A sentinel posted after them: a late duplicate would come before it.
  const sentinel = alice.post(channel.id, `${tag} sentinel`);
  await waitUntil(() => seen.some((m) => m.client_uuid === sentinel.client_uuid), 'the sentinel', 60000);
  const seqs = seen.filter((m) => m.client_uuid !== sentinel.client_uuid).map((m) => Number(m.body.split(' ').pop()));
  assert.deepEqual(seqs, Array.from({ length: COUNT }, (_, i) => i + 1));
  const stored = (await alice.messages(channel.id, { limit: 100 })).filter((m) => m.body.startsWith(tag) && m.client_uuid !== sentinel.client_uuid);
  assert.deepEqual(stored.map((m) => Number(m.body.split(' ').pop())), seqs, 'stored once each, in order');
  assert.deepEqual(alice.pendingMessages(), []);
  // Each socket came back by itself (on a --workers server, its gevent
  // worker may answer a little after the HTTP port: a first try gets 502).
  await waitUntil(() => alice.state === 'open' && bob.state === 'open', 'both sockets open again', 60000);
  for (const client of [alice, bob]) {
    assert.ok(client.stats.opens >= 2);
    assert.ok(client.stats.closes.some((c) => c.code === 1001 || c.code === 1006), JSON.stringify(client.stats.closes));
  }
});
