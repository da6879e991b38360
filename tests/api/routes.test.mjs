// The contract of docs/openapi.yaml against real `recsys serve` processes,
// both ways: every described operation answers its example requests as
// described (on a demo store, on an empty one, and with API keys), and
// the server answers nothing that is not described: its route table is
// the description's operations, other methods get 405 with the described
// Allow, other paths 404, and the limits of any request are as described.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  HTTP_LAYER_STATUSES, METHODS, ROOT, access, checkProblem, checkResponse, describedPath,
  exampleRequests, operations, pathOf, queryString, sampleValue, spec, typedValue,
  validator,
} from './spec.mjs';
import { bearer, request, useServer } from './server.mjs';

const OPS = operations();

/** Sends one of exampleRequests's requests. */
function send(base, r, headers = {}) {
  return request(base, { method: r.method, path: r.path, body: r.body, headers });
}

/** Checks the answer to a valid request: described, and a 2xx. */
function checkServed(op, res, what) {
  checkResponse(op, res, what);
  assert.ok(res.status >= 200 && res.status < 300, `${what}: a valid request answered ${res.status}: ${res.text}`);
}

/** Checks the answer to a request over one of the limits of any request:
 *  a status the description's introduction gives for it (statuses), and
 *  what the operation says of that status when it lists it. */
function checkLimit(op, res, statuses, what) {
  checkProblem(res, statuses, what);
  if (op.statuses.includes(res.status))
    checkResponse(op, res, what);
}

/** The operations of a path, upper case ('GET'). */
function methodsOf(path) {
  return OPS.filter((op) => op.path === path).map((op) => op.method);
}

/** The route table of src/server/router.c: ['GET /v1/recommend read', ...]. */
function routeTable() {
  const src = readFileSync(join(ROOT, 'src', 'server', 'router.c'), 'utf8');
  const table = /static const route routes\[\] = \{([\s\S]*?)\n\};/.exec(src)?.[1];
  assert.ok(table, 'src/server/router.c has no `static const route routes[] = {...};` any more');
  const rows = [...table.matchAll(/\{\s*"(\w+)",\s*"([^"]+)",\s*\w+,\s*\w+,\s*(OPEN|READ|WRITE),\s*\w+\s*\}/g)];
  assert.equal(rows.length, table.match(/^\s*\{"/gm).length,
               'a row of the route table does not read {"METHOD", "/path", handler, id, OPEN|READ|WRITE, ROLES}');
  return rows.map(([, method, path, who]) => `${method} ${path} ${who.toLowerCase()}`);
}

/** The paths of the operations' example requests. */
function examplePaths(known) {
  return [...new Set(OPS.map((op) => pathOf(op, {}, known)))];
}

/** Paths near the described ones: deeper, with a trailing slash, in upper
 *  case, with an empty parameter, and a few others. */
function nearPaths(known) {
  const near = examplePaths(known).flatMap((p) => [`${p.replace(/\/$/, '')}/x/y`, `${p}/`, p.toUpperCase()]);
  const empty = Object.keys(spec.paths).map((p) => p.replace(/\{[^}]+\}/g, ''));
  return [...near, ...empty, '/nope', '/v1', '/v2/recommend', '/v1/recommend.json', '/index.html', '/docs/../healthz'];
}

/** GET and POST requests for those of paths the description does not
 *  have. */
function undescribed(paths) {
  return [...new Set(paths)].filter((p) => !describedPath(decodeURIComponent(p)))
    .flatMap((path) => ['GET', 'POST'].map((method) => ({ what: `${method} ${path}`, method, path })));
}

/** Requests that give a parameter a value with a NUL byte, where its
 *  schema does not allow one (ids, numbers, enums, patterns): the
 *  operation's example requests but for that value. [{ op, what, ... }] */
function nulValues(known) {
  return OPS.flatMap((op) => op.params.flatMap((p) => {
    const bad = `${[sampleValue(p.schema, known)].flat().join(',')}\u0000x`;
    if (validator(`${p.pointer}/schema`)(typedValue(p, bad)))
      return [];
    return [{ op, ...exampleRequests(op, known, { [p.name]: bad }).at(-1) }];
  }));
}

/** Sends requests and checks each answer with check(r, res) when it has
 *  the status expected; returns the others, as lines for a message. */
async function otherAnswers(base, requests, status, check) {
  const lines = [];
  for (const r of requests) {
    const res = await send(base, r);
    if (res.status === status)
      check(r, res);
    else
      lines.push(`${r.what} answered ${res.status} ${res.text.slice(0, 100)}`);
  }
  return lines;
}

test('the route table of src/server/router.c is the described operations, with their access', () => {
  const described = OPS.map((op) => `${op.method} ${op.path} ${access(op)}`);
  assert.deepEqual(routeTable().sort(), described.sort());
});

describe('on the demo store without keys', () => {
  const ctx = useServer();

  test('every operation answers its example requests as described', async () => {
    for (const op of OPS) {
      for (const r of exampleRequests(op, ctx.known))
        checkServed(op, await send(ctx.url, r), r.what);
    }
  });

  test('a described path answers any other method with 405 and the described Allow', async () => {
    for (const path of Object.keys(spec.paths)) {
      const described = methodsOf(path);
      const url = pathOf(OPS.find((op) => op.path === path), {}, ctx.known);
      for (const method of METHODS.map((m) => m.toUpperCase()).filter((m) => !described.includes(m))) {
        const res = await request(ctx.url, { method, path: url });
        const what = `${method} ${url}`;
        checkProblem(res, 405, what, { bodyless: method === 'HEAD' });
        const allow = (res.headers.allow ?? '').split(',').map((m) => m.trim()).filter(Boolean);
        assert.deepEqual(allow.sort(), [...described].sort(), `${what}: Allow is '${res.headers.allow}'`);
      }
    }
  });

  test('a path the description does not have answers 404', async () => {
    const other = await otherAnswers(ctx.url, undescribed(nearPaths(ctx.known)), 404,
                                     (r, res) => checkProblem(res, 404, r.what));
    assert.deepEqual(other, [], `paths the description does not have are answered:\n${other.join('\n')}`);
  });

  test('a NUL byte (%00) in a path or a value is refused, not cut off', async () => {
    const nulPaths = examplePaths(ctx.known).map((p) => `${p}%00x`);
    const paths = await otherAnswers(ctx.url, undescribed(nulPaths), 400,
                                     (r, res) => checkProblem(res, 400, r.what));
    const values = await otherAnswers(ctx.url, nulValues(ctx.known), 400,
                                      (r, res) => checkResponse(r.op, res, r.what));
    const taken = [...paths, ...values];
    assert.deepEqual(taken, [], `answered as if the text ended at the NUL:\n${taken.join('\n')}`);
  });

  test('every operation meets the limits of any request', async () => {
    const many = queryString(Array.from({ length: 33 }, (_, i) => [`p${i}`, String(i)]));
    const longLine = queryString([['p', 'x'.repeat(40 * 1024)]]);
    const tooBig = 'x'.repeat((1 << 20) + 1);
    for (const op of OPS) {
      const path = pathOf(op, {}, ctx.known);
      const check = async (how, statuses, req) =>
        checkLimit(op, await request(ctx.url, { method: op.method, path, ...req }), statuses,
                   `${op.method} ${path} with ${how}`);
      await check('33 query parameters', 400, { path: path + many });
      await check('a request line over 32 KiB', HTTP_LAYER_STATUSES, { path: path + longLine });
      await check('a body over 1 MiB', 413, { body: tooBig });
      if (op.pathParams.length > 0) {
        const long = Object.fromEntries(op.pathParams.map((p) => [p.name, 'a'.repeat(1025)]));
        await check('a 1025-byte path segment', 400, { path: pathOf(op, long) });
      }
    }
  });
});

describe('with an API key (k1) and a read key (k2)', () => {
  const KEYS = { RECSYS_API_KEY: 'k1', RECSYS_API_KEY_READ: 'k2' };
  const TOKENS = { none: undefined, wrong: 'k3', read: 'k2', write: 'k1' };
  const ctx = useServer({ env: KEYS, headers: bearer(KEYS.RECSYS_API_KEY) });

  /** Whether the description lets a request with the given token (a key
   *  of TOKENS) call an operation of the access class (spec.mjs access). */
  function mayCall(cls, token) {
    return cls === 'open' || token === 'write' || (cls === 'read' && token === 'read');
  }

  test('open, read and write operations take the tokens the description says', async () => {
    for (const op of OPS) {
      const [r] = exampleRequests(op, ctx.known);
      for (const [token, key] of Object.entries(TOKENS)) {
        const res = await send(ctx.url, r, bearer(key));
        const what = `${r.what} (${access(op)}) with ${token === 'none' ? 'no token' : `the ${token} token`}`;
        if (mayCall(access(op), token)) {
          checkServed(op, res, what);
        } else {
          checkResponse(op, res, what);
          assert.equal(res.status, 401, `${what}: answered ${res.status}`);
        }
      }
    }
  });
});

describe('on an empty store', () => {
  const ctx = useServer({ empty: true, args: ['--poll', '100ms'] });
  const op = (id) => OPS.find((o) => o.id === id);

  test('every read answers as described before there is anything to serve', async () => {
    for (const o of OPS.filter((x) => x.method === 'GET')) {
      for (const r of exampleRequests(o, ctx.known))
        checkResponse(o, await send(ctx.url, r), r.what);
    }
    const ready = await request(ctx.url, { path: '/readyz' });
    checkResponse(op('readyz'), ready, 'GET /readyz on an empty store');
    assert.equal(ready.status, 503);
  });

  test('the first events are served at once as popularity from the store (model version 0)', async () => {
    const [post] = exampleRequests(op('postEvents'), ctx.known);
    checkServed(op('postEvents'), await send(ctx.url, post), post.what);
    let ready;
    for (let i = 0; i < 50 && ready?.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await request(ctx.url, { path: '/readyz' });
    }
    checkServed(op('readyz'), ready, 'GET /readyz after the first event');
    assert.equal(ready.json.model_version, 0);
    for (const id of ['popularItems', 'recommend']) {
      for (const r of exampleRequests(op(id), ctx.known)) {
        const res = await send(ctx.url, r);
        checkServed(op(id), res, r.what);
        assert.equal(res.json.model_version, '0', r.what);
      }
    }
  });
});
