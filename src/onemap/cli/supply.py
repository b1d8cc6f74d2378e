"""Land supply and land value commands (批而未供、闲置土地、宗地地价): thin adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.app.landprice import land_price
from onemap.app.supply import (
    disposal_report,
    idle_report,
    import_sample,
    open_idle_cases,
    supply_track,
    unsupplied_report,
)
from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.cli.monitor import ActorOpt, _actor
from onemap.errors import OneMapError

supply_app = typer.Typer(help="土地供应：批而未供、闲置土地（读取建设用地批次 batches、供地 supplies 台账）。",
                         no_args_is_help=True)
app.add_typer(supply_app, name="supply")

DateOpt = Annotated[str | None, typer.Option("--date", help="计算日期（默认今天），如 2025-03-01")]


@supply_app.command("unsupplied")
def supply_unsupplied(
    ws: WsArg,
    date: DateOpt = None,
    by: Annotated[str, typer.Option("--by", help="汇总方式：batch 按批次 / county 按县 / year 按批准年度")] = "batch",
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX")] = None,
    as_json: JsonOpt = False,
) -> None:
    """批而未供：每个批次的批准面积、已供面积（供地图形在批次内的部分，重叠只计一次）、未供面积和供地率，近5年平均供地率。"""
    try:
        result = unsupplied_report(open_store(ws), on=date, by=by, xlsx=xlsx)  # type: ignore[arg-type]
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    key = {"batch": "批准文号", "county": "行政区代码", "year": "批准年度"}[result["by"]]
    table = Table(title=f"批而未供（截至 {result['date']}）")
    for col in (key, "批准面积（平方米）", "已供面积（平方米）", "核减面积（平方米）", "未供面积（平方米）", "供地率"):
        table.add_column(col)
    for r in [*result["rows"], {result["by"]: "合计", **result["total"]}]:
        table.add_row(str(r[result["by"]]), f"{r['approved_m2']:,.2f}", f"{r['supplied_m2']:,.2f}",
                      f"{r['reduced_m2']:,.2f}", f"{r['unsupplied_m2']:,.2f}", f"{r['rate']:.2%}")
    out.print(table)
    rec = result["recent"]
    if rec["batches"]:
        verdict = "达到" if rec["meets"] else "低于"
        out.print(f"近{len(rec['years'])}年（{rec['years'][0]}—{rec['years'][-1]}年批准，{rec['batches']} 个批次）"
                  f"平均供地率 {rec['rate']:.2%}，{verdict}下限 {rec['floor']:.0%}")
    else:
        out.print(f"近{len(rec['years'])}年（{rec['years'][0]}—{rec['years'][-1]}年）没有批准的批次")
    if result["xlsx"]:
        out.print(f"已输出：{result['xlsx']}")


@supply_app.command("idle")
def supply_idle(ws: WsArg, date: DateOpt = None, as_json: JsonOpt = False) -> None:
    """闲置土地：每宗供地在该日的状态（未到期、正常、闲置满一年、闲置满两年）、闲置天数和闲置费（元）。"""
    try:
        result = idle_report(open_store(ws), on=date)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"闲置土地（{result['date']}）")
    for col in ("电子监管号", "受让人", "状态", "起算日", "闲置天数", "闲置费（元）", "说明"):
        table.add_column(col)
    for r in result["rows"]:
        fee = f"{r['fee_yuan']:,.2f}" if r["fee_yuan"] is not None else ("无偿收回候选" if r["recover"] else "")
        table.add_row(r["id"], r["holder"], r["status"], r["idle_since"] or "", str(r["idle_days"]), fee,
                      r["reason"])
    out.print(table)
    out.print("按状态：" + "，".join(f"{k} {v}" for k, v in result["counts"].items())
              + f"；闲置费合计 {result['fee_total_yuan']:,.2f} 元")


@supply_app.command("cases")
def supply_cases(
    ws: WsArg,
    date: DateOpt = None,
    actor: ActorOpt = None,
    now: Annotated[str | None, typer.Option("--now", help="登记时间（默认当前时间）")] = None,
    as_json: JsonOpt = False,
) -> None:
    """把该日闲置满一年以上的供地登记为闲置土地案件（idle 台账；已登记的不重复登记），随后用 onemap ledger act 流转。"""
    try:
        result = open_idle_cases(open_store(ws), on=date, actor=_actor(actor), now=now)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    out.print(f"{result['date']}：新登记闲置土地 {len(result['created'])} 宗"
              + (f"（{'、'.join(result['created'])}）" if result["created"] else "")
              + (f"，已登记 {len(result['existing'])} 宗未重复登记" if result["existing"] else ""))


@app.command("landprice")
def landprice(
    ws: WsArg,
    site: Annotated[Path, typer.Argument(help="宗地文件（GeoJSON/SHP/KML/报盘 TXT 等，与选址检查相同）")],
    use: Annotated[str, typer.Option("--use", help="用途：商服 / 住宅 / 工业 / 公共服务")],
    far: Annotated[float | None, typer.Option("--far", help="宗地容积率（不给则不作容积率修正）")] = None,
    years: Annotated[float | None, typer.Option("--years", help="使用年限 n（默认法定最高年限）")] = None,
    date: DateOpt = None,
    factors: Annotated[list[str] | None, typer.Option(
        "--factors", help="修正因素 因素=等级（可多次），如 繁华程度=较优；开发程度=七通一平 作开发程度修正")] = None,
    docx: Annotated[Path | None, typer.Option(help="输出 DOCX 地价估算")] = None,
    as_json: JsonOpt = False,
) -> None:
    """宗地地价：基准地价系数修正法 P = P₀ × Kt × Ky × Kv × (1 + ΣKi) + Kf，跨级别按面积加权。"""
    try:
        result = land_price(open_store(ws), site, use=use, far=far, years=years, on=date, factors=factors,
                            docx=docx)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"宗地地价（{result['use']}，估价期日 {result['date']}）")
    for col in ("级别", "面积（平方米）", "P₀", "Kt", "Ky", "Kv", "ΣKi", "Kf", "地价（元/平方米）"):
        table.add_column(col)
    for p in result["parts"]:
        c = p["coefficients"]
        table.add_row(f"{p['grade']}（{p['level']}）", f"{p['area_m2']:,.2f}", f"{c['P0']:,.2f}", f"{c['Kt']:.4f}",
                      f"{c['Ky']:.4f}", f"{c['Kv']:.4f}", f"{c['sum_Ki']:+.4f}", f"{c['Kf']:+,.2f}",
                      f"{p['price_yuan_m2']:,.2f}")
    out.print(table)
    out.print(f"单位地价 {result['price_yuan_m2']:,.2f} 元/平方米（{result['price_yuan_mu']:,.2f} 元/亩），"
              f"宗地面积 {result['area_m2']:,.2f} 平方米，总地价 {result['total_yuan']:,.2f} 元")
    if result["floor_price_yuan_m2"] is not None:
        out.print(f"楼面地价 {result['floor_price_yuan_m2']:,.2f} 元/平方米")
    if result["tables_synthetic"]:
        out.print("注意：修正系数表为示例数据（landprice.yaml），须以本市公布的修正体系替换")
    if result["docx"]:
        out.print(f"已输出：{result['docx']}")


@supply_app.command("sample")
def supply_sample(
    ws: WsArg,
    seed: Annotated[int, typer.Option(help="随机种子（相同种子结果相同）")] = 2024,
    as_json: JsonOpt = False,
) -> None:
    """导入模拟的建设用地批次、供地（部分闲置）和基准地价级别（每县一组，备注标明模拟数据）。"""
    try:
        result = import_sample(open_store(ws), seed=seed)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    titles = {"batches": "建设用地批次", "supplies": "供地", "base_prices": "基准地价级别"}
    out.print("已导入模拟数据：" + "，".join(f"{titles[k]} {v} 条" for k, v in result.items()))


@supply_app.command("disposal")
def supply_disposal(
    ws: WsArg,
    year: Annotated[int, typer.Option("--year", help="年度，如 2025")],
    as_json: JsonOpt = False,
) -> None:
    """批而未供和闲置土地年度处置率（按县，对照年度目标）及增存挂钩可得新增指标。"""
    try:
        result = disposal_report(open_store(ws), year=year)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"{result['year']}年批而未供和闲置土地处置（年初存量截至 {result['start']}）")
    for col in ("行政区代码", "批而未供存量", "闲置存量", "当年处置批而未供", "当年处置闲置", "处置率", "目标",
                "增存挂钩指标"):
        table.add_column(col)
    rows = result["rows"] + ([{**result["total"], "county": "合计"}] if result["total"] else [])
    for r in rows:
        rate = "—" if r["rate"] is None else f"{r['rate']:.2%}"
        table.add_row(r["county"], f"{r['unsupplied_stock_m2']:,.2f}", f"{r['idle_stock_m2']:,.2f}",
                      f"{r['unsupplied_disposed_m2']:,.2f}", f"{r['idle_disposed_m2']:,.2f}", rate,
                      f"{r['target']:.0%}", f"{r['quota_m2']:,.2f}")
    out.print(table)
    out.print("面积单位：平方米")


@supply_app.command("track")
def supply_track_cmd(
    ws: WsArg,
    date: DateOpt = None,
    changes: Annotated[str | None, typer.Option("--changes", help="变化图斑（BHTB）版本，默认最新")] = None,
    as_json: JsonOpt = False,
) -> None:
    """批供用补查：每个批次的批准、供地、动工/竣工（台账与变化检测）、耕地占用，以及未供先用、少批多占。"""
    try:
        result = supply_track(open_store(ws), on=date, changes=changes)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    source = (f"变化图斑 {result['changes']['version']}" if result["changes"] else "未做变化检测，仅据台账")
    table = Table(title=f"批供用补查（{result['date']}，{source}）")
    for col in ("批准文号", "批准面积", "已供面积", "供地率", "动工/竣工", "耕地占用", "发现"):
        table.add_column(col)
    for r in result["rows"]:
        table.add_row(r["batch"], f"{r['approved_m2']:,.2f}", f"{r['supplied_m2']:,.2f}", f"{r['rate']:.2%}",
                      f"{r['started']}/{r['completed']}（共 {len(r['supplies'])} 宗）", "、".join(r["occupations"]),
                      "；".join(r["flags"]))
    out.print(table)
    out.print("面积单位：平方米")
