// Discuss catch-up at the client level: messages posted from the web side
// while the app is cut off, across a server restart and across an app
// restart arrive each exactly once, in order (doc/discuss.md, "Catch-up").
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { callKw, closeAll, cuttableProxy, exclusively, makeClient, run, setParam, sleep, waitForEvent, waitUntil } from './helpers.js';
import { MAIL, appAndWebChat } from './discuss_helpers.js';

afterEach(closeAll);
const COUNT = 40;
const STOP = process.env.BUS_MOBILE_STOP_CMD;
const START = process.env.BUS_MOBILE_START_CMD;

/** The app's `message` events of this run in `thread`: `{seen, seqs()}`. */
function numbered(client, thread, tag) {
  const seen = [];
  client.on('message', (m) => {
    if (m.thread.model === thread.model && m.thread.id === thread.id && m.body.startsWith(tag)) seen.push(m);
  });
  return { seen, seqs: () => seen.map((m) => Number(m.body.split(' ').pop())) };
}

// Each test resumes Discuss, and one moves the journal's cleanup mark that
// every client of the database meets: one at a time across the runs.
const JOURNAL = 'discuss-journal';

const oneToCount = Array.from({ length: COUNT }, (_, i) => i + 1);

async function eachOnceInOrder(app, chat, got) {
  await waitUntil(() => new Set(got.seen.map((m) => m.id)).size >= COUNT, `${COUNT} messages (got ${got.seen.length})`, 180000);
  await sleep(1000); // a late duplicate would show now
  assert.deepEqual(got.seqs(), oneToCount, 'each message once, in order');
  const ids = got.seen.map((m) => m.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.ok(got.seen.every((m) => m.thread.id === chat.id && m.pending === false && typeof m.body_html === 'string'));
}

if (MAIL) {
  test(`${COUNT} messages posted from the web while the app's network is cut arrive once each, in order`, () => exclusively(JOURNAL, async () => {
    const proxy = await cuttableProxy();
    const listeners = new Set();
    const network = { addEventListener: (fn) => (listeners.add(fn), () => listeners.delete(fn)) };
    try {
      const { app, web, chat } = await appAndWebChat({ wsBase: proxy.wsBase, network });
      const tag = randomUUID().slice(0, 8);
      const got = numbered(app, chat.thread, tag);
      await web.post(chat.id, `<p>${tag} seq 1</p>`);
      await waitUntil(() => got.seen.length === 1, 'the first message, live');
      for (const fn of listeners) fn({ isConnected: false });
      proxy.cut();
      await waitForEvent(app, 'state', (s) => s.state === 'reconnecting');
      for (let seq = 2; seq <= COUNT; seq++) await web.post(chat.id, `<p>${tag} seq ${seq}</p>`);
      assert.equal(got.seen.length, 1, 'nothing reaches the app while it is cut off');
      const resumed = waitForEvent(app, 'reconnect');
      for (const fn of listeners) fn({ isConnected: true });
      const { recovered } = await resumed;
      assert.equal(recovered, COUNT - 1, 'the sync brought what the socket missed');
      await eachOnceInOrder(app, chat, got);
    } finally {
      await proxy.close();
    }
  }));

  if (STOP && START) {
    test(`${COUNT} messages posted from the web across a server restart arrive once each, in order`, () => exclusively(JOURNAL, async () => {
      const { app, web, chat } = await appAndWebChat();
      const tag = randomUUID().slice(0, 8);
      const got = numbered(app, chat.thread, tag);
      let restarted;
      for (let seq = 1; seq <= COUNT; seq++) {
        if (seq === COUNT / 2 + 1) {
          await run(STOP); // Odoo closes the sockets (1001) and goes away
          restarted = sleep(1000).then(() => run(START));
        }
        // The web user's post waits for the server to come back.
        await web.postRetrying(chat.id, `<p>${tag} seq ${seq}</p>`);
      }
      await restarted;
      await eachOnceInOrder(app, chat, got);
      assert.equal(app.state, 'open');
      assert.ok(app.stats.opens >= 2);
      assert.ok(app.stats.closes.some((c) => c.code === 1001 || c.code === 1006), JSON.stringify(app.stats.closes));
    }));
  }

  test('an app restart resumes Discuss from its stored cursor: what it showed is not shown again', () => exclusively(JOURNAL, async () => {
    const { app, appUserRec, web, chat } = await appAndWebChat();
    const tag = randomUUID().slice(0, 8);
    const first = numbered(app, chat.thread, tag);
    for (let seq = 1; seq <= 3; seq++) await web.post(chat.id, `<p>${tag} seq ${seq}</p>`);
    await waitUntil(() => first.seen.length === 3, 'three messages, live');
    app.close();
    await app.flushStorage();
    for (let seq = 4; seq <= 6; seq++) await web.post(chat.id, `<p>${tag} seq ${seq}</p>`);
    const again = makeClient(appUserRec, { storage: app.storage, token: app.token, sessionId: undefined, reauthenticate: undefined });
    const second = numbered(again, chat.thread, tag);
    await again.start();
    await waitUntil(() => second.seen.length >= 3, 'the three missed messages');
    await sleep(1000);
    assert.deepEqual(second.seqs(), [4, 5, 6], 'only what was missed, once, in order');
  }));

  test('offline longer than the journal keeps: discussReset, then live again', () => exclusively(JOURNAL, async () => {
    const proxy = await cuttableProxy();
    const listeners = new Set();
    const network = { addEventListener: (fn) => (listeners.add(fn), () => listeners.delete(fn)) };
    const GC_PARAM = 'bus_mobile.discuss_journal_gc_id';
    const before = await callKw('ir.config_parameter', 'get_param', [GC_PARAM, '0']);
    try {
      const { app, web, chat } = await appAndWebChat({ wsBase: proxy.wsBase, network });
      const cursor = app._discussResume.cursor;
      for (const fn of listeners) fn({ isConnected: false });
      proxy.cut();
      await waitForEvent(app, 'state', (s) => s.state === 'reconnecting');
      await web.post(chat.id, '<p>while away</p>');
      // The journal's cleanup deleted what came after the app's cursor (its mark).
      await setParam(GC_PARAM, String(cursor + 1));
      const reset = waitForEvent(app, 'discussReset');
      for (const fn of listeners) fn({ isConnected: true });
      assert.ok((await reset).cursor > cursor);
      assert.ok(app._discussResume.cursor > cursor, 'the cursor moved to the server one');
      // Reloading the page shows what came meanwhile; then messages flow again.
      assert.ok((await app.messages(chat.thread)).some((m) => m.body === 'while away'));
      const live = messageEventOnce(app, chat.thread, 'after the reset');
      await web.post(chat.id, '<p>after the reset</p>');
      await live;
    } finally {
      await setParam(GC_PARAM, String(before));
      await proxy.close();
    }
  }));
}

/** The `message` event of `body`, and none of it again for a second. */
async function messageEventOnce(client, thread, body) {
  const seen = [];
  const off = client.on('message', (m) => m.thread.id === thread.id && m.body === body && seen.push(m));
  await waitUntil(() => seen.length, `the message ${body}`);
  await sleep(1000);
  off();
  assert.equal(seen.length, 1);
}
