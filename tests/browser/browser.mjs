// The harness of the web UI's browser tests: Debian's chromium driven by
// playwright-core, kept off every host but the test server, and pages
// that record what would show in the browser's console as an error (a
// console error, an uncaught exception, a failed request or an HTTP error
// answer) so that a test can fail on it.
//
//   const browser = await launch();
//   const page = await openPage(browser, { width: 375 });
//   ...
//   assertClean(page, [/status of 404/]);   // errors matching these are expected
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** chromium, headless, with no network beyond 127.0.0.1 and localhost
 *  (no DNS lookups either). */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost'],
  });
}

/** A page of a fresh context (its own storage) at width x height, whose
 *  page.problems lists every error it met. */
export async function openPage(browser, { width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error')
      page.problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (err) => page.problems.push(`uncaught: ${err.message}`));
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED')  // a view left cancels its requests
      page.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400)
      page.problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
  });
  return page;
}

/** Asserts the page met no error but those matching one of allowed
 *  (regular expressions), then forgets what it met. */
export function assertClean(page, allowed = []) {
  const unexpected = page.problems.filter((p) => !allowed.some((re) => re.test(p)));
  page.problems = [];
  assert.deepEqual(unexpected, [], `the page met errors:\n${unexpected.join('\n')}`);
}

/** Opens a view of the UI (a hash such as '#/users') and waits until it
 *  has drawn its data. */
export async function view(page, base, hash) {
  if (page.url().startsWith(base))
    await page.evaluate((h) => {
      document.getElementById('main').removeAttribute('data-ready');
      if (location.hash === h)
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      else
        location.hash = h;
    }, hash);
  else
    await page.goto(`${base}/${hash}`);
  await page.waitForSelector('main[data-ready="true"]');
}

/** Where screenshots go: RECSYS_SCREENSHOTS (ctest sets a folder in the
 *  build tree), else a folder under the temp folder. */
export function screenshotDir() {
  const dir = process.env.RECSYS_SCREENSHOTS ?? join(process.env.TMPDIR ?? tmpdir(), 'screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
