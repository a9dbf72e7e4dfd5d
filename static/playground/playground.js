// The playground page: the same client an app uses, in a browser. The
// browser owns the cookies and sends an Origin; the socket is same-origin.
// It lists the user's conversations of both kinds (Discuss, where the
// server has mail, and mobile channels), shows one, and posts in it.
import { BusMobileClient, threadKey } from '/bus_mobile/static/client/index.js';

const $ = (selector) => document.querySelector(selector);
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

// The browser as an app platform: localStorage for the cursors and the
// outbox, page visibility as the app state, online/offline as the network.
const storage = {
  getItem: (key) => localStorage.getItem(key),
  setItem: (key, value) => localStorage.setItem(key, value),
};
const appState = {
  currentState: document.hidden ? 'background' : 'active',
  addEventListener(type, listener) {
    const onChange = () => listener(document.hidden ? 'background' : 'active');
    document.addEventListener('visibilitychange', onChange);
    return () => document.removeEventListener('visibilitychange', onChange);
  },
};
const network = {
  addEventListener(listener) {
    const online = () => listener({ isConnected: true });
    const offline = () => listener({ isConnected: false });
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    return () => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
    };
  },
};
// Uploads signed in by the page's cookie carry Odoo's CSRF token (apps send a bearer token).
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content;

const client = new BusMobileClient({ url: window.location.origin, storage, appState, network });
window.busMobileClient = client; // for the console

let conversations = [];
let current = null; // a conversation: a Discuss channel or a mobile channel, with its `thread`
let confirmed = [];
let attachments = []; // uploaded for the next post (Discuss)
const names = new Map(); // partner id -> name, learnt from messages and members
const presence = new Map();
const typing = new Map(); // partner id -> timer
let unwatch = () => {};

const isDiscuss = (conversation) => conversation?.thread.model === 'discuss.channel';
const sameThread = (a, b) => Boolean(a && b && threadKey(a) === threadKey(b));

function log(text) {
  const item = el('li', { textContent: `${new Date().toLocaleTimeString()} ${text}` });
  $('#events').prepend(item);
  while ($('#events').children.length > 100) $('#events').lastChild.remove();
}

function renderState() {
  $('#state').textContent = client.state;
  $('#state').dataset.state = client.state;
}

function renderConversations() {
  $('#channels').replaceChildren(
    ...conversations.map((c) => {
      const kind = isDiscuss(c) ? c.channel_type : 'mobile';
      const item = el('li', { className: sameThread(c.thread, current?.thread) ? 'current' : '' },
        el('button', { type: 'button', textContent: c.name || `#${c.id}`, onclick: () => select(c) }),
        el('span', { className: `kind ${kind}`, textContent: kind }),
        el('span', { className: 'unread', textContent: c.unread_count ? ` ${c.unread_count}` : '' }));
      item.dataset.thread = threadKey(c.thread);
      if (!isDiscuss(c)) item.dataset.channelId = c.id;
      return item;
    }),
  );
  $('#empty').hidden = conversations.length > 0;
}

function renderMessage(m) {
  const item = el('li', { className: m.pending ? 'pending' : '' },
    el('b', { textContent: `${m.author_name || 'me'}: ` }), el('span', { className: 'body', textContent: m.body }));
  if (m.edited) item.append(el('i', { className: 'edited', textContent: ' (edited)' }));
  for (const file of m.attachments ?? []) {
    const link = el('a', { className: 'attachment', textContent: `[${file.name}]`, href: file.url ?? '#', target: '_blank' });
    item.append(link);
  }
  for (const reaction of m.reactions ?? []) item.append(el('span', { className: 'reaction', textContent: ` ${reaction.content}${reaction.count}` }));
  if (m.id) item.dataset.messageId = m.id;
  return item;
}

function renderMessages() {
  const pending = current ? client.pendingMessages(current.thread) : [];
  const uuids = new Set(confirmed.map((m) => m.client_uuid));
  const list = [...confirmed, ...pending.filter((m) => !uuids.has(m.client_uuid))];
  $('#messages').replaceChildren(...list.map(renderMessage));
  $('#messages').scrollTop = $('#messages').scrollHeight;
}

/** The partner ids of the current conversation's other members. */
function others() {
  if (!current) return [];
  const ids = isDiscuss(current) ? current.members.map((m) => m.partner_id).filter(Boolean) : current.member_partner_ids;
  return ids.filter((id) => id !== client.partnerId);
}

function renderPresence() {
  $('#presence').replaceChildren(
    ...others().map((id) => {
      const status = presence.get(id)?.im_status ?? '…';
      const item = el('li', { className: `presence ${status}`, textContent: `${names.get(id) ?? `Partner ${id}`}: ${status}` });
      item.dataset.partnerId = id;
      return item;
    }),
  );
  const who = [...typing.keys()].map((id) => names.get(id) ?? `Partner ${id}`);
  $('#typing').textContent = who.length ? `${who.join(', ')} typing…` : '';
}

function renderUploads(progress) {
  $('#attach').hidden = !isDiscuss(current);
  const ready = attachments.length ? `attached: ${attachments.map((a) => a.name).join(', ')}` : '';
  $('#uploads').textContent = [progress, ready].filter(Boolean).join(' ');
}

async function loadConversations() {
  conversations = await client.conversations();
  renderConversations();
  if (current) current = conversations.find((c) => sameThread(c.thread, current.thread)) ?? current;
  else if (conversations.length) await select(conversations[0]);
}

async function select(conversation) {
  current = conversation;
  $('#channel-title').textContent = conversation.name || `#${conversation.id}`;
  for (const input of document.querySelectorAll('#post input, #post button')) input.disabled = false;
  typing.clear();
  confirmed = [];
  attachments = [];
  if (isDiscuss(conversation)) for (const m of conversation.members) if (m.partner_id) names.set(m.partner_id, m.name);
  renderConversations();
  renderMessages();
  renderUploads('');
  unwatch();
  unwatch = client.watchPresence(others());
  const page = await client.messages(conversation.thread, { limit: 50 });
  if (current !== conversation) return;
  const ids = new Set(confirmed.map((m) => m.id));
  confirmed = [...page.filter((m) => !ids.has(m.id)), ...confirmed].sort((a, b) => a.id - b.id);
  for (const m of confirmed) if (m.author_id) names.set(m.author_id, m.author_name);
  const last = confirmed[confirmed.length - 1];
  if (last) markRead(last);
  renderMessages();
  renderPresence();
}

function markRead(message) {
  client.markRead(current.thread, message.id).catch((e) => log(`error ${e.message}`));
  current.unread_count = 0;
  renderConversations();
}

client.on('state', ({ state, code }) => {
  renderState();
  log(`state ${state}${code ? ` (close ${code})` : ''}`);
});
client.on('message', (m) => {
  if (m.author_id) names.set(m.author_id, m.author_name);
  if (current && sameThread(m.thread, current.thread)) {
    if (!confirmed.some((c) => c.id === m.id)) confirmed = [...confirmed, m].sort((a, b) => a.id - b.id);
    clearTimeout(typing.get(m.author_id));
    typing.delete(m.author_id);
    renderMessages();
    renderPresence();
    if (m.author_id !== client.partnerId) markRead(m);
  } else {
    const conversation = conversations.find((c) => sameThread(c.thread, m.thread));
    if (conversation && m.author_id !== client.partnerId) conversation.unread_count = (conversation.unread_count ?? 0) + 1;
    renderConversations();
  }
});
client.on('messageUpdated', (update) => {
  confirmed = confirmed.map((m) => (m.id === update.id ? { ...m, ...update, thread: m.thread } : m));
  renderMessages();
});
client.on('reactions', ({ message_id: id, reactions }) => {
  confirmed = confirmed.map((m) => {
    if (m.id !== id) return m;
    const kept = m.reactions.filter((r) => !reactions.some((c) => c.content === r.content));
    return { ...m, reactions: [...kept, ...reactions.filter((r) => r.count > 0)] };
  });
  renderMessages();
});
client.on('outbox', renderMessages);
client.on('typing', ({ thread, partner_id, is_typing }) => {
  if (!current || !sameThread(thread, current.thread) || partner_id === client.partnerId) return;
  clearTimeout(typing.get(partner_id));
  if (is_typing) typing.set(partner_id, setTimeout(() => (typing.delete(partner_id), renderPresence()), 10000));
  else typing.delete(partner_id);
  renderPresence();
});
client.on('presence', (p) => {
  presence.set(p.partner_id, p);
  renderPresence();
});
const reload = () => loadConversations().catch((e) => log(`error ${e.message}`));
client.on('channel', reload);
client.on('discussChannel', ({ event }) => event !== 'updated' && reload());
client.on('reconnect', ({ recovered }) => log(`resumed, ${recovered} message(s) recovered`));
client.on('notification', (n) => log(`${n.message.type} #${n.id}`));
client.on('error', (e) => log(`error ${e.exceptionName ?? e.kind}: ${e.message}`));

$('#post').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('#post input');
  if (!current || (!input.value.trim() && !attachments.length)) return;
  client.post(current.thread, input.value, isDiscuss(current) ? { attachments } : {});
  client.typing(current.thread, false).catch(() => {});
  input.value = '';
  attachments = [];
  renderUploads('');
});
$('#post input').addEventListener('input', (event) => {
  if (current) client.typing(current.thread, Boolean(event.target.value)).catch(() => {});
});
$('#attach input').addEventListener('change', async (event) => {
  const conversation = current;
  for (const file of event.target.files) {
    try {
      const attachment = await client.uploadAttachment(conversation.thread, file, {
        csrfToken,
        onProgress: ({ loaded, total }) => renderUploads(`${file.name} ${total ? Math.round((100 * loaded) / total) : 0}%`),
      });
      if (current === conversation) attachments = [...attachments, attachment];
      renderUploads('');
    } catch (e) {
      log(`error ${e.exceptionName ?? e.kind}: ${e.message}`);
      renderUploads('');
    }
  }
  event.target.value = '';
});
$('#new-channel').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('#new-channel input');
  if (!input.value.trim()) return;
  const channel = await client.createChannel({ name: input.value, type: 'public' });
  input.value = '';
  await loadConversations();
  await select(conversations.find((c) => sameThread(c.thread, channel.thread)) ?? channel);
});
$('#new-chat').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('#new-chat input');
  if (!input.value.trim()) return;
  try {
    const [person] = await client.searchPartners(input.value.trim(), 1);
    if (!person) return log(`nobody called ${input.value}`);
    const chat = await client.startChat(person.partner_id);
    input.value = '';
    await loadConversations();
    await select(conversations.find((c) => sameThread(c.thread, chat.thread)) ?? chat);
  } catch (e) {
    log(`error ${e.exceptionName ?? e.kind}: ${e.message}`);
  }
});

renderState();
client
  .start()
  .then(() => {
    $('#new-chat').hidden = !client.discussAvailable;
    return loadConversations();
  })
  .catch((e) => log(`error ${e.message}`));
