// docs/openapi.yaml for the tests: its operations, its schemas compiled
// with ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses), and the check that
// an answer is one the description allows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { load } from 'js-yaml';

/** The source root (tests/api/../..). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SPEC_PATH = join(ROOT, 'docs', 'openapi.yaml');

export const spec = load(readFileSync(SPEC_PATH, 'utf8'));

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The value at a local reference ('#/components/schemas/Id'). */
export function pointer(ref) {
  assert.ok(ref.startsWith('#/'), `only local references are supported, not ${ref}`);
  let v = spec;
  for (const part of ref.slice(2).split('/')) {
    v = v?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    assert.ok(v !== undefined, `unresolved reference ${ref}`);
  }
  return v;
}

/** o with a top-level $ref replaced by its target (repeatedly). */
export function deref(o) {
  while (o && typeof o === 'object' && typeof o.$ref === 'string')
    o = pointer(o.$ref);
  return o;
}

function escapePointer(s) {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The parameters of a list (its JSON pointer is ptr), resolved, each
 *  with the pointer where it is found: copies, the description is left
 *  as it is. */
function resolveParams(list = [], ptr) {
  return list.map((p, i) => {
    let at = `${ptr}/${i}`;
    while (p.$ref) {
      at = p.$ref;
      p = pointer(p.$ref);
    }
    return { ...p, pointer: at };
  });
}

/** Every operation: { method ('GET'), path, op, id, pointer, params,
 *  statuses, ... }; params are the resolved parameter objects (copies,
 *  with the JSON pointer of each: its schema is at `${pointer}/schema`). */
export function operations() {
  const ops = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op)
        continue;
      const at = `#/paths/${escapePointer(path)}`;
      const params = [...resolveParams(item.parameters, `${at}/parameters`),
                      ...resolveParams(op.parameters, `${at}/${m}/parameters`)];
      ops.push({
        method: m.toUpperCase(),
        path,
        op,
        id: op.operationId,
        pointer: `${at}/${m}`,
        params,
        query: params.filter((p) => p.in === 'query'),
        pathParams: params.filter((p) => p.in === 'path'),
        body: op.requestBody ? deref(op.requestBody) : undefined,
        statuses: Object.keys(op.responses).map(Number),
      });
    }
  }
  return ops;
}

/** Whether anyone may call op without a token on a server with keys:
 *  security [] (always open). Read operations list {} and bearerAuth. */
export function access(op) {
  const sec = op.op.security ?? spec.security ?? [];
  if (sec.length === 0)
    return 'open';
  if (sec.some((s) => Object.keys(s).length === 0))
    return 'read';
  return 'write';
}

export const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
addFormats(ajv);
// The description is added whole, so that its schemas are found by JSON
// pointer with their references; the OpenAPI fields around them are not
// JSON Schema keywords.
ajv.addVocabulary(['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks',
                   'components', 'security', 'tags', 'externalDocs']);
ajv.addSchema(spec, 'spec');

const compiled = new Map();
/** The ajv validator of the schema at a JSON pointer of the description. */
export function validator(ptr) {
  let v = compiled.get(ptr);
  if (!v) {
    v = ajv.compile({ $ref: `spec${ptr}` });
    compiled.set(ptr, v);
  }
  return v;
}

/** The media types a response may have and the pointer of each schema:
 *  Map(mediaType -> pointer | null). */
function responseContent(op, status) {
  let ptr = `${op.pointer}/responses/${status}`;
  let resp = op.op.responses[String(status)];
  while (resp.$ref) {
    ptr = resp.$ref;
    resp = pointer(resp.$ref);
  }
  const out = new Map();
  for (const [media, c] of Object.entries(resp.content ?? {}))
    out.set(media, c.schema ? `${ptr}/content/${escapePointer(media)}/schema` : null);
  return { resp, content: out };
}

function short(text, n = 600) {
  return text.length > n ? `${text.slice(0, n)}... (${text.length} bytes)` : text;
}

/** Checks that res is an answer the description allows for op: a listed
 *  status, a listed media type, a body that validates against its schema,
 *  and the headers it promises (WWW-Authenticate on 401). what names the
 *  request in failure messages. */
export function checkResponse(op, res, what) {
  const where = `${op.method} ${op.path} — ${what}\n  answered ${res.status} ${res.contentType}: ${short(res.text)}`;
  assert.ok(op.statuses.includes(res.status),
            `status ${res.status} is not one the description lists (${op.statuses.join(', ')})\n${where}`);
  const { resp, content } = responseContent(op, res.status);
  if (content.size === 0) {
    assert.equal(res.raw.length, 0, `the description has no body for ${res.status}\n${where}`);
  } else {
    assert.ok(content.has(res.mediaType),
              `media type '${res.mediaType}' is not one listed for ${res.status} (${[...content.keys()].join(', ')})\n${where}`);
    const ptr = content.get(res.mediaType);
    if (ptr && /[/+]json$/.test(res.mediaType)) {
      assert.equal(res.jsonError, undefined, `the body is not JSON: ${res.jsonError}\n${where}`);
      const validate = validator(ptr);
      assert.ok(validate(res.json),
                `the body does not match ${ptr}: ${ajv.errorsText(validate.errors, { separator: '; ' })}\n${where}`);
    }
  }
  for (const name of Object.keys(resp.headers ?? {})) {
    const h = deref(resp.headers[name]);
    const got = res.headers[name.toLowerCase()];
    assert.ok(got !== undefined, `header ${name} is missing\n${where}`);
    if (h.schema?.const !== undefined)
      assert.equal(got, h.schema.const, `header ${name}\n${where}`);
  }
  if (res.status === 401)
    assert.ok(res.headers['www-authenticate'], `a 401 without WWW-Authenticate\n${where}`);
  if (res.mediaType === 'application/problem+json')
    assert.equal(res.json?.status, res.status, `the problem's status is not the answer's\n${where}`);
}

/** The statuses the HTTP layer answers by itself, before any route, for a
 *  request line or headers over its memory limit (the description says so;
 *  their body is not a Problem). */
export const HTTP_LAYER_STATUSES = [414, 431];

/** Checks an answer that the description promises for any request rather
 *  than for one operation (404 for an unknown path, 405, 413, 414/431 from
 *  the HTTP layer...): its status is one of statuses (a number or a list)
 *  and, unless bodyless (a HEAD request) or a status of the HTTP layer,
 *  its body is a Problem document. */
export function checkProblem(res, statuses, what, { bodyless = false } = {}) {
  const allowed = [statuses].flat();
  const where = `${what}\n  answered ${res.status} ${res.contentType}: ${short(res.text)}`;
  assert.ok(allowed.includes(res.status), `expected ${allowed.join(' or ')}\n${where}`);
  if (HTTP_LAYER_STATUSES.includes(res.status))
    return;
  assert.equal(res.mediaType, 'application/problem+json', `not a problem document\n${where}`);
  if (bodyless) {
    assert.equal(res.raw.length, 0, `a body in the answer to HEAD\n${where}`);
    return;
  }
  const validate = validator('#/components/schemas/Problem');
  assert.ok(validate(res.json), `not a Problem: ${ajv.errorsText(validate.errors)}\n${where}`);
  assert.equal(res.json.status, res.status, `the problem's status is not the answer's\n${where}`);
}

/** A valid value for a schema, from the description: the value known[ref]
 *  for a schema that refers to ref (real ids of a store, say), or else its
 *  first example, its default, its first enum value or its minimum. */
export function sampleValue(schema, known = {}) {
  if (schema.$ref) {
    if (known[schema.$ref] !== undefined)
      return known[schema.$ref];
    const { $ref, ...siblings } = schema;
    return sampleValue({ ...pointer($ref), ...siblings }, known);
  }
  if (schema.examples?.length)
    return schema.examples[0];
  if (schema.default !== undefined)
    return schema.default;
  if (schema.enum)
    return schema.enum[0];
  if (schema.type === 'array')
    return [sampleValue(schema.items, known)];
  if (schema.type === 'integer' || schema.type === 'number')
    return schema.minimum ?? 1;
  if (schema.type === 'string')
    return 'a'.repeat(Math.max(schema.minLength ?? 1, 1));
  throw new Error(`no sample value for the schema ${JSON.stringify(schema)}`);
}

/** A query parameter's value as the URL carries it (form style: arrays
 *  comma-separated), percent-encoded. */
export function encodeQueryValue(value) {
  return encodeURIComponent(Array.isArray(value) ? value.join(',') : String(value));
}

/** A parameter's value (text, as decoded from the URL) as its schema sees
 *  it: a number for a number, the list of a comma-separated array (empty
 *  entries are ignored), else the text itself. */
export function typedValue(param, text) {
  const type = deref(param.schema).type;
  if (type === 'integer' || type === 'number')
    return Number(text);
  return type === 'array' ? text.split(',').filter(Boolean) : text;
}

/** '?a=1&b=2' from [[name, encoded value], ...] ('' for none). */
export function queryString(pairs) {
  return pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : '';
}

/** op's path with each {name} replaced by values[name] (percent-encoded),
 *  or by a sample value of the parameter. */
export function pathOf(op, values = {}, known = {}) {
  return op.path.replace(/\{([^}]+)\}/g, (_, name) => {
    const p = op.pathParams.find((q) => q.name === name);
    return encodeURIComponent(values[name] ?? sampleValue(p.schema, known));
  });
}

/** The examples of op's JSON request body: [[name, value], ...]. */
export function bodyExamples(op) {
  const media = op.body?.content?.['application/json'];
  if (!media)
    return [];
  if (media.examples)
    return Object.entries(media.examples).map(([name, ex]) => [name, deref(ex).value]);
  return media.example !== undefined ? [['example', media.example]] : [];
}

/** Requests that the description says are valid for op: path parameters
 *  from known or the examples; one request with the required query
 *  parameters only and one with all of them (when that differs), each with
 *  every example body when op takes one. values[name] replaces the value
 *  of a parameter (to make one invalid). Returns [{ what, method, path,
 *  body }]. */
export function exampleRequests(op, known = {}, values = {}) {
  const path = pathOf(op, values, known);
  const value = (p) => values[p.name] ?? sampleValue(p.schema, known);
  const query = (params) => queryString(params.map((p) => [p.name, encodeQueryValue(value(p))]));
  const queries = [...new Set([query(op.query.filter((p) => p.required)), query(op.query)])];
  const bodies = op.body ? bodyExamples(op) : [[undefined, undefined]];
  assert.ok(bodies.length > 0, `${op.method} ${op.path} takes a body and the description gives no example of it`);
  return queries.flatMap((q) => bodies.map(([name, body]) => ({
    what: `${op.method} ${path}${q}${name ? ` with the body example '${name}'` : ''}`,
    method: op.method,
    path: path + q,
    body,
  })));
}

/** The described path template that path (decoded) falls under, if any: a
 *  {name} segment matches one non-empty segment. */
export function describedPath(path) {
  return Object.keys(spec.paths).find((template) => {
    const re = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
    return new RegExp(`^${re}$`).test(path);
  });
}
