// Small DOM helpers shared by the panels: element builder, messages, number formats, tables.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Replace the children of an element, skipping null / undefined / false. */
export function fill(el, ...kids) {
  el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}

let toastTimer = null;
export function toast(message, kind = 'info') {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.className = `show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = ''; }, kind === 'error' ? 6000 : 3000);
}

/** A message block inside a panel: kind = info | error | warn | ok. */
export function message(text, kind = 'info') {
  return h('div', { class: `msg ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function showError(container, err) {
  const text = err && err.message ? err.message : String(err);
  container.replaceChildren(message(text, err && err.notAvailable ? 'warn' : 'error'));
}

export const MU_PER_M2 = 1 / 666.6666667;

export function fmtNumber(x, digits = 2) {
  if (x === null || x === undefined || x === '' || Number.isNaN(Number(x))) return '—';
  return Number(x).toLocaleString('zh-CN', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtArea(m2) {
  if (m2 === null || m2 === undefined || Number.isNaN(Number(m2))) return '—';
  const v = Number(m2);
  return `${fmtNumber(v, 2)} 平方米（${fmtNumber(v * MU_PER_M2, 2)} 亩，${fmtNumber(v / 10000, 4)} 公顷）`;
}

// Display names for keys that the API objects commonly carry. Unknown keys are shown as they are.
export const LABELS = {
  id: '编号', state: '状态', county: '县（区）', area_m2: '面积（平方米）', deadline: '办理期限',
  overdue: '是否逾期', allowed_actions: '可执行操作', created_at: '创建时间', updated_at: '更新时间',
  site_area_m2: '用地面积（平方米）', conclusion: '结论', verdict: '结论', result: '结论',
  compliant: '是否符合', use: '拟用途', dataset: '数据集', version: '版本', versions: '版本',
  code: '编码', name: '名称', title: '名称', value: '数值', target: '目标值', unit: '单位',
  status: '状态', year: '年份', kind: '类型', message: '说明', reason: '原因', rule: '规则',
  DLBM: '地类编码', DLMC: '地类名称', BSM: '标识码', TBMJ: '图斑面积', TBDLMJ: '图斑地类面积',
  ZLDWDM: '坐落单位代码', ZLDWMC: '坐落单位名称', QSDWMC: '权属单位名称', XZQDM: '行政区代码',
  XZQMC: '行政区名称', from: '原版本', to: '新版本', from_dlbm: '原地类', to_dlbm: '现地类',
  change_type: '变化类型', judgement: '研判结果', count: '数量', share: '占比', pieces: '压占图斑',
  layer: '图层', collection: '图层', hectare: '公顷', mu: '亩', source: '数据来源',
  file: '文件', source_crs: '源坐标系', flags: '项目标记', by_group: '按三调分组（平方米）',
  by_unit: '按坐落单位（平方米）', cultivated: '耕地', extent: '数据范围', sources: '数据版本',
  inside_m2: '范围内（平方米）', outside_m2: '范围外（平方米）', outside_ratio: '范围外比例',
  basis: '依据', area_ha: '面积（公顷）', area_mu: '面积（亩）', tbdlmj_m2: '地类面积（平方米）',
  tbdlmj_mu: '地类面积（亩）', by_slope: '按坡度级别（平方米）', by_dlbm: '按地类（平方米）',
  checked_by: '审查人', site_area_ha: '用地面积（公顷）', site_area_mu: '用地面积（亩）',
  overall: '总体结论', case_no: '案件编号', state_title: '状态', due_at: '办理期限',
  opened_at: '下发时间', suggested: '疑似判定', village: '村', tbbh: '图斑编号', priority: '优先级',
  determination: '认定结果', measures: '整改措施', overdue_days: '逾期天数', rows: '明细',
  level: '统计层级', groups_hectare: '分组面积（公顷）', unit: '单位代码', unit_name: '单位名称',
  total: '合计',
};

export function label(key) {
  return LABELS[key] || key;
}

function cell(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? '是' : '否';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : fmtNumber(value, 2);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join('、');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A table of records (array of objects). `columns` defaults to the union of keys. */
export function table(records, { columns, maxRows = 200, className = 'data' } = {}) {
  const cols = columns || [...new Set(records.flatMap((r) => Object.keys(r || {})))]
    .filter((c) => c !== 'geometry');
  const thead = h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, label(c)))));
  const rows = records.slice(0, maxRows).map((r) => h('tr', {}, cols.map((c) => h('td', typeof r[c] === 'number' ? { class: 'num' } : {}, cell(r[c])))));
  const t = h('table', { class: className }, thead, h('tbody', {}, rows));
  if (records.length > maxRows) {
    return h('div', {}, t, h('p', { class: 'note' }, `仅显示前 ${maxRows} 行，共 ${records.length} 行`));
  }
  return t;
}

/** A two-column key/value table of the scalar entries of an object. */
export function kvTable(obj, { keys } = {}) {
  const ks = keys || Object.keys(obj).filter((k) => obj[k] === null || typeof obj[k] !== 'object');
  return h('table', { class: 'kv' }, h('tbody', {}, ks.map((k) => h('tr', {}, h('th', {}, label(k)), h('td', {}, cell(obj[k]))))));
}

/**
 * Render any JSON result as Chinese tables: scalars as a key/value table, arrays of objects as
 * tables, nested objects as sub-sections (depth-limited).
 */
export function renderObject(obj, depth = 0) {
  const out = h('div', { class: 'obj' });
  if (obj === null || typeof obj !== 'object') {
    out.append(h('p', {}, cell(obj)));
    return out;
  }
  if (Array.isArray(obj)) {
    if (obj.length && obj.every((r) => r && typeof r === 'object' && !Array.isArray(r))) out.append(table(obj));
    else out.append(h('p', {}, obj.length ? cell(obj) : '（无）'));
    return out;
  }
  const scalars = Object.keys(obj).filter((k) => obj[k] === null || typeof obj[k] !== 'object'
    || (Array.isArray(obj[k]) && obj[k].every((v) => v === null || typeof v !== 'object')));
  if (scalars.length) out.append(kvTable(obj, { keys: scalars }));
  for (const k of Object.keys(obj)) {
    if (scalars.includes(k) || k === 'geometry' || k === 'type' && obj[k] === 'Feature') continue;
    const v = obj[k];
    if (depth >= 3) {
      out.append(h('h4', {}, label(k)), h('pre', { class: 'json' }, JSON.stringify(v, null, 1).slice(0, 2000)));
      continue;
    }
    out.append(h('h4', {}, label(k)), renderObject(v, depth + 1));
  }
  return out;
}

export function busy(button, on) {
  if (!button) return;
  button.disabled = on;
  button.classList.toggle('busy', on);
}
