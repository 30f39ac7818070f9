// The JSON API (/api/v1).  The session cookie is HttpOnly; the CSRF token
// of the session is kept here, in memory, and sent with every change.

export const session = { account: null, csrf: null };

export class ApiError extends Error {
  constructor(status, data) {
    super((data && data.message) || `HTTP ${status}`);
    this.status = status;
    this.data = data || {};
  }
}

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET' && method !== 'HEAD' && session.csrf)
    headers['X-CSRF-Token'] = session.csrf;
  if (body !== undefined) {
    if (opts.raw) {
      headers['Content-Type'] = opts.type || 'text/plain';
      init.body = body;
    } else {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  const res = await fetch(`/api/v1${path}`, init);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401 && !opts.noRedirect) onUnauthenticated();
  if (!res.ok && !(opts.accept || []).includes(res.status))
    throw new ApiError(res.status, data);
  return opts.withStatus ? { status: res.status, data } : data;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== null && v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
