// The Kubernetes manifests of deploy/k8s, offline (no cluster can run
// here):
// - `kubectl kustomize` renders the base and each overlay;
// - every rendered object is valid against the Kubernetes 1.27 schemas
//   (npm kubernetes-models) and has no unknown field (k8s-validate.mjs);
// - the objects fit together: Services, Ingress backends, autoscalers and
//   disruption budgets point at what exists, every recsys container has
//   its probes, resources, scrape annotations and only variables that
//   recsys reads, and the microservices run each role once with the
//   Ingress routes of the design;
// - each of these checks fails on a deliberately broken input
//   (fixtures/).
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { check } from './k8s-validate.mjs';
import {
  DEPLOY, FIXTURES, OTHER_VARIABLES, OVERLAYS, ROLES, ROOT, kustomize, readYaml, recsysVariables, render,
  run, tempDir,
} from './lib.mjs';

const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, render(o)]));

const byKind = (objs, kind) => objs.filter((o) => o.kind === kind);
const find = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const podSpec = (o) => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template : o.spec.template);
const matches = (selector, labels) =>
  Object.entries(selector || {}).every(([k, v]) => labels && labels[k] === v);
const recsysContainers = (objs) =>
  objs
    .filter((o) => ['Deployment', 'CronJob'].includes(o.kind))
    .flatMap((o) => podSpec(o).spec.containers.filter((c) => /(^|\/)recsys(:|$)/.test(c.image)).map((c) => ({ o, c })));

/** Problems of how the objects of one rendering fit together. */
export function consistency(objs) {
  const problems = [];
  const say = (o, msg) => problems.push(`${o.kind}/${o.metadata && o.metadata.name}: ${msg}`);
  const workloads = objs.filter((o) => ['Deployment', 'StatefulSet', 'CronJob', 'Job'].includes(o.kind));
  const pods = workloads.map((o) => ({ o, labels: (podSpec(o).metadata || {}).labels || {}, spec: podSpec(o).spec }));
  for (const d of objs.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind)))
    if (!matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels))
      say(d, 'its selector does not match its pod labels');
  for (const s of byKind(objs, 'Service')) {
    const targets = pods.filter((p) => matches(s.spec.selector, p.labels));
    if (!s.spec.selector || targets.length === 0) say(s, 'selects no pod');
    for (const port of s.spec.ports || [])
      if (typeof port.targetPort === 'string' &&
          !targets.some((p) => p.spec.containers.some((c) => (c.ports || []).some((cp) => cp.name === port.targetPort))))
        say(s, `targetPort ${port.targetPort} is no container port of its pods`);
  }
  for (const ing of byKind(objs, 'Ingress'))
    for (const rule of ing.spec.rules || [])
      for (const p of rule.http.paths) {
        const svc = find(objs, 'Service', p.backend.service.name);
        if (!svc) say(ing, `${p.path} goes to Service ${p.backend.service.name}, which does not exist`);
        else if (!svc.spec.ports.some((sp) => sp.name === p.backend.service.port.name || sp.port === p.backend.service.port.number))
          say(ing, `${p.path} goes to a port that Service ${svc.metadata.name} does not have`);
      }
  for (const h of byKind(objs, 'HorizontalPodAutoscaler')) {
    const t = find(objs, h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name);
    if (!t) say(h, `scales ${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}, which does not exist`);
    else if (t.spec.replicas !== undefined && t.spec.replicas !== null)
      say(h, `its target ${t.metadata.name} sets replicas (each apply would reset the autoscaler's count)`);
    const cpu = (h.spec.metrics || []).some((m) => m.resource && m.resource.name === 'cpu');
    if (cpu && t && !podSpec(t).spec.containers.every((c) => c.resources && c.resources.requests && c.resources.requests.cpu))
      say(h, 'scales on CPU but its target does not request CPU');
  }
  for (const pdb of byKind(objs, 'PodDisruptionBudget'))
    if (!pods.some((p) => matches(pdb.spec.selector.matchLabels, p.labels))) say(pdb, 'selects no pod');
  for (const { o, spec } of pods) {
    const refs = [...spec.containers, ...(spec.initContainers || [])].flatMap((c) => [
      ...(c.envFrom || []).map((e) => (e.configMapRef ? ['ConfigMap', e.configMapRef.name] : ['Secret', e.secretRef.name])),
      ...(c.env || []).filter((e) => e.valueFrom).map((e) => e.valueFrom.configMapKeyRef
        ? ['ConfigMap', e.valueFrom.configMapKeyRef.name] : e.valueFrom.secretKeyRef ? ['Secret', e.valueFrom.secretKeyRef.name] : null),
    ]).filter(Boolean);
    for (const [kind, name] of refs) if (!find(objs, kind, name)) say(o, `uses ${kind} ${name}, which does not exist`);
    const mounts = spec.containers.flatMap((c) => (c.volumeMounts || []).map((m) => m.name));
    for (const m of mounts)
      if (!(spec.volumes || []).some((v) => v.name === m) &&
          !(o.spec.volumeClaimTemplates || []).some((v) => v.metadata.name === m))
        say(o, `mounts volume ${m}, which the pod does not have`);
  }
  return problems;
}

/** Problems of the recsys containers: probes, resources, security,
 *  scrape annotations, and environment variables recsys does not read. */
export function recsysRules(objs, known) {
  const problems = [];
  const say = (o, msg) => problems.push(`${o.kind}/${o.metadata.name}: ${msg}`);
  const configs = new Map(
    objs.filter((o) => o.kind === 'ConfigMap' || o.kind === 'Secret').map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  for (const { o, c } of recsysContainers(objs)) {
    const serve = o.kind === 'Deployment';
    const r = c.resources || {};
    for (const what of ['requests', 'limits'])
      for (const res of ['cpu', 'memory'])
        if (!r[what] || !r[what][res]) say(o, `has no ${what}.${res}`);
    const sc = c.securityContext || {};
    const psc = podSpec(o).spec.securityContext || {};
    if (!(psc.runAsNonRoot || sc.runAsNonRoot)) say(o, 'does not require a non-root user');
    if (sc.allowPrivilegeEscalation !== false) say(o, 'allows privilege escalation');
    if (serve) {
      if (!c.readinessProbe || !c.readinessProbe.httpGet || c.readinessProbe.httpGet.path !== '/readyz')
        say(o, 'has no readiness probe on /readyz');
      if (!c.livenessProbe || !c.livenessProbe.httpGet || c.livenessProbe.httpGet.path !== '/healthz')
        say(o, 'has no liveness probe on /healthz');
      const ann = podSpec(o).metadata.annotations || {};
      const port = (c.ports || []).find((p) => p.name === 'http');
      if (ann['prometheus.io/scrape'] !== 'true' || ann['prometheus.io/path'] !== '/metrics' ||
          !port || ann['prometheus.io/port'] !== String(port.containerPort))
        say(o, 'lacks the Prometheus scrape annotations of its http port');
      if ((c.args || [])[0] !== 'serve') say(o, `runs ${(c.args || []).join(' ')}, not recsys serve`);
    } else if ((c.args || [])[0] !== 'train') say(o, 'the job does not run recsys train');
    const names = [
      ...(c.env || []).map((e) => e.name),
      ...(c.envFrom || []).flatMap((e) => {
        const src = configs.get(e.configMapRef ? `ConfigMap/${e.configMapRef.name}` : `Secret/${e.secretRef.name}`);
        return src ? Object.keys({ ...src.data, ...src.stringData }) : [];
      }),
    ];
    for (const n of names) if (!known.has(n) && !OTHER_VARIABLES.has(n)) say(o, `sets ${n}, which recsys does not read`);
  }
  return problems;
}

const known = recsysVariables('serve', 'train');

describe('kubectl kustomize', () => {
  for (const o of OVERLAYS)
    test(`renders ${o}`, () => {
      assert.ok(rendered[o].length > 0);
      for (const obj of rendered[o]) assert.ok(obj.kind && obj.metadata && obj.metadata.name);
    });

  test('fails on a kustomization whose patch matches nothing', () => {
    const t = tempDir('kustomize');
    try {
      cpSync(join(DEPLOY, 'k8s'), join(t.dir, 'k8s'), { recursive: true });
      const ov = join(t.dir, 'k8s/overlays/broken');
      cpSync(join(FIXTURES, 'broken-overlay'), ov, { recursive: true });
      const r = kustomize(ov);
      assert.notEqual(r.status, 0, 'kubectl kustomize accepted a patch of a missing Deployment');
      assert.match(r.stderr, /no-such-deployment|not find|no matches|failed to find/i);
    } finally {
      t.remove();
    }
  });
});

describe('Kubernetes 1.27 schemas (kubernetes-models) and unknown fields', () => {
  for (const o of OVERLAYS)
    test(`${o}: every object is valid`, () => {
      const problems = rendered[o].flatMap((obj) => check(obj).map((p) => `${obj.kind}/${obj.metadata.name}: ${p.path}: ${p.message}`));
      assert.deepEqual(problems, []);
    });

  test('a broken manifest is rejected with each of its faults', () => {
    const bad = readYaml(join(FIXTURES, 'bad-objects.yaml'));
    for (const { object, expect } of bad) {
      const got = check(object).map((p) => `${p.path}: ${p.message}`);
      for (const e of expect)
        assert.ok(got.some((g) => g.includes(e)), `expected "${e}" for ${object.kind}, got:\n  ${got.join('\n  ')}`);
      if (expect.length === 0) assert.deepEqual(got, [], `${object.kind} should be valid`);
    }
  });

  test('the validator runs from the command line on kubectl output', () => {
    const k = kustomize('overlays/microservices');
    const r = run(process.execPath, [join(ROOT, 'tests/deploy/k8s-validate.mjs'), '-'], { input: k.stdout });
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /\d+ objects valid/);
    const bad = run(process.execPath, [join(ROOT, 'tests/deploy/k8s-validate.mjs'), join(FIXTURES, 'bad-deployment.yaml')]);
    assert.equal(bad.status, 1, bad.stdout);
    assert.match(bad.stdout, /containerPort: must be integer/);
    assert.match(bad.stdout, /readinessprobe: unknown field/);
  });
});

describe('the objects fit together', () => {
  for (const o of OVERLAYS) {
    test(`${o}: references resolve`, () => assert.deepEqual(consistency(rendered[o]), []));
    test(`${o}: recsys containers have probes, resources, annotations and known variables`, () =>
      assert.deepEqual(recsysRules(rendered[o], known), []));
  }

  test('the checks find broken references and rules', () => {
    const objs = structuredClone(rendered['overlays/microservices']);
    const ing = find(objs, 'Ingress', 'recsys');
    ing.spec.rules[0].http.paths[0].backend.service.name = 'recsys-inptu';
    find(objs, 'HorizontalPodAutoscaler', 'recsys-hybrid').spec.scaleTargetRef.name = 'recsys-hybird';
    const collab = find(objs, 'Deployment', 'recsys-collab');
    collab.spec.replicas = 3;
    const hybrid = find(objs, 'Deployment', 'recsys-hybrid');
    const c = hybrid.spec.template.spec.containers[0];
    delete c.readinessProbe;
    delete c.resources.limits;
    c.env.push({ name: 'RECSYS_RETRAIN_EVRY', value: '6h' });
    hybrid.spec.template.metadata.annotations['prometheus.io/port'] = '9090';
    find(objs, 'Service', 'recsys-popularity').spec.selector['app.kubernetes.io/component'] = 'populariti';
    find(objs, 'Deployment', 'recsys-input').spec.template.spec.containers[0].envFrom[0].configMapRef.name = 'recsys-conf';
    const got = [...consistency(objs), ...recsysRules(objs, known)];
    for (const e of [
      'Ingress/recsys: /v1/events goes to Service recsys-inptu, which does not exist',
      'HorizontalPodAutoscaler/recsys-hybrid: scales Deployment/recsys-hybird, which does not exist',
      'HorizontalPodAutoscaler/recsys-collab: its target recsys-collab sets replicas',
      'Deployment/recsys-hybrid: has no readiness probe on /readyz',
      'Deployment/recsys-hybrid: has no limits.cpu',
      'Deployment/recsys-hybrid: sets RECSYS_RETRAIN_EVRY, which recsys does not read',
      'Deployment/recsys-hybrid: lacks the Prometheus scrape annotations',
      'Service/recsys-popularity: selects no pod',
      'Deployment/recsys-input: uses ConfigMap recsys-conf, which does not exist',
    ])
      assert.ok(got.some((g) => g.startsWith(e)), `expected "${e}" among:\n  ${got.join('\n  ')}`);
  });
});

describe('the layouts', () => {
  const roleOf = (d) => (d.spec.template.spec.containers[0].env || []).find((e) => e.name === 'RECSYS_ROLES');

  test('base: one monolith with every role that trains itself, no volume claim', () => {
    const objs = rendered.base;
    const deps = byKind(objs, 'Deployment');
    assert.equal(deps.length, 1);
    assert.equal(roleOf(deps[0]).value, 'all');
    assert.equal(deps[0].spec.replicas, 1, 'one process trains on a schedule');
    assert.ok(deps[0].spec.template.spec.containers[0].env.some((e) => e.name === 'RECSYS_RETRAIN_EVERY' && e.value !== '0'));
    assert.deepEqual(objs.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret', 'Service']);
    assert.ok(!objs.some((o) => o.kind === 'PersistentVolumeClaim'));
  });

  for (const o of ['overlays/microservices', 'overlays/minikube'])
    test(`${o}: one Deployment and Service per role, the training CronJob, autoscaling and budgets`, () => {
      const objs = rendered[o];
      for (const role of ROLES) {
        const d = find(objs, 'Deployment', `recsys-${role}`);
        assert.ok(d, `Deployment recsys-${role}`);
        assert.equal(roleOf(d).value, role);
        assert.ok(!d.spec.template.spec.containers[0].env.some((e) => e.name === 'RECSYS_RETRAIN_EVERY'),
          'only the CronJob trains on a schedule');
        assert.ok(find(objs, 'Service', `recsys-${role}`), `Service recsys-${role}`);
        assert.ok(byKind(objs, 'PodDisruptionBudget').some((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels)),
          `a PodDisruptionBudget for ${role}`);
      }
      assert.equal(byKind(objs, 'Deployment').filter((d) => roleOf(d)).length, ROLES.length);
      const cron = find(objs, 'CronJob', 'recsys-train');
      assert.deepEqual(cron.spec.jobTemplate.spec.template.spec.containers[0].args.slice(0, 1), ['train']);
      assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
      const scaled = byKind(objs, 'HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name).sort();
      assert.deepEqual(scaled, ['recsys-collab', 'recsys-hybrid', 'recsys-popularity']);
      // One image for every role and the job.
      assert.equal(new Set(recsysContainers(objs).map(({ c }) => c.image)).size, 1);
      if (o === 'overlays/microservices') assert.ok(!objs.some((x) => x.kind === 'PersistentVolumeClaim' || x.spec && x.spec.volumeClaimTemplates));
    });

  test('the Ingress routes paths to roles', () => {
    const ing = find(rendered['overlays/microservices'], 'Ingress', 'recsys');
    const paths = ing.spec.rules[0].http.paths;
    // The backend of a request path, as ingress-nginx picks it: an Exact
    // match, else the longest Prefix match by path elements.
    const route = (path) => {
      const exact = paths.find((p) => p.pathType === 'Exact' && p.path === path);
      if (exact) return exact.backend.service.name;
      const pre = paths.filter((p) => p.pathType === 'Prefix' &&
        (p.path === '/' || path === p.path || path.startsWith(`${p.path.replace(/\/$/, '')}/`)));
      pre.sort((a, b) => b.path.length - a.path.length);
      return pre.length ? pre[0].backend.service.name : null;
    };
    const want = {
      '/v1/events': 'input', '/v1/users': 'input', '/v1/users/u1/events': 'input', '/v1/items': 'input',
      '/v1/items/i1': 'input', '/v1/categories': 'input',
      '/v1/recommend': 'hybrid', '/v1/similar': 'collab', '/v1/popular': 'popularity',
      '/': 'admin', '/ui/app.js': 'admin', '/v1/runs': 'admin', '/v1/runs/r1': 'admin', '/v1/models': 'admin',
      '/v1/models/3/promote': 'admin', '/v1/train': 'admin', '/v1/status': 'admin', '/docs': 'admin',
      '/docs/index.html': 'admin', '/openapi.json': 'admin',
    };
    for (const [path, role] of Object.entries(want)) assert.equal(route(path), `recsys-${role}`, path);
  });

  test('minikube: the store and the model store run in the namespace, the image is local', () => {
    const objs = rendered['overlays/minikube'];
    for (const name of ['postgres', 'minio']) assert.ok(find(objs, 'StatefulSet', name), name);
    for (const { c } of recsysContainers(objs)) assert.equal(c.imagePullPolicy, 'Never');
    const secret = find(objs, 'Secret', 'recsys-secrets');
    assert.ok(!JSON.stringify(secret.stringData).includes('CHANGE-ME'), 'every placeholder is filled in');
    assert.match(secret.stringData.RECSYS_DB, /@postgres:5432\//);
    assert.equal(find(objs, 'ConfigMap', 'recsys-config').data.AWS_ENDPOINT_URL, 'http://minio:9000');
  });
});
