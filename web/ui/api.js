// The web UI's API client: JSON requests to this server, with the API key
// when the person gave one, and errors turned into ApiError carrying the
// server's problem detail (or why the server could not be reached).
const KEY = 'recsys.apiKey';

export class ApiError extends Error {
  constructor(status, detail, path) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;  // 0 when the server could not be reached
    this.path = path;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY) ?? '';
}

export function setApiKey(key) {
  if (key)
    sessionStorage.setItem(KEY, key);
  else
    sessionStorage.removeItem(KEY);
}

/** path with the query's non-empty values, percent-encoded. */
export function withQuery(path, query = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '')
      q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** The parsed JSON answer of a request; throws ApiError for an error
 *  answer or no answer, and the AbortError of signal when it fires. */
export async function api(path, { method = 'GET', query, body, signal } = {}) {
  const headers = { Accept: 'application/json' };
  const key = apiKey();
  if (key)
    headers.Authorization = `Bearer ${key}`;
  if (body !== undefined)
    headers['Content-Type'] = 'application/json';
  const url = withQuery(path, query);
  let res;
  try {
    res = await fetch(url, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err.name === 'AbortError')
      throw err;
    throw new ApiError(0, `cannot reach the server (${err.message})`, path);
  }
  const text = await res.text();
  let doc = null;
  try {
    doc = text ? JSON.parse(text) : null;
  } catch {
    doc = null;
  }
  if (!res.ok)
    throw new ApiError(res.status, doc?.detail ?? `${res.status} ${res.statusText}`, path);
  return doc;
}

/** The items of ids (any number), by id, in as few requests as the API
 *  allows (100 ids each). */
export async function itemsById(ids, signal) {
  const unique = [...new Set(ids)];
  const byId = new Map();
  for (let i = 0; i < unique.length; i += 100) {
    const doc = await api('/v1/items', {
      query: { ids: unique.slice(i, i + 100).join(','), limit: 100 }, signal,
    });
    for (const it of doc.items)
      byId.set(it.item_id, it);
  }
  return byId;
}
