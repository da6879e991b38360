// docs/openapi.yaml is a clean OpenAPI 3.1 description (redocly lint with
// redocly.yaml: no error, no warning), and it is the one the server serves
// at /openapi.json (the binary embeds it at build time).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

import { operations, checkResponse, ROOT, spec } from './spec.mjs';
import { request, useServer } from './server.mjs';

const REDOCLY = join(ROOT, 'node_modules', '.bin', 'redocly');

/** Runs `redocly lint` from the source root; returns { status, report
 *  (its JSON output), stderr }. Telemetry and update checks are off: the
 *  test must not need the network. */
function redoclyLint() {
  const run = spawnSync(REDOCLY, ['lint', '--config', 'redocly.yaml', '--format', 'json',
                                  '--lint-config', 'error'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  assert.equal(run.error, undefined, `could not run ${REDOCLY}: ${run.error?.message}`);
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch (err) {
    assert.fail(`redocly lint did not print a JSON report (${err.message}):\n${run.stdout}\n${run.stderr}`);
  }
  return { status: run.status, report, stderr: run.stderr };
}

test('redocly lint finds no error and no warning', () => {
  const { status, report, stderr } = redoclyLint();
  const problems = report.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} ` +
                                              `(${p.location?.map((l) => l.pointer).join(', ')})`);
  assert.deepEqual(problems, [], `redocly lint reports problems:\n${problems.join('\n')}`);
  assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 });
  assert.equal(status, 0, `redocly lint exited with ${status}:\n${stderr}`);
});

const ctx = useServer();

test('GET /openapi.json serves docs/openapi.yaml', async () => {
  const op = operations().find((o) => o.id === 'openapi');
  const res = await request(ctx.url, { path: op.path });
  checkResponse(op, res, 'the description');
  assert.deepEqual(res.json, spec,
                   'the served description is not docs/openapi.yaml: rebuild recsys (it embeds the file)');
});
