// One shape for every conversation the app lists: the screens only know
// `Thread`. Today these are the server's mobile channels; Discuss
// conversations (where the server has `mail`) become a second `kind` here,
// with their own list and messages, and the screens stay as they are.
import { useEffect, useMemo, useState } from 'react';
import type { Message, PendingMessage } from 'odoo-bus-mobile';
import { useBusMobileClient, useChannels, useMessages } from 'odoo-bus-mobile/react';

export type Thread = {
  key: string; // unique across kinds, e.g. "mobile:12"
  kind: 'mobile';
  id: number;
  name: string;
  direct: boolean;
  partnerIds: number[]; // the members other than me
  unread: number;
  lastMessage: Message | null;
  canAttach: boolean; // mobile channels carry plain text only
};

export type ThreadMessage = Message | PendingMessage;

export function useThreads() {
  const client = useBusMobileClient();
  const { channels, loading, error, refresh } = useChannels();
  const threads = useMemo<Thread[]>(
    () =>
      channels
        .filter((channel) => channel.active)
        .map((channel) => ({
          key: `mobile:${channel.id}`,
          kind: 'mobile' as const,
          id: channel.id,
          name: channel.name,
          direct: channel.channel_type === 'direct',
          partnerIds: channel.member_partner_ids.filter((id) => id !== client.partnerId),
          unread: channel.unread_count ?? 0,
          lastMessage: channel.last_message ?? null,
          canAttach: false,
        }))
        .sort((a, b) => (b.lastMessage?.id ?? 0) - (a.lastMessage?.id ?? 0)),
    [channels, client],
  );
  return { threads, loading, error, refresh };
}

/** History, live messages and my pending posts of a thread. */
export function useThreadMessages(thread: Thread) {
  return useMessages(thread.id);
}

/** Send a photo (from expo-image-picker) to a thread that takes
 * attachments (`canAttach`): Discuss conversations will; mobile channels
 * carry plain text, so the chat screen shows no attach button for them. */
export async function sendPhoto(thread: Thread, photo: { uri: string; fileName?: string | null }): Promise<void> {
  throw new Error(`${thread.kind} conversations take no attachments (${photo.fileName ?? photo.uri})`);
}

/** Start (or find) the direct chat with a colleague. */
export async function openDirectChat(
  client: ReturnType<typeof useBusMobileClient>,
  partnerId: number,
): Promise<number> {
  const channel = await client.createChannel({ type: 'direct', partnerIds: [partnerId] });
  return channel.id;
}

/** The newest message id the others have read in a thread (read ticks),
 * from the `read` events since the chat opened. */
export function useReadUpTo(thread: Thread): number {
  const client = useBusMobileClient();
  const [upTo, setUpTo] = useState(0);
  useEffect(() => {
    setUpTo(0);
    return client.on('read', (read) => {
      if (read.channel_id !== thread.id || read.partner_id === client.partnerId) return;
      setUpTo((current) => Math.max(current, read.message_id));
    });
  }, [client, thread.id]);
  return upTo;
}

/** Tell the server I read a thread up to its newest message. */
export function useMarkRead(thread: Thread, messages: ThreadMessage[]): void {
  const client = useBusMobileClient();
  const newest = messages.reduce((max, m) => (m.id !== null && m.id > max ? m.id : max), 0);
  useEffect(() => {
    if (newest) client.markRead(thread.id, newest).catch(() => {});
  }, [client, thread.id, newest]);
}

export type Colleague = { partner_id: number; name: string };

/** Colleagues matching `query` (internal users), to start a direct chat. */
export function useColleagues(query: string) {
  const client = useBusMobileClient();
  const [colleagues, setColleagues] = useState<Colleague[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      client
        .rpc('/bus_mobile/colleagues', { query: query.trim() })
        .then((rows: Colleague[]) => live && (setColleagues(rows), setError(null)))
        .catch((e: Error) => live && setError(e.message));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, query]);
  return { colleagues, error };
}
