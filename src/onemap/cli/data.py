"""Workspace, ingest, catalog, statistics and sample commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.cli.common import JsonOpt, WsArg, _Bar, _emit_json, _fail, app, out
from onemap.errors import OneMapError


@app.command()
def init(
    ws: WsArg,
    name: Annotated[str, typer.Option(help="工作空间名称")] = "",
    region: Annotated[str, typer.Option(help="行政区划代码，如 640300")] = "",
    as_json: JsonOpt = False,
) -> None:
    """新建工作空间：一个可直接用 QGIS 打开的 GeoPackage 文件，或一个空的 PostGIS 数据库（postgresql://…）。"""
    from onemap.store import init_workspace

    try:
        store = init_workspace(ws, name=name, region=region)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"workspace": store.location, "created": True})
    else:
        out.print(f"已创建工作空间：{store.location}")


@app.command()
def ingest(
    ws: WsArg,
    file: Annotated[Path, typer.Argument(help="数据文件：Shapefile、zip、GeoPackage、.gdb 文件夹、GeoJSON")],
    dataset: Annotated[str, typer.Option(help="数据集，如 DLTB、XZQ、YJJBNTTB")],
    version: Annotated[str, typer.Option(help="版本，如 2024")],
    layer: Annotated[str | None, typer.Option(help="图层名（多图层文件时必填）")] = None,
    encoding: Annotated[str | None, typer.Option(help="属性编码，如 GBK")] = None,
    crs: Annotated[str | None, typer.Option(help="坐标系，如 EPSG:4523（无 .prj 时必填）")] = None,
    transform: Annotated[str | None, typer.Option(
        "--transform", help="本局坐标转换参数名称（onemap crs list 可查；默认用该源坐标系的默认转换）")] = None,
    accept_datum_shift: Annotated[bool, typer.Option(
        "--accept-datum-shift", help="西安80/北京54 等无转换参数时仍入库（知悉数米至上百米偏差）")] = False,
    as_json: JsonOpt = False,
) -> None:
    """数据入库：读取、检查、修复、转换到 CGCS2000 并写入新版本。"""
    from onemap.ingest import ingest as run_ingest
    from onemap.store import open_workspace

    try:
        store = open_workspace(ws)
        with _Bar(not as_json) as bar:
            result = run_ingest(
                store, str(file), dataset=dataset, version=version, layer=layer,
                encoding=encoding, crs=crs, progress=bar, transform=transform,
                accept_datum_shift=accept_datum_shift,
            )
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result.to_dict())
        return
    v = result.version
    out.print(f"已入库 {v.dataset} {v.version}：{v.feature_count} 个要素，图层 {v.layer}")
    for note in result.notes:
        out.print(f"  · {note}")
    for name, value in v.meta.area_totals.items():
        out.print(f"  · {name} 合计 {value:,.2f} 平方米（{value / 10000:,.4f} 公顷）")
    counts: dict[str, int] = {}
    for p in result.report.items:
        counts[p.rule] = counts.get(p.rule, 0) + 1
    if counts:
        out.print("检查发现（未阻止入库）：")
        for rule, n in counts.items():
            out.print(f"  · {rule}：{n} 条")
        for p in result.report.items[:20]:
            out.print(f"    {p}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def catalog(ws: WsArg, as_json: JsonOpt = False) -> None:
    """列出工作空间中的数据集、版本及派生来源，以及所用领域数据文件的出处。"""
    from onemap.domain import sources
    from onemap.store import open_workspace
    from onemap.store.base import lineage

    try:
        store = open_workspace(ws)
        datasets = store.datasets()
        domain_files = sources.describe()
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        listed = []
        for d in datasets:
            item = d.to_dict()
            for v, row in zip(d.versions, item["versions"], strict=True):
                row["lineage"] = lineage(datasets, v.id)
            listed.append(item)
        _emit_json({"workspace": store.location, "datasets": listed,
                    "domain_files": domain_files})
        return
    table = Table(title=f"工作空间目录：{store.location}")
    for col in ("数据集", "名称", "版本", "要素数", "来源", "派生自", "模拟数据", "入库时间"):
        table.add_column(col)
    for d in datasets:
        for v in d.versions:
            made_from = "、".join(f"{i.dataset} {i.version}" for i in v.meta.inputs)
            table.add_row(
                d.name, d.title, v.version, f"{v.feature_count:,}", v.meta.source_file,
                made_from, "是" if v.meta.synthetic else "否", v.created_at,
            )
    out.print(table)
    files = domain_files["files"]
    replaced = [f for f in files if f["source"] == "override"]
    where = domain_files["override_dir"]
    out.print(f"领域数据文件 {len(files)} 个：" + (
        f"覆盖目录 {where} 替换了 {len(replaced)} 个（{'、'.join(f['name'] for f in replaced) or '无'}）"
        if where else "均为随软件发布的版本（未设置 ONEMAP_DOMAIN_DIR）"), highlight=False)
    for path in domain_files["ignored"]:
        out.print(f"  · 覆盖目录中的 {path} 与任何数据文件都不同名，未被使用", highlight=False)


@app.command()
def stats(
    ws: WsArg,
    dataset: Annotated[str, typer.Option(help="数据集")] = "DLTB",
    version: Annotated[str | None, typer.Option(help="版本（默认最新）")] = None,
    by: Annotated[str, typer.Option(help="统计单元：county（县级）、town（乡级）或 village（村级）")] = "county",
    table: Annotated[str | None, typer.Option(
        help="统计表：class（分类面积）、bulletin（公报口径）、czc（城镇村及工矿用地）、farmland（耕地细化）；"
             "不填为地类分组汇总")] = None,
    balanced: Annotated[bool | None, typer.Option(
        "--balanced/--unbalanced",
        help="调平到行政区调查面积（DCMJ/KZMJ）；--table 的 XLSX 默认调平（无控制面积时注明未调平）")] = None,
    tolerance: Annotated[float | None, typer.Option(help="调平容差（公顷，默认 1）")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="同时输出 XLSX 文件")] = None,
    as_json: JsonOpt = False,
) -> None:
    """土地利用现状统计：地类分组汇总，或 --table 指定的三调/变更调查统计表（公顷、亩）。"""
    from onemap.services import (
        land_use_stats,
        official_stats,
        report_filing,
        write_official_xlsx,
        write_stats_xlsx,
    )
    from onemap.store import open_workspace

    try:
        store = open_workspace(ws)
        if table is not None:
            mode = "yes" if balanced else "no" if balanced is False else ("auto" if xlsx else "no")
            result = official_stats(store, dataset=dataset, version=version, table=table, level=by,
                                    balance=mode, tolerance_ha=tolerance)
            if xlsx:
                write_official_xlsx(store, result, xlsx)
                store.add_asset(result.source["version_id"], "xlsx", str(xlsx.resolve()),
                                {"kind": f"official_table:{table}", "level": by,
                                 "balanced": result.balanced})
        else:
            result = land_use_stats(store, dataset=dataset, version=version, level=by)
            if xlsx:
                write_stats_xlsx(result, xlsx, report_filing(store),
                                 region_code=store.settings().get("region", ""))
                store.add_asset(result.source["version_id"], "xlsx", str(xlsx.resolve()),
                                {"kind": "bulletin_table", "level": by})
    except OneMapError as exc:
        _fail(exc, as_json)
    if table is not None:
        _emit_official(result, xlsx, as_json)
        return
    if as_json:
        rows = result.rows.drop(columns=["cents"]).to_dict(orient="records")
        groups = result.groups.to_dict(orient="records")
        _emit_json({"source": result.source, "level": result.level, "rows": rows,
                    "groups_hectare": groups, "xlsx": str(xlsx) if xlsx else None})
        return
    print_group_table(result)
    if xlsx:
        out.print(f"已输出 XLSX：{xlsx}")


OFFICIAL_TITLES = {"class": "土地利用现状分类面积汇总", "bulletin": "公报口径汇总",
                   "czc": "城镇村及工矿用地面积汇总", "farmland": "耕地细化面积汇总"}


def _emit_official(result, xlsx: Path | None, as_json: bool) -> None:
    if as_json:
        _emit_json({"source": result.source, "table": result.table, "level": result.level,
                    "balanced": result.balanced, "balance": result.balance,
                    "rows": result.records(), "xlsx": str(xlsx) if xlsx else None})
        return
    src = result.source
    state = "已调平" if result.balanced else "未调平"
    keys = [k for k in result.KEYS[result.table] if k not in ("level1", "three_class")]
    rich_table = Table(title=f"{src.get('dataset')} {src.get('version')} "
                             f"{OFFICIAL_TITLES[result.table]}（公顷，{state}）")
    for col in ("单位", *keys, "面积（公顷）"):
        rich_table.add_column(col, justify="right" if col.startswith("面积") else "left")
    for rec in result.records():
        rich_table.add_row(f"{rec['unit']} {rec['unit_name']}".strip(),
                           *(str(rec[k]) for k in keys), f"{rec['hectare']:,.2f}")
    out.print(rich_table, width=max(out.width, 120))
    for b in result.balance:
        out.print(f"调平 {b['county']} {b['county_name']}：控制面积 {b['control_ha']:,.2f} 公顷，"
                  f"调平前合计 {b['sum_before_ha']:,.2f} 公顷，调整 {b['steps']} 个 0.01 公顷")
    if xlsx:
        out.print(f"已输出 XLSX：{xlsx}")


def print_group_table(table) -> None:
    """Print the unit × group summary (公顷): groups as rows when units are few, else units as rows."""
    src = table.source
    title = f"{src.get('dataset')} {src.get('version')} 土地利用现状汇总（公顷）"
    groups = table.groups
    labels = [f"{code} {name}".strip() for code, name in zip(groups["unit"], groups["unit_name"], strict=True)]
    value_cols = list(groups.columns[2:])
    rich_table = Table(title=title)
    if len(groups) <= 8:
        rich_table.add_column("地类分组")
        for label in labels:
            rich_table.add_column(label, justify="right")
        for col in value_cols:
            rich_table.add_row("合计" if col == "total" else col, *(f"{v:,.2f}" for v in groups[col]))
    else:
        rich_table.add_column("单位")
        for col in value_cols:
            rich_table.add_column("合计" if col == "total" else col, justify="right")
        for label, row in zip(labels, groups[value_cols].itertuples(index=False), strict=True):
            rich_table.add_row(label, *(f"{v:,.2f}" for v in row))
    out.print(rich_table, width=max(out.width, 160))


@app.command()
def sample(
    ws: WsArg,
    patches: Annotated[int, typer.Option(help="地类图斑数量（约）")] = 100_000,
    seed: Annotated[int, typer.Option(help="随机种子（相同种子结果相同）")] = 2024,
    as_json: JsonOpt = False,
) -> None:
    """生成吴忠市模拟样例工作空间（真实县界，模拟图斑，目录中标记为模拟数据）。"""
    from onemap.services import build_sample_workspace

    try:
        with _Bar(not as_json) as bar:
            store = build_sample_workspace(ws, patches=patches, seed=seed, progress=bar)
        datasets = store.datasets()
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"workspace": store.location, "datasets": [d.to_dict() for d in datasets]})
        return
    out.print(f"已生成样例工作空间：{store.location}")
    for d in datasets:
        for v in d.versions:
            out.print(f"  · {d.name} {d.title} {v.version}：{v.feature_count:,} 个要素")




@app.command()
def settings(
    ws: WsArg,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="设置项 键=值（可多次），如 编制单位=吴忠市自然资源局；值为空则删除")] = None,
    as_json: JsonOpt = False,
) -> None:
    """工作空间设置：行政区名称、编制单位、文号、审图号（报告的标题、落款和地图标注使用）。"""
    from onemap.cli.common import open_store
    from onemap.reports.document import setting_keys
    from onemap.services import update_settings

    try:
        result = update_settings(open_store(ws), set_ or [])
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    labels = {"name": "工作空间名称", "region": "行政区划代码", **setting_keys()}
    table = Table(title="工作空间设置")
    table.add_column("设置项")
    table.add_column("值")
    for key, label in labels.items():
        table.add_row(f"{label}（{key}）", result.get(key, "（未设置）"))
    out.print(table)
