import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { IngressError } from '../../engine/ingress/errors.js';
import { HttpError } from '../auth/session.js';

export interface UploadForm<F extends string> {
  fields: Partial<Record<F, string>>;
  /** The uploaded file on disk (streamed there, never held in memory); null when none was sent. */
  file: string | null;
  /** A scratch directory, removed after the handler. */
  dir: string;
}

/** A zip bomb guard or a file over the size limit: too large; any other bad input: 400. */
const ingressStatus = (err: IngressError) => (err.code === 'ZIP_LIMIT' ? 413 : 400);

/**
 * Reads a multipart form (text fields named in `allowed`, one file in the field "file") to a scratch
 * directory and runs `handle` with it; the directory is removed afterwards, whatever happens.
 * Bad input in the file (IngressError) becomes a 4xx naming the field `file`.
 */
export async function withUpload<F extends string, T>(req: FastifyRequest, allowed: readonly F[], handle: (form: UploadForm<F>) => Promise<T>): Promise<T> {
  if (!req.isMultipart()) throw new HttpError(415, 'send multipart/form-data with the fields and the file');
  const dir = await mkdtemp(join(tmpdir(), 'mxpress-upload-'));
  try {
    const fields: Partial<Record<F, string>> = {};
    let file: string | null = null;
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || file) throw new HttpError(400, `${part.fieldname}: one file, in the field "file"`);
        file = join(dir, 'upload');
        await pipeline((part as MultipartFile).file, createWriteStream(file));
        if ((part as MultipartFile).file.truncated) throw new HttpError(413, 'file: larger than the upload limit');
        continue;
      }
      if (!(allowed as readonly string[]).includes(part.fieldname)) throw new HttpError(400, `${part.fieldname}: unknown field`);
      fields[part.fieldname as F] = String(part.value);
    }
    return await handle({ fields, file, dir });
  } catch (err) {
    if (err instanceof IngressError) throw new HttpError(ingressStatus(err), `file: ${err.message.replaceAll(`${dir}/`, '')}`);
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
