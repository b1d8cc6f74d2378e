// 外业举证 of a case in the workbench: the photos the field app sent (/api/cases/{id} →
// field_evidence) as points on the map with a short line in each photo's view direction, and a
// list with time, accuracy, officer, the flags of the evidence rules and links to the original
// and the watermarked copy.

import { api } from '../api.js';
import { geojsonBounds, setOverlay } from '../mapview.js';
import { h, message } from '../ui.js';

const VIEW_LINE_M = 40; // length of the drawn view direction, metres (display only)

function ahead(lon, lat, headingDeg, metres) {
  const r = 6371008.8;
  const b = (headingDeg * Math.PI) / 180;
  const dLat = (metres * Math.cos(b)) / r;
  const dLon = (metres * Math.sin(b)) / (r * Math.cos((lat * Math.PI) / 180));
  return [lon + (dLon * 180) / Math.PI, lat + (dLat * 180) / Math.PI];
}

/** Features of the photos: a point each, and the view direction where the phone gave one. */
export function evidenceFeatures(items) {
  const out = [];
  for (const e of items) {
    out.push({ type: 'Feature', properties: { id: e.id, name: e.name }, geometry: { type: 'Point', coordinates: [e.lon, e.lat] } });
    if (typeof e.heading === 'number') {
      out.push({ type: 'Feature', properties: { id: e.id, kind: 'view' },
        geometry: { type: 'LineString', coordinates: [[e.lon, e.lat], ahead(e.lon, e.lat, e.heading, VIEW_LINE_M)] } });
    }
  }
  return out;
}

export async function showFieldEvidence(ctx, c, target) {
  target.replaceChildren(message('正在读取外业举证…'));
  let detail;
  try {
    detail = await api(`/api/cases/${c.id}`);
  } catch (err) {
    target.replaceChildren(message(err.message, 'error'));
    return;
  }
  const items = detail.field_evidence || [];
  if (!items.length) {
    target.replaceChildren(message(`案件 ${detail.case_no} 还没有外业照片。`, 'info'));
    return;
  }
  const feats = evidenceFeatures(items);
  if (c.geometry) feats.unshift({ type: 'Feature', properties: {}, geometry: c.geometry });
  setOverlay(ctx.map, feats, { owner: 'cases', legend: `案件 ${detail.case_no} 外业照片` });
  const b = geojsonBounds(feats);
  if (b) ctx.map.fitBounds(b, { padding: 80, maxZoom: 18, duration: 0 });
  target.replaceChildren(
    h('h4', {}, `案件 ${detail.case_no} 外业照片（${items.length} 张）`),
    h('table', { class: 'data', id: 'field-evidence-table' },
      h('thead', {}, h('tr', {}, ['照片', '拍摄时间', '位置', '精度', '方向', '核查人', '提示'].map((t) => h('th', {}, t)))),
      h('tbody', {}, items.map((e) => h('tr', { 'data-evidence': e.id },
        h('td', {}, h('a', { href: e.watermarked_url, target: '_blank' }, e.name), ' ',
          h('a', { href: e.photo_url, target: '_blank', class: 'note' }, '原图')),
        h('td', {}, String(e.taken_at).slice(0, 19).replace('T', ' ')),
        h('td', {}, `${e.lon.toFixed(6)}, ${e.lat.toFixed(6)}`),
        h('td', {}, `${e.accuracy_m} 米`),
        h('td', {}, typeof e.heading === 'number' ? `${Math.round(e.heading)}°` : '—'),
        h('td', {}, e.officer),
        h('td', { class: e.flags.length ? 'bad' : '' }, e.flags.length ? e.flags.map((f) => f.rule).join('、') : '无'))))));
}
