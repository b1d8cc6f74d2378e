"""Use-control commands: the site compliance check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.cli.common import JsonOpt, WsArg, _Bar, _emit_json, _fail, app, open_store, out
from onemap.errors import OneMapError


@app.command()
def check(
    ws: WsArg,
    site: Annotated[Path, typer.Argument(help="用地范围：GeoJSON、Shapefile（可压缩）、KML 或报盘坐标 TXT")],
    use: Annotated[str | None, typer.Option(help="拟用途，如 城镇建设、工业、交通、水利、农业设施")] = None,
    flag: Annotated[list[str] | None, typer.Option(help="项目标记（可多次），如 国家重大项目")] = None,
    activity: Annotated[str | None, typer.Option(
        help="人为活动类型（生态保护红线、自然保护地内按分区判定），如 线性基础设施、生态修复")] = None,
    docx: Annotated[Path | None, typer.Option(help="输出预审意见 DOCX")] = None,
    name: Annotated[str | None, typer.Option(help="项目名称（报盘文件有项目名称时可省略）")] = None,
    applicant: Annotated[str | None, typer.Option(help="建设单位")] = None,
    transform: Annotated[str | None, typer.Option(
        "--transform", help="西安80/北京54 坐标文件所用的本局坐标转换（默认用工作空间的默认转换）")] = None,
    importance: Annotated[str | None, typer.Option(
        help="建设项目重要性（重要、较重要、一般）：给出时按 GB/T 40112-2021 确定地质灾害危险性评估级别")] = None,
    complexity: Annotated[str | None, typer.Option(
        help="地质环境条件复杂程度（复杂、中等、简单；默认按复杂从严）")] = None,
    as_json: JsonOpt = False,
) -> None:
    """用地合规性检查：占用地类、三条控制线和检查图层、用途管制规则逐条判定。"""
    from onemap.services import run_check
    from onemap.store import open_workspace

    try:
        store = open_workspace(ws)
        result = run_check(store, site, use=use, docx=docx, flags=flag or None, name=name,
                           applicant=applicant, transform=transform, importance=importance,
                           complexity=complexity, activity=activity)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    print_check(result)


def _print_linear(result: dict) -> None:
    """A line or point site: its length and what it crosses or falls in (no area)."""
    crossed = result["crossed"]
    if result["kind"] == "线":
        out.print(f"线状地块：长度 {result['length_m']:,.2f} 米（不计面积）")
    else:
        out.print("点状地块（不计面积）")
    classes = Table(title="穿越的地类" if result["kind"] == "线" else "所在地类")
    for col in ("地类编码", "地类名称", "长度（米）", "图斑"):
        classes.add_column(col)
    for c in crossed["classes"]:
        classes.add_row(c["dlbm"], c["dlmc"], f"{c['length_m']:,.2f}" if result["kind"] == "线"
                        else "—", "、".join(c["bsm"][:8]))
    out.print(classes)
    layers = Table(title="控制线与检查图层")
    for col in ("图层", "状态", "线内长度（米）", "涉及要素"):
        layers.add_column(col)
    for name, info in crossed["layers"].items():
        length = info.get("length_m")
        layers.add_row(f"{name} {info.get('title', '')}", str(info.get("status", "")),
                       "—" if length is None else f"{length:,.2f}", "、".join(info["ids"][:8]))
    out.print(layers)
    out.print(f"结论：{result['overall']}")


def print_check(result: dict) -> None:
    """Print a compliance check result for people."""
    if result.get("kind", "面") != "面":
        _print_linear(result)
        return
    area = result["site_area_m2"]
    out.print(f"用地面积：{area / 10000:,.2f} 公顷（{area / (10000 / 15):,.2f} 亩，{area:,.2f} 平方米）")
    classes = Table(title="占用地类")
    for col in ("地类编码", "面积（平方米）", "面积（亩）"):
        classes.add_column(col, justify="right" if col != "地类编码" else "left")
    for code, m2 in sorted(result["by_dlbm"].items()):
        classes.add_row(code, f"{m2:,.2f}", f"{m2 / (10000 / 15):,.2f}")
    out.print(classes)
    layers = Table(title="控制线与检查图层")
    for col in ("图层", "状态", "压占面积（平方米）", "涉及要素"):
        layers.add_column(col)
    for name, info in result["layers"].items():
        value = info.get("area_m2")
        ids = info.get("ids") or []
        layers.add_row(f"{name} {info.get('title', '')}", str(info.get("status", "")),
                       "—" if value is None else f"{value:,.2f}",
                       "、".join(map(str, ids[:8])) + ("…" if len(ids) > 8 else ""))
    out.print(layers)
    rules = Table(title="用途管制规则")
    for col in ("规则", "结论", "理由"):
        rules.add_column(col)
    for r in result["rules"]:
        rules.add_row(r["rule"], r["verdict"], r["reason"])
    out.print(rules, width=max(out.width, 140))
    for name, info in result["layers"].items():
        for f in info.get("features") or []:
            where = (f"距用地 {f['distance_m']:,.0f} 米" if "distance_m" in f
                     else f"重叠 {f['area_m2']:,.2f} 平方米")
            attrs = "，".join(str(v) for k, v in f.items() if k not in ("id", "area_m2", "distance_m") and v)
            out.print(f"  {info.get('title', name)} {f['id']}（{attrs}）：{where}")
    a = result.get("assessment")
    if a:
        out.print(f"地质灾害危险性评估级别：{a['grade']}（{a['importance']}，地质环境条件{a['complexity']}"
                  f"{'' if a['complexity_given'] else '，未提供，按从严取值'}；{a['standard']}）")
    for p in result.get("parcels") or []:
        if p.get("site_area_m2") is None:
            length = p.get("length_m")
            out.print(f"  · 地块 {p.get('name', '')}：{p.get('kind')}状，"
                      + (f"长度 {length:,.2f} 米" if length is not None else "不计面积"))
        else:
            out.print(f"  · 地块 {p.get('name', '')}：{p['site_area_m2']:,.2f} 平方米")
    if result.get("docx"):
        out.print(f"已输出报告：{result['docx']}")




@app.command()
def tabulate(
    ws: WsArg,
    dataset: Annotated[str, typer.Option(help="地类图斑数据集")] = "DLTB",
    version: Annotated[str | None, typer.Option(help="版本（默认最新）")] = None,
    zones: Annotated[str, typer.Option(help="控制线图层，逗号分隔")] = "YJJBNTTB,STBHHX,CZKFBJ",
    by: Annotated[str, typer.Option(help="统计单元：county 或 town")] = "county",
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX")] = None,
    gpkg: Annotated[Path | None, typer.Option(help="输出控制线冲突图斑 GeoPackage")] = None,
    as_json: JsonOpt = False,
) -> None:
    """控制线内外地类面积统计（按县），以及永久基本农田、生态保护红线、城镇开发边界之间的冲突。"""
    from onemap.services import report_filing, tabulate_zones, write_tabulation

    try:
        store = open_store(ws)
        with _Bar(not as_json) as bar:
            result = tabulate_zones(store, dataset=dataset, version=version,
                                    zones=[z.strip().upper() for z in zones.split(",") if z.strip()],
                                    level=by, progress=bar)
        write_tabulation(result, xlsx=xlsx, gpkg=gpkg, filing=report_filing(store),
                         region_code=store.settings().get("region", ""))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        conflicts = result.conflicts.drop(columns="geometry").to_dict(orient="records")
        _emit_json({"level": result.level, "sources": result.sources, "rows": result.to_records(),
                    "conflicts": conflicts, "xlsx": str(xlsx) if xlsx else None,
                    "gpkg": str(gpkg) if gpkg else None})
        return
    rows = result.rows
    table = Table(title="控制线内地类面积（公顷）")
    for col in ("单位", "控制线", "耕地", "建设用地", "合计"):
        table.add_column(col, justify="right" if col in ("耕地", "建设用地", "合计") else "left")
    from onemap.domain import land_classes

    lc = land_classes()
    construction = set(lc.code_set("construction"))
    cultivated = set(lc.code_set("cultivated"))
    inside = rows[rows["inside"]]
    for (unit, zone), part in inside.groupby(["county", "zone"]):
        gd = part[part["dlbm"].isin(cultivated)]["tbdlmj_m2"].sum()
        build = part[part["dlbm"].isin(construction)]["tbdlmj_m2"].sum()
        name = part["unit_name"].iloc[0] if "unit_name" in part else ""
        table.add_row(f"{unit} {name}", zone, f"{gd / 1e4:,.2f}", f"{build / 1e4:,.2f}",
                      f"{part['tbdlmj_m2'].sum() / 1e4:,.2f}")
    out.print(table)
    c = result.conflicts
    out.print(f"控制线冲突：{len(c)} 处，合计 {c['area_m2'].sum() / 1e4:,.4f} 公顷" if len(c) else "控制线冲突：无")
    for (a, b), part in c.groupby(["zone_a", "zone_b"]) if len(c) else []:
        out.print(f"  · {a} × {b}：{len(part)} 处，{part['area_m2'].sum():,.2f} 平方米")
    if xlsx:
        out.print(f"已输出：{xlsx}")
    if gpkg:
        out.print(f"已输出：{gpkg}")
