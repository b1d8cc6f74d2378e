// The map: MapLibre GL JS over the workspace's own vector tiles (no internet basemap).
// Each dataset shown uses one vector source (its current version's tiles) and a fill, an outline
// and a highlight layer. DLTB is filled by DLBM with the 三调 colours of domain/data/symbology.json (or the
// server's /api/legend, which reads the same file).

import * as maplibregl from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import COLORS from '../../domain/data/symbology.json';
import { authHeaders } from './api.js';

maplibregl.setWorkerUrl(workerUrl);

export const CJK_FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif';

// Draw order, bottom to top; datasets not listed go between the land cover and the boundaries.
const ORDER = ['DLTB', 'CJDCQ', 'YJJBNTTB', 'STBHHX', 'ZRBHD', 'CZKFBJ', 'XZQ'];
const OVERLAY_PREFIX = 'overlay-';
// The highlight layers filter on the tile feature id (row number + 1, the same id as the OGC API
// items and /api/identify); tiles carry no BSM. -1 matches nothing.
const NO_FEATURE = ['==', ['id'], -1];

export function datasetOrder(name) {
  const i = ORDER.indexOf(name);
  return i >= 0 ? i : ORDER.length - 1.5;
}

export function absoluteTileUrl(tiles) {
  if (/^https?:/i.test(tiles)) return tiles;
  return `${window.location.origin}${tiles.startsWith('/') ? '' : '/'}${tiles}`;
}

export function layerIds(name) {
  return { fill: `ds-${name}-fill`, line: `ds-${name}-line`, hl: `ds-${name}-hl`, source: `src-${name}` };
}

/** The categorical colour table of a dataset: {field, items:[{code,name,color}], default}. */
export function categoricalLegend(ds) {
  if (ds.legend && ds.legend.field && Array.isArray(ds.legend.items) && ds.legend.items.length > 1) {
    return { field: ds.legend.field, items: ds.legend.items, default: ds.legend.default || COLORS.DLTB.default };
  }
  const table = COLORS[ds.name];
  if (table && table.colors) {
    return {
      field: table.field,
      default: table.default,
      items: Object.entries(table.colors).map(([code, color]) => ({ code, name: '', color })),
    };
  }
  return null;
}

/** Fill/line style of a single-colour layer: the server's legend colour (it may be overridden
 * per workspace), with opacity and widths from symbology.json. */
export function fixedStyle(ds) {
  const base = COLORS.layers[ds.name] || COLORS.layers._default;
  const first = ds.legend && Array.isArray(ds.legend.items) && ds.legend.items.length === 1 && ds.legend.items[0];
  if (first && first.color) {
    return { ...base, line: first.color, fill: base.fill === null ? null : first.color };
  }
  return base;
}

function fillColorExpression(ds) {
  const cat = categoricalLegend(ds);
  if (!cat) return fixedStyle(ds).fill || '#000000';
  const expr = ['match', ['to-string', ['get', cat.field]]];
  const seen = new Set();
  for (const it of cat.items) {
    if (!it.code || seen.has(String(it.code))) continue;
    seen.add(String(it.code));
    expr.push(String(it.code), it.color);
  }
  expr.push(cat.default || '#CCCCCC');
  return expr;
}

function firstLayerAbove(map, name) {
  const mine = datasetOrder(name);
  const layers = map.getStyle().layers;
  for (const l of layers) {
    if (l.id.startsWith(OVERLAY_PREFIX)) return l.id;
    const m = /^ds-(.+)-(fill|line|hl)$/.exec(l.id);
    if (m && m[1] !== name && datasetOrder(m[1]) > mine) return l.id;
  }
  return undefined;
}

/** Add (or replace) the source and layers of a dataset's current version. */
export function addDataset(map, ds) {
  removeDataset(map, ds);
  if (!ds.current || !ds.current.tiles) return;
  const ids = layerIds(ds.name);
  map.addSource(ids.source, {
    type: 'vector',
    tiles: [absoluteTileUrl(ds.current.tiles)],
    minzoom: ds.current.minzoom ?? 0,
    maxzoom: ds.current.maxzoom ?? 15,
  });
  const before = firstLayerAbove(map, ds.name);
  const visibility = ds.visible ? 'visible' : 'none';
  const cat = categoricalLegend(ds);
  const fixed = fixedStyle(ds);
  const opacity = ds.opacity ?? 1;
  if (cat || fixed.fill) {
    map.addLayer({
      id: ids.fill,
      type: 'fill',
      source: ids.source,
      'source-layer': ds.name,
      layout: { visibility },
      paint: {
        'fill-color': fillColorExpression(ds),
        'fill-opacity': cat ? opacity * 0.9 : (fixed.fill_opacity ?? 0.25) * opacity,
        'fill-antialias': true,
      },
    }, before);
  }
  map.addLayer({
    id: ids.line,
    type: 'line',
    source: ids.source,
    'source-layer': ds.name,
    layout: { visibility, 'line-join': 'round' },
    paint: cat
      ? {
        'line-color': (COLORS[ds.name] && COLORS[ds.name].outline) || '#7F7F7F',
        'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.1, 14, 0.6, 17, 1.2],
        'line-opacity': opacity * 0.8,
      }
      : { 'line-color': fixed.line || '#333333', 'line-width': fixed.line_width ?? 1.2, 'line-opacity': opacity },
  }, before);
  map.addLayer({
    id: ids.hl,
    type: 'line',
    source: ids.source,
    'source-layer': ds.name,
    layout: { visibility },
    filter: NO_FEATURE,
    paint: { 'line-color': '#00E5FF', 'line-width': 3 },
  }, before);
}

export function removeDataset(map, ds) {
  const ids = layerIds(ds.name);
  for (const id of [ids.hl, ids.line, ids.fill]) if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource(ids.source)) map.removeSource(ids.source);
}

export function setVisible(map, ds, visible) {
  ds.visible = visible;
  const ids = layerIds(ds.name);
  for (const id of [ids.fill, ids.line, ids.hl]) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
  }
}

export function setOpacity(map, ds, opacity) {
  ds.opacity = opacity;
  const ids = layerIds(ds.name);
  const cat = categoricalLegend(ds);
  const fixed = fixedStyle(ds);
  if (map.getLayer(ids.fill)) {
    map.setPaintProperty(ids.fill, 'fill-opacity', cat ? opacity * 0.9 : (fixed.fill_opacity ?? 0.25) * opacity);
  }
  if (map.getLayer(ids.line)) map.setPaintProperty(ids.line, 'line-opacity', cat ? opacity * 0.8 : opacity);
}

/** Outline one feature of a dataset by its feature id (tile id = OGC item id); null clears. */
export function highlight(map, dsName, fid) {
  const ids = layerIds(dsName);
  for (const l of map.getStyle().layers) {
    if (/^ds-.+-hl$/.test(l.id)) map.setFilter(l.id, NO_FEATURE);
  }
  if (fid !== null && fid !== undefined && map.getLayer(ids.hl)) {
    map.setFilter(ids.hl, ['==', ['id'], Number(fid)]);
  }
}

/** Outline several features of one dataset by feature id (the attribute table's selection). */
export function highlightMany(map, dsName, fids) {
  const ids = layerIds(dsName);
  for (const l of map.getStyle().layers) {
    if (/^ds-.+-hl$/.test(l.id)) map.setFilter(l.id, NO_FEATURE);
  }
  if (fids.length && map.getLayer(ids.hl)) {
    map.setFilter(ids.hl, ['in', ['id'], ['literal', fids.map(Number)]]);
  }
}

export function baseStyle() {
  return {
    version: 8,
    name: 'OneMap',
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#F4F3EE' } }],
  };
}

export function createMap(container, { bounds, interactive = true } = {}) {
  const map = new maplibregl.Map({
    container,
    style: baseStyle(),
    bounds: bounds || [[105.0, 36.5], [107.7, 38.3]],
    fitBoundsOptions: { padding: 20 },
    interactive,
    localIdeographFontFamily: CJK_FONTS,
    canvasContextAttributes: { preserveDrawingBuffer: true, antialias: true },
    attributionControl: interactive ? { compact: true, customAttribution: '数据：本工作空间（CGCS2000 入库，Web 墨卡托显示）' } : false,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    maxPitch: 0,
    fadeDuration: 0,
    transformRequest: (url) => {
      if (url.startsWith(window.location.origin)) return { url, headers: authHeaders() };
      return { url };
    },
  });
  if (interactive) {
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  }
  return map;
}

/** Overlay layers (drawn site, check result) always stay above the datasets. */
export function ensureOverlay(map) {
  if (map.getSource('overlay')) return;
  map.addSource('overlay', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: `${OVERLAY_PREFIX}fill`, type: 'fill', source: 'overlay', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#FF3B30', 'fill-opacity': 0.2 } });
  map.addLayer({ id: `${OVERLAY_PREFIX}line`, type: 'line', source: 'overlay', paint: { 'line-color': '#FF3B30', 'line-width': 2.5, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: `${OVERLAY_PREFIX}point`, type: 'circle', source: 'overlay', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 4, 'circle-color': '#FFFFFF', 'circle-stroke-color': '#FF3B30', 'circle-stroke-width': 2 } });
}

const HIGHLIGHT_LAYERS = [`${OVERLAY_PREFIX}hl-line`, `${OVERLAY_PREFIX}hl-point`];
const OVERLAY_LAYERS = [`${OVERLAY_PREFIX}fill`, `${OVERLAY_PREFIX}line`, `${OVERLAY_PREFIX}point`, ...HIGHLIGHT_LAYERS];

/**
 * Outline some features above the overlay (a selected row of the 台账 panel): they belong to
 * the overlay's panel and show and hide with it.
 */
export function setHighlight(map, features) {
  ensureOverlay(map);
  if (!map.getSource('overlay-hl')) {
    map.addSource('overlay-hl', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: HIGHLIGHT_LAYERS[0], type: 'line', source: 'overlay-hl', paint: { 'line-color': '#00B3FF', 'line-width': 4 } });
    map.addLayer({ id: HIGHLIGHT_LAYERS[1], type: 'circle', source: 'overlay-hl', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 8, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#00B3FF', 'circle-stroke-width': 3 } });
  }
  map.__highlightFeatures = features;
  map.getSource('overlay-hl').setData({ type: 'FeatureCollection', features });
}

/**
 * Show features in the overlay (drawn site, check result, change markers). ``owner`` is the panel
 * (tab) they belong to: the overlay shows while that panel is open (and in the export of the map,
 * with ``legend`` as its legend entry), and is hidden in the other panels.
 */
export function setOverlay(map, features, { owner = null, legend = null } = {}) {
  ensureOverlay(map);
  map.__overlayFeatures = features;
  map.__overlayOwner = owner;
  map.__overlayLegend = legend;
  map.getSource('overlay').setData({ type: 'FeatureCollection', features });
  setOverlayVisible(map, true);
}

function setOverlayVisible(map, visible) {
  for (const id of OVERLAY_LAYERS) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
  }
}

/** On opening a panel: the overlay shows only in its own panel (the export panel keeps it as is). */
export function overlayForPanel(map, tab) {
  if (!map || !map.getSource('overlay') || tab === 'export') return;
  setOverlayVisible(map, !map.__overlayOwner || map.__overlayOwner === tab);
}

/** The overlay's legend entry when it is on the map: {fill, line, text}, else null. */
export function overlayLegend(map) {
  const feats = map.__overlayFeatures || [];
  const id = `${OVERLAY_PREFIX}line`;
  if (!feats.length || !map.__overlayLegend || !map.getLayer(id)) return null;
  if (map.getLayoutProperty(id, 'visibility') === 'none') return null;
  return { fill: '#FFFFFF', line: '#FF3B30', text: map.__overlayLegend };
}

/** [[minx,miny],[maxx,maxy]] of GeoJSON geometries. */
export function geojsonBounds(features) {
  let minx = Infinity; let miny = Infinity; let maxx = -Infinity; let maxy = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      minx = Math.min(minx, c[0]); maxx = Math.max(maxx, c[0]);
      miny = Math.min(miny, c[1]); maxy = Math.max(maxy, c[1]);
    } else c.forEach(walk);
  };
  for (const f of features) if (f && f.geometry) walk(f.geometry.coordinates);
  return Number.isFinite(minx) ? [[minx, miny], [maxx, maxy]] : null;
}

export { maplibregl };
