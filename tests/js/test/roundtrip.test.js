// Two clients talk through the live server.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { pair, closeAll, waitForEvent, collectMessages } from './helpers.js';

afterEach(closeAll);

test('a post reaches the other client once; typing and read receipts too', async () => {
  const { alice, bob, channel, aliceUser, bobUser } = await pair();
  const inbox = collectMessages(bob, channel.id);
  const confirmed = waitForEvent(alice, 'message', (m) => m.body === 'hello bob');
  const received = waitForEvent(bob, 'message', (m) => m.body === 'hello bob');
  const pending = alice.post(channel.id, 'hello bob');
  assert.equal(pending.pending, true);
  assert.equal(pending.id, null);
  assert.deepEqual(alice.pendingMessages(channel.id).map((m) => m.client_uuid), [pending.client_uuid]);
  const [mine, theirs] = await Promise.all([confirmed, received]);
  assert.equal(theirs.id, mine.id);
  assert.equal(theirs.client_uuid, pending.client_uuid);
  assert.equal(theirs.author_id, aliceUser.partnerId);
  assert.deepEqual(alice.pendingMessages(channel.id), []);

  const typing = waitForEvent(alice, 'typing', (t) => t.partner_id === bobUser.partnerId && t.is_typing);
  assert.equal(await bob.typing(channel.id, true), true);
  assert.equal(await bob.typing(channel.id, true), false, 'a second `true` right away is throttled');
  await typing;
  const stopped = waitForEvent(alice, 'typing', (t) => t.partner_id === bobUser.partnerId && !t.is_typing);
  assert.equal(await bob.typing(channel.id, false), true);
  await stopped;

  const read = waitForEvent(alice, 'read', (r) => r.partner_id === bobUser.partnerId);
  await bob.markRead(channel.id, theirs.id);
  assert.equal((await read).message_id, theirs.id);

  // Replies keep id order, and nothing came twice. Bob's own copy (the
  // post's answer or his socket) may come after Alice's: wait for both.
  const second = waitForEvent(alice, 'message', (m) => m.body === 'hi alice');
  const secondBack = waitForEvent(bob, 'message', (m) => m.body === 'hi alice');
  bob.post(channel.id, 'hi alice');
  await Promise.all([second, secondBack]);
  inbox.stop();
  assert.deepEqual(inbox.messages.map((m) => m.body), ['hello bob', 'hi alice']);
  const history = await bob.messages(channel.id);
  assert.deepEqual(history.map((m) => m.body), ['hello bob', 'hi alice']);
});

test('a channel made after start is followed without reconnecting', async () => {
  const { alice, bob, bobUser } = await pair();
  const opens = bob.stats.opens;
  const created = waitForEvent(bob, 'channel', (e) => e.event === 'created' && e.channel.name === 'later');
  const channel = await alice.createChannel({ name: 'later', type: 'private', partnerIds: [bobUser.partnerId] });
  await created;
  const got = waitForEvent(bob, 'message', (m) => m.channel_id === channel.id);
  alice.post(channel.id, 'in the new channel');
  assert.equal((await got).body, 'in the new channel');
  assert.equal(bob.stats.opens, opens);
});
