// Mobile Bus > Live in headless Chromium (Debian's, driven by
// playwright-core), against the metrics stage's servers: the threaded node
// BUS_MOBILE_URL serves the page; apps connect to it and to the prefork
// node's gevent port (BUS_MOBILE_PREFORK_WS). The page must count both
// without a reload. Screenshots go to BUS_MOBILE_METRICS_OUT.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

const URL = process.env.BUS_MOBILE_URL;
const DB = process.env.BUS_MOBILE_DB;
const PREFORK_WS = process.env.BUS_MOBILE_PREFORK_WS;
const OUT = process.env.BUS_MOBILE_METRICS_OUT || tmpdir();
const CHROMIUM = process.env.BUS_MOBILE_CHROMIUM || '/usr/bin/chromium';
const ADMIN = { login: process.env.BUS_MOBILE_ADMIN_LOGIN || 'admin', password: process.env.BUS_MOBILE_ADMIN_PASSWORD || 'admin' };
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const LIVE_PATH = '/odoo/bus-mobile-live';

const profiles = [];
const sockets = [];
after(() => {
  for (const ws of sockets) ws.terminate();
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
});

async function jsonRpc(path, params, cookie) {
  const response = await fetch(`${URL}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(cookie ? { Cookie: `session_id=${cookie}` } : {}) },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params }),
  });
  const body = await response.json();
  if (body.error) throw new Error(JSON.stringify(body.error.data || body.error));
  return { result: body.result, cookie: /session_id=([^;]+)/.exec(response.headers.get('set-cookie') || '')?.[1] };
}

async function signIn(login, password) {
  return (await jsonRpc('/web/session/authenticate', { db: DB, login, password })).cookie;
}

async function newUser(adminCookie, name) {
  const login = `${name}_${randomUUID().slice(0, 8)}`;
  const call = (model, method, args, kwargs = {}) =>
    jsonRpc(`/web/dataset/call_kw/${model}/${method}`, { model, method, args, kwargs }, adminCookie);
  const groups = (await call('ir.model.data', 'search_read', [[['module', '=', 'base'], ['name', '=', 'group_user']]], { fields: ['res_id'] })).result;
  await call('res.users', 'create', [{ name, login, password: login, groups_id: [[6, 0, [groups[0].res_id]]] }]);
  return { login, password: login };
}

// An app: a mobile socket of its own device, subscribed.
async function openApp(wsBase, cookie) {
  const ws = new WebSocket(`${wsBase}/bus_mobile/websocket?device_uuid=${randomUUID()}`, {
    headers: { Cookie: `session_id=${cookie}` },
  });
  sockets.push(ws);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ event_name: 'subscribe', data: { channels: [], last: 0 } }));
  return ws;
}

// Signs in through the login form straight to `path`: Odoo's web client
// loads once. Loading it twice at once (the login's /odoo, then the page)
// made both write the new user's odoobot_state; the second to commit failed
// to serialize, and its retry logged an ERROR that failed the run.
async function browserFor(user, path) {
  const profile = mkdtempSync(join(tmpdir(), 'bus-mobile-live-'));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] || await context.newPage();
  await page.goto(`${URL}/web/login?redirect=${encodeURIComponent(path)}`, { waitUntil: 'domcontentloaded' });
  await page.fill('input[name=login]', user.login);
  await page.fill('input[name=password]', user.password);
  await Promise.all([page.waitForURL((url) => url.pathname === path, { timeout: 60000 }), page.press('input[name=password]', 'Enter')]);
  return { context, page };
}

const sockets_on_page = (page) =>
  page.$eval('.o_bus_mobile_live_sockets', (el) => Number(el.textContent.trim()));

test('an administrator sees apps connect on both nodes, live, without a reload', async () => {
  const adminCookie = await signIn(ADMIN.login, ADMIN.password);
  const app = await newUser(adminCookie, 'liveapp');
  const appCookie = await signIn(app.login, app.password);
  const { context, page } = await browserFor(ADMIN, LIVE_PATH);
  try {
    await page.waitForSelector('.o_bus_mobile_live_sockets', { timeout: 60000 });
    // Marks this page: a reload would lose it.
    await page.evaluate(() => { window.__busMobileLiveMark = 1; });
    const before = await sockets_on_page(page);

    await openApp(URL.replace(/^http/, 'ws'), appCookie);
    await page.waitForFunction(
      (n) => Number(document.querySelector('.o_bus_mobile_live_sockets')?.textContent) === n,
      before + 1, { timeout: 60000 },
    );
    await openApp(PREFORK_WS, appCookie);
    await page.waitForFunction(
      (n) => Number(document.querySelector('.o_bus_mobile_live_sockets')?.textContent) === n
        && Number(document.querySelector('.o_bus_mobile_live_nodes')?.textContent) >= 2,
      before + 2, { timeout: 60000 },
    );
    assert.equal(await page.evaluate(() => window.__busMobileLiveMark), 1, 'the page was reloaded');
    await page.screenshot({ path: join(OUT, `live-view-${DB}.png`), fullPage: true });
  } finally {
    await context.close();
  }
});

test('a user who is not an administrator cannot open it', async () => {
  const adminCookie = await signIn(ADMIN.login, ADMIN.password);
  const plain = await newUser(adminCookie, 'liveplain');
  const { context, page } = await browserFor(plain, LIVE_PATH);
  try {
    await page.waitForSelector('.o_bus_mobile_live_error', { timeout: 60000 });
    assert.equal(await page.$('.o_bus_mobile_live_sockets'), null);
    assert.match(await page.textContent('.o_bus_mobile_live_error'), /not allowed|access/i);
    // The menu is not offered either (another web client load, once this
    // one has drawn its navbar: its first requests are answered by then).
    await page.waitForSelector('.o_main_navbar', { timeout: 60000 });
    await page.goto(`${URL}/odoo`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.o_home_menu, .o_main_navbar', { timeout: 60000 });
    assert.equal(await page.$('text=Mobile Bus'), null);
    await page.screenshot({ path: join(OUT, `live-view-refused-${DB}.png`) });
  } finally {
    await context.close();
  }
});
