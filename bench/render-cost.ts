/**
 * `npx tsx bench/render-cost.ts [n]`: CPU per message of each render step in one thread (template,
 * MIME, DKIM), for the bench campaigns, so changes to the render path can be measured apart from
 * the sockets and the machine's load.
 */
import { generateDkimKey, signerFromKeys } from '../engine/dkim/keys.js';
import type { DkimAlgorithm } from '../engine/dkim/sign.js';
import { compileCampaign, renderMessage, type RenderDeps } from '../engine/render/message.js';
import type { Campaign } from '../storage/store.js';
import { benchCampaign } from './content.js';

const n = Number(process.argv[2] ?? 2000);

function campaignRow(kb: number): Campaign {
  const c = benchCampaign(kb);
  return { ...c, id: 1, html: c.html ?? null, text: c.text ?? null, replyTo: null, headers: {}, transferEncoding: 'auto', tracking: false, status: 'running' } as unknown as Campaign;
}

async function measure(label: string, kb: number, dkim: DkimAlgorithm[]): Promise<void> {
  const keys = dkim.map((algorithm, i) => ({ domain: 'sender.test', selector: `s${i}`, algorithm, privateKeyPem: generateDkimKey(algorithm).privateKeyPem }));
  const deps: RenderDeps = { signer: signerFromKeys(keys), decorator: null, xMailer: '', feedbackId: '' };
  const c = compileCampaign(campaignRow(kb), [], deps);
  const one = (i: number) => renderMessage(c, { id: i, email: `user${i}@d${i % 50}.test`, attrs: { name: `Name${i}`, city: 'Lyon' } }, deps);
  for (let i = 0; i < 200; i++) await one(i);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += (await one(i)).length;
  const cpu = process.cpuUsage(cpu0);
  const ms = (performance.now() - t0) / n;
  console.log(`${label.padEnd(26)} ${(bytes / n).toFixed(0).padStart(7)} bytes  ${ms.toFixed(3)} ms/msg wall  ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms/msg CPU`);
}

await measure('10 KB, unsigned', 10, []);
await measure('10 KB, RSA-2048', 10, ['rsa-sha256']);
await measure('10 KB, Ed25519', 10, ['ed25519-sha256']);
await measure('100 KB, RSA-2048', 100, ['rsa-sha256']);
