"""自然资源统一确权登记 commands: thin adapters over :mod:`onemap.app.registration`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.app.registration import registration_resources
from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.errors import OneMapError

registration_app = typer.Typer(help="自然资源统一确权登记：登记单元的自然状况与关联信息。", no_args_is_help=True)
app.add_typer(registration_app, name="registration")


@registration_app.command("resources")
def registration_resources_cmd(
    ws: WsArg,
    unit: Annotated[str | None, typer.Argument(help="登记单元号（默认全部）")] = None,
    dataset: Annotated[str, typer.Option(help="土地利用现状数据集")] = "DLTB",
    version: Annotated[str | None, typer.Option(help="版本（默认最新）")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX")] = None,
    as_json: JsonOpt = False,
) -> None:
    """每个登记单元内按一级类和国有/集体/争议的资源面积，以及涉及的控制线和矿业权。"""
    try:
        result = registration_resources(open_store(ws), unit, dataset=dataset, version=version, xlsx=xlsx)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    for u in result["units"]:
        table = Table(title=f"{u['unit']} {u['name']}（{u['state']}）")
        for col in ("一级类", "资源类型", "所有权", "面积（平方米）"):
            table.add_column(col)
        for r in u["resources"]:
            table.add_row(r["class"], r["class_name"], r["ownership"], f"{r['area_m2']:,.2f}")
        out.print(table)
        for t in u["touches"]:
            out.print(f"涉及{t['title']} {t['area_m2']:,.2f} 平方米（{'、'.join(t['ids'])}）")
    for m in result["missing"]:
        out.print(f"{m['title']}（{m['layer']}）未入库，未检查")
    if result["xlsx"]:
        out.print(f"已输出：{result['xlsx']}")
