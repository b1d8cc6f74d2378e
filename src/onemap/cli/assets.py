"""资产清查 commands: thin adapters over :mod:`onemap.app.assets`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.app.assets import asset_balance, asset_values
from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.errors import OneMapError


def _money(v: float | None) -> str:
    return "—" if v is None else f"{v:,.2f}"


@app.command("assets")
def assets(
    ws: WsArg,
    dataset: Annotated[str, typer.Option(help="土地利用现状数据集")] = "DLTB",
    version: Annotated[str | None, typer.Option(help="版本（默认最新）")] = None,
    by: Annotated[str | None, typer.Option(help="county：按县分列")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX")] = None,
    as_json: JsonOpt = False,
) -> None:
    """全民所有土地资源资产清查：按地类编码的实物量 × 清查价格 = 经济价值（集体所有实物量另列）。"""
    try:
        result = asset_values(open_store(ws), dataset=dataset, version=version, by=by, xlsx=xlsx)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"资产清查（{result['dataset']} {result['version']}）")
    cols = (["县级行政区"] if by else []) + ["地类编码", "地类名称", "所有权", "实物量（亩）",
                                           "清查价格（元/平方米）", "经济价值（元）"]
    for col in cols:
        table.add_column(col)
    for r in result["rows"]:
        table.add_row(*([r["county"]] if by else []), r["dlbm"], r["dlmc"], r["ownership"],
                      f"{r['area_mu']:,.2f}", _money(r["price_yuan_m2"]), _money(r["value_yuan"]))
    out.print(table)
    for own, t in result["totals"].items():
        out.print(f"{own}：{t['area_m2'] / 10000:,.4f} 公顷，经济价值 {_money(t['value_yuan'])} 元")
    if result["xlsx"]:
        out.print(f"已输出：{result['xlsx']}")


@app.command("asset-balance")
def asset_balance_cmd(
    ws: WsArg,
    from_: Annotated[str, typer.Option("--from", help="期初版本")],
    to: Annotated[str, typer.Option("--to", help="期末版本")],
    dataset: Annotated[str, typer.Option(help="土地利用现状数据集")] = "DLTB",
    by: Annotated[str | None, typer.Option(help="county：按县分列")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX（版式见 ledgers/data/assets.yaml）")] = None,
    as_json: JsonOpt = False,
) -> None:
    """全民所有土地资源资产负债表：期初 + 本期变动（实物量变动、价格变动）= 期末。"""
    try:
        result = asset_balance(open_store(ws), from_, to, dataset=dataset, by=by, xlsx=xlsx)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"资产负债表（{result['from']}—{result['to']}）")
    cols = (["县级行政区"] if by else []) + ["地类编码", "地类名称", "期初（亩）", "变动（亩）", "期末（亩）",
                                           "期初价值（元）", "实物量变动（元）", "价格变动（元）", "期末价值（元）"]
    for col in cols:
        table.add_column(col)
    for r in [*result["rows"], {**result["totals"], "dlbm": "合计"}]:
        table.add_row(*([r["county"]] if by else []), r["dlbm"], r["dlmc"], f"{r['opening_mu']:,.2f}",
                      f"{r['change_mu']:,.2f}", f"{r['closing_mu']:,.2f}", _money(r["opening_yuan"]),
                      _money(r["quantity_change_yuan"]), _money(r["price_change_yuan"]),
                      _money(r["closing_yuan"]))
    out.print(table)
    if result["xlsx"]:
        out.print(f"已输出：{result['xlsx']}")
