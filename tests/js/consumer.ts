// Compiled by `tsc -p tsconfig.consumer.json`: an app's TypeScript against
// the .d.ts files the package ships (resolved through package.json exports).
import { createElement as h } from 'react';
import { BusMobileClient, BusMobileError, MemoryStorage, threadKey, type Message } from 'odoo-bus-mobile';
import type { Attachment, DiscussChannel, MessageUpdate, Thread } from 'odoo-bus-mobile';
import { BusMobileProvider, useConnectionState, useMessages, usePresence, useTyping, useChannels } from 'odoo-bus-mobile/react';
import { useConversations, useReadState, useUploads } from 'odoo-bus-mobile/react';

const client = new BusMobileClient({ url: 'https://odoo.example.com', db: 'prod', storage: new MemoryStorage(), backgroundGrace: 30000 });
client.on('message', (message: Message) => message.body.toUpperCase());
client.on('state', ({ state }) => (state === 'open' ? 1 : 0));
client.on('error', (error: BusMobileError) => error.exceptionName);
const pending = client.post(1, 'hi');
const uuid: string = pending.client_uuid;
// @ts-expect-error a channel id is a number
client.post('1', 'hi');
// @ts-expect-error no such event
client.on('nope', () => {});

export function Chat({ channelId }: { channelId: number }) {
  const state = useConnectionState();
  const { channels } = useChannels();
  const { messages, post } = useMessages(channelId);
  const { partnerIds, setTyping } = useTyping(channelId);
  const presence = usePresence([1, 2]);
  // @ts-expect-error post takes the body only
  post(channelId, 'x');
  setTyping(true);
  return h('div', null, state, channels.length, messages.map((m) => m.body).join(), partnerIds.length, presence[1]?.im_status, uuid);
}

export const app = h(BusMobileProvider, { client }, h(Chat, { channelId: 1 }));

// Discuss: threads, the one message shape, events, uploads, read state.
const discuss: Thread = { model: 'discuss.channel', id: 7 };
// @ts-expect-error only the two conversation models
const wrong: Thread = { model: 'res.partner', id: 7 };
const discussPending = client.post(discuss, 'hi @Ann', { partnerIds: [3], replyTo: { id: 1, author_id: 3, author_name: 'Ann', body: 'x' } });
const key: string = threadKey(discussPending.thread);
client.on('message', (message) => {
  const html: string | undefined = message.body_html;
  const files: Attachment[] = message.attachments;
  return [html, files.map((a) => a.image_url), message.parent?.body, message.reactions[0]?.count, message.mentions?.[0]?.name, message.edited, key];
});
client.on('messageUpdated', (update: MessageUpdate) => update.body);
client.on('unread', ({ thread, unread_count }) => [thread.model, unread_count]);
client.on('discussChannel', ({ event, channel }) => (event === 'added' ? channel?.members.map((m) => m.seen_message_id) : null));
export async function discussCalls(file: Blob) {
  const chats: DiscussChannel[] = await client.discussChannels();
  const chat = await client.startChat(chats[0].members[0].partner_id ?? 1);
  const attachment = await client.uploadAttachment(chat.thread, file, { name: 'a.png', onProgress: ({ loaded, total }) => loaded / total });
  client.post(chat.thread, 'file', { attachments: [attachment] });
  await client.editMessage(chat.thread, 1, 'edited', { partnerIds: [2] });
  await client.react(chat.thread, 1, '👍', 'remove');
  // @ts-expect-error add or remove
  await client.react(chat.thread, 1, '👍', 'toggle');
  const state = await client.markRead(chat.thread, 1);
  return [state, await client.messages(chat.thread, { search: 'x', aroundId: 3 })];
}

export function DiscussChat({ thread }: { thread: Thread }) {
  const { conversations } = useConversations();
  const { messages, post } = useMessages(thread);
  const { seenBy, unreadCount, markRead } = useReadState(thread);
  const { uploads, attachments, upload } = useUploads(thread);
  post('with files', { attachments });
  void upload(new Blob(['x']), { name: 'x.txt' });
  void markRead(1);
  return h('div', null, conversations.length, messages.map((m) => (m.id ? seenBy(m.id).length : 0)).join(), unreadCount, uploads.map((u) => u.loaded / u.total).join());
}
