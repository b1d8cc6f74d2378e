// 变化与案件 panel: change patches between two versions (/api/changes) and the enforcement cases
// (/api/cases) with their lifecycle actions (/api/cases/{id}/actions/{action}).

import { api } from '../api.js';
import { geojsonBounds, setOverlay } from '../mapview.js';
import { showFieldEvidence } from './fieldevidence.js';
import { busy, fmtArea, fmtNumber, h, message, MU_PER_M2, renderObject, table, toast, fill } from '../ui.js';

// Fallback titles only: the API's case objects carry `state_title` and action specs when it can.
const STATES = {
  issued: '已下发', evidenced: '已核查举证', determined: '已判定', rectifying: '整改中',
  prosecuting: '立案查处中', rectified: '已整改待销号', closed: '已销号',
};
const ACTIONS = {
  evidence: '核查举证', determine: '判定', rectify: '整改', prosecute: '立案查处', complete: '整改完成',
  reject: '复核不通过', close: '销号',
};
const FIELDS = {
  officer: '核查人', date: '日期', notes: '说明', determination: '判定结果', basis: '判定依据',
  measures: '整改措施', filing_no: '立案编号', approver: '审批人', deadline: '办理期限', photos: '现场照片',
};

let flow = null; // the lifecycle definition from /api/cases/flow, when the API offers it

export const stateName = (s) => (flow && flow.states && flow.states[s] && flow.states[s].title) || STATES[s] || s;
export const actionName = (a) => (flow && flow.actions && flow.actions[a] && flow.actions[a].title) || ACTIONS[a] || a;

async function loadFlow() {
  if (flow !== null) return;
  try {
    flow = await api('/api/cases/flow');
  } catch {
    flow = {}; // not offered: the action forms ask for notes and free fields instead
  }
}

function q(id) { return document.getElementById(id); }

let cases = [];

// ---- changes ------------------------------------------------------------------------------

function changesForm(ctx) {
  const withVersions = ctx.state.datasets.filter((d) => d.versions.length >= 2);
  const dsSel = h('select', { id: 'changes-dataset' }, (withVersions.length ? withVersions : ctx.state.datasets)
    .map((d) => h('option', { value: d.name }, `${d.title}（${d.name}）`)));
  const fromSel = h('select', { id: 'changes-from' });
  const toSel = h('select', { id: 'changes-to' });
  const fill = () => {
    const ds = ctx.datasetByName(dsSel.value);
    if (!ds) return;
    const opts = () => ds.versions.map((v) => h('option', { value: v.version }, v.version));
    fromSel.replaceChildren(...opts());
    toSel.replaceChildren(...opts());
    fromSel.value = ds.versions[Math.max(0, ds.versions.length - 2)].version;
    toSel.value = ds.versions[ds.versions.length - 1].version;
  };
  if (ctx.datasetByName('DLTB') && withVersions.some((d) => d.name === 'DLTB')) dsSel.value = 'DLTB';
  dsSel.addEventListener('change', fill);
  fill();
  const btn = h('button', { type: 'button', id: 'changes-run', class: 'primary' }, '查询变化图斑');
  btn.addEventListener('click', async () => {
    const out = q('changes-result');
    busy(btn, true);
    out.replaceChildren(message('正在比较两个版本…'));
    try {
      const res = await api('/api/changes', { query: { dataset: dsSel.value, from: fromSel.value, to: toSel.value } });
      renderChanges(ctx, res);
    } catch (err) {
      out.replaceChildren(message(err.message, err.notAvailable ? 'warn' : 'error'));
    } finally {
      busy(btn, false);
    }
  });
  return h('div', {},
    h('div', { class: 'form-grid' }, h('label', {}, '数据集'), dsSel, h('label', {}, '前一版本'), fromSel, h('label', {}, '后一版本'), toSel),
    h('div', { class: 'actions' }, btn),
    h('div', { id: 'changes-result' }));
}

const CHANGE_KINDS = {
  class_change: '地类变化', added: '新增图斑', removed: '灭失图斑', geometry_changed: '形状变化',
  redraw: '重新勾绘', attribute_edit: '属性修改',
};
const yes = (v) => (v === true ? '是' : v === false ? '否' : '—');

function renderChanges(ctx, res) {
  const out = q('changes-result');
  const list = res && Array.isArray(res.changes) ? res.changes : null;
  if (!list) {
    // another shape: a FeatureCollection, or something to show as tables
    const feats = res && Array.isArray(res.features) ? res.features : [];
    if (feats.length) {
      setOverlay(ctx.map, feats.slice(0, 5000), { owner: 'cases', legend: '变化图斑' });
      const b = geojsonBounds(feats);
      if (b) ctx.map.fitBounds(b, { padding: 40, maxZoom: 15, duration: 0 });
    }
    out.replaceChildren(renderObject(res));
    return;
  }
  const sm = res.summary || {};
  const rest = { ...res };
  delete rest.changes;
  const points = list.filter((c) => typeof c.lon === 'number' && typeof c.lat === 'number')
    .map((c) => ({ type: 'Feature', properties: { tbbh: c.tbbh }, geometry: { type: 'Point', coordinates: [c.lon, c.lat] } }));
  setOverlay(ctx.map, points, { owner: 'cases', legend: '变化图斑位置' });
  const b = geojsonBounds(points);
  if (b) ctx.map.fitBounds(b, { padding: 80, maxZoom: 15, duration: 0 });
  const rows = list.slice(0, 500).map((c) => {
    const locate = typeof c.lon === 'number' ? h('button', { type: 'button', class: 'link', onclick: () => ctx.map.jumpTo({ center: [c.lon, c.lat], zoom: 16 }) }, '定位') : null;
    return h('tr', { 'data-tbbh': c.tbbh, class: c.new_construction ? 'new-construction' : '' },
      h('td', {}, c.tbbh || ''), h('td', {}, CHANGE_KINDS[c.kind] || c.kind || ''),
      h('td', {}, `${c.before || ''} ${c.before_name || ''}`), h('td', {}, `${c.after || ''} ${c.after_name || ''}`),
      h('td', { title: fmtArea(c.area_m2) }, `${fmtNumber((c.area_m2 || 0) * MU_PER_M2, 2)} 亩`),
      h('td', { class: c.new_construction ? 'bad' : '' }, yes(c.new_construction)),
      h('td', {}, yes(c.zygd)), h('td', {}, yes(c.sfyn)),
      h('td', {}, locate));
  });
  fill(out,
    h('table', { class: 'kv summary', id: 'changes-summary' }, h('tbody', {},
      [['变化图斑', `${sm.changes ?? list.length} 个`], ['变化面积', fmtArea(sm.change_area_m2)],
        ['新增建设用地', fmtArea(sm.new_construction_area_m2)], ['占用耕地', fmtArea(sm.zygd_area_m2)],
        ['涉及永久基本农田', sm.sfyn_count !== undefined ? `${sm.sfyn_count} 个` : '—'],
        ['涉及生态保护红线', sm.sfhx_count !== undefined ? `${sm.sfhx_count} 个` : '—']]
        .map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))))),
    h('table', { class: 'data', id: 'changes-table' },
      h('thead', {}, h('tr', {}, ['图斑编号', '类型', '原地类', '现地类', '面积', '新增建设', '占耕', '永农', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows)),
    list.length > 500 ? h('p', { class: 'note' }, `仅列出前 500 个，共 ${list.length} 个`) : null,
    h('p', { class: 'note' }, '地图上的圆点为变化图斑位置。'),
    h('details', { class: 'more' }, h('summary', {}, '全部结果'), renderObject(rest)));
}

// ---- cases --------------------------------------------------------------------------------

/** Normalise an allowed action: a name, or {name|action, title, required, choices, min_photos}. */
function actionSpec(a) {
  const name = typeof a === 'string' ? a : a.name || a.action || a.id;
  const def = flow && flow.actions && flow.actions[name];
  if (def && (typeof a === 'string' || !Array.isArray(a.required))) {
    a = { ...def, ...(typeof a === 'string' ? {} : a), required: def.required };
  }
  if (typeof a === 'string') return { name: a, title: actionName(a), required: null, optional: [], choices: {}, min_photos: 0 };
  return {
    name,
    title: a.title || actionName(name),
    required: Array.isArray(a.required) ? a.required : null,
    optional: Array.isArray(a.optional) ? a.optional : [],
    choices: a.choices || {},
    min_photos: a.min_photos || 0,
  };
}

function stateTitle(c) {
  return c.state_title || stateName(c.state);
}

function caseRow(ctx, c) {
  const area = typeof c.area_m2 === 'number' ? `${fmtNumber(c.area_m2 * MU_PER_M2, 2)} 亩` : '—';
  const actions = (c.allowed_actions || []).map((a) => {
    const spec = actionSpec(a);
    const b = h('button', { type: 'button', class: 'case-action', 'data-case': c.id, 'data-action': spec.name, id: `case-action-${c.id}-${spec.name}` }, spec.title);
    b.addEventListener('click', () => openActionForm(ctx, c, spec));
    return b;
  });
  const locate = c.geometry || c.bbox || (c.lon && c.lat) ? h('button', { type: 'button', class: 'link', onclick: () => locateCase(ctx, c) }, '定位') : null;
  const photos = h('button', { type: 'button', class: 'link', 'data-field-evidence': c.id,
    onclick: () => showFieldEvidence(ctx, c, q('case-field-evidence')) }, '外业照片');
  const due = c.deadline || c.due_at;
  const why = [c.suggested, c.reason, c.village].filter(Boolean).join('；');
  return h('tr', { 'data-case': c.id, class: c.overdue ? 'overdue' : '', title: why },
    h('td', {}, String(c.case_no || c.id)),
    h('td', { class: 'case-state', 'data-state': c.state }, stateTitle(c)),
    h('td', {}, c.county_name || c.county || '—'),
    h('td', { title: typeof c.area_m2 === 'number' ? fmtArea(c.area_m2) : '' }, area),
    h('td', {}, due ? String(due).slice(0, 10) : '—'),
    h('td', { class: c.overdue ? 'bad' : '' }, c.overdue ? `逾期${c.overdue_days ? ` ${c.overdue_days} 天` : ''}` : '否'),
    h('td', { class: 'case-actions' }, actions.length ? actions : h('span', { class: 'note' }, '无可执行操作'), locate, photos));
}

function locateCase(ctx, c) {
  let f = null;
  if (c.geometry) f = [{ type: 'Feature', properties: {}, geometry: c.geometry }];
  if (f) {
    setOverlay(ctx.map, f, { owner: 'cases', legend: `案件 ${c.case_no || c.id}` });
    const b = geojsonBounds(f);
    if (b) ctx.map.fitBounds(b, { padding: 80, maxZoom: 17, duration: 0 });
  } else if (c.bbox) {
    ctx.map.fitBounds([[c.bbox[0], c.bbox[1]], [c.bbox[2], c.bbox[3]]], { padding: 80, maxZoom: 17, duration: 0 });
  } else if (c.lon && c.lat) {
    ctx.map.jumpTo({ center: [c.lon, c.lat], zoom: 16 });
  }
}

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function fieldInput(name, spec, ctx) {
  const id = `case-field-${name}`;
  const choices = spec.choices[name];
  if (Array.isArray(choices) && choices.length) {
    return h('select', { id, name }, choices.map((v) => h('option', { value: v }, v)));
  }
  if (name === 'date' || name === 'deadline') return h('input', { id, name, type: 'date', value: name === 'date' ? today() : '' });
  const user = ctx.state.user;
  const value = (name === 'officer' || name === 'approver') && user ? (user.display_name || user.username) : '';
  return h('input', { id, name, value });
}

/** The inline form of an action: its required fields (when the API says which), notes, photos. */
function openActionForm(ctx, c, spec) {
  const box = q('case-action-form');
  const fields = spec.required ? [...spec.required, ...spec.optional.filter((f) => !spec.required.includes(f))] : ['notes'];
  const inputs = fields.filter((f) => f !== 'photos').map((f) => [f, fieldInput(f, spec, ctx)]);
  const photos = h('input', { type: 'file', id: 'case-field-photos', accept: 'image/*', multiple: true });
  // for photos without EXIF position/time (sent as photos_meta; the EXIF tags win when present)
  const photoLon = h('input', { id: 'case-photo-lon', type: 'number', step: 'any', min: -180, max: 180, placeholder: '如 106.2015' });
  const photoLat = h('input', { id: 'case-photo-lat', type: 'number', step: 'any', min: -90, max: 90, placeholder: '如 37.9512' });
  const photoTime = h('input', { id: 'case-photo-time', type: 'datetime-local' });
  const photoMeta = h('div', { class: 'photo-meta' },
    h('p', { class: 'note' }, '照片无 GPS 定位或拍摄时间（EXIF）时，填写拍摄位置和时间：'),
    h('div', { class: 'form-grid' },
      h('label', { for: 'case-photo-lon' }, '拍摄经度'), photoLon,
      h('label', { for: 'case-photo-lat' }, '拍摄纬度'), photoLat,
      h('label', { for: 'case-photo-time' }, '拍摄时间'), photoTime));
  const extra = spec.required ? null : h('textarea', { id: 'case-field-extra', rows: 2, placeholder: '其他字段，每行一个：字段=值' });
  const submit = h('button', { type: 'button', class: 'primary', id: 'case-action-submit' }, `确认${spec.title}`);
  const cancel = h('button', { type: 'button' }, '取消');
  cancel.addEventListener('click', () => box.replaceChildren());
  submit.addEventListener('click', async () => {
    const body = {};
    for (const [f, el] of inputs) if (el.value !== '') body[f] = el.value;
    if (extra && extra.value.trim()) {
      for (const line of extra.value.split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) body[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
    }
    const missing = (spec.required || []).filter((f) => f !== 'photos' && !body[f]);
    if (missing.length) {
      q('case-action-error').replaceChildren(message(`请填写：${missing.map((f) => FIELDS[f] || f).join('、')}`, 'error'));
      return;
    }
    if (photos.files.length < spec.min_photos) {
      q('case-action-error').replaceChildren(message(`至少需要 ${spec.min_photos} 张带定位和时间的现场照片`, 'error'));
      return;
    }
    const given = {};
    if (photoLon.value !== '') given.lon = Number(photoLon.value);
    if (photoLat.value !== '') given.lat = Number(photoLat.value);
    if (photoTime.value) given.time = photoTime.value.replace('T', ' ');
    if (('lon' in given) !== ('lat' in given)) {
      q('case-action-error').replaceChildren(message('拍摄位置需同时填写经度和纬度', 'error'));
      return;
    }
    const files = [...photos.files];
    const meta = Object.keys(given).length ? files.map(() => ({ ...given })) : null;
    await doAction(ctx, c, spec, body, files, submit, meta);
  });
  box.replaceChildren(h('div', { class: 'action-form', 'data-case': c.id, 'data-action': spec.name },
    h('h4', {}, `案件 ${c.case_no || c.id}：${spec.title}（当前状态：${stateTitle(c)}）`),
    h('div', { class: 'form-grid' }, inputs.flatMap(([f, el]) => [h('label', { for: el.id }, FIELDS[f] || f), el]),
      spec.min_photos || !spec.required ? [h('label', { for: 'case-field-photos' }, `${FIELDS.photos}${spec.min_photos ? `（至少 ${spec.min_photos} 张）` : ''}`), photos] : [],
      extra ? [h('label', { for: 'case-field-extra' }, '其他字段'), extra] : []),
    spec.min_photos || !spec.required ? photoMeta : null,
    h('div', { id: 'case-action-error' }),
    h('div', { class: 'actions' }, submit, cancel)));
  box.scrollIntoView({ block: 'nearest' });
}

async function doAction(ctx, c, spec, body, files, btn, photosMeta = null) {
  busy(btn, true);
  const path = `/api/cases/${encodeURIComponent(c.id)}/actions/${encodeURIComponent(spec.name)}`;
  try {
    let updated;
    if (files.length) {
      const form = new FormData();
      for (const [k, v] of Object.entries(body)) form.append(k, v);
      for (const f of files) form.append('photos', f, f.name);
      if (photosMeta) form.append('photos_meta', JSON.stringify(photosMeta));
      updated = await api(path, { method: 'POST', form });
    } else {
      updated = await api(path, { method: 'POST', json: body });
    }
    const next = updated && updated.case ? updated.case : updated;
    const i = cases.findIndex((x) => String(x.id) === String(c.id));
    if (i >= 0 && next && next.id !== undefined) cases[i] = next;
    const text = `案件 ${c.case_no || c.id}：${spec.title}完成，状态 ${stateTitle(c)} → ${next ? stateTitle(next) : '?'}`;
    q('case-action-form').replaceChildren();
    q('case-last-action').replaceChildren(message(text, 'ok'));
    toast(text, 'ok');
    renderCases(ctx);
  } catch (err) {
    q('case-action-error').replaceChildren(message(`操作未完成：${err.message}`, err.notAvailable ? 'warn' : 'error'));
    busy(btn, false);
  }
}

function renderCases(ctx) {
  const out = q('cases-result');
  if (!cases.length) {
    out.replaceChildren(message('没有符合条件的案件。', 'info'));
    return;
  }
  const stateSel = q('cases-state');
  const current = stateSel.value;
  const have = new Set([...stateSel.options].map((o) => o.value));
  for (const c of cases) if (!have.has(c.state)) { have.add(c.state); stateSel.append(h('option', { value: c.state }, stateTitle(c))); }
  stateSel.value = current;
  const overdue = cases.filter((c) => c.overdue).length;
  out.replaceChildren(
    h('p', { class: 'note' }, `共 ${cases.length} 件${overdue ? `，其中逾期 ${overdue} 件` : ''}`),
    h('table', { class: 'data cases', id: 'cases-table' },
      h('thead', {}, h('tr', {}, ['编号', '状态', '县（区）', '面积', '期限', '逾期', '操作'].map((t) => h('th', {}, t)))),
      h('tbody', {}, cases.map((c) => caseRow(ctx, c)))));
}

export async function loadCases(ctx) {
  const out = q('cases-result');
  out.replaceChildren(message('正在加载案件…'));
  await loadFlow();
  try {
    const res = await api('/api/cases', { query: { county: q('cases-county').value.trim(), state: q('cases-state').value, overdue: q('cases-overdue').checked ? 'true' : '' } });
    cases = (res && res.cases) || [];
    renderCases(ctx);
  } catch (err) {
    out.replaceChildren(message(err.message, err.notAvailable ? 'warn' : 'error'));
  }
}

export function init(ctx) {
  const panel = document.getElementById('panel-cases');
  const reload = h('button', { type: 'button', id: 'cases-load', class: 'primary' }, '查询案件');
  reload.addEventListener('click', () => loadCases(ctx));
  panel.replaceChildren(
    h('h3', {}, '变化图斑'),
    changesForm(ctx),
    h('h3', {}, '执法案件'),
    h('div', { class: 'form-grid' },
      h('label', {}, '县（区）代码'), h('input', { id: 'cases-county', placeholder: '如 640302，留空为全部' }),
      h('label', {}, '状态'), h('select', { id: 'cases-state' }, h('option', { value: '' }, '全部')),
      h('label', {}, '只看逾期'), h('input', { type: 'checkbox', id: 'cases-overdue' })),
    h('div', { class: 'actions' }, reload),
    h('div', { id: 'case-last-action' }),
    h('div', { id: 'case-action-form' }),
    h('div', { id: 'case-field-evidence' }),
    h('div', { id: 'cases-result' }));
  panel.dataset.loaded = '';
}

export function onShow(ctx) {
  const panel = document.getElementById('panel-cases');
  if (!panel.dataset.loaded) {
    panel.dataset.loaded = '1';
    loadCases(ctx);
  }
}
