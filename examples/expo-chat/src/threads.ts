// One shape for every conversation the app lists: the screens only know
// `Thread`. Two kinds come from the server: Odoo Discuss conversations
// (channels, groups and direct chats, where the server has `mail`) and the
// addon's own mobile channels. The client names both by a thread,
// `{model, id}`; its hooks take either, so a screen never asks which kind
// it shows, except for what only Discuss has (attachments).
import { useMemo } from 'react';
import { threadKey, type BusMobileClient, type Channel, type DiscussChannel, type Message, type PendingMessage, type Thread as ThreadRef } from 'odoo-bus-mobile';
import { useBusMobileClient, useConversations } from 'odoo-bus-mobile/react';

export type { ThreadRef };

export type Thread = {
  key: string; // threadKey(ref): "discuss.channel:7", "bus_mobile.channel:3"
  ref: ThreadRef; // what the client's methods and hooks take
  kind: 'discuss' | 'mobile';
  name: string;
  direct: boolean; // a chat between two people
  partnerIds: number[]; // the members other than me (chats and groups)
  memberNames: Record<number, string>; // partner id -> name, where the server lists them
  unread: number;
  lastMessage: Message | null;
  canAttach: boolean; // Discuss takes files; mobile channels carry plain text
};

export type ThreadMessage = Message | PendingMessage;

function isDiscuss(conversation: Channel | DiscussChannel): conversation is DiscussChannel {
  return conversation.thread.model === 'discuss.channel';
}

/** A conversation as the screens show it. */
export function toThread(conversation: Channel | DiscussChannel, me: number | null, myName: string): Thread {
  const common = {
    key: threadKey(conversation.thread),
    ref: conversation.thread,
    unread: conversation.unread_count ?? 0,
    lastMessage: conversation.last_message ?? null,
  };
  if (isDiscuss(conversation)) {
    return {
      ...common,
      kind: 'discuss',
      name: conversation.name, // a chat: the other person, as the web client names it
      direct: conversation.channel_type === 'chat',
      partnerIds: conversation.members.flatMap((m) => (m.partner_id !== null && m.partner_id !== me ? [m.partner_id] : [])),
      memberNames: Object.fromEntries(conversation.members.flatMap((m) => (m.partner_id !== null ? [[m.partner_id, m.name]] : []))),
      canAttach: true,
    };
  }
  const direct = conversation.channel_type === 'direct';
  return {
    ...common,
    kind: 'mobile',
    // The server names a direct channel after both people: show the other.
    name: direct ? conversation.name.split(', ').filter((n) => n !== myName).join(', ') || conversation.name : conversation.name,
    direct,
    partnerIds: conversation.member_partner_ids.filter((id) => id !== me),
    memberNames: {},
    canAttach: false,
  };
}

/** All my conversations, kept current (new messages, unread counters,
 * conversations that come or go), the most recently active first. */
export function useThreads() {
  const client = useBusMobileClient();
  const { conversations, loading, error, refresh } = useConversations();
  const threads = useMemo<Thread[]>(
    () =>
      conversations
        .filter((c) => isDiscuss(c) || c.active)
        .map((c) => toThread(c, client.partnerId, client.config?.user.name ?? ''))
        // A new message moves its conversation up (dates are ISO 8601 UTC).
        .sort((a, b) => (b.lastMessage?.create_date ?? '').localeCompare(a.lastMessage?.create_date ?? '')),
    [conversations, client],
  );
  return { threads, loading, error, refresh };
}

export type Colleague = { partner_id: number; name: string };

/** Colleagues matching `query`: Discuss's people search where the server
 * has Discuss (a query is needed), else the addon's colleagues route. */
export async function searchColleagues(client: BusMobileClient, query: string): Promise<Colleague[]> {
  const q = query.trim();
  if (client.discussAvailable) return q ? client.searchPartners(q, 20) : [];
  return client.rpc('/bus_mobile/colleagues', { query: q });
}

/** The direct chat with a colleague (made on first use): a Discuss chat
 * where the server has Discuss, else a direct mobile channel. Its key. */
export async function openDirectChat(client: BusMobileClient, partnerId: number): Promise<string> {
  if (client.discussAvailable) return threadKey((await client.startChat(partnerId)).thread);
  return threadKey((await client.createChannel({ type: 'direct', partnerIds: [partnerId] })).thread);
}

/** What a push is about, as a thread key: Discuss pushes carry
 * `thread_model` and `thread_id`, mobile channels' `channel_id`. */
export function pushThreadKey(data: Record<string, unknown> | undefined): string | null {
  if (!data) return null;
  if (data.thread_model === 'discuss.channel' && typeof data.thread_id === 'number') {
    return threadKey({ model: 'discuss.channel', id: data.thread_id });
  }
  if (typeof data.channel_id === 'number') return threadKey({ model: 'bus_mobile.channel', id: data.channel_id });
  return null;
}
