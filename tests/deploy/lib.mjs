// Helpers of the deployment checks (tests/deploy/*.test.mjs): the paths of
// deploy/, the tools they run (kubectl, promtool, prometheus, yamllint,
// the recsys binary just built), YAML loading, free ports, and processes
// that are always stopped.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_SCHEMA, load, loadAll, mergeTag } from 'js-yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEPLOY = join(ROOT, 'deploy');
export const FIXTURES = join(ROOT, 'tests/deploy/fixtures');
export const OVERLAYS = ['base', 'overlays/microservices', 'overlays/minikube'];
export const ROLES = ['input', 'collab', 'hybrid', 'popularity', 'admin'];

/** The recsys binary under test (CTest sets RECSYS_BIN to the one built). */
export function recsysBin() {
  const bin = process.env.RECSYS_BIN;
  if (!bin) throw new Error('RECSYS_BIN must name the recsys binary (ctest sets it)');
  return bin;
}

/** Runs a command to completion: {status, stdout, stderr}. A missing
 *  program is an error that says what to install. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) {
    if (r.error.code === 'ENOENT')
      throw new Error(`${cmd} is not installed: run scripts/install-deps (make deps)`);
    throw r.error;
  }
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed; returns its stdout. */
export function runOk(cmd, args, opts = {}) {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** `kubectl kustomize` of deploy/k8s/WHICH (or an absolute folder). */
export function kustomize(which) {
  const dir = which.startsWith('/') ? which : join(DEPLOY, 'k8s', which);
  return run('kubectl', ['kustomize', dir]);
}

/** The objects `kubectl kustomize` renders from deploy/k8s/WHICH. */
export function render(which) {
  const r = kustomize(which);
  assert.equal(r.status, 0, `kubectl kustomize ${which} failed:\n${r.stderr}`);
  return loadAll(r.stdout, { schema: YAML_SCHEMA }).filter((o) => o);
}

/** YAML 1.2 (core schema) with merge keys (`<<: *anchor`), as Docker
 *  Compose reads it; js-yaml 5 leaves merge keys out unless asked. */
export const YAML_SCHEMA = CORE_SCHEMA.withTags(mergeTag);

export function readYaml(path) {
  return load(readFileSync(path, 'utf8'), { filename: path, schema: YAML_SCHEMA });
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A temp folder under $TMPDIR, removed by the returned function. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(process.env.TMPDIR || tmpdir(), `rs-deploy-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const children = new Set();
/** Starts a long-running process; its output goes to LOG (a path) or is
 *  kept in memory (.output()). Every process started here is stopped when
 *  the test process exits, even on failure. */
export function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
  children.add(child);
  exited.then(() => children.delete(child));
  return {
    child,
    exited,
    output: () => out,
    /** SIGTERM, then SIGKILL after ms; resolves to {code, signal}. */
    async stop(ms = 10000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), ms);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Waits until fn() returns a truthy value (polling every ms). */
export async function until(what, fn, { timeout = 20000, every = 200 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** The RECSYS_* variables that `recsys CMD --help` documents. */
export function recsysVariables(...commands) {
  const vars = new Set();
  for (const cmd of commands) {
    const help = runOk(recsysBin(), [cmd, '--help']);
    for (const m of help.matchAll(/\[(RECSYS_[A-Z0-9_]+)\]/g)) vars.add(m[1]);
  }
  return vars;
}

/** The environment variables that recsys reads besides its options (the
 *  S3 model store's, docs/operations.md) and TMPDIR. */
export const OTHER_VARIABLES = new Set([
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'RECSYS_S3_PATH_STYLE', 'RECSYS_S3_TIMEOUT',
  'RECSYS_S3_PAGE_SIZE', 'TMPDIR',
]);
