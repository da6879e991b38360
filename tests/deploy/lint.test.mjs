// yamllint (Debian's) on every YAML file of the repository with
// deploy/.yamllint.yaml, and proof that it fails on broken YAML; and the
// static facts of deploy/Dockerfile that the container test
// (container.sh, label container) does not see without building.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { DEPLOY, ROOT, run, tempDir } from './lib.mjs';

const CONFIG = join(DEPLOY, '.yamllint.yaml');

/** Every YAML file of the source tree, not node_modules nor build trees. */
function yamlFiles(dir = ROOT, out = []) {
  for (const name of readdirSync(dir)) {
    if (['node_modules', '.git', 'build'].includes(name) || name.startsWith('build-')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yamlFiles(path, out);
    else if (/\.ya?ml$/.test(name)) out.push(relative(ROOT, path));
  }
  return out.sort();
}

test('yamllint passes on every YAML file', () => {
  const files = yamlFiles();
  assert.ok(files.includes('deploy/docker-compose.yml'));
  assert.ok(files.includes('deploy/k8s/overlays/microservices/kustomization.yaml'));
  assert.ok(files.filter((f) => f.startsWith('deploy/')).length >= 30, files.join(' '));
  const r = run('yamllint', ['-f', 'parsable', '-c', CONFIG, ...files], { cwd: ROOT });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('yamllint fails on broken YAML', () => {
  const t = tempDir('yamllint');
  try {
    const file = join(t.dir, 'bad.yaml');
    writeFileSync(file, [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: a',
      '  name: b',
      'data:',
      '   KEY: "indented by three"',
      'trailing: x   ',
      '',
    ].join('\n'));
    const r = run('yamllint', ['-f', 'parsable', '-c', CONFIG, file]);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /duplication of key "name"/);
    assert.match(r.stdout, /wrong indentation/);
    assert.match(r.stdout, /trailing spaces/);
  } finally {
    t.remove();
  }
});

test('Dockerfile: built on Debian 12, run on slim Debian 12 as a non-root user, recsys as the entry point', () => {
  const lines = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const args = Object.fromEntries(lines.filter((l) => /^ARG /.test(l)).map((l) => l.slice(4).trim().split('=')));
  const froms = lines.filter((l) => /^FROM /i.test(l)).map((l) => l.split(/\s+/)[1].replace(/\$\{(\w+)\}/, (_, v) => args[v]));
  assert.deepEqual(froms, ['debian:bookworm', 'debian:bookworm-slim']);
  const last = lines.slice(lines.findLastIndex((l) => /^FROM /i.test(l)));
  const user = last.filter((l) => /^USER /.test(l)).pop();
  assert.ok(user, 'the runtime stage sets USER');
  assert.match(user, /^USER [1-9][0-9]*(:[0-9]+)?$/, 'a numeric non-root user (runAsNonRoot can check it)');
  assert.deepEqual(JSON.parse(last.find((l) => /^ENTRYPOINT /.test(l)).slice(11)), ['/usr/local/bin/recsys']);
  assert.deepEqual(JSON.parse(last.find((l) => /^CMD /.test(l)).slice(4)), ['serve']);
  assert.ok(last.some((l) => /^COPY --from=build \/build\/recsys /.test(l)));
  // The runtime image gets no compiler and no -dev package.
  const installs = last.filter((l) => /apt-get install/.test(l)).join(' ');
  assert.doesNotMatch(installs, /-dev\b|build-essential|gcc|cmake/);
});

test('.dockerignore sends the sources and the embedded npm packages, not the build trees', () => {
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.equal(rules[0], '*', 'everything is left out unless let in');
  for (const want of ['!src/', '!CMakeLists.txt', '!cmake/', '!web/', '!docs/openapi.yaml', '!tools/yaml2json.mjs',
    '!node_modules/chart.js/', '!node_modules/js-yaml/', '!node_modules/swagger-ui-dist/'])
    assert.ok(rules.includes(want), want);
  assert.ok(rules.includes('**/build/'));
});
