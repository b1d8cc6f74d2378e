"""Monitoring and enforcement commands: changes, judging, cases, audit, accountability."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.errors import InputError, OneMapError

cases_app = typer.Typer(help="卫片执法案件：列表、详情、立案下发、流转（核查举证、判定、整改、立案查处、销号）。",
                        no_args_is_help=True)
audit_app = typer.Typer(help="审计日志（不可篡改的哈希链）。", no_args_is_help=True)
app.add_typer(cases_app, name="cases")
app.add_typer(audit_app, name="audit")

ActorOpt = Annotated[str | None, typer.Option("--actor", help="操作人（默认为当前系统用户）")]


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return os.environ.get("ONEMAP_USER") or getpass.getuser()
    except Exception:  # noqa: BLE001 - containers without a user database
        return "unknown"


SUMMARY_LABELS = {
    "old_patches": "前时相图斑数",
    "new_patches": "后时相图斑数",
    "unchanged": "未变化图斑数",
    "attribute_edits": "仅属性变更图斑数",
    "renoded_same_shape": "节点重排（形状未变）图斑数",
    "class_changed_in_place": "原位地类变化图斑数",
    "removed": "消失图斑数",
    "added": "新增图斑数",
    "geometry_changed": "几何变化图斑数",
    "changes": "变化图斑数",
    "change_area_m2": "变化面积（平方米）",
    "redraws": "边界重绘（地类未变）片数",
    "redraw_area_m2": "边界重绘面积（平方米）",
    "slivers": "碎片（不计入变化）片数",
    "sliver_area_m2": "碎片面积（平方米）",
    "unmatched_old_area_m2": "前时相未匹配面积（平方米）",
    "unmatched_new_area_m2": "后时相未匹配面积（平方米）",
    "invalid_geometries_repaired": "修复的无效几何数",
    "zygd_area_m2": "占用耕地面积（平方米）",
    "zygd_tiankan_m2": "占用耕地图斑中的田坎 1203（平方米）",
}


def _print_changes(result: dict[str, Any]) -> None:
    s = result["summary"]
    src = result["source"]
    out.print(f"{src['dataset']} {src['from']} → {src['to']} 变化图斑：")
    for key, value in s.items():
        label = SUMMARY_LABELS.get(key, key)
        text = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else value
        out.print(f"  · {label}：{text}")
    table = Table(title="变化图斑（前 30 个）")
    for col in ("编号", "原地类", "现地类", "面积（平方米）", "占用耕地", "永农", "红线", "开发边界", "村"):
        table.add_column(col)
    for row in result["changes"][:30]:
        table.add_row(str(row.get("tbbh", "")), f"{row['before']} {row.get('before_name', '')}",
                      f"{row['after']} {row.get('after_name', '')}", f"{row['area_m2']:,.2f}",
                      "是" if row.get("zygd") else "", "是" if row.get("sfyn") else "",
                      "是" if row.get("sfhx") else "", str(row.get("czkfbj_pos", "")), str(row.get("village", "")))
    out.print(table, width=max(out.width, 140))
    out.print(f"属性变更 {len(result['attribute_edits'])} 个，边界重绘（地类未变）{len(result['redraws'])} 个")
    if result.get("gpkg"):
        out.print(f"已输出：{result['gpkg']}")


@app.command()
def changes(
    ws: WsArg,
    dataset: Annotated[str, typer.Option(help="数据集")] = "DLTB",
    from_: Annotated[str | None, typer.Option("--from", help="前时相版本，如 2023")] = None,
    to: Annotated[str | None, typer.Option(help="后时相版本，如 2024")] = None,
    gpkg: Annotated[Path | None, typer.Option(
        help="输出 GeoPackage：变化图斑；--table flow 时为更新层 DLTBGX 与更新过程 GXGC")] = None,
    table: Annotated[str | None, typer.Option(help="flow：土地利用现状变更表（原地类 × 现地类）")] = None,
    by: Annotated[str, typer.Option(help="变更表统计单元：county、town 或 village")] = "county",
    xlsx: Annotated[Path | None, typer.Option(help="--table flow 时输出变更表 XLSX")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """提取两个版本之间的变化图斑（原地类、现地类、面积、是否占用耕地/永农/红线、开发边界内外），或编制变更表。"""
    from onemap.app.grids import changes_with_chiefs
    from onemap.monitor.service import change_flow

    try:
        if table not in (None, "flow"):
            raise InputError(f"不支持的变更统计表：{table}（可选：flow）")
        if table == "flow":
            result = change_flow(open_store(ws), dataset, from_, to, level=by, gpkg=gpkg, xlsx=xlsx)
        else:
            if xlsx:
                raise InputError("--xlsx 需与 --table flow 一起使用")
            result = changes_with_chiefs(open_store(ws), dataset, from_, to, gpkg=gpkg, actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    elif table == "flow":
        _print_flow(result)
    else:
        _print_changes(result)


def _print_flow(result: dict[str, Any]) -> None:
    src = result["source"]
    table = Table(title=f"{src['dataset']} {src['from']} → {src['to']} 土地利用现状变更表（平方米）")
    for col in ("单位", "原地类", "现地类", "面积（平方米）"):
        table.add_column(col, justify="right" if col.startswith("面积") else "left")
    for r in result["rows"]:
        table.add_row(f"{r['unit']} {r['unit_name']}".strip(), f"{r['from']} {r['from_name']}",
                      f"{r['to']} {r['to_name']}", f"{r['area_m2']:,.2f}")
    out.print(table, width=max(out.width, 120))
    out.print(f"变化面积合计 {result['change_area_m2']:,.2f} 平方米")
    for b in result["balance"]:
        out.print(f"  {b['unit']} {b['unit_name']} {b['three_class']}：增加 {b['increase_m2']:,.2f}，"
                  f"减少 {b['decrease_m2']:,.2f}，净增减 {b['net_m2']:,.2f}")
    for key in ("gpkg", "xlsx"):
        if result.get(key):
            out.print(f"已输出：{result[key]}")


@app.command()
def monitor(
    ws: WsArg,
    dataset: Annotated[str, typer.Option(help="监测图斑数据集（JCBH、QSX、HSX、TBLX）")] = "JCTB",
    version: Annotated[str | None, typer.Option(help="监测批次版本")] = None,
    gpkg: Annotated[Path | None, typer.Option(help="输出 GeoPackage")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """将外部下发的监测图斑与地类图斑叠加，生成变化图斑（之后可用 judge 判定）。"""
    from onemap.monitor.service import run_monitoring

    try:
        result = run_monitoring(open_store(ws), dataset, version, gpkg=gpkg, actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        _print_changes(result)


@app.command()
def judge(
    ws: WsArg,
    changeset: Annotated[str | None, typer.Option(help="变化图斑版本，如 2023-2024（默认最新）")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="判定日期，如 2024-12-31")] = None,
    gpkg: Annotated[Path | None, typer.Option(help="输出判定结果 GeoPackage")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """按判定规则逐图斑比对审批数据和控制线：合法 / 疑似违法 / 其他（只记录事实，由执法人员认定）。"""
    from onemap.monitor.service import judge_changes

    try:
        result = judge_changes(open_store(ws), changeset, as_of=as_of, gpkg=gpkg, actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    out.print(f"判定批次 {result['run_id']}（变化图斑 {result['changeset']}，判定日期 {result['as_of']}）")
    for verdict, info in result["summary"]["by_verdict"].items():
        out.print(f"  · {verdict}：{info['count']} 个，{info['area_m2']:,.2f} 平方米")
    missing = result["summary"].get("missing_layers") or []
    if missing:
        out.print(f"  · 未入库的审批图层（判定时视为无审批）：{'、'.join(missing)}")
    for item in result["consulted"]:
        out.print(f"  · 比对图层 {item['layer']} {item.get('version') or ''} {item.get('status', '')}")


@cases_app.command("open")
def cases_open(
    ws: WsArg,
    run_id: Annotated[int | None, typer.Option(help="判定批次（默认最新）")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """为疑似违法图斑立案下发（已下发的不重复）。"""
    from onemap.monitor.service import open_cases

    try:
        result = open_cases(open_store(ws), run_id=run_id, actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        out.print(f"新下发案件 {len(result['opened'])} 件，已存在 {result['already_open']} 件")


def _print_cases(cases: list[dict[str, Any]]) -> None:
    table = Table(title=f"案件 {len(cases)} 件")
    for col in ("编号", "县", "状态", "面积（平方米）", "期限", "逾期", "可执行"):
        table.add_column(col)
    for c in cases:
        table.add_row(str(c["case_no"]), str(c.get("county", "")), str(c.get("state_title", c["state"])),
                      f"{c.get('area_m2') or 0:,.2f}", str(c.get("due_at") or ""),
                      f"{c['overdue_days']} 天" if c.get("overdue") else "", "、".join(c.get("allowed_actions", [])))
    out.print(table, width=max(out.width, 140))


@cases_app.command("list")
def cases_list(
    ws: WsArg,
    county: Annotated[str | None, typer.Option(help="县级代码，如 640324")] = None,
    state: Annotated[str | None, typer.Option(help="状态，如 issued")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="只看逾期")] = False,
    as_json: JsonOpt = False,
) -> None:
    """列出案件及其期限、逾期和可执行操作。"""
    from onemap.monitor.service import list_cases

    try:
        result = list_cases(open_store(ws), county=county, overdue=overdue, state=state)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        _print_cases(result["cases"])


@cases_app.command("show")
def cases_show(ws: WsArg, case: Annotated[str, typer.Argument(help="案件编号或 id")], as_json: JsonOpt = False) -> None:
    """案件详情：流转记录和举证材料。"""
    from onemap.app.grids import case_with_chief

    try:
        result = case_with_chief(open_store(ws), case)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    _print_cases([result])
    cell = result.get("tianzhang_cell")
    out.print(f"田长：{result['tianzhang']}（{cell['level']} {cell['name']} {cell['code']}）" if cell
              else "田长：未导入田长网格或案件不在任何网格内")
    for e in result.get("events", []):
        out.print(f"  · {e['at']} {e['actor']}：{e['action']} {e['from_state']} → {e['to_state']}")


@cases_app.command("act")
def cases_act(
    ws: WsArg,
    case: Annotated[str, typer.Argument(help="案件编号或 id")],
    action: Annotated[str, typer.Argument(help="evidence/determine/rectify/prosecute/complete/reject/close")],
    field: Annotated[list[str] | None, typer.Option("--field", "-f", help="字段 名=值（可多次）")] = None,
    photo: Annotated[list[Path] | None, typer.Option(help="举证照片（读取 EXIF 位置和时间），可多次")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """执行一步案件流转（不允许的操作会被拒绝并说明当前可执行的操作）。"""
    from onemap.monitor.service import case_transition

    try:
        fields: dict[str, Any] = {}
        for item in field or []:
            if "=" not in item:
                raise InputError(f"字段格式应为 名=值：{item}")
            key, value = item.split("=", 1)
            fields[key.strip()] = value.strip()
        if photo:
            fields["photos"] = [str(p) for p in photo]
        result = case_transition(open_store(ws), case, action, _actor(actor), **fields)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        ev = result["event"]
        out.print(f"案件 {result['case_no']}：{ev['from_state']} → {ev['to_state']}（{ev['action']}）")


@audit_app.command("verify")
def audit_verify(ws: WsArg, as_json: JsonOpt = False) -> None:
    """校验审计日志：哈希链、检查点（截断或改写）、案件办理与入库记录是否都有审计行。"""
    from onemap.monitor.service import audit_verify as verify

    try:
        result = verify(open_store(ws))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        out.print(result["message"])
    if not result["ok"]:
        raise typer.Exit(code=7)


@audit_app.command("checkpoint")
def audit_checkpoint(ws: WsArg, as_json: JsonOpt = False) -> None:
    """日志完整时，把审计日志的序号与哈希追加到工作空间旁的检查点文件（可由计划任务定期运行）。"""
    from onemap.monitor.service import audit_checkpoint as checkpoint

    try:
        result = checkpoint(open_store(ws))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
    else:
        out.print(result["message"])
    if not result["ok"]:
        raise typer.Exit(code=7)


@audit_app.command("log")
def audit_log(
    ws: WsArg,
    entity: Annotated[str | None, typer.Option(help="对象类型，如 case")] = None,
    limit: Annotated[int, typer.Option(help="最多条数")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """查看审计日志。"""
    from onemap.monitor.service import audit_log as log

    try:
        rows = log(open_store(ws), entity=entity, limit=limit)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(rows)
        return
    for r in rows if isinstance(rows, list) else rows.get("rows", []):
        out.print(f"{r['id']} {r['at']} {r['actor']} {r['action']} {r['entity']} {r['entity_id']}")


@app.command()
def accountability(
    ws: WsArg,
    year: Annotated[int, typer.Option(help="年度")],
    threshold: Annotated[float | None, typer.Option(help="问责阈值（比例，默认 0.15）")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="输出 XLSX")] = None,
    as_json: JsonOpt = False,
) -> None:
    """问责统计：新增建设用地占用耕地面积、违法占用耕地面积及其比例（超过阈值标记）。"""
    from onemap.monitor.service import accountability as run

    try:
        result = run(open_store(ws), year, xlsx=xlsx, threshold=threshold)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"{year} 年违法占用耕地问责统计（阈值 {result['threshold']:.0%}）")
    for col in ("县", "新增建设占用耕地（亩）", "违法占用耕地（亩）", "比例", "标记"):
        table.add_column(col)
    for r in result["rows"]:
        ratio = r.get("ratio")
        table.add_row(f"{r['county']} {r.get('county_name', '')}", f"{r['new_construction_gd_mu']:,.2f}",
                      f"{r['illegal_gd_mu']:,.2f}", "—" if ratio is None else f"{ratio:.1%}",
                      "超过阈值" if r.get("flagged") else "")
    out.print(table)
    if xlsx:
        out.print(f"已输出：{xlsx}")
