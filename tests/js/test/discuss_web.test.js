// A web user and an app user talk, in a real browser: Odoo's own web
// client (Discuss) in headless Chromium for the web user, and the app (the
// JavaScript client with a device token, its React hooks) for the app user.
// The app user's own web client is open too, in another browser context,
// to show its unread counter following what the app marks read.
// Screenshots: $BUS_MOBILE_RUN_DIR/discuss-web-*.png.
import test, { after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { createElement as h } from 'react';
import TestRenderer from 'react-test-renderer';
import { BusMobileProvider, useMessages, useReadState } from 'odoo-bus-mobile/react';
import { URL, closeAll, waitUntil } from './helpers.js';
import { MAIL, appAndWebChat, pngSquare } from './discuss_helpers.js';

globalThis.IS_REACT_ACT_ENVIRONMENT = false;
const CHROMIUM = process.env.BUS_MOBILE_CHROMIUM || '/usr/bin/chromium';
const OUT_DIR = process.env.BUS_MOBILE_RUN_DIR || tmpdir();
const profile = mkdtempSync(join(tmpdir(), 'bus-mobile-chromium-'));
const WAIT = { timeout: 60000 };

afterEach(closeAll);
after(() => rmSync(profile, { recursive: true, force: true }));

const PNG = pngSquare(64, [113, 75, 103]);

/**
 * Sign `user` in through Odoo's login page, which then opens Discuss on
 * `activeId` (one load of the web client: a second one while the first
 * still initializes would race it on the user's first-load writes, and a
 * request cut short by a navigation is never reported done).
 */
async function openDiscuss(page, user, activeId) {
  await page.setViewport({ width: 1280, height: 800 });
  await oneRpcAtATime(page);
  const discuss = `/odoo/discuss?active_id=${activeId}`;
  await page.goto(`${URL}/web/login?redirect=${encodeURIComponent(discuss)}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('input[name=login]', { visible: true, ...WAIT });
  await page.type('input[name=login]', user.login);
  await page.type('input[name=password]', user.password);
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded', ...WAIT }), page.keyboard.press('Enter')]);
  await page.waitForSelector('.o-mail-Discuss', WAIT);
  assert.ok(page.url().includes(discuss), page.url());
}

/**
 * The web client's RPCs one at a time, as over a single connection, and
 * counted (`settle()` waits until none is in flight). Odoo's web client
 * sends some at once that write the same row: when a chat message comes it
 * marks it fetched and folds a chat window in two requests, and its first
 * load marks fetched twice; the one that commits second fails to
 * serialize, Odoo retries it and logs an ERROR, which fails the run. Not
 * the socket worker's script, which stays open.
 */
async function oneRpcAtATime(page) {
  const inFlight = new Set();
  const queue = [];
  const rpc = (request) => ['xhr', 'fetch'].includes(request.resourceType());
  const next = () => {
    if (inFlight.size || !queue.length) return;
    const request = queue.shift();
    inFlight.add(request);
    request.continue().catch(() => inFlight.delete(request));
  };
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (!rpc(request)) return void request.continue().catch(() => {});
    queue.push(request);
    next();
  });
  for (const done of ['requestfinished', 'requestfailed']) {
    page.on(done, (request) => {
      if (inFlight.delete(request)) next();
    });
  }
  page.pending = () => inFlight.size + queue.length;
}

/**
 * Let the web clients finish what they send after an event (mark as
 * fetched, fold a chat window): the app's next write then never races a
 * web client's write of the same member row (Odoo retries such a
 * serialization failure, and logs it as an ERROR).
 */
async function settle(...pages) {
  let quietSince = Date.now();
  await waitUntil(() => {
    if (pages.some((page) => page.pending())) quietSince = Date.now();
    return Date.now() - quietSince >= 300;
  }, 'the web clients to finish their requests', 60000);
}

/**
 * Leave Discuss's composer: with it focused, the web client marks each new
 * message read and fetched at once, two requests writing one row.
 */
function leaveComposer(page) {
  return page.evaluate(() => document.activeElement?.blur());
}

/** The web page shows a message whose text includes `text`. */
async function messageShown(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('.o-mail-Message')].some((n) => n.querySelector('.o-mail-Message-body')?.textContent.includes(t)),
    WAIT,
    text,
  );
}

/** The badge (unread counter) of the sidebar's conversation called `name`, or '' without one. */
function sidebarBadge(page, name) {
  return page.evaluate((n) => {
    const item = [...document.querySelectorAll('.o-mail-DiscussSidebarChannel')].find((b) => b.textContent.includes(n));
    if (!item) return null;
    return item.querySelector('.o-mail-DiscussSidebar-badge')?.textContent.trim() ?? '';
  }, name);
}

/** How many "seen" checks the web page shows on its message `text` (0, 1 fetched, 2 seen). */
function seenChecks(page, text) {
  return page.evaluate((t) => {
    const message = [...document.querySelectorAll('.o-mail-Message')].find((n) =>
      n.querySelector('.o-mail-Message-body')?.textContent.includes(t),
    );
    return message ? message.querySelectorAll('.o-mail-MessageSeenIndicator i.fa-check').length : -1;
  }, text);
}

/** The app's chat screen: its messages and its read state. */
function AppChat({ channelId, probe }) {
  const thread = { model: 'discuss.channel', id: channelId };
  const { messages, post } = useMessages(thread);
  const { markRead, unreadCount } = useReadState(thread);
  probe({ messages, post, markRead, unreadCount });
  return h('chat', null, ...messages.map((m) => h('message', { key: m.client_uuid ?? m.id }, m.body)));
}

if (MAIL) {
  test('a web user in Discuss and an app user talk: messages both ways, typing, unread, seen ticks, an attachment', async (t) => {
    const { app, appUserRec, web, chat } = await appAndWebChat();
    const shots = [];
    const shot = async (page, name) => {
      mkdirSync(OUT_DIR, { recursive: true });
      const file = join(OUT_DIR, `discuss-web-${name}.png`);
      await page.screenshot({ path: file });
      shots.push(file);
    };
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
    });
    const pageErrors = [];
    const latest = {};
    const renderer = TestRenderer.create(
      h(BusMobileProvider, { client: app, autoStart: false }, h(AppChat, { channelId: chat.id, probe: (p) => Object.assign(latest, p) })),
    );
    try {
      // The web user, in Discuss on the chat.
      const webPage = await browser.newPage();
      webPage.on('pageerror', (error) => pageErrors.push(error.message));
      await openDiscuss(webPage, web.user, `discuss.channel_${chat.id}`);
      await webPage.waitForSelector('.o-mail-Composer-input', WAIT);
      await leaveComposer(webPage);
      await settle(webPage);

      // The app posts: the web page shows it.
      app.post(chat.thread, 'hello from the app');
      await messageShown(webPage, 'hello from the app');

      // The app types: the web page shows it.
      await app.typing(chat.thread, true);
      await webPage.waitForFunction(() => document.querySelector('.o-discuss-Typing')?.textContent.includes('Appu is typing'), WAIT);
      await shot(webPage, '1-app-message-and-typing');

      // The web user replies in Discuss's composer: the app's hook renders it,
      // and the app user's web client counts it unread.
      await webPage.type('.o-mail-Composer-input', 'hello from the web');
      await webPage.keyboard.press('Enter');
      await leaveComposer(webPage);
      await waitUntil(() => latest.messages?.some((m) => m.body === 'hello from the web'), "the web user's reply in the app's hook", 60000);
      const reply = latest.messages.find((m) => m.body === 'hello from the web');
      assert.equal(reply.author_id, web.user.partnerId);
      // The app user's own web client, on its Inbox, counts it unread. (Open
      // once the reply is there: a chat message arriving while it is open
      // makes it fold a chat window and mark the message fetched at once,
      // two requests writing one row.)
      const ownContext = await browser.createBrowserContext();
      const ownPage = await ownContext.newPage();
      ownPage.on('pageerror', (error) => pageErrors.push(error.message));
      await openDiscuss(ownPage, appUserRec, 'mail.box_inbox');
      await ownPage.waitForFunction(
        () => [...document.querySelectorAll('.o-mail-DiscussSidebarChannel')].some((b) => b.textContent.includes('Webu') && b.querySelector('.o-mail-DiscussSidebar-badge')?.textContent.trim() === '1'),
        WAIT,
      );
      await shot(ownPage, '2-own-web-client-unread');
      assert.ok((await seenChecks(webPage, 'hello from the web')) < 2, 'the reply is not seen yet');
      t.diagnostic(`seen checks before the app read: ${await seenChecks(webPage, 'hello from the web')}`);

      // The app marks it read: the web user sees the seen ticks, the app
      // user's web client drops its counter.
      await settle(webPage, ownPage);
      await latest.markRead(reply.id);
      await webPage.waitForFunction(
        (text) => {
          const message = [...document.querySelectorAll('.o-mail-Message')].find((n) => n.querySelector('.o-mail-Message-body')?.textContent.includes(text));
          return message?.querySelectorAll('.o-mail-MessageSeenIndicator i.fa-check').length === 2;
        },
        WAIT,
        'hello from the web',
      );
      await waitUntil(async () => (await sidebarBadge(ownPage, 'Webu')) === '', "the own web client's counter gone", 60000);
      await shot(webPage, '3-seen-ticks');
      await shot(ownPage, '4-own-web-client-read');
      await settle(webPage, ownPage);
      await ownContext.close(); // the app posts next: its user's web client would mark that fetched meanwhile

      // The app uploads a picture and posts it: the web page shows the image.
      const attachment = await app.uploadAttachment(chat.thread, new Blob([PNG], { type: 'image/png' }), { name: 'dot.png' });
      latest.post('a picture', { attachments: [attachment] });
      await messageShown(webPage, 'a picture');
      await webPage.waitForFunction(
        (id) => {
          const image = document.querySelector('.o-mail-AttachmentImage img');
          return Boolean(image && image.complete && image.naturalWidth > 0 && image.src.includes(String(id)));
        },
        WAIT,
        attachment.id,
      );
      await shot(webPage, '5-attachment');
      console.log(`screenshots: ${shots.join(' ')}`);
    } finally {
      renderer.unmount();
      await browser.close();
    }
    assert.deepEqual(pageErrors, []);
  });
}
