"""``onemap copy``: a workspace to another backend or place (GeoPackage ↔ PostGIS)."""

from __future__ import annotations

from typing import Annotated

import typer

from onemap.cli.common import JsonOpt, WsArg, _Bar, _emit_json, _fail, app, out
from onemap.errors import OneMapError


@app.command("copy")
def copy_cmd(
    ws: WsArg,
    target: Annotated[str, typer.Argument(
        help="目标工作空间：新的 .gpkg 文件，或空的 PostGIS 数据库 postgresql://用户@主机:端口/数据库")],
    as_json: JsonOpt = False,
) -> None:
    """复制工作空间（数据版本、派生成果、审计日志、案件、台账、用户、设置），GeoPackage 与 PostGIS 互迁。"""
    from onemap.app.copy import copy_workspace

    try:
        with _Bar(not as_json) as bar:
            result = copy_workspace(ws, target, progress=bar)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result)
        return
    out.print(f"已复制 {result['source']} → {result['target']}：{result['versions']} 个数据版本，"
              f"{result['features']:,} 个要素，{sum(result['records'].values()):,} 条记录")
    audit = result["audit"]
    out.print(f"副本审计日志：{audit['message']}")
