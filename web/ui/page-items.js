// The items view (#/items?category=C): the catalogue by category, a page
// at a time, and a form to create an item.
import { api } from './api.js';
import { errorBox, fill, h, jumpTo, num, route } from './dom.js';
import { toast } from './session.js';

const PAGE = 48;

function createForm() {
  const msg = h('div', { 'aria-live': 'polite' });
  const field = (name, label, attrs = {}) => [
    h('label', { for: `new-item-${name}` }, label),
    h('input', { id: `new-item-${name}`, name, autocomplete: 'off', ...attrs }),
  ];
  const form = h('form', { class: 'panel', id: 'create-item' },
    h('h2', {}, 'Create an item'),
    field('item_id', 'Item id', { required: true, maxlength: 256 }),
    field('title', 'Title'),
    field('category', 'Category'),
    field('brand', 'Brand'),
    field('tags', 'Tags (comma-separated)'),
    h('button', { type: 'submit' }, 'Create'),
    msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = (n) => form.elements[n].value.trim();
    const body = {
      item_id: v('item_id'), title: v('title'), category: v('category'), brand: v('brand'),
      tags: v('tags').split(',').map((t) => t.trim()).filter(Boolean),
    };
    msg.replaceChildren();
    try {
      const doc = await api('/v1/items', { method: 'POST', body });
      toast(`Saved ${doc.item_id}`);
      location.hash = route('items', doc.item_id);
    } catch (err) {
      msg.replaceChildren(errorBox(err, 'Creating the item'));
    }
  });
  return form;
}

export async function renderItems({ main, params, signal, setParams }) {
  document.title = 'Items · recsys';
  let category = params.get('category') ?? '';
  const list = h('ul', { class: 'cards compact', id: 'item-list' });
  const more = h('button', { type: 'button', class: 'quiet', hidden: true }, 'More items');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  let cursor = null, shown = 0, query = null;  // query: the AbortController of the latest listing
  signal.addEventListener('abort', () => query?.abort(), { once: true });

  async function load(reset) {
    if (reset) {
      query?.abort();  // a category chosen drops the answer for the one before
      query = new AbortController();
      cursor = null;
      shown = 0;
    }
    const mine = query;
    try {
      const doc = await api('/v1/items', { query: { category, limit: PAGE, cursor }, signal: mine.signal });
      if (reset)
        list.replaceChildren();
      for (const it of doc.items)
        list.append(h('li', { class: 'card', dataset: { item: it.item_id, category: it.category } },
          h('a', { class: 'title', href: route('items', it.item_id) }, it.title || it.item_id),
          h('div', { class: 'meta' }, it.category ? h('span', { class: 'tag' }, it.category) : null,
            it.brand ? h('span', { class: 'brand' }, it.brand) : null,
            it.hidden ? h('span', { class: 'hidden-flag' }, 'hidden') : null)));
      shown += doc.items.length;
      cursor = doc.next_cursor;
      more.hidden = !cursor;
      count.textContent = shown ? `${num(shown)}${cursor ? '+' : ''} items${category ? ` in ${category}` : ''}`
        : 'No items.';
    } catch (err) {
      if (err.name !== 'AbortError')
        list.replaceChildren(errorBox(err, 'Listing items'));
    }
  }

  // The categories and the first page of items at once.
  const [cats] = await Promise.all([api('/v1/categories', { query: { limit: 1000 }, signal }), load(true)]);
  const options = [['', `All categories`],
    ...cats.categories.map((c) => [c.category, `${c.category} (${num(c.items)})`])];
  const sel = h('select', { id: 'category', onchange: (e) => {
    category = e.target.value;
    setParams({ category });
    load(true);
  } }, options.map(([v, t]) => h('option', { value: v, selected: v === category }, t)));
  more.addEventListener('click', () => load(false));
  const create = createForm();
  fill(main, 
    h('h1', {}, 'Items'),
    jumpTo(create, 'Create an item'),
    h('div', { class: 'columns' },
      h('section', { class: 'grow', 'aria-label': 'Browse items' },
        h('div', { class: 'toolbar' }, h('label', { for: 'category' }, 'Category'), sel),
        count, list, more),
      create));
}
