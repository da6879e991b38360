// Validates Kubernetes objects offline against the API schemas of
// Kubernetes 1.27, as npm kubernetes-models compiles them:
//
//   node tests/deploy/k8s-validate.mjs FILE.yaml...   (`-` reads stdin)
//
// Each YAML document must be an object of a kind that kubernetes-models
// knows (apiVersion + kind), valid against its schema (types, required
// fields, enums, formats), and hold no field that the schema does not
// define. kubernetes-models does not flag unknown fields (the API server
// drops them, or rejects them with --validate=strict), so this script finds
// them itself: it runs the same compiled validator over a proxy of the
// object that records which properties the validator looks up. The
// validator looks up every property its schema defines, so a property that
// is present but never looked up is unknown. Objects the validator
// enumerates (maps such as labels, data, annotations) or never enters
// (free-form values) are not judged.
//
// Prints one line per problem, `FILE: Kind/name: /path: message`, and
// exits 1 when there is any; prints `N objects valid` and exits 0 otherwise.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadAll } from 'js-yaml';

const require = createRequire(import.meta.url);

// kubernetes-models also holds API versions that Kubernetes no longer
// serves; the API server refuses them. Removed by 1.27, with the release
// that removed them (kubernetes.io/docs/reference/using-api/deprecation-guide).
const REMOVED = {
  'extensions/v1beta1': '1.22', 'apps/v1beta1': '1.16', 'apps/v1beta2': '1.16',
  'networking.k8s.io/v1beta1': '1.22', 'admissionregistration.k8s.io/v1beta1': '1.22',
  'apiextensions.k8s.io/v1beta1': '1.22', 'apiregistration.k8s.io/v1beta1': '1.22',
  'certificates.k8s.io/v1beta1': '1.22', 'coordination.k8s.io/v1beta1': '1.22',
  'rbac.authorization.k8s.io/v1beta1': '1.22', 'scheduling.k8s.io/v1beta1': '1.22',
  'batch/v1beta1': '1.25', 'discovery.k8s.io/v1beta1': '1.25', 'events.k8s.io/v1beta1': '1.25',
  'autoscaling/v2beta1': '1.25', 'policy/v1beta1': '1.25', 'node.k8s.io/v1beta1': '1.25',
  'flowcontrol.apiserver.k8s.io/v1beta1': '1.26', 'autoscaling/v2beta2': '1.26',
  'storage.k8s.io/v1beta1': '1.27',
};

// The schema validator of apiVersion/kind, from its kubernetes-models
// module (kubernetes-models/GROUP/VERSION/KIND, core types under v1/).
function validatorOf(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[A-Za-z0-9]+$/.test(kind))
    return null;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (!/^[a-z0-9.]*$/.test(group) || !/^v[0-9a-z]+$/.test(version)) return null;
  const mod = group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
  let path;
  try {
    path = require.resolve(mod);
  } catch {
    return null;
  }
  // The model module requires its schema module (_schemas/NAME.js), which
  // exports the compiled validate function.
  const m = /require\("((?:\.\.\/)+_schemas\/\w+\.js)"\)/.exec(readFileSync(path, 'utf8'));
  if (!m) return null;
  return createRequire(path)(m[1]).validate;
}

// Wraps value in proxies (deeply) that record, per object, the property
// names looked up and whether its keys were enumerated.
function track(value, path, seen) {
  if (value === null || typeof value !== 'object') return value;
  const rec = { path, value, got: new Set(), enumerated: false };
  seen.push(rec);
  const kids = new Map();
  return new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key === 'string') rec.got.add(key);
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || v === null || typeof v !== 'object') return v;
      if (!kids.has(key)) kids.set(key, track(v, `${path}/${key}`, seen));
      return kids.get(key);
    },
    has(target, key) {
      if (typeof key === 'string') rec.got.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      rec.enumerated = true;
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, key) {
      if (typeof key === 'string') rec.got.add(key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
}

// One error of the compiled validator (which carries no message) in words.
function describe(e) {
  const p = e.params || {};
  switch (e.keyword) {
    case 'required':
      return `required field ${p.missingProperty} is missing`;
    case 'type':
      return `must be ${p.type}`;
    case 'enum':
      return `must be one of ${(p.allowedValues || []).join(', ')}`;
    case 'format':
      return `must be of format ${p.format}`;
    default:
      return e.message || `fails ${e.keyword} ${JSON.stringify(p)}`;
  }
}

// Problems of one object: schema errors, then unknown fields.
export function check(obj) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    return [{ path: '', message: 'is not an object' }];
  if (REMOVED[obj.apiVersion])
    return [{ path: '', message: `apiVersion ${obj.apiVersion} was removed in Kubernetes ${REMOVED[obj.apiVersion]}` }];
  const validate = validatorOf(obj.apiVersion, obj.kind);
  if (!validate)
    return [{ path: '', message: `unknown apiVersion/kind ${obj.apiVersion}/${obj.kind} (not in the Kubernetes 1.27 API)` }];
  const seen = [];
  const ok = validate(track(obj, '', seen));
  const problems = ok
    ? []
    : validate.errors.map((e) => ({
        path: e.instancePath || '/',
        message: describe(e),
      }));
  for (const rec of seen) {
    if (Array.isArray(rec.value) || rec.enumerated || rec.got.size === 0) continue;
    for (const key of Object.keys(rec.value))
      if (!rec.got.has(key)) problems.push({ path: `${rec.path}/${key}`, message: 'unknown field' });
  }
  return problems;
}

function name(obj) {
  const kind = obj && typeof obj === 'object' ? obj.kind : undefined;
  const n = obj && obj.metadata && obj.metadata.name;
  return `${kind || '?'}/${n || '?'}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node k8s-validate.mjs FILE.yaml... (- for stdin)');
    process.exit(2);
  }
  let count = 0,
    bad = 0;
  for (const file of files) {
    const text = readFileSync(file === '-' ? 0 : file, 'utf8');
    let docs;
    try {
      docs = loadAll(text, null, { filename: file });
    } catch (err) {
      console.log(`${file}: ${err.message}`);
      bad++;
      continue;
    }
    for (const obj of docs) {
      if (obj === null || obj === undefined) continue; // an empty document
      count++;
      for (const p of check(obj)) {
        console.log(`${file}: ${name(obj)}: ${p.path || '/'}: ${p.message}`);
        bad++;
      }
    }
  }
  if (bad) {
    console.log(`${bad} problem(s) in ${count} object(s)`);
    process.exit(1);
  }
  if (count === 0) {
    console.log('no object found');
    process.exit(1);
  }
  console.log(`${count} objects valid`);
}
