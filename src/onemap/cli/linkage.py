"""增减挂钩 commands: rule check and per-项目区 balance, thin adapters over :mod:`onemap.app.linkage`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.errors import OneMapError

linkage_app = typer.Typer(help="城乡建设用地增减挂钩：规则检查（拆旧/建新/节余/交易/周转指标）和项目区节余统计。"
                          "记录用 onemap ledger 导入（ZJXMQ、CJDK、JXDK、ZBJY）。", no_args_is_help=True)
app.add_typer(linkage_app, name="linkage")

NowOpt = Annotated[str | None, typer.Option("--now", help="判断周转指标期限的日期（默认今天），如 2025-04-15")]


def _print_balances(rows: list[dict[str, Any]]) -> None:
    table = Table(title="增减挂钩项目区节余（平方米）")
    for col in ("项目区", "周转指标", "已验收拆旧", "待验收拆旧", "建新", "节余", "已交易", "可交易", "占用周转",
                "归还期限", "期限"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["project_area"], *(f"{r[k]:,.2f}" for k in (
            "quota_m2", "old_accepted_m2", "old_pending_m2", "new_m2", "surplus_m2", "sold_m2",
            "available_m2", "quota_used_m2")), r["due"] or "", r["deadline"])
    out.print(table)


def _print_findings(findings: list[dict[str, Any]]) -> None:
    if not findings:
        out.print("未发现问题")
    for f in findings:
        out.print(f"  · [{f['level']}] {f['rule_title']}：{f['message']}")


@linkage_app.command("check")
def linkage_check(
    ws: WsArg,
    base: Annotated[str, typer.Option(help="拆旧前的地类图斑版本（拆旧须为建设用地），如 2023")],
    later: Annotated[str | None, typer.Option(help="验收后的地类图斑版本（须为耕地；默认最新版本）")] = None,
    dataset: Annotated[str, typer.Option(help="地类图斑数据集")] = "DLTB",
    protected: Annotated[str, typer.Option(help="永久基本农田数据集")] = "YJJBNTTB",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """检查增减挂钩全部规则：拆旧为建设用地且验收后为耕地、建新不占永久基本农田、拆旧建新不重叠、交易不超节余、周转指标按期归还。"""
    from onemap.app.linkage import check

    try:
        result = check(open_store(ws), base=base, later=later, dataset=dataset, protected=protected, now=now)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    src = result["source"]
    out.print(f"基期 {src['dataset']} {src['base']}，验收后 {src['later'] or '—'}，"
              f"永久基本农田 {src['protected'] or '—'}")
    out.print("记录：" + "，".join(f"{k} {v}" for k, v in result["counts"].items()))
    _print_findings(result["findings"])
    for s in result["skipped"]:
        out.print(f"未检查：{s}")
    _print_balances(result["balances"])


@linkage_app.command("balance")
def linkage_balance(ws: WsArg, now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """按项目区统计周转指标、已验收拆旧、建新、节余（拆旧 − 建新）、已交易和可交易面积。"""
    from onemap.app.linkage import balance

    try:
        result = balance(open_store(ws), now=now)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    _print_balances(result["rows"])
    _print_findings(result["findings"])
