import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadConfig } from '../../engine/config/load.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { buildAdminServer } from '../server.js';
import { apiMarkdown, type OpenApiDocument } from './markdown.js';

/** The OpenAPI document of the admin server as built with the default config, and its Markdown page. */
export async function generateApiDocs(): Promise<{ json: string; markdown: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-apidocs-'));
  const config = loadConfig(null, { MXPRESS_STORAGE_PATH: join(dir, 'q.db') });
  const store = openSqliteStore(config.storage.path);
  const app = await buildAdminServer({ store, config, log: pino({ level: 'silent' }), registry: new Registry() });
  try {
    await app.ready();
    const doc = app.swagger() as unknown as OpenApiDocument;
    return { json: `${JSON.stringify(doc, null, 2)}\n`, markdown: `${apiMarkdown(doc)}\n` };
  } finally {
    await app.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
