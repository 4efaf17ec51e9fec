import type { Logger } from 'pino';
import type { Store } from '../../storage/store.js';
import type { Config } from '../config/schema.js';
import { defaultRules } from '../outcome/classify.js';
import { startBounceListener, type BounceListener } from './listener.js';

/** Starts the bounce listener when `[bounce] listen` is set; null otherwise. */
export async function startConfiguredBounceListener(config: Config, store: Store, log: Logger): Promise<BounceListener | null> {
  const { listen, maxSize } = config.bounceListener;
  const domain = config.message.bounceDomain;
  if (!listen || !domain) return null;
  return startBounceListener(listen, { store, rules: defaultRules(), verp: { key: store.secret('verp'), domain }, maxSize, log, now: Date.now });
}
