// Fetch wrapper: same origin only, cookie session, CSRF header on state-changing requests,
// form-encoded bodies (the Twilio-shaped API), 401 -> back to sign-in.
import { accountSid, getState, sessionExpired, signedOut } from './state.js';

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const msg = (body && (body.message || body.detail)) || `HTTP ${status}`;
    super(msg);
    this.status = status;
    this.code = body && body.code;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

// Builds a form / query string; skips undefined and null, repeats arrays.
export function encode(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, String(x)));
    else q.append(k, String(v));
  }
  return q.toString();
}

function sameOrigin(path) {
  // Only this origin: an absolute URL (a next_page_url) is reduced to its path.
  if (typeof path === 'string' && /^https?:\/\//i.test(path)) {
    const u = new URL(path);
    if (u.origin !== location.origin) throw new Error('refusing a request outside this origin');
    return u.pathname + u.search;
  }
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
    throw new Error('refusing a request outside this origin');
  }
  return path;
}

export function withQuery(path, params) {
  const qs = encode(params);
  if (!qs) return path;
  return path + (path.includes('?') ? '&' : '?') + qs;
}

const SESSION_ENDED = 'Your session has ended. Sign in again.';

export async function request(method, path, params, opts = {}) {
  path = sameOrigin(path);
  if (sessionExpired()) {
    // Past the session's end: no request (see state.js), back to sign-in.
    signedOut(SESSION_ENDED);
    throw new ApiError(401, { code: 20003, message: SESSION_ENDED });
  }
  const headers = { Accept: 'application/json' };
  let body;
  let url = path;
  if (method === 'GET' || method === 'HEAD') {
    url = withQuery(path, params);
  } else {
    const s = getState().session;
    if (s && s.csrf_token) headers['X-CSRF-Token'] = s.csrf_token;
    if (params) {
      body = encode(params);
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
  }
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch (e) {
    throw new ApiError(0, { message: 'Network error: the daemon cannot be reached' });
  }
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = { message: text.slice(0, 300) };
      }
    }
  }
  if (res.status === 401 && !opts.allow401) {
    signedOut(SESSION_ENDED);
    throw new ApiError(401, data);
  }
  if (!res.ok) {
    const ra = res.headers.get('Retry-After');
    throw new ApiError(res.status, data, ra ? parseInt(ra, 10) : undefined);
  }
  return data;
}

export const get = (path, params, opts) => request('GET', path, params, opts);
export const post = (path, params, opts) => request('POST', path, params, opts);
export const del = (path, params, opts) => request('DELETE', path, params, opts);

// /2010-04-01/Accounts/{acting account}/<rest>
export function acct(rest) {
  return `/2010-04-01/Accounts/${encodeURIComponent(accountSid())}/${rest}`;
}

// /v1 paths: the daemon scopes them to the session's acting account (no ?AccountSid=).
export function v1(rest, params) {
  return withQuery('/v1/' + rest, params);
}

// Follows next_page_uri (2010-04-01) or meta.next_page_url (/v1) up to maxPages pages.
export async function getAll(path, key, params, maxPages = 10) {
  let out = [];
  let next = withQuery(path, params);
  for (let i = 0; next && i < maxPages; i++) {
    const page = await get(next);
    out = out.concat((page && page[key]) || []);
    next = (page && (page.next_page_uri || (page.meta && page.meta.next_page_url))) || null;
  }
  return out;
}

// An EventSource on this origin that closes itself on a 401-ish failure (checks the session).
export function openStream(path, onEvent, onState) {
  path = sameOrigin(path);
  if (sessionExpired()) {
    signedOut(SESSION_ENDED);
    return { close() {}, addEventListener() {}, readyState: 2 };
  }
  const es = new EventSource(path, { withCredentials: true });
  es.onopen = () => onState && onState('open');
  es.onmessage = (m) => {
    let ev;
    try {
      ev = JSON.parse(m.data);
    } catch (_) {
      return;
    }
    onEvent(ev, m);
  };
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      onState && onState('closed');
      // An SSE request refused (401 after expiry) closes the source: check the session.
      get('/console/api/session').catch(() => {});
    } else {
      onState && onState('reconnecting');
    }
  };
  return es;
}
