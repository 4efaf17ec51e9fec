/**
 * `tsx bench/profile.ts <dir or .cpuprofile>…`: the top self-time entries of V8 CPU profiles (from
 * `npm run bench -- --profile`), one table per profile (main thread and each worker thread).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function files(args: string[]): string[] {
  return args.flatMap((a) => (statSync(a).isDirectory() ? readdirSync(a).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(a, f)) : [a]));
}

function place(url: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (m) return `${m[1]}/${m[2]!.split('/').pop()}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\/.*?\/(engine|storage|bench|test)\//, '$1/') || '(native)';
}

export function topSelf(p: Profile, n: number): { name: string; ms: number; share: number }[] {
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${place(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms, share: ms / total }));
}

for (const file of files(process.argv.slice(2))) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const total = p.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
  console.log(`\n${basename(file)}: ${(total / 1000).toFixed(1)} s sampled`);
  for (const t of topSelf(p, 25)) console.log(`${(t.share * 100).toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(6)} ms  ${t.name}`);
}
