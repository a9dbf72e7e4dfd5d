// /bus_mobile/playground in headless Chromium: the client from
// /bus_mobile/static/client/index.js, in a browser that owns the cookies.
import test, { after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { URL, newUser, makeClient, closeAll, waitForEvent } from './helpers.js';
import { MAIL, appUser, pngSquare } from './discuss_helpers.js';

const CHROMIUM = process.env.BUS_MOBILE_CHROMIUM || '/usr/bin/chromium';
const OUT_DIR = process.env.BUS_MOBILE_RUN_DIR || tmpdir();
const profile = mkdtempSync(join(tmpdir(), 'bus-mobile-chromium-'));

afterEach(closeAll);
after(() => rmSync(profile, { recursive: true, force: true }));

function launch() {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
    ],
  });
}

/** A new page of `browser`, signed in as `user` through Odoo's login page, on the playground. */
async function openPlayground(browser, user, pageErrors) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.setViewport({ width: 1200, height: 700 });
  await page.goto(`${URL}/web/login?redirect=/bus_mobile/playground`, { waitUntil: 'domcontentloaded' });
  // Odoo's login page shows its form once its scripts ran.
  await page.waitForSelector('input[name=login]', { visible: true, timeout: 30000 });
  await page.type('input[name=login]', user.login);
  await page.type('input[name=password]', user.password);
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.keyboard.press('Enter')]);
  if (!page.url().includes('/bus_mobile/playground')) await page.goto(`${URL}/bus_mobile/playground`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#state[data-state="open"]', { timeout: 30000 });
  return page;
}

/** Show the conversation `key` (`model:id`) in the playground. */
async function select(page, key) {
  // In the page: the list is drawn again as events come, a handle would go stale.
  await page.waitForFunction(
    (thread) => {
      const item = document.querySelector(`#channels li[data-thread="${thread}"]`);
      if (!item) return false;
      if (item.classList.contains('current')) return true;
      item.querySelector('button').click();
      return false;
    },
    { timeout: 30000, polling: 200 },
    key,
  );
}

function screenshot(page, name) {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, name);
  console.log(`playground screenshot: ${file}`);
  return page.screenshot({ path: file });
}

test('the playground needs a signed-in user', async () => {
  const response = await fetch(`${URL}/bus_mobile/playground`, { redirect: 'manual' });
  assert.equal(response.status, 303);
  assert.match(response.headers.get('location'), /\/web\/login/);
});

test('playground: sign in, see a message from another client, typing, presence, post from the page', async () => {
  const [pageUser, bobUser] = [await newUser('page'), await newUser('bob')];
  const bob = makeClient(bobUser);
  await bob.start();
  const channel = await bob.createChannel({ name: 'playground test', type: 'private', partnerIds: [pageUser.partnerId] });

  const browser = await launch();
  const pageErrors = [];
  try {
    const page = await openPlayground(browser, pageUser, pageErrors);
    await select(page, `bus_mobile.channel:${channel.id}`);

    // Presence of the co-member, then a message and typing from the other client.
    await page.waitForSelector(`#presence li[data-partner-id="${bobUser.partnerId}"].online`, { timeout: 30000 });
    bob.post(channel.id, 'hello from node');
    await page.waitForFunction(() => [...document.querySelectorAll('#messages .body')].some((n) => n.textContent === 'hello from node'), { timeout: 30000 });
    await bob.typing(channel.id, true);
    await page.waitForFunction(() => document.querySelector('#typing').textContent.includes('typing'), { timeout: 30000 });

    // Post from the page: the other client receives it.
    const received = waitForEvent(bob, 'message', (m) => m.body === 'hello from the page');
    await page.type('#post input', 'hello from the page');
    await page.click('#post button');
    const message = await received;
    assert.equal(message.author_id, pageUser.partnerId);
    await page.waitForSelector(`#messages li[data-message-id="${message.id}"]`, { timeout: 30000 });
    const bodies = await page.$$eval('#messages .body', (nodes) => nodes.map((n) => n.textContent));
    assert.deepEqual(bodies, ['hello from node', 'hello from the page']);

    await screenshot(page, 'playground.png');
  } finally {
    await browser.close();
  }
  assert.deepEqual(pageErrors, []);
});

test('a new user opens the playground on something to do, not on "No channel"', async () => {
  const newcomer = await newUser('newcomer');
  const browser = await launch();
  const pageErrors = [];
  try {
    const page = await openPlayground(browser, newcomer, pageErrors);
    if (MAIL) {
      // Discuss: the conversations every user has (general, OdooBot), one shown, the chat form there.
      await page.waitForSelector('#channels li.current[data-thread^="discuss.channel:"]', { timeout: 30000 });
      await page.waitForSelector('#post input:not([disabled])', { timeout: 30000 });
      assert.equal(await page.$eval('#new-chat', (n) => n.hidden), false);
    } else {
      await page.waitForSelector('#empty:not([hidden])', { timeout: 30000 });
      assert.equal(await page.$eval('#new-chat', (n) => n.hidden), true, 'no Discuss without mail');
    }
    assert.notEqual(await page.$eval('#channel-title', (n) => n.textContent), 'No channel');
    await screenshot(page, `playground-newcomer-${MAIL ? 'mail' : 'bus'}.png`);
  } finally {
    await browser.close();
  }
  assert.deepEqual(pageErrors, []);
});

if (MAIL) {
  test('playground on a Discuss chat: messages both ways, typing, an upload with progress', async () => {
    const pageUser = await newUser('page');
    const { user: appRec, client: app } = await appUser('appu');
    await app.start();
    const chat = await app.startChat(pageUser.partnerId);
    const browser = await launch();
    const pageErrors = [];
    try {
      const page = await openPlayground(browser, pageUser, pageErrors);
      // As mail does, the chat shows for the person asked once it has a message.
      app.post(chat.thread, 'hello from the app');
      await select(page, `discuss.channel:${chat.id}`);
      await page.waitForSelector(`#presence li[data-partner-id="${appRec.partnerId}"].online`, { timeout: 30000 });
      await page.waitForFunction(() => [...document.querySelectorAll('#messages .body')].some((n) => n.textContent === 'hello from the app'), { timeout: 30000 });
      await app.typing(chat.thread, true);
      await page.waitForFunction(() => document.querySelector('#typing').textContent.includes('typing'), { timeout: 30000 });

      // A picture chosen in the page: uploaded with progress, posted, received by the app.
      const file = join(OUT_DIR, 'playground-upload.png');
      mkdirSync(OUT_DIR, { recursive: true });
      writeFileSync(file, pngSquare(48, [40, 167, 69]));
      await page.evaluate(() => {
        const uploads = document.querySelector('#uploads');
        window.uploadTexts = [];
        new MutationObserver(() => window.uploadTexts.push(uploads.textContent)).observe(uploads, { childList: true, characterData: true, subtree: true });
      });
      const input = await page.$('#attach input[type=file]');
      await input.uploadFile(file);
      await page.waitForFunction(() => document.querySelector('#uploads').textContent.includes('attached: playground-upload.png'), { timeout: 30000 });
      // XMLHttpRequest's upload progress, as the page showed it.
      const texts = await page.evaluate(() => window.uploadTexts);
      assert.ok(texts.some((t) => t === 'playground-upload.png 100%'), JSON.stringify(texts));
      const received = waitForEvent(app, 'message', (m) => m.body === 'hello from the page');
      await page.type('#post input', 'hello from the page');
      await page.click('#post button');
      const message = await received;
      assert.equal(message.author_id, pageUser.partnerId);
      assert.deepEqual(message.attachments.map((a) => [a.name, a.mimetype]), [['playground-upload.png', 'image/png']]);
      await page.waitForSelector(`#messages li[data-message-id="${message.id}"] .attachment`, { timeout: 30000 });
      await screenshot(page, 'playground-discuss.png');
    } finally {
      await browser.close();
    }
    assert.deepEqual(pageErrors, []);
  });
}
