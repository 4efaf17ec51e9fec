/**
 * docs/api.md from the OpenAPI document that Fastify builds from the route schemas: the routes are
 * the one source, the document and this page follow them. `npm run docs:api` writes both files; a
 * test fails when they are stale.
 */

interface Schema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema; description?: string }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function apiMarkdown(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths).sort(([a], [b]) => a.localeCompare(b))) {
    for (const method of METHODS) {
      const op = ops[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'other';
      const list = byTag.get(tag) ?? [];
      list.push(operation(method, path, op));
      byTag.set(tag, list);
    }
  }
  const sections = [...byTag].sort(([a], [b]) => a.localeCompare(b)).map(([tag, ops]) => `## ${tag}\n\n${ops.join('\n')}`);
  return [
    '# Admin API',
    '',
    'Generated from the route schemas by `npm run docs:api` (the same document is served at `/docs/json`,',
    'with a browsable UI at `/docs`); do not edit by hand. Every route but `POST /api/v1/session` needs a',
    'session cookie (plus the `x-csrf-token` header on changes) or `Authorization: Bearer <API key>`.',
    'Errors are JSON `{ statusCode, error, message }`; `message` names the field at fault.',
    '',
    ...sections,
  ].join('\n');
}

function operation(method: string, path: string, op: Operation): string {
  const lines = [`### \`${method.toUpperCase()} ${path}\``, '', op.summary ?? '', ''];
  const params = op.parameters ?? [];
  if (params.length > 0) {
    lines.push('| Parameter | In | Type | Notes |', '|---|---|---|---|');
    for (const p of params) lines.push(`| \`${p.name}\`${p.required ? ' (required)' : ''} | ${p.in} | ${typeOf(p.schema)} | ${cell(notes(p.schema, p.description))} |`);
    lines.push('');
  }
  for (const [type, body] of Object.entries(op.requestBody?.content ?? {})) {
    const props = body.schema?.properties;
    if (!props) continue;
    const required = new Set(body.schema?.required ?? []);
    lines.push(`Body (\`${type}\`):`, '', '| Field | Type | Notes |', '|---|---|---|');
    for (const [name, s] of Object.entries(props)) lines.push(`| \`${name}\`${required.has(name) ? ' (required)' : ''} | ${typeOf(s)} | ${cell(notes(s, s.description))} |`);
    lines.push('');
  }
  const codes = Object.keys(op.responses ?? {});
  if (codes.length > 0) lines.push(`Responses: ${codes.join(', ')}.`, '');
  return lines.join('\n');
}

function typeOf(s: Schema | undefined): string {
  if (!s) return '';
  const t = [s.type ?? 'object'].flat().join(' or ');
  return t === 'array' && s.items ? `array of ${typeOf(s.items)}` : t;
}

function notes(s: Schema | undefined, description: string | undefined): string {
  const parts: string[] = [];
  if (description) parts.push(description);
  if (s?.enum) parts.push(`one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (s?.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  if (s?.minimum !== undefined || s?.maximum !== undefined) parts.push(`${s.minimum ?? ''}..${s.maximum ?? ''}`);
  if (s?.maxLength !== undefined) parts.push(`at most ${s.maxLength} characters`);
  return parts.join('; ');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
