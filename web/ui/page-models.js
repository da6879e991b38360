// The models view (#/models): the registry's versions with their stage
// and held-out metrics; promote a version, or roll production back.
import { api } from './api.js';
import { errorBox, fill, fixed, h, num, route, when } from './dom.js';
import { toast } from './session.js';

/** The primary model's ndcg and recall of a version's metrics. */
export function primary(metrics) {
  return { ndcg: metrics?.ndcg, recall: metrics?.recall, k: metrics?.k ?? 10 };
}

export async function renderModels(ctx) {
  const { main, signal } = ctx;
  document.title = 'Models · recsys';
  const doc = await api('/v1/models', { signal });
  const msg = h('div', { 'aria-live': 'polite', id: 'models-msg' });

  async function act(what, path) {
    if (!confirm(`${what}? Servers following this registry load the new production version within their poll interval.`))
      return;
    msg.replaceChildren(h('p', { class: 'loading' }, `${what}…`));
    try {
      const res = await api(path, { method: 'POST' });
      toast(`Version ${res.version} is in production`);
      await renderModels(ctx);
      main.querySelector('#models-msg')?.replaceChildren(
        h('p', { class: 'ok' }, `Version ${res.version} is in production.`));
    } catch (err) {
      msg.replaceChildren(errorBox(err, what));
    }
  }

  const rows = doc.versions.map((v) => {
    const m = primary(v.metrics);
    const isProd = v.stage === 'production';
    return h('tr', { dataset: { version: v.version, stage: v.stage } },
      h('th', { scope: 'row' }, `v${v.version}`, doc.serving === v.version ? h('span', { class: 'badge' }, 'serving') : null),
      h('td', {}, h('span', { class: `stage stage-${v.stage}` }, v.stage)),
      h('td', { class: 'num' }, fixed(m.ndcg)),
      h('td', { class: 'num' }, fixed(m.recall)),
      h('td', {}, when(v.created_ms)),
      h('td', {}, v.promoted_ms ? when(v.promoted_ms) : '—'),
      h('td', {}, v.run_id ? h('a', { href: route('runs', v.run_id) }, v.run_id) : '—'),
      h('td', { class: 'num' }, `${num(Math.round(v.size_bytes / 1024))} KiB`),
      h('td', { class: 'note' }, v.note || ''),
      h('td', {}, isProd ? null : h('button', {
        type: 'button', onclick: () => act(`Promote version ${v.version}`,
          `/v1/models/${v.version}/promote`),
      }, 'Promote')));
  });
  fill(main, 
    h('h1', {}, 'Models'),
    h('p', {}, `Registry of `, h('b', {}, doc.name), ': production is ',
      h('b', {}, doc.production ? `v${doc.production}` : 'none'), ', this server serves ',
      h('b', {}, doc.serving === null ? 'nothing' : doc.serving === 0 ? 'popularity from the store' : `v${doc.serving}`), '.'),
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', id: 'rollback', disabled: !doc.production,
        onclick: () => act('Roll back production', '/v1/models/rollback') }, 'Roll back'),
      h('span', { class: 'muted' }, 'Rolling back puts the version that was in production before the current one back.')),
    msg,
    doc.versions.length
      ? h('div', { class: 'table-wrap' }, h('table', { id: 'versions' },
        h('caption', {}, 'Versions, newest first'),
        h('thead', {}, h('tr', {}, ['Version', 'Stage', 'ndcg@10', 'recall@10', 'Created', 'Promoted', 'Run',
          'Size', 'Note', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows)))
      : h('p', {}, 'No versions yet: run ', h('code', {}, 'recsys train'), ' or start a training from the runs page.'));
}
