"""生态修复 commands: thin adapters over :mod:`onemap.app.restoration`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.app.restoration import restoration_check
from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.errors import OneMapError

restoration_app = typer.Typer(help="生态修复：验收项目与土地利用现状版本核查。", no_args_is_help=True)
app.add_typer(restoration_app, name="restoration")


@restoration_app.command("check")
def restoration_check_cmd(
    ws: WsArg,
    dataset: Annotated[str, typer.Option(help="土地利用现状数据集")] = "DLTB",
    version: Annotated[str | None, typer.Option(help="验收后的版本（默认最新）")] = None,
    base: Annotated[str | None, typer.Option(help="项目实施前的基期版本（新增耕地扣除基期耕地）")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX")] = None,
    as_json: JsonOpt = False,
) -> None:
    """已验收国土绿化是否成为林地/草地，全域土地综合整治新增耕地是否成为耕地（01）。"""
    try:
        result = restoration_check(open_store(ws), dataset=dataset, version=version, base=base, xlsx=xlsx)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"生态修复项目核查（{result['dataset']} {result['version']}）")
    for col in ("项目编号", "项目类型", "检查内容", "结论", "说明"):
        table.add_column(col)
    for r in result["rows"]:
        verdict = {True: "通过", False: "不通过"}.get(r["passed"], "未检查")
        table.add_row(r["project"], r["type"], r["check"], verdict, r["reason"])
    if result["rows"]:
        out.print(table)
    else:
        out.print(f"没有需要核查的已验收项目（共 {result['projects']} 个已验收项目）")
    if result["xlsx"]:
        out.print(f"已输出：{result['xlsx']}")
