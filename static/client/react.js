// @ts-check
/**
 * React hooks over a `BusMobileClient` (React 18+, React Native or web).
 *
 *   <BusMobileProvider client={client}> ... </BusMobileProvider>
 *   const state = useConnectionState();
 *   const { conversations } = useConversations();
 *   const { messages, post } = useMessages({ model: 'discuss.channel', id });
 *
 * A conversation is a thread: a mobile channel's id (as in earlier
 * versions) or `{model: 'discuss.channel', id}`; the hooks of one
 * conversation (react_thread.js) take either.
 */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { useBusMobileClient } from './react_context.js';
import { threadKey } from './threads.js';

export { BusMobileProvider, useBusMobileClient } from './react_context.js';
export { useMessages, useReadState, useTyping, useUploads } from './react_thread.js';

/** @typedef {import('./client.js').BusMobileClient} BusMobileClient */
/** @typedef {import('./shapes.js').Message} Message */
/** @typedef {import('./shapes.js').PendingMessage} PendingMessage */
/** @typedef {import('./shapes.js').Channel} Channel */
/** @typedef {import('./shapes.js').DiscussChannel} DiscussChannel */
/** @typedef {import('./shapes.js').Presence} Presence */
/** @typedef {import('./shapes.js').ConnectionState} ConnectionState */
/** @typedef {import('./errors.js').BusMobileError} BusMobileError */
/** @typedef {import('./react_thread.js').Upload} Upload */

/** `idle`, `connecting`, `open`, `reconnecting` or `closed`. @returns {ConnectionState} */
export function useConnectionState() {
  const client = useBusMobileClient();
  const subscribe = useCallback((/** @type {() => void} */ onChange) => client.on('state', onChange), [client]);
  const get = () => client.state;
  return useSyncExternalStore(subscribe, get, get);
}

/**
 * A new message in a list of conversations: its `last_message`, and one
 * more unread if it is not mine.
 * @template {Channel | DiscussChannel} C
 * @param {C[]} list @param {Message} message @param {number | null} me
 * @returns {C[]}
 */
function withMessage(list, message, me) {
  const key = threadKey(message.thread);
  return list.map((c) =>
    threadKey(c.thread) !== key || (c.last_message && c.last_message.id >= message.id)
      ? c
      : { ...c, last_message: message, unread_count: (c.unread_count ?? 0) + (message.author_id === me ? 0 : 1) },
  );
}

/**
 * @template T
 * @typedef {(reload: () => void, patch: (change: (list: T[]) => T[]) => void) => (() => void)[]} Listen
 */

/**
 * A list of conversations kept current: new messages update `last_message`
 * and `unread_count`; reconnects and what `listen` says load it again.
 * @template {Channel | DiscussChannel} C
 * @param {BusMobileClient} client
 * @param {() => Promise<C[]>} load
 * @param {Listen<C>} listen more listeners; returns their removers
 * @returns {{items: C[], loading: boolean, error: BusMobileError | null, refresh: () => void}}
 */
function useLiveList(client, load, listen) {
  const [state, setState] = useState({ items: /** @type {C[]} */ ([]), loading: true, error: /** @type {any} */ (null) });
  const [version, setVersion] = useState(0);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  useEffect(() => {
    let alive = true;
    let started = 0; // loads started
    let shown = 0; // the newest load whose answer is shown
    let inFlight = 0;
    // The changes that came while a load was on its way: its answer may
    // predate them, and must not undo them. `after`: the loads started then.
    /** @type {{after: number, change: (list: C[]) => C[], replayable: boolean}[]} */
    let recent = [];
    const landed = () => {
      inFlight -= 1;
      recent = inFlight ? recent.filter((r) => r.after >= shown) : [];
    };
    const reload = () => {
      const number = ++started;
      inFlight += 1;
      load().then(
        (items) => {
          if (!alive) return;
          if (number < shown) return landed(); // a newer answer is shown already
          const missed = recent.filter((r) => r.after >= number);
          shown = number;
          landed();
          // A new message applies again (it is skipped where the answer has
          // it); another change may be older or newer than the answer: ask again.
          setState({ items: missed.filter((r) => r.replayable).reduce((list, r) => r.change(list), items), loading: false, error: null });
          if (missed.some((r) => !r.replayable)) reload();
        },
        (error) => {
          if (!alive) return;
          landed();
          setState((s) => ({ ...s, loading: false, error }));
        },
      );
    };
    /** @param {(list: C[]) => C[]} change @param {boolean} [replayable] safe to apply to a newer list */
    const patch = (change, replayable = false) => {
      if (inFlight) recent.push({ after: started, change, replayable });
      setState((s) => ({ ...s, items: change(s.items) }));
    };
    reload();
    const offs = [
      client.on('reconnect', reload),
      client.on('message', (message) => patch((list) => withMessage(list, message, client.partnerId), true)),
      ...listen(reload, patch),
    ];
    return () => {
      alive = false;
      offs.forEach((off) => off());
    };
    // `load` and `listen` are made on each render by the hooks below, from `client` only.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, version]);
  return { ...state, refresh };
}

/**
 * My mobile channels, kept current: new messages update `last_message` and
 * `unread_count`; channel events and reconnects reload the list.
 * @returns {{channels: Channel[], loading: boolean, error: BusMobileError | null, refresh: () => void}}
 */
export function useChannels() {
  const client = useBusMobileClient();
  const { items, ...rest } = useLiveList(
    client,
    () => client.channels(),
    (reload) => [
      client.on('channel', reload),
      client.on('read', (read) => {
        if (read.partner_id === client.partnerId && read.thread.model === 'bus_mobile.channel') reload();
      }),
    ],
  );
  return { channels: items, ...rest };
}

/**
 * All my conversations, Discuss's (where the server has it) and the mobile
 * channels, the most recently active first, kept current: new messages,
 * my unread counters (read here or elsewhere), conversations that come,
 * change or go.
 * @returns {{conversations: (DiscussChannel | Channel)[], loading: boolean, error: BusMobileError | null, refresh: () => void}}
 */
export function useConversations() {
  const client = useBusMobileClient();
  const { items, ...rest } = useLiveList(
    client,
    () => client.conversations(),
    (reload, patch) => [
      client.on('channel', reload),
      client.on('discussChannel', (event) => {
        if (event.event !== 'updated') return reload();
        const key = threadKey(event.thread);
        patch((list) => list.map((c) => (threadKey(c.thread) === key ? /** @type {any} */ ({ ...c, ...event.changes }) : c)));
      }),
      client.on('discussReset', reload),
      client.on('unread', ({ thread, unread_count: count }) => {
        const key = threadKey(thread);
        patch((list) => list.map((c) => (threadKey(c.thread) === key ? { ...c, unread_count: count } : c)));
      }),
      client.on('read', (read) => {
        if (read.partner_id === client.partnerId && read.thread.model === 'bus_mobile.channel') reload();
      }),
    ],
  );
  return { conversations: items, ...rest };
}

/**
 * The presence of `partnerIds` (`im_status`: online, away or offline), live.
 * @param {number[]} partnerIds
 * @returns {Record<number, Presence>}
 */
export function usePresence(partnerIds) {
  const client = useBusMobileClient();
  const key = [...new Set(partnerIds)].sort((a, b) => a - b).join(',');
  const [presence, setPresence] = useState(/** @type {Record<number, Presence>} */ ({}));
  useEffect(() => {
    const ids = key ? key.split(',').map(Number) : [];
    setPresence({});
    if (!ids.length) return undefined;
    const off = client.on('presence', (p) => {
      if (ids.includes(p.partner_id)) setPresence((all) => ({ ...all, [p.partner_id]: p }));
    });
    const unwatch = client.watchPresence(ids);
    return () => {
      off();
      unwatch();
    };
  }, [client, key]);
  return presence;
}
