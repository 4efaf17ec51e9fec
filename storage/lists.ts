/**
 * Recipient lists (issue #5): kept apart from campaigns, owned by a user, uploaded once and used by
 * many campaigns. A list stays `importing` (invisible) until its last row is stored; a failed upload
 * is removed whole. Reached through `Store.lists`.
 */
import type { NewRecipient } from './store.js';

export type ListStatus = 'importing' | 'ready';

export interface RecipientList {
  id: number;
  name: string;
  /** null: made by an admin tool with no owner. */
  ownerId: number | null;
  status: ListStatus;
  /** Attribute columns, in upload order (the `email` column not included). */
  columns: string[];
  /** Members now in the list. */
  count: number;
  createdAt: number;
  updatedAt: number;
}

export interface ListMember {
  id: number;
  email: string;
  domain: string;
  attrs: Record<string, string>;
  updatedAt: number;
}

/** A row an upload refused (`invalid`) or did not store twice (`duplicate`), with where it was. */
export interface ListReject {
  kind: 'invalid' | 'duplicate';
  /** The CSV file inside a zip; null for a plain CSV upload. */
  file: string | null;
  line: number;
  value: string;
  reason: string;
}

/** A member whose address is suppressed, globally or by the list's owner. */
export interface SuppressedMember {
  email: string;
  scope: 'global' | 'sender';
  reason: string;
}

export interface UploadRow extends NewRecipient {
  line: number;
}

/** Only members whose attributes equal the given values (a list of values: any of them). */
export type AttributeFilter = Record<string, string | string[]>;

export interface ListStore {
  /** A new `importing` list; rows follow with `addUploaded`; `finish` makes it visible. */
  begin(name: string, ownerId: number | null, now: number): number;
  /** Stores a batch of an upload; rows whose address is already in the list come back as duplicates. */
  addUploaded(listId: number, rows: UploadRow[], invalid: ListReject[], file: string | null, now: number): { inserted: number; duplicates: ListReject[] };
  finish(listId: number, columns: string[], now: number): RecipientList;
  /** Removes an import that failed; nothing of it stays. */
  abort(listId: number): void;
  get(id: number): RecipientList | null;
  /** Ready lists, newest first; `ownerId` null: every list. */
  page(ownerId: number | null, limit: number, beforeId?: number): RecipientList[];
  remove(id: number): boolean;
  /** Adds members or replaces the attributes of those already there, in one transaction. */
  upsert(listId: number, rows: NewRecipient[], now: number): { added: number; updated: number };
  /** Removes members by address; returns how many were there. */
  removeMembers(listId: number, emails: readonly string[], now: number): number;
  member(listId: number, email: string): ListMember | null;
  /** Members in id order after `afterId`. */
  members(listId: number, limit: number, afterId?: number): ListMember[];
  /** Every member, page by page, without holding them all in memory (CSV export). */
  iterateMembers(listId: number): IterableIterator<ListMember>;
  /** Invalid and duplicate rows of the upload (or one kind), in upload order, after `afterRow` (a position). */
  rejects(listId: number, limit: number, afterRow?: number, kind?: ListReject['kind']): (ListReject & { row: number })[];
  rejectCounts(listId: number): { invalid: number; duplicates: number };
  /** Members suppressed now (global list, or the list owner's own). */
  suppressedMembers(listId: number, limit: number): SuppressedMember[];
  suppressedCount(listId: number): number;
}

/** One suppression entry: `ownerId` null is the global list; otherwise a sender's own. */
export interface SuppressionEntry {
  email: string;
  reason: string;
  createdAt: number;
  ownerId: number | null;
}

/** Global and per-sender suppression, through `Store.suppressions`. */
export interface SuppressionStore {
  /** Adds or (same address) updates the reason; returns how many were new. */
  add(ownerId: number | null, entries: readonly { email: string; reason: string }[], now: number): number;
  remove(ownerId: number | null, email: string): boolean;
  /** In address order after `afterEmail`. */
  page(ownerId: number | null, limit: number, afterEmail?: string): SuppressionEntry[];
  iterate(ownerId: number | null): IterableIterator<SuppressionEntry>;
}

/** A domain the admin sends from, with its DKIM key (the private key never leaves the store by the API). */
export interface SenderDomain {
  domain: string;
  selector: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
  privateKeyPem: string;
  /** Where bounces go (the VERP return-path domain). */
  bounceDomain: string;
  createdAt: number;
}

export interface SenderDomainStore {
  /** false when the domain is already there. */
  add(d: SenderDomain): boolean;
  get(domain: string): SenderDomain | null;
  all(): SenderDomain[];
  remove(domain: string): boolean;
}
