import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crashCampaign } from './crash.js';

/**
 * `npm test` runs the short version (3 kills, 3,000 recipients); `npm run test:crash` the full one
 * (20 kills, 100,000 recipients) through the same code, sized by CRASH_KILLS and CRASH_RECIPIENTS.
 * CRASH_SEED replays a run.
 */
const kills = Number(process.env.CRASH_KILLS ?? 3);
const recipients = Number(process.env.CRASH_RECIPIENTS ?? 3_000);
const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);

test(`kill -9 ${kills} times during a ${recipients.toLocaleString('en')}-recipient campaign: nothing lost`, { timeout: 60 * 60_000 }, async () => {
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  log(`crash test: ${recipients} recipients, ${kills} kills, seed ${seed}`);
  const r = await crashCampaign({ recipients, kills, seed, log });
  log(`received ${r.received} of ${r.recipients}, lost ${r.lost}, duplicates ${r.duplicates} (bound ${r.boundPerCrash} per crash, ${r.boundPerCrash * kills} for ${kills}), ${Math.round(r.elapsedMs / 1000)} s`);
  assert.equal(r.kills.length, kills);
  assert.equal(r.lost, 0, 'every recipient received at least once');
  assert.equal(r.final.byStatus.delivered, recipients, JSON.stringify(r.final.byStatus));
  assert.equal(r.final.inFlight, 0, 'no lease left behind');
  assert.equal(r.finalExit.code, 0, `SIGTERM exits 0: ${r.finalExit.stderr.slice(-2000)}`);
  assert.ok(r.duplicates <= r.boundPerCrash * kills, `duplicates ${r.duplicates} within the bound`);
});
