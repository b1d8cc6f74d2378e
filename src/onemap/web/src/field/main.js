// The field app (外业核查举证, /field/): log in once, download the officer's tasks and the map tiles
// of their extents, then work offline: map with own position, a form per task kind (from the
// server's task kinds), photos taken in the app and hashed (SHA-256, WebCrypto) at capture with
// time, position, accuracy and heading, a queue in IndexedDB that survives reloads, and upload
// when a connection returns. The server checks each hash, never stores a photo twice for a task,
// and reports conflicts (the case moved on in the office), which are shown here, never dropped.

import './style.css';
import { getValue, queueAll, queueDelete, queuePut, setValue } from './db.js';
import { centre, localIso, metres, sha256Hex } from './geo.js';
import { WORKER_URL, createMap, fitTo, prepareWorker, setLayers, setPosition, setTasks } from './map.js';

const TOKEN_KEY = 'onemap.field.token';
const TILE_CACHE = 'onemap-field-tiles';
const SHELL_CACHE = 'onemap-field-shell';

const $ = (id) => document.getElementById(id);
const state = {
  tasks: [], kinds: {}, officer: '', layers: [], maxzoom: 17,
  position: null, heading: null, current: null, draft: [], syncing: false, queue: [],
};

const token = () => localStorage.getItem(TOKEN_KEY);

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) e.append(kid);
  return e;
}

function show(view) {
  for (const v of ['login', 'tasks', 'task']) $(`view-${v}`).hidden = v !== view;
  $('btn-logout').hidden = view === 'login';
  if (view === 'tasks' && map) setTimeout(() => map.resize(), 0);
}

function fmtBytes(n) {
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(n / 1024))} KB`;
}

function fmtDue(iso) {
  return iso ? iso.slice(0, 10) : '无';
}

async function api(path, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const resp = await fetch(path, { ...options, headers });
  let body = null;
  try { body = await resp.json(); } catch { body = null; }
  if (!resp.ok) {
    const err = new Error((body && body.message) || `服务器返回 ${resp.status}`);
    err.status = resp.status;
    err.body = body;
    throw err;
  }
  return body;
}

function renderNet() {
  const on = navigator.onLine;
  $('net').textContent = on ? '在线' : '离线';
  $('net').className = `net ${on ? 'on' : 'off'}`;
}

// ---------------------------------------------------------------------------------------- login
async function login(ev) {
  ev.preventDefault();
  const form = new FormData($('login-form'));
  $('login-error').hidden = true;
  try {
    const out = await api('/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: form.get('username'), password: form.get('password') }) });
    localStorage.setItem(TOKEN_KEY, out.token);
    await setValue('user', out.user || { username: form.get('username') });
    await enter();
  } catch (err) {
    $('login-error').textContent = `登录失败：${err.message}`;
    $('login-error').hidden = false;
  }
}

function logout() {
  localStorage.removeItem(TOKEN_KEY);
  show('login');
}

// ---------------------------------------------------------------------------------------- tasks
async function download() {
  $('download-info').textContent = '正在下载任务…';
  try {
    const out = await api('/api/field/tasks');
    const plan = await api('/api/field/offline');
    await setValue('tasks', out);
    await setValue('plan', plan);
    await setValue('downloaded_at', new Date().toISOString());
    applyTasks(out, plan);
    $('download-info').textContent = `已下载 ${out.tasks.length} 项任务（${new Date().toLocaleString('zh-CN')}）`;
  } catch (err) {
    $('download-info').textContent = `下载失败：${err.message}`;
  }
}

function applyTasks(out, plan) {
  state.tasks = out.tasks || [];
  state.kinds = out.kinds || {};
  state.officer = out.officer || '';
  $('officer').textContent = state.officer ? `核查人：${state.officer}` : '';
  if (plan) {
    state.layers = plan.layers || [];
    state.maxzoom = plan.max_zoom || 17;
    $('offline-plan').hidden = false;
    const over = plan.over_budget;
    $('offline-size').textContent = `离线地图：${plan.files.length} 个瓦片，共 ${fmtBytes(plan.bytes)}`
      + `（上限 ${fmtBytes(plan.budget_bytes)}）${over ? '，超过上限，请减少任务或缩小范围' : ''}`;
    $('btn-tiles').disabled = !!over;
    $('offline-size').dataset.bytes = String(plan.bytes);
  }
  renderTasks();
  if (map) {
    mapReady.then(() => {
      setLayers(map, state.layers, state.maxzoom);
      setTasks(map, state.tasks);
      const boxes = state.tasks.filter((t) => t.bbox).map((t) => t.bbox);
      if (boxes.length) {
        fitTo(map, [Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])),
          Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))]);
      }
    });
  }
}

async function downloadTiles() {
  const plan = await getValue('plan');
  if (!plan) return;
  const cache = await caches.open(TILE_CACHE);
  const bar = $('tiles-progress');
  bar.hidden = false;
  bar.max = plan.files.length;
  bar.value = 0;
  let done = 0;
  let failed = 0;
  const queue = [...plan.files];
  const worker = async () => {
    while (queue.length) {
      const f = queue.shift();
      try {
        const resp = await fetch(f.url, { headers: { Authorization: `Bearer ${token()}` } });
        if (resp.ok) await cache.put(f.url, resp);
        else failed += 1;
      } catch {
        failed += 1;
      }
      done += 1;
      bar.value = done;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await setValue('tiles_at', new Date().toISOString());
  $('offline-size').textContent = failed
    ? `离线地图下载完成，其中 ${failed} 个瓦片失败，请联网后重试`
    : `离线地图已下载：${plan.files.length} 个瓦片，共 ${fmtBytes(plan.bytes)}`;
  $('offline-size').dataset.done = failed ? 'partial' : 'yes';
}

function renderTasks() {
  $('task-count').textContent = `（${state.tasks.length}）`;
  const list = $('task-list');
  list.replaceChildren(...state.tasks.map((t) => el('li', {},
    el('button', { type: 'button', class: 'task', 'data-task': t.id, onclick: () => openTask(t) },
      el('strong', {}, t.title),
      el('span', {}, `${t.kind_title} · ${t.state_title} · 期限 ${fmtDue(t.due)}`)))));
  if (!state.tasks.length) list.append(el('li', { class: 'info' }, '没有任务：请点“下载任务”'));
}

// ------------------------------------------------------------------------------------- one task
function openTask(task) {
  state.current = task;
  state.draft = [];
  $('task-title').textContent = task.title;
  $('task-meta').textContent = `${task.kind_title} · ${task.state_title} · 期限 ${fmtDue(task.due)}`;
  const kind = state.kinds[task.kind] || { form: [], min_photos: 1 };
  const fields = kind.form.map((f) => {
    const name = `f-${f.name}`;
    let input;
    if (f.type === 'choice') {
      input = el('div', { class: 'choices', role: 'radiogroup' },
        ...f.choices.map((c) => el('label', { class: 'choice' },
          el('input', { type: 'radio', name: f.name, value: c, required: f.required }), c)));
    } else if (f.type === 'number') {
      input = el('input', { id: name, name: f.name, type: 'number', required: f.required });
    } else {
      input = el('textarea', { id: name, name: f.name, rows: 3, required: f.required });
    }
    return el('div', { class: 'field' }, el('div', { class: 'label' }, f.title + (f.required ? ' *' : '')), input);
  });
  $('form-fields').replaceChildren(...fields,
    el('p', { class: 'hint' }, `须至少 ${kind.min_photos} 张照片（在本应用内拍摄，自动记录时间、位置、精度和方向）`));
  $('photo-list').replaceChildren();
  $('form-error').hidden = true;
  renderDistance();
  show('task');
}

function renderDistance() {
  const t = state.current;
  if (!t) return;
  const c = centre(t.geometry);
  if (!c || !state.position) {
    $('task-distance').textContent = state.position ? '' : '正在定位…';
    return;
  }
  const d = metres([state.position.lon, state.position.lat], c);
  $('task-distance').textContent = `距任务中心约 ${d < 1000 ? `${d.toFixed(0)} 米` : `${(d / 1000).toFixed(1)} 公里`}`
    + `（定位精度 ${state.position.accuracy.toFixed(0)} 米）`;
}

async function capture(ev) {
  const files = [...ev.target.files];
  ev.target.value = '';
  for (const file of files) {
    const buffer = await file.arrayBuffer();
    const pos = state.position;
    if (!pos) {
      $('form-error').textContent = '尚未定位，不能取证：请到室外开启定位后重拍';
      $('form-error').hidden = false;
      continue;
    }
    const sha256 = await sha256Hex(buffer);
    const meta = { lon: pos.lon, lat: pos.lat, accuracy_m: Math.round(pos.accuracy * 10) / 10,
      time: localIso(new Date()), heading: state.heading, sha256 };
    const name = file.name && /\.(jpe?g|png|webp|heic)$/i.test(file.name) ? file.name : `photo-${Date.now()}.jpg`;
    state.draft.push({ name, blob: new Blob([buffer], { type: file.type || 'image/jpeg' }), meta });
  }
  renderDraft();
}

function renderDraft() {
  $('photo-list').replaceChildren(...state.draft.map((p, i) => el('li', { class: 'photo' },
    el('span', {}, `${i + 1}. ${p.name}`),
    el('small', {}, `${p.meta.time.slice(11, 16)} · ${p.meta.lon.toFixed(5)}, ${p.meta.lat.toFixed(5)} · ±${p.meta.accuracy_m} 米`
      + `${p.meta.heading === null ? '' : ` · ${Math.round(p.meta.heading)}°`} · ${p.meta.sha256.slice(0, 8)}`))));
}

async function save(ev) {
  ev.preventDefault();
  const t = state.current;
  const kind = state.kinds[t.kind] || { form: [] };
  const data = new FormData($('task-form'));
  const form = {};
  const missing = [];
  for (const f of kind.form) {
    const v = (data.get(f.name) || '').toString().trim();
    if (v) form[f.name] = v;
    else if (f.required) missing.push(f.title);
  }
  const problems = [];
  if (missing.length) problems.push(`请填写：${missing.join('、')}`);
  if (!state.draft.length) problems.push('请至少拍摄一张照片');
  if (problems.length) {
    $('form-error').textContent = problems.join('；');
    $('form-error').hidden = false;
    return;
  }
  const item = { id: crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`,
    task_id: t.id, task_title: t.title, case_id: t.case_id, form, photos: state.draft,
    status: 'queued', message: '', created: new Date().toISOString() };
  await queuePut(item);
  state.draft = [];
  show('tasks');
  await renderQueue();
  sync();
}

// ----------------------------------------------------------------------------------------- sync
const STATUS = { queued: '待上传', sent: '已上传', conflict: '冲突', refused: '被退回' };

async function renderQueue() {
  state.queue = (await queueAll()).sort((a, b) => a.created.localeCompare(b.created));
  const pending = state.queue.filter((q) => q.status === 'queued');
  $('queue-count').textContent = String(pending.length);
  $('queue-list').replaceChildren(...state.queue.map((q) => el('li', { class: `queue ${q.status}`, 'data-status': q.status },
    el('strong', {}, `${STATUS[q.status] || q.status} · ${q.task_title}`),
    el('span', {}, `${q.photos.length} 张照片${q.message ? ` · ${q.message}` : ''}`),
    q.status === 'queued' ? null : el('button', { type: 'button', class: 'small',
      onclick: async () => { await queueDelete(q.id); renderQueue(); } }, '移除'))));
}

async function sendOne(item) {
  const body = new FormData();
  for (const p of item.photos) {
    body.append('photos', p.blob, p.name);
    body.append('meta', JSON.stringify(p.meta));
  }
  body.append('form', JSON.stringify(item.form));
  const resp = await fetch(`/api/field/tasks/${encodeURIComponent(item.task_id)}/evidence`, {
    method: 'POST', body, headers: { Authorization: `Bearer ${token()}` } });
  let out = null;
  try { out = await resp.json(); } catch { out = null; }
  if (resp.ok) {
    const flags = (out.flags || []).map((f) => f.message);
    return { ...item, status: 'sent', result: out,
      message: `接收 ${out.accepted} 张${out.duplicates ? `（${out.duplicates} 张此前已收到）` : ''}`
        + `${flags.length ? `；提示：${flags.join('；')}` : ''}` };
  }
  const message = (out && out.message) || `服务器返回 ${resp.status}`;
  if (resp.status === 409) return { ...item, status: 'conflict', message };
  if (resp.status === 401 || resp.status >= 500) return { ...item, message: `${message}（稍后重试）` };
  return { ...item, status: 'refused', message };
}

async function sync() {
  if (state.syncing || !navigator.onLine) return;
  state.syncing = true;
  try {
    for (const item of await queueAll()) {
      if (item.status !== 'queued') continue;
      let next;
      try {
        next = await sendOne(item);
      } catch {
        break; // no connection after all: keep the queue for the next try
      }
      await queuePut(next);
    }
  } finally {
    state.syncing = false;
    await renderQueue();
    window.__field.syncs += 1;
  }
}

// ------------------------------------------------------------------------------------- position
function watchPosition() {
  if (!navigator.geolocation) return;
  navigator.geolocation.watchPosition((p) => {
    state.position = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy };
    if (map) mapReady.then(() => setPosition(map, state.position));
    renderDistance();
  }, () => { state.position = null; renderDistance(); }, { enableHighAccuracy: true, maximumAge: 5000 });
  const onOrientation = (e) => {
    if (typeof e.webkitCompassHeading === 'number') state.heading = e.webkitCompassHeading;
    else if (e.absolute && typeof e.alpha === 'number') state.heading = (360 - e.alpha) % 360;
  };
  window.addEventListener('deviceorientationabsolute', onOrientation);
  window.addEventListener('deviceorientation', onOrientation);
}

// ---------------------------------------------------------------------------------------- start
let map = null;
let mapReady = Promise.resolve();

async function cacheShell() {
  if (!('caches' in window)) return;
  const urls = new Set([window.location.pathname, WORKER_URL]);
  for (const e of performance.getEntriesByType('resource')) {
    const u = new URL(e.name);
    if (u.origin === window.location.origin && (u.pathname.startsWith('/assets/') || u.pathname.startsWith('/field/'))) {
      urls.add(u.pathname);
    }
  }
  const cache = await caches.open(SHELL_CACHE);
  await Promise.all([...urls].map((u) => cache.add(u).catch(() => null)));
}

async function enter() {
  show('tasks');
  if (!map) {
    await prepareWorker(SHELL_CACHE);
    const m = createMap($('map'), token);
    map = m.map;
    mapReady = m.ready;
    window.__field.map = map;
    mapReady.then(() => { if (state.position) setPosition(map, state.position); });
  }
  const saved = await getValue('tasks');
  if (saved) applyTasks(saved, await getValue('plan'));
  else renderTasks();
  await renderQueue();
  sync();
}

async function start() {
  window.__field = { state, syncs: 0, ready: false, map: null, sync, renderQueue };
  renderNet();
  window.addEventListener('online', () => { renderNet(); sync(); });
  window.addEventListener('offline', renderNet);
  $('login-form').addEventListener('submit', login);
  $('btn-logout').addEventListener('click', logout);
  $('btn-download').addEventListener('click', download);
  $('btn-tiles').addEventListener('click', downloadTiles);
  $('btn-sync').addEventListener('click', sync);
  $('btn-back').addEventListener('click', () => show('tasks'));
  $('photo-input').addEventListener('change', capture);
  $('task-form').addEventListener('submit', save);
  watchPosition();
  if ('serviceWorker' in navigator) {
    try {
      await navigator.serviceWorker.register('./sw.js', { scope: './' });
      await navigator.serviceWorker.ready;
      await cacheShell();
    } catch (err) {
      console.warn('离线缓存不可用', err);
    }
  }
  if (token()) await enter();
  else show('login');
  window.__field.ready = true;
}

start();
