// A user's view (#/users/ID): their recommendations as cards with like,
// dislike and rating buttons (a click posts the event and the list is
// fetched again at once: the server folds the event into the user's
// vector), the strategy, count, diversity and explanation selectors, and
// their latest events.
import { api, itemsById } from './api.js';
import { ago, errorBox, fill, fixed, h, route, select } from './dom.js';
import { itemCard, react, REACTIONS } from './cards.js';
import { setActingUser, toast } from './session.js';

const COUNTS = [[5, '5'], [10, '10'], [20, '20']];
const STRATEGIES = [['auto', 'auto'], ['collab', 'collaborative'], ['hybrid', 'hybrid'],
  ['popularity', 'popularity']];
const DIVERSITY = [['0', 'none'], ['0.3', 'some'], ['0.6', 'more'], ['0.9', 'most']];

function eventRow(ev, item) {
  const kind = ev.type === 'rating' ? `rated ${ev.value}` : ev.type === 'dislike' ? 'disliked'
    : ev.type === 'like' ? 'liked' : ev.type;
  return h('li', {},
    h('span', { class: `ev ev-${ev.type}` }, kind),
    ev.type === 'rating' ? null : h('span', { class: 'muted', title: 'value' }, `(${ev.value})`), ' ',
    h('a', { href: route('items', ev.item_id) }, item?.title || ev.item_id),
    item?.category ? h('span', { class: 'tag' }, item.category) : null,
    h('span', { class: 'muted right', title: ev.timestamp }, ago(ev.timestamp)));
}

export async function renderUser({ main, id, params, signal, setParams }) {
  document.title = `${id} · recsys`;
  const opts = {
    n: Number(params.get('n')) || 10,
    strategy: params.get('strategy') || 'auto',
    diversity: params.get('diversity') || '0',
    explain: params.get('explain') === 'true',
  };
  const cards = h('ol', { class: 'cards', id: 'recs', 'aria-live': 'polite' });
  const answered = h('p', { class: 'muted', id: 'answered' });
  const events = h('ul', { class: 'rows', id: 'events' });
  const recError = h('div', { id: 'recs-error' });
  let busy = null;  // the AbortController of the list's latest fetch
  signal.addEventListener('abort', () => busy?.abort(), { once: true });

  async function onReact(itemId, reaction) {
    try {
      await react(id, itemId, reaction);
      const done = typeof reaction === 'number' ? `Rated ${reaction}/5` : REACTIONS[reaction].done;
      toast(`${done}: recommendations updated`);
      await refresh();
    } catch (err) {
      recError.replaceChildren(errorBox(err, 'Posting the event'));
    }
  }

  async function refresh() {
    if (signal.aborted)
      return;
    busy?.abort();
    const ctl = new AbortController();
    busy = ctl;
    cards.setAttribute('aria-busy', 'true');
    try {
      // Either list may fail on its own (no model to serve yet, say): the
      // other is still drawn. A list that fails keeps what it showed.
      const [recsAnswer, histAnswer] = await Promise.allSettled([
        api('/v1/recommend', {
          query: { user_id: id, n: opts.n, strategy: opts.strategy, diversity: opts.diversity,
            explain: opts.explain ? 'true' : undefined },
          signal: ctl.signal,
        }),
        api(`/v1/users/${encodeURIComponent(id)}/events`, { query: { limit: 20 }, signal: ctl.signal }),
      ]);
      if (ctl.signal.aborted)
        return;
      const recs = recsAnswer.value, hist = histAnswer.value;
      const items = await itemsById([...(recs?.items ?? []).flatMap((r) => [r.item_id, r.reason?.item_id]),
        ...(hist?.events ?? []).map((e) => e.item_id)].filter(Boolean), ctl.signal);
      if (recs) {
        recError.replaceChildren();
        cards.replaceChildren(...recs.items.map((r) => itemCard(r.item_id, items.get(r.item_id), r,
          (reaction) => onReact(r.item_id, reaction), items)));
        if (!recs.items.length)
          cards.replaceChildren(h('li', { class: 'muted' }, 'No recommendations: every item is filtered out.'));
        answered.replaceChildren('Answered by ', h('b', { id: 'strategy' }, recs.strategy),
          ` with model version ${recs.model_version}`,
          recs.items.length ? ` · scores ${fixed(recs.items[recs.items.length - 1].score, 3)} to ${fixed(recs.items[0].score, 3)}` : '');
      } else {
        recError.replaceChildren(errorBox(recsAnswer.reason, 'Getting recommendations'));
      }
      if (hist) {
        events.replaceChildren(...hist.events.map((e) => eventRow(e, items.get(e.item_id))));
        if (!hist.events.length)
          events.replaceChildren(h('li', { class: 'muted' }, 'No events yet: like or rate an item above.'));
      } else {
        events.replaceChildren(h('li', {}, errorBox(histAnswer.reason, 'Getting the events')));
      }
    } catch (err) {  // the items' titles could not be had
      if (err.name !== 'AbortError')
        recError.replaceChildren(errorBox(err, 'Getting the items'));
    } finally {
      cards.setAttribute('aria-busy', 'false');
    }
  }

  function change(key, value) {
    opts[key] = value;
    setParams({ n: opts.n, strategy: opts.strategy, diversity: opts.diversity === '0' ? '' : opts.diversity,
      explain: opts.explain ? 'true' : '' });
    refresh();
  }

  // The user, their recommendations and their events are asked for at
  // once (one round trip, not two); the lists are drawn when the user is.
  const first = refresh();
  let user;
  try {
    user = await api(`/v1/users/${encodeURIComponent(id)}`, { signal });
  } catch (err) {
    busy?.abort();
    if (err.status !== 404)
      throw err;
    const create = h('button', { type: 'button', onclick: async () => {
      try {
        await api('/v1/users', { method: 'POST', body: { user_id: id } });
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (e) {
        main.append(errorBox(e, 'Registering'));
      }
    } }, `Register ${id}`);
    fill(main, h('h1', {}, id), h('p', {}, `There is no user ${id} yet. `, create));
    return;
  }
  setActingUser(user.user_id);
  const explain = h('input', { type: 'checkbox', id: 'explain', checked: opts.explain,
    onchange: (e) => change('explain', e.target.checked) });
  const attrs = Object.entries(user.attributes);
  fill(main, 
    h('h1', {}, user.user_id),
    attrs.length ? h('p', { class: 'muted' }, attrs.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' · ')) : null,
    h('section', { 'aria-labelledby': 'recs-h' },
      h('div', { class: 'toolbar' },
        h('h2', { id: 'recs-h' }, 'Recommendations'),
        select('rec-n', 'Show', COUNTS, opts.n, (v) => change('n', Number(v))),
        select('rec-strategy', 'Strategy', STRATEGIES, opts.strategy, (v) => change('strategy', v)),
        select('rec-diversity', 'Diversity', DIVERSITY, opts.diversity, (v) => change('diversity', v)),
        h('span', { class: 'field' }, explain, h('label', { for: 'explain' }, 'Why?'))),
      answered, recError, cards),
    h('section', { 'aria-labelledby': 'events-h' }, h('h2', { id: 'events-h' }, 'Latest events'), events));
  await first;
}
