/**
 * The render worker (a piscina task function): builds one message per task. Each worker keeps the
 * campaigns it has compiled; the main thread sends a campaign's row only when a worker asks for it.
 */
import { Piscina } from 'piscina';
import type { Campaign } from '../../storage/store.js';
import type { RenderInput } from './message.js';
import { CompiledCache, renderCollecting } from './renderer.js';

export interface RenderTask {
  campaignId: number;
  /** Present on the first task for a campaign a worker did not know, absent otherwise. */
  campaign: Campaign | null;
  recipient: RenderInput;
}

export type RenderReply = { kind: 'rendered'; message: Uint8Array; missing: string[] } | { kind: 'unknown-campaign' };

// One cache per worker thread: the module is loaded once per thread, and this is its whole state.
const cache = new CompiledCache();

export default async function renderTask(task: RenderTask): Promise<RenderReply> {
  const c = cache.get(task.campaignId) ?? (task.campaign ? cache.add(task.campaign) : null);
  if (!c) return { kind: 'unknown-campaign' };
  const { message, missing } = await renderCollecting(c, task.recipient);
  // Moved, not copied, back to the main thread. A small Buffer may be a slice of Node's shared pool,
  // which must not be transferred: copy those into their own memory first.
  const own = message.byteOffset === 0 && message.byteLength === message.buffer.byteLength ? message : new Uint8Array(message);
  const reply: RenderReply = { kind: 'rendered', message: own, missing };
  // piscina's .d.ts names the interface by its private symbols; the documented public ones are these.
  const transferable = { [Piscina.transferableSymbol]: own.buffer, [Piscina.valueSymbol]: reply } as unknown as Parameters<typeof Piscina.move>[0];
  return Piscina.move(transferable) as unknown as RenderReply;
}
