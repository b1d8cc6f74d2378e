"""Plan-implementation commands: indicator inputs and the annual health check / five-year evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.cli.monitor import ActorOpt, _actor
from onemap.errors import OneMapError

indicators_app = typer.Typer(help="规划实施指标：填报模板、导入填报数据。", no_args_is_help=True)
app.add_typer(indicators_app, name="indicators")


@indicators_app.command("template")
def indicators_template(
    out_path: Annotated[Path, typer.Argument(help="输出的填报模板（.xlsx，同时生成 .csv）")],
    ws: Annotated[Path | None, typer.Option(help="工作空间（按其市县预填单位）")] = None,
    as_json: JsonOpt = False,
) -> None:
    """生成非空间指标填报模板（GDP、人口、植被盖度、批而未供和闲置土地处置、计划指标等）。"""
    from onemap.indicators import write_input_template, write_template_for_workspace

    try:
        files = write_template_for_workspace(open_store(ws), out_path) if ws else write_input_template(out_path)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(files)
    else:
        out.print(f"已生成填报模板：{files.get('xlsx')}（{files.get('csv')}）")


@indicators_app.command("import")
def indicators_import(
    ws: WsArg,
    file: Annotated[Path, typer.Argument(help="填好的模板（.xlsx 或 .csv）")],
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """导入填报数据（校验后整体写入；有错误时不写入任何内容并指出表、行、列）。"""
    from onemap.indicators import import_inputs

    try:
        result = import_inputs(open_store(ws), file, _actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        out.print(f"已导入填报数据（批次 {result['import_id']}）：{result['values']} 个数值")


@app.command()
def assess(
    ws: WsArg,
    year: Annotated[int | None, typer.Option(help="体检年度（默认最新地类图斑版本）")] = None,
    period: Annotated[str | None, typer.Option(help="五年评估期，如 2021-2025")] = None,
    docx: Annotated[Path | None, typer.Option(help="输出体检/评估报告 DOCX")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="输出指标表 XLSX")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """一年一体检、五年一评估：逐项指标按县和市域计算现状值、趋势、目标、差距和状态。"""
    from onemap.app.assessment import run_assessment

    try:
        result = run_assessment(open_store(ws), year=year, period=period, docx=docx, xlsx=xlsx,
                                actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=result.get("title", "规划实施体检"))
    for col in ("指标", "单位", "市域现状值", "目标", "状态", "说明"):
        table.add_column(col)
    for ind in result["indicators"]:
        city = ind["units"][0] if ind["units"] else {}
        value = city.get("value")
        target = city.get("target")
        table.add_row(ind["name"], ind["unit"], "—" if value is None else f"{value:,.{ind.get('decimals', 2)}f}",
                      "—" if target is None else f"{target:,.{ind.get('decimals', 2)}f}",
                      str(city.get("status", "")), str(city.get("reason", ""))[:60])
    out.print(table)
    for key, path in (result.get("files") or {}).items():
        if path:
            out.print(f"已输出 {key.upper()}：{path}")
