// @ts-check
/**
 * React hooks over a `BusMobileClient` (React 18+, React Native or web).
 *
 *   <BusMobileProvider client={client}> ... </BusMobileProvider>
 *   const state = useConnectionState();
 *   const { messages, post } = useMessages(channelId);
 */
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
} from 'react';

/** @typedef {import('./client.js').BusMobileClient} BusMobileClient */
/** @typedef {import('./shapes.js').Message} Message */
/** @typedef {import('./shapes.js').PendingMessage} PendingMessage */
/** @typedef {import('./shapes.js').Channel} Channel */
/** @typedef {import('./shapes.js').Presence} Presence */
/** @typedef {import('./shapes.js').ConnectionState} ConnectionState */
/** @typedef {import('./errors.js').BusMobileError} BusMobileError */

const ClientContext = createContext(/** @type {BusMobileClient | null} */ (null));

/**
 * Makes `client` available to the hooks below it, and starts it (unless
 * `autoStart` is false). It never closes the client: call `client.close()`
 * on sign-out.
 * @param {{client: BusMobileClient, autoStart?: boolean, children?: import('react').ReactNode}} props
 */
export function BusMobileProvider({ client, autoStart = true, children }) {
  useEffect(() => {
    // Failures also come as `error` events; the promise may be ignored.
    if (autoStart) client.start().catch(() => {});
  }, [client, autoStart]);
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The provider's client. @returns {BusMobileClient} */
export function useBusMobileClient() {
  const client = useContext(ClientContext);
  if (!client) throw new Error('odoo-bus-mobile: wrap your components in <BusMobileProvider client={...}>');
  return client;
}

/** `idle`, `connecting`, `open`, `reconnecting` or `closed`. @returns {ConnectionState} */
export function useConnectionState() {
  const client = useBusMobileClient();
  const subscribe = useCallback((/** @type {() => void} */ onChange) => client.on('state', onChange), [client]);
  const get = () => client.state;
  return useSyncExternalStore(subscribe, get, get);
}

/**
 * My channels, kept current: new messages update `last_message` and
 * `unread_count`; channel events and reconnects reload the list.
 * @returns {{channels: Channel[], loading: boolean, error: BusMobileError | null, refresh: () => void}}
 */
export function useChannels() {
  const client = useBusMobileClient();
  const [state, setState] = useState({ channels: /** @type {Channel[]} */ ([]), loading: true, error: /** @type {any} */ (null) });
  const [version, setVersion] = useState(0);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  useEffect(() => {
    let alive = true;
    const load = () =>
      client.channels().then(
        (channels) => alive && setState({ channels, loading: false, error: null }),
        (error) => alive && setState((s) => ({ ...s, loading: false, error })),
      );
    load();
    const offs = [
      client.on('channel', load),
      client.on('reconnect', load),
      client.on('message', (message) =>
        setState((s) => ({
          ...s,
          channels: s.channels.map((c) =>
            c.id !== message.channel_id || (c.last_message && c.last_message.id >= message.id)
              ? c
              : {
                  ...c,
                  last_message: message,
                  unread_count: (c.unread_count ?? 0) + (message.author_id === client.partnerId ? 0 : 1),
                },
          ),
        })),
      ),
      client.on('read', (read) => {
        if (read.partner_id === client.partnerId) load();
      }),
    ];
    return () => {
      alive = false;
      offs.forEach((off) => off());
    };
  }, [client, version]);
  return { ...state, refresh };
}

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
 * The live message list of a channel: its last page of history, then every
 * new message in id order, and my pending posts after them, each kept in
 * place until the server confirms it (same `client_uuid`).
 * @param {number | null | undefined} channelId
 * @param {{limit?: number}} [options] page size (default 30)
 * @returns {{messages: (Message | PendingMessage)[], loading: boolean, error: BusMobileError | null,
 *   hasMore: boolean, loadOlder: () => Promise<void>, post: (body: string) => PendingMessage}}
 */
export function useMessages(channelId, { limit = 30 } = {}) {
  const client = useBusMobileClient();
  const [confirmed, setConfirmed] = useState(/** @type {Message[]} */ ([]));
  const [pending, setPending] = useState(() => (channelId ? client.pendingMessages(channelId) : []));
  const [status, setStatus] = useState({ loading: true, error: /** @type {any} */ (null), hasMore: false });

  useEffect(() => {
    setConfirmed([]);
    if (!channelId) {
      setPending([]);
      setStatus({ loading: false, error: null, hasMore: false });
      return undefined;
    }
    let alive = true;
    let loaded = false;
    /** @type {Message[]} */
    let early = [];
    setPending(client.pendingMessages(channelId));
    setStatus({ loading: true, error: null, hasMore: false });
    const offMessage = client.on('message', (message) => {
      if (message.channel_id !== channelId) return;
      if (!loaded) early.push(message);
      else setConfirmed((list) => mergeById(list, [message]));
    });
    const offOutbox = client.on('outbox', () => setPending(client.pendingMessages(channelId)));
    client.messages(channelId, { limit }).then(
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
      offMessage();
      offOutbox();
    };
  }, [client, channelId, limit]);

  const messages = useMemo(() => {
    const confirmedUuids = new Set(confirmed.map((m) => m.client_uuid));
    return [...confirmed, ...pending.filter((m) => !confirmedUuids.has(m.client_uuid))];
  }, [confirmed, pending]);

  const loadOlder = useCallback(async () => {
    if (!channelId) return;
    const first = confirmed[0];
    const page = await client.messages(channelId, first ? { beforeId: first.id, limit } : { limit });
    setConfirmed((list) => mergeById(list, page));
    setStatus((s) => ({ ...s, hasMore: page.length >= limit }));
  }, [client, channelId, limit, confirmed]);

  const post = useCallback(
    (/** @type {string} */ body) => {
      if (!channelId) throw new Error('useMessages: no channel to post to');
      return client.post(channelId, body);
    },
    [client, channelId],
  );

  return { messages, ...status, loadOlder, post };
}

/**
 * Who is typing in a channel (partner ids, not mine), and `setTyping` to
 * say I am (throttled by the client). A typing mark lasts `timeout` ms
 * unless renewed; a message from that partner ends it.
 * @param {number | null | undefined} channelId
 * @param {{timeout?: number}} [options] default 10000
 * @returns {{partnerIds: number[], setTyping: (isTyping: boolean) => void}}
 */
export function useTyping(channelId, { timeout = 10000 } = {}) {
  const client = useBusMobileClient();
  const [partnerIds, setPartnerIds] = useState(/** @type {number[]} */ ([]));
  useEffect(() => {
    setPartnerIds([]);
    if (!channelId) return undefined;
    /** @type {Map<number, ReturnType<typeof setTimeout>>} */
    const timers = new Map();
    const stop = (/** @type {number} */ partnerId) => {
      clearTimeout(timers.get(partnerId));
      if (timers.delete(partnerId)) setPartnerIds([...timers.keys()]);
    };
    const offs = [
      client.on('typing', ({ channel_id, partner_id, is_typing }) => {
        if (channel_id !== channelId || partner_id === client.partnerId) return;
        if (!is_typing) return stop(partner_id);
        clearTimeout(timers.get(partner_id));
        timers.set(partner_id, setTimeout(() => stop(partner_id), timeout));
        setPartnerIds([...timers.keys()]);
      }),
      client.on('message', (message) => {
        if (message.channel_id === channelId) stop(message.author_id);
      }),
    ];
    return () => {
      offs.forEach((off) => off());
      timers.forEach((timer) => clearTimeout(timer));
    };
  }, [client, channelId, timeout]);
  const setTyping = useCallback(
    (/** @type {boolean} */ isTyping) => {
      if (channelId) client.typing(channelId, isTyping).catch(() => {});
    },
    [client, channelId],
  );
  return { partnerIds, setTyping };
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
