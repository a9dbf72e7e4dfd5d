// The time from a post to the hook re-rendering on the other client, over
// 100 posts: measured once per database in `make test` (scripts/stages/js.sh
// runs every file against the threaded server, only some against the
// --workers=2 one), printed and kept in BUS_MOBILE_JS_LATENCY_FILE.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { mount } from './screen.js';
import { pair, closeAll, waitUntil, sleep } from './helpers.js';

afterEach(closeAll);

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

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
