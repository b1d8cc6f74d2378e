// 指标 panel: the indicator dashboard. ECharts charts of the assessment (/api/assess), the
// indicator values per unit (/api/indicators) and the land-use summary (/api/stats).

import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { api, download } from '../api.js';
import COLORS from '../../../domain/data/symbology.json';
import { busy, fmtNumber, h, label, message, renderObject, table, toast, fill } from '../ui.js';

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

const FONT = '"Noto Sans CJK SC", "Microsoft YaHei", sans-serif';
const charts = new Map();
let loadedFor = null;
let resizeHooked = false;

function q(id) { return document.getElementById(id); }

function chart(id) {
  const el = q(id);
  let c = charts.get(id);
  if (c && c.getDom() !== el) {
    c.dispose();
    c = null;
  }
  if (!c) {
    c = echarts.init(el, null, { renderer: 'canvas' });
    charts.set(id, c);
  }
  return c;
}

function chartBox(id, height = 260) {
  return h('div', { id, class: 'chart', style: `height:${height}px` });
}

function years(ctx) {
  const ds = ctx.datasetByName('DLTB') || ctx.state.datasets[0];
  const ys = ds ? ds.versions.map((v) => String(v.version).match(/\d{4}/)).filter(Boolean).map((m) => m[0]) : [];
  const uniq = [...new Set(ys)].sort();
  return uniq.length ? uniq : [String(new Date().getFullYear())];
}

/** The list of indicator records in an assessment object, wherever it is. */
function indicatorList(res) {
  if (!res || typeof res !== 'object') return [];
  for (const k of ['indicators', 'items', 'results', 'values', 'rows']) {
    if (Array.isArray(res[k]) && res[k].length && typeof res[k][0] === 'object') return res[k];
  }
  for (const v of Object.values(res)) {
    if (Array.isArray(v) && v.length && v[0] && typeof v[0] === 'object' && 'value' in v[0]) return v;
  }
  return [];
}

function nameOf(r) {
  return r.name || r.title || r.label || r.code || r.id || '';
}

function statusOf(r) {
  if (typeof r.met === 'boolean') return r.met;
  if (typeof r.pass === 'boolean') return r.pass;
  if (typeof r.ok === 'boolean') return r.ok;
  if (typeof r.status === 'string') return !/未|不|fail|bad|warn|超/.test(r.status);
  return null;
}

function renderAssessGeneric(res) {
  const out = q('assess-result');
  const list = indicatorList(res);
  const children = [];
  if (list.length) {
    children.push(chartBox('chart-assess', Math.max(220, list.length * 34 + 60)));
    const rest = { ...res };
    for (const [k, v] of Object.entries(res)) if (v === list) delete rest[k];
    children.push(table(list, { maxRows: 100 }));
    children.push(renderObject(rest));
  } else {
    children.push(renderObject(res));
  }
  out.replaceChildren(...children);
  if (!list.length) return;
  const withPct = list.map((r) => {
    const v = Number(r.value);
    const t = Number(r.target);
    const pct = Number.isFinite(v) && Number.isFinite(t) && t !== 0 ? (v / t) * 100 : null;
    return { name: nameOf(r), value: v, target: t, unit: r.unit || '', pct, ok: statusOf(r) };
  });
  const usePct = withPct.some((r) => r.pct !== null);
  chart('chart-assess').setOption({
    textStyle: { fontFamily: FONT },
    title: { text: usePct ? '指标完成度（实际值 / 目标值，%）' : '指标值', textStyle: { fontSize: 13 } },
    tooltip: {
      trigger: 'axis',
      formatter: (ps) => {
        const r = withPct[ps[0].dataIndex];
        return `${r.name}<br/>实际值：${fmtNumber(r.value, 2)} ${r.unit}${Number.isFinite(r.target) ? `<br/>目标值：${fmtNumber(r.target, 2)} ${r.unit}` : ''}`;
      },
    },
    grid: { left: 150, right: 30, top: 36, bottom: 24 },
    xAxis: { type: 'value', axisLabel: { formatter: usePct ? '{value}%' : '{value}' } },
    yAxis: { type: 'category', inverse: true, data: withPct.map((r) => r.name), axisLabel: { width: 140, overflow: 'truncate' } },
    series: [{
      type: 'bar',
      data: withPct.map((r) => ({
        value: usePct ? (r.pct === null ? 0 : Number(r.pct.toFixed(1))) : r.value,
        itemStyle: { color: r.ok === false ? '#E6553C' : r.ok === true ? '#3CA050' : '#4682C8' },
      })),
      label: { show: true, position: 'right', formatter: usePct ? '{c}%' : '{c}' },
      markLine: usePct ? { symbol: 'none', data: [{ xAxis: 100 }], lineStyle: { color: '#888', type: 'dashed' }, label: { formatter: '目标' } } : undefined,
    }],
  });
}

function renderIndicatorsGeneric(res) {
  const out = q('indicators-result');
  const list = indicatorList(res);
  out.replaceChildren(list.length ? table(list, { maxRows: 200 }) : renderObject(res));
}

const STATUS_COLOURS = { 达标: '#2E7D32', 预警: '#F9A825', 未达标: '#C62828', 缺少数据: '#9E9E9E', 仅监测: '#5B7A99' };

/** Indicators of the OneMap engine: [{code, name, unit, units: [{unit, name, value, target, status, series}]}]. */
function isUnitIndicators(res) {
  return res && Array.isArray(res.indicators) && res.indicators.length
    && Array.isArray(res.indicators[0].units);
}

function cityUnit(ind) {
  return ind.units.find((u) => u.unit === '市域' || u.level === '市域') || ind.units[0];
}

function countyUnits(ind) {
  const city = cityUnit(ind);
  return ind.units.filter((u) => u !== city);
}

function fmtValue(v, decimals = 2) {
  return v === null || v === undefined ? '—' : fmtNumber(v, decimals);
}

function statusCell(status, colours) {
  const c = (colours && colours[status]) || STATUS_COLOURS[status] || '#666';
  return h('td', { class: 'status-cell' }, h('span', { class: 'status-dot', style: `background:${c}` }), status || '—');
}

function renderAssess(res) {
  if (!isUnitIndicators(res)) {
    renderAssessGeneric(res);
    return;
  }
  const out = q('assess-result');
  const colours = { ...STATUS_COLOURS, ...(res.colours || {}) };
  const summary = (res.summary && (res.summary.city || res.summary.all)) || {};
  const rows = res.indicators.map((ind) => ({ ind, u: cityUnit(ind) }));
  const table = h('table', { class: 'data', id: 'assess-table' },
    h('thead', {}, h('tr', {}, ['指标', '现状值', '目标值', '单位', '状态', '趋势'].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows.map(({ ind, u }) => h('tr', { 'data-code': ind.code, title: u.reason || ind.definition || '' },
      h('td', {}, ind.name), h('td', { class: 'num' }, fmtValue(u.value, ind.decimals ?? 2)),
      h('td', { class: 'num' }, u.target === null || u.target === undefined ? '—' : `${u.target_kind || ''}${fmtValue(u.target, ind.decimals ?? 2)}`),
      h('td', { class: 'unit' }, ind.unit || ''), statusCell(u.status, colours),
      h('td', {}, (u.trend && u.trend.direction) || '—')))));
  const warnings = Array.isArray(res.warnings) ? res.warnings : [];
  fill(out,
    h('p', { class: 'note' }, res.title || ''),
    chartBox('chart-assess-summary', 220),
    chartBox('chart-assess', 240),
    warnings.length ? h('div', {}, h('h4', {}, '预警与未达标'), h('ul', { class: 'messages' },
      warnings.map((w) => h('li', {}, `${w.name}（${w.unit_name || w.unit}）：${w.reason}`)))) : null,
    table,
  );
  const statusNames = Object.keys(summary);
  chart('chart-assess-summary').setOption({
    textStyle: { fontFamily: FONT },
    title: { text: `市域指标状态（共 ${res.indicators.length} 项）`, textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'item', formatter: '{b}：{c} 项（{d}%）' },
    legend: { bottom: 0 },
    series: [{
      type: 'pie', radius: ['30%', '55%'], center: ['50%', '58%'],
      data: statusNames.map((k) => ({ name: k, value: summary[k], itemStyle: { color: colours[k] } })).filter((d) => d.value),
      label: { formatter: '{b} {c}' },
    }],
  });
  const withTarget = rows.filter(({ u }) => typeof u.value === 'number' && typeof u.target === 'number' && u.target !== 0);
  chart('chart-assess').setOption({
    textStyle: { fontFamily: FONT },
    title: { text: withTarget.length ? '有目标的指标：现状值 / 目标值（%）' : '没有设定目标的指标（请填报目标值）', textStyle: { fontSize: 13 } },
    tooltip: {
      trigger: 'axis',
      formatter: (ps) => {
        const { ind, u } = withTarget[ps[0].dataIndex];
        return `${ind.name}<br/>现状：${fmtValue(u.value)} ${ind.unit || ''}<br/>目标：${fmtValue(u.target)} ${ind.unit || ''}<br/>${u.status}`;
      },
    },
    grid: { left: 130, right: 40, top: 32, bottom: 20 },
    xAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
    yAxis: { type: 'category', inverse: true, data: withTarget.map(({ ind }) => ind.name), axisLabel: { width: 120, overflow: 'truncate' } },
    series: [{
      type: 'bar',
      data: withTarget.map(({ u }) => ({ value: Number(((u.value / u.target) * 100).toFixed(1)), itemStyle: { color: colours[u.status] || '#4682C8' } })),
      label: { show: true, position: 'right', formatter: '{c}%' },
      markLine: { symbol: 'none', data: [{ xAxis: 100 }], lineStyle: { color: '#888', type: 'dashed' }, label: { formatter: '目标' } },
    }],
  });
}

function renderIndicators(res) {
  if (!isUnitIndicators(res)) {
    renderIndicatorsGeneric(res);
    return;
  }
  const out = q('indicators-result');
  const inds = res.indicators.filter((ind) => countyUnits(ind).some((u) => typeof u.value === 'number'));
  if (!inds.length) {
    out.replaceChildren(message('各县（区）暂无可比较的指标值。', 'info'));
    return;
  }
  const sel = h('select', { id: 'indicator-select' }, inds.map((ind) => h('option', { value: ind.code }, `${ind.name}（${ind.unit || ''}）`)));
  const draw = () => {
    const ind = inds.find((x) => x.code === sel.value) || inds[0];
    const units = countyUnits(ind);
    chart('chart-indicator-units').setOption({
      textStyle: { fontFamily: FONT },
      title: { text: `${ind.name}：各县（区）${res.year || ''}`, textStyle: { fontSize: 13 } },
      tooltip: { trigger: 'axis' },
      grid: { left: 60, right: 20, top: 36, bottom: 30 },
      xAxis: { type: 'category', data: units.map((u) => u.name || u.unit) },
      yAxis: { type: 'value', name: ind.unit || '' },
      series: [{
        type: 'bar', data: units.map((u) => ({ value: u.value, itemStyle: { color: STATUS_COLOURS[u.status] || '#4682C8' } })),
        label: { show: true, position: 'top', formatter: (p) => fmtValue(p.value, ind.decimals ?? 2) },
      }],
    }, true);
    const city = cityUnit(ind);
    const ys = Object.keys(city.series || {}).sort();
    chart('chart-indicator-series').setOption({
      textStyle: { fontFamily: FONT },
      title: { text: `${ind.name}：历年（${city.name || '市域'}）`, textStyle: { fontSize: 13 } },
      tooltip: { trigger: 'axis' },
      grid: { left: 60, right: 20, top: 36, bottom: 30 },
      xAxis: { type: 'category', data: ys },
      yAxis: { type: 'value', name: ind.unit || '', scale: true },
      series: [{ type: 'line', data: ys.map((y) => city.series[y]), symbolSize: 8 }],
    }, true);
  };
  sel.addEventListener('change', draw);
  out.replaceChildren(h('div', { class: 'form-grid' }, h('label', {}, '指标'), sel),
    chartBox('chart-indicator-units', 240), chartBox('chart-indicator-series', 200));
  draw();
}

function renderStats(res) {
  const out = q('stats-result');
  const groups = (res && res.groups_hectare) || [];
  if (!groups.length) {
    out.replaceChildren(renderObject(res));
    return;
  }
  const keys = Object.keys(groups[0]);
  const textKeys = keys.filter((k) => typeof groups[0][k] === 'string');
  const numKeys = keys.filter((k) => typeof groups[0][k] === 'number' && !/合计|total|sum|code|代码/i.test(k));
  const unitKey = textKeys.find((k) => /name|名称/i.test(k)) || textKeys[0];
  const isTotal = (g) => textKeys.some((k) => /合计|总计|^total$/i.test(String(g[k] ?? '')));
  const units = groups.filter((g) => !isTotal(g));
  const unitLabel = (g) => String(g[unitKey] || textKeys.map((k) => g[k]).find(Boolean) || '');
  const groupColor = (k) => COLORS.groups[k] || undefined;
  const totals = numKeys.map((k) => ({
    name: label(k),
    value: Number(units.reduce((s, g) => s + (Number(g[k]) || 0), 0).toFixed(2)),
    itemStyle: groupColor(k) ? { color: groupColor(k), borderColor: '#fff', borderWidth: 1 } : undefined,
  }));
  out.replaceChildren(chartBox('chart-stats-pie', 280), chartBox('chart-stats-bar', 300), table(groups, { maxRows: 50 }));
  chart('chart-stats-pie').setOption({
    textStyle: { fontFamily: FONT },
    title: { text: `土地利用结构（公顷）${res.source && res.source.version ? ` · ${res.source.version}` : ''}`, textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'item', formatter: '{b}：{c} 公顷（{d}%）' },
    legend: { type: 'scroll', bottom: 0 },
    series: [{ type: 'pie', radius: ['30%', '58%'], center: ['50%', '54%'], data: totals, label: { formatter: '{b}\n{d}%' } }],
  });
  chart('chart-stats-bar').setOption({
    textStyle: { fontFamily: FONT },
    title: { text: '各单位地类构成（公顷）', textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 60, right: 20, top: 36, bottom: 60 },
    xAxis: { type: 'category', data: units.map(unitLabel) },
    yAxis: { type: 'value' },
    series: numKeys.map((k) => ({
      type: 'bar', stack: 'all', name: label(k), data: units.map((g) => g[k]),
      itemStyle: groupColor(k) ? { color: groupColor(k) } : undefined,
    })),
  });
}

async function section(id, fn) {
  const out = q(id);
  out.replaceChildren(message('正在加载…'));
  try {
    await fn();
  } catch (err) {
    out.replaceChildren(message(err.message, err.notAvailable ? 'warn' : 'error'));
  }
}

async function load(ctx) {
  const year = q('dash-year').value;
  loadedFor = year;
  const dltb = ctx.datasetByName('DLTB');
  const v = dltb && (dltb.versions.find((x) => String(x.version).includes(year)) || dltb.current);
  await Promise.all([
    section('assess-result', async () => renderAssess(await api('/api/assess', { query: { year } }))),
    section('indicators-result', async () => renderIndicators(await api('/api/indicators', { query: { year } }))),
    section('stats-result', async () => {
      if (!v) throw new Error('目录中没有地类图斑（DLTB）数据');
      renderStats(await api('/api/stats', { query: { dataset: 'DLTB', version: v.version, by: 'county' } }));
    }),
  ]);
  resize();
}

function resize() {
  for (const c of charts.values()) c.resize();
}

export function init(ctx) {
  const panel = document.getElementById('panel-dashboard');
  const ys = years(ctx);
  const yearSel = h('select', { id: 'dash-year' }, ys.map((y) => h('option', { value: y }, `${y} 年`)));
  yearSel.value = ys[ys.length - 1];
  const btn = h('button', { type: 'button', id: 'dash-load', class: 'primary' }, '刷新');
  btn.addEventListener('click', async () => { busy(btn, true); await load(ctx); busy(btn, false); });
  const docx = h('button', { type: 'button', id: 'dash-docx' }, '下载考核报告（DOCX）');
  docx.addEventListener('click', async () => {
    busy(docx, true);
    try {
      const r = await download('/api/assess/report.docx', `指标考核报告_${yearSel.value}.docx`, { year: yearSel.value });
      toast(`已下载 ${r.name}`, 'ok');
    } catch (err) {
      toast(err.message, 'error');
    } finally {
      busy(docx, false);
    }
  });
  panel.replaceChildren(
    h('h3', {}, '指标看板'),
    h('div', { class: 'form-grid' }, h('label', {}, '年度'), yearSel),
    h('div', { class: 'actions' }, btn, docx),
    h('h4', {}, '考核评估'), h('div', { id: 'assess-result' }),
    h('h4', {}, '各单位指标值'), h('div', { id: 'indicators-result' }),
    h('h4', {}, '土地利用现状'), h('div', { id: 'stats-result' }));
  loadedFor = null;
  if (!resizeHooked) {
    resizeHooked = true;
    window.addEventListener('resize', resize);
  }
}

export function onShow(ctx) {
  if (loadedFor === null) load(ctx);
  else setTimeout(resize, 0);
}
