// The client's Discuss parts that need no server: thread names, the plain
// text of mail's HTML, and mail's notifications read into events (the
// payloads are as mail 18 sends them; discuss.test.js checks the same
// conversion against the live server's routes).
import test from 'node:test';
import assert from 'node:assert/strict';
import { BusMobileClient, htmlToText, toThread, threadKey } from 'odoo-bus-mobile';

/** A client that never reaches a server: every request is recorded and fails. */
function offlineClient() {
  const requests = [];
  const client = new BusMobileClient({
    url: 'http://127.0.0.1:9',
    fetch: async (url) => {
      requests.push(String(url));
      throw new TypeError('offline');
    },
  });
  // As after /bus_mobile/config on a database with mail.
  client.config = { user: { id: 2, partner_id: 3, name: 'Me' }, discuss: { available: true } };
  return { client, requests };
}

test('thread names: a mobile channel id or {model, id}; anything else is a TypeError naming the problem', () => {
  assert.deepEqual(toThread(7), { model: 'bus_mobile.channel', id: 7 });
  assert.deepEqual(toThread({ model: 'discuss.channel', id: 7 }), { model: 'discuss.channel', id: 7 });
  assert.deepEqual(toThread({ model: 'bus_mobile.channel', id: 7, extra: 1 }), { model: 'bus_mobile.channel', id: 7 });
  assert.equal(threadKey(toThread({ model: 'discuss.channel', id: 7 })), 'discuss.channel:7');
  const refused = [
    ['7', /not the string "7"/],
    [0, /integer from 1 to 2147483647, not the number 0/],
    [-3, /not the number -3/],
    [1.5, /not the number 1.5/],
    [2 ** 31, /not the number 2147483648/],
    [Number.NaN, /not the number NaN/],
    [null, /must be a mobile channel id or \{model/],
    [undefined, /must be a mobile channel id or \{model/],
    [[1], /not an array/],
    [{ id: 7 }, /the model must be 'discuss.channel' or 'bus_mobile.channel', not undefined/],
    [{ model: 'res.partner', id: 7 }, /not the string "res.partner"/],
    [{ model: 'discuss.channel', id: '7' }, /the id of a discuss.channel is an integer from 1 to 2147483647, not the string "7"/],
    [{ model: 'discuss.channel', id: 2 ** 53 }, /not the number 9007199254740992/],
    [{ model: 'discuss.channel' }, /not undefined/],
  ];
  for (const [name, message] of refused) {
    assert.throws(() => toThread(name), (error) => error instanceof TypeError && message.test(error.message), `${String(name)}`);
  }
});

test('bad thread names are refused before anything is sent; Discuss-only calls refuse mobile channels', async () => {
  const { client, requests } = offlineClient();
  const discuss = { model: 'discuss.channel', id: 4 };
  const calls = [
    () => client.post({ model: 'discuss', id: 4 }, 'hi'),
    () => client.post('4', 'hi'),
    () => client.messages({ model: 'discuss.channel', id: -1 }),
    () => client.markRead(null, 5),
    () => client.typing({ model: 'discuss.channel', id: 'x' }),
    () => client.editMessage(4, 10, 'x'),
    () => client.deleteMessage({ model: 'bus_mobile.channel', id: 4 }, 10),
    () => client.react(4, 10, '👍'),
    () => client.uploadAttachment(4, new Blob(['x']), { name: 'a.txt' }),
    () => client.post(4, 'hi', { partnerIds: [1] }),
    () => client.post(4, 'hi', { replyTo: { id: 1, author_id: 1, author_name: 'x', body: 'x' } }),
    () => client.messages(4, { search: 'x' }),
    () => client.discussChannel(4),
    () => client.mute(4, 10),
  ];
  for (const call of calls) {
    await assert.rejects(async () => call(), TypeError, String(call));
  }
  assert.deepEqual(requests, [], 'nothing was sent');
  assert.deepEqual(client.pendingMessages(), [], 'nothing was queued');
  // A good name goes on: the post waits in the outbox.
  const pending = client.post(discuss, 'hello', { partnerIds: [9] });
  assert.deepEqual(pending.thread, discuss);
  assert.deepEqual(pending.partner_ids, [9]);
  assert.equal(pending.channel_id, undefined, 'a Discuss post has no mobile channel id');
  assert.deepEqual(client.pendingMessages(discuss).map((m) => m.client_uuid), [pending.client_uuid]);
  assert.deepEqual(client.pendingMessages(4), [], 'the mobile channel 4 is another conversation');
  client.close();
});

test('plain text of mail HTML, as the server makes it', () => {
  const cases = [
    ['<p>hello <b>world</b></p>', 'hello world'],
    ['<p>a<br>b<br/>c</p>', 'a\nb\nc'],
    ['<p>one</p><p>two</p>', 'one\ntwo'],
    ['<p>a</p>\n\n<p></p><p></p><p>b</p>', 'a\n\nb'],
    ['<p>  lots   of\n\t white  </p>', 'lots of white'],
    ['<p>&lt;tag&gt; &amp; &quot;q&quot; &#39;s&#39; &#x1F600; caf&eacute;</p>', '<tag> & "q" \'s\' 😀 caf&eacute;'],
    ['<p>a&nbsp;b</p>', 'a b'],
    ['<p>hi <a href="/odoo/res.partner/8" class="o_mail_redirect" data-oe-id="8">@Webu</a></p>', 'hi @Webu'],
    ['<a title="x > y" href="#">link</a>', 'link'],
    ['<ul><li>one</li><li>two</li></ul>', 'one\ntwo'],
    ['<!-- note --><div>x</div>', 'x'],
    ['<p>edited<span class="o-mail-Message-edited"></span></p>', 'edited'],
    ['a < b and c > d', 'a < b and c > d'],
    ['', ''],
    [null, ''],
  ];
  for (const [html, text] of cases) assert.equal(htmlToText(html), text, String(html));
});

test("mail's notifications become the client's events; the app never sees Store", () => {
  const { client } = offlineClient();
  client._discuss.known.set(3, 'chat');
  const events = [];
  for (const name of ['message', 'typing', 'read', 'unread', 'reactions', 'messageUpdated', 'discussChannel']) {
    client.on(name, (data) => events.push([name, data]));
  }
  const thread = { model: 'discuss.channel', id: 3 };
  const frame = (type, payload) => ({ id: ++frame.id, message: { type, payload } });
  frame.id = 100;
  client._notifications.receive(
    JSON.stringify([
      frame('discuss.channel/new_message', {
        id: 3,
        temporary_id: 'bus_mobile:u-1',
        data: {
          'mail.message': [
            {
              id: 6, author: { id: 3, type: 'partner' }, body: '<p>hi <a class="o_mail_redirect">@Web</a><br>x</p>',
              create_date: '2025-01-31 09:30:00', message_type: 'comment', thread: { id: 3, model: 'discuss.channel' },
              attachment_ids: [9], parentMessage: 5, reactions: [], recipients: [{ id: 8, type: 'partner' }],
            },
            { id: 5, author: { id: 8, type: 'partner' }, body: '<p>before</p>' },
          ],
          'ir.attachment': [{ id: 9, name: 'p.png', mimetype: 'image/png', size: 12 }],
          'res.partner': [{ id: 3, name: 'Me' }, { id: 8, name: 'Web' }],
        },
      }),
      frame('discuss.channel/new_message', { id: 3, data: { 'mail.message': [{ id: 7, author: { id: 8, type: 'partner' }, body: '<p>b</p>', thread }] } }),
      frame('mail.record/insert', { 'discuss.channel.member': [{ id: 1, isTyping: true, seen_message_id: 5, persona: { id: 8, type: 'partner' }, thread }] }),
      frame('mail.record/insert', { 'discuss.channel.member': [{ id: 1, persona: { id: 8, type: 'partner' }, seen_message_id: 6, thread }] }),
      frame('mail.record/insert', { 'discuss.channel.member': [{ id: 2, message_unread_counter: 0, persona: { id: 3, type: 'partner' }, thread }] }),
      frame('mail.record/insert', {
        MessageReactions: [{ content: '👍', count: 2, message: 6, personas: [{ id: 3, type: 'partner' }, { id: 1, type: 'guest' }] }],
        'mail.message': [{ id: 6, reactions: [['ADD', [{ message: 6, content: '👍' }]]] }],
      }),
      frame('mail.record/insert', { 'mail.message': [{ id: 6, reactions: [['DELETE', { message: 6, content: '🎉' }]] }] }),
      frame('mail.record/insert', { 'mail.message': [{ id: 6, body: '<p>new<span class="o-mail-Message-edited"></span></p>', attachment_ids: [] }] }),
      frame('mail.record/insert', { 'discuss.channel': [{ id: 3, mute_until_dt: '2025-02-01 10:00:00', custom_notifications: 'mentions' }] }),
      frame('mail.record/insert', { 'discuss.channel': [{ id: 3, last_interest_dt: '2025-02-01 10:00:00' }] }),
      frame('some.other/type', { anything: true }),
      frame('mail.record/insert', { 'mail.message': 'not a list', 'discuss.channel.member': [null, 5, { thread: 'x' }] }),
    ]),
  );
  const message = {
    id: 6, thread, message_type: 'comment', author_id: 3, author_name: 'Me', body: 'hi @Web\nx',
    body_html: '<p>hi <a class="o_mail_redirect">@Web</a><br>x</p>', create_date: '2025-01-31T09:30:00Z', edited: false,
    attachments: [{ id: 9, name: 'p.png', mimetype: 'image/png', size: 12, url: '/bus_mobile/discuss/channel/3/attachment/9', image_url: '/bus_mobile/discuss/channel/3/image/9' }],
    parent: { id: 5, author_id: 8, author_name: 'Web', body: 'before' },
    reactions: [], mentions: [{ partner_id: 8, name: 'Web' }], client_uuid: 'u-1', pending: false,
  };
  assert.deepEqual(events, [
    ['message', message],
    ['message', { ...message, id: 7, author_id: 8, author_name: '', body: 'b', body_html: '<p>b</p>', create_date: null, attachments: [], parent: null, mentions: [], client_uuid: null, message_type: undefined }],
    ['typing', { thread, partner_id: 8, is_typing: true }],
    ['read', { thread, partner_id: 8, message_id: 6 }],
    ['unread', { thread, unread_count: 0 }],
    ['reactions', { thread, message_id: 6, reactions: [{ content: '👍', count: 2, partner_ids: [3] }] }],
    ['reactions', { thread, message_id: 6, reactions: [{ content: '🎉', count: 0, partner_ids: [] }] }],
    ['messageUpdated', { id: 6, thread, body: 'new', body_html: '<p>new<span class="o-mail-Message-edited"></span></p>', edited: true, attachments: [] }],
    ['discussChannel', { event: 'updated', thread, changes: { notifications: 'mentions', mute_until: '2025-02-01T10:00:00Z' } }],
  ]);
  client.close();
});

test('a conversation I did not know is followed at once; leaving one stops it', () => {
  const { client } = offlineClient();
  const subscribes = [];
  client._frames.subscribe = () => subscribes.push('subscribe');
  client._resume.catchUp = () => subscribes.push('catchUp');
  const events = [];
  client.on('discussChannel', (event) => events.push(event));
  const receive = (type, payload) => client._notifications.receive(JSON.stringify([{ id: 1, message: { type, payload } }]));
  receive('mail.record/insert', { 'discuss.channel': [{ id: 12, channel_type: 'group', name: '', is_pinned: true }] });
  assert.deepEqual(subscribes, ['subscribe', 'catchUp'], 'a new group: subscribe again and sync');
  assert.ok(client._discuss.knows(12));
  receive('discuss.channel/joined', { channel: { id: 13, model: 'discuss.channel' } });
  receive('discuss.channel/leave', { 'discuss.channel': [{ id: 12, is_pinned: false }] });
  receive('discuss.channel/unpin', { id: 13 });
  assert.deepEqual(subscribes, ['subscribe', 'catchUp', 'subscribe', 'catchUp', 'subscribe', 'catchUp'], 'unpinning a chat keeps it followed');
  assert.deepEqual(
    events.map((e) => [e.event, e.thread.id]),
    [
      ['removed', 12],
      ['removed', 13],
    ],
  );
  assert.ok(!client._discuss.knows(12) && !client._discuss.knows(13));
  client.close();
});
