// The web UI's entry point: reads the hash (#/users/u1?x=y), loads and
// draws the view it names into <main>, and wires the header (navigation,
// the user acted as, the API key dialog). A view gets a signal that fires
// when the person navigates away, so late answers of a view left are
// dropped.
import { apiKey, setApiKey } from './api.js';
import { errorBox, fill, h } from './dom.js';
import { showActingUser } from './session.js';

/** [first segment, has an id, module, function, nav entry]. A view's
 *  module is loaded when it is first shown (the first page needs one, not
 *  seven); the others are loaded once the first page is drawn. */
const VIEWS = [
  ['', false, 'page-status.js', 'renderStatus', 'status'],
  ['status', false, 'page-status.js', 'renderStatus', 'status'],
  ['users', false, 'page-users.js', 'renderUsers', 'users'],
  ['users', true, 'page-user.js', 'renderUser', 'users'],
  ['items', false, 'page-items.js', 'renderItems', 'items'],
  ['items', true, 'page-item.js', 'renderItem', 'items'],
  ['models', false, 'page-models.js', 'renderModels', 'models'],
  ['runs', false, 'page-runs.js', 'renderRuns', 'runs'],
  ['runs', true, 'page-runs.js', 'renderRun', 'runs'],
];

function loadView(file) {
  return import(`./${file}`);
}

let warmed = false;
/** Loads the modules of the views not shown yet, when the browser is idle. */
function warmUp() {
  if (warmed)
    return;
  warmed = true;
  const idle = window.requestIdleCallback ?? ((f) => setTimeout(f, 200));
  idle(() => {
    for (const file of new Set(VIEWS.map((v) => v[2])))
      loadView(file).catch(() => {});  // a view that fails to load says so when shown
  });
}

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
    if (view && a.dataset.nav === view[4])
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
      if (ctl.signal.aborted)  // a late call of a view left must not touch the new view's hash
        return;
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
      const mod = await loadView(view[2]);
      if (ctl.signal.aborted)
        return;
      await mod[view[3]](ctx);
    }
  } catch (err) {
    if (err.name === 'AbortError' || ctl.signal.aborted)
      return;
    fill(main, h('h1', {}, err.status === 401 ? 'This server needs its API key' : 'Something went wrong'),
      errorBox(err, 'Loading this page'));
  }
  if (ctl.signal.aborted)
    return;
  main.setAttribute('aria-busy', 'false');
  main.dataset.ready = 'true';
  performance.mark('recsys:view-ready');  // what bench/ui measures
  warmUp();
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

// The skip link moves the focus to <main> without touching the hash (which
// names the view: "#main" would be a page not found).
document.querySelector('.skip').addEventListener('click', (e) => {
  e.preventDefault();
  document.getElementById('main').focus();
});

setUpKeyDialog();
showActingUser();
window.addEventListener('hashchange', () => show(true));
show(false);
