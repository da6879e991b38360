// The web UI's first render: on the demo catalogue (recsys demo: 5,000
// users, 2,000 items, 200,000 events), opens each page of the UI in a new
// browser context (an empty cache, as a first visit) in Debian's chromium
// and reports, per page, the median and 95th percentile of RUNS loads:
//   fcp_ms    first contentful paint (the header and "Loading…")
//   ready_ms  the page's data drawn (app.js marks recsys:view-ready)
// both from the start of navigation. One JSON line per page on stdout, a
// table on stderr.
//
//   node bench/ui/first-render.mjs [RECSYS]     (default build/release/recsys; RUNS=20)
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

import { makeDemo, startServer } from '../../tests/api/server.mjs';
import { launch } from '../../tests/browser/browser.mjs';

const runs = Number(process.env.RUNS ?? 20);
process.env.RECSYS_BIN = resolve(process.argv[2] ?? 'build/release/recsys');
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch { /* not a checkout */ }

/** The median and the 95th percentile (nearest rank) of values. */
function stats(values) {
  const v = [...values].sort((a, b) => a - b);
  const rank = (p) => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)];
  const median = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return { median, p95: rank(0.95) };
}

console.error('bench/ui: building the demo store (recsys demo --no-serve)...');
const demo = await makeDemo({ users: 5000, items: 2000, events: 200000 });
const server = await startServer(demo);
const browser = await launch();
try {
  const runId = (await (await fetch(`${server.url}/v1/runs?limit=1`)).json()).runs[0].id;
  const pages = [['status', '#/status'], ['users', '#/users'], ['user', '#/users/u1'], ['items', '#/items'],
    ['item', '#/items/i1'], ['models', '#/models'], ['runs', '#/runs'], ['run', `#/runs/${runId}`]];
  console.error(`bench/ui: ${runs} first visits per page, ${server.url}`);
  console.error('page        fcp ms (median / p95)   ready ms (median / p95)');
  for (const [name, hash] of pages) {
    const fcp = [], ready = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(`${server.url}/${hash}`);
      await page.waitForSelector('main[data-ready="true"]');
      const t = await page.evaluate(() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
        ready: performance.getEntriesByName('recsys:view-ready')[0]?.startTime,
      }));
      fcp.push(t.fcp);
      ready.push(t.ready);
      await context.close();
    }
    const f = stats(fcp), r = stats(ready);
    console.log(JSON.stringify({ bench: 'ui_first_render', page: name, runs, fcp_ms_median: +f.median.toFixed(1),
      fcp_ms_p95: +f.p95.toFixed(1), ready_ms_median: +r.median.toFixed(1), ready_ms_p95: +r.p95.toFixed(1),
      commit }));
    console.error(`${name.padEnd(10)}  ${f.median.toFixed(0).padStart(6)} / ${f.p95.toFixed(0).padEnd(14)}` +
                  `${r.median.toFixed(0).padStart(6)} / ${r.p95.toFixed(0)}`);
  }
} finally {
  await browser.close();
  await server.stop();
  demo.remove();
}
