// /bus_mobile/playground in headless Chromium: the client from
// /bus_mobile/static/client/index.js, in a browser that owns the cookies.
import test, { after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { URL, newUser, makeClient, closeAll, waitForEvent } from './helpers.js';

const CHROMIUM = process.env.BUS_MOBILE_CHROMIUM || '/usr/bin/chromium';
const OUT_DIR = process.env.BUS_MOBILE_RUN_DIR || tmpdir();
const profile = mkdtempSync(join(tmpdir(), 'bus-mobile-chromium-'));

afterEach(closeAll);
after(() => rmSync(profile, { recursive: true, force: true }));

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

  const browser = await puppeteer.launch({
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
  const pageErrors = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.setViewport({ width: 1200, height: 700 });
    await page.goto(`${URL}/web/login?redirect=/bus_mobile/playground`, { waitUntil: 'domcontentloaded' });
    // Odoo's login page shows its form once its scripts ran.
    await page.waitForSelector('input[name=login]', { visible: true, timeout: 30000 });
    await page.type('input[name=login]', pageUser.login);
    await page.type('input[name=password]', pageUser.password);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.keyboard.press('Enter')]);
    if (!page.url().includes('/bus_mobile/playground')) await page.goto(`${URL}/bus_mobile/playground`, { waitUntil: 'domcontentloaded' });

    await page.waitForSelector('#state[data-state="open"]', { timeout: 30000 });
    await page.waitForSelector(`#channels li[data-channel-id="${channel.id}"].current`, { timeout: 30000 });

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

    mkdirSync(OUT_DIR, { recursive: true });
    const file = join(OUT_DIR, `playground-${process.env.BUS_MOBILE_JS_LABEL || 'server'}.png`);
    await page.screenshot({ path: file });
    console.log(`playground screenshot: ${file}`);
  } finally {
    await browser.close();
  }
  assert.deepEqual(pageErrors, []);
});
