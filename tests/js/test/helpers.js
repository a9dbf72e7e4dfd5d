// Shared by the live tests: the server from the environment (the same
// variables as the Python harness's tests), users made as admin, clients
// running on node with `ws`, and waiting helpers.
import net from 'node:net';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import WebSocket from 'ws';
import { BusMobileClient, MemoryStorage } from 'odoo-bus-mobile';

export const URL = (process.env.BUS_MOBILE_URL || '').replace(/\/+$/, '');
export const DB = process.env.BUS_MOBILE_DB || '';
// The --workers server's gevent port, when the suite runs against one.
export const WS_BASE = process.env.BUS_MOBILE_WS || '';
const ADMIN_LOGIN = process.env.BUS_MOBILE_ADMIN_LOGIN || 'admin';
const ADMIN_PASSWORD = process.env.BUS_MOBILE_ADMIN_PASSWORD || 'admin';

if (!URL || !DB) {
  // Fail, not skip: a run without a server must not look green.
  throw new Error('set BUS_MOBILE_URL and BUS_MOBILE_DB to run the live tests');
}

/** Fast reconnects keep the tests short; the logic is the same. */
export const FAST = { minDelay: 200, maxDelay: 2000, tryLaterDelay: 1000 };

/** The server's `ws://host:port` (a proxy or the gevent port may replace it). */
export function serverWsBase() {
  return WS_BASE || URL.replace(/^http/, 'ws');
}

/** A client of `user` on node: `ws` for the socket, node's fetch. */
export function makeClient(user, options = {}) {
  const client = new BusMobileClient({
    url: URL,
    db: DB,
    WebSocket,
    wsBase: WS_BASE || undefined,
    storage: new MemoryStorage(),
    sessionId: user.sessionId,
    reauthenticate: (c) => c.login({ login: user.login, password: user.password }),
    ...FAST,
    ...options,
  });
  opened.add(client);
  return client;
}

const opened = new Set();
/** Close every client the test made (call in afterEach). */
export function closeAll() {
  for (const client of opened) client.close();
  opened.clear();
}

let admin;
function adminClient() {
  admin ??= (async () => {
    const client = new BusMobileClient({ url: URL, db: DB });
    // An administrator's sign-in writes web.base.url (Odoo's authenticate):
    // the two runs of a database signing in at once would fail one write.
    await exclusively('admin-login', () => client.login({ login: ADMIN_LOGIN, password: ADMIN_PASSWORD }));
    return client;
  })();
  return admin;
}

export async function callKw(model, method, args, kwargs = {}) {
  const client = await adminClient();
  return client.rpc(`/web/dataset/call_kw/${model}/${method}`, { model, method, args, kwargs });
}

// Written, then removed, to clear the server's parameter cache (setParam);
// each with a key of its own: the two runs of a database never write one row.
const CACHE_POKE = 'bus_mobile_tests.cache_poke.';

/**
 * Sets a system parameter and resolves once the server's own cache serves
 * it. Odoo clears that cache before the write commits: a thread of the same
 * process reading the parameter in between caches the old value again, so
 * the cache is cleared once more after the commit until it agrees (as
 * `LiveServer.set_param` does in the Python client's tests).
 */
export async function setParam(param, value) {
  await callKw('ir.config_parameter', 'set_param', [param, value]);
  for (let attempt = 0; attempt < 20; attempt += 1) {
    if ((await callKw('ir.config_parameter', 'get_param', [param])) === value) return;
    // Any parameter's write clears the cache; a reader racing this one reads
    // the committed value of `param`.
    const poke = CACHE_POKE + randomUUID();
    await callKw('ir.config_parameter', 'set_param', [poke, String(attempt)]);
    await callKw('ir.config_parameter', 'set_param', [poke, false]);
  }
  throw new Error(`the server still serves an old ${param} after 20 cache clears`);
}

let groupUserId;
let creating = Promise.resolve();
/** One user creation at a time: concurrent ones contend on res.users for nothing. */
export function newUser(name) {
  const made = creating.then(() => createUser(name));
  creating = made.catch(() => {});
  return made;
}

// Users made in one batch with open sessions (scripts/user_pool.py), shared
// with other test processes: a user is claimed by creating its claim file
// exclusively, so none is given twice.
const POOL = process.env.BUS_MOBILE_USER_POOL || '';
let poolUsers;
function claimPoolUser() {
  if (!POOL) return null;
  poolUsers ??= JSON.parse(readFileSync(join(POOL, 'users.json'), 'utf8'));
  for (const [index, user] of poolUsers.entries()) {
    try {
      closeSync(openSync(join(POOL, 'claims', String(index)), 'wx'));
    } catch (error) {
      if (error.code === 'EEXIST') continue;
      throw error;
    }
    return user;
  }
  return null;
}

/**
 * A new internal user `{login, password, id, partnerId, sessionId}`, signed
 * in: from the pool (renamed `name`), else created and signed in (its
 * password hashed twice, about a second of the server's time).
 */
async function createUser(name) {
  const displayName = name[0].toUpperCase() + name.slice(1);
  const pooled = claimPoolUser();
  if (pooled) {
    await callKw('res.users', 'write', [[pooled.id], { name: displayName }]);
    return { login: pooled.login, password: pooled.password, id: pooled.id, partnerId: pooled.partner_id, sessionId: pooled.sessions[0] };
  }
  const login = `${name}_${randomUUID().slice(0, 8)}`;
  if (!groupUserId) {
    const rows = await callKw('ir.model.data', 'search_read', [[['module', '=', 'base'], ['name', '=', 'group_user']], ['res_id']]);
    groupUserId = rows[0].res_id;
  }
  const id = await callKw('res.users', 'create', [{ name: displayName, login, password: login, groups_id: [[6, 0, [groupUserId]]] }]);
  const [{ partner_id: partner }] = await callKw('res.users', 'read', [[id], ['partner_id']]);
  const probe = new BusMobileClient({ url: URL, db: DB });
  await probe.login({ login, password: login });
  return { login, password: login, id, partnerId: partner[0], sessionId: probe.sessionId };
}

/**
 * Resolves with the first event `name` of `client` that `predicate` accepts.
 * Rejects after `timeout` ms with what it saw: a generous bound, never a
 * measurement (the machine is shared).
 */
export function waitForEvent(client, name, predicate = () => true, timeout = 30000) {
  return new Promise((resolve, reject) => {
    const seen = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching '${name}' event within ${timeout} ms; saw ${JSON.stringify(seen).slice(0, 2000)}`));
    }, timeout);
    const off = client.on(name, (data) => {
      seen.push(data);
      if (predicate(data)) {
        clearTimeout(timer);
        off();
        resolve(data);
      }
    });
  });
}

/** Polls `check` until it returns a truthy value; `what` (or what it
 * returns, read at the timeout) names it in the error. */
export async function waitUntil(check, what, timeout = 30000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(50);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `body` while no other test process holds `name` on this database.
 * `make test` runs these files against two servers of one database at
 * once, and some tests change what every client of the database meets (the
 * Discuss journal's cleanup mark): those, and the tests such a change would
 * break, take the same name. A holder that died leaves its lock behind: the
 * next taker removes it.
 */
export async function exclusively(name, body) {
  const lock = join(tmpdir(), `bus-mobile-${DB}-${name}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (lockHolderGone(lock)) rmSync(lock, { recursive: true, force: true });
      else await sleep(200);
    }
  }
  writeFileSync(join(lock, 'pid'), String(process.pid));
  try {
    return await body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockHolderGone(lock) {
  try {
    process.kill(Number(readFileSync(join(lock, 'pid'), 'utf8')), 0);
    return false;
  } catch (error) {
    return error.code === 'ESRCH'; // not ENOENT: its pid is being written
  }
}

/** Collects every `message` event of `client` (call `.stop()` when done). */
export function collectMessages(client, channelId) {
  const messages = [];
  const off = client.on('message', (m) => {
    if (m.channel_id === channelId) messages.push(m);
  });
  return { messages, stop: off };
}

/**
 * Two signed-in users with started clients in a new private channel:
 * `{alice, bob, aliceUser, bobUser, channel}`.
 */
export async function pair(options = {}) {
  const [aliceUser, bobUser] = await Promise.all([newUser('alice'), newUser('bob')]);
  const alice = makeClient(aliceUser, options.alice);
  const bob = makeClient(bobUser, options.bob);
  await Promise.all([alice.start(), bob.start()]);
  const joined = Promise.all([alice, bob].map((c) => waitForEvent(c, 'channel', (e) => e.event === 'created')));
  const channel = await alice.createChannel({ name: `pair ${randomUUID().slice(0, 8)}`, type: 'private', partnerIds: [bobUser.partnerId] });
  await joined;
  // The channel notification started a sync (notifications.js): its request
  // must not meet a session the test is about to end.
  await Promise.all([alice, bob].map((c) => c._resume.run));
  return { alice, bob, aliceUser, bobUser, channel };
}

/**
 * A TCP proxy to the server's socket port that the test can cut, as a lost
 * network does: `wsBase` for the client, `cut()` resets every connection.
 */
export async function cuttableProxy() {
  const target = new globalThis.URL(serverWsBase().replace(/^ws/, 'http'));
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    wsBase: `ws://127.0.0.1:${server.address().port}`,
    cut() {
      for (const s of sockets) s.resetAndDestroy();
      sockets.clear();
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Runs a shell command line (BUS_MOBILE_STOP_CMD/START_CMD). */
export function run(commandLine) {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', commandLine], { timeout: 120000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${commandLine}: ${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}
