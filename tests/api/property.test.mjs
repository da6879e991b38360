// Property-based tests of `recsys serve` on a demo store with fast-check
// (fixed seed): arbitrary query strings for the read operations and
// arbitrary JSON bodies for the writes (values the schemas describe mixed
// with wrong types, out-of-range numbers, unknown names, overlong values
// and odd percent-encoding) always get an answer the description allows,
// never an undescribed 5xx; and the store changes exactly as the 2xx
// answers to the writes say, and not at all for the others.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import {
  ajv, checkResponse, encodeQueryValue, operations, pointer, queryString, typedValue, validator,
} from './spec.mjs';
import { listIds, request, useServer } from './server.mjs';

fc.configureGlobal({ seed: 42, numRuns: 200, includeErrorInReport: true });

const OPS = operations();
const op = (id) => OPS.find((o) => o.id === id);
const USER_ID = '#/components/schemas/UserId';
const ITEM_ID = '#/components/schemas/ItemId';

/** Ids of the demo store for the generators, by schema: { USER_ID: [...],
 *  ITEM_ID: [...] } (set before the tests). */
const pools = {};
const ctx = useServer({
  async setup({ url }) {
    pools[USER_ID] = (await listIds(url, 'users')).slice(0, 20);
    pools[ITEM_ID] = (await listIds(url, 'items')).slice(0, 20);
  },
});

// ---- values ----------------------------------------------------------

/** Strings a schema does not expect: any code point (controls included),
 *  numbers of any range and kind, words that look like other types, and
 *  values over every length cap of the description (256 and 1024 bytes). */
const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.oneof(fc.integer(), fc.double(), fc.bigInt()).map(String),
  fc.constantFrom('', '0', '-1', '1001', '1e3', '0x10', ' 5', '5 ', '+5', '05', '99999999999999999999',
                  'true', 'yes', 'null', '[]', '{}', ',', ',,', 'hybrid', '7y', '-7d', '1.5h'),
  fc.tuple(fc.integer({ min: 250, max: 1100 }), fc.constantFrom('x', 'é', '€'))
    .map(([n, c]) => c.repeat(c === 'x' ? n : Math.ceil(n / 2))),
);

/** Query text that is not what encodeURIComponent makes: stray and broken
 *  escapes, invalid UTF-8, overlong encodings, encoded separators. */
const oddEscape = fc.constantFrom('%', '%%', '%zz', '%0', '%00', '%1F', '%7F', '%ff', '%C3%28', '%E2%82',
                                  '%ED%A0%80', '%C0%AF', '%u00e9', '%2B', '+', '%20', '%26', '%3D',
                                  '=', '==', '%2C', '%252F');

/** Values of a schema: known ids for a schema of ids, enum values,
 *  integers in range, strings of the pattern or the examples, and short
 *  strings; arrays as comma-separated lists (the form style). */
function schemaValue(schema) {
  if (schema.$ref) {
    const { $ref, ...siblings } = schema;
    const own = schemaValue({ ...pointer($ref), ...siblings });
    return pools[$ref] ? fc.oneof(fc.constantFrom(...pools[$ref]), own) : own;
  }
  if (schema.enum)
    return fc.constantFrom(...schema.enum);
  if (schema.type === 'integer')
    return fc.integer({ min: schema.minimum ?? -(2 ** 31), max: schema.maximum ?? 2 ** 31 });
  if (schema.type === 'array')
    return fc.array(schemaValue(schema.items), { maxLength: 4 }).map((a) => a.join(','));
  const short = fc.string({ unit: 'grapheme', minLength: schema.minLength ?? 0, maxLength: 12 });
  const strings = [{ weight: 1, arbitrary: short }];
  if (schema.pattern)
    strings.push({ weight: 2, arbitrary: fc.stringMatching(new RegExp(schema.pattern)) });
  if (schema.examples)
    strings.push({ weight: 2, arbitrary: fc.constantFrom(...schema.examples) });
  return fc.oneof(...strings);
}

/** Text for one query value or path segment of a parameter (undefined
 *  for an unknown one): the schema's values and odd strings, encoded, and
 *  odd escapes as they are. { text, value } where value is the decoded
 *  string (undefined for odd escapes). */
function encodedValue(param) {
  const encode = (v) => ({ text: encodeQueryValue(v), value: String(v) });
  const arbs = [{ weight: 2, arbitrary: oddString.map(encode) },
                { weight: 1, arbitrary: oddEscape.map((text) => ({ text, value: undefined })) }];
  if (param)
    arbs.push({ weight: 9, arbitrary: schemaValue(param.schema).map(encode) });
  return fc.oneof(...arbs);
}

// ---- query strings ---------------------------------------------------

const ALL_QUERY_NAMES = [...new Set(OPS.flatMap((o) => o.query.map((p) => p.name)))];

/** Query parameters of o: [{ name, text, value }], in order. Mostly its
 *  own parameters with values of their schema, mixed with unknown names
 *  (misspelt, of other operations, arbitrary) and odd values; now and
 *  then more than 32 of them. */
function queryPairs(o) {
  const own = (p) => encodedValue(p).map((v) => ({ name: p.name, ...v }));
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...o.query.map((p) => p.name)) },
    { weight: 1, arbitrary: fc.constantFrom(...ALL_QUERY_NAMES, 'exlude', 'N', 'user_id ', 'n[]', '') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  );
  const any = name.chain((n) => encodedValue(o.query.find((p) => p.name === n)).map((v) => ({ name: n, ...v })));
  const described = fc.tuple(...o.query.map((p) => fc.option(own(p), { nil: null, freq: p.required ? 8 : 2 })))
    .map((pairs) => pairs.filter(Boolean));
  const short = any.filter((p) => p.text.length <= 64);
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(described, fc.array(any, { maxLength: 2 }), fc.boolean())
      .map(([d, extra, first]) => (first ? [...extra, ...d] : [...d, ...extra])) },
    { weight: 3, arbitrary: fc.array(any, { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.array(short, { minLength: 30, maxLength: 36 }) },
  );
}

/** Path parameters of o: [{ name, text, value }], known ids and odd
 *  values. */
function pathArgs(o) {
  return fc.tuple(...o.pathParams.map((p) => encodedValue(p).map((v) => ({ name: p.name, ...v }))));
}

/** The answer's field that repeats a parameter, by operation: [parameter,
 *  field]. */
const ECHOES = { recommend: ['user_id', 'user_id'], similarItems: ['item_id', 'item_id'],
                 listUserEvents: ['id', 'user_id'] };

/** Checks that a 2xx answer to a generated request took what the
 *  description allows: only o's parameters, the first value of each (the
 *  one that counts) valid for its schema, the records no more than n or
 *  limit, and the id asked repeated as it was sent. given: the path
 *  parameters and then the query ones, [{ name, value }]. */
function checkAccepted(o, given, res, what) {
  const unknown = given.filter((g) => !o.params.some((p) => p.name === g.name));
  assert.deepEqual(unknown.map((g) => g.name), [], `${what}: answered ${res.status} to unknown parameters`);
  const first = new Map();
  for (const g of given)
    if (!first.has(g.name))
      first.set(g.name, g.value);
  for (const p of o.params.filter((q) => first.get(q.name) !== undefined)) {
    const validate = validator(`${p.pointer}/schema`);
    assert.ok(validate(typedValue(p, first.get(p.name))),
              `${what}: answered ${res.status} to ${p.name}=${JSON.stringify(first.get(p.name))}, ` +
              `which its schema does not allow: ${ajv.errorsText(validate.errors)}`);
  }
  const cap = Number(first.get('n') ?? first.get('limit') ?? 1000);
  const list = res.json.items ?? res.json.users ?? res.json.events ?? res.json.categories;
  assert.ok(list.length <= cap, `${what}: ${list.length} records, more than the ${cap} asked`);
  const [param, field] = ECHOES[o.id] ?? [];
  if (param && first.get(param) !== undefined)
    assert.equal(res.json[field], first.get(param), `${what}: answered for another ${param}`);
}

for (const id of ['recommend', 'similarItems', 'popularItems', 'listUsers', 'listItems', 'listCategories',
                  'listUserEvents']) {
  const o = op(id);
  test(`GET ${o.path} answers arbitrary query strings as described`, async () => {
    await fc.assert(fc.asyncProperty(pathArgs(o), queryPairs(o), async (args, pairs) => {
      const base = o.path.replace(/\{([^}]+)\}/g, (_, name) => args.find((a) => a.name === name).text);
      const path = base + queryString(pairs.map((p) => [encodeURIComponent(p.name), p.text]));
      const res = await request(ctx.url, { path });
      const what = `GET ${path}`;
      checkResponse(o, res, what);
      assert.ok(res.status < 500, `${what}: answered ${res.status}: ${res.text}`);
      if (res.status < 300)
        checkAccepted(o, [...args, ...pairs], res, what);
    }));
  });
}

// ---- bodies ----------------------------------------------------------

/** Any JSON value, small. */
const anyJson = fc.jsonValue({ maxDepth: 2 });

/** How often a generated body goes astray at each level (an odd id, any
 *  JSON instead of the described value, an unknown field, a required
 *  field left out): 1 in NOISE, so that about half the bodies are valid. */
const NOISE = 24;

/** Ids for a write: the store's, new ones, and odd ones (control
 *  characters, overlong...). */
function idValue(ref) {
  return fc.oneof(
    { weight: NOISE / 2, arbitrary: fc.constantFrom(...pools[ref]) },
    { weight: NOISE / 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }) },
    { weight: 1, arbitrary: oddString },
  );
}

/** JSON values of a schema (its described shape, now and then with an
 *  unknown field or without a required one), mixed at every level with
 *  arbitrary JSON. */
function jsonOf(schema) {
  return fc.oneof({ weight: NOISE, arbitrary: shapeOf(schema) }, { weight: 1, arbitrary: anyJson });
}

/** JSON values of the shape a schema describes (its fields by jsonOf). */
function shapeOf(schema) {
  if (schema.$ref) {
    if (pools[schema.$ref])
      return idValue(schema.$ref);
    const { $ref, ...siblings } = schema;
    return shapeOf({ ...pointer($ref), ...siblings });
  }
  const alternatives = schema.oneOf ?? (schema.type ? undefined : schema.anyOf);
  if (alternatives)
    return fc.oneof(...alternatives.map(jsonOf));
  if (schema.enum)
    return fc.constantFrom(...schema.enum);
  switch (schema.type) {
  case 'object':
    return objectOf(schema);
  case 'array':
    return fc.array(jsonOf(schema.items), { maxLength: 4 });
  case 'integer':
    return fc.integer({ min: schema.minimum ?? -(2 ** 53 - 1), max: schema.maximum ?? 2 ** 53 - 1 });
  case 'number':
    return fc.double({ min: schema.minimum, max: schema.maximum, noNaN: true, noDefaultInfinity: true });
  case 'boolean':
    return fc.boolean();
  case 'string':
    return schema.format === 'date-time' ? dateTime : schemaValue(schema);
  default:
    throw new Error(`no generator for the schema ${JSON.stringify(schema)}`);
  }
}

/** RFC 3339 times from 1970 to 9999. */
const dateTime = fc.date({ min: new Date(0), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

/** Objects of a schema: its fields (the required ones mostly present),
 *  now and then an unknown one; any small object for free attributes. */
function objectOf(schema) {
  if (!schema.properties)
    return fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 4 });
  const model = Object.fromEntries(Object.entries(schema.properties).map(([k, s]) => [k, jsonOf(s)]));
  const fields = fc.oneof({ weight: NOISE, arbitrary: fc.record(model, { requiredKeys: schema.required ?? [] }) },
                          { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) });
  const extra = fc.oneof({ weight: NOISE, arbitrary: fc.constant(null) },
                         { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), anyJson) });
  return fc.tuple(fields, extra).map(([o, e]) => (e ? { ...o, [e[0]]: e[1] } : o));
}

/** Body texts for a write operation: JSON of its schema (or any JSON
 *  value), or arbitrary text that is mostly not JSON. */
function bodies(o) {
  const json = jsonOf(o.body.content['application/json'].schema).map((v) => JSON.stringify(v));
  return fc.oneof({ weight: 8, arbitrary: json }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) });
}

/** What the store holds, as the server lists it: { users, items } (sets
 *  of ids) and events (how many, from /readyz). */
async function storeState() {
  const ready = await request(ctx.url, { path: '/readyz' });
  assert.equal(ready.status, 200, ready.text);
  return {
    users: new Set(await listIds(ctx.url, 'users')),
    items: new Set(await listIds(ctx.url, 'items')),
    events: ready.json.events,
  };
}

/** The records of an accepted body: one record, or a batch under key. */
const recordsOf = (body, key) => (Array.isArray(body[key]) ? body[key] : [body]);

/** How many of ids (with repeats) model does not have yet. */
function countNew(model, ids) {
  return new Set(ids.filter((id) => !model.has(id))).size;
}

/** By operation: checks a 2xx answer to a write against model (what
 *  storeState gave, with every write accepted since) and adds what the
 *  write created to it. */
const applyWrite = {
  postEvents(model, body, res) {
    const events = recordsOf(body, 'events');
    const users = events.map((e) => e.user_id), items = events.map((e) => e.item_id);
    assert.deepEqual(res.json, { accepted: events.length, users_created: countNew(model.users, users),
                                 items_created: countNew(model.items, items) });
    users.forEach((u) => model.users.add(u));
    items.forEach((i) => model.items.add(i));
    model.events += events.length;
  },
  upsertUsers(model, body, res) {
    applyUpsert(model.users, recordsOf(body, 'users').map((u) => u.user_id), 'users' in body, res);
  },
  upsertItems(model, body, res) {
    applyUpsert(model.items, recordsOf(body, 'items').map((i) => i.item_id), 'items' in body, res);
  },
};

/** Checks the answer to an upsert of ids (a batch or one record) against
 *  the ids of model, and adds them. */
function applyUpsert(model, ids, batch, res) {
  const created = countNew(model, ids);
  if (batch)
    assert.deepEqual(res.json, { created, updated: ids.length - created });
  else
    assert.equal(res.status, created ? 201 : 200, 'one record: 201 when it is new, 200 when it existed');
  ids.forEach((id) => model.add(id));
}

for (const id of ['postEvents', 'upsertUsers', 'upsertItems']) {
  const o = op(id);
  test(`${o.method} ${o.path} answers arbitrary bodies as described and writes only what it accepts`, async () => {
    const model = await storeState();
    await fc.assert(fc.asyncProperty(bodies(o), async (text) => {
      const res = await request(ctx.url, { method: o.method, path: o.path, body: text });
      const what = `${o.method} ${o.path} ${text.length > 300 ? `${text.slice(0, 300)}...` : text}`;
      checkResponse(o, res, what);
      assert.ok(res.status < 500, `${what}: answered ${res.status}: ${res.text}`);
      if (res.status < 300)
        applyWrite[id](model, JSON.parse(text), res);
    }));
    const now = await storeState();
    assert.deepEqual([...now.users].sort(), [...model.users].sort(), 'the users are not what the answers said');
    assert.deepEqual([...now.items].sort(), [...model.items].sort(), 'the items are not what the answers said');
    assert.equal(now.events, model.events, 'the number of events is not what the answers said');
  });
}
