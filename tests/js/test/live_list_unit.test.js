// useConversations when the list's answers come late (react-test-renderer,
// no server: the client's `conversations()` answers when the test says). A
// reload's answer can predate the events that came while it was on its
// way; it must not undo them (seen live in discuss_hooks.test.js: a
// reconnect's reload, sent before a message, put its unread count back).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createElement as h } from 'react';
import TestRenderer from 'react-test-renderer';
import { BusMobileClient } from 'odoo-bus-mobile';
import { BusMobileProvider, useConversations } from 'odoo-bus-mobile/react';

globalThis.IS_REACT_ACT_ENVIRONMENT = false;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls `check` until it holds (renders are asynchronous). */
async function waitUntil(check, what) {
  for (let tries = 0; !check(); tries++) {
    if (tries > 200) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const THREAD = { model: 'discuss.channel', id: 7 };
const message = (id, authorId = 99) => ({ id, thread: THREAD, author_id: authorId, author_name: 'Webu', body: `m${id}`, attachments: [] });
const chat = (unread, last) => ({ thread: THREAD, name: 'Webu', channel_type: 'chat', members: [], unread_count: unread, last_message: last });

/** A client whose list loads wait for `answer(n, list)`, and a screen showing the list. */
function setUp() {
  const client = new BusMobileClient({ url: 'http://127.0.0.1:9', db: 'none' });
  const loads = [];
  client.conversations = () => new Promise((resolve) => loads.push(resolve));
  const latest = {};
  function Screen() {
    Object.assign(latest, useConversations());
    return null;
  }
  const renderer = TestRenderer.create(h(BusMobileProvider, { client, autoStart: false }, h(Screen)));
  const shown = () => latest.conversations.map((c) => `${c.unread_count}:${c.last_message && c.last_message.id}`).join(',');
  return { client, loads, shown, renderer };
}

test('a reload sent before a new message does not undo it; an older answer never replaces a newer one', async () => {
  const { client, loads, shown, renderer } = setUp();
  try {
    await waitUntil(() => loads.length === 1, 'the first load');
    loads[0]([chat(1, message(10))]);
    await waitUntil(() => shown() === '1:10', 'the first answer');

    client.emit('reconnect', { recovered: 0, opens: 2 }); // reload 2, sent now
    await waitUntil(() => loads.length === 2, 'the reload');
    client.emit('message', message(11));
    await waitUntil(() => shown() === '2:11', 'the new message counted');
    loads[1]([chat(1, message(10))]); // its answer predates message 11
    await sleep(0); // (the answer is taken in a microtask)
    client.emit('message', message(13)); // a sentinel: the list as it is, plus one
    await waitUntil(() => shown().endsWith(':13'), 'the sentinel');
    assert.equal(shown(), '3:13', "the reload's answer undid message 11");

    // Two reloads in flight answer out of order: the newer one stays.
    client.emit('reconnect', { recovered: 0, opens: 3 });
    client.emit('reconnect', { recovered: 0, opens: 4 });
    await waitUntil(() => loads.length === 4, 'two more reloads');
    loads[3]([chat(0, message(13))]); // read elsewhere meanwhile
    await waitUntil(() => shown() === '0:13', 'the newest answer');
    loads[2]([chat(3, message(13))]);
    await sleep(0);
    client.emit('message', message(14));
    await waitUntil(() => shown().endsWith(':14'), 'the sentinel');
    assert.equal(shown(), '1:14', 'an older answer replaced a newer one');
    assert.equal(loads.length, 4, 'no more loads');
  } finally {
    renderer.unmount();
  }
});

test('a counter that changed while a reload was on its way asks again: the answer may be older or newer', async () => {
  const { client, loads, shown, renderer } = setUp();
  try {
    await waitUntil(() => loads.length === 1, 'the first load');
    client.emit('unread', { thread: THREAD, unread_count: 0 }); // read elsewhere, the answer on its way
    loads[0]([chat(3, message(12))]);
    await waitUntil(() => loads.length === 2, 'a second load');
    loads[1]([chat(0, message(12))]);
    await waitUntil(() => shown() === '0:12', 'the second answer');
    assert.equal(loads.length, 2);
  } finally {
    renderer.unmount();
  }
});
