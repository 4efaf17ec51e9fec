/** `npm run docs:api`: writes docs/openapi.json and docs/api.md from the routes (see markdown.ts). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateApiDocs } from './generate.js';

const root = resolve(import.meta.dirname, '../..');
const { json, markdown } = await generateApiDocs();
writeFileSync(resolve(root, 'docs/openapi.json'), json);
writeFileSync(resolve(root, 'docs/api.md'), markdown);
process.stdout.write('wrote docs/openapi.json and docs/api.md\n');
