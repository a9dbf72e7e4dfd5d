/**
 * The plain text of mail's HTML (doc/discuss.md, "Plain text of HTML"):
 * white space as a browser renders it, a line break for `<br>` and the
 * end of each block, tags dropped, entities decoded, trimmed.
 * @param {string | null | undefined | false} html
 * @returns {string}
 */
export function htmlToText(html: string | null | undefined | false): string;
/** Odoo's `"YYYY-MM-DD HH:MM:SS"` (UTC) as ISO 8601, or null. @param {any} value */
export function isoDate(value: any): string | null;
/**
 * `[url, image_url]` of an attachment of the conversation `channelId`.
 * @param {number} channelId @param {number} attachmentId @param {string | null | undefined} mimetype
 * @returns {[string, string | null]}
 */
export function attachmentUrls(channelId: number, attachmentId: number, mimetype: string | null | undefined): [string, string | null];
/** @param {any} entry an `ir.attachment` entry @param {number} channelId @returns {Attachment} */
export function attachmentDict(entry: any, channelId: number): Attachment;
/**
 * The messages of `data` (a `Store` result): of `messageIds` in that
 * order, or of every `mail.message` entry.
 * @param {any} data
 * @param {number[]} [messageIds]
 * @param {Record<number, string>} [clientUuids]
 * @returns {Message[]}
 */
export function messageDicts(data: any, messageIds?: number[], clientUuids?: Record<number, string>): Message[];
export const EDITED_MARK: "o-mail-Message-edited";
export const TEMPORARY_ID_PREFIX: "bus_mobile:";
/** Indexes of one `Store` result, by model and id. */
export class StoreData {
    /** @param {any} data */
    constructor(data: any);
    data: any;
    messages: Map<any, any>;
    partners: Map<any, any>;
    guests: Map<any, any>;
    attachments: Map<any, any>;
    /** @type {Map<string, any>} */
    reactions: Map<string, any>;
    /** Name of a `{id, type}` persona (partner or guest), or null. @param {any} persona */
    personaName(persona: any): any;
    /** @param {any} message @returns {[number | null, string]} */
    author(message: any): [number | null, string];
    /**
     * The message of the `mail.message` entry `messageId`.
     * @param {number} messageId
     * @param {string | null} [clientUuid]
     * @returns {Message}
     */
    messageDict(messageId: number, clientUuid?: string | null): Message;
    /** @param {any} ids @param {number | null} channelId @returns {Attachment[] | null} null: unknown without the conversation */
    attachmentDicts(ids: any, channelId: number | null): Attachment[] | null;
    /** @param {any} recipients @returns {{partner_id: number, name: string}[]} */
    mentions(recipients: any): {
        partner_id: number;
        name: string;
    }[];
    /** @param {any} parentId */
    parentDict(parentId: any): {
        id: any;
        author_id: number | null;
        author_name: string;
        body: string;
    } | null;
    /**
     * Reactions of a message's entry: mail's commands, or a plain list of `{message, content}`.
     * @param {number} messageId @param {any[]} reactions @returns {Reaction[]}
     */
    reactionDicts(messageId: number, reactions: any[]): Reaction[];
    /** @param {any} entry a `MessageReactions` entry @returns {Reaction} */
    reactionDict(entry: any): Reaction;
    /**
     * What a `mail.message` entry of `mail.record/insert` says changed in the
     * reactions: `["ADD", [{message, content}]]` gives the new count and
     * people, `["DELETE", {message, content}]` a count of 0.
     * @param {number} messageId @param {any[]} commands @returns {Reaction[]}
     */
    reactionChanges(messageId: number, commands: any[]): Reaction[];
}
export type Message = import("./shapes.js").Message;
export type Attachment = import("./shapes.js").Attachment;
export type Reaction = import("./shapes.js").Reaction;
