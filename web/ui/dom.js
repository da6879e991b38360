// Small helpers to build the UI's DOM from data: elements with text (never
// HTML from the API), and the formats of numbers and times.

/** An element: h('a', { href: '#/x', class: 'y' }, 'text', child, ...).
 *  Attributes starting with "on" are listeners; false/null ones are left
 *  out; children are nodes or text (null and false are skipped). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v === null || v === undefined)
      continue;
    if (k.startsWith('on') && typeof v === 'function')
      el.addEventListener(k.slice(2), v);
    else if (k === 'class')
      el.className = v;
    else if (k === 'dataset')
      Object.assign(el.dataset, v);
    else
      el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false)
      continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Replaces el's children with children (nodes or text; null and false
 *  are skipped, unlike replaceChildren, which would write "null"). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** A link to a view of the UI: the hash for segments (each encoded). */
export function route(...segments) {
  return `#/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

const numberFormat = new Intl.NumberFormat('en');
export function num(n) {
  return n === null || n === undefined ? '—' : numberFormat.format(n);
}

export function fixed(x, digits = 4) {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '—';
}

/** "3 min ago" for a time (ms or a string) in the last month, else its
 *  date; "—" for none. */
export function ago(t) {
  if (t === null || t === undefined)
    return '—';
  const ms = typeof t === 'number' ? t : Date.parse(t);
  const s = (Date.now() - ms) / 1000;
  if (s > 30 * 86400 || s < -60)
    return new Date(ms).toLocaleDateString('en-GB', { year: 'numeric', month: 'short', day: 'numeric' });
  return `${duration(s)} ago`;
}

/** "45 s", "12 min", "3.5 h", "2.1 days". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds))
    return '—';
  const s = Math.max(0, seconds);
  if (s < 90)
    return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 5400)
    return `${Math.round(s / 60)} min`;
  if (s < 129600)
    return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

/** A <time> element showing a local date and time, the full UTC time as
 *  its title. */
export function when(t) {
  if (t === null || t === undefined)
    return '—';
  const d = new Date(typeof t === 'number' ? t : Date.parse(t));
  if (Number.isNaN(d.getTime()))
    return '—';
  const text = d.toLocaleString('en-GB', {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  });
  return h('time', { datetime: d.toISOString(), title: d.toISOString() }, text);
}

/** A message box for an error (an ApiError's detail, or any error). */
export function errorBox(err, what) {
  const status = err.status ? ` (${err.status})` : '';
  const box = h('div', { class: 'error', role: 'alert' },
    h('strong', {}, `${what} failed${status}: `), err.message);
  if (err.status === 401)
    box.append(' ', h('button', { type: 'button', class: 'link', 'data-action': 'key' },
      'Enter the API key'));
  return box;
}

/** A labelled <select> whose options are [value, text] pairs. */
export function select(id, label, options, value, onchange) {
  const sel = h('select', { id, onchange: (e) => onchange(e.target.value) },
    options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value) }, text)));
  return h('span', { class: 'field' }, h('label', { for: id }, label), sel);
}

/** A button shown on narrow screens only, where the form beside a list
 *  comes after it: it brings form into view and focuses its first field. */
export function jumpTo(form, text) {
  return h('button', { type: 'button', class: 'link phone-only', onclick: () => {
    form.scrollIntoView({ block: 'start' });
    form.querySelector('input, textarea, select')?.focus();
  } }, text);
}
