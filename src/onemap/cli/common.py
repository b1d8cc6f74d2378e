"""Shared pieces of the command line: the app, consoles, JSON output, errors, progress."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from onemap.cli.usage import ChineseGroup
from onemap.errors import OneMapError

app = typer.Typer(
    cls=ChineseGroup,
    help="OneMap 自然资源一张图：工作空间、数据入库、统计。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
if not out.is_terminal:
    out.width = 200  # pipes and logs: do not squeeze wide tables to 80 columns
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出（供其他系统调用）")]
WsArg = Annotated[str, typer.Argument(
    help="工作空间：.gpkg 文件，或 PostGIS 数据库 postgresql://用户@主机:端口/数据库")]


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1, default=str) + "\n")


def _fail(exc: OneMapError, as_json: bool) -> None:
    if as_json:
        _emit_json(exc.to_dict())
    else:
        err.print("错误：", style="bold red", end="")
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=exc.exit_code)


class _Bar:
    """Rich progress bar fed by ``progress(step, done, total)`` callbacks."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and err.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self._task = None

    def __enter__(self) -> _Bar:
        if self.enabled:
            self._progress.start()
            self._task = self._progress.add_task("准备", total=1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._progress.stop()

    def __call__(self, step: str, done: int, total: int) -> None:
        if self.enabled and self._task is not None:
            self._progress.update(self._task, description=step, completed=done, total=total or 1)




def open_store(ws: str | Path):
    """Open a workspace (errors surface as OneMapError)."""
    from onemap.store import open_workspace

    return open_workspace(ws)
