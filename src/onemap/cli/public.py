"""公众服务 commands (公开图层、公示、意见登记、举报队列、执法公示): adapters over :mod:`onemap.app.public`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from onemap.app import public
from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.errors import OneMapError

public_app = typer.Typer(help="公众服务：公开图层、公示与意见征询、群众举报、执法公示。", no_args_is_help=True)
app.add_typer(public_app, name="public")


@public_app.command("mark")
def public_mark(
    ws: WsArg,
    dataset: Annotated[str, typer.Argument(help="图层（须在 public.yaml 的可公开清单中），如 STBHHX")],
    approval: Annotated[str, typer.Option("--approval", help="批准文号")],
    date: Annotated[str, typer.Option("--date", help="批准日期，如 2023-10-08")],
    version: Annotated[str | None, typer.Option(help="版本（默认最新）")] = None,
    actor: Annotated[str, typer.Option(help="操作人")] = "cli",
    as_json: JsonOpt = False,
) -> None:
    """公开一个图层版本（只公开 public.yaml 列出的字段），登记批准文号和日期。"""
    try:
        got = public.mark_layer(open_store(ws), dataset, version, approval_no=approval,
                                approved_on=date, actor=actor)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(got)
        return
    out.print(f"已公开：{got['title']}（{dataset} {got['version']}），{got['approval_no']}，"
              f"{got['approved_on']}；公开字段：{'、'.join(got['fields']) or '无（仅图形）'}")


@public_app.command("notice")
def public_notice(
    ws: WsArg,
    title: Annotated[str, typer.Option("--title", help="标题")],
    start: Annotated[str, typer.Option("--start", help="公示开始日期")],
    end: Annotated[str, typer.Option("--end", help="公示结束日期")],
    kind: Annotated[str, typer.Option("--kind", help="类别：规划、批前公示、基准地价…")] = "规划",
    description: Annotated[str, typer.Option(help="说明")] = "",
    consult: Annotated[bool, typer.Option("--consult", help="公示期内征求意见")] = False,
    actor: Annotated[str, typer.Option(help="操作人")] = "cli",
    as_json: JsonOpt = False,
) -> None:
    """新建公示事项；加 --consult 则在公示期内接受公众意见（意见征询）。"""
    try:
        got = public.create_item(open_store(ws), kind=kind, title=title, start=start, end=end,
                                 description=description, consult=consult, actor=actor)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(got)
        return
    out.print(f"公示事项 {got['id']}：{got['title']}（{got['start_date']} 至 {got['end_date']}"
              f"{'，征求意见' if got['consult'] else ''}）")


@public_app.command("comments")
def public_comments(
    ws: WsArg,
    item: Annotated[int, typer.Argument(help="公示事项编号")],
    xlsx: Annotated[Path, typer.Option(help="输出意见登记表 XLSX")],
    as_json: JsonOpt = False,
) -> None:
    """导出一个意见征询事项的意见登记表（意见、联系方式、审核、答复）。"""
    try:
        got = public.comment_register(open_store(ws), item, xlsx)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(got)
        return
    out.print(f"「{got['item']['title']}」意见 {got['count']} 条，已输出：{got['xlsx']}")


@public_app.command("reports")
def public_reports(
    ws: WsArg,
    pending: Annotated[bool, typer.Option("--pending", help="只列待审核的举报（审核队列）")] = False,
    as_json: JsonOpt = False,
) -> None:
    """群众举报列表（回执号、位置、内容、归入的案件、审核状态）。"""
    try:
        rows = public.list_reports(open_store(ws), moderation="pending" if pending else None)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"count": len(rows), "reports": rows})
        return
    for r in rows:
        out.print(f"{r['receipt']} {r['created_at'][:10]} ({r['lon']:.5f}, {r['lat']:.5f}) "
                  f"→ {r['case_no'] or '未归入案件'} [{r['moderation']}] {r['description'][:40]}")
    out.print(f"共 {len(rows)} 条")


@public_app.command("decisions")
def public_decisions(ws: WsArg, as_json: JsonOpt = False) -> None:
    """执法公示：已作出的行政处罚决定（个人姓名、身份证号已按规则隐去）。"""
    try:
        rows = public.published_decisions(open_store(ws))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"count": len(rows), "decisions": rows})
        return
    for d in rows:
        out.print(f"{d['decision_no']}（{d['date']}）{d['place']}：{d['violation']}；{d['penalty']}")
    out.print(f"共 {len(rows)} 件")
