// The public page (/public): 群众举报 on a map, receipt status, 公示 with comments, 执法公示.
// Talks only to /api/public/… ; no login, no internet (MapLibre is bundled, no base map tiles).
import * as maplibregl from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import './portal.css';

maplibregl.setWorkerUrl(workerUrl);

const $ = (id) => document.getElementById(id);

function deviceId() {
  let id = localStorage.getItem('onemap_device');
  if (!id) {
    id = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
    localStorage.setItem('onemap_device', id);
  }
  return id;
}

async function call(path, options = {}) {
  const headers = { 'X-Device-Id': deviceId(), ...(options.headers || {}) };
  const resp = await fetch(`/api/public${path}`, { ...options, headers });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.message || `请求失败（${resp.status}）`);
  return body;
}

function esc(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// ---------------------------------------------------------------- tabs
for (const btn of document.querySelectorAll('.pt-tabs button')) {
  btn.addEventListener('click', () => {
    for (const b of document.querySelectorAll('.pt-tabs button')) b.classList.toggle('active', b === btn);
    for (const s of document.querySelectorAll('.pt-tab')) s.hidden = s.id !== `tab-${btn.dataset.tab}`;
    if (btn.dataset.tab === 'notices') loadNotices();
    if (btn.dataset.tab === 'decisions') loadDecisions();
    if (btn.dataset.tab === 'report') map.resize();
  });
}

// ---------------------------------------------------------------- map and place
let place = null;
const map = new maplibregl.Map({
  container: 'pt-map',
  style: { version: 8, sources: {}, layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#e8efe4' } }] },
  center: [106.2, 37.95], zoom: 12, attributionControl: false,
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
const marker = new maplibregl.Marker({ color: '#c0392b' });

function setPlace(lon, lat, how) {
  place = { lon, lat };
  marker.setLngLat([lon, lat]).addTo(map);
  $('pt-where').textContent = `已选位置（${how}）：东经 ${lon.toFixed(5)}°，北纬 ${lat.toFixed(5)}°`;
}
map.on('click', (e) => setPlace(e.lngLat.lng, e.lngLat.lat, '地图'));
$('pt-locate').addEventListener('click', () => {
  if (!navigator.geolocation) { $('pt-where').textContent = '此浏览器不支持定位，请在地图上点击选择位置。'; return; }
  navigator.geolocation.getCurrentPosition(
    (p) => { setPlace(p.coords.longitude, p.coords.latitude, '手机定位'); map.flyTo({ center: [p.coords.longitude, p.coords.latitude], zoom: 16 }); },
    () => { $('pt-where').textContent = '无法取得手机位置，请在地图上点击选择位置。'; },
    { enableHighAccuracy: true, timeout: 10000 });
});

const COLOURS = ['#2e7d32', '#c62828', '#1565c0', '#ef6c00'];
async function loadMap() {
  try {
    const info = await call('/info');
    $('pt-ws').textContent = info.name || '';
    if (info.bbox) map.fitBounds([[info.bbox[0], info.bbox[1]], [info.bbox[2], info.bbox[3]]], { padding: 20, duration: 0 });
    const { layers } = await call('/layers');
    layers.forEach(async (layer, i) => {
      const data = await call(`/layers/${encodeURIComponent(layer.dataset)}`);
      const id = `pub-${layer.dataset}`;
      const add = () => {
        map.addSource(id, { type: 'geojson', data });
        map.addLayer({ id, type: 'line', source: id, paint: { 'line-color': COLOURS[i % COLOURS.length], 'line-width': 2 } });
      };
      if (map.isStyleLoaded()) add(); else map.once('load', add);
    });
  } catch (err) {
    $('pt-where').textContent = err.message;
  }
}
loadMap();

// ---------------------------------------------------------------- 群众举报
$('pt-report-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('pt-report-error').hidden = true;
  $('pt-receipt').hidden = true;
  if (!place && !$('pt-photos').files.length) {
    $('pt-report-error').textContent = '请先在地图上点击选择位置，或使用手机定位（也可附带有 GPS 位置的照片）。';
    $('pt-report-error').hidden = false;
    return;
  }
  const form = new FormData();
  if (place) {
    form.append('lon', String(place.lon));
    form.append('lat', String(place.lat));
  }
  form.append('description', $('pt-desc').value);
  form.append('contact', $('pt-contact').value);
  for (const f of $('pt-photos').files) form.append('photos', f, f.name);
  $('pt-submit').disabled = true;
  try {
    const { receipt } = await call('/reports', { method: 'POST', body: form });
    $('pt-receipt').innerHTML = `举报已提交。回执号：<strong id="pt-receipt-value">${esc(receipt)}</strong><br>请保存回执号，在“进度查询”中查看办理情况。`;
    $('pt-receipt').hidden = false;
    $('pt-receipt-no').value = receipt;
    $('pt-report-form').reset();
  } catch (err) {
    $('pt-report-error').textContent = err.message;
    $('pt-report-error').hidden = false;
  } finally {
    $('pt-submit').disabled = false;
  }
});

// ---------------------------------------------------------------- 进度查询
$('pt-track-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('pt-track-error').hidden = true;
  $('pt-status').hidden = true;
  try {
    const s = await call(`/reports/${encodeURIComponent($('pt-receipt-no').value.trim())}`);
    $('pt-status').innerHTML = `回执号 ${esc(s.receipt)}<br>办理状态：<strong id="pt-status-value">${esc(s.status)}</strong>`
      + (s.answer ? `<br>答复：${esc(s.answer)}` : '');
    $('pt-status').hidden = false;
  } catch (err) {
    $('pt-track-error').textContent = err.message;
    $('pt-track-error').hidden = false;
  }
});

// ---------------------------------------------------------------- 公示 and comments
async function loadNotices() {
  const box = $('pt-notices');
  try {
    const { items } = await call('/notices');
    if (!items.length) { box.innerHTML = '<p class="pt-empty">目前没有正在公示的事项。</p>'; return; }
    box.innerHTML = items.map((i) => `<div class="pt-card"><h3>${esc(i.title)}</h3>
      <div class="pt-meta">${esc(i.kind)} · 公示期 ${esc(i.start_date)} 至 ${esc(i.end_date)}</div>
      <p>${esc(i.description)}</p>${i.summary ? `<p><b>答复汇总：</b>${esc(i.summary)}</p>` : ''}
      ${i.consult ? `<form data-item="${i.id}" class="pt-comment"><label>我的意见<textarea rows="3" maxlength="1000" required></textarea></label>
      <label>联系方式（可选，不会公开）<input maxlength="100"></label><button type="submit">提交意见</button>
      <div class="pt-result" hidden></div></form>` : ''}</div>`).join('');
    for (const form of box.querySelectorAll('form.pt-comment')) {
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const out = form.querySelector('.pt-result');
        try {
          const r = await call(`/notices/${form.dataset.item}/comments`, {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ text: form.querySelector('textarea').value, contact: form.querySelector('input').value }) });
          out.textContent = r.message;
          form.querySelector('textarea').value = '';
        } catch (err) { out.textContent = err.message; }
        out.hidden = false;
      });
    }
  } catch (err) { box.innerHTML = `<p class="pt-error">${esc(err.message)}</p>`; }
}

// ---------------------------------------------------------------- 执法公示
async function loadDecisions() {
  const box = $('pt-decisions');
  try {
    const { decisions } = await call('/decisions');
    box.innerHTML = decisions.length ? decisions.map((d) => `<div class="pt-card"><h3>${esc(d.decision_no)}</h3>
      <div class="pt-meta">${esc(d.date)} · ${esc(d.place)}</div>
      <p><b>违法事实：</b>${esc(d.violation)}</p><p><b>处罚决定：</b>${esc(d.penalty)}</p></div>`).join('')
      : '<p class="pt-empty">暂无公示的处罚决定。</p>';
  } catch (err) { box.innerHTML = `<p class="pt-error">${esc(err.message)}</p>`; }
}
