// 图层 panel: the layer tree from /api/catalog: visibility, version, opacity, legend.

import { addDataset, categoricalLegend, fixedStyle, setOpacity, setVisible } from '../mapview.js';
import { h, message, fmtNumber } from '../ui.js';

const GROUPS = {
  '01': '耕地', '02': '种植园用地', '03': '林地', '04': '草地', '05': '商业服务业用地', '06': '工矿用地',
  '07': '住宅用地', '08': '公共管理与公共服务用地', '09': '特殊用地', '10': '交通运输用地',
  '11': '水域及水利设施用地', '12': '其他土地',
};

function legendBlock(ds) {
  const cat = categoricalLegend(ds);
  if (cat) {
    const byGroup = new Map();
    for (const it of cat.items) {
      const g = String(it.code).slice(0, 2);
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g).push(it);
    }
    return h('details', { class: 'legend', 'data-dataset': ds.name },
      h('summary', {}, `图例（${cat.field}）`),
      [...byGroup.entries()].map(([g, items]) => h('div', { class: 'legend-group' },
        h('div', { class: 'legend-group-title' }, `${g} ${GROUPS[g] || ''}`),
        items.map((it) => h('div', { class: 'legend-item', title: `${it.code} ${it.name || ''}` },
          h('span', { class: 'swatch', style: `background:${it.color}` }),
          h('span', { class: 'code' }, it.code), h('span', {}, it.name || ''))))));
  }
  const s = fixedStyle(ds);
  return h('div', { class: 'legend-item single' },
    h('span', { class: 'swatch', style: `background:${s.fill || 'transparent'};border:2px solid ${s.line}` }),
    h('span', {}, ds.title));
}

function versionLabel(v) {
  return `${v.version}${v.synthetic ? '（模拟）' : ''}`;
}

function row(ctx, ds) {
  const map = ctx.map;
  const toggle = h('input', { type: 'checkbox', id: `layer-toggle-${ds.name}`, 'data-dataset': ds.name });
  toggle.checked = !!ds.visible;
  toggle.addEventListener('change', () => setVisible(map, ds, toggle.checked));

  const select = h('select', { id: `layer-version-${ds.name}`, title: '版本' },
    ds.versions.map((v) => h('option', { value: v.id }, versionLabel(v))));
  select.value = ds.current.id;
  select.addEventListener('change', () => {
    ds.current = ds.versions.find((v) => String(v.id) === select.value) || ds.current;
    addDataset(map, ds);
    info.textContent = infoText(ds);
  });

  const opacity = h('input', { type: 'range', min: 0, max: 100, value: Math.round((ds.opacity ?? 1) * 100), id: `layer-opacity-${ds.name}`, title: '不透明度' });
  opacity.addEventListener('input', () => setOpacity(map, ds, Number(opacity.value) / 100));

  const info = h('div', { class: 'layer-info' }, infoText(ds));
  return h('li', { class: 'layer', 'data-dataset': ds.name },
    h('label', { class: 'layer-title' }, toggle, h('span', {}, ds.title), h('span', { class: 'code' }, ds.name)),
    h('div', { class: 'layer-controls' }, h('span', {}, '版本'), select, h('span', {}, '不透明度'), opacity),
    info,
    legendBlock(ds));
}

function infoText(ds) {
  const v = ds.current;
  const parts = [];
  if (v.feature_count !== undefined && v.feature_count !== null) parts.push(`${fmtNumber(v.feature_count, 0)} 个要素`);
  if (v.created_at) parts.push(`入库于 ${String(v.created_at).replace('T', ' ').slice(0, 16)}`);
  if (v.synthetic) parts.push('模拟数据');
  return parts.join('，');
}

export function init(ctx) {
  const panel = document.getElementById('panel-layers');
  const { datasets } = ctx.state;
  const children = [h('h3', {}, '图层目录')];
  if (ctx.state.errors.length) children.push(...ctx.state.errors.map((e) => message(e, 'error')));
  if (!datasets.length) {
    children.push(message('目录中还没有可显示的数据集。请先用 onemap ingest 入库数据。', 'warn'));
  } else {
    children.push(h('ul', { class: 'layer-tree' }, datasets.map((ds) => row(ctx, ds))));
  }
  children.push(h('p', { class: 'note' }, '地图为 Web 墨卡托显示；数据以 CGCS2000 入库，面积按椭球面积计算。'));
  panel.replaceChildren(...children);
}
