import type { AccountStore } from './accounts.js';
import type { CampaignStore } from './campaigns.js';
import type { EngineStateStore } from './engine-state.js';
import type { ListStore, SenderDomainStore, SuppressionStore } from './lists.js';
import type { MessageStore } from './messages.js';
import type { QueueStore } from './queue.js';
import type { SourceStore } from './sources.js';
import type { StatsStore } from './stats.js';
import type { WebhookStore } from './webhooks.js';

export * from './accounts.js';
export * from './campaigns.js';
export * from './engine-state.js';
export * from './queue.js';
export * from './stats.js';

/**
 * The store interface: everything the engine persists goes through it, so a PostgreSQL adapter can
 * follow the SQLite one for multi-node (claims become `FOR UPDATE SKIP LOCKED`, leases stay leases).
 */
export interface Store extends CampaignStore, QueueStore, StatsStore, EngineStateStore, AccountStore {
  /** Recipient lists, suppression (global and per sender), sender domains: storage/lists.ts (issue #5). */
  readonly lists: ListStore;
  readonly suppressions: SuppressionStore;
  readonly senderDomains: SenderDomainStore;
  /** Messages taken in whole (SMTP submission, inject API): storage/messages.ts (issue #6). */
  readonly messages: MessageStore;
  /** Webhooks and the events they have yet to post: storage/webhooks.ts (issue #6). */
  readonly webhooks: WebhookStore;
  /** Sources and pools, the config's and those added over the API: storage/sources.ts (issue #5). */
  readonly sources: SourceStore;

  close(): void;
}
