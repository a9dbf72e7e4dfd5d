// Discuss through the JavaScript client, against the live server: an app
// user (device token) and a web user (mail's own routes, as Odoo's web
// client calls them) in a direct chat. On the bus-only database: the clear
// refusal, and nothing else changed.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BusMobileError } from 'odoo-bus-mobile';
import { URL, closeAll, cuttableProxy, exclusively, makeClient, newUser, pair, waitForEvent, waitUntil, sleep } from './helpers.js';
import { MAIL, appAndWebChat, appUser, dthread, messageEvent, pngSquare, WebUser } from './discuss_helpers.js';

afterEach(closeAll);

const PNG = pngSquare(64, [113, 75, 103]);

/** `promise` rejects with a BusMobileError of Odoo's `shortName` whose message matches `message`. */
async function refused(promise, shortName, message) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof BusMobileError, `a BusMobileError, not ${error}`);
    assert.equal(error.shortName, shortName, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

if (MAIL) {
  test('one message shape from the socket and from the routes; a post is plain text made HTML by the server', async () => {
    const { app, appUserRec, web, chat } = await appAndWebChat();
    assert.deepEqual(chat.thread, dthread(chat.id));
    assert.equal(chat.channel_type, 'chat');
    assert.equal(chat.name, 'Webu');
    const fromWeb = messageEvent(app, chat.thread, 'hello from the web');
    await web.post(chat.id, '<p>hello <b>from</b>\nthe web</p>');
    const live = await fromWeb;
    const [stored] = await app.messages(chat.thread, { limit: 1 });
    assert.deepEqual(live, stored, 'the socket message is the route message');
    assert.equal(live.author_id, web.user.partnerId);
    assert.equal(live.body_html, '<p>hello <b>from</b>\nthe web</p>');

    const text = 'hi @Webu\nsee <https://odoo.com> & co';
    const confirmed = messageEvent(app, chat.thread, 'hi @Webu\nsee <https://odoo.com> & co');
    const pending = app.post(chat.thread, text, { partnerIds: [web.user.partnerId], replyTo: live });
    assert.equal(pending.pending, true);
    assert.deepEqual(pending.parent, { id: live.id, author_id: web.user.partnerId, author_name: 'Webu', body: live.body });
    assert.deepEqual(app.pendingMessages(chat.thread).map((m) => m.client_uuid), [pending.client_uuid]);
    const mine = await confirmed;
    assert.equal(mine.client_uuid, pending.client_uuid);
    assert.equal(mine.author_id, appUserRec.partnerId);
    assert.deepEqual(mine.mentions, [{ partner_id: web.user.partnerId, name: 'Webu' }]);
    assert.deepEqual(mine.parent, pending.parent);
    assert.match(mine.body_html, /<a href="\/odoo\/res\.partner\/\d+" class="o_mail_redirect"[^>]*>@Webu<\/a><br>/);
    assert.match(mine.body_html, /&lt;<a [^>]*href="https:\/\/odoo\.com"[^>]*>https:\/\/odoo\.com<\/a>&gt; &amp; co/);
    const [storedMine] = await app.messages(chat.thread, { limit: 1 });
    assert.deepEqual(mine, storedMine);
    assert.deepEqual(app.pendingMessages(chat.thread), []);
    // The web client reads the same message, as mail stores it.
    const [webMessage] = await web.messages(chat.id, 1);
    assert.equal(webMessage.body, mine.body_html);
  });

  test('typing, seen, unread, reactions, edits and deletions arrive as events', async () => {
    const { app, appUserRec, web, chat } = await appAndWebChat();
    const posted = messageEvent(app, chat.thread, 'to be changed');
    app.post(chat.thread, 'to be changed');
    const message = await posted;

    const typing = waitForEvent(app, 'typing', (t) => t.partner_id === web.user.partnerId && t.is_typing);
    await web.typing(chat.id, true);
    assert.deepEqual(await typing, { thread: chat.thread, partner_id: web.user.partnerId, is_typing: true });

    const seen = waitForEvent(app, 'read', (r) => r.partner_id === web.user.partnerId && r.message_id === message.id);
    await web.markRead(chat.id, message.id);
    assert.deepEqual((await seen).thread, chat.thread);

    const fromWeb = messageEvent(app, chat.thread, 'unread one');
    const webMessage = await web.post(chat.id, '<p>unread one</p>');
    await fromWeb;
    const unread = waitForEvent(app, 'unread', (u) => u.unread_count === 0);
    const answer = await app.markRead(chat.thread, webMessage.id);
    assert.deepEqual(answer, { thread: chat.thread, seen_message_id: webMessage.id, unread_count: 0 });
    await unread;

    const added = waitForEvent(app, 'reactions', (r) => r.message_id === message.id && r.reactions[0]?.count === 1);
    await web.react(message.id, '👍');
    assert.deepEqual((await added).reactions, [{ content: '👍', count: 1, partner_ids: [web.user.partnerId] }]);
    const both = await app.react(chat.thread, message.id, '👍');
    assert.deepEqual(
      both.reactions.map((r) => ({ ...r, partner_ids: [...r.partner_ids].sort((a, b) => a - b) })),
      [{ content: '👍', count: 2, partner_ids: [appUserRec.partnerId, web.user.partnerId].sort((a, b) => a - b) }],
    );
    await app.react(chat.thread, message.id, '👍', 'remove');
    const gone = waitForEvent(app, 'reactions', (r) => r.message_id === message.id && r.reactions[0]?.count === 0);
    await web.react(message.id, '👍', 'remove');
    assert.deepEqual((await gone).reactions, [{ content: '👍', count: 0, partner_ids: [] }]);

    const edited = waitForEvent(app, 'messageUpdated', (u) => u.id === message.id && u.edited);
    const answerEdit = await app.editMessage(chat.thread, message.id, 'changed\ntext');
    assert.equal(answerEdit.body, 'changed\ntext');
    const update = await edited;
    assert.deepEqual(update.thread, chat.thread);
    assert.equal(update.body, 'changed\ntext');
    const deleted = waitForEvent(app, 'messageUpdated', (u) => u.id === message.id && u.body === '');
    const answerDelete = await app.deleteMessage(chat.thread, message.id);
    assert.equal(answerDelete.body, '');
    assert.deepEqual((await deleted).attachments, []);
  });

  test('attachments: upload with progress, post, the web sees it, download with the bearer', async () => {
    const { app, web, chat } = await appAndWebChat();
    const progress = [];
    const attachment = await app.uploadAttachment(chat.thread, new Blob([PNG], { type: 'image/png' }), {
      name: 'dot.png',
      onProgress: (p) => progress.push(p),
    });
    assert.deepEqual(
      { ...attachment, id: 0 },
      { id: 0, name: 'dot.png', mimetype: 'image/png', size: PNG.length, url: null, image_url: null },
    );
    assert.deepEqual(progress.at(-1), { loaded: PNG.length, total: PNG.length });
    assert.ok(progress.every((p, i) => i === 0 || p.loaded >= progress[i - 1].loaded), JSON.stringify(progress));
    const posted = messageEvent(app, chat.thread, 'a picture');
    app.post(chat.thread, 'a picture', { attachments: [attachment] });
    const message = await posted;
    const [file] = message.attachments;
    assert.equal(file.id, attachment.id);
    assert.equal(file.url, `/bus_mobile/discuss/channel/${chat.id}/attachment/${attachment.id}`);
    assert.equal(file.image_url, `/bus_mobile/discuss/channel/${chat.id}/image/${attachment.id}`);
    const [webMessage] = await web.messages(chat.id, 1);
    assert.deepEqual(webMessage.attachment_ids, [attachment.id]);
    const download = await fetch(URL + file.url, { headers: { Authorization: `Bearer ${app.token}` } });
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), PNG);
  });

  test('a chat the app starts and a group the web user starts are followed at once', async () => {
    const { app, appUserRec, web, chat } = await appAndWebChat();
    const conversations = await app.conversations();
    assert.ok(conversations.some((c) => c.thread.model === 'discuss.channel' && c.id === chat.id));
    const added = waitForEvent(app, 'discussChannel', (e) => e.event === 'added');
    const group = await web.rpc('/web/dataset/call_kw/discuss.channel/create_group', {
      model: 'discuss.channel', method: 'create_group', args: [], kwargs: { partners_to: [appUserRec.partnerId], name: 'web group' },
    });
    const event = await added;
    assert.equal(event.channel.channel_type, 'group');
    assert.equal(event.channel.name, 'web group');
    // Posted at once in the new group: the socket follows it (or the sync brings it).
    const received = messageEvent(app, event.thread, 'welcome to the group');
    await web.post(event.thread.id, '<p>welcome to the group</p>');
    await received;
    assert.ok(group);
    const left = await app.leave(event.thread);
    assert.deepEqual(left, { left: true, thread: event.thread });
    await refused(app.messages(event.thread), 'AccessError', /not a member/);
  });

  // Its reconnect resumes Discuss: not while another run moves the journal's
  // cleanup mark (discuss_resume.test.js).
  test('a post retried after a timeout, with the same client_uuid, lands once', () => exclusively('discuss-journal', async () => {
    const control = { slow: false, posts: 0, timedOut: 0 };
    // The answer of a slow post comes after the client gave up (its timeout):
    // the server stored it, the app does not know.
    const slowFetch = async (url, init) => {
      if (!String(url).endsWith('/bus_mobile/discuss/message/post')) return fetch(url, init);
      control.posts += 1;
      if (!control.slow) return fetch(url, init);
      control.slow = false;
      const answer = await fetch(url, { ...init, signal: undefined });
      await answer.text();
      await new Promise((resolve) => init.signal.addEventListener('abort', resolve, { once: true }));
      control.timedOut += 1;
      throw new DOMException('The operation was aborted.', 'AbortError');
    };
    const proxy = await cuttableProxy();
    const listeners = new Set();
    const network = { addEventListener: (fn) => (listeners.add(fn), () => listeners.delete(fn)) };
    try {
      const { app, web, chat } = await appAndWebChat({ fetch: slowFetch, wsBase: proxy.wsBase, network });
      const events = [];
      app.on('message', (m) => m.thread.id === chat.id && events.push(m));
      // The phone's network goes: no socket to bring the message back meanwhile.
      for (const fn of listeners) fn({ isConnected: false });
      proxy.cut();
      await waitForEvent(app, 'state', (s) => s.state === 'reconnecting');
      control.slow = true;
      // A short timeout for this post only (signing in may take longer on a busy machine).
      const { timeout } = app.options;
      app.options.timeout = 2000;
      const pending = app.post(chat.thread, 'exactly once');
      await waitUntil(() => control.timedOut === 1, 'the post to time out');
      app.options.timeout = timeout;
      assert.deepEqual(app.pendingMessages(chat.thread).map((m) => m.client_uuid), [pending.client_uuid], 'still in the outbox');
      for (const fn of listeners) fn({ isConnected: true });
      await waitUntil(() => events.length >= 1 && app.pendingMessages().length === 0, 'the retry to be acknowledged');
      await sleep(1000); // a duplicate would show now
      assert.equal(control.posts, 2, 'posted twice');
      assert.deepEqual(events.map((m) => [m.body, m.client_uuid]), [['exactly once', pending.client_uuid]]);
      const stored = (await app.messages(chat.thread)).filter((m) => m.body === 'exactly once');
      assert.equal(stored.length, 1, 'stored once');
      const webMessages = await web.messages(chat.id, 10);
      assert.equal(webMessages.filter((m) => m.body === '<p>exactly once</p>').length, 1);
    } finally {
      await proxy.close();
    }
  }));

  test("the server's refusals come as the client's typed errors", async () => {
    const { app, web, chat } = await appAndWebChat();
    const stranger = await WebUser.create('stranger');
    const theirs = await stranger.rpc('/web/dataset/call_kw/discuss.channel/create_group', {
      model: 'discuss.channel', method: 'create_group', args: [], kwargs: { partners_to: [] },
    });
    const theirId = theirs['discuss.channel'][0].id;
    await refused(app.messages(dthread(theirId)), 'AccessError', /not a member/);
    await refused(app.messages(dthread(2147483000)), 'MissingError', /does not exist/);
    await refused(app.startChat(2147483000), 'MissingError');
    await refused(app.react(chat.thread, 2147483000, '👍'), 'MissingError');
    const webMessage = await web.post(chat.id, '<p>not yours</p>');
    await refused(app.editMessage(chat.thread, webMessage.id, 'mine now'), 'AccessError', /author/);
    await refused(app.react(chat.thread, webMessage.id, '👍', 'toggle'), 'ValidationError', /action/);
    await refused(app.messages(chat.thread, { limit: 100000 }), 'ValidationError', /limit/);
    await refused(app.searchPartners('x'.repeat(101)), 'ValidationError', /search/);
    // A post the server refuses leaves the outbox with an `error` event.
    const failed = waitForEvent(app, 'error', (e) => e.pending);
    const pending = app.post(chat.thread, '   ');
    const error = await failed;
    assert.equal(error.pending.client_uuid, pending.client_uuid);
    assert.equal(error.exceptionName, 'odoo.exceptions.ValidationError');
    assert.deepEqual(app.pendingMessages(), []);
    // The upload route's JSON errors: status and Odoo's exception.
    await assert.rejects(app.uploadAttachment(dthread(theirId), new Blob(['x']), { name: 'x.txt' }), (e) => {
      assert.ok(e instanceof BusMobileError);
      assert.deepEqual([e.kind, e.status, e.shortName], ['rpc', 403, 'AccessError']);
      return true;
    });
    await assert.rejects(app.uploadAttachment(chat.thread, new Blob(['x']), { name: 'a/b.txt' }), (e) => e.status === 400 && e.shortName === 'ValidationError');
  });
} else {
  test('without mail: Discuss is refused with an error naming mail, and nothing else changed', async () => {
    const calls = [];
    const spyFetch = (url, init) => {
      calls.push(String(url));
      return fetch(url, init);
    };
    const { user, client } = await appUser('appu', { fetch: spyFetch });
    const errors = [];
    client.on('error', (e) => errors.push(e));
    await client.start();
    assert.equal(client.config.discuss.available, false);
    assert.equal(client.discussAvailable, false);
    assert.deepEqual(calls.filter((u) => u.includes('/bus_mobile/discuss/')), [], 'the client asks nothing of Discuss by itself');
    const convs = await client.conversations();
    assert.ok(convs.every((c) => c.thread.model === 'bus_mobile.channel'));
    const thread = dthread(1);
    for (const call of [
      () => client.discussChannels(),
      () => client.startChat(user.partnerId),
      () => client.messages(thread),
      () => client.markRead(thread, 1),
      () => client.editMessage(thread, 1, 'x'),
    ]) {
      await refused(call(), 'UserError', /Discuss is not available: the mail module is not installed/);
    }
    await assert.rejects(client.uploadAttachment(thread, new Blob(['x']), { name: 'x.txt' }), (e) => {
      assert.deepEqual([e.kind, e.status, e.shortName], ['rpc', 400, 'UserError']);
      assert.match(e.message, /mail module/);
      return true;
    });
    const failed = waitForEvent(client, 'error', (e) => e.pending);
    client.post(thread, 'nowhere');
    assert.equal((await failed).shortName, 'UserError');
    assert.deepEqual(errors.filter((e) => !e.pending), [], 'no other error');
    // Mobile channels work as before.
    const other = await newUser('other');
    const otherClient = makeClient(other);
    await otherClient.start();
    const channel = await client.createChannel({ name: `bus only ${randomUUID().slice(0, 6)}`, partnerIds: [other.partnerId] });
    const received = waitForEvent(otherClient, 'message', (m) => m.body === 'still here');
    client.post(channel.id, 'still here');
    const message = await received;
    assert.equal(message.channel_id, channel.id);
    assert.deepEqual(message.thread, { model: 'bus_mobile.channel', id: channel.id });
  });
}

test('mobile channels keep their numeric names, and their messages the one shape', async () => {
  const { alice, bob, channel } = await pair();
  assert.deepEqual(channel.thread, { model: 'bus_mobile.channel', id: channel.id });
  const received = waitForEvent(bob, 'message', (m) => m.body === 'shape');
  alice.post({ model: 'bus_mobile.channel', id: channel.id }, 'shape');
  const message = await received;
  assert.deepEqual(
    { ...message, id: 0, author_id: 0, create_date: '', client_uuid: '' },
    {
      id: 0, channel_id: channel.id, thread: { model: 'bus_mobile.channel', id: channel.id }, message_type: 'comment',
      author_id: 0, author_name: 'Alice', body: 'shape', client_uuid: '', create_date: '', edited: false,
      attachments: [], parent: null, reactions: [], pending: false,
    },
  );
  const [stored] = await bob.messages(channel.id, { limit: 1 });
  assert.deepEqual(stored, message);
});
