// The React hooks on a Discuss conversation (react-test-renderer), live:
// an app screen as the client's guide shows it, and a web user talking
// through mail's own routes.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createElement as h } from 'react';
import TestRenderer from 'react-test-renderer';
import {
  BusMobileProvider,
  useConnectionState,
  useConversations,
  useMessages,
  useReadState,
  useTyping,
  useUploads,
} from 'odoo-bus-mobile/react';
import { closeAll, sleep, waitUntil } from './helpers.js';
import { MAIL, appAndWebChat, dthread, messageEvent } from './discuss_helpers.js';

globalThis.IS_REACT_ACT_ENVIRONMENT = false;
afterEach(closeAll);

/** A Discuss chat screen; `probe` sees every render. */
function ChatScreen({ channelId, probe }) {
  // A new {model, id} literal on every render, as apps write it.
  const thread = { model: 'discuss.channel', id: channelId };
  const state = useConnectionState();
  const { conversations } = useConversations();
  const { messages, post, loading } = useMessages(thread);
  const { partnerIds: typing, setTyping } = useTyping(thread);
  const { seenBy, unreadCount, markRead } = useReadState(thread);
  const { uploads, attachments, upload, clear } = useUploads(thread);
  probe({ state, conversations, messages, post, loading, typing, setTyping, seenBy, unreadCount, markRead, uploads, attachments, upload, clear });
  return h(
    'screen',
    null,
    h('state', null, state),
    h('list', null, conversations.map((c) => `${c.name}:${c.unread_count}`).join(',')),
    h('typing', null, typing.join(',')),
    h('unread', null, String(unreadCount)),
    ...uploads.map((u) => h('upload', { key: u.key }, `${u.name} ${u.loaded}/${u.total}`)),
    ...messages.map((m) =>
      h(
        'message',
        { key: m.client_uuid ?? m.id, pending: Boolean(m.pending), edited: m.edited, seen: m.id ? seenBy(m.id).length : 0 },
        m.body,
        ...m.attachments.map((a) => h('file', { key: a.id }, a.name)),
        ...m.reactions.map((r) => h('reaction', { key: r.content }, `${r.content}${r.count}`)),
      ),
    ),
  );
}

if (MAIL) {
  test('hooks on a Discuss chat: history, live messages, typing, seen ticks, unread, reactions, edits, uploads', async () => {
    const { app, appUserRec, web, chat } = await appAndWebChat();
    await web.post(chat.id, '<p>before the screen</p>');
    app.close(); // the provider starts it again, as an app's root does
    const latest = {};
    // Every render's pending posts: a fast server confirms a post between two polls.
    const renderedPending = new Set();
    const probe = (props) => {
      Object.assign(latest, props);
      for (const m of props.messages) if (m.pending) renderedPending.add(m.client_uuid);
    };
    const renderer = TestRenderer.create(h(BusMobileProvider, { client: app }, h(ChatScreen, { channelId: chat.id, probe })));
    const text = () => JSON.stringify(renderer.toJSON());
    const bodies = () => latest.messages.map((m) => m.body);
    // What the screen showed, for a wait that times out.
    const shown = (what) => () => `${what}; the screen showed ${text()}`;
    try {
      await waitUntil(() => latest.state === 'open' && !latest.loading, 'the screen to be ready');
      await waitUntil(() => bodies().includes('before the screen'), 'the history');
      await waitUntil(() => latest.conversations.some((c) => c.thread.id === chat.id && c.name === 'Webu'), 'the chat in the list');

      // The web user writes: rendered, one more unread in the list, typing shown.
      await web.post(chat.id, '<p>hello <i>app</i></p>');
      await waitUntil(() => bodies().includes('hello app'), 'the web message rendered');
      await waitUntil(() => text().includes('Webu:2'), shown('two unread in the conversation list'));
      await web.typing(chat.id, true);
      await waitUntil(() => latest.typing.includes(web.user.partnerId), 'the web user typing');
      await web.post(chat.id, '<p>done typing</p>');
      await waitUntil(() => latest.typing.length === 0 && bodies().includes('done typing'), "the web user's message ends their typing");

      // The app reads: its counter goes to 0 in the list and in the read state.
      const lastFromWeb = latest.messages.at(-1);
      await latest.markRead(lastFromWeb.id);
      await waitUntil(() => latest.unreadCount === 0 && text().includes('Webu:0'), shown('unread 0 after markRead'));

      // The app posts with a mention and an uploaded file; pending, then confirmed.
      await latest.upload(new Blob(['notes'], { type: 'text/plain' }), { name: 'notes.txt' });
      await waitUntil(() => latest.attachments.length === 1, 'the upload done');
      assert.match(text(), /notes\.txt 5\/5/);
      const pending = latest.post('for @Webu', { partnerIds: [web.user.partnerId], attachments: latest.attachments });
      latest.clear();
      await waitUntil(() => renderedPending.has(pending.client_uuid), 'the pending post rendered');
      await waitUntil(() => latest.messages.some((m) => !m.pending && m.client_uuid === pending.client_uuid), 'the post confirmed');
      const mine = latest.messages.find((m) => m.client_uuid === pending.client_uuid);
      assert.deepEqual(mine.attachments.map((a) => a.name), ['notes.txt']);
      assert.deepEqual(mine.mentions, [{ partner_id: web.user.partnerId, name: 'Webu' }]);

      // The web user sees it (seen tick), reacts; the app edits.
      await web.markRead(chat.id, mine.id);
      await waitUntil(() => latest.seenBy(mine.id).includes(web.user.partnerId), 'seen by the web user');
      await web.react(mine.id, '👍');
      await waitUntil(() => latest.messages.find((m) => m.id === mine.id).reactions[0]?.count === 1, 'the reaction rendered');
      await app.editMessage(dthread(chat.id), mine.id, 'for @Webu, edited', { partnerIds: [web.user.partnerId] });
      await waitUntil(() => latest.messages.find((m) => m.id === mine.id).edited, 'the edit rendered');
      assert.equal(latest.messages.find((m) => m.id === mine.id).body, 'for @Webu, edited');
      assert.deepEqual(latest.seenBy(mine.id), [web.user.partnerId], 'my own message is not "seen" by me');
      assert.ok(!latest.seenBy(mine.id).includes(appUserRec.partnerId));

      // The list keeps one entry per message, in id order.
      const ids = latest.messages.map((m) => m.id);
      assert.deepEqual(ids, [...new Set(ids)].sort((a, b) => a - b));
    } finally {
      renderer.unmount();
    }
  });

  test('a message that comes while the screen loads is counted once, whatever the order of the answers and its event', async () => {
    // Seen in make test: unread 1 in the list (its answer, older than the
    // message, came after the message's event and replaced the list) and 3
    // on the screen (the read state's answer counted the message, then its
    // event counted it again). Here both happen for sure: the answers are
    // held, and the message's event is held until the read state has its.
    const { app, web, chat } = await appAndWebChat();
    await web.post(chat.id, '<p>first</p>');
    app.close(); // the provider starts it again, as an app's root does
    const thread = dthread(chat.id);
    let readStateAnswered;
    const answered = new Promise((resolve) => (readStateAnswered = resolve));
    const emit = app.emit.bind(app);
    app.emit = (name, data) => {
      if (name === 'message' && data.body === 'second') answered.then(() => setTimeout(() => emit(name, data), 50));
      else emit(name, data);
    };
    const secondEvent = messageEvent(app, thread, 'second');
    let posted = null;
    const postSecond = () => (posted ??= web.post(chat.id, '<p>second</p>'));
    const conversations = app.conversations.bind(app);
    app.conversations = async () => {
      const list = await conversations(); // without "second"
      await postSecond();
      await secondEvent;
      return list;
    };
    const discussChannel = app.discussChannel.bind(app);
    app.discussChannel = async (name) => {
      await postSecond();
      const channel = await discussChannel(name); // with "second"
      setTimeout(readStateAnswered, 0);
      return channel;
    };
    const latest = {};
    const renderer = TestRenderer.create(
      h(BusMobileProvider, { client: app }, h(ChatScreen, { channelId: chat.id, probe: (props) => Object.assign(latest, props) })),
    );
    const text = () => JSON.stringify(renderer.toJSON());
    const shown = (what) => () => `${what}; the screen showed ${text()}`;
    try {
      await secondEvent;
      await waitUntil(() => !text().includes('Webu:0') && text().includes('Webu:') && latest.unreadCount !== null, shown('the screen loaded'));
      await sleep(500); // what a second count would take
      assert.ok(text().includes('Webu:2'), shown('unread 2 in the list')());
      assert.equal(latest.unreadCount, 2, shown('unread 2 in the read state')());
      await web.post(chat.id, '<p>third</p>');
      await waitUntil(() => text().includes('Webu:3') && latest.unreadCount === 3, shown('unread 3 after one more'));
    } finally {
      renderer.unmount();
    }
  });
}
