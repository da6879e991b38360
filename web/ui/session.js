// What the UI remembers for the person using it: the user they act as
// (localStorage, shown in the header) and short status messages (an
// aria-live region, so screen readers hear them too).
const USER = 'recsys.user';

export function actingUser() {
  return localStorage.getItem(USER) ?? '';
}

export function setActingUser(id) {
  if (id)
    localStorage.setItem(USER, id);
  else
    localStorage.removeItem(USER);
  showActingUser();
}

export function showActingUser() {
  const el = document.getElementById('acting');
  el.replaceChildren();
  const id = actingUser();
  if (!id)
    return;
  const a = document.createElement('a');
  a.href = `#/users/${encodeURIComponent(id)}`;
  a.textContent = id;
  el.append('Acting as ', a);
}

let toastTimer = 0;
/** Shows a short message at the bottom of the page for a few seconds. */
export function toast(text, kind = 'ok') {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.dataset.kind = kind;
  el.classList.add('shown');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('shown'), 4000);
}
