// The runs views: #/runs, the recorded trainings with charts of their
// held-out ndcg@10 and recall@10 and of their training time (Chart.js),
// and #/runs/ID, one run's parameters, data, timings and metrics.
import { api } from './api.js';
import { duration, errorBox, fill, fixed, h, route, when } from './dom.js';
import { toast } from './session.js';

const KINDS = ['', 'train', 'retrain', 'tune', 'trial'];

let chartLib = null;
/** Chart.js (window.Chart), loaded on first use: only this view needs
 *  its 200 KB. */
function loadChartJs() {
  chartLib ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/ui/chart.umd.min.js';
    script.onload = () => resolve(window.Chart);
    script.onerror = () => {
      chartLib = null;
      reject(new Error('the chart library did not load'));
    };
    document.head.append(script);
  });
  return chartLib;
}
const STATUSES = ['', 'running', 'finished', 'failed'];

function seconds(run) {
  if (run.timings?.total !== undefined)
    return run.timings.total;
  return run.ended_ms ? (run.ended_ms - run.started_ms) / 1000 : null;
}

/** The colours of the page's theme, for the charts. */
function colours() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return { a: v('--chart-a'), b: v('--chart-b'), c: v('--chart-c'), text: v('--muted'), grid: v('--line') };
}

function chart(canvas, type, labels, datasets, yTitle, runs) {
  const c = colours();
  return new window.Chart(canvas, {
    type,
    data: { labels, datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: 'index', intersect: false },
      spanGaps: true,
      plugins: {
        legend: { labels: { color: c.text } },
        tooltip: { callbacks: { title: (items) => `run ${runs[items[0].dataIndex].id}` } },
      },
      scales: {
        x: { ticks: { color: c.text, maxRotation: 0, autoSkip: true }, grid: { color: c.grid } },
        y: { beginAtZero: true, title: { display: true, text: yTitle, color: c.text },
          ticks: { color: c.text }, grid: { color: c.grid } },
      },
    },
  });
}

function charts(runs, signal) {
  const done = runs.filter((r) => r.status === 'finished' && (r.kind === 'train' || r.kind === 'retrain'))
    .sort((a, b) => a.started_ms - b.started_ms);
  if (!window.Chart)
    return h('p', { class: 'warn' }, 'The chart library did not load.');
  if (!done.length)
    return h('p', { class: 'muted' }, 'No finished training yet: the charts appear after the first one.');
  const c = colours();
  // "#3" over "23 Nov, 14:35": the run's rank, oldest first, and its start.
  const labels = done.map((r, i) => [`#${i + 1}`, new Date(r.started_ms).toLocaleString('en-GB',
    { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })]);
  const quality = h('canvas', { id: 'chart-quality', role: 'img',
    'aria-label': `ndcg@10 and recall@10 of the last ${done.length} finished trainings` });
  const time = h('canvas', { id: 'chart-time', role: 'img',
    'aria-label': `training time of the last ${done.length} finished trainings` });
  const wrap = h('div', { class: 'charts' },
    h('figure', {}, h('div', { class: 'chart' }, quality), h('figcaption', {}, 'Held-out ndcg@10 and recall@10')),
    h('figure', {}, h('div', { class: 'chart' }, time), h('figcaption', {}, 'Training time (seconds)')));
  // Drawn once the canvases are in the page (Chart.js measures them).
  queueMicrotask(() => {
    if (signal.aborted)
      return;
    const drawn = [];
    drawn.push(chart(quality, 'line', labels, [
      { label: 'ndcg@10', data: done.map((r) => r.metrics?.ndcg ?? null), borderColor: c.a, backgroundColor: c.a },
      { label: 'recall@10', data: done.map((r) => r.metrics?.recall ?? null), borderColor: c.b, backgroundColor: c.b },
    ], 'score', done));
    drawn.push(chart(time, 'bar', labels, [
      { label: 'fit', data: done.map((r) => r.timings?.fit ?? null), backgroundColor: c.c },
      { label: 'total', data: done.map((r) => seconds(r)), backgroundColor: c.a },
    ], 'seconds', done));
    // A view left lets go of its charts (and their resize observers).
    signal.addEventListener('abort', () => drawn.forEach((ch) => ch.destroy()), { once: true });
  });
  return wrap;
}

export async function renderRuns({ main, params, signal, setParams }) {
  document.title = 'Runs · recsys';
  const kind = params.get('kind') ?? '', status = params.get('status') ?? '';
  const [doc] = await Promise.all([
    api('/v1/runs', { query: { kind, status, limit: 200 }, signal }),
    loadChartJs().catch(() => null),
  ]);
  const msg = h('div', { 'aria-live': 'polite' });
  const filter = (name, values, value) => h('span', { class: 'field' },
    h('label', { for: `runs-${name}` }, name === 'kind' ? 'Kind' : 'Status'),
    h('select', { id: `runs-${name}`, onchange: (e) => {
      setParams({ kind, status, [name]: e.target.value });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } }, values.map((v) => h('option', { value: v, selected: v === value }, v || 'any'))));
  const train = h('button', { type: 'button', onclick: async () => {
    try {
      const res = await api('/v1/train', { method: 'POST' });
      toast(`Training ${res.run_id} started`);
      location.hash = route('runs', res.run_id);
    } catch (err) {
      msg.replaceChildren(errorBox(err, 'Starting a training'));
    }
  } }, 'Train now');
  const rows = doc.runs.map((r) => h('tr', { dataset: { run: r.id, status: r.status } },
    h('th', { scope: 'row' }, h('a', { href: route('runs', r.id) }, r.id)),
    h('td', {}, r.kind),
    h('td', {}, h('span', { class: `status status-${r.status}` }, r.status)),
    h('td', {}, when(r.started_ms)),
    h('td', { class: 'num' }, fixed(seconds(r), 1)),
    h('td', { class: 'num' }, fixed(r.metrics?.ndcg)),
    h('td', { class: 'num' }, fixed(r.metrics?.recall)),
    h('td', {}, r.version ? `v${r.version}` : '—'),
    h('td', { class: 'note' }, r.error ? h('span', { class: 'bad' }, r.error) : r.note ?? '')));
  fill(main, 
    h('h1', {}, 'Runs'),
    h('div', { class: 'toolbar' }, filter('kind', KINDS, kind), filter('status', STATUSES, status), train),
    msg,
    charts(doc.runs, signal),
    doc.runs.length
      ? h('div', { class: 'table-wrap' }, h('table', { id: 'runs' },
        h('caption', {}, doc.next_cursor ? 'The latest 200 runs' : 'Runs, newest first'),
        h('thead', {}, h('tr', {}, ['Run', 'Kind', 'Status', 'Started', 'Seconds', 'ndcg@10', 'recall@10',
          'Version', 'Note'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows)))
      : h('p', {}, 'No runs match.'));
}

function jsonBlock(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

export async function renderRun({ main, id, signal }) {
  document.title = `Run ${id} · recsys`;
  const r = await api(`/v1/runs/${encodeURIComponent(id)}`, { signal });
  const models = Object.entries(r.metrics?.models ?? {});
  fill(main, 
    h('h1', {}, `Run ${r.id}`),
    h('dl', { class: 'details' },
      ...[['Kind', r.kind], ['Status', h('span', { class: `status status-${r.status}` }, r.status)],
        ['Models', r.model], ['Started', when(r.started_ms)],
        ['Ended', r.ended_ms ? when(r.ended_ms) : 'still running'],
        ['Duration', duration(seconds(r))],
        ['Version', r.version ? h('a', { href: route('models') }, `v${r.version}`) : '—'],
        ['Parent', r.parent_id ? h('a', { href: route('runs', r.parent_id) }, r.parent_id) : '—'],
        ['Note', r.note || '—'], ['Artifact', r.artifact_uri ? h('code', {}, r.artifact_uri) : '—'],
        ['Host', `${r.host} (pid ${r.pid})`]]
        .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    r.error ? errorBox(new Error(r.error), 'This run') : null,
    models.length ? h('section', {}, h('h2', {}, `Held-out metrics (k = ${r.metrics.k ?? 10})`),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Model', 'ndcg', 'recall', 'precision', 'map', 'coverage']
          .map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, models.map(([name, m]) => h('tr', {},
          h('th', { scope: 'row' }, name, name === r.metrics.primary ? h('span', { class: 'badge' }, 'primary') : null),
          ...['ndcg', 'recall', 'precision', 'map', 'coverage'].map((k) => h('td', { class: 'num' }, fixed(m[k]))))))))) : null,
    h('section', {}, h('h2', {}, 'Timings (seconds)'), jsonBlock(r.timings)),
    h('section', {}, h('h2', {}, 'Parameters'), jsonBlock(r.params)),
    h('section', {}, h('h2', {}, 'Data'), jsonBlock(r.data)));
}
