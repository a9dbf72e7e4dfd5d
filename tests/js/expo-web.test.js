// The Expo example (examples/expo-chat) as its web export, served from
// another origin than Odoo and driven in headless Chromium against the live
// server: device sign-in, the socket opened the web builds' way (a one-time
// ticket: a browser sets no Authorization header on a WebSocket), a
// conversation, a message each way, presence. Run by scripts/stages/expo.sh
// (not by js.sh: it needs the export), with BUS_MOBILE_EXPO_WEB_DIR.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import puppeteer from 'puppeteer-core';
import { DB, URL, callKw, closeAll, makeClient, newUser, waitForEvent } from './test/helpers.js';

const CHROMIUM = process.env.BUS_MOBILE_CHROMIUM || '/usr/bin/chromium';
const OUT_DIR = process.env.BUS_MOBILE_RUN_DIR || tmpdir();
const WEB_DIR = process.env.BUS_MOBILE_EXPO_WEB_DIR || '';
const profile = mkdtempSync(join(tmpdir(), 'bus-mobile-expo-chromium-'));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon' };

/** The export as a static site on its own port: another origin than Odoo. */
function serveExport(dir) {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new globalThis.URL(request.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(dir, path);
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(dir, 'index.html'); // a single-page app
    response.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function setAllowedOrigins(value) {
  await callKw('ir.config_parameter', 'set_param', ['bus_mobile.allowed_origins', value]);
}

after(() => rmSync(profile, { recursive: true, force: true }));

test('the Expo web export: sign in with a device token, chat with another client, presence', async () => {
  assert.ok(WEB_DIR && existsSync(join(WEB_DIR, 'index.html')), `no web export in BUS_MOBILE_EXPO_WEB_DIR=${WEB_DIR}`);
  const server = await serveExport(WEB_DIR);
  const appOrigin = `http://127.0.0.1:${server.address().port}`;
  assert.notEqual(appOrigin, new globalThis.URL(URL).origin);
  const previousOrigins = await callKw('ir.config_parameter', 'get_param', ['bus_mobile.allowed_origins', '']);
  await setAllowedOrigins(appOrigin);

  const [pageUser, bobUser] = [await newUser('webapp'), await newUser('bob')];
  const bob = makeClient(bobUser);
  await bob.start();
  const channel = await bob.createChannel({ type: 'direct', partnerIds: [pageUser.partnerId] });

  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`,
    ],
  });
  const pageErrors = [];
  const socketUrls = [];
  const requestUrls = [];
  const shot = async (page, name) => {
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, `expo-web-${name}.png`) });
  };
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('request', (request) => requestUrls.push(request.url()));
    const cdp = await page.createCDPSession();
    await cdp.send('Network.enable');
    cdp.on('Network.webSocketCreated', ({ url }) => socketUrls.push(url));
    await page.setViewport({ width: 420, height: 760 });
    await page.goto(appOrigin, { waitUntil: 'domcontentloaded' });

    // Sign in: server, database, login, password (no TOTP on this account).
    const type = async (id, text) => {
      await page.waitForSelector(`[data-testid="${id}"]`, { visible: true, timeout: 60000 });
      await page.type(`[data-testid="${id}"]`, text);
    };
    await type('server', URL);
    await type('database', DB);
    await type('login', pageUser.login);
    await type('password', pageUser.password);
    await page.click('[data-testid="sign-in"]');
    await page.waitForSelector('[data-testid="connection"][aria-label="open"]', { timeout: 60000 });

    // The device token is kept (localStorage on the web), the password is not,
    // and neither travels in a URL: the socket carried a one-time ticket.
    const saved = JSON.parse(await page.evaluate(() => localStorage.getItem('odoo-chat.session')));
    assert.equal(saved.login, pageUser.login);
    assert.deepEqual(Object.keys(saved).sort(), ['db', 'login', 'token', 'url']);
    assert.ok(saved.token);
    assert.ok(socketUrls.length >= 1, 'no WebSocket opened');
    for (const url of socketUrls) {
      assert.match(url, /\/bus_mobile\/websocket\?.*ticket=/);
      assert.ok(!url.includes(saved.token), 'the device token is in a socket URL');
    }
    assert.ok(!requestUrls.some((url) => url.includes(saved.token)), 'the device token is in a URL');

    // The conversation, with Bob's presence.
    await page.waitForSelector(`[data-testid="thread-${channel.id}"]`, { timeout: 30000 });
    await page.waitForSelector(`[data-testid="presence-${bobUser.partnerId}"][aria-label="online"]`, { timeout: 30000 });
    await shot(page, 'conversations');
    await page.click(`[data-testid="thread-${channel.id}"]`);
    await page.waitForSelector('[data-testid="composer"]', { timeout: 30000 });

    // A message from the other client shows up.
    bob.post(channel.id, 'hello from node');
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="message-body"]')].some((n) => n.textContent === 'hello from node'),
      { timeout: 30000 },
    );

    // A message from the page reaches the other client, once.
    const received = [];
    const off = bob.on('message', (m) => m.body === 'hello from the web app' && received.push(m));
    const first = waitForEvent(bob, 'message', (m) => m.body === 'hello from the web app');
    await page.type('[data-testid="composer"]', 'hello from the web app');
    await page.click('[data-testid="send"]');
    const message = await first;
    assert.equal(message.author_id, pageUser.partnerId);
    await page.waitForSelector(`[data-testid="message-${message.id}"]`, { timeout: 30000 });
    const history = await bob.messages(channel.id);
    assert.equal(history.filter((m) => m.body === 'hello from the web app').length, 1, 'stored once');
    off();
    assert.equal(received.length, 1, 'received once');
    await shot(page, 'chat');

    // Bob goes offline, then comes back: the page's dot follows.
    bob.close();
    await page.waitForSelector(`[data-testid="presence-${bobUser.partnerId}"][aria-label="offline"]`, { timeout: 60000 });
    await shot(page, 'presence-offline');
    await bob.start();
    await page.waitForSelector(`[data-testid="presence-${bobUser.partnerId}"][aria-label="online"]`, { timeout: 60000 });
    await shot(page, 'presence-online');

    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    server.close();
    closeAll();
    await setAllowedOrigins(previousOrigins || ' ');
  }
});
