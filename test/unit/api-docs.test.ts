import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generateApiDocs } from '../../admin/openapi/generate.js';

const read = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

test('docs/openapi.json and docs/api.md are what the routes generate (npm run docs:api)', async () => {
  const { json, markdown } = await generateApiDocs();
  assert.equal(read('openapi.json'), json, 'docs/openapi.json is stale: run npm run docs:api');
  assert.equal(read('api.md'), markdown, 'docs/api.md is stale: run npm run docs:api');
  assert.match(markdown, /### `POST \/api\/v1\/campaigns`/);
});
