// The field map: the downloaded vector tiles (DLTB patches, county boundaries), the tasks and the
// phone's own position. No internet basemap: everything comes from the workspace (or, offline,
// from the tiles the service worker keeps).

import * as maplibregl from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';

maplibregl.setWorkerUrl(workerUrl);

export const WORKER_URL = workerUrl;

/**
 * Start MapLibre's worker from a copy kept in Cache Storage: a worker script fetched while the
 * phone is offline does not always reach the service worker, a Blob URL never needs the network.
 */
export async function prepareWorker(cacheName) {
  if (!('caches' in window)) return;
  try {
    const cache = await caches.open(cacheName);
    let resp = await cache.match(workerUrl, { ignoreVary: true });
    if (!resp) {
      resp = await fetch(workerUrl);
      if (!resp.ok) return;
      await cache.put(workerUrl, resp.clone());
    }
    const code = await resp.blob();
    maplibregl.setWorkerUrl(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
  } catch {
    // keep the bundled URL: online it loads as usual
  }
}

const EMPTY = { type: 'FeatureCollection', features: [] };

export function createMap(container, token) {
  const map = new maplibregl.Map({
    container,
    style: {
      version: 8,
      sources: {},
      layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#f4f3ee' } }],
    },
    center: [106.2, 37.95],
    zoom: 12,
    attributionControl: false,
    transformRequest: (url) => (url.includes('/tiles/') && token()
      ? { url, headers: { Authorization: `Bearer ${token()}` } } : { url }),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  const ready = new Promise((resolve) => map.on('load', resolve));
  return { map, ready };
}

/** Add the offline layers (DLTB fill/outline, XZQ outline) from their tile versions. */
export function setLayers(map, layers, maxzoom) {
  // the land cover goes under the tasks and the own position
  const below = ['tasks-fill', 'tasks-line', 'tasks-point', 'me'].find((id) => map.getLayer(id));
  for (const layer of layers) {
    const id = `src-${layer.dataset}`;
    if (map.getSource(id)) continue;
    map.addSource(id, {
      type: 'vector',
      tiles: [`${window.location.origin}/tiles/${layer.version_id}/{z}/{x}/{y}.mvt`],
      minzoom: 0,
      maxzoom,
    });
    if (layer.dataset === 'XZQ') {
      map.addLayer({ id: `${id}-line`, type: 'line', source: id, 'source-layer': layer.dataset,
        paint: { 'line-color': '#7a3e9d', 'line-width': 2, 'line-dasharray': [3, 2] } }, below);
    } else {
      map.addLayer({ id: `${id}-fill`, type: 'fill', source: id, 'source-layer': layer.dataset,
        paint: { 'fill-color': '#cfe3c3', 'fill-opacity': 0.6 } }, below);
      map.addLayer({ id: `${id}-line`, type: 'line', source: id, 'source-layer': layer.dataset,
        paint: { 'line-color': '#6b8f5a', 'line-width': 0.8 } }, below);
    }
  }
}

export function setTasks(map, tasks) {
  const fc = { type: 'FeatureCollection',
    features: tasks.filter((t) => t.geometry).map((t) => ({ type: 'Feature', geometry: t.geometry,
      properties: { id: t.id, kind: t.kind } })) };
  if (!map.getSource('tasks')) {
    map.addSource('tasks', { type: 'geojson', data: fc });
    const below = map.getLayer('me') ? 'me' : undefined; // the own position stays on top
    map.addLayer({ id: 'tasks-fill', type: 'fill', source: 'tasks', filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': '#e4572e', 'fill-opacity': 0.25 } }, below);
    map.addLayer({ id: 'tasks-line', type: 'line', source: 'tasks',
      paint: { 'line-color': '#e4572e', 'line-width': 3 } }, below);
    map.addLayer({ id: 'tasks-point', type: 'circle', source: 'tasks', filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-radius': 9, 'circle-color': '#e4572e', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } }, below);
  } else {
    map.getSource('tasks').setData(fc);
  }
}

export function setPosition(map, pos) {
  const data = pos ? { type: 'FeatureCollection', features: [{ type: 'Feature',
    geometry: { type: 'Point', coordinates: [pos.lon, pos.lat] }, properties: {} }] } : EMPTY;
  if (!map.getSource('me')) {
    map.addSource('me', { type: 'geojson', data });
    map.addLayer({ id: 'me', type: 'circle', source: 'me',
      paint: { 'circle-radius': 8, 'circle-color': '#1e6fd9', 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 } });
  } else {
    map.getSource('me').setData(data);
  }
}

export function fitTo(map, box) {
  map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 40, duration: 0, maxZoom: 17 });
}
