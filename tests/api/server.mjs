// The test harness of tests/api: a demo store built by the real binary,
// real `recsys serve` processes on free ports, and a small HTTP client.
//
//   const demo = await makeDemo();                 // recsys demo --no-serve into a temp folder
//   const srv = await startServer(demo, { env: { RECSYS_API_KEY: 'k1' } });
//   const res = await request(srv.url, { path: '/healthz' });
//   assert.equal(await srv.stop(), 0);             // SIGTERM, and its exit status
//   demo.remove();
//
// or, for the tests of a file or of a describe block, with before/after:
//
//   const ctx = useServer({ env: { RECSYS_API_KEY: 'k1' } });
//   test('...', async () => { await request(ctx.url, ...); ctx.known; });
//
// The binary is RECSYS_BIN (CTest sets it to the one just built).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 15000;

/** The recsys binary under test. */
export function recsysBin() {
  const bin = process.env.RECSYS_BIN;
  if (!bin)
    throw new Error('RECSYS_BIN is not set: it must name the recsys binary to test ' +
                    '(ctest sets it; by hand: RECSYS_BIN=build/release/recsys node --test tests/api/)');
  return bin;
}

/** The environment for a child: ours without any RECSYS_* setting (an
 *  API key or a store URL in the caller's environment would change what
 *  the server does), plus extra. */
function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('RECSYS_'))
      env[k] = v;
  return { ...env, ...extra };
}

const children = new Set();
process.on('exit', () => {
  for (const child of children)
    child.kill('SIGKILL'); // a test that failed before stopping its server
});

/** Runs the binary to completion; rejects with its output when it fails. */
function run(args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(recsysBin(), args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0)
        resolve(out);
      else
        reject(new Error(`recsys ${args.join(' ')} exited with ${code ?? signal}:\n${out}`));
    });
  });
}

/** A temp folder with a trained demo store: `recsys demo --no-serve`,
 *  then a second version (trained without an evaluation), so that the
 *  registry has one to roll back to. Returns { dir, db, models, remove() }. */
export async function makeDemo({ users = 300, items = 120, events = 15000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-api-'));
  try {
    await run(['demo', '--dir', dir, '--users', String(users), '--items', String(items),
               '--events', String(events), '--no-serve', '--log-level', 'warn']);
    await run(['train', '--db', `sqlite://${dir}/recsys.db`, '--models', `file://${dir}/models`,
               '--no-eval', '--promote', 'always', '--log-level', 'warn']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    db: `sqlite://${dir}/recsys.db`,
    models: `file://${dir}/models`,
    remove() { rmSync(dir, { recursive: true, force: true }); },
  };
}

/** An empty temp folder (for a server with an empty store and no model).
 *  Returns { dir, db, models, remove() }. */
export function makeEmpty() {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-api-'));
  return {
    dir,
    db: `sqlite://${dir}/recsys.db`,
    models: `file://${dir}/models`,
    remove() { rmSync(dir, { recursive: true, force: true }); },
  };
}

/** Starts `recsys serve` on the store and models of where ({db, models})
 *  on a free port. Resolves to { url, pid, output(), stop() } once it
 *  prints `serving on http://HOST:PORT`; stop() sends SIGTERM and resolves
 *  to the exit status (a signal name if it died of one). */
export function startServer(where, { args = [], env = {} } = {}) {
  const argv = ['serve', '--db', where.db, '--models', where.models, '--listen', '127.0.0.1:0',
                '--quiet', '--log-level', 'warn', ...args];
  const child = spawn(recsysBin(), argv, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '', stderr = '';
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? signal);
    });
  });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`recsys serve did not print its address within ${START_TIMEOUT_MS} ms:\n${stdout}${stderr}`));
    }, START_TIMEOUT_MS);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`recsys serve exited with ${status} before serving:\n${stdout}${stderr}`));
    });
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /serving on (http:\/\/\S+)/.exec(stdout);
      if (!m)
        return;
      clearTimeout(timer);
      resolve({
        url: m[1],
        pid: child.pid,
        output: () => stdout + stderr,
        async stop() {
          if (child.exitCode === null && child.signalCode === null)
            child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          const status = await exited;
          clearTimeout(t);
          return status;
        },
      });
    });
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** One HTTP request. path is sent as given (already percent-encoded);
 *  body is a string, a Buffer or a value to send as JSON. Resolves to
 *  { status, headers, contentType, mediaType, text, json, jsonError }. */
export function request(base, { method = 'GET', path = '/', headers = {}, body } = {}) {
  const url = new URL(base);
  let payload;
  const hdrs = { ...headers };
  if (body !== undefined) {
    payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    if (!Object.keys(hdrs).some((h) => h.toLowerCase() === 'content-type'))
      hdrs['Content-Type'] = 'application/json';
    hdrs['Content-Length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, method, path, headers: hdrs },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const contentType = res.headers['content-type'] ?? '';
          const mediaType = contentType.split(';')[0].trim().toLowerCase();
          const out = { status: res.statusCode, headers: res.headers, contentType, mediaType,
                        raw, text: raw.toString('utf8'), json: undefined, jsonError: undefined };
          if (/[/+]json$/.test(mediaType)) {
            try {
              out.json = JSON.parse(out.text);
            } catch (err) {
              out.jsonError = err.message;
            }
          }
          resolve(out);
        });
      });
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on('error', reject);
    if (payload !== undefined)
      req.write(payload);
    req.end();
  });
}

/** Closes the client's idle keep-alive connections (so that a server can
 *  stop without waiting for them). */
export function closeConnections() {
  agent.destroy();
}

/** The headers that carry a bearer token ({} for none). */
export function bearer(token) {
  return token === undefined ? {} : { Authorization: `Bearer ${token}` };
}

/** The ids of every user or item (collection 'users' or 'items') of the
 *  server at base, page after page. */
export async function listIds(base, collection, headers = {}) {
  const key = collection === 'users' ? 'user_id' : 'item_id';
  const ids = [];
  let cursor = null;
  do {
    const query = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const res = await request(base, { path: `/v1/${collection}?limit=1000${query}`, headers });
    assert.equal(res.status, 200, `listing ${collection}: ${res.text}`);
    ids.push(...res.json[collection].map((r) => r[key]));
    cursor = res.json.next_cursor;
  } while (cursor !== null);
  return ids;
}

/** The first user, item and run of the server at base (the demo's u1 and
 *  i1) and its production model version, as sampleValue's known values
 *  for the description's UserId, ItemId, RunId and VersionNumber. */
export async function knownIds(base, headers = {}) {
  const first = async (collection, key) => {
    const res = await request(base, { path: `/v1/${collection}?limit=1`, headers });
    assert.equal(res.status, 200, `listing ${collection}: ${res.text}`);
    assert.ok(res.json[collection].length > 0, `the store has no ${collection}`);
    return res.json[collection][0][key];
  };
  const models = await request(base, { path: '/v1/models', headers });
  assert.equal(models.status, 200, `listing model versions: ${models.text}`);
  assert.ok(models.json.production, 'no model version is in production');
  return {
    '#/components/schemas/UserId': await first('users', 'user_id'),
    '#/components/schemas/ItemId': await first('items', 'item_id'),
    '#/components/schemas/RunId': await first('runs', 'id'),
    '#/components/schemas/VersionNumber': String(models.json.production),
  };
}

/** For node:test: a server for the tests of a file or describe block. Its
 *  before starts `recsys serve` (args, env) on a demo store (or an empty
 *  one when empty), then runs setup(ctx); its after stops it, asserting a
 *  clean exit, and removes the store. Returns { url, known, store } (set
 *  by before; known is knownIds's answer, {} for an empty store); headers
 *  are sent when asking for the known ids. Do the file's other set-up in
 *  setup rather than in another before: Node 20 does not wait for one
 *  top-level before to finish before it starts the next. */
export function useServer({ empty = false, args = [], env = {}, headers = {}, setup } = {}) {
  const ctx = { url: undefined, known: {}, store: undefined, server: undefined };
  before(async () => {
    ctx.store = empty ? makeEmpty() : await makeDemo();
    ctx.server = await startServer(ctx.store, { args, env });
    ctx.url = ctx.server.url;
    if (!empty)
      ctx.known = await knownIds(ctx.url, headers);
    await setup?.(ctx);
  });
  after(async () => {
    const status = ctx.server ? (closeConnections(), await ctx.server.stop()) : 0;
    ctx.store?.remove();
    assert.equal(status, 0, `recsys serve exited with ${status}:\n${ctx.server?.output()}`);
  });
  return ctx;
}
