// 查询 panel: click the map → /api/identify → the features under the point, outlined on the map.

import { api } from '../api.js';
import { datasetOrder, highlight, layerIds, maplibregl } from '../mapview.js';
import { h, message, fmtArea } from '../ui.js';

let seq = 0;
let marker = null;

function panel() {
  return document.getElementById('panel-identify');
}

export function init() {
  const p = panel();
  if (!p.dataset.ready) {
    p.replaceChildren(h('h3', {}, '要素查询'), h('div', { id: 'identify-result' }, message('在地图上点击任一位置，查询该处各可见图层的要素属性。')));
    p.dataset.ready = '1';
  }
}

function datasetOfCollection(ctx, collection) {
  return ctx.state.datasets.find((d) => d.current && (d.current.layer === collection || String(d.current.id) === String(collection)))
    || ctx.state.datasets.find((d) => String(collection).startsWith(`${d.name}_`) || collection === d.name);
}

function featureCard(ctx, f, fromTiles) {
  const ds = datasetOfCollection(ctx, f.collection);
  const props = f.properties || {};
  const title = ds ? `${ds.title}（${f.collection}）` : f.collection;
  const head = [];
  if (props.DLBM !== undefined) head.push(h('div', { class: 'dl', 'data-dlbm': props.DLBM }, h('b', {}, '地类：'), `${props.DLBM} ${props.DLMC || ''}`));
  if (props.XZQMC) head.push(h('div', {}, h('b', {}, '行政区：'), `${props.XZQMC}（${props.XZQDM || ''}）`));
  if (f.area_m2 !== undefined && f.area_m2 !== null) head.push(h('div', {}, h('b', {}, '椭球面积：'), fmtArea(f.area_m2)));
  return h('div', { class: 'feature-card', 'data-collection': f.collection },
    h('h4', {}, title), ...head,
    fromTiles ? h('p', { class: 'note' }, '（属性来自地图瓦片；查询服务不可用，未计算面积）') : null,
    attributeTable(ds, props));
}

const dictionaries = new Map();

/** The field dictionary of a dataset (/api/fields: Chinese titles and code lists), cached. */
export function fieldDictionary(name) {
  if (!dictionaries.has(name)) {
    const entry = { value: null };
    entry.promise = api(`/api/fields/${encodeURIComponent(name)}`)
      .catch(() => ({ fields: {} }))
      .then((d) => { entry.value = d; return d; });
    dictionaries.set(name, entry);
  }
  return dictionaries.get(name).promise;
}

function knownDictionary(ds) {
  const entry = ds && dictionaries.get(ds.name);
  return (entry && entry.value) || { fields: {} };
}

/** Attributes as 字段（中文名） → value（代码 名称）, with code names from the domain code lists. */
function attributeTable(ds, props) {
  const dict = knownDictionary(ds).fields || {};
  const rows = Object.keys(props).filter((k) => props[k] === null || typeof props[k] !== 'object').map((k) => {
    const f = dict[k];
    const v = props[k];
    const name = f && f.codes && v !== null && v !== undefined ? f.codes[String(v)] : undefined;
    return h('tr', { 'data-field': k },
      h('th', {}, f ? `${f.title}（${k}）` : k),
      h('td', {}, v === null || v === undefined || v === '' ? '—' : (name ? `${v} ${name}` : String(v))));
  });
  return h('table', { class: 'kv attrs' }, h('tbody', {}, rows));
}

/** Query the features at a point (called by the map's click handler). */
export async function identifyAt(ctx, lngLat, point) {
  const my = ++seq;
  const out = document.getElementById('identify-result');
  if (ctx.state.tab !== 'identify') ctx.showTab('identify');
  out.replaceChildren(message(`正在查询 经度 ${lngLat.lng.toFixed(6)}，纬度 ${lngLat.lat.toFixed(6)} …`));
  const layers = ctx.visibleCollections();
  let features = null;
  let fromTiles = false;
  let apiError = null;
  try {
    const res = await api('/api/identify', { query: { lon: lngLat.lng.toFixed(7), lat: lngLat.lat.toFixed(7), layers: layers.join(',') } });
    features = (res && res.features) || [];
  } catch (err) {
    apiError = err;
    // Fall back to what the map has drawn, so the panel still helps while the service is down.
    const ids = ctx.state.datasets.filter((d) => d.visible).map((d) => layerIds(d.name).fill).filter((id) => ctx.map.getLayer(id));
    const rendered = point ? ctx.map.queryRenderedFeatures(point, { layers: ids }) : [];
    features = rendered.map((rf) => {
      const ds = ctx.state.datasets.find((d) => layerIds(d.name).fill === rf.layer.id);
      return { collection: ds ? (ds.current.layer || ds.name) : rf.sourceLayer, properties: rf.properties };
    });
    fromTiles = true;
  }
  if (my !== seq) return;
  // land cover first, then the other layers from the bottom of the map up
  const rank = (f) => { const ds = datasetOfCollection(ctx, f.collection); return ds ? datasetOrder(ds.name) : 99; };
  features = [...features].sort((a, b) => rank(a) - rank(b));
  if (!marker) {
    const el = document.createElement('div');
    el.className = 'identify-marker';
    marker = new maplibregl.Marker({ element: el });
  }
  marker.setLngLat(lngLat).addTo(ctx.map);
  const hl = features.find((f) => f.id !== undefined && f.id !== null && datasetOfCollection(ctx, f.collection));
  const hlDs = hl && datasetOfCollection(ctx, hl.collection);
  highlight(ctx.map, hlDs ? hlDs.name : null, hl ? hl.id : null);
  await Promise.all(features.map((f) => datasetOfCollection(ctx, f.collection)).filter(Boolean)
    .map((ds) => fieldDictionary(ds.name)));
  if (my !== seq) return;
  const children = [h('p', { class: 'note' }, `位置：经度 ${lngLat.lng.toFixed(6)}，纬度 ${lngLat.lat.toFixed(6)}`)];
  if (apiError) children.push(message(`查询服务：${apiError.message}`, apiError.notAvailable ? 'warn' : 'error'));
  if (!features.length) children.push(message('该位置没有可见图层的要素。', 'info'));
  children.push(...features.map((f) => featureCard(ctx, f, fromTiles)));
  out.replaceChildren(...children);
}
