// 对比 panel: two versions of a dataset side by side. The main map shows the left version; a
// second, synchronised map above it shows the right version, clipped at a draggable divider.

import { addDataset, createMap, ensureOverlay, setOverlay } from '../mapview.js';
import { h, message } from '../ui.js';
import { init as refreshLayers } from './layers.js';

let cmp = null;

function els() {
  return {
    panel: document.getElementById('panel-compare'),
    mapEl: document.getElementById('compare-map'),
    divider: document.getElementById('compare-divider'),
    labels: document.getElementById('compare-labels'),
    left: document.getElementById('compare-left-label'),
    right: document.getElementById('compare-right-label'),
  };
}

function versionText(v) {
  return `${v.version}${v.synthetic ? '（模拟）' : ''}`;
}

export function init(ctx) {
  const { panel } = els();
  const candidates = ctx.state.datasets.filter((d) => d.versions.length >= 1);
  if (!candidates.length) {
    panel.replaceChildren(h('h3', {}, '版本对比'), message('目录中没有可对比的数据集。', 'warn'));
    return;
  }
  const preferred = candidates.find((d) => d.name === 'DLTB' && d.versions.length >= 2)
    || candidates.find((d) => d.versions.length >= 2) || candidates[0];
  const dsSel = h('select', { id: 'compare-dataset' }, candidates.map((d) => h('option', { value: d.name }, `${d.title}（${d.name}）`)));
  dsSel.value = preferred.name;
  const leftSel = h('select', { id: 'compare-left' });
  const rightSel = h('select', { id: 'compare-right' });
  const fill = () => {
    const ds = ctx.datasetByName(dsSel.value);
    const opts = () => ds.versions.map((v) => h('option', { value: v.id }, versionText(v)));
    leftSel.replaceChildren(...opts());
    rightSel.replaceChildren(...opts());
    leftSel.value = ds.versions[Math.max(0, ds.versions.length - 2)].id;
    rightSel.value = ds.versions[ds.versions.length - 1].id;
  };
  dsSel.addEventListener('change', fill);
  fill();
  const note = h('div', { id: 'compare-note' });
  const start = h('button', { type: 'button', id: 'compare-start', class: 'primary' }, '开始对比');
  const stop = h('button', { type: 'button', id: 'compare-stop' }, '结束对比');
  start.addEventListener('click', () => {
    const ds = ctx.datasetByName(dsSel.value);
    const left = ds.versions.find((v) => String(v.id) === leftSel.value);
    const right = ds.versions.find((v) => String(v.id) === rightSel.value);
    if (left === right) note.replaceChildren(message('左右选择了同一版本，请选择两个不同版本。', 'warn'));
    else note.replaceChildren();
    startCompare(ctx, ds, left, right);
  });
  stop.addEventListener('click', () => stopCompare());
  panel.replaceChildren(
    h('h3', {}, '版本对比（卷帘）'),
    h('div', { class: 'form-grid' },
      h('label', {}, '数据集'), dsSel,
      h('label', {}, '左侧版本'), leftSel,
      h('label', {}, '右侧版本'), rightSel),
    h('div', { class: 'actions' }, start, stop),
    note,
    h('p', { class: 'note' }, '拖动地图中间的分隔条查看两个版本的差异；两侧地图同步缩放和平移。'),
  );
  if (preferred.versions.length < 2) note.replaceChildren(message('该数据集只有一个版本，入库新版本后即可对比。', 'info'));
}

export function startCompare(ctx, ds, left, right) {
  stopCompare();
  const main = ctx.map;
  const e = els();
  ds.current = left;
  ds.visible = true;
  addDataset(main, ds);
  refreshLayers(ctx);
  e.mapEl.hidden = false;
  e.divider.hidden = false;
  e.labels.hidden = false;
  e.left.textContent = `左：${ds.title} ${versionText(left)}`;
  e.right.textContent = `右：${ds.title} ${versionText(right)}`;
  const map2 = createMap(e.mapEl, { bounds: main.getBounds().toArray(), interactive: false });
  const sync = () => map2.jumpTo({ center: main.getCenter(), zoom: main.getZoom(), bearing: main.getBearing(), pitch: main.getPitch() });
  map2.on('load', () => {
    for (const d of [...ctx.state.datasets].reverse()) {
      if (!d.visible) continue;
      addDataset(map2, d === ds ? { ...d, current: right } : d);
    }
    ensureOverlay(map2);
    setOverlay(map2, main.__overlayFeatures || []);
    sync();
  });
  main.on('move', sync);
  const wrap = document.getElementById('map-wrap');
  let x = wrap.clientWidth / 2;
  const place = () => {
    e.mapEl.style.clipPath = `inset(0 0 0 ${x}px)`;
    e.divider.style.left = `${x}px`;
  };
  const onDown = (ev) => {
    ev.preventDefault();
    e.divider.setPointerCapture(ev.pointerId);
    const onMove = (mv) => {
      const r = wrap.getBoundingClientRect();
      x = Math.max(0, Math.min(r.width, mv.clientX - r.left));
      place();
    };
    const onUp = () => {
      e.divider.removeEventListener('pointermove', onMove);
      e.divider.removeEventListener('pointerup', onUp);
    };
    e.divider.addEventListener('pointermove', onMove);
    e.divider.addEventListener('pointerup', onUp);
  };
  e.divider.addEventListener('pointerdown', onDown);
  place();
  cmp = { map: map2, main, sync, onDown, ds, left, right, setX: (v) => { x = v; place(); } };
  window.__onemap.compare = cmp;
}

export function stopCompare() {
  if (!cmp) return;
  const e = els();
  cmp.main.off('move', cmp.sync);
  e.divider.removeEventListener('pointerdown', cmp.onDown);
  cmp.map.remove();
  e.mapEl.hidden = true;
  e.divider.hidden = true;
  e.labels.hidden = true;
  cmp = null;
  window.__onemap.compare = null;
}
