// @ts-check
/**
 * Mail's Discuss notifications, as the web client gets them on its socket,
 * turned into the client's events (doc/discuss.md, "What the socket
 * carries"). The app never parses mail's `Store`:
 *
 *   discuss.channel/new_message        message
 *   mail.record/insert, a member       typing (isTyping), read (seen_message_id),
 *                                      unread (my message_unread_counter)
 *   mail.record/insert, a message      reactions, messageUpdated (an edit or a delete)
 *   mail.record/insert, a conversation discussChannel: added (one I did not know), updated
 *   discuss.channel/joined             discussChannel: added
 *   discuss.channel/leave, delete      discussChannel: removed
 *   discuss.channel/unpin              discussChannel: removed (a chat hidden)
 *
 * A handler that returns true says that my conversations changed: the
 * client subscribes again (the server lists them at subscribe) and syncs.
 */
import { EDITED_MARK, htmlToText, isoDate, StoreData, TEMPORARY_ID_PREFIX } from './discuss_shape.js';
import { discussThread, DISCUSS_CHANNEL } from './threads.js';

/** @typedef {import('./notifications.js').NotificationHandler} NotificationHandler */

// mail's "until I unmute".
const MUTED_FOREVER = '9999-12-31T23:59:59Z';

/** @param {any} value @returns {any[]} */
const list = (value) => (Array.isArray(value) ? value : []);

/** @param {any} entry a `discuss.channel.member` entry @returns {number | null} */
function memberChannel(entry) {
  const thread = entry && entry.thread;
  return thread && thread.model === DISCUSS_CHANNEL && Number.isInteger(thread.id) ? thread.id : null;
}

/** @param {any} entry @returns {number | null} the partner of a member entry */
function memberPartner(entry) {
  const persona = entry && entry.persona;
  return persona && persona.type === 'partner' && Number.isInteger(persona.id) ? persona.id : null;
}

/**
 * What changed in a conversation, in the channel dict's keys.
 * @param {any} entry a `discuss.channel` entry @param {string | null} channelType
 */
function channelChanges(entry, channelType) {
  /** @type {Record<string, any>} */
  const changes = {};
  if ('description' in entry) changes.description = entry.description || null;
  if ('memberCount' in entry) changes.member_count = entry.memberCount;
  if ('custom_notifications' in entry) changes.notifications = entry.custom_notifications || null;
  if ('mute_until_dt' in entry) changes.mute_until = entry.mute_until_dt === -1 ? MUTED_FOREVER : isoDate(entry.mute_until_dt);
  // A chat is called by the other person's name, or the user's own for it.
  if (channelType === 'chat') {
    if (entry.custom_channel_name) changes.name = entry.custom_channel_name;
  } else if ('name' in entry) changes.name = entry.name || '';
  return changes;
}

/**
 * The Discuss handlers for the client's `Notifications` (notification type -> handler).
 * @param {import('./client.js').BusMobileClient} client
 * @returns {[string, NotificationHandler][]}
 */
export function discussHandlers(client) {
  const discuss = client._discuss;

  /** @param {any} payload */
  const newMessage = (payload) => {
    if (!payload || !payload.data) return;
    const first = list(payload.data['mail.message'])[0];
    if (!first || !Number.isInteger(first.id)) return;
    const temporaryId = payload.temporary_id;
    const clientUuid =
      typeof temporaryId === 'string' && temporaryId.startsWith(TEMPORARY_ID_PREFIX) ? temporaryId.slice(TEMPORARY_ID_PREFIX.length) : null;
    if (!first.thread && Number.isInteger(payload.id)) first.thread = { model: DISCUSS_CHANNEL, id: payload.id };
    const message = new StoreData(payload.data).messageDict(first.id, clientUuid);
    client._discussResume.accept([message], 'socket');
  };

  /** @param {StoreData} store */
  const members = (store) => {
    for (const entry of list(store.data['discuss.channel.member'])) {
      const channelId = memberChannel(entry);
      const partnerId = memberPartner(entry);
      if (!channelId) continue;
      const thread = discussThread(channelId);
      if (typeof entry.isTyping === 'boolean') {
        if (partnerId) client.emit('typing', { thread, partner_id: partnerId, is_typing: entry.isTyping });
        continue;
      }
      if (partnerId && Number.isInteger(entry.seen_message_id)) {
        client.emit('read', { thread, partner_id: partnerId, message_id: entry.seen_message_id });
      }
      if (partnerId === client.partnerId && Number.isInteger(entry.message_unread_counter)) {
        client.emit('unread', { thread, unread_count: entry.message_unread_counter });
      }
    }
  };

  /** @param {StoreData} store */
  const messages = (store) => {
    for (const entry of list(store.data['mail.message'])) {
      if (!entry || !Number.isInteger(entry.id)) continue;
      const channelId = discuss.threadOfMessage(entry.id);
      const thread = channelId ? discussThread(channelId) : null;
      if (Array.isArray(entry.reactions)) {
        client.emit('reactions', { thread, message_id: entry.id, reactions: store.reactionChanges(entry.id, entry.reactions) });
      } else if ('body' in entry) {
        const bodyHtml = String(entry.body || '');
        const attachments = store.attachmentDicts(entry.attachment_ids, channelId);
        client.emit('messageUpdated', {
          id: entry.id,
          thread,
          body: htmlToText(bodyHtml),
          body_html: bodyHtml,
          edited: bodyHtml.includes(EDITED_MARK),
          ...(attachments ? { attachments } : {}),
          ...('recipients' in entry ? { mentions: store.mentions(entry.recipients) } : {}),
        });
      }
    }
  };

  /** @param {StoreData} store @returns {boolean} whether a conversation was added */
  const channels = (store) => {
    let added = false;
    for (const entry of list(store.data['discuss.channel'])) {
      if (!entry || !Number.isInteger(entry.id)) continue;
      const thread = discussThread(entry.id);
      if (!discuss.knows(entry.id)) {
        // A conversation I did not know: I was made a member (a group
        // someone started: its full entry), or a chat shows for me (mail
        // pins a chat for its correspondent at its first message).
        if (entry.is_pinned === true || ('channel_type' in entry && entry.is_pinned !== false)) {
          discuss.added(thread);
          added = true;
        }
        continue;
      }
      const changes = channelChanges(entry, discuss.channelType(entry.id));
      if (Object.keys(changes).length) client.emit('discussChannel', { event: 'updated', thread, changes });
    }
    return added;
  };

  /** @param {any} id @param {boolean} resubscribe */
  const removed = (id, resubscribe) => {
    if (!Number.isInteger(id)) return false;
    discuss.removed(discussThread(id));
    return resubscribe;
  };

  return [
    ['discuss.channel/new_message', newMessage],
    [
      'mail.record/insert',
      (payload) => {
        if (!payload || typeof payload !== 'object') return false;
        const store = new StoreData(payload);
        members(store);
        messages(store);
        return channels(store);
      },
    ],
    [
      'discuss.channel/joined',
      (payload) => {
        const id = payload && payload.channel && payload.channel.id;
        if (!Number.isInteger(id)) return false;
        discuss.added(discussThread(id));
        return true;
      },
    ],
    ['discuss.channel/leave', (payload) => list(payload && payload['discuss.channel']).map((c) => Boolean(c) && removed(c.id, true)).some(Boolean)],
    ['discuss.channel/delete', (payload) => removed(payload && payload.id, true)],
    ['discuss.channel/unpin', (payload) => removed(payload && payload.id, false)],
  ];
}
