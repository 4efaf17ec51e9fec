import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Store } from '../../storage/store.js';
import type { ListenAddress } from '../config/inbound.js';
import { listenSmtp, smtpError, type Listening } from '../ingress/smtp-listen.js';
import type { Rule } from '../outcome/classify.js';
import { applyInbound, type InboundResult } from './apply.js';
import { parseInbound, type InboundReport } from './report.js';
import { parseVerp, type VerpOptions } from './verp.js';

/**
 * The MX of the bounce domain. It takes mail only for VERP addresses it issued (valid HMAC, known
 * recipient): every other RCPT gets 550, so it can never relay. Reports are applied before the 250,
 * so an accepted report is never lost; a store failure answers 451 and the sender retries.
 */
export interface BounceListenerDeps {
  store: Store;
  rules: readonly Rule[];
  verp: VerpOptions;
  maxSize: number;
  log: Logger;
  now: () => number;
  /** Called after each report is applied (tests, metrics). */
  onResult?: (r: InboundResult) => void;
}

export type BounceListener = Listening;

type Callback = (err?: Error | null) => void;

export async function startBounceListener(listen: ListenAddress, deps: BounceListenerDeps): Promise<BounceListener> {
  const server = new SMTPServer({
    name: deps.verp.domain,
    banner: 'mxpress bounce listener',
    size: deps.maxSize,
    authOptional: true,
    // Receivers deliver DSNs in the clear as often as not; no AUTH: nobody submits mail here.
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    // No reverse lookup of the client: its name is used nowhere, and each lookup is a DNS query.
    disableReverseLookup: true,
    onRcptTo: (address, _session, cb) => cb(acceptRcpt(address.address, deps)),
    onData: (stream, session, cb) => void onData(stream, session, deps).then(() => cb(), (err: Error) => cb(err)),
  });
  server.on('error', (err) => deps.log.warn({ err: err.message }, 'bounce listener: connection error'));
  return listenSmtp(server, listen);
}

function acceptRcpt(address: string, deps: BounceListenerDeps): Error | null {
  const id = parseVerp(address, deps.verp);
  if (id === null || deps.store.getRecipient(id) === null) return smtpError(550, '5.1.1 No such address here; this host accepts only bounces to its own VERP addresses');
  return null;
}

async function onData(stream: SMTPServerDataStream, session: SMTPServerSession, deps: BounceListenerDeps): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  if (stream.sizeExceeded) throw smtpError(552, `5.3.4 Report larger than ${deps.maxSize} bytes`);
  const report = await parseOrIgnore(Buffer.concat(chunks), deps.log);
  try {
    for (const rcpt of session.envelope.rcptTo) {
      const id = parseVerp(rcpt.address, deps.verp);
      if (id === null) continue;
      const result = applyInbound(deps.store, report, id, deps.rules, deps.now());
      deps.log.info({ recipientId: id, outcome: result.outcome, detail: result.detail, kind: report.kind }, 'inbound report');
      deps.onResult?.(result);
    }
  } catch (err) {
    deps.log.error({ err: (err as Error).message }, 'bounce listener: could not record a report');
    throw smtpError(451, '4.3.0 Temporary failure recording the report; try again later');
  }
}

/** A message mailparser cannot read would fail the same way on every retry: accept and log it. */
async function parseOrIgnore(raw: Buffer, log: Logger): Promise<InboundReport> {
  try {
    return await parseInbound(raw);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'bounce listener: unreadable message ignored');
    return { kind: 'unrecognized', reason: `unreadable: ${(err as Error).message}` };
  }
}
