"""地质灾害 commands: thin adapters over :mod:`onemap.app.hazards`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.app.hazards import hazard_report
from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.errors import OneMapError

hazards_app = typer.Typer(help="地质灾害：隐患点年度报表（在册、巡查到期、销号）。", no_args_is_help=True)
app.add_typer(hazards_app, name="hazards")


@hazards_app.command("report")
def hazards_report(
    ws: WsArg,
    year: Annotated[int | None, typer.Option(help="销号统计年度（默认当年）")] = None,
    now: Annotated[str | None, typer.Option("--now", help="判断巡查期限的日期（默认今天），如 2025-08-10")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX")] = None,
    as_json: JsonOpt = False,
) -> None:
    """在册隐患点按县、灾害类型、险情等级统计；巡查即将到期和已逾期的隐患点；年度销号。"""
    try:
        result = hazard_report(open_store(ws), year=year, now=now, xlsx=xlsx)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"在册地质灾害隐患点 {result['active']} 处（{result['at']}）")
    for col in ("行政区", "灾害类型", "险情等级", "隐患点数"):
        table.add_column(col)
    for r in result["rows"]:
        table.add_row(r["county"], r["type"], r["grade"], str(r["count"]))
    out.print(table)
    for label, key in (("巡查即将到期", "due"), ("巡查已逾期", "overdue")):
        if result[key]:
            out.print(f"{label}：" + "、".join(f"{p['no']} {p['name']}（{p['due_at'][:10]}）" for p in result[key]))
    out.print(f"{result['year']} 年销号 {result['closed_count']} 处" + (
        "：" + "、".join(f"{p['no']} {p['name']}（{p['date']}，{p['reason']}）" for p in result["closed_in_year"])
        if result["closed_in_year"] else ""))
    if result["xlsx"]:
        out.print(f"已输出：{result['xlsx']}")
