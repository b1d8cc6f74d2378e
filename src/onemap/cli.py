"""The ``onemap`` command line: Chinese for people, ``--json`` for machines.

Each command is a thin adapter over :mod:`onemap.services` and the engines.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from onemap.errors import OneMapError

app = typer.Typer(
    help="OneMap 自然资源一张图：工作空间、数据入库、统计。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出（供其他系统调用）")]
WsArg = Annotated[Path, typer.Argument(help="工作空间（.gpkg 文件）")]


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1, default=str) + "\n")


def _fail(exc: OneMapError, as_json: bool) -> None:
    if as_json:
        _emit_json(exc.to_dict())
    else:
        err.print("错误：", style="bold red", end="")
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=exc.exit_code)


class _Bar:
    """Rich progress bar fed by ``progress(step, done, total)`` callbacks."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and err.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self._task = None

    def __enter__(self) -> _Bar:
        if self.enabled:
            self._progress.start()
            self._task = self._progress.add_task("准备", total=1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._progress.stop()

    def __call__(self, step: str, done: int, total: int) -> None:
        if self.enabled and self._task is not None:
            self._progress.update(self._task, description=step, completed=done, total=total or 1)


@app.command()
def init(
    ws: WsArg,
    name: Annotated[str, typer.Option(help="工作空间名称")] = "",
    region: Annotated[str, typer.Option(help="行政区划代码，如 640300")] = "",
    as_json: JsonOpt = False,
) -> None:
    """新建工作空间（一个可直接用 QGIS 打开的 GeoPackage 文件）。"""
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
                encoding=encoding, crs=crs, progress=bar,
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
    """列出工作空间中的数据集及其版本。"""
    from onemap.store import open_workspace

    try:
        store = open_workspace(ws)
        datasets = store.datasets()
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"workspace": store.location, "datasets": [d.to_dict() for d in datasets]})
        return
    table = Table(title=f"工作空间目录：{store.location}")
    for col in ("数据集", "名称", "版本", "要素数", "来源", "模拟数据", "入库时间"):
        table.add_column(col)
    for d in datasets:
        for v in d.versions:
            table.add_row(
                d.name, d.title, v.version, f"{v.feature_count:,}", v.meta.source_file,
                "是" if v.meta.synthetic else "否", v.created_at,
            )
    out.print(table)


@app.command()
def stats(
    ws: WsArg,
    dataset: Annotated[str, typer.Option(help="数据集")] = "DLTB",
    version: Annotated[str | None, typer.Option(help="版本（默认最新）")] = None,
    by: Annotated[str, typer.Option(help="统计单元：county（县级）或 town（乡级）")] = "county",
    xlsx: Annotated[Path | None, typer.Option(help="同时输出 XLSX 文件")] = None,
    as_json: JsonOpt = False,
) -> None:
    """三调土地利用现状汇总表：按单位统计各分组和二级地类面积（公顷、亩）。"""
    from onemap.services import land_use_stats, write_stats_xlsx
    from onemap.store import open_workspace

    try:
        store = open_workspace(ws)
        table = land_use_stats(store, dataset=dataset, version=version, level=by)
        if xlsx:
            write_stats_xlsx(table, xlsx)
            store.add_asset(table.source["version_id"], "xlsx", str(xlsx.resolve()),
                            {"kind": "bulletin_table", "level": by})
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        rows = table.rows.drop(columns=["cents"]).to_dict(orient="records")
        groups = table.groups.to_dict(orient="records")
        _emit_json({"source": table.source, "level": table.level, "rows": rows,
                    "groups_hectare": groups, "xlsx": str(xlsx) if xlsx else None})
        return
    print_group_table(table)
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
def check(
    ws: WsArg,
    site: Annotated[Path, typer.Argument(help="用地范围：GeoJSON、Shapefile（可压缩）、KML 或报盘坐标 TXT")],
    use: Annotated[str | None, typer.Option(help="拟用途，如 城镇建设、工业、交通、水利、农业设施")] = None,
    flag: Annotated[list[str] | None, typer.Option(help="项目标记（可多次），如 国家重大项目")] = None,
    docx: Annotated[Path | None, typer.Option(help="输出预审报告 DOCX")] = None,
    as_json: JsonOpt = False,
) -> None:
    """用地合规性检查：占用地类、三条控制线和检查图层、用途管制规则逐条判定。"""
    from onemap.control.check import run_check
    from onemap.store import open_workspace

    try:
        store = open_workspace(ws)
        result = run_check(store, site, use=use, docx=docx, flags=flag or None)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    print_check(result)


def print_check(result: dict) -> None:
    """Print a compliance check result for people."""
    area = result["site_area_m2"]
    out.print(f"用地面积：{area:,.2f} 平方米（{area / 10000:,.4f} 公顷，{area / (10000 / 15):,.2f} 亩）")
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
    for p in result.get("parcels") or []:
        out.print(f"  · 地块 {p.get('name', '')}：{p['site_area_m2']:,.2f} 平方米")
    if result.get("docx"):
        out.print(f"已输出报告：{result['docx']}")


def main() -> None:
    """Entry point of the ``onemap`` script."""
    app()


if __name__ == "__main__":
    main()
