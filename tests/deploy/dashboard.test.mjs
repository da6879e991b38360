// The Grafana dashboard and the alert rules against real data: a real
// `recsys serve` on a demo store (with traffic of every kind and a
// training run), scraped by a real Prometheus (Debian's) through the
// relabelling of deploy/prometheus/kubernetes.yml, which loads
// deploy/prometheus/alerts.yml. Then:
// - every PromQL query of deploy/grafana/dashboards/recsys.json returns at
//   least one series with a number (an unknown metric name returns
//   nothing, which is how a typo shows), and the role variable's values
//   come back;
// - every alert rule evaluates without error, and every recsys metric the
//   rules and the dashboard name exists on /metrics;
// - the Kubernetes relabelling keeps only the annotated recsys pod, takes
//   its port and path from the annotations and its role from its label;
// - the dashboard is well formed (ids, data source, layout, variables);
// - and the query check fails on a misspelt metric and on broken PromQL.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dump, load } from 'js-yaml';
import {
  DEPLOY, freePort, readJson, readYaml, recsysBin, render, runOk, start, tempDir, until,
} from './lib.mjs';

const DASHBOARD = join(DEPLOY, 'grafana/dashboards/recsys.json');
const dash = readJson(DASHBOARD);
const datasources = readYaml(join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yml'));

/** The PromQL of every panel target. */
const queries = dash.panels.flatMap((p) => (p.targets || []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })));

/** Grafana's variables as Grafana would expand them for "All" over a short
 *  range: $role (multi, allValue .*), the interval variables. */
function expand(expr) {
  return expr
    .replaceAll('$__rate_interval', '10s')
    .replaceAll('$__interval', '2s')
    .replaceAll('$__range', '1m')
    .replaceAll('${role}', '.*')
    .replaceAll('$role', '.*');
}

const ctx = {};

async function http(url, { method = 'GET', body, headers = {} } = {}) {
  const res = await fetch(url, {
    method, headers: body ? { 'content-type': 'application/json', ...headers } : headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, text: await res.text() };
}

async function promQuery(expr) {
  const res = await fetch(`${ctx.prom}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const json = await res.json();
  return { status: res.status, json };
}

/** The problem with one query's answer, or null: an error, no series, or
 *  no series with a number. */
export async function queryProblem(expr) {
  const { status, json } = await promQuery(expr);
  if (status !== 200 || json.status !== 'success') return `HTTP ${status}: ${json.error || JSON.stringify(json)}`;
  const result = json.data.result;
  if (json.data.resultType === 'scalar') return Number.isFinite(Number(result[1])) ? null : 'not a number';
  if (result.length === 0) return 'no series (is every metric name right?)';
  if (!result.some((s) => Number.isFinite(Number(s.value[1])))) return `no series with a number: ${JSON.stringify(result)}`;
  return null;
}

describe('the dashboard and the rules on a real Prometheus scraping a real recsys', () => {
  before(async () => {
    ctx.tmp = tempDir('dashboard');
    const dir = ctx.tmp.dir;
    runOk(recsysBin(), ['demo', '--dir', join(dir, 'demo'), '--users', '300', '--items', '120', '--events', '15000',
      '--no-serve', '--log-level', 'warn']);
    const port = await freePort();
    ctx.server = start(recsysBin(), ['serve', '--db', `sqlite://${dir}/demo/recsys.db`, '--models', `file://${dir}/demo/models`,
      '--listen', `127.0.0.1:${port}`, '--quiet', '--log-level', 'warn', '--poll', '1s']);
    ctx.url = `http://127.0.0.1:${port}`;
    await until('recsys /readyz', async () => (await http(`${ctx.url}/readyz`)).status === 200);

    // Traffic of every kind, until the test ends: recommendations (known
    // and unknown users), similar and popular items, events, catalogue
    // reads, client errors; and a training run.
    assert.equal((await http(`${ctx.url}/v1/train`, { method: 'POST', body: {} })).status, 202);
    ctx.traffic = true;
    ctx.trafficDone = (async () => {
      for (let i = 0; ctx.traffic; i++) {
        await Promise.all([
          http(`${ctx.url}/v1/recommend?user_id=u${(i % 50) + 1}&n=5`),
          http(`${ctx.url}/v1/recommend?user_id=nobody-${i}&n=5`),
          http(`${ctx.url}/v1/similar?item_id=i${(i % 40) + 1}&n=5`),
          http(`${ctx.url}/v1/popular?n=5`),
          http(`${ctx.url}/v1/events`, { method: 'POST', body: { user_id: `u${(i % 50) + 1}`, item_id: `i${(i % 30) + 1}`, type: 'like' } }),
          http(`${ctx.url}/v1/items?limit=5`),
          http(`${ctx.url}/v1/recommend?n=5`), // 400: no user_id
          http(`${ctx.url}/v1/users/nobody-${i}`), // 404
        ]);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // Prometheus with the Kubernetes scrape job of kubernetes.yml, its
    // discovery replaced by static targets carrying the labels that
    // Kubernetes pod discovery gives: the recsys pod of the rendered
    // microservices Deployment recsys-hybrid (its labels and annotations,
    // the annotated port set to the test server's), an unannotated copy of
    // it, and a pod of another app.
    const hybrid = render('overlays/microservices').find((o) => o.kind === 'Deployment' && o.metadata.name === 'recsys-hybrid');
    const tpl = hybrid.spec.template.metadata;
    const meta = (labels, annotations, name) => {
      const m = { __address__: '127.0.0.1', __meta_kubernetes_namespace: 'recsys', __meta_kubernetes_pod_name: name };
      const norm = (k) => k.replace(/[^a-zA-Z0-9_]/g, '_');
      for (const [k, v] of Object.entries(labels)) m[`__meta_kubernetes_pod_label_${norm(k)}`] = v;
      for (const [k, v] of Object.entries(annotations)) m[`__meta_kubernetes_pod_annotation_${norm(k)}`] = v;
      return m;
    };
    const cfg = load(readFileSync(join(DEPLOY, 'prometheus/kubernetes.yml'), 'utf8'));
    const job = cfg.scrape_configs.find((j) => j.job_name === 'recsys');
    delete job.kubernetes_sd_configs;
    job.static_configs = [
      { targets: ['127.0.0.1'], labels: meta(tpl.labels, { ...tpl.annotations, 'prometheus.io/port': String(port) }, 'recsys-hybrid-1') },
      { targets: ['127.0.0.1'], labels: meta(tpl.labels, {}, 'recsys-hybrid-unannotated') },
      { targets: ['127.0.0.1'], labels: meta({ 'app.kubernetes.io/name': 'postgres' }, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port) }, 'postgres-0') },
    ];
    for (const t of job.static_configs) {
      t.targets = [`${t.labels.__address__}:${port}`];
      delete t.labels.__address__;
    }
    cfg.global = { scrape_interval: '1s', evaluation_interval: '1s' };
    cfg.rule_files = [join(DEPLOY, 'prometheus/alerts.yml')];
    writeFileSync(join(dir, 'prometheus.yml'), dump(cfg));
    const pport = await freePort();
    ctx.prom = `http://127.0.0.1:${pport}`;
    ctx.prometheus = start('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${pport}`, '--log.level=warn']);
    // Enough scrapes for rate() over 10s windows, with the training done.
    await until('five scrapes of recsys by Prometheus', async () => {
      const r = await promQuery('count_over_time(up{job="recsys"}[1m]) >= 5 and on() recsys_training_runs_total{status="finished"} > 0');
      return r.json.status === 'success' && r.json.data.result.length > 0;
    }, { timeout: 40000, every: 500 });
  });

  after(async () => {
    ctx.traffic = false;
    await ctx.trafficDone;
    const results = [];
    if (ctx.prometheus) results.push(['prometheus', await ctx.prometheus.stop()]);
    if (ctx.server) results.push(['recsys', await ctx.server.stop()]);
    ctx.tmp.remove();
    // recsys stops cleanly on SIGTERM.
    const recsys = results.find(([n]) => n === 'recsys');
    if (recsys) assert.deepEqual(recsys[1], { code: 0, signal: null }, ctx.server.output());
  });

  test('the Kubernetes relabelling keeps the annotated recsys pod, with its role', async () => {
    const res = await (await fetch(`${ctx.prom}/api/v1/targets`)).json();
    const active = res.data.activeTargets.filter((t) => t.scrapePool === 'recsys');
    assert.equal(active.length, 1, JSON.stringify(active.map((t) => t.labels)));
    const t = active[0];
    assert.equal(t.health, 'up', t.lastError);
    assert.equal(t.labels.role, 'hybrid');
    assert.equal(t.labels.namespace, 'recsys');
    assert.equal(t.labels.pod, 'recsys-hybrid-1');
    assert.equal(new URL(t.scrapeUrl).pathname, '/metrics');
    const dropped = res.data.droppedTargets.map((d) => d.discoveredLabels.__meta_kubernetes_pod_name).sort();
    assert.deepEqual(dropped, ['postgres-0', 'recsys-hybrid-unannotated']);
  });

  test('every dashboard query returns series', async () => {
    assert.ok(queries.length >= 15, `${queries.length} queries`);
    const problems = [];
    for (const q of queries) {
      const p = await queryProblem(expand(q.expr));
      if (p) problems.push(`${q.panel} (${q.refId}): ${p}\n    ${expand(q.expr)}`);
    }
    assert.deepEqual(problems, []);
  });

  test("the role variable's query finds the role", async () => {
    for (const v of dash.templating.list.filter((x) => x.type === 'query')) {
      const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(v.query.query || v.query);
      assert.ok(m, `variable ${v.name}: ${JSON.stringify(v.query)}`);
      const res = await (await fetch(`${ctx.prom}/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(m[1])}`)).json();
      assert.deepEqual(res.data, ['hybrid']);
    }
  });

  test('the check fails on a misspelt metric and on broken PromQL', async () => {
    assert.match(await queryProblem('sum(rate(recsys_http_request_total[10s]))'), /no series/);
    assert.match(await queryProblem('sum by (role) (rate(recsys_http_requests_total{role=~".*"}[10s])'), /HTTP 400/);
    assert.match(await queryProblem('histogram_quantile(0.99, sum by (le) (rate(recsys_http_request_duration_bucket[10s])))'), /no series/);
    assert.equal(await queryProblem(expand(queries[0].expr)), null);
  });

  test('every alert rule evaluates without error', async () => {
    const names = readYaml(join(DEPLOY, 'prometheus/alerts.yml')).groups.flatMap((g) => g.rules.map((r) => r.alert));
    const rules = await until('a rule evaluation', async () => {
      const res = await (await fetch(`${ctx.prom}/api/v1/rules`)).json();
      const all = res.data.groups.flatMap((g) => g.rules);
      return all.length && all.every((r) => r.lastEvaluation && !r.lastEvaluation.startsWith('0001')) ? all : null;
    });
    assert.deepEqual(rules.map((r) => r.name).sort(), [...names].sort());
    for (const r of rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
    // On a healthy, fresh server none fires but the no-model one cannot
    // (a version is served).
    const firing = rules.filter((r) => r.state === 'firing').map((r) => r.name);
    assert.deepEqual(firing, []);
  });

  test('every recsys metric that the rules and the dashboard name exists', async () => {
    const exposition = (await http(`${ctx.url}/metrics`)).text;
    const exposed = new Set([...exposition.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]));
    const rules = readFileSync(join(DEPLOY, 'prometheus/alerts.yml'), 'utf8');
    const used = new Set([...`${rules}\n${JSON.stringify(dash)}`.matchAll(/\brecsys_[a-z_]+/g)].map((m) => m[0]));
    const missing = [...used].filter((n) => !exposed.has(n) && !exposed.has(n.replace(/_(bucket|sum|count)$/, '')));
    assert.deepEqual(missing, []);
    assert.ok(used.size >= 12, [...used].join(' '));
  });
});

describe('the dashboard is well formed', () => {
  const panels = dash.panels;
  test('unique panel ids, each panel on the provisioned Prometheus', () => {
    const ds = datasources.datasources.find((d) => d.type === 'prometheus');
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(dash.uid, 'recsys-overview');
    for (const p of panels.filter((x) => x.type !== 'row')) {
      assert.equal(p.datasource.uid, ds.uid, p.title);
      assert.ok(p.targets.length > 0, p.title);
      const refs = p.targets.map((t) => t.refId);
      assert.equal(new Set(refs).size, refs.length, p.title);
      for (const t of p.targets) assert.equal(t.datasource.uid, ds.uid, `${p.title} ${t.refId}`);
    }
  });

  test('panels fit the 24-column grid without overlapping', () => {
    const cells = new Map();
    for (const p of panels) {
      const g = p.gridPos;
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${p.title}: ${JSON.stringify(g)}`);
      for (let y = g.y; y < g.y + g.h; y++)
        for (let x = g.x; x < g.x + g.w; x++) {
          const k = `${x},${y}`;
          assert.ok(!cells.has(k), `${p.title} overlaps ${cells.get(k)}`);
          cells.set(k, p.title);
        }
    }
  });

  test('the dashboard covers requests, latency, errors, events, model version and age, training', () => {
    const all = queries.map((q) => q.expr).join('\n');
    for (const m of ['recsys_http_requests_total', 'recsys_http_request_duration_seconds_bucket', 'status=~"5..',
      'recsys_events_ingested_total', 'recsys_model_version', 'recsys_model_age_seconds', 'recsys_training_runs_total',
      'recsys_model_ndcg', 'recsys_model_recall'])
      assert.ok(all.includes(m), m);
    for (const q of [0.5, 0.9, 0.99]) assert.ok(all.includes(`histogram_quantile(${q},`), `p${q * 100}`);
  });

  test('every variable used is defined', () => {
    const defined = new Set(dash.templating.list.map((v) => v.name));
    const used = new Set([...JSON.stringify(dash.panels).matchAll(/\$\{?(\w+)/g)].map((m) => m[1]).filter((n) => !n.startsWith('__')));
    assert.deepEqual([...used].filter((n) => !defined.has(n)), []);
  });

  test('the provisioning points at the dashboard folder that Compose mounts', () => {
    const prov = readYaml(join(DEPLOY, 'grafana/provisioning/dashboards/recsys.yml'));
    assert.equal(prov.providers[0].options.path, '/var/lib/grafana/dashboards');
    const compose = readYaml(join(DEPLOY, 'docker-compose.yml'));
    assert.ok(compose.services.grafana.volumes.includes('./grafana/dashboards:/var/lib/grafana/dashboards:ro'));
    assert.ok(compose.services.grafana.volumes.includes('./grafana/provisioning:/etc/grafana/provisioning:ro'));
    assert.equal(new URL(datasources.datasources[0].url).hostname, 'prometheus');
    assert.ok(compose.services.prometheus);
  });
});
