// 属性表 panel: the features of a layer in the current view (OGC API items with bbox and the
// queryables as field filters), sorted by any column; selected rows are outlined on the map; the
// selection exports as XLSX, GeoPackage or a zipped Shapefile (GBK for older tools).

import { api, saveBlob } from '../api.js';
import { highlightMany } from '../mapview.js';
import { busy, h, message, toast } from '../ui.js';

const LIMIT = 1000;
let rows = []; // [{id, properties}]
let fields = [];
let sort = { field: null, desc: false };
let selected = new Set();
let current = null; // the dataset shown

function q(id) { return document.getElementById(id); }

function datasets(ctx) {
  return ctx.state.datasets.filter((d) => d.current && d.current.layer);
}

async function loadFields(ds) {
  const doc = await api(`/ogc/collections/${encodeURIComponent(ds.current.layer)}/queryables`);
  return Object.keys((doc && doc.properties) || {});
}

function bboxOfView(map) {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(7)).join(',');
}

async function load(ctx) {
  const ds = ctx.datasetByName(q('table-dataset').value);
  const out = q('table-result');
  if (!ds) return;
  current = ds;
  selected = new Set();
  highlightMany(ctx.map, ds.name, []);
  out.replaceChildren(message('正在读取要素…'));
  try {
    if (!fields.length || q('table-field').dataset.dataset !== ds.name) {
      fields = await loadFields(ds);
      const sel = q('table-field');
      sel.dataset.dataset = ds.name;
      sel.replaceChildren(h('option', { value: '' }, '（不过滤）'), ...fields.map((f) => h('option', { value: f }, f)));
    }
    const query = { limit: LIMIT };
    if (q('table-in-view').checked) query.bbox = bboxOfView(ctx.map);
    const field = q('table-field').value;
    const value = q('table-value').value.trim();
    if (field && value) query[field] = value;
    const fc = await api(`/ogc/collections/${encodeURIComponent(ds.current.layer)}/items`, { query });
    rows = (fc.features || []).map((f) => ({ id: f.id, properties: f.properties || {} }));
    render(ctx, fc.numberMatched);
  } catch (err) {
    out.replaceChildren(message(err.message, err.notAvailable ? 'warn' : 'error'));
  }
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'zh-CN', { numeric: true });
}

function sorted() {
  if (!sort.field) return rows;
  const f = sort.field;
  const out = [...rows].sort((x, y) => compare(x.properties[f], y.properties[f]));
  return sort.desc ? out.reverse() : out;
}

function showSelection(ctx) {
  highlightMany(ctx.map, current.name, [...selected]);
  q('table-selected').textContent = `已选 ${selected.size} 个`;
  for (const b of document.querySelectorAll('.table-export')) b.disabled = selected.size === 0;
}

function render(ctx, matched) {
  const out = q('table-result');
  const cols = fields.length ? fields : [...new Set(rows.flatMap((r) => Object.keys(r.properties)))];
  const head = h('tr', {}, h('th', {}, ''), cols.map((c) => {
    const th = h('th', { class: 'sortable', 'data-field': c }, c, sort.field === c ? (sort.desc ? ' ▼' : ' ▲') : '');
    th.addEventListener('click', () => {
      sort = { field: c, desc: sort.field === c ? !sort.desc : false };
      render(ctx, matched);
    });
    return th;
  }));
  const body = sorted().map((r) => {
    const box = h('input', { type: 'checkbox', class: 'row-select', checked: selected.has(r.id) });
    const tr = h('tr', { 'data-fid': r.id, class: selected.has(r.id) ? 'selected' : '' }, h('td', {}, box),
      cols.map((c) => h('td', typeof r.properties[c] === 'number' ? { class: 'num' } : {}, r.properties[c] ?? '')));
    const toggle = () => {
      if (selected.has(r.id)) selected.delete(r.id); else selected.add(r.id);
      tr.classList.toggle('selected', selected.has(r.id));
      box.checked = selected.has(r.id);
      showSelection(ctx);
    };
    tr.addEventListener('click', (e) => { if (e.target !== box) toggle(); });
    box.addEventListener('change', toggle);
    return tr;
  });
  const total = matched ?? rows.length;
  out.replaceChildren(
    h('p', { class: 'note', id: 'table-count', 'data-count': rows.length }, `共 ${total} 个要素${total > rows.length ? `，显示前 ${rows.length} 个` : ''}；点击行选中并在地图上高亮，点击列名排序`),
    h('div', { class: 'table-scroll' }, h('table', { class: 'data attr-table', id: 'attr-table' }, h('thead', {}, head), h('tbody', {}, body))));
  showSelection(ctx);
}

async function exportSelection(ctx, fmt, btn) {
  if (!current || !selected.size) return;
  busy(btn, true);
  try {
    const encoding = q('table-encoding').value;
    const resp = await api('/api/export', { method: 'POST', json: { collection: current.current.layer, ids: [...selected], format: fmt, encoding }, as: 'response' });
    const blob = await resp.blob();
    const name = `${current.current.layer}${fmt === 'shp' ? '_shp.zip' : `.${fmt}`}`;
    saveBlob(blob, name);
    toast(`已导出 ${selected.size} 个要素：${name}`, 'ok');
  } catch (err) {
    toast(err.message, 'error');
  } finally {
    busy(btn, false);
  }
}

export function init(ctx) {
  const panel = document.getElementById('panel-table');
  if (panel.dataset.ready) return;
  panel.dataset.ready = '1';
  const dsSel = h('select', { id: 'table-dataset' }, datasets(ctx).map((d) => h('option', { value: d.name }, `${d.title}（${d.current.layer}）`)));
  const inView = h('input', { type: 'checkbox', id: 'table-in-view', checked: true });
  const fieldSel = h('select', { id: 'table-field' }, h('option', { value: '' }, '（不过滤）'));
  const valueIn = h('input', { id: 'table-value', placeholder: '属性值（完全相等）' });
  const loadBtn = h('button', { type: 'button', id: 'table-load', class: 'primary' }, '读取');
  const enc = h('select', { id: 'table-encoding' }, h('option', { value: 'UTF-8' }, 'UTF-8'), h('option', { value: 'GBK' }, 'GBK（旧版软件）'));
  const exports = [['xlsx', '导出 XLSX'], ['gpkg', '导出 GeoPackage'], ['shp', '导出 Shapefile（zip）']].map(([fmt, label]) => {
    const b = h('button', { type: 'button', class: 'table-export', id: `table-export-${fmt}`, disabled: true }, label);
    b.addEventListener('click', () => exportSelection(ctx, fmt, b));
    return b;
  });
  loadBtn.addEventListener('click', () => load(ctx));
  dsSel.addEventListener('change', () => { fields = []; load(ctx); });
  valueIn.addEventListener('keydown', (e) => { if (e.key === 'Enter') load(ctx); });
  panel.replaceChildren(
    h('h3', {}, '属性表'),
    h('div', { class: 'form-grid' },
      h('label', { for: 'table-dataset' }, '图层'), dsSel,
      h('label', { for: 'table-field' }, '按字段过滤'), h('div', { class: 'inline' }, fieldSel, valueIn),
      h('label', { for: 'table-in-view' }, '范围'), h('label', {}, inView, '仅当前地图视图')),
    h('div', { class: 'actions' }, loadBtn, h('span', { id: 'table-selected', class: 'note' }, '')),
    h('div', { class: 'actions' }, exports, h('label', { class: 'note' }, 'Shapefile 编码 ', enc)),
    h('div', { id: 'table-result' }));
}

export function onShow(ctx) {
  if (!current && q('table-dataset').value) load(ctx);
}
