/**
 * `npx tsx bench/transfer.ts`: what sending the campaign with every render task would cost the main
 * thread (a structured clone of the row, as postMessage makes), against a task that names the
 * campaign by id, next to the render itself (in this thread, unsigned). Decides the pool's protocol.
 */
import { benchCampaign } from './content.js';
import { InProcessRenderer, type CampaignSource } from '../engine/render/renderer.js';
import { signerFromKeys } from '../engine/dkim/keys.js';

const N = 5000;
const renderer = new InProcessRenderer({ signer: signerFromKeys([]), decorator: null, xMailer: '', feedbackId: '' });
const micros = (t0: number, n: number) => ((performance.now() - t0) / n) * 1000;
const rows: Record<string, string>[] = [];
for (const kb of [10, 100]) {
  const source: CampaignSource = { campaign: { ...benchCampaign(kb), id: kb, status: 'running', createdAt: 0 }, attachments: [] };
  const recipient = { id: 1, email: 'user1@d1.test', attrs: { name: 'Name1', city: 'Lyon' } };
  const withRow = { campaignId: kb, source, recipient };
  const byId = { campaignId: kb, source: null, recipient };
  for (let i = 0; i < 200; i++) await renderer.render(source, recipient);
  let t0 = performance.now();
  for (let i = 0; i < N; i++) structuredClone(withRow);
  const cloneWith = micros(t0, N);
  t0 = performance.now();
  for (let i = 0; i < N; i++) structuredClone(byId);
  const cloneId = micros(t0, N);
  t0 = performance.now();
  for (let i = 0; i < N / 5; i++) await renderer.render(source, recipient);
  const render = micros(t0, N / 5);
  rows.push({ message: `${kb} KB`, 'clone task with campaign µs': cloneWith.toFixed(1), 'clone task by id µs': cloneId.toFixed(1), 'render (unsigned) µs': render.toFixed(0) });
}
console.table(rows);
