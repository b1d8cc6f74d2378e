// HTTP client for the OneMap API (docs/api-contract.md): Bearer token from sessionStorage,
// Chinese error messages, and a clear message when a backend part is not there yet (404/501).

const TOKEN_KEY = 'onemap.token';
const listeners = new Set();

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Called with the ApiError of every 401, so the app can open the login dialog. */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

export class ApiError extends Error {
  constructor(status, message, body = null, path = '') {
    super(message);
    this.status = status;
    this.body = body;
    this.path = path;
  }

  /** True when the server has no such endpoint yet (a backend part still being built). */
  get notAvailable() {
    return routeMissing(this.status, this.body);
  }
}

export function authHeaders(extra = {}) {
  const token = getToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : { ...extra };
}

// A 404 for a route the server does not have (no error body, or the framework's generic one)
// rather than for a missing record (a OneMap error such as NotFound / WorkspaceError).
function routeMissing(status, body) {
  if (status === 501 || status === 405) return true;
  return status === 404 && (!body || !body.error || body.error === 'HTTPError');
}

function withQuery(path, query) {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

function problemsText(body) {
  if (!body || !Array.isArray(body.problems) || body.problems.length === 0) return '';
  const items = body.problems.slice(0, 5).map((p) => (typeof p === 'string' ? p : p.message || JSON.stringify(p)));
  return `：${items.join('；')}${body.problems.length > 5 ? ` 等 ${body.problems.length} 项` : ''}`;
}

async function errorFrom(resp, path) {
  let body = null;
  try {
    const text = await resp.text();
    try {
      body = JSON.parse(text);
    } catch {
      body = text ? { message: text.slice(0, 300) } : null;
    }
  } catch {
    body = null;
  }
  let message;
  const serverMessage = body && (body.message || (typeof body.detail === 'string' ? body.detail : ''));
  if (resp.status === 401) message = serverMessage || '请先登录（登录已失效或尚未登录）';
  else if (resp.status === 403) message = serverMessage || '当前用户无权执行此操作';
  else if (routeMissing(resp.status, body)) {
    message = `此功能的后台服务尚未就绪（${path.split('?')[0]} 返回 ${resp.status}），请稍后再试或联系管理员`;
  } else if (serverMessage) message = serverMessage + problemsText(body);
  else message = `服务器返回错误 ${resp.status}`;
  return new ApiError(resp.status, message, body, path);
}

/**
 * Call the API. Options: method, query (object), json (body sent as JSON), form (FormData),
 * as: 'json' (default) | 'blob' | 'text' | 'response'.
 */
export async function api(path, { method = 'GET', query, json, form, as = 'json', signal } = {}) {
  const url = withQuery(path, query);
  const headers = authHeaders({ Accept: as === 'json' ? 'application/json' : '*/*' });
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let resp;
  try {
    resp = await fetch(url, { method, headers, body, signal });
  } catch (exc) {
    if (exc && exc.name === 'AbortError') throw exc;
    throw new ApiError(0, '无法连接服务器，请检查网络或服务是否已启动', null, url);
  }
  if (!resp.ok) {
    const err = await errorFrom(resp, url);
    if (resp.status === 401) listeners.forEach((fn) => fn(err));
    throw err;
  }
  if (as === 'response') return resp;
  if (as === 'blob') return resp.blob();
  if (as === 'text') return resp.text();
  if (resp.status === 204) return null;
  const text = await resp.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(resp.status, `服务器返回的内容无法解析（${url.split('?')[0]}）`, null, url);
  }
}

/** Download a file from the API (with the Bearer token) and save it under `filename`. */
export async function download(path, filename, query) {
  const resp = await api(path, { query, as: 'response' });
  const blob = await resp.blob();
  const disposition = resp.headers.get('Content-Disposition') || '';
  const m = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition);
  const name = m ? decodeURIComponent(m[1] || m[2]) : filename;
  saveBlob(blob, name);
  return { size: blob.size, name, type: blob.type };
}

export function saveBlob(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}
