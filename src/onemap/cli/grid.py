"""网格（田长制、林长制） commands: thin adapters over :mod:`onemap.app.grids`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.app.grids import case_chiefs, change_chiefs, grid_report
from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.errors import InputError, OneMapError

grid_app = typer.Typer(help="网格化管理：田长制、林长制网格的耕地（林地）、变化图斑和案件。", no_args_is_help=True)
app.add_typer(grid_app, name="grid")

GridOpt = Annotated[str, typer.Option("--grid", help="网格：田长 或 林长（或其台账 TZWG、LZWG）")]


def _who(cells: list[dict]) -> str:
    return " → ".join(f"{c['level']}{c['name']}（{c['chief']}）" for c in cells) or "不在任何网格内"


@grid_app.command("report")
def grid_report_cmd(
    ws: WsArg,
    grid: GridOpt = "田长",
    changes: Annotated[str | None, typer.Option("--changes", help="变化图斑版本（默认最新）")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX")] = None,
    as_json: JsonOpt = False,
) -> None:
    """每个网格的耕地（林地）面积（耕地扣除田坎）、变化图斑和未办结案件。"""
    try:
        result = grid_report(open_store(ws), grid, changes_version=changes, xlsx=xlsx)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"{result['grid']}网格（{result['cells']} 个）")
    for col in ("网格编码", "名称", "层级", result["grid"], "网格员/护林员", f"{result['land']}（平方米）",
                "变化图斑", "变化面积（平方米）", "未办结案件"):
        table.add_column(col)
    for r in result["rows"]:
        table.add_row(r["code"], r["name"], r["level"], r["chief"], r["worker"], f"{r['land_m2']:,.2f}",
                      str(r["changes"]), f"{r['change_area_m2']:,.2f}", str(r["open_cases"]))
    out.print(table)
    for m in result["missing"]:
        out.print(f"{m} 未入库，未统计")
    if result["xlsx"]:
        out.print(f"已输出：{result['xlsx']}")


@grid_app.command("locate")
def grid_locate_cmd(
    ws: WsArg,
    grid: GridOpt = "田长",
    case: Annotated[str | None, typer.Option("--case", help="案件编号或序号：列出其所在网格的田长（林长）")] = None,
    changes: Annotated[str | None, typer.Option(
        "--changes", help="变化图斑版本：列出每个变化图斑所在网格的田长（林长）；给 latest 取最新")] = None,
    as_json: JsonOpt = False,
) -> None:
    """案件或变化图斑所在的网格及其田长（林长），由县级到村级。"""
    try:
        store = open_store(ws)
        if (case is None) == (changes is None):
            raise InputError("请给出 --case 或 --changes 之一", [])
        if case is not None:
            result = case_chiefs(store, grid, case)
        else:
            result = change_chiefs(store, grid, changes_version=None if changes == "latest" else changes)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    if "case_no" in result:
        out.print(f"案件 {result['case_no']}：{_who(result['cells'])}")
        return
    for p in result["patches"]:
        out.print(f"变化图斑 {p['tbbh']}：{_who(p['cells'])}")
