// @ts-check
/**
 * Mail's `Store` data (what mail's socket notifications carry) to the
 * client's message shape: the same conversion as the server's
 * `discuss/shape.py` (doc/discuss.md, "Dicts"), so that a Discuss message
 * has one shape whether it came from a route or from the socket. Keep the
 * two in step with that document.
 *
 * No DOM: React Native has none, so the plain text of mail's HTML is made
 * by a small tokenizer that follows Python's `html.parser` as the server
 * uses it.
 */
import { discussThread } from './threads.js';

/** @typedef {import('./shapes.js').Message} Message */
/** @typedef {import('./shapes.js').Attachment} Attachment */
/** @typedef {import('./shapes.js').Reaction} Reaction */

const ROUTE_PREFIX = '/bus_mobile/discuss';
// Elements whose end is a line break in the plain text of a body.
const BLOCK_TAGS = new Set(['p', 'div', 'li', 'blockquote', 'pre', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'tr']);
export const EDITED_MARK = 'o-mail-Message-edited';
// How the addon's posts name themselves in mail's `temporary_id`.
export const TEMPORARY_ID_PREFIX = 'bus_mobile:';

// The named character references mail's HTML uses (lxml writes most
// characters as they are); others are left as written.
/** @type {Record<string, string>} */
const ENTITIES = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0',
  copy: '©', reg: '®', trade: '™', hellip: '…', mdash: '—', ndash: '–',
  lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»',
  bull: '•', middot: '·', euro: '€', pound: '£', yen: '¥', cent: '¢',
  sect: '§', para: '¶', deg: '°', plusmn: '±', times: '×', divide: '÷',
  frac12: '½', frac14: '¼', frac34: '¾', iexcl: '¡', iquest: '¿', shy: '\u00ad',
  ensp: '\u2002', emsp: '\u2003', thinsp: '\u2009', zwnj: '\u200c', zwj: '\u200d',
  lrm: '\u200e', rlm: '\u200f',
};

/** @param {string} text */
function decodeEntities(text) {
  return text.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);/g, (whole, ref) => {
    if (ref[0] !== '#') return Object.prototype.hasOwnProperty.call(ENTITIES, ref) ? ENTITIES[ref] : whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    // As Python's html.unescape: no NUL, no surrogate, nothing past Unicode.
    if (!code || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
    return String.fromCodePoint(code);
  });
}

// A tag (attribute values may hold '>'), a comment, or a declaration.
const MARKUP = /<(\/?)([a-zA-Z][^\s/>]*)(?:[^>"']|"[^"]*"|'[^']*')*>|<!--[\s\S]*?(?:-->|$)|<[!?][^>]*>/g;

/**
 * The plain text of mail's HTML (doc/discuss.md, "Plain text of HTML"):
 * white space as a browser renders it, a line break for `<br>` and the
 * end of each block, tags dropped, entities decoded, trimmed.
 * @param {string | null | undefined | false} html
 * @returns {string}
 */
export function htmlToText(html) {
  if (!html) return '';
  const source = String(html);
  /** @type {string[]} */
  const parts = [];
  const text = (/** @type {string} */ raw) => {
    if (raw) parts.push(decodeEntities(raw).replace(/[ \t\r\n\f]+/g, ' '));
  };
  let at = 0;
  for (const match of source.matchAll(MARKUP)) {
    text(source.slice(at, match.index));
    at = /** @type {number} */ (match.index) + match[0].length;
    const name = match[2] ? match[2].toLowerCase() : '';
    if (!name) continue;
    if (!match[1] && name === 'br') parts.push('\n');
    else if (match[1] && BLOCK_TAGS.has(name)) parts.push('\n');
    // A self-closed block (<p/>) ends where it starts.
    else if (!match[1] && BLOCK_TAGS.has(name) && /\/>$/.test(match[0])) parts.push('\n');
  }
  text(source.slice(at));
  return parts
    .join('')
    .replace(/\u00a0/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Odoo's `"YYYY-MM-DD HH:MM:SS"` (UTC) as ISO 8601, or null. @param {any} value */
export function isoDate(value) {
  if (!value) return null;
  return `${String(value).slice(0, 19).replace(' ', 'T')}Z`;
}

/**
 * `[url, image_url]` of an attachment of the conversation `channelId`.
 * @param {number} channelId @param {number} attachmentId @param {string | null | undefined} mimetype
 * @returns {[string, string | null]}
 */
export function attachmentUrls(channelId, attachmentId, mimetype) {
  const base = `${ROUTE_PREFIX}/channel/${channelId}`;
  return [`${base}/attachment/${attachmentId}`, (mimetype || '').startsWith('image/') ? `${base}/image/${attachmentId}` : null];
}

/** @param {any} entry an `ir.attachment` entry @param {number} channelId @returns {Attachment} */
export function attachmentDict(entry, channelId) {
  const [url, imageUrl] = attachmentUrls(channelId, entry.id, entry.mimetype);
  return {
    id: entry.id,
    name: entry.name || '',
    mimetype: entry.mimetype || 'application/octet-stream',
    size: entry.size || 0,
    url,
    image_url: imageUrl,
  };
}

/** @param {any} data @param {string} model @returns {Map<any, any>} */
function byId(data, model) {
  const list = data && Array.isArray(data[model]) ? data[model] : [];
  return new Map(list.filter((e) => e && e.id !== undefined).map((e) => [e.id, e]));
}

/** Indexes of one `Store` result, by model and id. */
export class StoreData {
  /** @param {any} data */
  constructor(data) {
    this.data = data || {};
    this.messages = byId(this.data, 'mail.message');
    this.partners = byId(this.data, 'res.partner');
    this.guests = byId(this.data, 'mail.guest');
    this.attachments = byId(this.data, 'ir.attachment');
    /** @type {Map<string, any>} */
    this.reactions = new Map();
    for (const entry of Array.isArray(this.data.MessageReactions) ? this.data.MessageReactions : []) {
      if (entry) this.reactions.set(`${entry.message}|${entry.content}`, entry);
    }
  }

  /** Name of a `{id, type}` persona (partner or guest), or null. @param {any} persona */
  personaName(persona) {
    if (!persona) return null;
    const index = persona.type === 'guest' ? this.guests : this.partners;
    const entry = index.get(persona.id);
    return (entry && entry.name) || null;
  }

  /** @param {any} message @returns {[number | null, string]} */
  author(message) {
    const author = message.author || null;
    const partnerId = author && author.type === 'partner' ? author.id : null;
    return [partnerId, this.personaName(author) || message.email_from || ''];
  }

  /**
   * The message of the `mail.message` entry `messageId`.
   * @param {number} messageId
   * @param {string | null} [clientUuid]
   * @returns {Message}
   */
  messageDict(messageId, clientUuid = null) {
    const message = this.messages.get(messageId);
    const channelId = (message.thread && message.thread.id) || message.res_id;
    const [authorId, authorName] = this.author(message);
    const bodyHtml = message.body || '';
    return {
      id: messageId,
      thread: discussThread(channelId),
      message_type: message.message_type,
      author_id: authorId,
      author_name: authorName,
      body: htmlToText(bodyHtml),
      body_html: String(bodyHtml),
      create_date: /** @type {string} */ (isoDate(message.create_date)),
      edited: String(bodyHtml).includes(EDITED_MARK),
      attachments: this.attachmentDicts(message.attachment_ids, channelId) ?? [],
      parent: this.parentDict(message.parentMessage),
      reactions: this.reactionDicts(messageId, message.reactions || []),
      mentions: this.mentions(message.recipients),
      client_uuid: clientUuid,
      pending: false,
    };
  }

  /** @param {any} ids @param {number | null} channelId @returns {Attachment[] | null} null: unknown without the conversation */
  attachmentDicts(ids, channelId) {
    const known = (Array.isArray(ids) ? ids : []).filter((id) => this.attachments.has(id));
    if (!known.length) return [];
    if (!channelId) return null;
    return known.map((id) => attachmentDict(this.attachments.get(id), channelId));
  }

  /** @param {any} recipients @returns {{partner_id: number, name: string}[]} */
  mentions(recipients) {
    return (Array.isArray(recipients) ? recipients : [])
      .filter((/** @type {any} */ p) => p && p.type === 'partner')
      .map((/** @type {any} */ p) => ({ partner_id: p.id, name: this.personaName(p) || '' }));
  }

  /** @param {any} parentId */
  parentDict(parentId) {
    const parent = parentId ? this.messages.get(parentId) : null;
    if (!parent) return null;
    const [authorId, authorName] = this.author(parent);
    return { id: parentId, author_id: authorId, author_name: authorName, body: htmlToText(parent.body) };
  }

  /**
   * Reactions of a message's entry: mail's commands, or a plain list of `{message, content}`.
   * @param {number} messageId @param {any[]} reactions @returns {Reaction[]}
   */
  reactionDicts(messageId, reactions) {
    /** @type {Reaction[]} */
    const result = [];
    for (const reaction of reactions) {
      const entry = reaction && this.reactions.get(`${messageId}|${reaction.content}`);
      if (entry) result.push(this.reactionDict(entry));
    }
    return result;
  }

  /** @param {any} entry a `MessageReactions` entry @returns {Reaction} */
  reactionDict(entry) {
    /** @type {any[]} */
    const personas = Array.isArray(entry.personas) ? entry.personas : [];
    return {
      content: entry.content,
      count: entry.count || 0,
      partner_ids: personas.filter((p) => p && p.type === 'partner').map((p) => p.id),
    };
  }

  /**
   * What a `mail.message` entry of `mail.record/insert` says changed in the
   * reactions: `["ADD", [{message, content}]]` gives the new count and
   * people, `["DELETE", {message, content}]` a count of 0.
   * @param {number} messageId @param {any[]} commands @returns {Reaction[]}
   */
  reactionChanges(messageId, commands) {
    /** @type {Reaction[]} */
    const changes = [];
    for (const command of commands) {
      if (!Array.isArray(command)) continue;
      const [verb, value] = command;
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) {
        if (!item || item.content === undefined) continue;
        const entry = verb === 'DELETE' ? null : this.reactions.get(`${messageId}|${item.content}`);
        changes.push(entry ? this.reactionDict(entry) : { content: item.content, count: 0, partner_ids: [] });
      }
    }
    return changes;
  }
}

/**
 * The messages of `data` (a `Store` result): of `messageIds` in that
 * order, or of every `mail.message` entry.
 * @param {any} data
 * @param {number[]} [messageIds]
 * @param {Record<number, string>} [clientUuids]
 * @returns {Message[]}
 */
export function messageDicts(data, messageIds, clientUuids = {}) {
  const store = new StoreData(data);
  const ids = messageIds ?? [...store.messages.keys()];
  return ids.filter((id) => store.messages.has(id)).map((id) => store.messageDict(id, clientUuids[id] ?? null));
}
