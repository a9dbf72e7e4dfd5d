// Background and foreground, as a watcher sees them.
import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { pair, closeAll, waitForEvent } from './helpers.js';

afterEach(closeAll);

/** The shape of React Native's AppState. */
class AppStateSource {
  currentState = 'active';
  listeners = new Set();
  addEventListener(type, listener) {
    this.listeners.add(listener);
    return { remove: () => this.listeners.delete(listener) };
  }
  set(state) {
    this.currentState = state;
    for (const listener of this.listeners) listener(state);
  }
}

test('background: away at once, offline after the grace period; foreground: online again', async () => {
  const appState = new AppStateSource();
  const { alice, bob, bobUser, channel } = await pair({ bob: { appState, backgroundGrace: 1500 } });
  const watched = bobUser.partnerId;
  const statuses = [];
  alice.on('presence', (p) => p.partner_id === watched && statuses.push(p.im_status));
  const initial = waitForEvent(alice, 'presence', (p) => p.partner_id === watched);
  alice.watchPresence([watched]);
  assert.equal((await initial).im_status, 'online');

  const away = waitForEvent(alice, 'presence', (p) => p.partner_id === watched && p.im_status === 'away');
  appState.set('background');
  await away;
  assert.equal(bob.state, 'open', 'the socket stays during the grace period');
  const idle = waitForEvent(bob, 'state', (s) => s.state === 'idle');
  const offline = waitForEvent(alice, 'presence', (p) => p.partner_id === watched && p.im_status === 'offline');
  await idle;
  await offline;

  // Posted while bob is in the background: caught up on return.
  const missed = waitForEvent(bob, 'message', (m) => m.body === 'while you were away');
  await alice.rpc('/bus_mobile/message/post', { channel_id: channel.id, body: 'while you were away', client_uuid: `bg-${Date.now()}` });
  const online = waitForEvent(alice, 'presence', (p) => p.partner_id === watched && p.im_status === 'online');
  const reopened = waitForEvent(bob, 'state', (s) => s.state === 'open');
  appState.set('active');
  await reopened;
  await online;
  await missed;
  assert.deepEqual(statuses.slice(-3), ['away', 'offline', 'online']);
  assert.equal(bob.stats.closes.length, 1);
});

test('iOS "inactive" changes nothing', async () => {
  const appState = new AppStateSource();
  const { bob } = await pair({ bob: { appState, backgroundGrace: 500 } });
  appState.set('inactive');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(bob.state, 'open');
  assert.equal(bob.stats.closes.length, 0);
});
