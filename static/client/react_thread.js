// @ts-check
/**
 * The hooks of one conversation, a Discuss one or a mobile channel alike:
 * its messages, who types, who has seen what, and uploads. Each takes a
 * thread: a mobile channel's id, or `{model: 'discuss.channel', id}`.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useBusMobileClient, useThread } from './react_context.js';
import { isDiscuss, threadKey } from './threads.js';

/** @typedef {import('./shapes.js').Message} Message */
/** @typedef {import('./shapes.js').PendingMessage} PendingMessage */
/** @typedef {import('./shapes.js').PostOptions} PostOptions */
/** @typedef {import('./shapes.js').Thread} Thread */
/** @typedef {import('./shapes.js').ThreadName} ThreadName */
/** @typedef {import('./shapes.js').Attachment} Attachment */
/** @typedef {import('./shapes.js').Reaction} Reaction */
/** @typedef {import('./shapes.js').UploadFile} UploadFile */
/** @typedef {import('./errors.js').BusMobileError} BusMobileError */

/** @param {Thread | null} thread @param {{thread?: Thread | null} | null | undefined} event */
const inThread = (thread, event) => Boolean(thread && event && event.thread && threadKey(event.thread) === threadKey(thread));

/**
 * Insert `incoming` into `list` (ascending id), without duplicates.
 * @param {Message[]} list
 * @param {Message[]} incoming
 */
function mergeById(list, incoming) {
  const byId = new Map(list.map((m) => [m.id, m]));
  let changed = false;
  for (const message of incoming) {
    if (!byId.has(message.id)) {
      byId.set(message.id, message);
      changed = true;
    }
  }
  return changed ? [...byId.values()].sort((a, b) => a.id - b.id) : list;
}

/**
 * `list` with the message `id` changed by `change`, or `list` itself.
 * @param {Message[]} list @param {number} id @param {(m: Message) => Message} change
 */
function patch(list, id, change) {
  const index = list.findIndex((m) => m.id === id);
  if (index < 0) return list;
  const copy = [...list];
  copy[index] = change(list[index]);
  return copy;
}

/** Reactions after `changes` (a count of 0 removes one). @param {Reaction[]} current @param {Reaction[]} changes */
function mergeReactions(current, changes) {
  const result = [...current];
  for (const change of changes) {
    const index = result.findIndex((r) => r.content === change.content);
    if (change.count <= 0) {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) result[index] = change;
    else result.push(change);
  }
  return result;
}

/**
 * The live message list of a conversation: its last page of history, then
 * every new message, and my pending posts after them, each kept in place
 * until the server confirms it (same `client_uuid`). Discuss messages
 * follow their edits, deletions and reactions.
 * @param {ThreadName | null | undefined} threadName a mobile channel id, or `{model: 'discuss.channel', id}`
 * @param {{limit?: number}} [options] page size (default 30)
 * @returns {{messages: (Message | PendingMessage)[], loading: boolean, error: BusMobileError | null,
 *   hasMore: boolean, loadOlder: () => Promise<void>, post: (body: string, options?: PostOptions) => PendingMessage}}
 */
export function useMessages(threadName, { limit = 30 } = {}) {
  const client = useBusMobileClient();
  const thread = useThread(threadName, 'useMessages');
  const [confirmed, setConfirmed] = useState(/** @type {Message[]} */ ([]));
  const [pending, setPending] = useState(() => (thread ? client.pendingMessages(thread) : []));
  const [status, setStatus] = useState({ loading: true, error: /** @type {any} */ (null), hasMore: false });
  const [version, setVersion] = useState(0);

  useEffect(() => {
    setConfirmed([]);
    if (!thread) {
      setPending([]);
      setStatus({ loading: false, error: null, hasMore: false });
      return undefined;
    }
    let alive = true;
    let loaded = false;
    /** @type {Message[]} */
    let early = [];
    setPending(client.pendingMessages(thread));
    setStatus({ loading: true, error: null, hasMore: false });
    const offs = [
      client.on('message', (message) => {
        if (!inThread(thread, message)) return;
        if (!loaded) early.push(message);
        else setConfirmed((list) => mergeById(list, [message]));
      }),
      client.on('outbox', () => setPending(client.pendingMessages(thread))),
      client.on('messageUpdated', (update) => {
        if (!isDiscuss(thread) || (update.thread && !inThread(thread, update))) return;
        const { id, thread: _thread, ...changes } = update;
        setConfirmed((list) => patch(list, id, (m) => ({ ...m, ...changes })));
      }),
      client.on('reactions', ({ thread: where, message_id: id, reactions }) => {
        if (!isDiscuss(thread) || (where && threadKey(where) !== threadKey(thread))) return;
        setConfirmed((list) => patch(list, id, (m) => ({ ...m, reactions: mergeReactions(m.reactions, reactions) })));
      }),
      // Offline longer than the server's journal: load the page again.
      client.on('discussReset', () => isDiscuss(thread) && setVersion((v) => v + 1)),
    ];
    client.messages(thread, { limit }).then(
      (page) => {
        if (!alive) return;
        loaded = true;
        setConfirmed(mergeById(page, early));
        early = [];
        setStatus({ loading: false, error: null, hasMore: page.length >= limit });
      },
      (error) => {
        if (!alive) return;
        loaded = true;
        setConfirmed(mergeById([], early));
        setStatus({ loading: false, error, hasMore: false });
      },
    );
    return () => {
      alive = false;
      offs.forEach((off) => off());
    };
  }, [client, thread, limit, version]);

  const messages = useMemo(() => {
    const confirmedUuids = new Set(confirmed.map((m) => m.client_uuid));
    return [...confirmed, ...pending.filter((m) => !confirmedUuids.has(m.client_uuid))];
  }, [confirmed, pending]);

  const loadOlder = useCallback(async () => {
    if (!thread) return;
    const first = confirmed[0];
    const page = await client.messages(thread, first ? { beforeId: first.id, limit } : { limit });
    setConfirmed((list) => mergeById(list, page));
    setStatus((s) => ({ ...s, hasMore: page.length >= limit }));
  }, [client, thread, limit, confirmed]);

  const post = useCallback(
    (/** @type {string} */ body, /** @type {PostOptions | undefined} */ options) => {
      if (!thread) throw new Error('useMessages: no conversation to post to');
      return client.post(thread, body, options);
    },
    [client, thread],
  );

  return { messages, ...status, loadOlder, post };
}

/**
 * Who is typing in a conversation (partner ids, not mine), and `setTyping`
 * to say I am (throttled by the client). A typing mark lasts `timeout` ms
 * unless renewed; a message from that partner ends it.
 * @param {ThreadName | null | undefined} threadName
 * @param {{timeout?: number}} [options] default 10000
 * @returns {{partnerIds: number[], setTyping: (isTyping: boolean) => void}}
 */
export function useTyping(threadName, { timeout = 10000 } = {}) {
  const client = useBusMobileClient();
  const thread = useThread(threadName, 'useTyping');
  const [partnerIds, setPartnerIds] = useState(/** @type {number[]} */ ([]));
  useEffect(() => {
    setPartnerIds([]);
    if (!thread) return undefined;
    /** @type {Map<number, ReturnType<typeof setTimeout>>} */
    const timers = new Map();
    const stop = (/** @type {number | null} */ partnerId) => {
      if (partnerId === null) return;
      clearTimeout(timers.get(partnerId));
      if (timers.delete(partnerId)) setPartnerIds([...timers.keys()]);
    };
    const offs = [
      client.on('typing', (event) => {
        const { partner_id: partnerId, is_typing: isTyping } = event;
        if (!inThread(thread, event) || partnerId === client.partnerId) return;
        if (!isTyping) return stop(partnerId);
        clearTimeout(timers.get(partnerId));
        timers.set(partnerId, setTimeout(() => stop(partnerId), timeout));
        setPartnerIds([...timers.keys()]);
      }),
      client.on('message', (message) => {
        if (inThread(thread, message)) stop(message.author_id);
      }),
    ];
    return () => {
      offs.forEach((off) => off());
      timers.forEach((timer) => clearTimeout(timer));
    };
  }, [client, thread, timeout]);
  const setTyping = useCallback(
    (/** @type {boolean} */ isTyping) => {
      if (thread) client.typing(thread, isTyping).catch(() => {});
    },
    [client, thread],
  );
  return { partnerIds, setTyping };
}

/**
 * Who has seen what in a conversation, and my unread counter: `seen`
 * (partner id -> the last message they have seen, mine included),
 * `seenBy(messageId)` (the others who have seen it: "seen" ticks), and
 * `markRead(messageId)`. Discuss conversations start from the server's
 * state; mobile channels from the read receipts that come.
 * @param {ThreadName | null | undefined} threadName
 * @returns {{seen: Record<number, number>, unreadCount: number | null, seenBy: (messageId: number) => number[],
 *   markRead: (messageId: number) => Promise<void>}}
 */
export function useReadState(threadName) {
  const client = useBusMobileClient();
  const thread = useThread(threadName, 'useReadState');
  const [seen, setSeen] = useState(/** @type {Record<number, number>} */ ({}));
  const [unreadCount, setUnreadCount] = useState(/** @type {number | null} */ (null));
  useEffect(() => {
    setSeen({});
    setUnreadCount(null);
    if (!thread) return undefined;
    let alive = true;
    const saw = (/** @type {number} */ partnerId, /** @type {number} */ messageId) =>
      setSeen((all) => ((all[partnerId] ?? 0) >= messageId ? all : { ...all, [partnerId]: messageId }));
    const offs = [
      client.on('read', (read) => inThread(thread, read) && saw(read.partner_id, read.message_id)),
      client.on('unread', (unread) => inThread(thread, unread) && setUnreadCount(unread.unread_count)),
      client.on('message', (message) => {
        if (!inThread(thread, message) || message.author_id === null) return;
        // An author has seen their own message; a message of others is unread.
        saw(message.author_id, message.id);
        if (message.author_id !== client.partnerId) setUnreadCount((n) => (n === null ? n : n + 1));
      }),
    ];
    if (isDiscuss(thread)) {
      client.discussChannel(thread).then(
        (channel) => {
          if (!alive) return;
          setUnreadCount(channel.unread_count);
          for (const member of channel.members) {
            if (member.partner_id && member.seen_message_id) saw(member.partner_id, member.seen_message_id);
          }
        },
        (error) => client._emitError(error),
      );
    }
    return () => {
      alive = false;
      offs.forEach((off) => off());
    };
  }, [client, thread]);
  const seenBy = useCallback(
    (/** @type {number} */ messageId) =>
      Object.entries(seen)
        .filter(([partnerId, upTo]) => Number(partnerId) !== client.partnerId && upTo >= messageId)
        .map(([partnerId]) => Number(partnerId)),
    [client, seen],
  );
  const markRead = useCallback(
    async (/** @type {number} */ messageId) => {
      if (!thread) return;
      await client.markRead(thread, messageId);
      if (!isDiscuss(thread)) setUnreadCount(0);
    },
    [client, thread],
  );
  return { seen, unreadCount, seenBy, markRead };
}

/**
 * @typedef {Object} Upload A file being uploaded for a Discuss post.
 * @property {string} key
 * @property {string} name
 * @property {number} loaded bytes sent
 * @property {number} total bytes to send (0: unknown)
 * @property {Attachment | null} attachment once uploaded
 * @property {BusMobileError | Error | null} error if it failed
 */

/**
 * Uploads for a post in a Discuss conversation, with their progress:
 * `upload(file)` starts one; `attachments` are those done, for
 * `post(body, {attachments})`; `clear()` after posting.
 * @param {ThreadName | null | undefined} threadName
 * @returns {{uploads: Upload[], attachments: Attachment[], upload: (file: UploadFile, options?: {name?: string}) => Promise<Attachment | null>,
 *   remove: (key: string) => void, clear: () => void}}
 */
export function useUploads(threadName) {
  const client = useBusMobileClient();
  const thread = useThread(threadName, 'useUploads');
  const [uploads, setUploads] = useState(/** @type {Upload[]} */ ([]));
  const counter = useRef(0);
  useEffect(() => setUploads([]), [thread]);
  const change = useCallback(
    (/** @type {string} */ key, /** @type {Partial<Upload>} */ values) =>
      setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...values } : u))),
    [],
  );
  const upload = useCallback(
    async (/** @type {UploadFile} */ file, /** @type {{name?: string}} */ { name } = {}) => {
      if (!thread) throw new Error('useUploads: no conversation to upload to');
      const key = `upload-${++counter.current}`;
      const fileName = name ?? /** @type {any} */ (file).name ?? '';
      setUploads((list) => [...list, { key, name: fileName, loaded: 0, total: 0, attachment: null, error: null }]);
      try {
        const attachment = await client.uploadAttachment(thread, file, {
          name,
          onProgress: ({ loaded, total }) => change(key, { loaded, total }),
        });
        change(key, { attachment });
        return attachment;
      } catch (error) {
        change(key, { error: /** @type {Error} */ (error) });
        return null;
      }
    },
    [client, thread, change],
  );
  const remove = useCallback((/** @type {string} */ key) => setUploads((list) => list.filter((u) => u.key !== key)), []);
  const clear = useCallback(() => setUploads([]), []);
  const attachments = useMemo(() => uploads.flatMap((u) => (u.attachment ? [u.attachment] : [])), [uploads]);
  return { uploads, attachments, upload, remove, clear };
}
