// 测量: distance and area on the map. The figures come from POST /api/measure, i.e. the
// official CGCS2000 ellipsoidal area of the statistics (onemap.geo.area) and geodesic lengths,
// in 米/平方米, 公顷 and 亩. Click to add points; double-click or 完成 ends; Esc clears.

import { api } from './api.js';
import { fmtNumber, h, message } from './ui.js';

const SOURCE = 'measure';
let mode = null; // 'line' | 'area'
let points = [];
let last = null; // the last measurement
let seq = 0;

function q(id) { return document.getElementById(id); }

function geometry() {
  if (mode === 'area' && points.length >= 3) return { type: 'Polygon', coordinates: [[...points, points[0]]] };
  if (points.length >= 2) return { type: 'LineString', coordinates: points };
  return null;
}

function draw(map) {
  if (!map.getSource(SOURCE)) {
    map.addSource(SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: `${SOURCE}-fill`, type: 'fill', source: SOURCE, filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#FFB300', 'fill-opacity': 0.25 } });
    map.addLayer({ id: `${SOURCE}-line`, type: 'line', source: SOURCE, paint: { 'line-color': '#E65100', 'line-width': 2 } });
    map.addLayer({ id: `${SOURCE}-point`, type: 'circle', source: SOURCE, filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 3.5, 'circle-color': '#FFFFFF', 'circle-stroke-color': '#E65100', 'circle-stroke-width': 2 } });
  }
  const g = geometry();
  const feats = points.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } }));
  if (g) feats.unshift({ type: 'Feature', properties: {}, geometry: g });
  map.getSource(SOURCE).setData({ type: 'FeatureCollection', features: feats });
}

function showResult(res) {
  const out = q('measure-result');
  out.hidden = false;
  if (!res) {
    out.replaceChildren(message(mode === 'area' ? '单击地图添加面的拐点（至少 3 个），双击结束' : '单击地图添加折线的点（至少 2 个），双击结束', 'info'));
    return;
  }
  const rows = [h('div', { id: 'measure-length', 'data-length-m': res.length_m }, `${res.type === 'Polygon' ? '周长' : '长度'}：${fmtNumber(res.length_m, 2)} 米`)];
  if (res.type === 'Polygon') {
    rows.push(h('div', { id: 'measure-area', 'data-area-m2': res.area_m2, 'data-area-ha': res.area_ha, 'data-area-mu': res.area_mu },
      `面积：${fmtNumber(res.area_m2, 2)} 平方米｜${fmtNumber(res.area_ha, 4)} 公顷｜${fmtNumber(res.area_mu, 2)} 亩`));
  }
  rows.push(h('p', { class: 'note' }, '椭球面积（CGCS2000），与统计汇总同一公式'));
  out.replaceChildren(...rows);
}

async function update(map) {
  draw(map);
  const g = geometry();
  if (!g) { showResult(null); return; }
  const my = ++seq;
  try {
    const res = await api('/api/measure', { method: 'POST', json: g });
    if (my !== seq) return;
    last = res;
    showResult(res);
  } catch (err) {
    if (my === seq) q('measure-result').replaceChildren(message(err.message, 'error'));
  }
}

function stop(ctx) {
  if (!mode) return;
  ctx.state.clickHandler = null;
  ctx.state.dblclickHandler = null;
  ctx.map.getCanvas().style.cursor = '';
  setTimeout(() => ctx.map.doubleClickZoom.enable(), 300);
  for (const b of document.querySelectorAll('#map-tools button[data-measure]')) b.classList.remove('active');
  mode = null;
}

function start(ctx, kind) {
  stop(ctx);
  mode = kind;
  points = [];
  last = null;
  q(`measure-${kind}-tool`).classList.add('active');
  ctx.map.doubleClickZoom.disable();
  ctx.map.getCanvas().style.cursor = 'crosshair';
  ctx.state.clickHandler = (e) => {
    const p = [Number(e.lngLat.lng.toFixed(7)), Number(e.lngLat.lat.toFixed(7))];
    const prev = points[points.length - 1];
    if (!prev || prev[0] !== p[0] || prev[1] !== p[1]) points.push(p);
    update(ctx.map);
  };
  ctx.state.dblclickHandler = () => stop(ctx); // the result of the points so far stays
  update(ctx.map);
}

function clear(ctx) {
  stop(ctx);
  points = [];
  last = null;
  if (ctx.map.getSource(SOURCE)) ctx.map.getSource(SOURCE).setData({ type: 'FeatureCollection', features: [] });
  q('measure-result').hidden = true;
}

export function init(ctx) {
  const tools = q('map-tools');
  if (tools.dataset.ready) return;
  tools.dataset.ready = '1';
  const line = h('button', { type: 'button', id: 'measure-line-tool', 'data-measure': 'line', title: '测量距离' }, '测距');
  const area = h('button', { type: 'button', id: 'measure-area-tool', 'data-measure': 'area', title: '测量面积' }, '测面');
  const clr = h('button', { type: 'button', id: 'measure-clear', title: '清除测量' }, '清除');
  line.addEventListener('click', () => start(ctx, 'line'));
  area.addEventListener('click', () => start(ctx, 'area'));
  clr.addEventListener('click', () => clear(ctx));
  tools.replaceChildren(line, area, clr, h('div', { id: 'measure-result', hidden: true }));
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && mode) clear(ctx); });
  window.__onemap.measure = {
    get points() { return points; },
    get result() { return last; },
  };
}
