import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { ListenAddress } from '../config/inbound.js';
import { checkAddress } from '../ingress/address.js';
import { listenSmtp, smtpError, type Listening } from '../ingress/smtp-listen.js';
import type { Submitter, VerifyCredentials } from './auth.js';
import type { RelayNetworks } from './relay.js';
import { IntakeError, type Intake } from './intake.js';
import type { TlsPair } from './tls.js';

/**
 * SMTP submission (RFC 6409) for applications. STARTTLS before AUTH; AUTH PLAIN/LOGIN against API
 * keys; nothing is accepted without AUTH (530 at MAIL) unless the client is in a configured relay
 * network, so this is never an open relay. Each message
 * is committed to the store (group commit, fsync) before its 250.
 */
export interface SubmissionDeps {
  verify: VerifyCredentials;
  tls: TlsPair;
  hostname: string;
  maxSize: number;
  /** Storing (group commit) and the per-user rate, shared with the inject API. */
  intake: Intake;
  pool: string;
  /** Clients that submit without AUTH or TLS, and whose mail they send as; null: none. */
  relay: { networks: RelayNetworks; user: Submitter } | null;
  log: Logger;
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
    onAuth: (auth, _session, cb) => {
      let user: Submitter | null;
      try {
        user = deps.verify(auth.username ?? '', auth.password ?? '');
      } catch (err) {
        deps.log.error({ err: (err as Error).message }, 'submission: credential check failed');
        return cb(smtpError(454, '4.7.0 Temporary authentication failure'));
      }
      // smtp-server types `user` as any value it keeps on the session for us.
      return user ? cb(null, { user }) : cb(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
    onMailFrom: (address, session: Session, cb) => cb(mailFrom(address.address, submitterOf(session), deps)),
    onRcptTo: (address, session: Session, cb) => {
      if (!submitterOf(session)) return cb(smtpError(530, '5.7.0 Authentication required'));
      const v = checkAddress(address.address);
      cb(v.ok ? null : smtpError(553, `5.1.3 Bad recipient address: ${v.reason}`));
    },
    onData: (stream, session: Session, cb) => void accept(stream, session, submitterOf(session)!, deps).then((msg) => cb(null, msg), (err: Error) => cb(err)),
  });
  server.on('error', (err) => deps.log.warn({ err: err.message }, 'submission: connection error'));
  return listenSmtp(server, listen);
}

function mailFrom(address: string, user: Submitter | null, deps: SubmissionDeps): Error | null {
  if (!user) return smtpError(530, '5.7.0 Authentication required');
  if (address !== '' && !checkAddress(address).ok) return smtpError(553, '5.1.7 Bad sender address');
  const waitMs = deps.intake.takeToken(user.id, deps.now());
  if (waitMs > 0) return smtpError(450, `4.7.0 Rate limit of ${deps.intake.rate.text} reached for this user; try again in ${Math.ceil(waitMs / 1000)} seconds`);
  return null;
}

async function accept(stream: SMTPServerDataStream, session: Session, submitter: Submitter, deps: SubmissionDeps): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  if (stream.sizeExceeded) throw smtpError(552, `5.3.4 Message larger than ${deps.maxSize} bytes`);
  const recipients = uniqueRecipients(session.envelope.rcptTo.map((r) => r.address));
  const mailFromAddress = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  try {
    const stored = await deps.intake.take({ submitter, channel: 'smtp', mailFrom: mailFromAddress, recipients, raw: Buffer.concat(chunks), pool: deps.pool }, deps.now());
    return `2.0.0 Queued as ${stored.campaignId} (${stored.accepted} recipients${stored.suppressed ? `, ${stored.suppressed} suppressed` : ''})`;
  } catch (err) {
    if (!(err instanceof IntakeError)) throw err;
    if (!err.temporary) throw smtpError(554, `5.6.0 ${err.message}`);
    deps.log.error({ err: err.message }, 'submission: could not store a message');
    throw smtpError(451, '4.3.0 Temporary failure storing the message; try again later');
  }
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
