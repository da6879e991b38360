// The status view (#/status, also the home page): the model served and its
// age, the store's counts, training, readiness, and links for operators.
import { api } from './api.js';
import { ago, duration, fill, h, num, route, when } from './dom.js';

function stat(label, value, sub) {
  return h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, value, sub ? h('small', {}, sub) : null));
}

export async function renderStatus({ main, signal }) {
  document.title = 'Status · recsys';
  // The store answered (or this would have failed), so the server is
  // ready exactly when it serves something: what /readyz says.
  const status = await api('/v1/status', { signal });
  const ready = status.model !== null;
  const m = status.model;
  const model = !m
    ? h('p', { class: 'warn' }, 'Nothing is served yet: no model is published and the store has no events.')
    : h('dl', { class: 'stats' },
      stat('Model version', m.version === 0 ? '0 (popularity from the store)' : `${m.name} v${m.version}`),
      stat('Trained', m.created_at ? when(m.created_at) : '—', m.created_at ? ago(m.created_at) : null),
      stat('Age', duration(m.age_seconds)),
      stat('Loaded', when(m.loaded_at)),
      stat('Strategies', m.strategies.join(', ')),
      stat('Known to the model', `${num(m.users)} users · ${num(m.items)} items`));
  const s = status.store;
  const t = status.training;
  fill(main, 
    h('h1', {}, 'Status'),
    h('p', { class: ready ? 'ok' : 'warn', id: 'readiness' },
      ready ? 'Ready: serving recommendations.'
        : 'Not ready: nothing to serve yet (import events or run recsys train).'),
    h('section', { 'aria-labelledby': 'model-h' }, h('h2', { id: 'model-h' }, 'Model'), model),
    h('section', { 'aria-labelledby': 'store-h' }, h('h2', { id: 'store-h' }, 'Store'),
      h('dl', { class: 'stats' },
        stat('Users', h('a', { href: route('users') }, num(s.users))),
        stat('Items', h('a', { href: route('items') }, num(s.items))),
        stat('Events', num(s.events)),
        stat('Newest event', when(s.newest_event_at), s.newest_event_at ? ago(s.newest_event_at) : null))),
    h('section', { 'aria-labelledby': 'train-h' }, h('h2', { id: 'train-h' }, 'Training'),
      h('dl', { class: 'stats' },
        stat('In progress', t.in_progress ? h('a', { href: route('runs', t.run_id) }, t.run_id) : 'no'),
        stat('Schedule', t.retrain_every_seconds ? `every ${duration(t.retrain_every_seconds)}` : 'none (recsys train, or POST /v1/train)'))),
    h('section', { 'aria-labelledby': 'links-h' }, h('h2', { id: 'links-h' }, 'For operators'),
      h('ul', { class: 'links' },
        h('li', {}, h('a', { href: '/docs' }, 'API reference'), ' (Swagger UI)'),
        h('li', {}, h('a', { href: '/metrics' }, 'Prometheus metrics')),
        h('li', {}, h('a', { href: '/openapi.json' }, 'OpenAPI description')))),
    h('p', { class: 'muted' }, `recsys ${status.service.version}, up ${duration(status.service.uptime_seconds)}.`),
  );
}
