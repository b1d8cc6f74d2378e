// 台账 panel: every register of the ledger engine (/api/registers), driven by its schema:
// the records (paged, state / deadline / text filters, deadline warnings highlighted), those
// with geometry on the map (click a row → zoom and outline it), the detail of a record with its
// history in the audit chain and the moves its flow allows, the XLSX export and an import.

import { api, download } from '../api.js';
import { geojsonBounds, setHighlight, setOverlay } from '../mapview.js';
import { busy, fill, fmtNumber, h, message, toast } from '../ui.js';

const PAGE = 20;
const DEADLINES = ['即将到期', '已逾期', '正常'];

let registers = [];
let current = null; // the selected register (from /api/registers)
let page = 0;
let records = [];

function q(id) { return document.getElementById(id); }

function register(name) {
  return registers.find((r) => r.name === name);
}

function fieldTitle(reg, name) {
  const f = reg.fields.find((x) => x.name === name);
  return f ? f.title : name;
}

/** The record's second field (a name or title) for the table: the first text field after the key. */
function nameField(reg) {
  const f = reg.fields.find((x) => x.name !== reg.key && x.name !== reg.county && x.type === 'text');
  return f ? f.name : null;
}

function feature(r) {
  return r.geometry ? { type: 'Feature', id: r.id, properties: { record_no: r.record_no }, geometry: r.geometry } : null;
}

function deadlineClass(r) {
  if (r.deadline === '已逾期') return 'overdue';
  if (r.deadline === '即将到期') return 'due-soon';
  return '';
}

function deadlineText(r) {
  if (r.deadline === '已逾期') return `已逾期 ${r.overdue_days} 天`;
  if (r.deadline === '即将到期') return `即将到期（剩 ${r.days_left} 天）`;
  return r.deadline || '';
}

function filters() {
  return {
    state: q('reg-state').value,
    deadline: q('reg-deadline').value,
    q: q('reg-text').value.trim(),
    county: q('reg-county').value.trim(),
  };
}

// ---- list ---------------------------------------------------------------------------------

function registerOptions() {
  return registers.map((r) => h('option', { value: r.name },
    `${r.display_title || r.title}（${r.count} 条${r.warnings ? `，预警 ${r.warnings}` : ''}）`));
}

function selectRegister(ctx, name) {
  current = register(name);
  page = 0;
  q('reg-state').replaceChildren(h('option', { value: '' }, '全部'),
    ...current.states.map((s) => h('option', { value: s.key }, s.title)));
  q('reg-deadline').value = '';
  q('reg-text').value = '';
  q('reg-detail').replaceChildren();
  loadRecords(ctx);
}

export async function loadRecords(ctx) {
  const out = q('reg-result');
  if (!current) return;
  out.replaceChildren(message('正在加载记录…'));
  try {
    const res = await api(`/api/registers/${encodeURIComponent(current.name)}`,
      { query: { ...filters(), offset: page * PAGE, limit: PAGE, geometry: current.has_geometry ? 'true' : '' } });
    records = res.records || [];
    renderRecords(ctx, res);
  } catch (err) {
    out.replaceChildren(message(err.message, err.notAvailable ? 'warn' : 'error'));
  }
}

function renderRecords(ctx, res) {
  const out = q('reg-result');
  const reg = current;
  const nf = nameField(reg);
  const feats = records.map(feature).filter(Boolean);
  setOverlay(ctx.map, feats, { owner: 'registers', legend: `${reg.title}台账` });
  setHighlight(ctx.map, []);
  const b = geojsonBounds(feats);
  if (b) ctx.map.fitBounds(b, { padding: 60, maxZoom: 15, duration: 0 });
  const rows = records.map((r) => {
    const tr = h('tr', { 'data-record': r.record_no, class: deadlineClass(r) },
      h('td', {}, r.record_no),
      h('td', {}, nf ? String(r.values[nf] ?? '') : ''),
      h('td', {}, r.county || '—'),
      h('td', { class: 'reg-state' }, r.state_title),
      h('td', {}, r.due_at ? String(r.due_at).slice(0, 10) : '—'),
      h('td', { class: `reg-deadline ${deadlineClass(r)}` }, deadlineText(r)));
    tr.addEventListener('click', () => openRecord(ctx, r.record_no));
    return tr;
  });
  const pages = Math.max(1, Math.ceil(res.count / PAGE));
  const prev = h('button', { type: 'button', id: 'reg-prev', disabled: page === 0 }, '上一页');
  const next = h('button', { type: 'button', id: 'reg-next', disabled: page + 1 >= pages }, '下一页');
  prev.addEventListener('click', () => { page -= 1; loadRecords(ctx); });
  next.addEventListener('click', () => { page += 1; loadRecords(ctx); });
  const states = Object.entries(res.by_state || {}).map(([k, v]) => `${k} ${v}`).join('，');
  fill(out,
    h('p', { class: 'note', id: 'reg-summary' },
      `共 ${res.count} 条${res.warnings ? `，期限预警 ${res.warnings} 条` : ''}${states ? `（${states}）` : ''}`),
    records.length
      ? h('table', { class: 'data registers', id: 'reg-table' },
        h('thead', {}, h('tr', {}, [fieldTitle(reg, reg.key), nf ? fieldTitle(reg, nf) : '', '行政区', '状态', '到期日', '期限']
          .map((t) => h('th', {}, t)))),
        h('tbody', {}, rows))
      : message('没有符合条件的记录。', 'info'),
    h('div', { class: 'actions pager' }, prev, h('span', { id: 'reg-page' }, `第 ${page + 1} / ${pages} 页`), next),
    reg.has_geometry ? h('p', { class: 'note' }, '地图上为本页有图形的记录；点击一行定位并查看详情。') : null);
}

// ---- detail -------------------------------------------------------------------------------

async function openRecord(ctx, no) {
  const box = q('reg-detail');
  for (const tr of document.querySelectorAll('#reg-table tbody tr')) tr.classList.toggle('selected', tr.dataset.record === no);
  box.replaceChildren(message('正在加载…'));
  let r;
  try {
    r = await api(`/api/registers/${encodeURIComponent(current.name)}/${encodeURIComponent(no)}`);
  } catch (err) {
    box.replaceChildren(message(err.message, 'error'));
    return;
  }
  const f = feature(r);
  if (f) {
    setHighlight(ctx.map, [f]);
    const b = geojsonBounds([f]);
    if (b) ctx.map.fitBounds(b, { padding: 120, maxZoom: 16, duration: 0 });
  }
  renderDetail(ctx, r);
}

function renderDetail(ctx, r) {
  const reg = current;
  const box = q('reg-detail');
  const values = reg.fields.filter((f) => r.values[f.name] !== undefined && r.values[f.name] !== null)
    .map((f) => {
      const v = r.values[f.name];
      const text = typeof v === 'number' ? fmtNumber(v, f.type === 'int' ? 0 : 2) : String(v);
      return h('tr', {}, h('th', {}, f.title), h('td', {}, f.unit ? `${text} ${f.unit}` : text));
    });
  const history = (r.history || []).map((e) => h('tr', {},
    h('td', {}, String(e.at).slice(0, 19).replace('T', ' ')), h('td', {}, e.actor), h('td', {}, e.title),
    h('td', { class: 'hash', title: e.hash }, `#${e.audit_id} ${String(e.hash).slice(0, 10)}…`)));
  const actions = (r.allowed_actions || []).map((a) => {
    const b = h('button', { type: 'button', class: 'reg-action', id: `reg-action-${a.action}` }, a.title);
    b.addEventListener('click', () => actionForm(ctx, r, a.action));
    return b;
  });
  fill(box,
    h('h4', {}, `${reg.title} ${r.record_no}：${r.state_title}${r.deadline && r.deadline !== '无期限' ? `（${deadlineText(r)}）` : ''}`),
    h('table', { class: 'kv', id: 'reg-values' }, h('tbody', {}, values)),
    h('h4', {}, '办理'),
    h('div', { class: 'actions', id: 'reg-actions' }, actions.length ? actions : h('span', { class: 'note' }, '无可执行操作')),
    h('div', { id: 'reg-action-form' }),
    h('h4', {}, '历史（审计链）'),
    h('table', { class: 'data', id: 'reg-history' },
      h('thead', {}, h('tr', {}, ['时间', '办理人', '操作', '审计记录'].map((t) => h('th', {}, t)))),
      h('tbody', {}, history)));
}

function inputFor(reg, spec, name) {
  const id = `reg-field-${name}`;
  const choices = (spec.choices || {})[name];
  const field = reg.fields.find((f) => f.name === name);
  if (Array.isArray(choices) && choices.length) return h('select', { id }, choices.map((v) => h('option', { value: v }, v)));
  if (field && field.codes && field.codes.length) return h('select', { id }, field.codes.map((v) => h('option', { value: v }, v)));
  if (field && field.type === 'date') return h('input', { id, type: 'date' });
  if (field && (field.type === 'number' || field.type === 'int')) return h('input', { id, type: 'number', step: 'any' });
  if (name === 'notes') return h('textarea', { id, rows: 2 });
  return h('input', { id });
}

function actionForm(ctx, r, action) {
  const reg = current;
  const spec = reg.actions.find((a) => a.action === action);
  const names = [...new Set([...(spec.required || []), 'notes'])];
  const inputs = names.map((n) => [n, inputFor(reg, spec, n)]);
  const submit = h('button', { type: 'button', class: 'primary', id: 'reg-action-submit' }, `确认${spec.title}`);
  submit.addEventListener('click', async () => {
    const fields = {};
    for (const [n, el] of inputs) if (el.value !== '') fields[n] = el.value;
    busy(submit, true);
    try {
      const next = await api(`/api/registers/${encodeURIComponent(reg.name)}/${encodeURIComponent(r.record_no)}/actions`,
        { method: 'POST', json: { action, fields } });
      const text = `${reg.title} ${r.record_no}：${spec.title}完成，${r.state_title} → ${next.state_title}`;
      toast(text, 'ok');
      await loadRecords(ctx);
      await openRecord(ctx, r.record_no);
      q('reg-detail').prepend(message(text, 'ok'));
    } catch (err) {
      q('reg-action-error').replaceChildren(message(`操作未完成：${err.message}`, 'error'));
      busy(submit, false);
    }
  });
  q('reg-action-form').replaceChildren(h('div', { class: 'action-form', 'data-action': action },
    h('div', { class: 'form-grid' }, inputs.flatMap(([n, el]) => [
      h('label', { for: el.id }, n === 'notes' ? '说明' : fieldTitle(reg, n)), el])),
    h('div', { id: 'reg-action-error' }),
    h('div', { class: 'actions' }, submit)));
}

// ---- export and import --------------------------------------------------------------------

async function exportXlsx(btn) {
  if (!current) return;
  busy(btn, true);
  try {
    const got = await download(`/api/registers/${encodeURIComponent(current.name)}/export.xlsx`,
      `${current.title}台账.xlsx`, filters());
    toast(`已导出 ${got.name}`, 'ok');
  } catch (err) {
    toast(err.message, 'error');
  } finally {
    busy(btn, false);
  }
}

async function importFile(ctx, btn) {
  const input = q('reg-import-file');
  if (!current || !input.files.length) {
    q('reg-import-result').replaceChildren(message('请选择要导入的文件', 'error'));
    return;
  }
  const form = new FormData();
  form.append('file', input.files[0], input.files[0].name);
  busy(btn, true);
  try {
    const res = await api(`/api/registers/${encodeURIComponent(current.name)}/import`, { method: 'POST', form });
    q('reg-import-result').replaceChildren(message(`已导入 ${res.imported} 条（${res.file}）`, 'ok'));
    await reloadRegisters(ctx, current.name);
  } catch (err) {
    q('reg-import-result').replaceChildren(message(err.message, 'error'));
  } finally {
    busy(btn, false);
  }
}

async function reloadRegisters(ctx, keep) {
  const res = await api('/api/registers');
  registers = res.registers || [];
  const sel = q('reg-select');
  sel.replaceChildren(...registerOptions());
  // start on the first register that holds records
  const first = registers.find((r) => r.count > 0) || registers[0];
  if (keep && register(keep)) sel.value = keep;
  else if (first) sel.value = first.name;
  if (sel.value) selectRegister(ctx, sel.value);
}

// ---- panel --------------------------------------------------------------------------------

export function init(ctx) {
  const panel = document.getElementById('panel-registers');
  const sel = h('select', { id: 'reg-select' });
  sel.addEventListener('change', () => selectRegister(ctx, sel.value));
  const run = h('button', { type: 'button', id: 'reg-load', class: 'primary' }, '查询');
  run.addEventListener('click', () => { page = 0; loadRecords(ctx); });
  const exp = h('button', { type: 'button', id: 'reg-export' }, '导出 XLSX');
  exp.addEventListener('click', () => exportXlsx(exp));
  const imp = h('button', { type: 'button', id: 'reg-import' }, '导入');
  imp.addEventListener('click', () => importFile(ctx, imp));
  panel.replaceChildren(
    h('h3', {}, '台账'),
    h('div', { class: 'form-grid' },
      h('label', { for: 'reg-select' }, '台账'), sel,
      h('label', { for: 'reg-state' }, '状态'), h('select', { id: 'reg-state' }, h('option', { value: '' }, '全部')),
      h('label', { for: 'reg-deadline' }, '期限'), h('select', { id: 'reg-deadline' }, h('option', { value: '' }, '全部'),
        ...DEADLINES.map((d) => h('option', { value: d }, d))),
      h('label', { for: 'reg-text' }, '关键字'), h('input', { id: 'reg-text', placeholder: '编号、名称等' }),
      h('label', { for: 'reg-county' }, '县（区）代码'), h('input', { id: 'reg-county', placeholder: '如 640302，留空为全部' })),
    h('div', { class: 'actions' }, run, exp),
    h('div', { id: 'reg-result' }),
    h('div', { id: 'reg-detail' }),
    h('details', { class: 'more' }, h('summary', {}, '导入记录（XLSX/CSV/GeoPackage/Shapefile zip/GeoJSON/拐点 TXT）'),
      h('input', { type: 'file', id: 'reg-import-file' }), imp, h('div', { id: 'reg-import-result' })));
  panel.dataset.loaded = '';
}

export async function onShow(ctx) {
  const panel = document.getElementById('panel-registers');
  if (panel.dataset.loaded) return;
  panel.dataset.loaded = '1';
  try {
    await reloadRegisters(ctx);
  } catch (err) {
    q('reg-result').replaceChildren(message(err.message, err.notAvailable ? 'warn' : 'error'));
  }
}
