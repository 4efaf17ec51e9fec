/** The bench campaign: personalized multipart of a chosen size, and its recipient CSV. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { CampaignInput } from '../storage/store.js';

const LINE = 'Our autumn catalogue is out, {{name}}: new arrivals for {{city | "your city"}} and offers picked for you.';

/**
 * Links of a tracked campaign: `prepared` is the usual template; `per-message` holds one merge tag
 * in an unquoted attribute, which keeps the engine from preparing it (engine/tracking/plan.ts), so
 * every message is parsed as before.
 */
export type BenchTracking = 'prepared' | 'per-message';
const TRACKED_LINKS = 20;

/** HTML and text parts together about `kb` kilobytes, every paragraph carrying merge tags; with tracking, 20 more links. */
export function benchCampaign(kb: number, tracking?: BenchTracking): CampaignInput {
  const paragraphs = Math.max(1, Math.round((kb * 1024) / 2 / (LINE.length + 12)));
  const body = tracking === 'per-message' ? '<body data-r={{name}}>' : '<body>';
  const links = tracking ? Array.from({ length: TRACKED_LINKS }, (_, i) => `<p><a href="https://sender.test/p/${i}?utm_source=news&amp;utm_campaign=autumn">Item ${i}</a></p>`).join('\n') : '';
  const html = `<html>${body}<h1>Hello {{name}}</h1>\n${Array.from({ length: paragraphs }, (_, i) => `<p>${LINE} (${i})</p>`).join('\n')}\n${links}\n<p><a href="https://sender.test/shop?u={{email}}">Shop now</a></p></body></html>`;
  const text = `Hello {{name}}\n\n${Array.from({ length: paragraphs }, (_, i) => `${LINE} (${i})`).join('\n')}\n\nShop now: https://sender.test/shop\n`;
  return { name: `bench-${kb}kb`, from: 'News <news@sender.test>', mailFrom: 'news@sender.test', subject: 'Autumn news for {{name}}', html, text, pool: 'default', tracking: tracking !== undefined };
}

const CITIES = ['Oslo', 'Lyon', 'Porto', 'Graz', 'Turku', 'Gent', 'Brno'];

/** `n` recipients spread round-robin over `domains` domains d0.test…, written as a streamed CSV. */
export async function writeBenchCsv(path: string, n: number, domains: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('email,name,city\n');
  for (let i = 0; i < n; i++) {
    const ok = out.write(`user${i}@d${i % domains}.test,Name${i},${CITIES[i % CITIES.length]}\n`);
    if (!ok) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
