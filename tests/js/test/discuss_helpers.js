// What the Discuss tests share: which database they run on, app users signed
// in with a device token, and a web user who talks through mail's own
// routes, as Odoo's web client does (the browser test drives the real one).
import { deflateSync } from 'node:zlib';
import { BusMobileClient } from 'odoo-bus-mobile';
import { URL, DB, newUser, makeClient, waitForEvent } from './helpers.js';

/** `mail` (Discuss installed) or `bus` (the bus-only database): scripts/stages/js.sh says which. */
export const FLAVOR = process.env.BUS_MOBILE_JS_FLAVOR || '';
if (!['mail', 'bus'].includes(FLAVOR)) {
  // Fail, not skip: the Discuss tests must know what the server should have.
  throw new Error('set BUS_MOBILE_JS_FLAVOR to mail or bus (the database the live server runs)');
}
export const MAIL = FLAVOR === 'mail';

/** Discuss's thread of a conversation id. */
export const dthread = (id) => ({ model: 'discuss.channel', id });

/**
 * A new internal user whose app signs in with a device token (no cookie):
 * `{user, client}`, the client not started.
 */
export async function appUser(name, options = {}) {
  const user = await newUser(name);
  const client = makeClient(user, { sessionId: undefined, reauthenticate: undefined, ...options });
  const signIn = await client.deviceLogin({ login: user.login, password: user.password, platform: 'android' });
  if (!signIn.token) throw new Error(`no device token for ${user.login}`);
  return { user, client };
}

/**
 * A user of Odoo's web client, without a browser: mail's own JSON routes
 * with the session cookie (what the web client calls).
 */
export class WebUser {
  constructor(user) {
    this.user = user;
    this.client = new BusMobileClient({ url: URL, db: DB, sessionId: user.sessionId });
  }

  static async create(name) {
    return new WebUser(await newUser(name));
  }

  rpc(route, params) {
    return this.client.rpc(route, params);
  }

  /** Post as the web composer does (HTML body); mail's Store of the message. */
  async post(channelId, html, postData = {}) {
    const store = await this.rpc('/mail/message/post', {
      thread_model: 'discuss.channel',
      thread_id: channelId,
      post_data: { body: html, message_type: 'comment', subtype_xmlid: 'mail.mt_comment', ...postData },
    });
    return store['mail.message'][0];
  }

  /** Post, and retry while the server is away (a restart): the web client's user tries again. */
  async postRetrying(channelId, html, timeout = 120000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      try {
        return await this.post(channelId, html);
      } catch (error) {
        if (!error.retryable && error.kind !== 'http' && error.kind !== 'network') throw error;
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** The last `limit` messages as mail's web client reads them (its Store entries, newest first). */
  async messages(channelId, limit = 30) {
    const answer = await this.rpc('/discuss/channel/messages', { channel_id: channelId, limit });
    const byId = new Map(answer.data['mail.message'].map((m) => [m.id, m]));
    return answer.messages.map((id) => byId.get(id));
  }

  typing(channelId, isTyping) {
    return this.rpc('/discuss/channel/notify_typing', { channel_id: channelId, is_typing: isTyping });
  }

  markRead(channelId, messageId) {
    return this.rpc('/discuss/channel/mark_as_read', { channel_id: channelId, last_message_id: messageId, sync: true });
  }

  react(messageId, content, action = 'add') {
    return this.rpc('/mail/message/reaction', { message_id: messageId, content, action });
  }
}

/**
 * An app user and a web user in a direct chat the app started:
 * `{app, appUserRec, web, chat}`; the app's client is started.
 */
export async function appAndWebChat(appOptions = {}) {
  const [{ user, client: app }, web] = await Promise.all([appUser('appu', appOptions), WebUser.create('webu')]);
  await app.start();
  const chat = await app.startChat(web.user.partnerId);
  return { app, appUserRec: user, web, chat };
}

/** The first `message` event of `client` in `thread` whose body is `body`. */
export function messageEvent(client, thread, body) {
  return waitForEvent(client, 'message', (m) => m.thread.model === thread.model && m.thread.id === thread.id && m.body === body);
}

/** A `size`x`size` PNG of one colour (`[r, g, b]`): a picture to upload. */
export function pngSquare(size, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: size }, () => row)));
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}
