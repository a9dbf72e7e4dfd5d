// A chat screen as an app would write it, rendered with react-test-renderer
// against a live client: shared by hooks.test.js and latency.test.js.
import { performance } from 'node:perf_hooks';
import { createElement as h } from 'react';
import TestRenderer from 'react-test-renderer';
import {
  BusMobileProvider,
  useChannels,
  useConnectionState,
  useMessages,
  usePresence,
  useTyping,
} from 'odoo-bus-mobile/react';

// Updates come from the live server, not from act(): let React schedule them.
globalThis.IS_REACT_ACT_ENVIRONMENT = false;

/** A chat screen as an app would write it; `probe` sees every render. */
function Screen({ channelId, watch, probe }) {
  const state = useConnectionState();
  const { channels } = useChannels();
  const { messages, post, loading } = useMessages(channelId);
  const { partnerIds: typing, setTyping } = useTyping(channelId);
  const presence = usePresence(watch);
  probe({ state, channels, messages, post, loading, typing, setTyping, presence });
  return h(
    'screen',
    null,
    h('state', null, state),
    h('channels', null, channels.map((c) => `${c.name}:${c.unread_count}`).join(',')),
    h('typing', null, typing.join(',')),
    h('presence', null, watch.map((id) => presence[id]?.im_status ?? '?').join(',')),
    ...messages.map((m) => h('message', { key: m.client_uuid ?? m.id, pending: Boolean(m.pending) }, m.body)),
  );
}

export function mount(client, channelId, watch) {
  const latest = {};
  const renders = [];
  const probe = (props) => {
    Object.assign(latest, props);
    renders.push({ at: performance.now(), messages: props.messages });
  };
  const renderer = TestRenderer.create(h(BusMobileProvider, { client }, h(Screen, { channelId, watch, probe })));
  return { latest, renders, renderer, text: () => JSON.stringify(renderer.toJSON()) };
}
