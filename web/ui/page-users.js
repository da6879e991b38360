// The users view (#/users): find yourself by id prefix, page through the
// users, or register a new one and go to their page.
import { api } from './api.js';
import { errorBox, fill, h, jumpTo, route, when } from './dom.js';
import { setActingUser, toast } from './session.js';

const PAGE = 50;

/** Attributes from "key=value" lines, or a JSON object. */
function parseAttributes(text) {
  const t = text.trim();
  if (!t)
    return {};
  if (t.startsWith('{')) {
    const o = JSON.parse(t);
    if (typeof o !== 'object' || o === null || Array.isArray(o))
      throw new Error('attributes must be a JSON object');
    return o;
  }
  const out = {};
  for (const [i, line] of t.split('\n').entries()) {
    if (!line.trim())
      continue;
    const eq = line.indexOf('=');
    if (eq <= 0)
      throw new Error(`attributes, line ${i + 1}: write key=value`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

function registerForm() {
  const msg = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'panel', id: 'register' },
    h('h2', {}, 'Register a new user'),
    h('label', { for: 'new-user-id' }, 'User id'),
    h('input', { id: 'new-user-id', name: 'user_id', required: true, maxlength: 256, autocomplete: 'off',
      placeholder: 'e.g. ada' }),
    h('label', { for: 'new-user-attrs' }, 'Attributes (optional: key=value per line, or JSON)'),
    h('textarea', { id: 'new-user-attrs', name: 'attributes', rows: 2, placeholder: 'country=FR' }),
    h('button', { type: 'submit' }, 'Register'),
    msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = form.elements.user_id.value.trim();
    msg.replaceChildren();
    try {
      const attributes = parseAttributes(form.elements.attributes.value);
      const doc = await api('/v1/users', { method: 'POST', body: { user_id: id, attributes } });
      setActingUser(doc.user_id);
      toast(`Registered ${doc.user_id}`);
      location.hash = route('users', doc.user_id);
    } catch (err) {
      msg.replaceChildren(errorBox(err, 'Registering'));
    }
  });
  return form;
}

export async function renderUsers({ main, params, signal, setParams }) {
  document.title = 'Users · recsys';
  const list = h('ul', { class: 'rows', id: 'user-list' });
  const more = h('button', { type: 'button', class: 'quiet', hidden: true }, 'More users');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const search = h('input', {
    id: 'user-search', type: 'search', value: params.get('q') ?? '', autocomplete: 'off',
    placeholder: 'Type the start of an id', 'aria-describedby': 'user-search-help',
  });
  let cursor = null, shown = 0, query = null;  // query: the AbortController of the latest search
  signal.addEventListener('abort', () => query?.abort(), { once: true });

  async function load(reset) {
    const q = search.value;
    if (reset) {
      query?.abort();
      query = new AbortController();
      cursor = null;
      shown = 0;
    }
    const mine = query;
    try {
      const doc = await api('/v1/users', { query: { q, limit: PAGE, cursor }, signal: mine.signal });
      if (reset)
        list.replaceChildren();
      for (const u of doc.users) {
        list.append(h('li', {},
          h('a', { href: route('users', u.user_id) }, u.user_id),
          Object.keys(u.attributes).length
            ? h('span', { class: 'muted' }, ` ${Object.entries(u.attributes).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}`)
            : null,
          h('span', { class: 'muted right' }, 'since ', when(u.created_at))));
      }
      shown += doc.users.length;
      cursor = doc.next_cursor;
      more.hidden = !cursor;
      count.textContent = shown === 0 ? (q ? `No user id starts with "${q}".` : 'No users yet.')
        : `${shown}${cursor ? '+' : ''} user${shown === 1 ? '' : 's'}${q ? ` starting with "${q}"` : ''}`;
    } catch (err) {
      if (err.name !== 'AbortError')
        list.replaceChildren(errorBox(err, 'Listing users'));
    }
  }

  let timer = 0;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (signal.aborted)
        return;
      setParams({ q: search.value });
      load(true);
    }, 200);
  });
  more.addEventListener('click', () => load(false));

  const register = registerForm();
  fill(main, 
    h('h1', {}, 'Users'),
    jumpTo(register, 'Register a new user'),
    h('div', { class: 'columns' },
      h('section', { class: 'grow', 'aria-label': 'Find a user' },
        h('label', { for: 'user-search' }, 'Find yourself'),
        search,
        h('p', { id: 'user-search-help', class: 'muted' }, 'Ids are matched from their start, in id order.'),
        count, list, more),
      register));
  await load(true);
}
