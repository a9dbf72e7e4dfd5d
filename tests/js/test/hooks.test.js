// The React hooks rendering live data (react-test-renderer); the time from a
// post to the hook re-rendering on the other client is latency.test.js.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mount } from './screen.js';
import { pair, closeAll, waitUntil, makeClient } from './helpers.js';

afterEach(closeAll);

test('hooks render live data: state, channels, messages, pending posts, typing, presence', async () => {
  const { alice, bob, aliceUser, bobUser, channel } = await pair();
  bob.close(); // the provider starts a fresh client for bob's screen
  const bobClient = makeClient(bobUser);
  assert.equal(bobClient.state, 'idle');
  const screen = mount(bobClient, channel.id, [aliceUser.partnerId]);
  try {
    await waitUntil(() => screen.latest.state === 'open', 'the provider to connect');
    await waitUntil(() => screen.latest.presence?.[aliceUser.partnerId]?.im_status === 'online', 'alice online');
    await waitUntil(() => screen.latest.channels?.some((c) => c.id === channel.id) && !screen.latest.loading, 'channels and history');

    alice.post(channel.id, 'from alice');
    await waitUntil(() => screen.text().includes('from alice'), 'alice message rendered');
    assert.match(screen.text(), new RegExp(`${channel.name}:1`), 'unread count in the channel list');

    await alice.typing(channel.id, true);
    await waitUntil(() => screen.latest.typing?.includes(aliceUser.partnerId), 'alice typing');

    // Three posts from the hook: pending in place, then confirmed, same order.
    const bodies = ['b1', 'b2', 'b3'];
    bodies.forEach((body) => screen.latest.post(body));
    await waitUntil(() => screen.renders.some((r) => r.messages.filter((m) => m.pending).length === 3), 'three pending posts rendered');
    await waitUntil(() => screen.latest.messages.every((m) => !m.pending) && screen.latest.messages.length === 4, 'all confirmed');
    assert.deepEqual(screen.latest.messages.map((m) => m.body), ['from alice', ...bodies]);
    for (const render of screen.renders) {
      const mine = render.messages.filter((m) => bodies.includes(m.body)).map((m) => m.body);
      assert.deepEqual(mine, bodies.slice(0, mine.length), 'pending posts keep their order and never double');
    }
    const ids = screen.latest.messages.map((m) => m.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  } finally {
    screen.renderer.unmount();
  }
});
