import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

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

/** How long a self-signed certificate made here is valid: clients that pin it are not to lose it soon. */
const SELF_SIGNED_YEARS = 10;

/**
 * The configured key and certificate, or a self-signed pair made once in `dir` and kept there (so
 * clients that pin it keep working across restarts). Node cannot write X.509 itself; selfsigned
 * does it in process, with Node's WebCrypto.
 */
export async function submissionTls(configured: { cert: string | null; key: string | null }, dir: string, hostname: string): Promise<TlsPair> {
  if (configured.cert && configured.key) return { key: read(configured.key, 'tls_key'), cert: read(configured.cert, 'tls_cert'), certFile: configured.cert, generated: false };
  const keyFile = join(dir, 'submission.key');
  const certFile = join(dir, 'submission.crt');
  let generated = false;
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    const pems = await selfSigned(hostname);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    writeFileSync(certFile, pems.cert);
    generated = true;
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile, generated };
}

/** RSA 2048 signed with SHA-256, the hostname as subject and DNS name, valid from now. */
async function selfSigned(hostname: string): Promise<{ private: string; cert: string }> {
  const notBeforeDate = new Date();
  const notAfterDate = new Date(notBeforeDate);
  notAfterDate.setFullYear(notAfterDate.getFullYear() + SELF_SIGNED_YEARS);
  try {
    return await generate([{ name: 'commonName', value: hostname }], {
      keyType: 'rsa',
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] },
      ],
    });
  } catch (err) {
    throw new SubmissionConfigError(`cannot make a self-signed certificate for ${hostname} (${(err as Error).message}); set submission.tls_cert and submission.tls_key`);
  }
}

function read(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SubmissionConfigError(`submission.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
