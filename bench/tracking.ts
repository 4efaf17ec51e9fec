/**
 * Tracking cost: one recipient's HTML rendered and decorated (links rewritten, pixel added), by
 * parsing each message or from the template prepared once per campaign, and
 * verifying one token per public request. One thread.
 * `npm run bench:tracking [-- --quick]`; prints a table, writes bench/results/tracking.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { compileTemplate, escapeHtml, renderTemplate } from '../engine/render/template.js';
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
  return `<!DOCTYPE html><html><head><style>td{font-family:sans-serif}</style></head><body><h1>Hello {{name}}</h1><table>${rows}</table><a href="mailto:help@sender.example">help</a></body></html>`;
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
  const vars = { name: 'Ann' };
  const opts = { escape: escapeHtml };
  for (const links of [5, 20, 60]) {
    const html = sampleHtml(links);
    const template = compileTemplate(html);
    let id = 0;
    const ctx = () => ({ campaignId: 7, recipientId: ++id, email: 'ann@example.test' });
    const perMessage = timeIt(() => decorator.html(renderTemplate(template, vars, opts), ctx()));
    rows.push({ case: `render + decorate, parsed per message, ${links} links`, bytes: html.length, ms: perMessage });
    const prepared = decorator.prepare!(template)!;
    rows.push({ case: `render + decorate, prepared template, ${links} links`, bytes: html.length, ms: timeIt(() => prepared(vars, ctx(), opts)) });
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
