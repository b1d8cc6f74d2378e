// 合规检查 panel: draw a site on the map (click the corners) or upload a file, POST /api/check,
// show the result as tables and offer the DOCX report.

import { api, download } from '../api.js';
import { geojsonBounds, setOverlay } from '../mapview.js';
import { busy, fmtArea, h, message, renderObject, table, toast, fill } from '../ui.js';

// Intended uses (拟用途) and project flags of the shipped rule file (control/data/rules.yaml);
// free text is allowed too, so a bureau's own rule file works without a new build.
const USES = ['城镇建设', '工业', '商业', '住宅', '交通', '水利', '能源', '军事', '农业设施', '乡村建设', '其他'];
const FLAGS = ['国家重大项目', '已落实占补平衡', '已落实水田补充', '已开展地灾评估'];

let site = null; // GeoJSON Feature of the site to check
let file = null; // or an uploaded file
let drawing = null; // {points: [[lng,lat],...]}
let lastResult = null;

function q(id) { return document.getElementById(id); }

function siteName() {
  const el = q('check-name');
  return (el && el.value.trim()) || '';
}

function siteFeature(points) {
  const ring = [...points, points[0]];
  return { type: 'Feature', properties: { name: siteName() || '绘制地块' }, geometry: { type: 'Polygon', coordinates: [ring] } };
}

function showDrawing(ctx) {
  const pts = drawing ? drawing.points : [];
  const feats = pts.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } }));
  if (pts.length >= 3) feats.unshift(siteFeature(pts));
  else if (pts.length === 2) feats.unshift({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: pts } });
  if (!drawing && site) feats.unshift(site);
  setOverlay(ctx.map, feats, { owner: 'check', legend: '审查地块' });
}

function setHint(text) {
  const el = q('draw-hint');
  el.hidden = !text;
  el.textContent = text || '';
}

function startDraw(ctx) {
  file = null;
  site = null;
  drawing = { points: [] };
  ctx.map.doubleClickZoom.disable();
  ctx.map.getCanvas().style.cursor = 'crosshair';
  ctx.state.clickHandler = (e) => {
    drawing.points.push([Number(e.lngLat.lng.toFixed(7)), Number(e.lngLat.lat.toFixed(7))]);
    showDrawing(ctx);
    updateStatus();
  };
  ctx.state.dblclickHandler = () => finishDraw(ctx);
  setHint('单击地图添加地块拐点；双击或点击“完成绘制”结束；按 Esc 取消');
  showDrawing(ctx);
  updateStatus();
}

function endDrawMode(ctx) {
  ctx.state.clickHandler = null;
  ctx.state.dblclickHandler = null;
  ctx.map.getCanvas().style.cursor = '';
  setTimeout(() => ctx.map.doubleClickZoom.enable(), 300);
  setHint('');
}

function finishDraw(ctx) {
  if (!drawing) return;
  // a double click also adds its two clicks as points: drop exact repeats
  const pts = drawing.points.filter((p, i, a) => i === 0 || p[0] !== a[i - 1][0] || p[1] !== a[i - 1][1]);
  if (pts.length < 3) {
    toast('地块至少需要 3 个拐点', 'error');
    return;
  }
  site = siteFeature(pts);
  drawing = null;
  endDrawMode(ctx);
  showDrawing(ctx);
  updateStatus();
}

function clearSite(ctx) {
  site = null;
  file = null;
  drawing = null;
  endDrawMode(ctx);
  setOverlay(ctx.map, []);
  q('check-file').value = '';
  q('check-result').replaceChildren();
  updateStatus();
}

function updateStatus() {
  const el = q('check-site-status');
  if (!el) return;
  if (drawing) el.textContent = `正在绘制：已添加 ${drawing.points.length} 个拐点`;
  else if (site) el.textContent = `已绘制地块（${site.geometry.coordinates[0].length - 1} 个拐点）`;
  else if (file) el.textContent = `已选择文件：${file.name}（${(file.size / 1024).toFixed(1)} KB）`;
  else el.textContent = '尚未选择地块';
  q('check-run').disabled = !(site || file) || !!drawing;
}

/** Find the site area (m²) in a check result, wherever the engine put it. */
export function siteArea(res) {
  if (!res || typeof res !== 'object') return null;
  const keys = ['site_area_m2', 'area_m2', 'site_area', 'total_area_m2'];
  for (const k of keys) if (typeof res[k] === 'number') return res[k];
  for (const k of ['site', 'summary', 'total']) {
    if (res[k] && typeof res[k] === 'object') {
      for (const kk of keys) if (typeof res[k][kk] === 'number') return res[k][kk];
    }
  }
  return null;
}

function conclusionOf(res) {
  for (const k of ['overall', 'conclusion', 'verdict', 'result', 'status']) if (typeof res[k] === 'string') return res[k];
  if (typeof res.compliant === 'boolean') return res.compliant ? '符合' : '不符合';
  if (typeof res.ok === 'boolean') return res.ok ? '符合' : '不符合';
  return null;
}

function verdictClass(v) {
  if (/不符合|违/.test(v || '')) return 'bad';
  if (/需论证|论证/.test(v || '')) return 'warn-text';
  return 'good';
}

function renderResult(ctx, res) {
  lastResult = res;
  const out = q('check-result');
  const area = siteArea(res);
  const concl = conclusionOf(res);
  const rest = { ...res };
  for (const k of ['id', 'geometry', 'site_geometry', 'site_area_m2', 'site_area_ha', 'site_area_mu',
    'overall', 'conclusion', 'report', 'rules', 'classes', 'layers', 'by_dlbm', 'messages']) delete rest[k];
  const sections = [];
  if (Array.isArray(res.rules) && res.rules.length) {
    sections.push(h('h4', {}, '规则审查'), h('table', { class: 'data rules', id: 'check-rules' },
      h('thead', {}, h('tr', {}, ['规则', '结论', '理由', '依据'].map((t) => h('th', {}, t)))),
      h('tbody', {}, res.rules.map((r) => h('tr', { 'data-rule': r.id },
        h('td', {}, r.rule || r.id), h('td', { class: `verdict ${verdictClass(r.verdict)}` }, r.verdict),
        h('td', {}, r.reason || ''), h('td', { class: 'note' }, r.basis || ''))))));
  }
  if (Array.isArray(res.classes) && res.classes.length) {
    sections.push(h('h4', {}, '占用地类'), table(res.classes.map((c) => ({
      DLBM: c.dlbm, DLMC: c.dlmc, 分组: c.group, '面积（平方米）': c.area_m2, '面积（亩）': c.area_mu,
      '图斑地类面积（平方米）': c.tbdlmj_m2, 图斑数: c.patches,
    }))));
  }
  if (res.layers && typeof res.layers === 'object') {
    sections.push(h('h4', {}, '管控要素'), table(Object.entries(res.layers).map(([ds, l]) => ({
      图层: `${l.title || ds}（${ds}）`, 状态: l.status, 版本: l.version, '压占面积（平方米）': l.area_m2,
      '压占面积（亩）': l.area_mu, 要素数: l.count, '范围外（平方米）': l.outside_m2,
    }))));
  }
  if (Array.isArray(res.messages) && res.messages.length) {
    sections.push(h('h4', {}, '说明'), h('ul', { class: 'messages' }, res.messages.map((m) => h('li', {}, m))));
  }
  sections.push(h('details', { class: 'more' }, h('summary', {}, '全部结果'), renderObject(rest)));
  const docx = h('button', { type: 'button', id: 'check-docx', class: 'primary' }, '下载合规检查报告（DOCX）');
  docx.addEventListener('click', async () => {
    busy(docx, true);
    try {
      const r = await download(res.report || `/api/check/${encodeURIComponent(res.id)}/report.docx`, `合规检查报告_${res.id}.docx`);
      toast(`已下载 ${r.name}`, 'ok');
    } catch (err) {
      toast(err.message, 'error');
    } finally {
      busy(docx, false);
    }
  });
  fill(out,
    h('h3', {}, '检查结果'),
    h('table', { class: 'kv summary' }, h('tbody', {},
      h('tr', {}, h('th', {}, '用地面积'), h('td', { id: 'check-site-area', 'data-area-m2': area ?? '' }, area === null ? '（结果中未给出）' : fmtArea(area))),
      concl ? h('tr', {}, h('th', {}, '总体结论'), h('td', { id: 'check-conclusion', class: verdictClass(concl) }, concl)) : null,
      res.name ? h('tr', {}, h('th', {}, '地块名称'), h('td', { id: 'check-site-name' }, res.name)) : null,
      res.use ? h('tr', {}, h('th', {}, '拟用途'), h('td', {}, res.use)) : null,
      res.id !== undefined ? h('tr', {}, h('th', {}, '检查编号'), h('td', {}, String(res.id))) : null)),
    res.id !== undefined ? h('div', { class: 'actions' }, docx) : null,
    ...sections,
  );
  // the site as the server read it (an uploaded file too), drawn and zoomed to
  const geom = res.site_geometry;
  const feats = geom ? [{ type: 'Feature', properties: { name: res.name || '' }, geometry: geom }] : (site ? [site] : []);
  if (feats.length) {
    setOverlay(ctx.map, feats, { owner: 'check', legend: `审查地块${res.name ? `：${res.name}` : ''}` });
    const b = geojsonBounds(feats);
    if (b) ctx.map.fitBounds(b, { padding: 80, maxZoom: 17, duration: 0 });
  }
}

async function run(ctx) {
  const btn = q('check-run');
  const out = q('check-result');
  const use = q('check-use').value.trim();
  const flags = [...document.querySelectorAll('.check-flag:checked')].map((c) => c.value).join(',');
  const name = siteName();
  const query = name ? { use, flags, name } : { use, flags };
  busy(btn, true);
  out.replaceChildren(message('正在检查…'));
  try {
    let res;
    if (file && !/\.(geo)?json$/i.test(file.name)) {
      const form = new FormData();
      form.append('file', file, file.name);
      res = await api('/api/check', { method: 'POST', form, query });
    } else {
      const body = file ? JSON.parse(await file.text()) : site;
      res = await api('/api/check', { method: 'POST', json: body, query });
    }
    renderResult(ctx, res);
  } catch (err) {
    out.replaceChildren(message(err instanceof SyntaxError ? `文件不是有效的 GeoJSON：${err.message}` : err.message, err.notAvailable ? 'warn' : 'error'));
  } finally {
    busy(btn, false);
    updateStatus();
  }
}

export function init(ctx) {
  const panel = document.getElementById('panel-check');
  if (panel.dataset.ready) return;
  panel.dataset.ready = '1';
  const drawBtn = h('button', { type: 'button', id: 'check-draw' }, '在地图上绘制地块');
  const finishBtn = h('button', { type: 'button', id: 'check-finish' }, '完成绘制');
  const clearBtn = h('button', { type: 'button', id: 'check-clear' }, '清除');
  const fileIn = h('input', { type: 'file', id: 'check-file', accept: '.zip,.shp,.kml,.txt,.geojson,.json' });
  const useSel = h('input', { id: 'check-use', list: 'check-uses', placeholder: '默认：城镇建设' });
  const nameIn = h('input', { id: 'check-name', maxlength: 100, placeholder: '如：某某项目用地（写入检查结果与报告）' });
  const uses = h('datalist', { id: 'check-uses' }, USES.map((u) => h('option', { value: u })));
  const flagBoxes = FLAGS.map((f) => h('label', { class: 'flag' }, h('input', { type: 'checkbox', value: f, class: 'check-flag' }), f));
  const runBtn = h('button', { type: 'button', id: 'check-run', class: 'primary', disabled: true }, '开始合规检查');
  drawBtn.addEventListener('click', () => startDraw(ctx));
  finishBtn.addEventListener('click', () => finishDraw(ctx));
  clearBtn.addEventListener('click', () => clearSite(ctx));
  fileIn.addEventListener('change', () => {
    file = fileIn.files[0] || null;
    if (file) {
      site = null;
      drawing = null;
      endDrawMode(ctx);
      setOverlay(ctx.map, []);
    }
    updateStatus();
  });
  runBtn.addEventListener('click', () => run(ctx));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && drawing) clearSite(ctx);
  });
  panel.replaceChildren(
    h('h3', {}, '建设项目用地合规检查'),
    h('p', { class: 'note' }, '绘制或上传拟用地范围，与三调现状、永久基本农田、生态保护红线、城镇开发边界等管控要素叠加分析。'),
    h('div', { class: 'actions' }, drawBtn, finishBtn, clearBtn),
    h('div', { class: 'form-grid' },
      h('label', { for: 'check-name' }, '地块名称'), nameIn,
      h('label', { for: 'check-file' }, '或上传文件'), fileIn,
      h('label', { for: 'check-use' }, '拟用途'), h('div', {}, useSel, uses),
      h('label', {}, '项目标记'), h('div', { class: 'flags' }, flagBoxes)),
    h('p', { class: 'note' }, '支持 zip（Shapefile）、shp、kml、报盘 txt、GeoJSON。'),
    h('div', { id: 'check-site-status', class: 'status' }),
    h('div', { class: 'actions' }, runBtn),
    h('div', { id: 'check-result' }),
  );
  updateStatus();
  window.__onemap.check = {
    get site() { return site; },
    get result() { return lastResult; },
    setSite(feature) { site = feature; file = null; drawing = null; showDrawing(ctx); updateStatus(); },
  };
}
