import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DKIM_ALGORITHMS, type DkimAlgorithm } from '../dkim/sign.js';
import { parseDkimKey } from '../dkim/keys.js';
import { domainName, quote, section } from './fields.js';
import { bounceListenerFields } from './inbound.js';

/**
 * What every message gets besides its campaign's content: DKIM keys per sender domain (`[[dkim]]`),
 * the VERP bounce domain (`[bounce]`), and fixed headers (`[message]`). docs/configuration.md.
 */

const SELECTOR = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i;

const dkimEntry = z
  .object({
    domain: domainName('sender.example'),
    selector: z
      .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
      .refine((v) => SELECTOR.test(v) && v.length <= 63, (v) => ({ message: `${quote(v)} is not a selector (letters, digits, "-", dots between labels)` })),
    algorithm: z.enum(DKIM_ALGORITHMS).default('rsa-sha256'),
    private_key: z.string({ required_error: 'is required (a PEM file; `mxpress dkim generate` writes one)' }).min(1, 'must not be empty'),
  })
  .strict();

/** Header values we add verbatim: printable ASCII, so nothing needs encoding and nothing can break a line. */
const headerText = (what: string) => z.string().regex(/^[\x20-\x7e]*$/, `must be printable ASCII (${what})`);

export const messageSchemas = {
  dkim: z.array(dkimEntry).default([]),
  bounce: section({ domain: domainName('bounces.sender.example').optional(), ...bounceListenerFields }),
  message: section({
    x_mailer: headerText('the X-Mailer header; "" leaves it out').max(200).default('mxpress'),
    feedback_id: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-" (it is the SenderId field of Feedback-ID; "" leaves the header out)')
      .max(64)
      .default('mxpress'),
  }),
};

type Raw = { [K in keyof typeof messageSchemas]: z.infer<(typeof messageSchemas)[K]> };

export interface DkimKeyConfig {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  /** Absolute path of the key file. */
  keyFile: string;
  /** The key file's PEM text: plain data, so it can go to worker threads, which parse it once each. */
  privateKeyPem: string;
}

export interface MessageConfig {
  dkim: DkimKeyConfig[];
  /** Envelope senders become `bounces+<token>@<domain>` when set; else the campaign's MAIL FROM. */
  bounceDomain: string | null;
  /** Empty: no X-Mailer header. */
  xMailer: string;
  /** Empty: no Feedback-ID header. */
  feedbackId: string;
}

export function checkMessage(raw: Raw, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  raw.dkim.forEach((k, i) => {
    const id = `${k.selector}._domainkey.${k.domain}`;
    if (seen.has(id)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['dkim', i, 'selector'], message: `${quote(id)} is already an earlier [[dkim]] key` });
    seen.add(id);
  });
}

export interface KeyProblem {
  path: (string | number)[];
  message: string;
}

/**
 * Reads and checks every DKIM key file (relative paths from the config file's directory). Problems
 * are returned, not thrown, so the loader reports them with the others, by key and line.
 */
export function toMessageConfig(raw: Raw, baseDir: string): { config: MessageConfig; problems: KeyProblem[] } {
  const problems: KeyProblem[] = [];
  const dkim: DkimKeyConfig[] = [];
  raw.dkim.forEach((k, i) => {
    const keyFile = resolve(baseDir, k.private_key);
    const path = ['dkim', i, 'private_key'];
    let pem: string;
    try {
      pem = readFileSync(keyFile, 'utf8');
    } catch (err) {
      problems.push({ path, message: `cannot read ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return;
    }
    const parsed = parseDkimKey(pem, k.algorithm);
    if (!parsed.ok) {
      problems.push({ path, message: `${keyFile}: ${parsed.reason}` });
      return;
    }
    dkim.push({ domain: k.domain, selector: k.selector, algorithm: k.algorithm, keyFile, privateKeyPem: pem });
  });
  const config = { dkim, bounceDomain: raw.bounce.domain ?? null, xMailer: raw.message.x_mailer, feedbackId: raw.message.feedback_id };
  return { config, problems };
}
