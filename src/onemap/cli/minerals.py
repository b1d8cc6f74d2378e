"""矿产资源 commands: thin adapters over :mod:`onemap.app.minerals`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.app.minerals import mining_conflicts
from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.errors import OneMapError

minerals_app = typer.Typer(help="矿产资源：矿业权与三条控制线、自然保护地的冲突。", no_args_is_help=True)
app.add_typer(minerals_app, name="minerals")


@minerals_app.command("conflicts")
def minerals_conflicts(
    ws: WsArg,
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX")] = None,
    as_json: JsonOpt = False,
) -> None:
    """每个矿业权与生态保护红线、自然保护地（按功能分区）、永久基本农田、城镇开发边界的重叠面积和比例。"""
    try:
        result = mining_conflicts(open_store(ws), xlsx=xlsx)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"矿业权冲突（共检查 {result['rights']} 个矿业权）")
    for col in ("许可证号", "矿山名称", "冲突图层", "重叠面积（平方米）", "比例", "功能分区"):
        table.add_column(col)
    for r in result["rows"]:
        zones = "；".join(f"{z} {a:,.2f}" for z, a in r.get("zones", {}).items())
        table.add_row(r["right"], r["name"], r["title"], f"{r['area_m2']:,.2f}", f"{r['share']:.2%}", zones)
    if result["rows"]:
        out.print(table)
    else:
        out.print(f"共检查 {result['rights']} 个矿业权，没有与已入库的这些图层重叠")
    for m in result["missing"]:
        out.print(f"{m['title']}（{m['layer']}）未入库，未检查")
    if result["xlsx"]:
        out.print(f"已输出：{result['xlsx']}")
