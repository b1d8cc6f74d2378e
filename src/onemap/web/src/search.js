// 搜索定位: one box in the top bar → /api/search (place names, 图斑 BSM/TBBH, case numbers,
// typed coordinates) → a result list; choosing a hit flies the map there and outlines the hit
// (its geometry from the OGC API, drawn at every zoom) or marks the point.

import { api } from './api.js';
import { maplibregl } from './mapview.js';
import { h, message } from './ui.js';

const SOURCE = 'search-hit';
let marker = null;
let seq = 0;

function ensureLayer(map) {
  if (map.getSource(SOURCE)) return;
  map.addSource(SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: `${SOURCE}-line`, type: 'line', source: SOURCE, paint: { 'line-color': '#00E5FF', 'line-width': 3.5 } });
}

function showGeometry(map, features) {
  ensureLayer(map);
  map.getSource(SOURCE).setData({ type: 'FeatureCollection', features });
}

/** Fly to a hit and outline it (a feature) or mark it (a point). */
export async function locate(ctx, hit) {
  const map = ctx.map;
  const [minx, miny, maxx, maxy] = hit.bbox;
  if (marker) marker.remove();
  showGeometry(map, []);
  if (minx === maxx && miny === maxy) {
    if (!marker) {
      const el = document.createElement('div');
      el.className = 'search-marker';
      marker = new maplibregl.Marker({ element: el });
    }
    marker.setLngLat([minx, miny]).addTo(map);
    map.flyTo({ center: [minx, miny], zoom: Math.max(map.getZoom(), 16), duration: 600 });
  } else {
    map.fitBounds([[minx, miny], [maxx, maxy]], { padding: 60, maxZoom: 17, duration: 600 });
  }
  if (hit.collection && hit.fid) {
    try {
      const f = await api(`/ogc/collections/${encodeURIComponent(hit.collection)}/items/${encodeURIComponent(hit.fid)}`);
      showGeometry(map, [{ type: 'Feature', id: hit.fid, properties: { title: hit.title }, geometry: f.geometry }]);
    } catch (err) {
      console.warn('search: no geometry for', hit.id, err.message);
    }
  }
}

async function run(ctx, text) {
  const out = document.getElementById('search-results');
  const my = ++seq;
  out.hidden = false;
  out.replaceChildren(message('正在搜索…'));
  let res;
  try {
    res = await api('/api/search', { query: { q: text } });
  } catch (err) {
    if (my === seq) out.replaceChildren(message(err.message, err.notAvailable ? 'warn' : 'error'));
    return;
  }
  if (my !== seq) return;
  const hits = (res && res.results) || [];
  if (!hits.length) {
    out.replaceChildren(message(`没有找到“${text}”。可输入地名、行政区代码、图斑标识码/编号、案件编号，或坐标（经纬度、度分秒、高斯-克吕格 X Y）。`, 'info'));
    return;
  }
  out.replaceChildren(h('ul', {}, hits.map((hit, i) => {
    const li = h('li', { class: 'search-hit', 'data-kind': hit.kind, 'data-id': hit.id, tabindex: 0 },
      h('span', { class: 'kind' }, hit.kind_title || hit.kind), h('span', {}, hit.title));
    const go = () => {
      for (const x of out.querySelectorAll('.search-hit')) x.classList.toggle('active', x === li);
      locate(ctx, hit);
    };
    li.addEventListener('click', go);
    li.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
    if (i === 0 && hits.length === 1) setTimeout(go, 0);
    return li;
  })));
}

export function init(ctx) {
  const input = document.getElementById('search-input');
  const box = document.getElementById('search-box');
  if (box.dataset.ready) return;
  box.dataset.ready = '1';
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && input.value.trim()) run(ctx, input.value.trim());
    if (e.key === 'Escape') document.getElementById('search-results').hidden = true;
  });
  document.getElementById('search-go').addEventListener('click', () => {
    if (input.value.trim()) run(ctx, input.value.trim());
  });
  window.__onemap.search = { run: (text) => run(ctx, text), locate: (hit) => locate(ctx, hit) };
}
