"""Register commands (台账) and the 占补平衡 accounts: thin adapters over :mod:`onemap.app.ledgers`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from onemap.app.supplements import check_supplemented
from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.cli.monitor import ActorOpt, _actor
from onemap.errors import InputError, OneMapError

ledger_app = typer.Typer(help="台账：导入、列表、详情、流转、导出（补充耕地项目 BCGDXM、耕地占用 GDZY 等）。",
                         no_args_is_help=True)
farmland_app = typer.Typer(help="耕地占补平衡：挂钩核销、撤销挂钩、指标账户。", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
app.add_typer(farmland_app, name="farmland")

RegArg = Annotated[str, typer.Argument(help="台账名称或代码，如 补充耕地项目 / BCGDXM")]
RecArg = Annotated[str, typer.Argument(help="记录编号")]
NowOpt = Annotated[str | None, typer.Option("--now", help="操作时间（默认当前时间），如 2025-03-01")]


def _print_records(result: dict[str, Any]) -> None:
    table = Table(title=f"{result['title']}（{result['count']} 条）")
    for col in ("编号", "行政区", "状态", "到期日", "期限"):
        table.add_column(col)
    for r in result["records"]:
        table.add_row(r["record_no"], r["county"], r["state_title"], (r["due_at"] or "")[:10], r["deadline"])
    out.print(table)
    if result["by_state"]:
        out.print("按状态：" + "，".join(f"{k} {v}" for k, v in result["by_state"].items()))


@ledger_app.command("import")
def ledger_import(
    ws: WsArg,
    register: RegArg,
    file: Annotated[Path, typer.Argument(help="XLSX/CSV（中文表头）或 GeoPackage/Shapefile/GeoJSON")],
    layer: Annotated[str | None, typer.Option(help="工作表或图层")] = None,
    encoding: Annotated[str | None, typer.Option(help="Shapefile 属性编码，如 GBK")] = None,
    geometry: Annotated[Path | None, typer.Option(
        "--geometry", help="另附的图形文件（XLSX/CSV 表格时），按台账编号字段与表格逐行对应")] = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """导入台账记录：逐行检查，任何一行有误则整个文件不导入（指出行号、字段和规则）。"""
    from onemap.app.ledgers import import_records

    try:
        result = import_records(open_store(ws), register, file, actor=_actor(actor), layer=layer,
                                encoding=encoding, now=now, geometry=geometry)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    out.print(f"已导入「{result['title']}」{result['imported']} 条（{result['file']}）")
    if result["ignored_columns"]:
        out.print("未识别而忽略的列：" + "、".join(result["ignored_columns"]))
    if result["journal_entries"]:
        out.print(f"已记入占补平衡指标账户 {result['journal_entries']} 笔（入库）")


@ledger_app.command("list")
def ledger_list(
    ws: WsArg,
    register: RegArg,
    state: Annotated[str | None, typer.Option(help="状态（名称或代码）")] = None,
    county: Annotated[str | None, typer.Option(help="县级行政区代码")] = None,
    deadline: Annotated[str | None, typer.Option(help="期限：正常 / 即将到期 / 已逾期")] = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """列出台账记录（状态、到期日、期限预警）。"""
    from onemap.app.ledgers import list_records

    try:
        result = list_records(open_store(ws), register, state=state, county=county, deadline=deadline, now=now)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        _print_records(result)


@ledger_app.command("show")
def ledger_show(ws: WsArg, register: RegArg, record: RecArg, now: NowOpt = None,
                as_json: JsonOpt = False) -> None:
    """一条记录的全部字段、流转记录和指标账户流水。"""
    from onemap.app.ledgers import get_record

    try:
        result = get_record(open_store(ws), register, record, now=now)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    out.print(f"{result['record_no']}：{result['state_title']}（{result['deadline']}）")
    for key, title in result["titles"].items():
        if key in result["values"]:
            out.print(f"  · {title}（{key}）：{result['values'][key]}")
    for e in result["events"]:
        out.print(f"  流转 {e['at']} {e['actor']}：{e['action']} {e['from_state'] or ''} → {e['to_state']}")
    for e in result["journal"]:
        out.print(f"  账户 {e['county']} {e['measure']} {e['kind']} {e['amount']:,.2f}")


@ledger_app.command("act")
def ledger_act(
    ws: WsArg,
    register: RegArg,
    record: RecArg,
    action: Annotated[str, typer.Argument(help="操作代码，如 start / accept / store（见台账定义）")],
    field: Annotated[list[str] | None, typer.Option("--field", "-f", help="字段 名=值（可多次）")] = None,
    notes: Annotated[str | None, typer.Option(help="说明")] = None,
    role: Annotated[str | None, typer.Option(help="以该角色办理（检查操作允许的角色）")] = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """执行一步台账流转（不允许的操作会被拒绝并说明当前可执行的操作）。"""
    from onemap.app.ledgers import act

    try:
        fields: dict[str, Any] = {}
        for item in field or []:
            if "=" not in item:
                raise InputError(f"字段格式应为 名=值：{item}")
            key, value = item.split("=", 1)
            fields[key.strip()] = value.strip()
        if notes:
            fields["notes"] = notes
        result = act(open_store(ws), register, record, action, actor=_actor(actor), role=role,
                     fields=fields, now=now)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    ev = result["event"]
    out.print(f"{result['record_no']}：{ev['title']}，{ev['from_state']} → {ev['to_state']}（{result['state_title']}）")
    if result["journal_entries"]:
        out.print(f"已记入占补平衡指标账户 {result['journal_entries']} 笔（入库）")


@ledger_app.command("export")
def ledger_export(
    ws: WsArg,
    register: RegArg,
    xlsx: Annotated[Path, typer.Argument(help="输出 XLSX 文件")],
    state: Annotated[str | None, typer.Option(help="状态（名称或代码）")] = None,
    county: Annotated[str | None, typer.Option(help="县级行政区代码")] = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """导出台账为 XLSX（中文表头，含状态、到期日、期限）。"""
    from onemap.app.ledgers import export_records

    try:
        result = export_records(open_store(ws), register, xlsx, state=state, county=county, now=now)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        out.print(f"已导出「{result['title']}」{result['count']} 条：{result['xlsx']}")


@farmland_app.command("cover")
def farmland_cover(
    ws: WsArg,
    occupation: Annotated[str, typer.Argument(help="耕地占用编号")],
    projects: Annotated[str, typer.Option(help="补充耕地项目编号，逗号分隔，按顺序核销")] = "",
    actor: ActorOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """耕地占用挂钩补充耕地项目并核销数量、水田、产能指标（先补后占；任一指标不足即拒绝）。"""
    from onemap.app.ledgers import cover

    names = [p.strip() for p in projects.replace("，", ",").split(",") if p.strip()]
    try:
        result = cover(open_store(ws), occupation, names, actor=_actor(actor), now=now)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    if result["exempt"]:
        out.print(f"{occupation} 属例外情形「{result['exception']}」，无需占补平衡，已登记")
        return
    out.print(f"{occupation} 已挂钩 {'、'.join(result['projects'])}：")
    for e in result["entries"]:
        out.print(f"  · {e['county']} {e['measure']} {e['kind']} {e['amount']:,.2f}（{e['project_no']}）")


@farmland_app.command("uncover")
def farmland_uncover(
    ws: WsArg,
    occupation: Annotated[str, typer.Argument(help="耕地占用编号")],
    notes: Annotated[str, typer.Option(help="撤销原因")] = "",
    actor: ActorOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """撤销耕地占用的挂钩，核销的指标退回原账户（记为撤销）。"""
    from onemap.app.ledgers import uncover

    try:
        result = uncover(open_store(ws), occupation, actor=_actor(actor), notes=notes, now=now)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        out.print(f"{occupation} 已撤销挂钩，退回 {len(result['entries'])} 笔")


@farmland_app.command("accounts")
def farmland_accounts(
    ws: WsArg,
    county: Annotated[str | None, typer.Option(help="县级行政区代码")] = None,
    as_json: JsonOpt = False,
) -> None:
    """各县占补平衡指标账户：入库、核销、调剂、撤销合计与余额（数量、水田、产能）。"""
    from onemap.app.ledgers import accounts

    try:
        result = accounts(open_store(ws), county=county)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title="耕地占补平衡指标账户")
    for col in ("行政区", "指标", "单位", "入库", "核销", "调剂", "撤销", "余额"):
        table.add_column(col)
    for r in result["accounts"]:
        table.add_row(r["county"], r["measure"], r["unit"],
                      *(f"{r[k]:,.2f}" for k in ("入库", "核销", "调剂", "撤销", "balance")))
    out.print(table)


@farmland_app.command("balance")
def farmland_balance(
    ws: WsArg,
    from_: Annotated[str, typer.Option("--from", help="前时相版本，如 2024")],
    to: Annotated[str, typer.Option("--to", help="后时相版本，如 2025")],
    dataset: Annotated[str, typer.Option(help="地类图斑数据集")] = "DLTB",
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX")] = None,
    as_json: JsonOpt = False,
) -> None:
    """按县统计两个版本之间耕地减少（按去向）、增加（按来源）、水田增减和净增（扣除田坎）。"""
    from onemap.app.ledgers import farmland_balance as run_balance

    try:
        result = run_balance(open_store(ws), from_, to, dataset=dataset, xlsx=xlsx)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    src = result["source"]
    table = Table(title=f"{src['dataset']} {src['from']} → {src['to']} 耕地进出（平方米，扣除田坎）")
    for col in ("行政区", "耕地减少", "耕地增加", "净增", "水田减少", "水田增加"):
        table.add_column(col)
    for u in result["units"]:
        table.add_row(u["unit"], *(f"{u[k]:,.2f}" for k in ("decrease_m2", "increase_m2", "net_m2",
                                                            "paddy_decrease_m2", "paddy_increase_m2")))
    out.print(table)
    for r in result["rows"]:
        out.print(f"  · {r['unit']} {r['direction']} {r['kind']}：{r['area_m2']:,.2f}（田坎 {r['tiankan_m2']:,.2f}）")
    if result["xlsx"]:
        out.print(f"已输出：{result['xlsx']}")


@farmland_app.command("inout")
def farmland_inout(
    ws: WsArg,
    from_: Annotated[str, typer.Option("--from", help="前时相版本，如 2024")],
    to: Annotated[str, typer.Option("--to", help="后时相版本（即统计年度），如 2025")],
    plan: Annotated[Path | None, typer.Option(
        help="年度计划 XLSX/CSV：行政区代码、计划流出面积、计划流入面积（平方米）")] = None,
    dataset: Annotated[str, typer.Option(help="地类图斑数据集")] = "DLTB",
    as_json: JsonOpt = False,
) -> None:
    """按县统计耕地进出平衡：耕地流向其他农用地（流出）与其他农用地恢复为耕地（流入），对照年度计划标出缺口。"""
    from onemap.app.ledgers import farmland_in_out

    try:
        result = farmland_in_out(open_store(ws), from_, to, dataset=dataset, plan=plan)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    src = result["source"]
    table = Table(title=f"{src['dataset']} {src['from']} → {src['to']} 耕地进出平衡（平方米，扣除田坎）")
    for col in ("行政区", "流出", "流入", "净流入", "缺口", "计划流出", "计划流入", "状态"):
        table.add_column(col)
    for u in result["units"]:
        table.add_row(u["unit"], *(f"{u[k]:,.2f}" for k in ("outflow_m2", "inflow_m2", "net_m2", "shortfall_m2")),
                      *("" if u[k] is None else f"{u[k]:,.2f}" for k in ("plan_out_m2", "plan_in_m2")), u["status"])
    out.print(table)
    for f in result["findings"]:
        out.print(f"  · {f['message']}")


@farmland_app.command("supplements")
def farmland_supplements(
    ws: WsArg,
    base: Annotated[str | None, typer.Option("--base", help="判断河湖的地类图斑版本（默认最早版本）")] = None,
    dataset: Annotated[str, typer.Option(help="地类图斑数据集")] = "DLTB",
    as_json: JsonOpt = False,
) -> None:
    """补充耕地检查：验收后各年度是否仍为耕地，是否位于生态保护红线、河湖内，坡度是否超限。"""
    try:
        result = check_supplemented(open_store(ws), base=base, dataset=dataset)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    out.print(f"检查补充耕地项目 {result['projects']} 个，发现问题 {len(result['findings'])} 处")
    for f in result["findings"]:
        out.print(f"  · {f['rule_title']}：{f['message']}")
    for s in result["skipped"]:
        out.print(s)
    if result["no_geometry"]:
        out.print("没有图形、未检查：" + "、".join(result["no_geometry"]))


@farmland_app.command("occupations")
def farmland_occupations(
    ws: WsArg,
    from_: Annotated[str, typer.Option("--from", help="前时相版本，如 2024")],
    to: Annotated[str, typer.Option("--to", help="后时相版本，如 2025")],
    dataset: Annotated[str, typer.Option(help="地类图斑数据集")] = "DLTB",
    actor: ActorOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """将变化检测发现的耕地减少逐片登记为耕地占用记录（重复运行不会重复登记）。"""
    from onemap.app.ledgers import record_occupations

    try:
        result = record_occupations(open_store(ws), from_, to, actor=_actor(actor), dataset=dataset, now=now)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        out.print(f"新登记耕地占用 {len(result['created'])} 条，已登记过 {result['existing']} 条")
        for key in result["created"][:30]:
            out.print(f"  · {key}")
