// The Prometheus files of deploy/prometheus with Debian's promtool:
// `promtool check config` on both scrape configurations, `check rules` on
// the alert rules and `test rules` on their unit tests; and each of these
// fails on a broken input. (dashboard.test.mjs runs the rules and the
// Kubernetes relabelling in a real Prometheus.)
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dump, load } from 'js-yaml';
import { DEPLOY, run, tempDir } from './lib.mjs';

const PROM = join(DEPLOY, 'prometheus');
const promtool = (...args) => run('promtool', args, { cwd: PROM });

test('promtool check config: the Compose configuration', () => {
  const r = promtool('check', 'config', 'prometheus.yml');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: prometheus\.yml is valid/);
  assert.match(r.stdout, /SUCCESS: 1 rule files found/);
});

// Debian's Prometheus is built without Kubernetes service discovery
// (`field kubernetes_sd_configs not found`), so the discovery block is
// swapped for a static target and the rest (relabelling, rule files) goes
// through promtool; dashboard.test.mjs runs the relabelling for real.
test('promtool check config: the Kubernetes configuration (discovery swapped for a static target)', () => {
  const t = tempDir('promk8s');
  try {
    const cfg = load(readFileSync(join(PROM, 'kubernetes.yml'), 'utf8'));
    const job = cfg.scrape_configs.find((j) => j.job_name === 'recsys');
    assert.equal(job.kubernetes_sd_configs[0].role, 'pod');
    assert.deepEqual(job.kubernetes_sd_configs[0].namespaces.names, ['recsys']);
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['127.0.0.1:8080'] }];
    writeFileSync(join(t.dir, 'kubernetes.yml'), dump(cfg));
    copyFileSync(join(PROM, 'alerts.yml'), join(t.dir, 'alerts.yml'));
    const r = run('promtool', ['check', 'config', 'kubernetes.yml'], { cwd: t.dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: kubernetes\.yml is valid/);
  } finally {
    t.remove();
  }
});

test('promtool check rules and test rules: the alerts and their unit tests', () => {
  const c = promtool('check', 'rules', 'alerts.yml');
  assert.equal(c.status, 0, c.stdout + c.stderr);
  const names = load(readFileSync(join(PROM, 'alerts.yml'), 'utf8')).groups.flatMap((g) => g.rules.map((r) => r.alert));
  assert.match(c.stdout, new RegExp(`SUCCESS: ${names.length} rules found`));
  for (const want of ['RecsysHighErrorRate', 'RecsysHighLatencyP99', 'RecsysModelStale', 'RecsysTrainingFailed'])
    assert.ok(names.includes(want), want);
  const u = promtool('test', 'rules', 'alerts_test.yml');
  assert.equal(u.status, 0, u.stdout + u.stderr);
  assert.match(u.stdout, /SUCCESS/);
  // Every alert has a unit test that makes it fire.
  const tests = load(readFileSync(join(PROM, 'alerts_test.yml'), 'utf8')).tests;
  const fired = new Set(tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length).map((a) => a.alertname)));
  assert.deepEqual(names.filter((n) => !fired.has(n)), [], 'alerts without a test that fires them');
});

test('promtool fails on broken files', () => {
  const t = tempDir('promtool');
  try {
    const rules = readFileSync(join(PROM, 'alerts.yml'), 'utf8');
    // PromQL that does not parse.
    writeFileSync(join(t.dir, 'alerts.yml'), rules.replace('> 2 * 6 * 3600', '> 2 * 6 * 3600)'));
    let r = run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: t.dir });
    assert.notEqual(r.status, 0, 'a rule with unbalanced parentheses passed');
    assert.match(r.stdout + r.stderr, /RecsysModelStale|parse error|unexpected/);
    // A unit test expecting what the rule does not do.
    writeFileSync(join(t.dir, 'alerts.yml'), rules.replace('> 2 * 6 * 3600', '> 4 * 6 * 3600'));
    copyFileSync(join(PROM, 'alerts_test.yml'), join(t.dir, 'alerts_test.yml'));
    r = run('promtool', ['test', 'rules', 'alerts_test.yml'], { cwd: t.dir });
    assert.notEqual(r.status, 0, 'a rule changed under its test still passed');
    assert.match(r.stdout + r.stderr, /RecsysModelStale/);
    // A scrape configuration with a misspelt field.
    const cfg = readFileSync(join(PROM, 'prometheus.yml'), 'utf8').replace('scrape_interval:', 'scrape_intervall:');
    writeFileSync(join(t.dir, 'prometheus.yml'), cfg);
    r = run('promtool', ['check', 'config', 'prometheus.yml'], { cwd: t.dir });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /scrape_intervall/);
  } finally {
    t.remove();
  }
});
