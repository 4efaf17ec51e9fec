import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import addressparser from 'nodemailer/lib/addressparser';
import { parseDuration } from '../config/duration.js';
import { checkAddress } from '../ingress/address.js';
import { IngressError } from '../ingress/errors.js';
import { importCampaignCsv } from '../ingress/import.js';
import { compileTemplate, TemplateError } from '../render/template.js';
import { createEngine } from '../runtime.js';
import { untilQuiet } from '../scheduler/engine.js';
import type { CampaignInput, ImportResult } from '../../storage/store.js';
import { lockEngine, makeLogger, onStopSignals, openStore, readConfig, storageFullError, unlockEngine } from './common.js';
import { CliError, EXIT, isStorageFull } from './exit.js';
import { messageOptionsFromFlags } from './message-flags.js';
import { buildSummary, formatSummary } from './summary.js';

const OPTIONS = {
  config: { type: 'string' },
  csv: { type: 'string' },
  from: { type: 'string' },
  'mail-from': { type: 'string' },
  subject: { type: 'string' },
  html: { type: 'string' },
  text: { type: 'string' },
  pool: { type: 'string', default: 'default' },
  name: { type: 'string' },
  'reply-to': { type: 'string' },
  header: { type: 'string', multiple: true },
  attach: { type: 'string', multiple: true },
  inline: { type: 'string', multiple: true },
  encoding: { type: 'string', default: 'auto' },
  track: { type: 'boolean', default: false },
  'max-wait': { type: 'string', default: '60s' },
  json: { type: 'boolean', default: false },
} as const;

export async function sendCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  for (const required of ['csv', 'from', 'subject'] as const) {
    if (!v[required]) throw new CliError(EXIT.usage, `--${required} is required`);
  }
  if (!v.html && !v.text) throw new CliError(EXIT.usage, 'give the message body with --html FILE and/or --text FILE');
  const maxWaitMs = durationFlag('--max-wait', v['max-wait']);
  const config = readConfig(v.config);
  const log = makeLogger(config, !v.json);
  const campaign = campaignFromFlags(v);
  if (campaign.tracking && !config.tracking.baseUrl) throw new CliError(EXIT.config, '--track: [tracking] base_url is not set in the config, so there is nothing to link to');
  const store = openStore(config);
  try {
    let progress: Progress | null = null;
    const missing: Record<string, number> = {};
    const engine = createEngine(config, store, log, {
      onRecord: (rec) => progress?.onRecord(rec.campaignId, rec.status),
      onMissingTag: (_campaignId, key) => void (missing[key] = (missing[key] ?? 0) + 1),
    });
    if (!engine.pools.has(campaign.pool)) throw new CliError(EXIT.input, `--pool: no pool "${campaign.pool}" in the config or made over the API (have: ${engine.pools.names().join(', ') || 'none'})`);
    lockEngine(store, log);
    const started = Date.now();
    const imported = await importCampaignCsv(store, campaign, v.csv!).catch((err: unknown) => {
      if (err instanceof IngressError) throw new CliError(EXIT.input, err.code === 'INPUT_INVALID' ? `message options: ${err.message}` : `--csv: ${err.message}`);
      if (isStorageFull(err)) throw storageFullError(config, 'the campaign was not stored (what part of it was written is removed at the next start).');
      throw err;
    });
    progress = Progress.maybe(imported, !v.json);
    const stopSignals = onStopSignals(() => engine.scheduler.stop(), log, () => {
      engine.scheduler.abandon();
      store.releaseEngineLock(process.pid);
    });
    await engine.scheduler.run(untilQuiet(maxWaitMs)).finally(() => engine.close());
    stopSignals();
    progress?.stop();
    const summary = buildSummary(campaign.name, imported, store.campaignSummary(imported.campaignId), store.invalidRows(imported.campaignId, 20), missing, Date.now() - started);
    out.write(v.json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}\n`);
    return EXIT.ok;
  } finally {
    unlockEngine(store, log);
    store.close();
  }
}

type Flags = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

function campaignFromFlags(v: Flags): CampaignInput {
  const parsed = addressparser(v.from!, { flatten: true });
  const first = parsed[0];
  if (parsed.length !== 1 || !first?.address) throw new CliError(EXIT.input, `--from: expected one address like 'News <news@sender.test>', got ${JSON.stringify(v.from)}`);
  const fromCheck = checkAddress(first.address);
  if (!fromCheck.ok) throw new CliError(EXIT.input, `--from: ${fromCheck.reason}`);
  const mailFrom = v['mail-from'] ? checkAddress(v['mail-from']) : fromCheck;
  if (!mailFrom.ok) throw new CliError(EXIT.input, `--mail-from: ${mailFrom.reason}`);
  const html = v.html ? readTemplateFile('--html', v.html) : null;
  const text = v.text ? readTemplateFile('--text', v.text) : null;
  checkTemplate('--subject', v.subject!, v.subject!);
  return {
    name: v.name ?? basename(v.csv!),
    from: v.from!,
    mailFrom: mailFrom.email,
    subject: v.subject!,
    html,
    text,
    pool: v.pool ?? 'default',
    ...messageOptionsFromFlags(v),
  };
}

function readTemplateFile(flag: string, file: string): string {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(EXIT.input, `${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  checkTemplate(flag, file, source);
  return source;
}

function checkTemplate(flag: string, where: string, source: string): void {
  try {
    compileTemplate(source);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    const line = source.slice(0, err.offset).split('\n').length;
    throw new CliError(EXIT.input, `${flag}: ${where}:${line}: ${err.message}`);
  }
}

function durationFlag(flag: string, value: string | undefined): number {
  try {
    return parseDuration(value ?? '');
  } catch (err) {
    throw new CliError(EXIT.usage, `${flag}: ${(err as Error).message}`);
  }
}

/** A progress bar on a terminal: final outcomes of this campaign against its recipients. */
class Progress {
  private done = 0;
  private deferred = 0;

  private constructor(
    private readonly campaignId: number,
    private readonly bar: cliProgress.SingleBar,
  ) {}

  static maybe(imported: ImportResult, wanted: boolean): Progress | null {
    if (!wanted || !process.stderr.isTTY) return null;
    const bar = new cliProgress.SingleBar(
      { format: 'delivering [{bar}] {value}/{total} final, {deferred} deferred, {eta_formatted} left', stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    bar.start(imported.accepted - imported.suppressed, 0, { deferred: 0 });
    return new Progress(imported.campaignId, bar);
  }

  onRecord(campaignId: number, status: string): void {
    if (campaignId !== this.campaignId) return;
    if (status === 'deferred') this.deferred++;
    else this.done++;
    this.bar.update(this.done, { deferred: this.deferred });
  }

  stop(): void {
    this.bar.stop();
  }
}
