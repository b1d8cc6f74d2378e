// 导出 panel: the current map as a PNG with title, legend, scale and date
// (the map keeps its drawing buffer, so map.getCanvas() can be read).

import { saveBlob } from '../api.js';
import { categoricalLegend, fixedStyle, overlayLegend } from '../mapview.js';
import { busy, h, toast } from '../ui.js';

const FONT = '"Noto Sans CJK SC", "Microsoft YaHei", sans-serif';

function legendEntries(ctx) {
  const entries = [];
  for (const ds of ctx.state.datasets) {
    if (!ds.visible) continue;
    const cat = categoricalLegend(ds);
    if (cat) {
      // only the classes drawn in the current view
      const seen = new Set();
      const id = `ds-${ds.name}-fill`;
      if (ctx.map.getLayer(id)) {
        for (const f of ctx.map.queryRenderedFeatures({ layers: [id] })) seen.add(String(f.properties[cat.field]));
      }
      for (const it of cat.items) if (seen.has(String(it.code))) entries.push({ fill: it.color, text: `${it.code} ${it.name || ''}` });
    } else {
      const s = fixedStyle(ds);
      entries.push({ fill: s.fill, line: s.line, text: ds.title });
    }
  }
  const extra = overlayLegend(ctx.map); // change markers, the checked site …
  if (extra) entries.unshift(extra);
  return entries;
}

function metresPerPixel(map) {
  const y = map.getCanvas().clientHeight / 2;
  const a = map.unproject([0, y]);
  const b = map.unproject([100, y]);
  return a.distanceTo(b) / 100;
}

/** Compose the PNG (data URL): map image, title, legend, scale, north arrow, date. */
export function composePng(ctx, title) {
  const map = ctx.map;
  map.triggerRepaint();
  const src = map.getCanvas();
  const dpr = src.width / src.clientWidth || 1;
  const legend = legendEntries(ctx);
  const titleH = 56 * dpr;
  const legendW = legend.length ? 220 * dpr : 0;
  const out = document.createElement('canvas');
  out.width = src.width + legendW;
  out.height = src.height + titleH + 30 * dpr;
  const g = out.getContext('2d');
  g.fillStyle = '#FFFFFF';
  g.fillRect(0, 0, out.width, out.height);
  g.fillStyle = '#222';
  g.font = `bold ${22 * dpr}px ${FONT}`;
  g.textAlign = 'center';
  g.fillText(title, out.width / 2, 36 * dpr);
  g.drawImage(src, 0, titleH);
  g.strokeStyle = '#333';
  g.lineWidth = dpr;
  g.strokeRect(0.5, titleH + 0.5, src.width - 1, src.height - 1);
  // north arrow
  const nx = src.width - 36 * dpr;
  const ny = titleH + 20 * dpr;
  g.beginPath();
  g.moveTo(nx, ny);
  g.lineTo(nx - 9 * dpr, ny + 28 * dpr);
  g.lineTo(nx, ny + 22 * dpr);
  g.lineTo(nx + 9 * dpr, ny + 28 * dpr);
  g.closePath();
  g.fillStyle = '#222';
  g.fill();
  g.font = `${12 * dpr}px ${FONT}`;
  g.fillText('北', nx, ny + 44 * dpr);
  // scale bar
  const mpp = metresPerPixel(map);
  const target = 120 * mpp;
  const pow = 10 ** Math.floor(Math.log10(target));
  const nice = [1, 2, 5, 10].map((m) => m * pow).filter((m) => m <= target).pop() || pow;
  const px = (nice / mpp) * dpr;
  const sx = 16 * dpr;
  const sy = titleH + src.height - 18 * dpr;
  g.fillStyle = 'rgba(255,255,255,0.8)';
  g.fillRect(sx - 6 * dpr, sy - 18 * dpr, px + 12 * dpr + 60 * dpr, 26 * dpr);
  g.fillStyle = '#222';
  g.fillRect(sx, sy, px, 3 * dpr);
  g.textAlign = 'left';
  g.fillText(nice >= 1000 ? `${nice / 1000} 千米` : `${nice} 米`, sx + px + 6 * dpr, sy + 4 * dpr);
  // legend
  if (legend.length) {
    let y = titleH + 16 * dpr;
    const x = src.width + 14 * dpr;
    g.font = `bold ${14 * dpr}px ${FONT}`;
    g.fillText('图例', x, y);
    y += 12 * dpr;
    g.font = `${12 * dpr}px ${FONT}`;
    for (const e of legend) {
      if (y > out.height - 40 * dpr) {
        g.fillText('……', x, y + 10 * dpr);
        break;
      }
      g.fillStyle = e.fill || '#FFFFFF';
      g.fillRect(x, y, 22 * dpr, 14 * dpr);
      g.strokeStyle = e.line || '#666';
      g.strokeRect(x, y, 22 * dpr, 14 * dpr);
      g.fillStyle = '#222';
      g.fillText(e.text, x + 30 * dpr, y + 12 * dpr);
      y += 20 * dpr;
    }
  }
  g.font = `${11 * dpr}px ${FONT}`;
  g.fillStyle = '#555';
  g.textAlign = 'left';
  const ws = ctx.state.workspace;
  g.fillText(`制图日期：${new Date().toLocaleDateString('zh-CN')}　数据：${ws && ws.name ? ws.name : '本工作空间'}　坐标系：CGCS2000（Web 墨卡托显示）`, 10 * dpr, out.height - 10 * dpr);
  return out.toDataURL('image/png');
}

export function init(ctx) {
  const panel = document.getElementById('panel-export');
  const ws = ctx.state.workspace;
  const titleIn = h('input', { id: 'export-title', value: `${ws && ws.name ? ws.name : ''}土地利用现状图` });
  const btn = h('button', { type: 'button', id: 'export-png', class: 'primary' }, '导出 PNG 图片');
  const printBtn = h('button', { type: 'button', id: 'export-print' }, '打印');
  const preview = h('div', { id: 'export-preview' });
  btn.addEventListener('click', async () => {
    busy(btn, true);
    try {
      await new Promise((resolve) => { ctx.map.once('render', resolve); ctx.map.triggerRepaint(); });
      const url = composePng(ctx, titleIn.value || '专题图');
      const blob = await (await fetch(url)).blob();
      saveBlob(blob, `${titleIn.value || '地图'}.png`);
      preview.replaceChildren(h('img', { src: url, alt: '导出预览', class: 'preview' }));
      toast('已导出 PNG 图片', 'ok');
    } catch (err) {
      toast(`导出失败：${err.message}`, 'error');
    } finally {
      busy(btn, false);
    }
  });
  printBtn.addEventListener('click', () => {
    const url = composePng(ctx, titleIn.value || '专题图');
    const w = window.open('', '_blank');
    if (!w) {
      toast('浏览器阻止了打印窗口，请允许弹出窗口', 'error');
      return;
    }
    w.document.title = titleIn.value;
    const img = w.document.createElement('img');
    img.src = url;
    img.style.maxWidth = '100%';
    img.onload = () => w.print();
    w.document.body.appendChild(img);
  });
  panel.replaceChildren(
    h('h3', {}, '地图导出'),
    h('div', { class: 'form-grid' }, h('label', {}, '图名'), titleIn),
    h('div', { class: 'actions' }, btn, printBtn),
    h('p', { class: 'note' }, '导出当前地图视图，附图名、图例、比例尺、指北针和制图日期。'),
    preview);
  window.__onemap.exportPng = (title) => composePng(ctx, title || titleIn.value);
  window.__onemap.exportLegend = () => legendEntries(ctx).map((e) => e.text);
}
