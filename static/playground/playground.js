// The playground page: the same client an app uses, in a browser. The
// browser owns the cookies and sends an Origin; the socket is same-origin.
import { BusMobileClient } from '/bus_mobile/static/client/index.js';

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

const client = new BusMobileClient({ url: window.location.origin, storage, appState, network });
window.busMobileClient = client; // for the console

let channels = [];
let current = null;
let confirmed = [];
const names = new Map(); // partner id -> name, learnt from messages
const presence = new Map();
const typing = new Map(); // partner id -> timer
let unwatch = () => {};

function log(text) {
  const item = el('li', { textContent: `${new Date().toLocaleTimeString()} ${text}` });
  $('#events').prepend(item);
  while ($('#events').children.length > 100) $('#events').lastChild.remove();
}

function renderState() {
  $('#state').textContent = client.state;
  $('#state').dataset.state = client.state;
}

function renderChannels() {
  $('#channels').replaceChildren(
    ...channels.map((channel) => {
      const item = el('li', { className: channel.id === current?.id ? 'current' : '' },
        el('button', { type: 'button', textContent: channel.name || `#${channel.id}`, onclick: () => select(channel) }),
        el('span', { className: 'unread', textContent: channel.unread_count ? ` ${channel.unread_count}` : '' }));
      item.dataset.channelId = channel.id;
      return item;
    }),
  );
}

function renderMessages() {
  const pending = current ? client.pendingMessages(current.id) : [];
  const uuids = new Set(confirmed.map((m) => m.client_uuid));
  const list = [...confirmed, ...pending.filter((m) => !uuids.has(m.client_uuid))];
  $('#messages').replaceChildren(
    ...list.map((m) => {
      const item = el('li', { className: m.pending ? 'pending' : '' },
        el('b', { textContent: `${m.author_name || 'me'}: ` }), el('span', { className: 'body', textContent: m.body }));
      if (m.id) item.dataset.messageId = m.id;
      return item;
    }),
  );
  $('#messages').scrollTop = $('#messages').scrollHeight;
}

function renderPresence() {
  const others = current ? current.member_partner_ids.filter((id) => id !== client.partnerId) : [];
  $('#presence').replaceChildren(
    ...others.map((id) => {
      const status = presence.get(id)?.im_status ?? '…';
      const item = el('li', { className: `presence ${status}`, textContent: `${names.get(id) ?? `Partner ${id}`}: ${status}` });
      item.dataset.partnerId = id;
      return item;
    }),
  );
  const who = [...typing.keys()].map((id) => names.get(id) ?? `Partner ${id}`);
  $('#typing').textContent = who.length ? `${who.join(', ')} typing…` : '';
}

async function loadChannels() {
  channels = await client.channels();
  renderChannels();
  if (!current && channels.length) await select(channels[0]);
  else if (current) current = channels.find((c) => c.id === current.id) ?? current;
}

async function select(channel) {
  current = channel;
  $('#channel-title').textContent = channel.name || `#${channel.id}`;
  for (const input of document.querySelectorAll('#post input, #post button')) input.disabled = false;
  typing.clear();
  confirmed = [];
  renderChannels();
  renderMessages();
  unwatch();
  unwatch = client.watchPresence(channel.member_partner_ids.filter((id) => id !== client.partnerId));
  const page = await client.messages(channel.id, { limit: 50 });
  if (current !== channel) return;
  const ids = new Set(confirmed.map((m) => m.id));
  confirmed = [...page.filter((m) => !ids.has(m.id)), ...confirmed].sort((a, b) => a.id - b.id);
  for (const m of confirmed) names.set(m.author_id, m.author_name);
  const last = confirmed[confirmed.length - 1];
  if (last) client.markRead(channel.id, last.id).catch(() => {});
  renderMessages();
  renderPresence();
}

client.on('state', ({ state, code }) => {
  renderState();
  log(`state ${state}${code ? ` (close ${code})` : ''}`);
});
client.on('message', (m) => {
  names.set(m.author_id, m.author_name);
  if (current && m.channel_id === current.id) {
    if (!confirmed.some((c) => c.id === m.id)) confirmed = [...confirmed, m].sort((a, b) => a.id - b.id);
    clearTimeout(typing.get(m.author_id));
    typing.delete(m.author_id);
    renderMessages();
    renderPresence();
    if (m.author_id !== client.partnerId) client.markRead(m.channel_id, m.id).catch(() => {});
  } else {
    const channel = channels.find((c) => c.id === m.channel_id);
    if (channel) channel.unread_count = (channel.unread_count ?? 0) + 1;
    renderChannels();
  }
});
client.on('outbox', renderMessages);
client.on('typing', ({ channel_id, partner_id, is_typing }) => {
  if (!current || channel_id !== current.id || partner_id === client.partnerId) return;
  clearTimeout(typing.get(partner_id));
  if (is_typing) typing.set(partner_id, setTimeout(() => (typing.delete(partner_id), renderPresence()), 10000));
  else typing.delete(partner_id);
  renderPresence();
});
client.on('presence', (p) => {
  presence.set(p.partner_id, p);
  renderPresence();
});
client.on('channel', () => loadChannels().catch((e) => log(`error ${e.message}`)));
client.on('reconnect', ({ recovered }) => log(`resumed, ${recovered} message(s) recovered`));
client.on('notification', (n) => log(`${n.message.type} #${n.id}`));
client.on('error', (e) => log(`error ${e.exceptionName ?? e.kind}: ${e.message}`));

$('#post').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('#post input');
  if (!current || !input.value.trim()) return;
  client.post(current.id, input.value);
  client.typing(current.id, false).catch(() => {});
  input.value = '';
});
$('#post input').addEventListener('input', (event) => {
  if (current) client.typing(current.id, Boolean(event.target.value)).catch(() => {});
});
$('#new-channel').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('#new-channel input');
  if (!input.value.trim()) return;
  const channel = await client.createChannel({ name: input.value, type: 'public' });
  input.value = '';
  await loadChannels();
  await select(channels.find((c) => c.id === channel.id) ?? channel);
});

renderState();
client
  .start()
  .then(loadChannels)
  .catch((e) => log(`error ${e.message}`));
