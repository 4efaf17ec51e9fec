import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { ListenAddress } from '../config/inbound.js';
import { checkAddress } from '../ingress/address.js';
import { listenSmtp, smtpError, type Listening } from '../ingress/smtp-listen.js';
import type { Submitter } from './auth.js';
import type { RelayNetworks } from './relay.js';
import type { Submission } from '../../storage/messages.js';
import type { ImportResult } from '../../storage/store.js';
import { IntakeError, prepareSubmission } from './intake.js';

/**
 * SMTP submission (RFC 6409) for applications, run in the listener thread (listener-thread.ts).
 * STARTTLS before AUTH; AUTH PLAIN/LOGIN against API keys; nothing is accepted without AUTH (530 at
 * MAIL) unless the client is in a configured relay network, so this is never an open relay. Each
 * message is completed here and committed by the main thread (group commit, fsync) before its 250.
 */
export interface SubmissionDeps {
  /** The user an API key belongs to; the main thread holds the store. Rejects when it cannot tell (454). */
  verify: (username: string, apiKey: string) => Promise<Submitter | null>;
  tls: { key: Buffer; cert: Buffer };
  hostname: string;
  maxSize: number;
  pool: string;
  /** Clients that submit without AUTH or TLS, and whose mail they send as; null: none. */
  relay: { networks: RelayNetworks; user: Submitter } | null;
  /**
   * Takes a completed message: the per-user rate, then the group commit. Resolves once it is on
   * disk; rejects with an smtpError (450 over the rate, 451 when it could not be stored).
   */
  store: (sub: Submission) => Promise<ImportResult>;
  /** Milliseconds until a user that `store` refused for its rate may submit again; 0: go. */
  rateWait: (userId: number) => number;
  warn: (message: string, err: string) => void;
  now: () => number;
}

export type SubmissionServer = Listening;

type Session = SMTPServerSession & { user?: Submitter };

type SubmitterOf = (session: Session) => Submitter | null;

/**
 * The user a session acts for: the one its AUTH named, or the relay user for a trusted network.
 * Whether the client is inside is decided once per connection, not at every command.
 */
function submitters(deps: SubmissionDeps): SubmitterOf {
  const inside = new WeakMap<Session, { address: string; inside: boolean }>();
  return (session) => {
    if (session.user) return session.user;
    if (!deps.relay) return null;
    let known = inside.get(session);
    if (known?.address !== session.remoteAddress) {
      known = { address: session.remoteAddress, inside: deps.relay.networks.includes(session.remoteAddress) };
      inside.set(session, known);
    }
    return known.inside ? deps.relay.user : null;
  };
}

export async function startSubmission(listen: ListenAddress, deps: SubmissionDeps): Promise<SubmissionServer> {
  const submitterOf = submitters(deps);
  const server = new SMTPServer({
    name: deps.hostname,
    banner: 'mxpress submission',
    key: deps.tls.key,
    cert: deps.tls.cert,
    size: deps.maxSize,
    authMethods: ['PLAIN', 'LOGIN'],
    // smtp-server would refuse MAIL without AUTH for everyone; mailFrom() decides instead, so that
    // relay networks can submit without it and everyone else still gets 530.
    authOptional: true,
    // Credentials only inside TLS: smtp-server then refuses AUTH before STARTTLS (538).
    allowInsecureAuth: false,
    logger: false,
    // The client's reverse name is used nowhere (no Received field names it, the log has the
    // address); looking it up cost every connection a DNS query and an event-loop turn before the
    // greeting, up to smtp-server's 1.5 s timeout with a slow resolver.
    disableReverseLookup: true,
    onAuth: (auth, _session, cb) => {
      deps.verify(auth.username ?? '', auth.password ?? '').then(
        // smtp-server types `user` as any value it keeps on the session for us.
        (user) => (user ? cb(null, { user }) : cb(smtpError(535, '5.7.8 Authentication credentials invalid'))),
        // The main thread logged why.
        () => cb(smtpError(454, '4.7.0 Temporary authentication failure')),
      );
    },
    onMailFrom: (address, session: Session, cb) => cb(mailFrom(address.address, submitterOf(session), deps)),
    onRcptTo: (address, session: Session, cb) => {
      if (!submitterOf(session)) return cb(smtpError(530, '5.7.0 Authentication required'));
      const v = checkAddress(address.address);
      cb(v.ok ? null : smtpError(553, `5.1.3 Bad recipient address: ${v.reason}`));
    },
    onData: (stream, session: Session, cb) => void accept(stream, session, submitterOf(session)!, deps).then((msg) => cb(null, msg), (err: Error) => cb(err)),
  });
  server.on('error', (err) => deps.warn('submission: connection error', err.message));
  return listenSmtp(server, listen);
}

function mailFrom(address: string, user: Submitter | null, deps: SubmissionDeps): Error | null {
  if (!user) return smtpError(530, '5.7.0 Authentication required');
  if (address !== '' && !checkAddress(address).ok) return smtpError(553, '5.1.7 Bad sender address');
  const waitMs = deps.rateWait(user.id);
  if (waitMs > 0) return smtpError(450, `4.7.0 Rate limit reached for this user; try again in ${Math.ceil(waitMs / 1000)} seconds`);
  return null;
}

async function accept(stream: SMTPServerDataStream, session: Session, submitter: Submitter, deps: SubmissionDeps): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  if (stream.sizeExceeded) throw smtpError(552, `5.3.4 Message larger than ${deps.maxSize} bytes`);
  const recipients = uniqueRecipients(session.envelope.rcptTo.map((r) => r.address));
  const mailFromAddress = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  let sub: Submission;
  try {
    sub = prepareSubmission({ submitter, channel: 'smtp', mailFrom: mailFromAddress, recipients, raw: Buffer.concat(chunks), pool: deps.pool }, deps.now());
  } catch (err) {
    if (err instanceof IntakeError) throw smtpError(554, `5.6.0 ${err.message}`);
    throw err;
  }
  const stored = await deps.store(sub);
  return `2.0.0 Queued as ${stored.campaignId} (${stored.accepted} recipients${stored.suppressed ? `, ${stored.suppressed} suppressed` : ''})`;
}

/** RCPT already checked each address; the same one given twice is sent once. */
export function uniqueRecipients(addresses: readonly string[]): { email: string; domain: string }[] {
  const seen = new Map<string, { email: string; domain: string }>();
  for (const a of addresses) {
    const v = checkAddress(a);
    if (v.ok && !seen.has(v.email)) seen.set(v.email, { email: v.email, domain: v.domain });
  }
  return [...seen.values()];
}
