// Service worker of the field app (/field/): the app shell and the downloaded map tiles come from
// Cache Storage when the phone is offline. The page itself fills the caches (shell after the first
// load, tiles on 下载离线地图); this worker only answers from them.
const SHELL = 'onemap-field-shell';
const TILES = 'onemap-field-tiles';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(['./', './manifest.webmanifest', './icon.svg'])));
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

async function cacheFirst(request, name) {
  const cache = await caches.open(name);
  const hit = await cache.match(request, { ignoreVary: true });
  if (hit) return hit;
  const resp = await fetch(request);
  if (resp.ok) cache.put(request, resp.clone());
  return resp;
}

const EMPTY_TILE = () => new Response(new Uint8Array(0),
  { status: 200, headers: { 'Content-Type': 'application/vnd.mapbox-vector-tile' } });

function within(promise, ms) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), ms))]);
}

// A tile: the downloaded copy; else the network when there is one (8 s at most); else an empty
// tile, so the map outside the downloaded area is blank instead of waiting forever.
async function tile(request) {
  const cache = await caches.open(TILES);
  const hit = await cache.match(request, { ignoreVary: true, ignoreSearch: true });
  if (hit) return hit;
  if (!self.navigator.onLine) return EMPTY_TILE();
  try {
    return await within(fetch(request), 8000);
  } catch {
    return EMPTY_TILE();
  }
}

async function networkFirst(request) {
  const cache = await caches.open(SHELL);
  try {
    const resp = await fetch(request);
    if (resp.ok) cache.put(request, resp.clone());
    return resp;
  } catch (err) {
    const hit = await cache.match(request, { ignoreVary: true, ignoreSearch: true })
      || await cache.match('./', { ignoreVary: true });
    if (hit) return hit;
    throw err;
  }
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/tiles/')) {
    event.respondWith(tile(req));
  } else if (url.pathname.startsWith('/assets/')) {
    event.respondWith(cacheFirst(req, SHELL));
  } else if (req.mode === 'navigate' || url.pathname.startsWith('/field/')) {
    event.respondWith(networkFirst(req));
  }
});
