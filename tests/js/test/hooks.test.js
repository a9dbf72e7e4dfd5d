// The React hooks rendering live data (react-test-renderer), and the time
// from a post to the hook re-rendering on the other client.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createElement as h } from 'react';
import TestRenderer from 'react-test-renderer';
import {
  BusMobileProvider,
  useChannels,
  useConnectionState,
  useMessages,
  usePresence,
  useTyping,
} from 'odoo-bus-mobile/react';
import { pair, closeAll, waitUntil, makeClient, sleep } from './helpers.js';

// Updates come from the live server, not from act(): let React schedule them.
globalThis.IS_REACT_ACT_ENVIRONMENT = false;

afterEach(closeAll);

/** A chat screen as an app would write it; `probe` sees every render. */
function Screen({ channelId, watch, probe }) {
  const state = useConnectionState();
  const { channels } = useChannels();
  const { messages, post, loading } = useMessages(channelId);
  const { partnerIds: typing, setTyping } = useTyping(channelId);
  const presence = usePresence(watch);
  probe({ state, channels, messages, post, loading, typing, setTyping, presence });
  return h(
    'screen',
    null,
    h('state', null, state),
    h('channels', null, channels.map((c) => `${c.name}:${c.unread_count}`).join(',')),
    h('typing', null, typing.join(',')),
    h('presence', null, watch.map((id) => presence[id]?.im_status ?? '?').join(',')),
    ...messages.map((m) => h('message', { key: m.client_uuid ?? m.id, pending: Boolean(m.pending) }, m.body)),
  );
}

function mount(client, channelId, watch) {
  const latest = {};
  const renders = [];
  const probe = (props) => {
    Object.assign(latest, props);
    renders.push({ at: performance.now(), messages: props.messages });
  };
  const renderer = TestRenderer.create(h(BusMobileProvider, { client }, h(Screen, { channelId, watch, probe })));
  return { latest, renders, renderer, text: () => JSON.stringify(renderer.toJSON()) };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

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

test('post → re-render on the other client: p50 and p99 over 100 posts', async () => {
  const { alice, bob, channel } = await pair();
  const screen = mount(bob, channel.id, []);
  const COUNT = 100;
  const latencies = [];
  try {
    await waitUntil(() => screen.latest.state === 'open' && !screen.latest.loading, 'the screen to be ready');
    for (let i = 0; i < COUNT; i++) {
      const startRenders = screen.renders.length;
      const started = performance.now();
      const { client_uuid } = alice.post(channel.id, `latency ${i}`);
      await waitUntil(() => screen.renders.slice(startRenders).some((r) => r.messages.some((m) => m.client_uuid === client_uuid)), `post ${i} rendered`, 30000);
      const render = screen.renders.slice(startRenders).find((r) => r.messages.some((m) => m.client_uuid === client_uuid));
      latencies.push(render.at - started);
      await sleep(10);
    }
  } finally {
    screen.renderer.unmount();
  }
  assert.equal(latencies.length, COUNT);
  const sorted = [...latencies].sort((a, b) => a - b);
  const report = `post → other client's useMessages render over ${COUNT} posts (${process.env.BUS_MOBILE_JS_LABEL || 'server'}): p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1).toFixed(1)} ms`;
  console.log(report);
  if (process.env.BUS_MOBILE_JS_LATENCY_FILE) writeFileSync(process.env.BUS_MOBILE_JS_LATENCY_FILE, `${report}\n`);
});
