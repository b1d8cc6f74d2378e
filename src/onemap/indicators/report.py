"""The 体检/评估 report (DOCX, in Chinese) and its tables (XLSX).

The DOCX has, in order: 一、总体情况 (counts, status chart, main findings);
二、指标体检结果 (the city table, status cells coloured); 三、分县（市、区）情况;
四、重点指标分析 (one chart per key indicator: trend and county bars);
五、专题图 (land use, control lines, change hot spots by county);
六、预警与问题 (every 预警/未达标 with its reason, every 缺少数据 with what is
missing); 七、数据来源与说明 (dataset versions, input imports, registry, notes);
附录 指标定义. Charts and maps are drawn with a CJK font
(:mod:`onemap.reports.fonts`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from onemap.indicators._rastermap import extent_of, raster_map
from onemap.indicators.assess import Assessment, IndicatorResult
from onemap.indicators.compute import version_year
from onemap.indicators.inputs import CITY
from onemap.indicators.registry import DIMENSIONS, STATUSES
from onemap.reports import charts
from onemap.reports import docx as rd

__all__ = ["render_maps", "write_assessment_docx", "write_assessment_xlsx"]

_NUMERALS = "一二三四五六七八九十"
#: Map styles of the control lines: dataset → (label, face, edge, width, style, hatch, alpha).
CONTROL_STYLES: dict[str, tuple[str, str | None, str, float, str, str | None, float]] = {
    "YJJBNTTB": ("永久基本农田", "#F3E28B", "#A0522D", 0.6, "-", "////", 0.8),
    "STBHHX": ("生态保护红线", "#7BC47F", "#1B7F3B", 1.0, "-", None, 0.6),
    "CZKFBJ": ("城镇开发边界", None, "#7B1FA2", 1.4, "--", None, 1.0),
    "ZRBHD": ("自然保护地", None, "#00695C", 1.0, "-.", None, 1.0),
}


def _hex(colour: str) -> str:
    return colour.lstrip("#").upper()


def _light(colour: str, mix: float = 0.55) -> str:
    """A lighter tint of a colour for table cells (text stays readable)."""
    c = _hex(colour)
    rgb = [int(c[i:i + 2], 16) for i in (0, 2, 4)]
    return "".join(f"{round(v + (255 - v) * mix):02X}" for v in rgb)


def _shade(cell, fill: str) -> None:
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()
    for old in tcpr.findall(qn("w:shd")):
        tcpr.remove(old)
    tcpr.append(tcpr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto",
                                                qn("w:fill"): fill}))


def _trend_text(trend: dict[str, Any], r: IndicatorResult) -> str:
    if trend.get("points", 0) < 2:
        return "—"
    change = trend["change"]
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    delta = f"{sign}{r.fmt(abs(change))}"
    return f"{trend['assessment']}（{trend['from_year']}→{trend['to_year']} {delta}）"


def _gap_text(u, r: IndicatorResult) -> str:
    if u.gap is None:
        return "—"
    sign = "+" if u.gap > 0 else ("−" if u.gap < 0 else "")
    return f"{sign}{r.fmt(abs(u.gap))}"


def _dimension_order(r: IndicatorResult) -> int:
    return DIMENSIONS.index(r.dimension) if r.dimension in DIMENSIONS else len(DIMENSIONS)


def _sorted(a: Assessment) -> list[IndicatorResult]:
    return sorted(a.indicators, key=_dimension_order)


# ---------------------------------------------------------------------------- maps
def _county_outlines(store, year: int) -> tuple[list[str], np.ndarray]:
    have = {d.name: d for d in store.datasets() if d.versions}
    if "XZQ" not in have:
        return [], np.array([], dtype=object)
    info = None
    for v in have["XZQ"].versions:
        y = version_year(v.version)
        if y is not None and y <= year:
            info = v
    info = info or have["XZQ"].versions[0]
    xzq = store.read("XZQ", info.version, columns=["XZQDM"])
    codes = xzq["XZQDM"].astype(str).str.strip().str.slice(0, 6).to_numpy()
    geoms = np.asarray(xzq.geometry.values, dtype=object)
    out_c, out_g = [], []
    for c in sorted(set(codes)):
        if c.endswith("00") and len(set(codes)) > 1:
            continue
        polys = geoms[codes == c]
        polys = polys[~shapely.is_missing(polys)]
        if len(polys):
            out_c.append(c)
            out_g.append(shapely.union_all(shapely.make_valid(polys)))
    return out_c, np.asarray(out_g, dtype=object)


def _latest(store, dataset: str, year: int):
    have = {d.name: d for d in store.datasets() if d.versions}
    if dataset not in have:
        return None
    best = None
    for v in have[dataset].versions:
        y = version_year(v.version)
        if y is not None and y <= year:
            best = v
    return best


#: Layers with more polygons than this are rasterised (see :mod:`onemap.indicators._rastermap`);
#: control-line layers from a quarter of it.
VECTOR_LIMIT = 20_000


def render_maps(assessment: Assessment, store, *, dpi: int = 150,
                vector_limit: int = VECTOR_LIMIT) -> list[tuple[str, bytes | None, str]]:
    """The thematic maps of the report.

    Parameters
    ----------
    assessment : Assessment
        The assessment (its year; the hot-spot indicator's county values).
    store : onemap.store.Store
        Workspace the layers are read from.
    dpi : int
        Resolution.
    vector_limit : int
        Layers with more polygons are rasterised (control lines: a quarter of it).

    Returns
    -------
    list of (title, png or None, note)
        Land use, control lines, change hot spots; ``png`` is None (with the
        reason in ``note``) when the data are missing.
    """
    from onemap.domain import land_classes
    from onemap.reports.maps import GROUP_COLOURS, MapLayer, render_map

    year = assessment.year
    out: list[tuple[str, bytes | None, str]] = []
    c_codes, c_geoms = _county_outlines(store, year)
    names = dict(assessment.counties)
    outline = MapLayer(list(c_geoms), label="县级行政区", facecolor=None, edgecolor="#333333",
                       linewidth=1.0)
    labels = []
    for c, g in zip(c_codes, c_geoms, strict=True):
        p = shapely.point_on_surface(g)
        labels.append((p.x, p.y, names.get(c, c)))

    # 1. land use
    title = f"{year}年土地利用现状图"
    info = _latest(store, "DLTB", year)
    if info is None:
        out.append((title, None, f"工作空间没有 {year} 年或更早的 DLTB 版本，未绘制"))
    else:
        dltb = store.read("DLTB", info.version, columns=["DLBM"])
        lc = land_classes()
        groups = [lc.bulletin_group(c) if lc.is_valid(str(c)) else "其他土地"
                  for c in dltb["DLBM"].astype(str).str.strip()]
        geoms = np.asarray(dltb.geometry.values, dtype=object)
        faces = np.array([GROUP_COLOURS.get(g, "#CCCCCC") for g in groups], dtype=object)
        present = [g for g in lc.bulletin_groups() if g in set(groups)]
        legend = [(g, GROUP_COLOURS.get(g, "#CCCCCC")) for g in present]
        note = f"数据：DLTB {info.version}（三调工作分类统计分组）"
        if len(geoms) > vector_limit:
            png = raster_map([(geoms, faces, 1.0)], [outline], extent=extent_of(geoms, c_geoms),
                             title=title, labels=labels, legend=legend, note=note, dpi=dpi)
        else:
            layer = MapLayer(list(geoms), facecolors=list(faces), edgecolor="#777777",
                             linewidth=0.2, legend=legend)
            png = render_map([layer, outline], title=title, labels=labels, dpi=dpi, note=note)
        out.append((title, png, f"DLTB {info.version}"))

    # 2. control lines
    title = "三条控制线及自然保护地分布图"
    vectors, rasters, legend, used, every = [], [], [], [], []
    for ds, (label, face, edge, width, style, hatch, alpha) in CONTROL_STYLES.items():
        v = _latest(store, ds, year)
        if v is None:
            continue
        g = store.read(ds, v.version, columns=[])
        if len(g) == 0:
            continue
        geoms = np.asarray(g.geometry.values, dtype=object)
        every.append(geoms)
        used.append(f"{ds} {v.version}")
        if len(geoms) > vector_limit // 4 and face:
            rasters.append((geoms, np.full(len(geoms), face, dtype=object), alpha))
            legend.append((label, face))
        else:
            vectors.append(MapLayer(list(geoms), label=label, facecolor=face, edgecolor=edge,
                                    linewidth=width, linestyle=style, hatch=hatch, alpha=alpha))
    if not used:
        out.append((title, None, "工作空间没有永久基本农田、生态保护红线、城镇开发边界图层，未绘制"))
    else:
        base = [outline] if len(c_geoms) else []
        note = "数据：" + "，".join(used)
        if rasters:
            png = raster_map(rasters, base + vectors, extent=extent_of(*every, c_geoms), title=title,
                             labels=labels, legend=legend, note=note, dpi=dpi)
        else:
            png = render_map(base + vectors, title=title, labels=labels, dpi=dpi, note=note)
        out.append((title, png, "，".join(used)))

    # 3. change hot spots by county
    code = assessment.report.get("hotspot_indicator") or "new_construction"
    title = f"{year}年变化热点（按县）"
    try:
        r = assessment.indicator(code)
    except KeyError:
        r = None
    values = {u.unit: u.value for u in r.units if u.unit != CITY} if r else {}
    if not len(c_geoms) or not any(v is not None for v in values.values()):
        why = "缺少 XZQ 行政区图层" if not len(c_geoms) else f"{r.name if r else code}没有分县数值"
        out.append((title, None, f"{why}，未绘制"))
    else:
        import matplotlib

        cmap = matplotlib.colormaps["OrRd"]
        known = [v for v in values.values() if v is not None]
        vmin, vmax = min(known), max(known)
        span = (vmax - vmin) or 1.0
        faces, legend = [], []
        for c in c_codes:
            v = values.get(c)
            level = 0.55 if vmax == vmin or v is None else 0.2 + 0.7 * (v - vmin) / span
            colour = "#E0E0E0" if v is None else matplotlib.colors.to_hex(cmap(level))
            faces.append(colour)
            legend.append((f"{names.get(c, c)} {r.fmt(v)}", colour))
        layers = [MapLayer(list(c_geoms), facecolors=faces, edgecolor="#333333", linewidth=1.0,
                           legend=legend)]
        bhtb = _change_patches(store, year)
        if bhtb is not None:
            layers.append(MapLayer(list(bhtb), label="变化图斑", facecolor="#8B0000",
                                   edgecolor="#8B0000", linewidth=0.3))
        png = render_map(layers, title=title, labels=labels, dpi=dpi,
                         note=f"着色：{r.name}（{r.unit}），颜色越深数值越大")
        out.append((title, png, r.name))
    return out


def _change_patches(store, year: int) -> np.ndarray | None:
    """Change patches (BHTB) of the year's change set, if one is stored."""
    have = {d.name: d for d in store.datasets() if d.versions}
    if "BHTB" not in have:
        return None
    hits = [v for v in have["BHTB"].versions if str(v.version).split("-")[-1][:4] == str(year)]
    if not hits:
        return None
    g = store.read("BHTB", hits[-1].version, columns=[])
    return np.asarray(g.geometry.values, dtype=object) if len(g) else None


# ---------------------------------------------------------------------------- DOCX
def _chart_for(r: IndicatorResult, a: Assessment, dpi: int) -> bytes:
    city = r.city
    series: dict[str, dict[int, float | None]] = {}
    if city is not None:
        series[city.name] = dict(city.series)
    targets: dict[int, float] = {}
    if city is not None and city.target is not None and not isinstance(city.target, list):
        targets[city.target_year or a.year] = float(city.target)
    bars = {u.name: u.value for u in r.units if u.unit != CITY}
    colours = [a.colours.get(u.status, "#888888") for u in r.units if u.unit != CITY]
    ref = None
    county_targets = {u.target for u in r.units if u.unit != CITY and u.target is not None
                      and not isinstance(u.target, list)}
    if len(county_targets) == 1:
        ref = county_targets.pop()
    if not series:
        series = {u.name: dict(u.series) for u in r.units}
    return charts.indicator_chart(r.name, r.unit, series=series, targets=targets or None,
                                  bars=bars or None, bar_colours=colours, bar_reference=ref,
                                  year=a.year, dpi=dpi)


def write_assessment_docx(assessment: Assessment, path: str | Path, store=None, *,
                          maps: bool = True, dpi: int = 150, vector_limit: int = VECTOR_LIMIT) -> Path:
    """Write the 体检/评估 report as DOCX.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`onemap.indicators.assess`.
    path : str or Path
        Output ``.docx``.
    store : onemap.store.Store, optional
        Workspace for the thematic maps (no maps without it).
    maps : bool
        Draw the thematic maps.
    dpi : int
        Resolution of charts and maps.
    vector_limit : int
        See :func:`render_maps`.

    Returns
    -------
    Path
        The file written.
    """
    a = assessment
    colours = a.colours
    kind_word = "评估" if a.kind == "评估" else "体检"
    doc = rd.new_document(a.title, f"生成时间：{a.generated_at}　指标库版本：{a.registry.get('version', '')}")
    sec = iter(_NUMERALS)

    # 一、总体情况
    rd.add_heading(doc, f"{next(sec)}、总体情况", 1)
    summ = a.summary()
    city = summ["city"]
    basic = sum(1 for r in a.indicators if r.level == "基本")
    period = f"{a.period[0]}—{a.period[1]}年" if a.period else f"{a.year}年"
    rd.add_paragraph(doc, (
        f"本次{kind_word}对{a.city_name}{period}国土空间规划实施情况进行评估，共评估指标 "
        f"{len(a.indicators)} 项（基本指标 {basic} 项、推荐指标 {len(a.indicators) - basic} 项），"
        f"覆盖全市及 {len(a.counties)} 个县（市、区）。全市层面："
        + "，".join(f"{s} {city[s]} 项" for s in STATUSES) + "。"))
    rd.add_picture(doc, charts.status_chart({s: city[s] for s in STATUSES}, colours,
                                            title="全市指标状态统计", dpi=dpi),
                   width_cm=13.0, caption="图 1　全市指标状态统计")
    warn = [w for w in a.warnings() if w["unit"] == CITY]
    if warn:
        rd.add_paragraph(doc, "主要问题：", bold=True)
        for w in warn:
            rd.add_paragraph(doc, f"● {w['name']}（{w['status']}）：{w['reason']}",
                             colour=_hex(colours[w["status"]]))
    else:
        rd.add_paragraph(doc, "全市层面没有预警或未达标指标。")
    if city["缺少数据"]:
        rd.add_paragraph(doc, f"另有 {city['缺少数据']} 项指标全市层面缺少数据，见“预警与问题”。")

    # 二、指标体检结果
    rd.add_heading(doc, f"{next(sec)}、指标{kind_word}结果", 1)
    rows, status_cells = [], []
    for i, r in enumerate(_sorted(a), start=1):
        u = r.city
        if u is None:
            continue
        rows.append([i, r.dimension, r.name, r.level, r.unit, r.fmt(u.value),
                     r.fmt_unit(u.target) if u.target is not None else "—", _gap_text(u, r),
                     _trend_text(u.trend, r), u.status])
        status_cells.append(u.status)
    table = rd.add_table(doc, ["序号", "维度", "指标", "类型", "单位", "现状值", "目标值", "差距", "趋势",
                               "状态"], rows, caption=f"表 1　{a.city_name}指标{kind_word}结果（全市）",
                         font_size_pt=8, widths_cm=(0.9, 1.0, 3.6, 1.0, 1.6, 1.9, 2.3, 1.5, 2.7, 1.3))
    for row, st in zip(table.rows[1:], status_cells, strict=True):
        _shade(row.cells[-1], _light(colours[st]))

    # 三、分县情况
    if a.counties:
        rd.add_heading(doc, f"{next(sec)}、分县（市、区）情况", 1)
        header = ["指标", "单位", "全市"] + [n for _, n in a.counties]
        rows, cell_status = [], []
        for r in _sorted(a):
            by = {u.unit: u for u in r.units}
            keys = [CITY] + [c for c, _ in a.counties]
            rows.append([r.name, r.unit] + [r.fmt(by[k].value) if k in by else "—" for k in keys])
            cell_status.append([by[k].status if k in by else None for k in keys])
        table = rd.add_table(doc, header, rows, caption=f"表 2　分县（市、区）指标值（{a.year} 年）",
                             font_size_pt=8)
        for row, sts in zip(table.rows[1:], cell_status, strict=True):
            for j, st in enumerate(sts):
                if st:
                    _shade(row.cells[2 + j], _light(colours[st]))
        rd.add_paragraph(doc, "单元格底色表示状态：" + "、".join(
            f"{s}（{'绿' if s == '达标' else ''}{'黄' if s == '预警' else ''}{'红' if s == '未达标' else ''}"
            f"{'灰' if s == '缺少数据' else ''}{'蓝灰' if s == '仅监测' else ''}）" for s in STATUSES) + "。",
            size_pt=8)

    # 四、重点指标分析
    rd.add_heading(doc, f"{next(sec)}、重点指标分析", 1)
    fig_no = 2
    for r in _sorted(a):
        if not r.key:
            continue
        rd.add_heading(doc, r.name, 2)
        u = r.city
        rd.add_paragraph(doc, f"定义：{r.definition}")
        rd.add_paragraph(doc, f"计算：{r.formula}；目标：{r.targets or '无'}。")
        if u is not None:
            rd.add_paragraph(doc, f"全市：{u.reason}", colour=_hex(colours[u.status]))
        rd.add_picture(doc, _chart_for(r, a, dpi), width_cm=16.0,
                       caption=f"图 {fig_no}　{r.name}（{r.unit}）")
        fig_no += 1

    # 五、专题图
    rd.add_heading(doc, f"{next(sec)}、专题图", 1)
    if store is None or not maps:
        rd.add_paragraph(doc, "未提供工作空间，未绘制专题图。")
    else:
        for title, png, note in render_maps(a, store, dpi=dpi, vector_limit=vector_limit):
            if png is None:
                rd.add_paragraph(doc, f"{title}：{note}")
            else:
                rd.add_picture(doc, png, width_cm=15.0, caption=f"图 {fig_no}　{title}")
                fig_no += 1

    # 六、预警与问题
    rd.add_heading(doc, f"{next(sec)}、预警与问题", 1)
    warns = a.warnings()
    if warns:
        t = rd.add_table(doc, ["指标", "行政区", "状态", "原因"],
                         [[w["name"], w["unit_name"], w["status"], w["reason"]] for w in warns],
                         caption="表 3　预警和未达标指标", font_size_pt=8, widths_cm=(3.2, 2.2, 1.4, 9.8))
        for row, w in zip(t.rows[1:], warns, strict=True):
            _shade(row.cells[2], _light(colours[w["status"]]))
    else:
        rd.add_paragraph(doc, "没有预警或未达标的指标。")
    miss = a.missing()
    if miss:
        t = rd.add_table(doc, ["指标", "行政区", "缺少的数据"],
                         [[m["name"], m["unit_name"], "；".join(m["missing"])] for m in miss],
                         caption="表 4　缺少数据的指标（补齐后可重新体检）", font_size_pt=8,
                         widths_cm=(3.2, 2.2, 11.2))
        for row in t.rows[1:]:
            _shade(row.cells[2], _light(colours["缺少数据"], 0.75))

    # 七、数据来源与说明
    rd.add_heading(doc, f"{next(sec)}、数据来源与说明", 1)
    ds = a.datasets_used()
    if ds:
        rd.add_table(doc, ["数据集", "版本", "版本编号"],
                     [[d["dataset"], d["version"], d.get("version_id") or ""] for d in ds],
                     caption="表 5　使用的数据集版本", font_size_pt=8)
    imports = a.inputs_used()
    src = a.inputs
    rd.add_paragraph(doc, "填报数据：" + (f"工作空间导入批次 {', '.join(map(str, imports))}"
                                      if imports else "未使用")
                     + (f"（合并至批次 {src.get('latest')}）" if src.get("latest") else "")
                     + (f"；文件 {src.get('file')}" if src.get("file") else "") + "。")
    reg = a.registry
    rd.add_paragraph(doc, f"指标库：{reg.get('where', '')}（版本 {reg.get('version', '')}，"
                          f"SHA-256 {str(reg.get('sha256', ''))[:12]}…）。")
    notes: dict[str, list[str]] = {}
    for r in a.indicators:
        for u in r.units:
            for n in u.notes:
                notes.setdefault(n, [])
                if r.name not in notes[n]:
                    notes[n].append(r.name)
    if notes:
        rd.add_paragraph(doc, "计算说明：", bold=True)
        for n, who in notes.items():
            rd.add_paragraph(doc, f"● {n}（{'、'.join(who)}）", size_pt=9)

    # 附录
    rd.add_heading(doc, "附录　指标定义", 1)
    rd.add_table(doc, ["指标", "维度/类别", "定义", "计算", "依据"],
                 [[f"{r.name}（{r.code}）", f"{r.dimension}/{r.category}（{r.level}）", r.definition,
                   r.formula, r.basis] for r in _sorted(a)],
                 font_size_pt=7.5, widths_cm=(2.8, 2.2, 5.2, 3.8, 2.6))
    return rd.save(doc, path)


# ---------------------------------------------------------------------------- XLSX
XLSX_HEADERS = {
    "dimension": "维度", "category": "类别", "code": "指标代码", "name": "指标名称", "level": "类型",
    "unit": "单位", "unit_code": "行政区代码", "unit_name": "行政区", "value": "现状值",
    "target": "目标值", "target_year": "目标年", "target_kind": "目标说明", "gap": "差距",
    "trend": "趋势", "status": "状态", "reason": "原因", "notes": "计算说明", "missing": "缺少的数据",
    "datasets": "数据集版本", "inputs": "填报数据（导入批次）", "year": "年度",
    "polarity": "指标方向", "definition": "定义", "formula": "计算公式", "targets": "目标",
    "basis": "依据", "sources": "数据来源", "version": "版本", "version_id": "版本编号",
    "item": "项目", "detail": "内容",
}


def _target_cell(t: Any) -> Any:
    if isinstance(t, list):
        return f"{t[0]:g}～{t[1]:g}"
    return t


def _frames(a: Assessment) -> dict[str, pd.DataFrame]:
    main, units, series = [], [], []
    for r in _sorted(a):
        for u in r.units:
            row = {"dimension": r.dimension, "category": r.category, "code": r.code, "name": r.name,
                   "level": r.level, "unit": r.unit, "unit_code": u.code, "unit_name": u.name,
                   "value": u.value, "target": _target_cell(u.target), "target_year": u.target_year,
                   "target_kind": u.target_kind, "gap": u.gap, "trend": _trend_text(u.trend, r),
                   "status": u.status, "reason": u.reason, "notes": "；".join(u.notes),
                   "missing": "；".join(u.missing),
                   "datasets": "，".join(f"{d['dataset']} {d['version']}" for d in u.datasets),
                   "inputs": "，".join(sorted({str(i.get('import_id')) for i in u.inputs
                                              if i.get("import_id") is not None}))}
            units.append(row)
            if u.unit == CITY:
                main.append(row)
            for y, v in u.series.items():
                series.append({"code": r.code, "name": r.name, "unit": r.unit, "unit_code": u.code,
                               "unit_name": u.name, "year": y, "value": v,
                               "status": u.yearly_status.get(y, "")})
    main_cols = ["dimension", "category", "code", "name", "level", "unit", "value", "target",
                 "target_kind", "gap", "trend", "status", "reason", "notes", "datasets", "inputs"]
    unit_cols = ["code", "name", "unit", "unit_code", "unit_name", "value", "target", "target_kind",
                 "gap", "trend", "status", "reason", "missing", "notes", "datasets", "inputs"]
    warn = pd.DataFrame([{"name": w["name"], "unit_name": w["unit_name"], "status": w["status"],
                          "value": w["value"], "target": _target_cell(w["target"]),
                          "reason": w["reason"]} for w in a.warnings()],
                        columns=["name", "unit_name", "status", "value", "target", "reason"])
    miss = pd.DataFrame([{"name": m["name"], "unit_name": m["unit_name"],
                          "missing": "；".join(m["missing"])} for m in a.missing()],
                        columns=["name", "unit_name", "missing"])
    src = [{"item": "数据集", "detail": f"{d['dataset']} {d['version']}（版本编号 {d.get('version_id')}）"}
           for d in a.datasets_used()]
    src.append({"item": "填报数据导入批次", "detail": ", ".join(map(str, a.inputs_used())) or "未使用"})
    src.append({"item": "指标库", "detail": f"{a.registry.get('where', '')} 版本 {a.registry.get('version', '')}"
                                            f" SHA-256 {a.registry.get('sha256', '')}"})
    src.append({"item": "生成时间", "detail": a.generated_at})
    defs = pd.DataFrame([{"code": r.code, "name": r.name, "dimension": r.dimension,
                          "category": r.category, "level": r.level, "unit": r.unit,
                          "polarity": r.polarity, "definition": r.definition, "formula": r.formula,
                          "targets": r.targets, "basis": r.basis, "sources": "；".join(r.sources)}
                         for r in _sorted(a)])
    return {
        "指标总表": pd.DataFrame(main, columns=main_cols),
        "分县指标": pd.DataFrame(units, columns=unit_cols),
        "历年数值": pd.DataFrame(series, columns=["code", "name", "unit", "unit_code", "unit_name",
                                               "year", "value", "status"]),
        "预警": warn,
        "缺少数据": miss,
        "数据来源": pd.DataFrame(src, columns=["item", "detail"]),
        "指标定义": defs,
    }


def write_assessment_xlsx(assessment: Assessment, path: str | Path, filing=None) -> Path:
    """Write the assessment tables as filed XLSX (status cells coloured).

    Sheets: 指标总表 (city), 分县指标 (every unit), 历年数值 (the trend series),
    预警, 缺少数据, 数据来源, 指标定义; indicators are named, never shown by their keys,
    values have two decimals, dates are Chinese.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`onemap.indicators.assess`.
    path : str or Path
        Output ``.xlsx``.
    filing : onemap.reports.xlsx.Filing, optional
        填报单位 and date (default: the city's 自然资源局 per the layout, dated when computed).

    Returns
    -------
    Path
        The file written.
    """
    import re

    from openpyxl import load_workbook
    from openpyxl.styles import PatternFill

    from onemap.reports.xlsx import Column, Filing, Sheet, chinese_date, layout, write_official_workbook

    internal_key = re.compile(r"（[a-z][a-z0-9]*(?:_[a-z0-9]+)+）")  # 名称（input_key）: not for readers

    a = assessment
    if filing is None:
        on = pd.Timestamp(a.generated_at).date() if a.generated_at else None
        filing = Filing(region=a.city_name, on=on or pd.Timestamp.now().date(),
                        filing_unit=layout()["filing"]["filing_unit"].format(region=a.city_name))
    frames = _frames(a)
    text, num = "text", "number"
    spec = {
        "指标总表": (a.title + "指标总表", [("dimension", text), ("category", text), ("name", text),
                                       ("level", text), ("unit", text), ("value", num),
                                       ("target", text), ("target_kind", text), ("gap", num),
                                       ("trend", text), ("status", text), ("reason", text),
                                       ("notes", text)]),
        "分县指标": (a.title + "分县指标表", [("unit_name", text), ("unit_code", "code"), ("name", text),
                                         ("unit", text), ("value", num), ("target", text),
                                         ("gap", num), ("trend", text), ("status", text),
                                         ("reason", text), ("missing", text)]),
        "历年数值": (f"{a.city_name}规划实施指标历年数值表", [("name", text), ("unit", text),
                                                    ("unit_name", text), ("year", "code"),
                                                    ("value", num), ("status", text)]),
        "预警": (f"{a.city_name}{a.year}年度预警和未达标指标表", [("name", text), ("unit_name", text),
                                                       ("status", text), ("value", num),
                                                       ("target", text), ("reason", text)]),
        "缺少数据": (f"{a.city_name}{a.year}年度缺少数据的指标表", [("name", text), ("unit_name", text),
                                                        ("missing", text)]),
        "数据来源": (f"{a.city_name}{a.year}年度体检数据来源", [("item", text), ("detail", text)]),
        "指标定义": (f"{a.city_name}规划实施指标定义表", [("name", text), ("dimension", text),
                                                ("category", text), ("level", text), ("unit", text),
                                                ("polarity", text), ("definition", text),
                                                ("formula", text), ("targets", text),
                                                ("basis", text), ("sources", text)]),
    }
    sheets = []
    for name, (title, cols) in spec.items():
        frame = frames[name].copy()
        if name == "数据来源":
            frame.loc[frame["item"] == "生成时间", "detail"] = chinese_date(a.generated_at)
        columns = [Column(c, XLSX_HEADERS.get(c, c), kind=k) for c, k in cols]
        rows = []
        for rec in frame.to_dict("records"):
            row = {}
            for c, k in cols:
                v = rec.get(c)
                if k == num:
                    v = pd.to_numeric(v, errors="coerce") if not isinstance(v, str) else v
                elif v is not None and not (isinstance(v, float) and v != v):
                    v = internal_key.sub("", str(v))
                row[c] = v
            rows.append(row)
        sheets.append(Sheet(name, title, columns, rows, unit=""))
    out = write_official_workbook(path, sheets, filing)
    wb = load_workbook(out)
    fills = {s: PatternFill("solid", fgColor=_light(c)) for s, c in a.colours.items()}
    for name, (_, cols) in spec.items():
        keys = [c for c, _ in cols]
        if "status" not in keys:
            continue
        ws = wb[name]
        col = keys.index("status") + 1
        for i in range(len(frames[name])):
            cell = ws.cell(row=4 + i, column=col)
            if cell.value in fills:
                cell.fill = fills[cell.value]
    wb.save(out)
    return Path(out)

