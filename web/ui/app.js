// The web UI's entry point: reads the hash (#/users/u1?x=y), draws the
// view it names into <main>, and wires the header (navigation, the user
// acted as, the API key dialog). A view gets a signal that fires when the
// person navigates away, so late answers of a view left are dropped.
import { apiKey, setApiKey } from './api.js';
import { errorBox, fill, h } from './dom.js';
import { showActingUser } from './session.js';
import { renderItem } from './page-item.js';
import { renderItems } from './page-items.js';
import { renderModels } from './page-models.js';
import { renderRun, renderRuns } from './page-runs.js';
import { renderStatus } from './page-status.js';
import { renderUser } from './page-user.js';
import { renderUsers } from './page-users.js';

/** [first segment, has an id, view, nav entry]. */
const VIEWS = [
  ['', false, renderStatus, 'status'],
  ['status', false, renderStatus, 'status'],
  ['users', false, renderUsers, 'users'],
  ['users', true, renderUser, 'users'],
  ['items', false, renderItems, 'items'],
  ['items', true, renderItem, 'items'],
  ['models', false, renderModels, 'models'],
  ['runs', false, renderRuns, 'runs'],
  ['runs', true, renderRun, 'runs'],
];

/** { segments, params } of the location's hash. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const segments = path.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return { segments, params: new URLSearchParams(query) };
}

let current = null;  // the AbortController of the view shown

async function show(focus) {
  current?.abort();
  const ctl = new AbortController();
  current = ctl;
  const { segments, params } = parseHash();
  const main = document.getElementById('main');
  const [first = '', id, ...rest] = segments;
  const view = rest.length ? null : VIEWS.find(([name, hasId]) => name === first && hasId === (id !== undefined));
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (view && a.dataset.nav === view[3])
      a.setAttribute('aria-current', 'page');
    else
      a.removeAttribute('aria-current');
  }
  main.setAttribute('aria-busy', 'true');
  main.removeAttribute('data-ready');
  fill(main, h('p', { class: 'loading' }, 'Loading…'));
  const ctx = {
    main, id, params, signal: ctl.signal,
    /** Replaces the hash's query without drawing the view again. */
    setParams(next) {
      const q = new URLSearchParams(next);
      for (const [k, v] of [...q])
        if (!v)
          q.delete(k);
      const base = location.hash.split('?')[0] || '#/';
      history.replaceState(null, '', q.toString() ? `${base}?${q}` : base);
    },
  };
  try {
    if (!view) {
      document.title = 'Not found · recsys';
      fill(main, h('h1', {}, 'Not found'),
        h('p', {}, 'There is no page at ', h('code', {}, location.hash), '. ',
          h('a', { href: '#/status' }, 'Go to the status page'), '.'));
    } else {
      await view[2](ctx);
    }
  } catch (err) {
    if (err.name === 'AbortError' || ctl.signal.aborted)
      return;
    fill(main, h('h1', {}, 'Something went wrong'), errorBox(err, 'Loading this page'));
  }
  if (ctl.signal.aborted)
    return;
  main.setAttribute('aria-busy', 'false');
  main.dataset.ready = 'true';
  performance.mark('recsys:view-ready');  // what bench/ui measures
  const heading = main.querySelector('h1');
  if (heading)
    heading.tabIndex = -1;
  if (focus)
    (heading ?? main).focus();
}

function openKeyDialog(why) {
  const dialog = document.getElementById('key-dialog');
  const input = document.getElementById('key-input');
  document.getElementById('key-why').textContent = why ??
    'Writes (events, users, items, promotion) need the server\'s API key when it has one. ' +
    'It is kept for this browser tab only.';
  input.value = apiKey();
  dialog.showModal();
  input.focus();
}

function setUpKeyDialog() {
  const dialog = document.getElementById('key-dialog');
  const button = document.getElementById('key-button');
  const label = () => { button.textContent = apiKey() ? 'API key ✓' : 'API key'; };
  label();
  button.addEventListener('click', () => openKeyDialog());
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'save')
      setApiKey(document.getElementById('key-input').value.trim());
    else if (dialog.returnValue === 'clear')
      setApiKey('');
    label();
    if (dialog.returnValue === 'save' || dialog.returnValue === 'clear')
      show(false);
  });
  // "Enter the API key" buttons of error messages, wherever they are.
  document.addEventListener('click', (e) => {
    if (e.target.closest?.('[data-action="key"]'))
      openKeyDialog('This server needs its API key for that. It is kept for this browser tab only.');
  });
}

setUpKeyDialog();
showActingUser();
window.addEventListener('hashchange', () => show(true));
show(false);
