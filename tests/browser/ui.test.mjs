// The web UI in a real browser (Debian's chromium through playwright-core)
// against `recsys serve` on a demo store: a new user registers, likes
// three items of one category and sees their recommendations turn to it;
// the runs page draws its charts; an item page lists similar items; every
// page renders at phone and desktop widths with nothing in the console
// (a screenshot of each is saved); the keyboard reaches and presses the
// buttons; API errors, an unreachable server and an empty store are
// shown, never a blank page; a read key is asked for; promotion and
// rollback (and its 409) with an API key.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { closeConnections, makeDemo, makeEmpty, request, startServer } from '../api/server.mjs';
import { assertClean, launch, openPage, screenshotDir, view } from './browser.mjs';

let demo, server, browser;

before(async () => {
  demo = await makeDemo({ users: 300, items: 120, events: 15000 });
  server = await startServer(demo);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  closeConnections();
  const status = await server?.stop();
  demo?.remove();
  assert.equal(status, 0, `recsys serve exited with ${status}`);
});

/** The categories of the recommendation cards on a user's page. */
function cardCategories(page) {
  return page.$$eval('#recs .card', (cards) => cards.map((c) => c.dataset.category));
}

test('a new user registers, likes three items of one category, and the recommendations follow', async () => {
  const page = await openPage(browser);
  await view(page, server.url, '#/users');
  await page.getByLabel('User id').fill('ada-lovelace');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page.waitForURL(/#\/users\/ada-lovelace/);
  await page.waitForSelector('main[data-ready="true"]');
  assert.equal(await page.textContent('h1'), 'ada-lovelace');
  assert.match(await page.textContent('#acting'), /ada-lovelace/);
  const before = await cardCategories(page);
  assert.equal(before.length, 10, 'ten recommendations by default');
  assert.equal(await page.textContent('#strategy'), 'popularity', 'a user without events gets popularity');

  // The largest category, from the items page's selector ("Books (13)").
  await view(page, server.url, '#/items');
  const options = await page.$$eval('#category option', (os) => os.map((o) => [o.value, o.textContent]));
  const [category] = options.filter(([v]) => v)
    .map(([v, t]) => [v, Number(/\((\d+)\)$/.exec(t)[1])]).sort((a, b) => b[1] - a[1])[0];
  await page.selectOption('#category', category);
  await page.waitForFunction((c) => {
    const cards = [...document.querySelectorAll('#item-list .card')];
    return cards.length > 0 && cards.every((card) => card.dataset.category === c);
  }, category);
  const liked = (await page.$$eval('#item-list .card', (cs) => cs.map((c) => c.dataset.item))).slice(0, 3);
  for (const item of liked) {
    await view(page, server.url, `#/items/${encodeURIComponent(item)}`);
    const posted = page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.status() === 201);
    await page.getByRole('button', { name: /^Like / }).first().click();
    await posted;
    await page.waitForSelector('text=Liked as ada-lovelace');
  }

  await view(page, server.url, '#/users/ada-lovelace');
  const after = await cardCategories(page);
  const share = (cats) => cats.filter((c) => c === category).length;
  assert.notEqual(await page.textContent('#strategy'), 'popularity', 'the events made the user known');
  assert.ok(share(after) >= 6 && share(after) >= share(before) + 4,
            `${category} in the top 10: ${share(before)} before the likes, ${share(after)} after`);
  const events = await page.$$eval('#events li', (li) => li.map((l) => l.textContent));
  assert.equal(events.filter((e) => e.startsWith('liked')).length, 3, `the events listed: ${events}`);
  for (const item of liked)
    assert.ok(!(await page.$$eval('#recs .card', (cs) => cs.map((c) => c.dataset.item))).includes(item),
              'an item liked is not recommended again');

  // A click on a card's button posts at once and the list is fetched again.
  const first = await page.$eval('#recs .card', (c) => c.dataset.item);
  const refreshed = page.waitForResponse((r) => r.url().includes('/v1/recommend?'));
  await page.locator('#recs .card').first().getByRole('button', { name: /^Dislike / }).click();
  await refreshed;
  await page.waitForFunction((id) => ![...document.querySelectorAll('#recs .card')]
    .some((c) => c.dataset.item === id), first);
  const evs = await request(server.url, { path: '/v1/users/ada-lovelace/events' });
  assert.deepEqual(evs.json.events[0], { ...evs.json.events[0], item_id: first, type: 'dislike', value: -1 });
  assertClean(page);
  await page.context().close();
});

test('the count, strategy and explanation selectors change the list', async () => {
  const page = await openPage(browser);
  await view(page, server.url, '#/users/u1');
  await page.selectOption('#rec-n', '5');
  await page.waitForFunction(() => document.querySelectorAll('#recs .card').length === 5);
  await page.selectOption('#rec-strategy', 'popularity');
  await page.waitForFunction(() => document.querySelector('#strategy')?.textContent === 'popularity');
  await page.selectOption('#rec-strategy', 'collab');
  await page.waitForFunction(() => document.querySelector('#strategy')?.textContent === 'collab');
  await page.check('#explain');
  await page.waitForSelector('#recs .card .reason');
  // "Because you liked <the title of an item of u1's history>", linked.
  const liked = await page.$$eval('#recs .card .reason a', (as) => as.map((a) => a.textContent));
  assert.ok(liked.length > 0 && liked.every((t) => t && !/^i\d+$/.test(t)), `reasons name titles: ${liked}`);
  assert.match(page.url(), /n=5/);
  assert.match(page.url(), /strategy=collab/);
  assert.match(page.url(), /explain=true/);
  assertClean(page);
  await page.context().close();
});

test('the runs page charts ndcg@10, recall@10 and training time across runs', async () => {
  const page = await openPage(browser);
  await view(page, server.url, '#/runs');
  for (const id of ['chart-quality', 'chart-time']) {
    const drawn = await page.$eval(`#${id}`, (canvas) => {
      const chart = window.Chart.getChart(canvas);
      return {
        width: canvas.width, height: canvas.height,
        points: chart ? chart.data.datasets.map((d) => d.data.filter((v) => v !== null).length) : [],
      };
    });
    assert.ok(drawn.width > 100 && drawn.height > 100, `${id} is drawn: ${JSON.stringify(drawn)}`);
    assert.ok(drawn.points.length === 2 && drawn.points.every((n) => n >= 1),
              `${id} has data in both series: ${drawn.points}`);
  }
  const rows = await page.$$eval('#runs tbody tr', (trs) => trs.map((tr) => tr.dataset.status));
  assert.ok(rows.length >= 2 && rows.every((s) => s === 'finished'), `runs listed: ${rows}`);
  await page.locator('#runs tbody a').first().click();
  await page.waitForSelector('main[data-ready="true"]');
  assert.match(await page.textContent('h1'), /^Run /);
  assert.match(await page.textContent('main'), /"factors"/);
  assertClean(page);
  await page.context().close();
});

test('an item page shows the item and similar items', async () => {
  const page = await openPage(browser);
  await view(page, server.url, '#/items/i1');
  const item = (await request(server.url, { path: '/v1/items/i1' })).json;
  assert.equal(await page.textContent('h1'), item.title);
  assert.match(await page.textContent('.details'), new RegExp(item.category));
  const titles = await page.$$eval('#similar .card .title', (as) => as.map((a) => a.textContent));
  assert.ok(titles.length >= 5, `similar items: ${titles}`);
  assert.ok(titles.every((t) => t && !/^i\d+$/.test(t)), `similar items show titles: ${titles}`);
  await page.locator('#similar .card .title').first().click();
  await page.waitForSelector('main[data-ready="true"]');
  assert.equal(await page.textContent('h1'), titles[0]);

  // Nobody to act as yet (a fresh browser): the page asks who, then shows the buttons.
  assert.equal(await page.locator('#similar .card button').count(), 0, 'no buttons without a user');
  await page.getByLabel('Your user id').fill('nobody-like-this');
  await page.getByRole('button', { name: 'Act as this user' }).click();
  await page.waitForSelector('#act-as-form [role="alert"]');
  assert.match(await page.textContent('#act-as-form [role="alert"]'), /\(404\).*nobody-like-this/);
  assertClean(page, [/status of 404/, /HTTP 404 for GET .*\/v1\/users\/nobody-like-this$/]);
  await page.getByLabel('Your user id').fill('u3');
  await page.getByRole('button', { name: 'Act as this user' }).click();
  await page.waitForSelector('#similar .card button.like');
  assert.match(await page.textContent('#acting'), /u3/);
  const posted = page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.status() === 201);
  await page.getByRole('button', { name: `Like ${titles[0]}`, exact: true }).click();
  const body = (await posted).request().postDataJSON();
  assert.deepEqual({ ...body, item_id: undefined }, { user_id: 'u3', item_id: undefined, type: 'like', value: 1 });
  await page.waitForSelector('text=Liked as u3');
  assertClean(page);
  await page.context().close();
});

describe('every page at phone and desktop widths', () => {
  for (const [width, height] of [[375, 812], [1280, 800]]) {
    test(`renders with nothing in the console at ${width} px (screenshots)`, async () => {
      const page = await openPage(browser, { width, height });
      const runs = (await request(server.url, { path: '/v1/runs?limit=1' })).json.runs;
      const pages = [['status', '#/status'], ['users', '#/users'], ['user', '#/users/u1'], ['items', '#/items'],
        ['item', '#/items/i1'], ['models', '#/models'], ['runs', '#/runs'], ['run', `#/runs/${runs[0].id}`],
        ['not-found', '#/nowhere']];
      for (const [name, hash] of pages) {
        await view(page, server.url, hash);
        const text = await page.textContent('main');
        assert.ok(text.trim().length > 20, `${name}: the page is not blank`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${name} at ${width} px is wider than the window by ${overflow} px`);
        await page.screenshot({ path: join(screenshotDir(), `${name}-${width}.png`), fullPage: true });
        assertClean(page);
      }
      await page.context().close();
    });
  }
});

test('the keyboard reaches the navigation and the buttons, and Enter presses them', async () => {
  const page = await openPage(browser);
  await view(page, server.url, '#/users/u2');
  const reached = [];
  for (let i = 0; i < 40 && !reached.some((r) => r.startsWith('BUTTON Like')); i++) {
    await page.keyboard.press('Tab');
    reached.push(await page.evaluate(() => {
      const el = document.activeElement;
      return `${el.tagName} ${el.getAttribute('aria-label') ?? el.textContent.trim()}`;
    }));
  }
  assert.equal(reached[0], 'A Skip to content', 'the first Tab reaches the skip link');
  for (const name of ['Users', 'Items', 'Models', 'Runs', 'Status'])
    assert.ok(reached.includes(`A ${name}`), `Tab reaches the ${name} link: ${reached}`);
  const like = reached.find((r) => r.startsWith('BUTTON Like'));
  assert.ok(like, `Tab reaches a Like button: ${reached}`);
  const visible = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(visible, 'none', 'the focused button shows a focus ring');
  const posted = page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.request().method() === 'POST');
  await page.keyboard.press('Enter');
  assert.equal((await posted).status(), 201);
  await page.waitForSelector('#toast.shown');

  // The skip link takes the focus to the page's content and stays on the page.
  await page.reload();
  await page.waitForSelector('main[data-ready="true"]');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  assert.match(page.url(), /#\/users\/u2$/);
  assert.equal(await page.textContent('h1'), 'u2');
  assertClean(page);
  await page.context().close();
});

test('an API error is shown with its detail, never a blank page', async () => {
  const page = await openPage(browser);
  await view(page, server.url, '#/runs/no-such-run');
  assert.match(await page.textContent('main [role="alert"]'), /\(404\).*no-such-run/);
  await view(page, server.url, '#/items/no-such-item');
  assert.match(await page.textContent('main [role="alert"]'), /\(404\).*no-such-item/);
  await view(page, server.url, '#/users/nobody-yet');
  assert.match(await page.textContent('main'), /There is no user nobody-yet yet/);
  // (An item's page asks for the item and its similar items at once: two 404s.)
  assertClean(page, [/status of 404/, /HTTP 404 for GET .*\/v1\/(runs\/|items\/|users\/|similar\?)/]);
  await page.context().close();
});

test('a server that cannot be reached is said so, never a blank page', async () => {
  const page = await openPage(browser);
  await view(page, server.url, '#/users/u1');
  await page.route('**/v1/**', (r) => r.abort('connectionrefused'));
  await page.selectOption('#rec-n', '5');
  await page.waitForSelector('#recs-error [role="alert"]');
  assert.match(await page.textContent('#recs-error'), /cannot reach the server/);
  assert.equal(await page.locator('#recs .card').count(), 10, 'the last list stays');
  await view(page, server.url, '#/status');
  assert.match(await page.textContent('main [role="alert"]'), /cannot reach the server/);
  assertClean(page, [/ERR_CONNECTION_REFUSED|ERR_FAILED/]);
  await page.context().close();
});

test('a server with an empty store and no model: every page says so', async () => {
  const empty = makeEmpty();
  const bare = await startServer(empty);
  try {
    const page = await openPage(browser);
    await view(page, bare.url, '#/status');
    assert.match(await page.textContent('#readiness'), /^Not ready: /);
    assert.match(await page.textContent('main'), /Nothing is served yet|version\s*0/);
    // The page reads readiness from /v1/status: no error status on the way.
    assertClean(page);
    const pages = [['#/users', /No users yet/], ['#/items', /No items/], ['#/models', /No versions yet/],
      ['#/runs', /No runs match/]];
    for (const [hash, says] of pages) {
      await view(page, bare.url, hash);
      assert.match(await page.textContent('main'), says, hash);
      assertClean(page);
    }
    // A new user on an empty store: no recommendations, said so.
    await view(page, bare.url, '#/users');
    await page.getByLabel('User id').fill('first');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.waitForURL(/#\/users\/first$/);
    await page.waitForSelector('main[data-ready="true"]');
    assert.match(await page.textContent('#recs-error [role="alert"]'), /\(503\): nothing to serve yet/);
    assert.match(await page.textContent('#events'), /No events yet/);
    assertClean(page, [/HTTP 503 for GET .*\/v1\/recommend\?/, /status of 503/]);
    await page.context().close();
  } finally {
    closeConnections();
    const status = await bare.stop();
    empty.remove();
    assert.equal(status, 0);
  }
});

describe('with an API key', () => {
  let keyed, readKeyed;
  before(async () => {
    [keyed, readKeyed] = await Promise.all([
      startServer(demo, { env: { RECSYS_API_KEY: 'k1' } }),
      startServer(demo, { env: { RECSYS_API_KEY: 'k1', RECSYS_API_KEY_READ: 'r1' } }),
    ]);
  });
  after(async () => {
    closeConnections();
    assert.deepEqual(await Promise.all([keyed.stop(), readKeyed.stop()]), [0, 0]);
  });

  test('a page the UI may not read says the key is needed, and shows once it is given', async () => {
    const page = await openPage(browser);
    await view(page, readKeyed.url, '#/users/u1');
    assert.match(await page.textContent('h1'), /API key/);
    assert.match(await page.textContent('main [role="alert"]'), /\(401\).*read key/);
    // (The page asks for the user, their recommendations and events at once: three 401s.)
    assertClean(page, [/status of 401/, /HTTP 401 for GET .*\/v1\/(users\/u1|users\/u1\/events|recommend)\b/]);
    await page.getByRole('button', { name: 'Enter the API key' }).click();
    await page.fill('#key-input', 'r1');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForSelector('#recs .card');
    await page.waitForSelector('main[data-ready="true"]');
    assert.equal(await page.textContent('h1'), 'u1');
    assert.equal(await page.locator('#recs .card').count(), 10);
    assert.match(await page.textContent('#key-button'), /✓/);
    assertClean(page);
    await page.context().close();
  });

  test('promotion and rollback ask for the key, then work', async () => {
    const page = await openPage(browser);
    page.on('dialog', (d) => d.accept());
    await view(page, keyed.url, '#/models');
    const production = () => page.$eval('#versions tr[data-stage="production"]', (tr) => tr.dataset.version);
    const before = await production();
    await page.click('#rollback');
    await page.waitForSelector('#models-msg [role="alert"]');
    assert.match(await page.textContent('#models-msg'), /\(401\).*API key/);
    assertClean(page, [/status of 401/, /HTTP 401 for POST/]);

    await page.getByRole('button', { name: 'Enter the API key' }).click();
    await page.fill('#key-input', 'k1');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForSelector('main[data-ready="true"]');
    await page.click('#rollback');
    await page.waitForFunction((v) => {
      const tr = document.querySelector('#versions tr[data-stage="production"]');
      return tr && tr.dataset.version !== v;
    }, before);
    const rolled = await production();
    assert.ok(Number(rolled) < Number(before), `rolled back from v${before} to v${rolled}`);
    // Nothing earlier to roll back to: the 409's detail is shown, the table stays.
    await page.click('#rollback');
    await page.waitForSelector('#models-msg [role="alert"]');
    assert.match(await page.textContent('#models-msg'), /\(409\).*no earlier production version/);
    assert.equal(await production(), rolled);
    assertClean(page, [/status of 409/, /HTTP 409 for POST .*\/v1\/models\/rollback$/]);
    await page.locator(`#versions tr[data-version="${before}"]`).getByRole('button', { name: 'Promote' }).click();
    await page.waitForFunction((v) => document.querySelector('#versions tr[data-stage="production"]')
      ?.dataset.version === v, before);
    assert.match(await page.textContent('#models-msg'), new RegExp(`Version ${before} is in production`));
    assertClean(page);
    await page.context().close();
  });
});
