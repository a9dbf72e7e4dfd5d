// The Expo example (examples/expo-chat) as its web export, served from
// another origin than Odoo and driven in headless Chromium against the live
// server with mail: device sign-in, the socket opened the web builds' way (a
// one-time ticket: a browser sets no Authorization header on a WebSocket),
// the conversations of both kinds (a Discuss chat and a mobile channel, with
// unread counts and last messages), then in the Discuss chat a message each
// way with another client, typing, read ticks, a photo, presence. Run by
// scripts/stages/expo.sh (not by js.sh: it needs the export), with
// BUS_MOBILE_EXPO_WEB_DIR.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import puppeteer from 'puppeteer-core';
import { threadKey } from 'odoo-bus-mobile';
import { DB, URL, callKw, closeAll, makeClient, newUser, setParam, waitForEvent, waitUntil } from './test/helpers.js';

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
  await setParam('bus_mobile.allowed_origins', value);
}

after(() => rmSync(profile, { recursive: true, force: true }));

// A 1x1 PNG: the photo the page attaches (written next to the profile).
const PHOTO = join(profile, 'photo.png');
writeFileSync(PHOTO, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));

test('the Expo web export: a Discuss chat with another client, signed in with a device token', async () => {
  assert.ok(WEB_DIR && existsSync(join(WEB_DIR, 'index.html')), `no web export in BUS_MOBILE_EXPO_WEB_DIR=${WEB_DIR}`);
  const server = await serveExport(WEB_DIR);
  const appOrigin = `http://127.0.0.1:${server.address().port}`;
  assert.notEqual(appOrigin, new globalThis.URL(URL).origin);
  const previousOrigins = await callKw('ir.config_parameter', 'get_param', ['bus_mobile.allowed_origins', '']);
  await setAllowedOrigins(appOrigin);

  const [pageUser, bobUser] = [await newUser('webapp'), await newUser('bob')];
  const bob = makeClient(bobUser);
  await bob.start();
  assert.ok(bob.discussAvailable, 'the mail database has Discuss');
  // Both kinds of conversation, each with a message the page has not read.
  const chat = await bob.startChat(pageUser.partnerId);
  const mobile = await bob.createChannel({ type: 'direct', partnerIds: [pageUser.partnerId] });
  const chatKey = threadKey(chat.thread);
  const mobileKey = threadKey(mobile.thread);
  const sent = (thread, body) => waitForEvent(bob, 'message', (m) => threadKey(m.thread) === threadKey(thread) && m.body === body);
  let first = sent(chat.thread, 'first, on Discuss');
  bob.post(chat.thread, 'first, on Discuss');
  await first;
  first = sent(mobile.thread, 'first, on the mobile channel');
  bob.post(mobile.thread, 'first, on the mobile channel');
  await first;

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

    // The list: the Discuss chat and the mobile channel, named after Bob,
    // each with its unread count and last message, and Bob's presence.
    const row = (key) => `[data-testid="thread-${key}"]`;
    await page.waitForSelector(row(chatKey), { timeout: 30000 });
    await page.waitForSelector(row(mobileKey), { timeout: 30000 });
    assert.equal(await page.$eval(row(chatKey), (n) => n.getAttribute('aria-label')), 'discuss');
    assert.equal(await page.$eval(row(mobileKey), (n) => n.getAttribute('aria-label')), 'mobile');
    for (const [key, last] of [[chatKey, 'first, on Discuss'], [mobileKey, 'first, on the mobile channel']]) {
      const text = await page.$eval(row(key), (n) => n.textContent);
      assert.ok(text.startsWith('Bob'), `${key}: ${text}`);
      assert.ok(text.includes(`Bob: ${last}`), `${key}: ${text}`);
      // (The row may come a moment before its counter.)
      await page.waitForFunction((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent === '1', { timeout: 30000 }, `unread-${key}`);
    }
    await page.waitForSelector(`${row(chatKey)} [data-testid="presence-${bobUser.partnerId}"][aria-label="online"]`, { timeout: 30000 });
    await shot(page, 'conversations');

    // The Discuss chat: Bob's first message; opening it reads it.
    await page.click(row(chatKey));
    await page.waitForSelector('[data-testid="composer"]', { timeout: 30000 });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="message-body"]')].some((n) => n.textContent === 'first, on Discuss'), { timeout: 30000 });
    await waitUntil(async () => (await bob.discussChannel(chat.thread)).members.find((m) => m.partner_id === pageUser.partnerId)?.seen_message_id, 'the page read the chat');

    // Bob types, then posts: the page shows both.
    await bob.typing(chat.thread, true);
    await page.waitForFunction(() => document.querySelector('[data-testid="typing"]')?.textContent === 'Bob is typing…', { timeout: 30000 });
    bob.post(chat.thread, 'hello from node');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="message-body"]')].some((n) => n.textContent === 'hello from node'), { timeout: 30000 });

    // The page posts: Bob receives it once, stored once; Bob's read makes the tick double.
    const received = [];
    const off = bob.on('message', (m) => m.body === 'hello from the web app' && received.push(m));
    const arrived = waitForEvent(bob, 'message', (m) => threadKey(m.thread) === chatKey && m.body === 'hello from the web app');
    await page.type('[data-testid="composer"]', 'hello from the web app');
    await page.click('[data-testid="send"]');
    const message = await arrived;
    assert.equal(message.author_id, pageUser.partnerId);
    await page.waitForSelector(`[data-testid="message-${message.id}"][aria-label="sent"]`, { timeout: 30000 });
    await bob.markRead(chat.thread, message.id);
    await page.waitForSelector(`[data-testid="message-${message.id}"][aria-label="read"]`, { timeout: 30000 });
    const history = await bob.messages(chat.thread);
    assert.equal(history.filter((m) => m.body === 'hello from the web app').length, 1, 'stored once');

    // A photo: picked in the browser's file chooser, uploaded with the
    // token, posted; Bob gets it, the page shows it (fetched with the token).
    const [chooser] = await Promise.all([page.waitForFileChooser({ timeout: 30000 }), page.click('[data-testid="attach"]')]);
    await chooser.accept([PHOTO]);
    await page.waitForFunction(() => document.querySelector('[data-testid="uploads"]')?.textContent.includes('✓'), { timeout: 30000 });
    const photo = waitForEvent(bob, 'message', (m) => threadKey(m.thread) === chatKey && m.attachments.length === 1);
    await page.type('[data-testid="composer"]', 'a photo');
    await page.click('[data-testid="send"]');
    const withPhoto = await photo;
    assert.equal(withPhoto.body, 'a photo');
    assert.equal(withPhoto.attachments[0].mimetype, 'image/png');
    await page.waitForFunction(
      (id) => document.querySelector(`[data-testid="attachment-${id}"] img`)?.src.startsWith('blob:'),
      { timeout: 30000 },
      withPhoto.attachments[0].id,
    );
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
