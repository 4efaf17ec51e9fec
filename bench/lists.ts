/**
 * List import rate: rows/s of a CSV streamed into a list, straight through the ingress code and
 * through the admin API (multipart upload over a real socket), plus the same rows zipped.
 * `npm run bench:lists [-- --quick]`; prints a table, writes bench/results/lists.json.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, openAsBlob, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { newApiKey } from '../admin/auth/session.js';
import { buildAdminServer } from '../admin/server.js';
import { defaultConfig } from '../engine/config/load.js';
import { importListUpload } from '../engine/ingress/list-import.js';
import { DEFAULT_ZIP_LIMITS } from '../engine/ingress/zip.js';
import { openSqliteStore } from '../storage/sqlite/store.js';

const quick = process.argv.includes('--quick');
const ROWS = quick ? 200_000 : 1_000_000;

async function writeCsv(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write('email;first_name;city;plan\n');
  for (let i = 0; i < ROWS; i++) {
    // One row in 200 is invalid, one in 500 a duplicate: the report has work to do.
    const email = i % 200 === 7 ? `broken${i}` : i % 500 === 3 ? `u${i - 1}@d${(i - 1) % 997}.test` : `u${i}@d${i % 997}.test`;
    if (!out.write(`${email};Name${i};City${i % 50};${i % 3 ? 'free' : 'pro'}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

interface Row {
  path: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  accepted: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-bench-lists-'));
  try {
    const csv = join(dir, 'list.csv');
    await writeCsv(csv);
    const zip = join(dir, 'list.zip');
    execFileSync('/usr/bin/python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED); z.write(sys.argv[1], "list.csv"); z.close()', csv, zip]);
    const store = openSqliteStore(join(dir, 'q.db'));
    const results: Row[] = [];
    const measure = async (path: string, run: () => Promise<number>) => {
      const t = performance.now();
      const accepted = await run();
      const seconds = (performance.now() - t) / 1000;
      results.push({ path, rows: ROWS, seconds: +seconds.toFixed(2), rowsPerSecond: Math.round(ROWS / seconds), accepted });
    };
    await measure('ingress: CSV → list', async () => (await importListUpload(store, { name: 'direct', ownerId: null, file: csv, workDir: dir, zipLimits: DEFAULT_ZIP_LIMITS, now: Date.now() })).accepted);

    const user = store.addUser('bench@x.test', 'admin', null, Date.now());
    const key = newApiKey();
    store.setApiKey(user.id, key.hash);
    const app = await buildAdminServer({ store, config: defaultConfig(), log: pino({ level: 'silent' }), registry: new Registry() });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const post = async (file: string, name: string) => {
      const form = new FormData();
      form.append('name', name);
      form.append('file', await openAsBlob(file), name);
      const res = await fetch(`${url}/api/v1/lists`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key.key}` } });
      if (res.status !== 201) throw new Error(`${res.status} ${await res.text()}`);
      return ((await res.json()) as { accepted: number }).accepted;
    };
    await measure('API: POST /lists, CSV', () => post(csv, 'list.csv'));
    await measure('API: POST /lists, zip', () => post(zip, 'list.zip'));
    await app.close();
    store.close();

    const load = loadavg().map((x) => x.toFixed(2)).join(' ');
    console.log(`List import, ${ROWS.toLocaleString()} rows (${(statSync(csv).size / 1e6).toFixed(1)} MB CSV, ${(statSync(zip).size / 1e6).toFixed(1)} MB zip); ${cpus().length} CPUs, load ${load}`);
    console.table(results);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/lists.json', JSON.stringify({ rows: ROWS, load, cpus: cpus().length, at: new Date().toISOString(), results }, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
