// An item's view (#/items/ID): its details, the reaction buttons for the
// user acted as, and the items most similar to it.
import { api, itemsById } from './api.js';
import { errorBox, fill, h, route, when } from './dom.js';
import { itemCard, react, reactionButtons, REACTIONS } from './cards.js';
import { actingUser, setActingUser, toast } from './session.js';

function detail(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

/** Asks for the user to act as (an existing one), then draws the view
 *  again with the buttons. */
function actAsForm(signal) {
  const msg = h('div', { 'aria-live': 'polite' });
  const input = h('input', { id: 'act-as', name: 'user_id', required: true, maxlength: 256,
    autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. u1' });
  const form = h('form', { id: 'act-as-form' },
    h('p', {}, 'To like or rate it, say which user you are, or ',
      h('a', { href: route('users') }, 'register'), ' first.'),
    h('label', { for: 'act-as' }, 'Your user id'), input,
    h('button', { type: 'submit' }, 'Act as this user'), msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = input.value.trim();
    msg.replaceChildren();
    try {
      const user = await api(`/v1/users/${encodeURIComponent(id)}`, { signal });
      setActingUser(user.user_id);
      toast(`Acting as ${user.user_id}`);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (err) {
      if (err.name !== 'AbortError')
        msg.replaceChildren(errorBox(err, `Finding user ${id}`));
    }
  });
  return form;
}

export async function renderItem({ main, id, signal }) {
  document.title = `${id} · recsys`;
  // The similar items (and their titles) are asked for with the item, not after it.
  const similarAnswer = (async () => {
    const sim = await api('/v1/similar', { query: { item_id: id, n: 12 }, signal });
    return { sim, items: await itemsById(sim.items.map((s) => s.item_id), signal) };
  })();
  similarAnswer.catch(() => {});  // handled below, unless the item itself is not found
  const item = await api(`/v1/items/${encodeURIComponent(id)}`, { signal });
  document.title = `${item.title || id} · recsys`;
  const status = h('div', { 'aria-live': 'polite' });
  const user = actingUser();

  async function onReact(itemId, reaction) {
    try {
      await react(user, itemId, reaction);
      const done = typeof reaction === 'number' ? `Rated ${reaction}/5` : REACTIONS[reaction].done;
      toast(`${done} as ${user}`);
      status.replaceChildren(h('p', { class: 'ok' }, `${done} as ${user}. `,
        h('a', { href: route('users', user) }, 'See their recommendations')));
    } catch (err) {
      status.replaceChildren(errorBox(err, 'Posting the event'));
    }
  }

  const act = user
    ? h('div', {}, h('p', { class: 'muted' }, 'As ', h('a', { href: route('users', user) }, user), ':'),
      reactionButtons(item.item_id, item.title || item.item_id, (r) => onReact(item.item_id, r)))
    : actAsForm(signal);
  const attrs = Object.entries(item.attributes);
  const similar = h('ol', { class: 'cards', id: 'similar' });
  fill(main, 
    h('h1', {}, item.title || item.item_id),
    h('div', { class: 'columns' },
      h('dl', { class: 'details grow' },
        detail('Id', h('code', {}, item.item_id)),
        detail('Category', item.category
          ? h('a', { href: `${route('items')}?category=${encodeURIComponent(item.category)}` }, item.category) : '—'),
        detail('Brand', item.brand || '—'),
        detail('Tags', item.tags.length ? item.tags.map((t) => h('span', { class: 'tag' }, t)) : '—'),
        attrs.length ? detail('Attributes', attrs.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' · ')) : null,
        detail('Hidden', item.hidden ? 'yes: never recommended' : 'no'),
        detail('Created', when(item.created_at)),
        detail('Updated', when(item.updated_at))),
      h('div', { class: 'panel' }, h('h2', {}, 'React'), act, status)),
    h('section', { 'aria-labelledby': 'similar-h' }, h('h2', { id: 'similar-h' }, 'Similar items'), similar));
  try {
    const { sim, items } = await similarAnswer;
    similar.replaceChildren(...sim.items.map((s) => itemCard(s.item_id, items.get(s.item_id), s,
      user ? (r) => onReact(s.item_id, r) : null)));
    if (!sim.items.length)
      similar.replaceChildren(h('li', { class: 'muted' },
        'No similar items: the model served has not seen this item, or has no item factors.'));
  } catch (err) {
    if (err.name === 'AbortError')
      throw err;
    similar.replaceChildren(h('li', {}, errorBox(err, 'Finding similar items')));
  }
}
