/**
 * Tracking cost: decorating one recipient's HTML (links rewritten, pixel added) at render time, and
 * verifying one token per public request. One thread.
 * `npm run bench:tracking [-- --quick]`; prints a table, writes bench/results/tracking.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { trackingDecorator } from '../engine/tracking/decorator.js';
import { decodeToken, encodeToken } from '../engine/tracking/token.js';

const quick = process.argv.includes('--quick');
const N = quick ? 500 : 5000;

/** A newsletter-shaped document: `links` product blocks with a link and an image each. */
function sampleHtml(links: number): string {
  const block = (i: number) =>
    `<tr><td style="padding:12px"><a href="https://shop.example/products/${i}?utm_source=news&amp;utm_medium=email&amp;utm_campaign=nov">` +
    `<img src="https://cdn.example/p/${i}.jpg" width="160" alt="Product ${i}"></a><p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p></td></tr>`;
  const rows = Array.from({ length: links }, (_, i) => block(i)).join('\n');
  return `<!DOCTYPE html><html><head><style>td{font-family:sans-serif}</style></head><body><table>${rows}</table><a href="mailto:help@sender.example">help</a></body></html>`;
}

function timeIt(fn: () => unknown): number {
  for (let i = 0; i < Math.min(100, N); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1e6 / N;
}

function main(): void {
  const key = randomBytes(32);
  const decorator = trackingDecorator({ key, baseUrl: 'https://t.sender.example' });
  const rows: { case: string; bytes: number; ms: number }[] = [];
  for (const links of [5, 20, 60]) {
    const html = sampleHtml(links);
    let id = 0;
    const ms = timeIt(() => decorator.html(html, { campaignId: 7, recipientId: ++id, email: 'ann@example.test' }));
    rows.push({ case: `decorate HTML, ${links} links`, bytes: html.length, ms });
  }
  const click = encodeToken(key, { kind: 'click', campaignId: 7, recipientId: 123_456, url: 'https://shop.example/products/1?utm_source=news&utm_medium=email' });
  rows.push({ case: 'verify click token', bytes: click.length, ms: timeIt(() => decodeToken(key, click)) });
  const forged = `${click.slice(0, -2)}AA`;
  rows.push({ case: 'reject forged token', bytes: forged.length, ms: timeIt(() => decodeToken(key, forged)) });
  console.log(`Tracking, ${N} iterations per row, one thread`);
  console.table(rows.map((r) => ({ case: r.case, bytes: r.bytes, 'µs/op': (r.ms * 1000).toFixed(1), 'ops/s/core': Math.round(1000 / r.ms) })));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/tracking.json', JSON.stringify({ at: new Date().toISOString(), n: N, rows }, null, 2));
}

main();
