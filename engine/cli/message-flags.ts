import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { detectMimeType } from 'nodemailer/lib/mime-funcs/mime-types';
import type { Attachment, CampaignMessageOptions, TransferEncoding } from '../../storage/store.js';
import { CliError, EXIT } from './exit.js';

export interface MessageFlags {
  'reply-to'?: string;
  header?: string[];
  attach?: string[];
  inline?: string[];
  encoding?: string;
  track?: boolean;
}

/**
 * `--reply-to`, `--header 'Name: value'`, `--attach FILE`, `--inline CID=FILE`, `--encoding`, `--track`
 * → campaign message options. Only the flag syntax is checked here; the values are checked at intake
 * (engine/ingress/message.ts), the same checks the API gets.
 */
export function messageOptionsFromFlags(v: MessageFlags): CampaignMessageOptions {
  const headers: Record<string, string> = {};
  for (const h of v.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new CliError(EXIT.usage, `--header: expected 'Name: value', got ${JSON.stringify(h)}`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  const inline = (v.inline ?? []).map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new CliError(EXIT.usage, `--inline: expected CID=FILE (the HTML refers to it as src="cid:CID"), got ${JSON.stringify(spec)}`);
    return readAttachment('--inline', spec.slice(eq + 1), spec.slice(0, eq));
  });
  return {
    replyTo: v['reply-to'] ?? null,
    headers,
    attachments: [...(v.attach ?? []).map((f) => readAttachment('--attach', f, null)), ...inline],
    transferEncoding: (v.encoding ?? 'auto') as TransferEncoding,
    tracking: v.track ?? false,
  };
}

function readAttachment(flag: string, file: string, cid: string | null): Attachment {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (err) {
    throw new CliError(EXIT.input, `${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { filename: basename(file), contentType: detectMimeType(file), content, cid };
}
