"""The 建设项目用地预审意见 (DOCX) of a site check and its location map.

The document follows the order of a 预审 file: 项目概况, 用地位置示意图, 用地规模
和占用地类 (田坎 apart, 耕地 by 坡度级别), 三条控制线 (area and features touched),
other check layers, 规划用途符合性 (against the 规划分区 layer, ``planning.yaml``),
节约集约 (the 用地标准 of the use), the rule-by-rule review, 结论与建议 (per rule
not met, what the applicant must do, from the rule data), the legal bases with
where each was checked, and the 审核/签章 block. Areas are in one unit (公顷,
the template's ``area_unit``). Page, fonts, 文号 and the 模拟数据 banner come from
:mod:`onemap.reports.document`.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely

from onemap.control.check import CHECKED, REGISTER_VERSION, CheckResult, SiteChecker
from onemap.control.planning import land_standard, zone_conformity
from onemap.control.report_features import feature_layers, features_section
from onemap.domain import land_classes
from onemap.reports.document import DocumentInfo, OfficialDocument, synthetic_sources
from onemap.reports.maps import GROUP_COLOURS, MapLayer, render_map
from onemap.reports.numbers import area_value, fmt_area, fmt_number

__all__ = ["CheckContext", "check_context", "render_site_map", "write_check_docx"]

#: Map styles of the check layers: dataset → (colour, line width, line style, hatch).
LAYER_STYLES: dict[str, tuple[str, float, str, str | None]] = {
    "YJJBNTTB": ("#A0522D", 0.8, "-", "////"),
    "STBHHX": ("#1B7F3B", 1.2, "-", "\\\\\\\\"),
    "CZKFBJ": ("#7B1FA2", 1.2, "--", "...."),
    "ZRBHD": ("#00695C", 1.2, "-.", "xx"),
}
_OTHER_COLOURS = ("#E65100", "#1565C0", "#6D4C41", "#AD1457", "#455A64")
_VERDICT_FILL = {"不符合": "F8CBAD", "需论证": "FFF2CC"}
#: 坡度级别 (GDPDJB) of the 三调 耕地 → slope range.
SLOPE_LEVELS = {"1": "≤2°", "2": "2°～6°", "3": "6°～15°", "4": "15°～25°", "5": ">25°"}
#: The three control lines, in report order.
CONTROL_LINES = ("YJJBNTTB", "STBHHX", "CZKFBJ")


@dataclass
class CheckContext:
    """What the document says besides the check: project, 编制单位, place names, banner.

    Attributes
    ----------
    project : str
        项目名称 (from the 报盘 项目名称, else given; never the file name).
    applicant : str
        建设单位.
    region : str
        行政区名称 (workspace setting ``region_name``).
    org, doc_number, map_approval : str
        Workspace settings 编制单位, 预审意见文号, 审图号.
    places : dict
        Unit code (county, town, village) → name.
    synthetic : list of str
        Inputs marked synthetic in the catalog ("数据集 版本").
    titles : dict
        Dataset → Chinese title (catalog).
    date : datetime.date, optional
        成文日期 (today by default).
    """

    project: str = ""
    applicant: str = ""
    region: str = ""
    org: str = ""
    doc_number: str = ""
    map_approval: str = ""
    places: dict[str, str] = field(default_factory=dict)
    synthetic: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    date: _dt.date | None = None


def check_context(store, result: CheckResult, *, project: str | None = None,
                  applicant: str | None = None, site=None) -> CheckContext:
    """Gather the document context of a check from the workspace.

    Parameters
    ----------
    store : onemap.store.Store
        The workspace (settings, catalog, XZQ and CJDCQ names).
    result : CheckResult
        The check.
    project, applicant : str, optional
        项目名称 and 建设单位 given by the caller; the 项目名称 of a 报盘 file
        (``site.name``) is used when present.
    site : onemap.control.site.Site, optional
        The site read (its ``name`` is the 报盘 项目名称 when the reader exposes it).
    """
    from onemap.analysis.units import unit_names

    settings = store.settings()
    have = {d.name: d for d in store.datasets() if d.versions}
    xzq = store.read("XZQ", columns=["XZQDM", "XZQMC"]) if "XZQ" in have else None
    cjdcq = store.read("CJDCQ") if "CJDCQ" in have else None
    name = project or result.project_name or getattr(site, "name", None) or ""
    return CheckContext(
        project=str(name), applicant=applicant or getattr(site, "applicant", None) or "",
        region=settings.get("region_name", ""), org=settings.get("org", ""),
        doc_number=settings.get("check_doc_number", ""),
        map_approval=settings.get("map_approval", ""),
        places=unit_names(xzq, cjdcq),
        synthetic=synthetic_sources(store, result.sources.items()),
        titles={d.name: d.title for d in have.values()},
    )


def render_site_map(result: CheckResult, checker: SiteChecker, *, dpi: int = 150,
                    synthetic: bool = False, map_approval: str = "") -> bytes:
    """PNG of the site over DLTB (filled by bulletin group) and the check layers.

    Zones are filled with transparency and hatched along the inside of their
    edge, so the side that is inside reads at a glance.

    Parameters
    ----------
    result : CheckResult
        A result of ``checker`` (its geometry is drawn).
    checker : SiteChecker
        The warm checker holding the layers.
    dpi : int
        Resolution.
    synthetic : bool
        Mark the map 模拟数据.
    map_approval : str
        审图号 (the map is labelled 示意图 without one).

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
    # a long thin site (a road) still gets a map at least 3:5 in shape
    k = math.cos(math.radians((miny + maxy) / 2))
    w, h = (bbox[2] - bbox[0]) * k, bbox[3] - bbox[1]
    cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    if h < 0.6 * w:
        bbox = (bbox[0], cy - 0.3 * w, bbox[2], cy + 0.3 * w)
    elif w < 0.6 * h:
        bbox = (cx - 0.3 * h / k, bbox[1], cx + 0.3 * h / k, bbox[3])
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
    band = span * 0.025
    for spec in checker.specs:
        if spec.dataset not in checker.layers:
            continue
        lg, _ = checker.features_near(spec.dataset, bbox)
        if not len(lg):
            continue
        if spec.dataset in LAYER_STYLES:
            colour, width, style, hatch = LAYER_STYLES[spec.dataset]
        else:
            colour, width, style, hatch = _OTHER_COLOURS[k % len(_OTHER_COLOURS)], 1.0, ":", "||"
            k += 1
        layers.append(MapLayer(geoms=list(lg), label=spec.title, facecolor=colour, alpha=0.15,
                               edgecolor=colour, linewidth=width, linestyle=style, hatch=hatch,
                               inner_band=band))
    site_label = {"线": "拟用地（线状）", "点": "拟用地（点状）"}.get(result.kind, "拟用地范围")
    layers.append(MapLayer(geoms=[g], label=site_label, edgecolor="#E00000", linewidth=2.0))
    labels = []
    if result.parcels:
        for p in result.parcels:
            pt = shapely.point_on_surface(p.geometry)
            labels.append((pt.x, pt.y, p.name))
    note = "坐标系 CGCS2000；无底图"
    title = "拟用地位置示意图" if not map_approval else "拟用地位置图"
    return render_map(layers, extent=bbox, title=title, labels=labels, dpi=dpi, note=note,
                      synthetic=synthetic, map_approval=map_approval)


# ----------------------------------------------------------------------------- document parts
def _unit(template_unit: str | None) -> str:
    return template_unit or "公顷"


def _place_text(result: CheckResult, places: dict[str, str], unit: str) -> str:
    """坐落: county / town / village names with the area in each village."""
    parts = []
    for code, m2 in sorted(result.by_unit.items(), key=lambda kv: -kv[1]):
        names = [places.get(code[:n], "") for n in (6, 9, 12)]
        name = "".join(n for n in names if n) or "坐落单位名称未入库"
        parts.append(f"{name}（{fmt_area(m2, unit)} {unit}）")
    return "；".join(parts) or "—"


def _dataset_title(ds: str, ctx: CheckContext, result: CheckResult) -> str:
    lr = result.layers.get(ds)
    if lr is not None:
        return lr.title
    return ctx.titles.get(ds) or ("地类图斑" if ds == "DLTB" else "行政区" if ds == "XZQ" else ds)


def _edition(version: str | None) -> str:
    """How a source is named: "2024 年版" for a catalog version, "台账" for a register."""
    return REGISTER_VERSION if version == REGISTER_VERSION else f"{version} 年版"


def _ids_text(ids: list[str], limit: int = 12) -> str:
    if not ids:
        return "无"
    shown = "、".join(ids[:limit])
    return shown + (f" 等 {len(ids)} 个" if len(ids) > limit else f"（{len(ids)} 个）")


def _class_rows(result: CheckResult, unit: str) -> tuple[list[list[Any]], float]:
    """One row per class (地类面积 net of 田坎) and a 田坎 row; the total."""
    lc = land_classes()
    rows: list[list[Any]] = []
    tk = 0.0
    for c in result.classes:
        rows.append([f"{c.dlmc or lc.name(c.dlbm)}（{c.dlbm}）", c.group, c.patches,
                     area_value(c.tbdlmj_m2, unit)])
        tk += c.area_m2 - c.tbdlmj_m2
    if tk > 0.005:
        rows.append(["田坎（1203）", "其他土地", None, area_value(tk, unit)])
    total = sum(c.area_m2 for c in result.classes)
    return rows, total


def _planning_section(doc: OfficialDocument, result: CheckResult, unit: str) -> str:
    """规划用途符合性; returns the verdict (or "未检查")."""
    c = zone_conformity(result)
    if c.status != CHECKED:
        doc.paragraph("国土空间规划分区图层未入库，未检查。入库后重新审查即可得出规划用途符合性结论。")
        return c.overall
    zones = sum(1 for z, _, _ in c.rows if z != "未划定规划分区")
    doc.paragraph(f"拟用途为{result.use}，用地涉及规划分区 {zones} 类，规划用途符合性结论：{c.overall}。")
    rows = [[z, area_value(m2, unit), v] for z, m2, v in c.rows]
    doc.table(["规划分区", f"面积（{unit}）", "结论"], rows, caption="表 5　拟用地所在规划分区",
              highlight={i: _VERDICT_FILL[r[2]] for i, r in enumerate(rows) if r[2] in _VERDICT_FILL})
    doc.note(f"判定依据：{c.source}；拟用途与规划分区的对应关系由本局在配置中确认。")
    return c.overall


def _intensity_section(doc: OfficialDocument, result: CheckResult, unit: str) -> None:
    """节约集约: the site's scale against the 用地标准 of its use (data where available)."""
    std = land_standard(result.use)
    area = fmt_area(result.area_m2, unit)
    if std is None:
        doc.paragraph(f"拟用地 {area} {unit}。拟用途“{result.use}”没有入库的用地标准，节约集约用地"
                      "情况须按项目可行性研究报告人工核实。")
        return
    text = f"拟用地 {area} {unit}。拟用途“{result.use}”适用{std.standard}，其控制指标为{std.measures}。"
    over = std.over_ha(result.area_m2)
    if over is None:
        text += "请建设单位提供项目设计指标，对照标准核定用地规模。"
    elif over > 0:
        text += f"按本局设定的用地上限 {std.max_ha:,.2f} 公顷，超出 {over:,.2f} 公顷，须核减用地规模或说明理由。"
    else:
        text += f"按本局设定的用地上限 {std.max_ha:,.2f} 公顷，用地规模未超出上限。"
    doc.paragraph(text)


def _write_linear(doc: OfficialDocument, result: CheckResult, ctx: CheckContext,
                  map_png: bytes | str | Path | None, unit: str) -> None:
    """The body of the document for a 线状 or 点状 site: length and what it crosses, no area."""
    crossed = result.crossed or {"classes": [], "layers": {}, "extent": {}}
    what = "穿越" if result.kind == "线" else "所在"
    size = (f"线路长度 {fmt_number(result.length_m or 0.0, 2)} 米" if result.kind == "线"
            else f"{len(shapely.get_parts(result.geometry))} 个点位")
    doc.heading("一、项目概况", 1)
    doc.key_values([
        ("项目名称", ctx.project or "（未提供，请在申请材料中核对）"),
        ("建设单位", ctx.applicant or "（未提供）"),
        ("拟用途", result.use + (f"（项目标记：{'、'.join(result.flags)}）" if result.flags else "")),
        ("用地形态", f"{result.kind}状地块，{size}（不计面积）"),
        ("审查结论", result.overall),
        ("数据来源", "；".join(f"{_dataset_title(ds, ctx, result)} {_edition(v)}"
                               for ds, v in result.sources.items())),
    ], caption="表 1　项目基本情况")
    doc.heading("二、用地位置", 1)
    if map_png is not None:
        doc.picture(map_png, width_cm=15.0, caption="图 1　拟用地与地类、管控范围叠加示意图")
    doc.heading(f"三、{what}地类", 1)
    rows = [[f"{c['dlmc']}（{c['dlbm']}）", c["group"], len(c["bsm"]),
             c["length_m"] if result.kind == "线" else None] for c in crossed["classes"]]
    header = ["地类（编码）", "统计分组", "图斑数", "穿越长度（米）" if result.kind == "线" else "—"]
    doc.table(header[:3] + ([header[3]] if result.kind == "线" else []),
              [r[:3] + ([r[3]] if result.kind == "线" else []) for r in rows],
              caption=f"表 2　{what}地类")
    doc.heading("四、三条控制线和其他管控范围", 1)
    lrows = []
    for entry in crossed["layers"].values():
        if entry["status"] != CHECKED:
            lrows.append([entry["title"], "未入库，未检查", "—"])
            continue
        length = (f"，线内长度 {fmt_number(entry.get('length_m') or 0.0, 2)} 米"
                  if result.kind == "线" and entry["ids"] else "")
        lrows.append([entry["title"], f"已检查（{entry['version']} 年版）",
                      (_ids_text(entry["ids"], 6) if entry["ids"] else "不涉及") + length])
    doc.table(["管控范围", "状态", "涉及要素"], lrows, caption="表 3　控制线和管控范围")
    doc.heading("五、规划用途符合性和节约集约", 1)
    doc.paragraph(f"{result.kind}状地块不计面积，规划用途符合性和用地规模须按项目设计文件人工核查。")
    doc.heading("六、结论与建议", 1)
    doc.paragraph(f"用途管制规则按面积判定，对{result.kind}状地块不适用，审查结论为{result.overall}。"
                  f"申请人须提交项目用地范围（面状界址）后重新审查；对上表中{what}的控制线，"
                  "须逐项说明避让或论证情况。")
    for m in result.messages:
        if not m.endswith("未入库，未检查"):
            doc.note("说明：" + m)


def write_check_docx(
    result: CheckResult,
    path: str | Path,
    *,
    map_png: bytes | str | Path | None = None,
    workspace: str = "",
    context: CheckContext | None = None,
    template: dict[str, Any] | None = None,
) -> Path:
    """Write the 建设项目用地预审意见 (DOCX) of a check.

    Parameters
    ----------
    result : CheckResult
        The check.
    path : str or Path
        Output ``.docx``.
    map_png : bytes or path, optional
        Location map (from :func:`render_site_map`).
    workspace : str
        Workspace name (used as 编制单位 only when the context names none).
    context : CheckContext, optional
        Project, settings, place names, synthetic inputs (:func:`check_context`).
    template : dict, optional
        Document template (:func:`onemap.reports.document.load_template`).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    ctx = context or CheckContext()
    doc = OfficialDocument(DocumentInfo(
        title="建设项目用地预审意见", org=ctx.org, doc_number=ctx.doc_number, date=ctx.date,
        synthetic=bool(ctx.synthetic),
        subtitle=f"（{ctx.project}）" if ctx.project else ""), template)
    unit = _unit(doc.t.get("area_unit"))
    if result.kind != "面":
        _write_linear(doc, result, ctx, map_png, unit)
        doc.signoff(org=ctx.org or workspace or None)
        return doc.save(path)
    verdicts = [r.verdict for r in result.rules]
    not_met = [r for r in result.rules if r.verdict != "符合"]

    # 一、项目概况
    doc.heading("一、项目概况", 1)
    cult = result.cultivated
    pairs = [
        ("项目名称", ctx.project or "（未提供，请在申请材料中核对）"),
        ("建设单位", ctx.applicant or "（未提供）"),
        ("拟用途", result.use + (f"（项目标记：{'、'.join(result.flags)}）" if result.flags else "")),
        ("用地位置", (ctx.region + "　" if ctx.region else "") + _place_text(result, ctx.places, unit)),
        ("用地面积", f"{fmt_area(result.area_m2, unit)} {unit}（{fmt_area(result.area_m2, '亩')} 亩）"
         if unit != "亩" else f"{fmt_area(result.area_m2, unit)} 亩"),
        ("地块数", f"{len(result.parcels) or 1} 块"),
        ("审查结论", f"{result.overall}（不符合 {verdicts.count('不符合')} 项、需论证 "
                     f"{verdicts.count('需论证')} 项、符合 {verdicts.count('符合')} 项）"),
        ("数据来源", "；".join(f"{_dataset_title(ds, ctx, result)} {_edition(v)}"
                               for ds, v in result.sources.items())),
    ]
    if ctx.synthetic:
        pairs.append(("数据说明", "审查所用数据含模拟数据（" + "、".join(
            _dataset_title(s.split(" ")[0], ctx, result) for s in ctx.synthetic) + "），本意见仅供演示"))
    doc.key_values(pairs, caption="表 1　项目基本情况")
    notes = [m for m in result.messages if not m.endswith("未入库，未检查")]
    for m in notes:
        doc.note("说明：" + m)

    # 二、用地位置
    doc.heading("二、用地位置", 1)
    if map_png is not None:
        doc.picture(map_png, width_cm=15.0, caption="图 1　拟用地与地类、管控范围叠加示意图")
    else:
        doc.paragraph("未生成示意图。")

    # 三、用地规模和占用地类
    doc.heading("三、用地规模和占用地类", 1)
    rows, total = _class_rows(result, unit)
    rows.append(["合计", "", None, area_value(total, unit)])
    doc.paragraph(f"拟用地总面积 {fmt_area(result.area_m2, unit)} {unit}，其中耕地（扣除田坎后地类面积）"
                  f"{fmt_area(cult['tbdlmj_m2'], unit)} {unit}。地类按第三次全国国土调查工作分类统计，"
                  "田坎单列。")
    doc.table(["地类（编码）", "统计分组", "图斑数", f"面积（{unit}）"], rows,
              caption="表 2　占用地类", bold_rows=[len(rows) - 1])
    if cult["area_m2"] > 0:
        srows = [[f"{s} 级（{SLOPE_LEVELS[str(s)]}）" if str(s) in SLOPE_LEVELS else "未填坡度级别",
                  area_value(a, unit)]
                 for s, a in cult["by_slope"].items()]
        srows.append(["合计", area_value(cult["area_m2"], unit)])
        doc.table(["坡度级别", f"耕地面积（含田坎，{unit}）"], srows, caption="表 3　占用耕地按坡度级别",
                  bold_rows=[len(srows) - 1])

    # 四、三条控制线和其他管控范围
    doc.heading("四、三条控制线和其他管控范围", 1)
    for i, ds in enumerate(CONTROL_LINES, start=1):
        lr = result.layers.get(ds)
        title = lr.title if lr is not None else ds
        doc.heading(f"（{'一二三'[i - 1]}）{title}", 2)
        if lr is None or lr.status != CHECKED:
            doc.paragraph(f"{title}图层未入库，未检查。")
            continue
        if lr.kind == "boundary":
            doc.paragraph(f"拟用地位于{title}内 {fmt_area(lr.area_m2, unit)} {unit}，位于{title}外 "
                          f"{fmt_area(lr.outside_m2 or 0.0, unit)} {unit}；涉及边界要素："
                          f"{_ids_text(lr.ids)}。（{lr.version} 年版）")
        elif lr.area_m2 > 0:
            doc.paragraph(f"拟用地占用{title} {fmt_area(lr.area_m2, unit)} {unit}，涉及图斑："
                          f"{_ids_text(lr.ids)}。（{lr.version} 年版）")
        else:
            doc.paragraph(f"拟用地不占用{title}。（{lr.version} 年版）")
    listed = {lr.dataset for lr in feature_layers(result)}
    others = [lr for ds, lr in result.layers.items()
              if ds not in CONTROL_LINES and lr.kind != "planning" and ds not in listed]
    if others:
        orows = []
        for lr in others:
            if lr.status != CHECKED:
                orows.append([lr.title, "未入库，未检查", None, "—"])
            else:
                orows.append([lr.title, f"已检查（{_edition(lr.version)}）", area_value(lr.area_m2, unit),
                              _ids_text(lr.ids, 6)])
        doc.table(["管控范围", "状态", f"占用面积（{unit}）", "涉及要素"], orows,
                  caption="表 4　其他管控范围")
    ext = result.extent
    if ext["outside_m2"] > 0:
        doc.paragraph(f"拟用地有 {fmt_area(ext['outside_m2'], unit)} {unit}位于本平台数据范围之外，"
                      "该部分未审查。")
    features_section(doc, result, unit, len(CONTROL_LINES) + 1)

    # 五、规划用途符合性
    doc.heading("五、规划用途符合性", 1)
    _planning_section(doc, result, unit)

    # 六、节约集约用地
    doc.heading("六、节约集约用地", 1)
    _intensity_section(doc, result, unit)

    # 七、用途管制审查
    doc.heading("七、用途管制逐条审查", 1)
    rrows = [[i + 1, r.title, r.verdict, r.reason] for i, r in enumerate(result.rules)]
    doc.table(["序号", "审查事项", "结论", "理由"], rrows, caption="表 6　用途管制审查结果",
              highlight={i: _VERDICT_FILL[r.verdict] for i, r in enumerate(result.rules)
                         if r.verdict in _VERDICT_FILL},
              widths_cm=[1.1, 4.2, 1.6, doc.text_width_cm - 6.9])

    # 八、分地块
    if result.parcels:
        doc.heading("八、分地块审查结果", 1)
        prows = []
        for p in result.parcels:
            def area(ds: str, _p=p) -> float | None:
                lr = _p.layers.get(ds)
                return area_value(lr.area_m2, unit) if lr is not None and lr.status == CHECKED else None
            czk = p.layers.get("CZKFBJ")
            prows.append([p.name, area_value(p.area_m2, unit), area_value(p.cultivated["tbdlmj_m2"], unit),
                          area("YJJBNTTB"), area("STBHHX"),
                          area_value(czk.outside_m2, unit) if czk is not None and czk.outside_m2
                          is not None else None, p.overall])
        doc.table(["地块", "面积", "耕地", "永久基本农田", "生态保护红线", "城镇开发边界外", "结论"], prows,
                  caption=f"表 7　各地块主要指标（{unit}）",
                  highlight={i: _VERDICT_FILL[p.overall] for i, p in enumerate(result.parcels)
                             if p.overall in _VERDICT_FILL})

    # 结论与建议
    n = "九" if result.parcels else "八"
    doc.heading(f"{n}、结论与建议", 1)
    if not not_met:
        doc.paragraph("经审查，拟用地符合各项用途管制要求，建议通过用地预审。")
    else:
        head = ("经审查，拟用地存在不符合用途管制要求的情形，建议不予通过用地预审，" if "不符合" in verdicts
                else "经审查，拟用地未发现禁止性情形，但下列事项须论证或补充材料后方可通过用地预审，")
        doc.paragraph(head + "申请人须办理下列事项：")
        for i, r in enumerate(not_met, start=1):
            advice = r.advice or "按审查理由补充材料，经审核后重新申请。"
            doc.paragraph(f"{i}. {r.title}（{r.verdict}）：{advice}")

    doc.signoff(org=ctx.org or workspace or None)

    # 附件：审查依据 (after the 落款, as a 公文 attachment)
    # the attachment starts a page by its heading (an empty page-break paragraph would leave a blank
    # page when the 落款 ends at the foot of a page)
    doc.heading("附件：审查依据", 1).paragraph_format.page_break_before = True
    seen: list[tuple[str, str]] = []
    for r in result.rules:
        if r.basis and (r.basis, r.source) not in seen:
            seen.append((r.basis, r.source))
    for i, (basis, source) in enumerate(seen, start=1):
        doc.note(f"{i}. {basis}")
        if source:
            doc.note(f"核对来源：{source}", indent=True)
    doc.note("面积为 CGCS2000 椭球面积（第三次全国国土调查技术规程的计算方法），地类面积扣除田坎；"
             "1 公顷 = 10,000 平方米 = 15 亩。")
    return doc.save(path)
