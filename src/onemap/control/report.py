"""The Chinese DOCX report of a site check and its location map.

The report is what an officer attaches to a 用地预审 file: summary, the map
of the site over DLTB and the control lines, the land classes occupied, the
check layers and every use-control rule with its verdict, reason and legal
basis, then the per-parcel results of a multi-parcel site.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import shapely

from onemap.control.check import CHECKED, CheckResult, SiteChecker
from onemap.geo.area import M2_PER_HECTARE, M2_PER_MU
from onemap.reports import docx as rd
from onemap.reports.maps import GROUP_COLOURS, MapLayer, render_map

__all__ = ["render_site_map", "write_check_docx"]

#: Outline styles of the check layers on the map: dataset → (colour, width, style, hatch).
LAYER_STYLES: dict[str, tuple[str, float, str, str | None]] = {
    "YJJBNTTB": ("#A0522D", 0.8, "-", "////"),
    "STBHHX": ("#1B7F3B", 1.6, "-", None),
    "CZKFBJ": ("#7B1FA2", 1.6, "--", None),
    "ZRBHD": ("#00695C", 1.4, "-.", None),
}
_OTHER_COLOURS = ("#E65100", "#1565C0", "#6D4C41", "#AD1457", "#455A64")
_VERDICT_FILL = {"不符合": "F8CBAD", "需论证": "FFF2CC"}


def render_site_map(result: CheckResult, checker: SiteChecker, *, dpi: int = 150) -> bytes:
    """PNG of the site over DLTB (filled by bulletin group) and the check layers.

    Parameters
    ----------
    result : CheckResult
        A result of ``checker`` (its geometry is drawn).
    checker : SiteChecker
        The warm checker holding the layers.
    dpi : int
        Resolution.

    Returns
    -------
    bytes
        PNG.
    """
    g = result.geometry
    minx, miny, maxx, maxy = shapely.bounds(g)
    span = max(maxx - minx, maxy - miny, 0.0005)
    pad = span * 0.3
    bbox = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    layers: list[MapLayer] = []
    geoms, codes = checker.features_near(checker.dltb_name, bbox)
    if len(geoms):
        geoms = shapely.clip_by_rect(geoms, *bbox)
        groups = [checker.group_of(str(c)) for c in codes]
        colours = [GROUP_COLOURS.get(gr, "#EEEEEE") for gr in groups]
        present = [gr for gr in GROUP_COLOURS if gr in set(groups)]
        layers.append(MapLayer(
            geoms=list(geoms), facecolors=colours, edgecolor="#9E9E9E", linewidth=0.25,
            legend=[(gr, GROUP_COLOURS[gr]) for gr in present]))
    k = 0
    for spec in checker.specs:
        if spec.dataset not in checker.layers:
            continue
        lg, _ = checker.features_near(spec.dataset, bbox)
        if not len(lg):
            continue
        lg = shapely.clip_by_rect(lg, *bbox)
        if spec.dataset in LAYER_STYLES:
            colour, width, style, hatch = LAYER_STYLES[spec.dataset]
        else:
            colour, width, style, hatch = _OTHER_COLOURS[k % len(_OTHER_COLOURS)], 1.2, ":", None
            k += 1
        layers.append(MapLayer(geoms=list(lg), label=spec.title, edgecolor=colour,
                               linewidth=width, linestyle=style, hatch=hatch))
    layers.append(MapLayer(geoms=[g], label="拟用地范围", edgecolor="#E00000", linewidth=2.0))
    labels = []
    if result.parcels:
        for p in result.parcels:
            pt = shapely.point_on_surface(p.geometry)
            labels.append((pt.x, pt.y, p.name))
    versions = "，".join(f"{ds} {v}" for ds, v in result.sources.items())
    note = f"数据版本：{versions}；坐标系 CGCS2000（EPSG:4490）；示意图，无底图"
    return render_map(layers, extent=bbox, title=f"{result.name} 用地位置示意图",
                      labels=labels, dpi=dpi, note=note)


def _area_cells(m2: float) -> list[float]:
    return [round(m2, 2), round(m2 / M2_PER_HECTARE, 4), round(m2 / M2_PER_MU, 2)]


def write_check_docx(
    result: CheckResult,
    path: str | Path,
    *,
    map_png: bytes | str | Path | None = None,
    workspace: str = "",
    title: str = "建设项目用地合规性审查报告",
) -> Path:
    """Write the DOCX report of a check.

    Parameters
    ----------
    result : CheckResult
        The check.
    path : str or Path
        Output ``.docx``.
    map_png : bytes or path, optional
        Location map (from :func:`render_site_map`); without it the map section
        says the map was not produced.
    workspace : str
        Workspace name shown in the summary.
    title : str
        Document title.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    now = _dt.datetime.now().strftime("%Y年%m月%d日 %H:%M")
    doc = rd.new_document(title, f"{result.name}　　生成时间：{now}")

    # 一、基本情况
    rd.add_heading(doc, "一、基本情况", 1)
    verdicts = [r.verdict for r in result.rules]
    summary = [
        ("用地文件", result.file_name or "—"),
        ("地块数", str(len(result.parcels) or 1)),
        ("拟用途", result.use),
        ("项目标记", "、".join(result.flags) or "无"),
        ("用地面积", f"{result.area_m2:.2f} 平方米（{result.area_m2 / M2_PER_HECTARE:.4f} 公顷，"
                     f"{result.area_m2 / M2_PER_MU:.2f} 亩）"),
        ("其中耕地", f"{result.cultivated['area_m2']:.2f} 平方米（扣除田坎后地类面积 "
                     f"{result.cultivated['tbdlmj_m2']:.2f} 平方米，"
                     f"{result.cultivated['tbdlmj_m2'] / M2_PER_MU:.2f} 亩）"),
        ("坐落单位（村级代码）", "、".join(
            f"{u}（{a:.2f} 平方米）" for u, a in sorted(result.by_unit.items())) or "—"),
        ("审查结论", f"{result.overall}（不符合 {verdicts.count('不符合')} 项，需论证 "
                     f"{verdicts.count('需论证')} 项，符合 {verdicts.count('符合')} 项）"),
        ("工作空间", workspace or "—"),
        ("数据版本", "；".join(f"{ds} {v}" for ds, v in result.sources.items())),
        ("原始坐标系", result.source_crs or "—"),
    ]
    rd.add_key_value_table(doc, summary)
    if result.messages:
        rd.add_paragraph(doc, "说明：", bold=True)
        for msg in result.messages:
            rd.add_paragraph(doc, "· " + msg)

    # 二、位置示意图
    rd.add_heading(doc, "二、用地位置示意图", 1)
    if map_png is not None:
        rd.add_picture(doc, map_png, width_cm=16.0,
                       caption="图 1  拟用地与地类图斑、管控图层叠加示意")
    else:
        rd.add_paragraph(doc, "（未生成示意图）")

    # 三、占用地类
    rd.add_heading(doc, "三、占用地类情况", 1)
    rows = [[c.dlbm, c.dlmc, c.group, *_area_cells(c.area_m2), round(c.tbdlmj_m2, 2), c.patches]
            for c in result.classes]
    total = sum(c.area_m2 for c in result.classes)
    rows.append(["合计", "", "", *_area_cells(total),
                 round(sum(c.tbdlmj_m2 for c in result.classes), 2),
                 sum(c.patches for c in result.classes)])
    rd.add_table(
        doc, ["地类编码", "地类名称", "统计分组", "面积（平方米）", "公顷", "亩",
              "地类面积（平方米）", "图斑数"], rows,
        formats=[None, None, None, ".2f", ".4f", ".2f", ".2f", None],
        caption="表 1  占用地类（按三调二级地类；地类面积 = 面积 ×（1 − 扣除地类系数））")
    groups = [[g, *_area_cells(a)] for g, a in result.by_group.items()]
    if groups:
        rd.add_table(doc, ["统计分组", "面积（平方米）", "公顷", "亩"], groups,
                     formats=[None, ".2f", ".4f", ".2f"], caption="表 2  按统计分组汇总")
    cult = result.cultivated
    if cult["area_m2"] > 0:
        slope_rows = [[f"坡度级别 {s}", *_area_cells(a)] for s, a in cult["by_slope"].items()]
        dl_rows = [[f"{d}（{'水田' if d == '0101' else '水浇地' if d == '0102' else '旱地'}）",
                    *_area_cells(a)] for d, a in cult["by_dlbm"].items()]
        rd.add_table(doc, ["耕地", "面积（平方米）", "公顷", "亩"], dl_rows + slope_rows,
                     formats=[None, ".2f", ".4f", ".2f"],
                     caption="表 3  占用耕地（按地类与坡度级别；坡度级别 5 为大于 25°）")

    # 四、管控图层
    rd.add_heading(doc, "四、管控图层叠加情况", 1)
    lrows = []
    for lr in result.layers.values():
        if lr.status != CHECKED:
            lrows.append([lr.title, lr.status, None, None, None, "—"])
            continue
        ids = "、".join(lr.ids[:20]) + (f" 等 {len(lr.ids)} 个" if len(lr.ids) > 20 else "")
        lrows.append([lr.title, f"已检查（{lr.version}）", *_area_cells(lr.area_m2), ids or "无"])
        if lr.outside_m2 is not None:
            lrows.append([f"{lr.title}外", "", *_area_cells(lr.outside_m2), ""])
        for v, a in lr.by_group.items():
            lrows.append([f"  其中 {v}", "", *_area_cells(a), ""])
    ext = result.extent
    if ext["outside_m2"] > 0:
        lrows.append(["工作空间数据范围外", "", *_area_cells(ext["outside_m2"]), "未审查"])
    rd.add_table(doc, ["图层", "状态", "面积（平方米）", "公顷", "亩", "涉及要素"], lrows,
                 formats=[None, None, ".2f", ".4f", ".2f", None],
                 caption="表 4  管控图层（面积为拟用地位于图层内的部分）")

    # 五、规则
    rd.add_heading(doc, "五、用途管制规则审查", 1)
    rrows = [[i + 1, r.title, r.verdict, r.reason, r.basis] for i, r in enumerate(result.rules)]
    highlight = {i: _VERDICT_FILL[r.verdict] for i, r in enumerate(result.rules)
                 if r.verdict in _VERDICT_FILL}
    rd.add_table(doc, ["序号", "规则", "结论", "理由", "法律依据"], rrows,
                 widths_cm=[1.0, 3.6, 1.4, 6.0, 4.6], caption="表 5  规则审查结果",
                 highlight=highlight, font_size_pt=8.5)

    # 六、分地块
    if result.parcels:
        rd.add_heading(doc, "六、分地块审查结果", 1)
        prows = []
        for p in result.parcels:
            lay = p.layers
            def area(ds: str, _lay=lay) -> float | None:
                lr = _lay.get(ds)
                return round(lr.area_m2, 2) if lr is not None and lr.status == CHECKED else None
            czk = lay.get("CZKFBJ")
            prows.append([
                p.name, round(p.area_m2, 2), round(p.cultivated["area_m2"], 2),
                area("YJJBNTTB"), area("STBHHX"),
                round(czk.outside_m2, 2) if czk is not None and czk.outside_m2 is not None
                else None,
                p.overall,
            ])
        rd.add_table(doc, ["地块", "面积（平方米）", "耕地", "永久基本农田", "生态保护红线",
                           "城镇开发边界外", "结论"], prows,
                     formats=[None, ".2f", ".2f", ".2f", ".2f", ".2f", None],
                     caption="表 6  各地块主要指标（平方米）",
                     highlight={i: _VERDICT_FILL[p.overall] for i, p in enumerate(result.parcels)
                                if p.overall in _VERDICT_FILL})
        ids = [r.id for r in result.rules]
        titles = {r.id: r.title for r in result.rules}
        vrows = []
        for rid in ids:
            row = [titles[rid]]
            for p in result.parcels:
                row.append(next((r.verdict for r in p.rules if r.id == rid), ""))
            vrows.append(row)
        rd.add_table(doc, ["规则", *[p.name for p in result.parcels]], vrows,
                     caption="表 7  各地块规则结论", font_size_pt=8)

    rd.add_heading(doc, "附注", 2)
    for text in (
        "面积为 CGCS2000 椭球面积（第三次全国国土调查技术规程的计算方法）；1 公顷 = 10000 平方米，"
        "1 亩 = 10000/15 平方米。",
        "地类面积 = 切割后图斑面积 ×（1 − 扣除地类系数 KCXS），即扣除田坎后的面积。",
        "本报告由 OneMap 依据入库数据自动生成，法律依据为条文摘要，结论须经审查人员核对后使用。",
    ):
        rd.add_paragraph(doc, text, size_pt=9)
    return rd.save(doc, path)
