// Compiled by `tsc -p tsconfig.consumer.json`: an app's TypeScript against
// the .d.ts files the package ships (resolved through package.json exports).
import { createElement as h } from 'react';
import { BusMobileClient, BusMobileError, MemoryStorage, type Message } from 'odoo-bus-mobile';
import { BusMobileProvider, useConnectionState, useMessages, usePresence, useTyping, useChannels } from 'odoo-bus-mobile/react';

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
