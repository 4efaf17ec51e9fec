import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsPair {
  key: Buffer;
  cert: Buffer;
  /** Where they were read from (the startup banner names them). */
  certFile: string;
  generated: boolean;
}

/** A submission setting that cannot be used (certificate, relay user); the message names the key. */
export class SubmissionConfigError extends Error {
  readonly code = 'SUBMISSION_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'SubmissionConfigError';
  }
}

/**
 * The configured key and certificate, or a self-signed pair made once in `dir` and kept there (so
 * clients that pin it keep working across restarts). Node cannot write X.509 itself: openssl does.
 */
export function submissionTls(configured: { cert: string | null; key: string | null }, dir: string, hostname: string): TlsPair {
  if (configured.cert && configured.key) return { key: read(configured.key, 'tls_key'), cert: read(configured.cert, 'tls_cert'), certFile: configured.cert, generated: false };
  const keyFile = join(dir, 'submission.key');
  const certFile = join(dir, 'submission.crt');
  let generated = false;
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', `/CN=${hostname}`,
        '-addext', `subjectAltName=DNS:${hostname}`, '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
    } catch (err) {
      throw new SubmissionConfigError(`cannot make a self-signed certificate with openssl (${(err as Error).message.split('\n')[0]}); set submission.tls_cert and submission.tls_key`);
    }
    generated = true;
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile, generated };
}

function read(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SubmissionConfigError(`submission.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
