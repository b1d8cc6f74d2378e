// OneMap web UI entry: login, workspace + catalog, the map, and the side panels.

import './style.css';
import { api, ApiError, getToken, onUnauthorized, setToken } from './api.js';
import { addDataset, createMap, datasetOrder, ensureOverlay, overlayForPanel } from './mapview.js';
import { toast } from './ui.js';
import * as layersPanel from './panels/layers.js';
import * as identifyPanel from './panels/identify.js';
import * as comparePanel from './panels/compare.js';
import * as checkPanel from './panels/check.js';
import * as casesPanel from './panels/cases.js';
import * as dashboardPanel from './panels/dashboard.js';
import * as exportPanel from './panels/export.js';
import * as tablePanel from './panels/table.js';
import * as registersPanel from './panels/registers.js';
import * as searchBox from './search.js';
import * as measureTool from './measure.js';

const PANELS = {
  layers: layersPanel,
  identify: identifyPanel,
  compare: comparePanel,
  check: checkPanel,
  cases: casesPanel,
  dashboard: dashboardPanel,
  export: exportPanel,
  table: tablePanel,
  registers: registersPanel,
};

const state = {
  user: null,
  workspace: null,
  datasets: [],
  map: null,
  tab: 'layers',
  clickHandler: null, // panels that take map clicks (drawing) set this; else identify
  ready: false,
  errors: [],
};

let readyResolve;
const ready = new Promise((resolve) => { readyResolve = resolve; });

// For tests and the browser console.
window.__onemap = {
  state,
  ready,
  get map() { return state.map; },
  layoutProperty(layerId, prop) { return state.map.getLayoutProperty(layerId, prop); },
  tilesRendered() { return state.map && state.map.loaded() && state.map.areTilesLoaded(); },
};

// ---- tabs ---------------------------------------------------------------------------------

function showTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === name);
  for (const p of document.querySelectorAll('.panel')) p.classList.toggle('active', p.id === `panel-${name}`);
  overlayForPanel(state.map, name);
  const mod = PANELS[name];
  if (mod && mod.onShow) mod.onShow(ctx);
}

document.getElementById('tabs').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-tab]');
  if (b) showTab(b.dataset.tab);
});

// ---- login --------------------------------------------------------------------------------

const dialog = document.getElementById('login-dialog');
const loginForm = document.getElementById('login-form');
const loginError = document.getElementById('login-error');
let loginWaiters = [];

function openLogin(reason) {
  loginError.hidden = !reason;
  loginError.textContent = reason || '';
  if (!dialog.open) dialog.showModal();
  return new Promise((resolve) => loginWaiters.push(resolve));
}

loginForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  loginError.hidden = true;
  const fd = new FormData(loginForm);
  try {
    const res = await api('/api/login', { method: 'POST', json: { username: fd.get('username'), password: fd.get('password') } });
    setToken(res.token);
    state.user = res.user || { username: fd.get('username') };
    showUser();
    dialog.close();
    toast(`欢迎，${state.user.display_name || state.user.username}`, 'ok');
    const waiters = loginWaiters;
    loginWaiters = [];
    waiters.forEach((w) => w(true));
  } catch (err) {
    loginError.hidden = false;
    loginError.textContent = err.status === 401 || err.status === 400 ? (err.body && err.body.message) || '用户名或密码错误' : err.message;
  }
});

document.getElementById('login-cancel').addEventListener('click', () => {
  dialog.close();
  const waiters = loginWaiters;
  loginWaiters = [];
  waiters.forEach((w) => w(false));
});

document.getElementById('btn-login').addEventListener('click', async () => {
  if (await openLogin()) await boot();
});

document.getElementById('btn-logout').addEventListener('click', () => {
  setToken(null);
  state.user = null;
  showUser();
  toast('已退出登录');
});

let unauthorizedShown = false;
onUnauthorized(() => {
  if (unauthorizedShown || dialog.open) return;
  unauthorizedShown = true;
  openLogin('请先登录').then(async (ok) => {
    unauthorizedShown = false;
    if (ok && !state.ready) await boot();
  });
});

function showUser() {
  const u = state.user;
  document.getElementById('user-name').textContent = u
    ? `${u.display_name || u.username}${u.role ? `（${roleName(u.role)}${u.county ? ` · ${u.county}` : ''}）` : ''}`
    : '未登录';
  document.getElementById('btn-login').hidden = !!u;
  document.getElementById('btn-logout').hidden = !u;
}

const ROLES = { admin: '管理员', editor: '编辑', enforcer: '执法', viewer: '只读' };
function roleName(r) { return ROLES[r] || r; }

// ---- boot ---------------------------------------------------------------------------------

const ctx = {
  state,
  get map() { return state.map; },
  showTab,
  datasetByName: (name) => state.datasets.find((d) => d.name === name),
  visibleCollections: () => state.datasets.filter((d) => d.visible && d.current).map((d) => d.current.layer || d.current.id),
  onMapReady: [],
};

function versionSortKey(v) { return String(v.version ?? ''); }

function datasetsFromCatalog(cat) {
  const list = (cat && cat.datasets) || [];
  return list
    .filter((d) => Array.isArray(d.versions) && d.versions.length)
    .map((d) => {
      const versions = [...d.versions].sort((a, b) => versionSortKey(a).localeCompare(versionSortKey(b), 'zh-CN', { numeric: true }));
      return {
        name: d.name,
        title: d.title || d.name,
        kind: d.kind,
        versions,
        current: versions[versions.length - 1],
        visible: d.name === 'DLTB' || d.name === 'XZQ',
        opacity: 1,
        legend: null,
      };
    })
    .sort((a, b) => datasetOrder(b.name) - datasetOrder(a.name));
}

async function loadLegends() {
  await Promise.all(state.datasets.map(async (ds) => {
    try {
      ds.legend = await api(`/api/legend/${encodeURIComponent(ds.name)}`);
    } catch (err) {
      ds.legend = null; // fall back to the bundled symbology.json
      if (!(err instanceof ApiError)) throw err;
    }
  }));
}

function setStatus(text) {
  document.getElementById('map-status').textContent = text;
}

let pointer = null; // the last mouse position on the map

/** Status bar: the pointer's lon/lat and the zoom (updated on every move and every zoom). */
function showPosition() {
  const zoom = `缩放 ${state.map.getZoom().toFixed(1)}`;
  setStatus(pointer ? `经度 ${pointer.lng.toFixed(5)}，纬度 ${pointer.lat.toFixed(5)}｜${zoom}` : zoom);
}

async function boot() {
  setStatus('正在加载…');
  try {
    if (getToken()) {
      try {
        state.user = await api('/api/me');
      } catch (err) {
        if (err.status === 401) setToken(null);
        state.user = null;
      }
    }
    showUser();
    let ws = null;
    try {
      ws = await api('/api/workspace');
    } catch (err) {
      if (err.status === 401) return; // the login dialog is open; boot() runs again after login
      state.errors.push(err.message);
    }
    state.workspace = ws;
    document.getElementById('ws-name').textContent = ws ? `${ws.name || ''}${ws.region ? `（${ws.region}）` : ''}` : '';
    if (ws && ws.name) document.title = `${ws.name} · 自然资源一张图`;
    let cat = null;
    try {
      cat = await api('/api/catalog');
    } catch (err) {
      if (err.status === 401) return;
      state.errors.push(err.message);
      toast(err.message, 'error');
    }
    state.datasets = datasetsFromCatalog(cat);
    await loadLegends();
    const b = ws && Array.isArray(ws.bbox) && ws.bbox.length === 4 ? [[ws.bbox[0], ws.bbox[1]], [ws.bbox[2], ws.bbox[3]]] : undefined;
    if (!state.map) {
      state.map = createMap('map', { bounds: b });
      state.map.on('error', (e) => {
        const msg = e && e.error && e.error.message;
        if (msg) console.warn('map error:', msg);
      });
      state.map.on('mousemove', (e) => { pointer = e.lngLat; showPosition(); });
      state.map.on('zoom', showPosition);
      state.map.on('click', (e) => {
        if (state.clickHandler) state.clickHandler(e);
        else identifyPanel.identifyAt(ctx, e.lngLat, e.point);
      });
      state.map.on('dblclick', (e) => {
        if (state.clickHandler && state.dblclickHandler) {
          e.preventDefault();
          state.dblclickHandler(e);
        }
      });
      await new Promise((resolve) => state.map.once('load', resolve));
    } else if (b) {
      state.map.fitBounds(b, { padding: 20, duration: 0 });
    }
    for (const ds of [...state.datasets].reverse()) addDataset(state.map, ds);
    ensureOverlay(state.map);
    for (const mod of Object.values(PANELS)) if (mod.init) mod.init(ctx);
    searchBox.init(ctx);
    measureTool.init(ctx);
    for (const fn of ctx.onMapReady) fn();
    state.ready = true;
    setStatus(state.datasets.length ? `就绪｜缩放 ${state.map.getZoom().toFixed(1)}` : '工作空间中还没有数据');
    readyResolve(true);
    showTab(state.tab);
  } catch (err) {
    console.error(err);
    setStatus(`加载失败：${err.message || err}`);
    toast(`加载失败：${err.message || err}`, 'error');
  }
}

boot();
