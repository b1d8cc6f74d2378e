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

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import yaml

from onemap.indicators._rastermap import extent_of, raster_map
from onemap.indicators.assess import Assessment, IndicatorResult
from onemap.indicators.compute import version_year
from onemap.indicators.inputs import CITY
from onemap.indicators.registry import DIMENSIONS, STATUSES
from onemap.reports import charts
from onemap.reports.document import DocumentInfo, OfficialDocument, synthetic_sources
from onemap.reports.numbers import fmt_number

__all__ = ["render_maps", "write_assessment_docx", "write_assessment_xlsx"]

_NUMERALS = "一二三四五六七八九十"
#: Map styles of the control lines: dataset → (label, face, edge, width, style, hatch, alpha).
CONTROL_STYLES: dict[str, tuple[str, str | None, str, float, str, str | None, float]] = {
    "YJJBNTTB": ("永久基本农田", "#F3E28B", "#A0522D", 0.6, "-", "////", 0.55),
    "STBHHX": ("生态保护红线", "#7BC47F", "#1B7F3B", 1.0, "-", "\\\\\\\\", 0.45),
    "CZKFBJ": ("城镇开发边界", "#CE93D8", "#7B1FA2", 1.2, "--", "....", 0.3),
    "ZRBHD": ("自然保护地", "#80CBC4", "#00695C", 1.0, "-.", "xxxx", 0.35),
}
#: Width of the hatched band inside each zone's edge, as a share of the map's larger side.
INNER_BAND = 0.006


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
                vector_limit: int = VECTOR_LIMIT, synthetic: bool = False,
                map_approval: str = "") -> list[tuple[str, bytes | None, str]]:
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
    synthetic : bool
        Mark every map 模拟数据.
    map_approval : str
        审图号 (maps are marked 示意图 without one).

    Returns
    -------
    list of (title, png or None, note)
        Land use, control lines, change hot spots; ``png`` is None (with the
        reason in ``note``) when the data are missing.
    """
    from onemap.domain import land_classes
    from onemap.reports.maps import GROUP_COLOURS, MapLayer, render_map

    year = assessment.year
    marks = {"synthetic": synthetic, "map_approval": map_approval}
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
        out.append((title, None, f"工作空间没有 {year} 年或更早的地类图斑，未绘制"))
    else:
        dltb = store.read("DLTB", info.version, columns=["DLBM"])
        lc = land_classes()
        groups = [lc.bulletin_group(c) if lc.is_valid(str(c)) else "其他土地"
                  for c in dltb["DLBM"].astype(str).str.strip()]
        geoms = np.asarray(dltb.geometry.values, dtype=object)
        faces = np.array([GROUP_COLOURS.get(g, "#CCCCCC") for g in groups], dtype=object)
        present = [g for g in lc.bulletin_groups() if g in set(groups)]
        legend = [(g, GROUP_COLOURS.get(g, "#CCCCCC")) for g in present]
        note = f"数据：地类图斑 {info.version} 年版（三调工作分类统计分组）"
        if len(geoms) > vector_limit:
            png = raster_map([(geoms, faces, 1.0)], [outline], extent=extent_of(geoms, c_geoms),
                             title=title, labels=labels, legend=legend, note=note, dpi=dpi, **marks)
        else:
            layer = MapLayer(list(geoms), facecolors=list(faces), edgecolor="#777777",
                             linewidth=0.2, legend=legend)
            png = render_map([layer, outline], title=title, labels=labels, dpi=dpi, note=note, **marks)
        out.append((title, png, f"地类图斑 {info.version} 年版"))

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
        used.append(f"{label} {v.version} 年版")
        if len(geoms) > vector_limit // 4 and face:
            rasters.append((geoms, np.full(len(geoms), face, dtype=object), alpha))
            legend.append((label, face))
        else:
            vectors.append(MapLayer(list(geoms), label=label, facecolor=face, edgecolor=edge,
                                    linewidth=width, linestyle=style, hatch=hatch, alpha=alpha))
    if every:
        bx = shapely.total_bounds(np.concatenate(every))
        for layer in vectors:
            layer.inner_band = INNER_BAND * max(bx[2] - bx[0], bx[3] - bx[1])
    if not used:
        out.append((title, None, "工作空间没有永久基本农田、生态保护红线、城镇开发边界图层，未绘制"))
    else:
        base = [outline] if len(c_geoms) else []
        note = "数据：" + "，".join(used)
        if rasters:
            png = raster_map(rasters, base + vectors, extent=extent_of(*every, c_geoms), title=title,
                             labels=labels, legend=legend, note=note, dpi=dpi, **marks)
        else:
            png = render_map(base + vectors, title=title, labels=labels, dpi=dpi, note=note, **marks)
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
        why = "缺少行政区图层" if not len(c_geoms) else f"{r.name if r else code}没有分县数值"
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
                         note=f"着色：{r.name}（{r.unit}），颜色越深数值越大", **marks)
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


#: Units shown in another unit in the DOCX (one area unit per report): unit → (shown, factor, decimals).
DOCX_UNITS: dict[str, tuple[str, float, int]] = {"平方千米": ("公顷", 100.0, 2), "公顷": ("公顷", 1.0, 2)}
_KEY = re.compile(r"（[a-z][a-z0-9_]*）")
#: Dataset codes a reader may meet in reasons → names (the catalog title wins when known).
_DATASET_WORDS = {"DLTB": "地类图斑", "XZQ": "行政区", "CJDCQ": "村级调查区", "YJJBNTTB": "永久基本农田",
                  "STBHHX": "生态保护红线", "CZKFBJ": "城镇开发边界", "ZRBHD": "自然保护地",
                  "BHTB": "变化图斑"}


#: Field names of the standard a reader may meet in notes and formulas → what they hold.
_FIELD_WORDS = {"YJJBNTMJ": "永久基本农田面积", "TBDLMJ": "图斑地类面积", "TBMJ": "图斑面积",
                "KCXS": "扣除地类系数", "ZLDWDM": "坐落单位代码", "DLBM": "地类编码", "CZCSXM": "城镇村属性码",
                "XZQDM": "行政区代码", "GDPDJB": "耕地坡度级别"}
_CODE_IN_BRACKETS = re.compile(r"（[A-Z][A-Z0-9_]+）")
_NO_DATASET = re.compile(r"没有 ?[A-Z][A-Z0-9_]+ ?数据集")


def _reader(text: str) -> str:
    """A text as a reader sees it: no internal keys or field names, dataset codes named."""
    text = _KEY.sub(" ", text).replace("  ", " ")
    text = _CODE_IN_BRACKETS.sub("", text)
    text = _NO_DATASET.sub("没有该图层", text)
    for code, word in _FIELD_WORDS.items():
        text = re.sub(rf" ?(?<![A-Za-z0-9_]){code} ?字段", word, text)
    for code, word in {**_DATASET_WORDS, **_FIELD_WORDS}.items():
        text = re.sub(rf"(?<![A-Za-z0-9_]){code}(?![A-Za-z0-9_])", word, text)
    return text


def _shown(r: IndicatorResult) -> tuple[str, float, int]:
    return DOCX_UNITS.get(r.unit, (r.unit, 1.0, r.decimals))


def _val(r: IndicatorResult, v: float | None) -> str:
    unit, factor, dec = _shown(r)
    return fmt_number(None if v is None else v * factor, dec)


def _target(r: IndicatorResult, t: Any) -> str:
    if t is None:
        return "—"
    if isinstance(t, list | tuple):
        return f"{_val(r, t[0])}～{_val(r, t[1])}"
    return _val(r, t)


def _trend_short(trend: dict[str, Any], r: IndicatorResult) -> str:
    if trend.get("points", 0) < 2:
        return "—"
    change = trend["change"]
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"{trend['assessment']} {sign}{_val(r, abs(change))}"


def _gap_short(u, r: IndicatorResult) -> str:
    if u.gap is None:
        return "—"
    sign = "+" if u.gap > 0 else ("−" if u.gap < 0 else "")
    return f"{sign}{_val(r, abs(u.gap))}"


def _grouped_missing(a: Assessment) -> list[list[str]]:
    """缺少数据 grouped: one row per missing input, with the indicators and units it blocks."""
    groups: dict[str, dict[str, list[str]]] = {}
    county_names = [n for _, n in a.counties]
    for m in a.missing():
        unit = m["unit_name"] if m["unit_code"] != a.city_code else "全市"
        for text in m["missing"]:
            t = _reader(text)
            for name in [a.city_name, *county_names]:
                t = t.replace(f" {name}", "").replace(name, "")
            t = re.sub(r"\s*全市\s*$", "", t).strip("；，。 ")
            g = groups.setdefault(t, {"names": [], "units": []})
            if m["name"] not in g["names"]:
                g["names"].append(m["name"])
            if unit not in g["units"]:
                g["units"].append(unit)
    rows = []
    for text, g in groups.items():
        units = g["units"]
        counties = [u for u in units if u != "全市"]
        if "全市" in units and len(counties) == len(county_names) and county_names:
            scope = f"全市及 {len(counties)} 个县（市、区）"
        elif "全市" in units:
            scope = "全市" + (f"及{'、'.join(counties)}" if counties else "")
        else:
            scope = "、".join(counties)
        rows.append(["、".join(g["names"]), text, scope])
    return rows


def _context(a: Assessment, store) -> tuple[dict[str, str], list[str]]:
    if store is None:
        return {}, []
    settings = store.settings()
    used = [(d["dataset"], d["version"]) for d in a.datasets_used()]
    return settings, synthetic_sources(store, used)


def write_assessment_docx(assessment: Assessment, path: str | Path, store=None, *,
                          maps: bool = True, dpi: int = 150, vector_limit: int = VECTOR_LIMIT,
                          template: dict[str, Any] | None = None) -> Path:
    """Write the 体检/评估 report as DOCX (公文 format, :mod:`onemap.reports.document`).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`onemap.indicators.assess`.
    path : str or Path
        Output ``.docx``.
    store : onemap.store.Store, optional
        Workspace: settings (编制单位, 文号, 审图号), the synthetic marks of the
        inputs, and the thematic maps (no maps without it).
    maps : bool
        Draw the thematic maps.
    dpi : int
        Resolution of charts and maps.
    vector_limit : int
        See :func:`render_maps`.
    template : dict, optional
        Document template (:func:`onemap.reports.document.load_template`).

    Returns
    -------
    Path
        The file written.
    """
    a = assessment
    colours = a.colours
    kind_word = "评估" if a.kind == "评估" else "体检"
    settings, synthetic = _context(a, store)
    title = a.title.replace("国土空间规划实施", "国土空间规划实施\n", 1)
    doc = OfficialDocument(DocumentInfo(
        title=title, org=settings.get("org", ""),
        doc_number=settings.get("assess_doc_number", ""), synthetic=bool(synthetic), cover=True),
        template)
    doc.toc()
    sec = iter(_NUMERALS)
    fig_no, tab_no = 1, 1

    # 一、总体情况
    doc.heading(f"{next(sec)}、总体情况", 1)
    summ = a.summary()
    city = summ["city"]
    basic = sum(1 for r in a.indicators if r.level == "基本")
    period = f"{a.period[0]}—{a.period[1]}年" if a.period else f"{a.year}年"
    doc.paragraph(
        f"本次{kind_word}对{a.city_name}{period}国土空间规划实施情况进行评估，共评估指标 "
        f"{len(a.indicators)} 项（基本指标 {basic} 项、推荐指标 {len(a.indicators) - basic} 项），"
        f"覆盖全市及 {len(a.counties)} 个县（市、区）。全市层面："
        + "，".join(f"{s} {city[s]} 项" for s in STATUSES) + "。")
    if synthetic:
        doc.paragraph("本报告所用数据含模拟数据（" + "、".join(_reader(x) for x in synthetic)
                      + "），结论仅供演示，不得作为决策依据。", bold=True, colour="C00000")
    doc.picture(charts.status_chart({s: city[s] for s in STATUSES}, colours,
                                    title="全市指标状态统计", dpi=dpi),
                width_cm=13.0, caption=f"图 {fig_no}　全市指标状态统计")
    fig_no += 1

    # 二、主要问题
    doc.heading(f"{next(sec)}、主要问题", 1)
    warns = a.warnings()
    city_warn = [w for w in warns if w["unit"] == CITY]
    if city_warn:
        doc.paragraph(f"全市层面有 {len(city_warn)} 项指标预警或未达标：")
        for i, w in enumerate(city_warn, start=1):
            doc.paragraph(f"{i}. {w['name']}（{w['status']}）。{_reader(w['reason'])}",
                          colour=_hex(colours[w["status"]]))
    else:
        doc.paragraph("全市层面没有预警或未达标的指标。")
    county_warn: dict[str, list[str]] = {}
    for w in warns:
        if w["unit"] != CITY:
            county_warn.setdefault(w["name"], []).append(w["unit_name"])
    if county_warn:
        doc.paragraph("分县（市、区）看：" + "；".join(
            f"{n}在{'、'.join(us)}预警或未达标" for n, us in county_warn.items()) + "。")
    missing_rows = _grouped_missing(a)
    if city["缺少数据"]:
        doc.paragraph(f"另有 {city['缺少数据']} 项指标全市层面缺少数据，共缺 {len(missing_rows)} 项"
                      "基础数据（见表 4），相应指标本次无法判断。")

    # 三、指标体检结果
    doc.heading(f"{next(sec)}、指标{kind_word}结果", 1)
    rows, status_cells, bold_rows = [], [], []
    i = 0
    last_dim = None
    for r in _sorted(a):
        u = r.city
        if u is None:
            continue
        if r.dimension != last_dim:
            bold_rows.append(len(rows))
            rows.append(["", r.dimension, "", "", "", "", "", ""])
            status_cells.append(None)
            last_dim = r.dimension
        i += 1
        rows.append([i, r.name + ("" if r.level == "基本" else "（推荐）"), _shown(r)[0], _val(r, u.value),
                     _target(r, u.target), _gap_short(u, r), _trend_short(u.trend, r), u.status])
        status_cells.append(u.status)
    table = doc.table(["序号", "指标", "单位", "现状值", "目标值", "差距", "趋势", "状态"], rows,
                      caption=f"表 {tab_no}　{a.city_name}指标{kind_word}结果（全市）",
                      bold_rows=bold_rows, font_pt=9)
    tab_no += 1
    for row, st in zip(table.rows[1:], status_cells, strict=True):
        if st:
            _shade(row.cells[-1], _light(colours[st]))
        else:
            _shade(row.cells[1], "F2F2F2")
    doc.note("面积类指标统一以公顷表示；“（推荐）”为推荐指标，其余为基本指标。")

    # 四、分县情况
    if a.counties:
        doc.heading(f"{next(sec)}、分县（市、区）情况", 1)
        header = ["指标（单位）", "全市"] + [n for _, n in a.counties]
        rows, cell_status = [], []
        for r in _sorted(a):
            by = {u.unit: u for u in r.units}
            keys = [CITY] + [c for c, _ in a.counties]
            if not any(k in by and by[k].value is not None for k in keys):
                continue
            rows.append([f"{r.name}（{_shown(r)[0]}）"] + [_val(r, by[k].value) if k in by else "—"
                                                          for k in keys])
            cell_status.append([by[k].status if k in by else None for k in keys])
        table = doc.table(header, rows, caption=f"表 {tab_no}　分县（市、区）指标值（{a.year}年）",
                          font_pt=8)
        tab_no += 1
        for row, sts in zip(table.rows[1:], cell_status, strict=True):
            for j, st in enumerate(sts):
                if st:
                    _shade(row.cells[1 + j], _light(colours[st]))
        doc.note("单元格底色表示状态（绿：达标，黄：预警，红：未达标，灰：缺少数据，蓝灰：仅监测）；"
                 "各县均无数值的指标未列出。")

    # 五、重点指标分析
    doc.heading(f"{next(sec)}、重点指标分析", 1)
    for r in _sorted(a):
        if not r.key:
            continue
        doc.heading(r.name, 2)
        u = r.city
        doc.paragraph(f"定义：{r.definition}")
        if u is not None:
            doc.paragraph(f"全市：{_reader(u.reason)}", colour=_hex(colours[u.status]))
        has = any(charts.has_values(dict(x.series)) for x in r.units) or any(
            x.value is not None for x in r.units)
        if has:
            doc.picture(_chart_for(r, a, dpi), width_cm=15.5,
                        caption=f"图 {fig_no}　{r.name}（{r.unit}）")
            fig_no += 1
        else:
            doc.paragraph(f"{r.name}：无数据，未绘制图表。")

    # 六、专题图
    doc.heading(f"{next(sec)}、专题图", 1)
    if store is None or not maps:
        doc.paragraph("未提供工作空间，未绘制专题图。")
    else:
        for mtitle, png, note in render_maps(a, store, dpi=dpi, vector_limit=vector_limit,
                                             synthetic=bool(synthetic),
                                             map_approval=settings.get("map_approval", "")):
            if png is None:
                doc.paragraph(f"{mtitle}：{_reader(note)}。")
            else:
                doc.picture(png, width_cm=15.0, caption=f"图 {fig_no}　{mtitle}")
                fig_no += 1

    # 七、预警与缺少数据
    doc.heading(f"{next(sec)}、预警和缺少数据的指标", 1)
    if warns:
        t = doc.table(["指标", "行政区", "状态", "原因"],
                      [[w["name"], w["unit_name"], w["status"], _reader(w["reason"])] for w in warns],
                      caption=f"表 {tab_no}　预警和未达标指标", font_pt=9)
        tab_no += 1
        for row, w in zip(t.rows[1:], warns, strict=True):
            _shade(row.cells[2], _light(colours[w["status"]]))
    else:
        doc.paragraph("没有预警或未达标的指标。")
    if missing_rows:
        doc.table(["指标", "缺少的数据", "涉及范围"], missing_rows,
                  caption=f"表 {tab_no}　缺少的基础数据（补齐后可重新{kind_word}）", font_pt=9)
        tab_no += 1

    # 八、建议和对策
    doc.heading(f"{next(sec)}、建议和对策", 1)
    advice = _advice_texts()
    n = 0
    for w in city_warn:
        n += 1
        doc.paragraph(f"{n}. " + advice[w["status"]].format(name=w["name"]))
    if county_warn:
        n += 1
        doc.paragraph(f"{n}. " + advice["分县"].format(
            items="；".join(f"{k}（{'、'.join(v)}）" for k, v in county_warn.items())))
    if missing_rows:
        n += 1
        doc.paragraph(f"{n}. " + advice["缺少数据"].format(count=len(missing_rows)))
    if n == 0:
        doc.paragraph(advice["达标"])

    # 九、数据来源与说明
    doc.heading(f"{next(sec)}、数据来源与说明", 1)
    ds = a.datasets_used()
    if ds:
        titles = {d.name: d.title for d in store.datasets()} if store is not None else {}
        doc.table(["数据", "版本"], [[titles.get(d["dataset"]) or _reader(d["dataset"]),
                                     f"{d['version']} 年版"] for d in ds],
                  caption=f"表 {tab_no}　使用的数据", font_pt=9)
        tab_no += 1
    imports = a.inputs_used()
    doc.paragraph("填报数据：" + (f"工作空间导入批次 {', '.join(map(str, imports))}" if imports
                                 else "未使用") + "。")
    reg = a.registry
    doc.paragraph(f"指标库：{'本局定制指标库' if reg.get('kind') != 'shipped' else '平台内置指标库'}"
                  f"（版本 {reg.get('version', '')}）。")
    notes: dict[str, list[str]] = {}
    for r in a.indicators:
        for u in r.units:
            for note in u.notes:
                notes.setdefault(_reader(note), [])
                if r.name not in notes[_reader(note)]:
                    notes[_reader(note)].append(r.name)
    for note, who in notes.items():
        doc.note(f"● {note}（{'、'.join(who)}）")

    # 附录
    doc.heading("附录　指标定义", 1)
    doc.table(["指标", "维度/类别", "定义", "计算"],
              [[r.name, f"{r.dimension}/{r.category}", r.definition, _reader(r.formula)]
               for r in _sorted(a)], font_pt=8)
    doc.signoff()
    return doc.save(path)


def _advice_texts() -> dict[str, str]:
    """Sentences of the 建议和对策 section (indicators/data/report_text.yaml)."""
    path = Path(__file__).parent / "data" / "report_text.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["advice"]


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

