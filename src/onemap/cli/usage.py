"""Typer's own messages in Chinese: usage errors (missing option, unknown option …) and help titles.

Typer (through its bundled click) writes command-line mistakes in English. The
root command of ``onemap`` is a :class:`ChineseGroup`: it runs the command in
non-standalone mode, catches the usage error, and prints it in Chinese (or as
JSON when ``--json`` was given) with the same exit code (2).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

import typer
import typer.rich_utils

# Typer re-exports only BadParameter; the base class of usage errors lives in its bundled click.
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

#: Typer's help panel titles and markers, in Chinese (module constants read when help is drawn).
HELP_TEXTS = {
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "REQUIRED_LONG_STRING": "[必填]",
    "DEFAULT_STRING": "[默认：{}]",
    "ABORTED_TEXT": "已中止。",
    "RICH_HELP": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
}

#: Inner messages (what a value is wrong about), English pattern → Chinese template.
_VALUE_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Input should be a valid integer.*", re.S), "应为整数"),
    (re.compile(r"Input should be a valid number.*", re.S), "应为数值"),
    (re.compile(r"Input should be a valid boolean.*", re.S), "应为 true 或 false"),
    (re.compile(r"(.+) is not one of (.+)\.", re.S), "{0} 不是可选值（可选：{1}）"),
    (re.compile(r"File (.+) does not exist\.", re.S), "文件 {0} 不存在"),
    (re.compile(r"Directory (.+) does not exist\.", re.S), "目录 {0} 不存在"),
    (re.compile(r"Path (.+) does not exist\.", re.S), "路径 {0} 不存在"),
    (re.compile(r"Value (.+) is not a valid (.+)\.", re.S), "{0} 不是有效的 {1}"),
]

#: Whole usage-error messages, English pattern → Chinese template ({v} = translated value message).
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Missing option (.+?)\.?(?: (.+))?", re.S), "缺少选项 {0}"),
    (re.compile(r"Missing argument (.+?)\.?(?: (.+))?", re.S), "缺少参数 {0}"),
    (re.compile(r"Missing parameter: (.+)", re.S), "缺少参数 {0}"),
    (re.compile(r"No such option: (\S+)(?: \(Possible options: (.+)\))?", re.S), "没有选项 {0}"),
    (re.compile(r"No such command (.+?)\.(?: Did you mean (.+)\?)?", re.S), "没有命令 {0}"),
    (re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.+)\)", re.S), "多余的参数：{0}"),
    (re.compile(r"Option (.+) requires an argument\.", re.S), "选项 {0} 需要一个值"),
    (re.compile(r"Option (.+) requires (\d+) arguments\.", re.S), "选项 {0} 需要 {1} 个值"),
    (re.compile(r"Missing command\.", re.S), "缺少子命令"),
    (re.compile(r"Invalid value for (.+?): (.+)", re.S), "{0} 的取值无效：{v}"),
    (re.compile(r"Invalid value: (.+)", re.S), "取值无效：{v}"),
]

#: What a second group of a pattern adds (suggestions), per template.
_SUGGEST = {"没有选项 {0}": "（可用的相近选项：{1}）", "没有命令 {0}": "（是否想输入：{1}）"}


def _value_message(text: str) -> str:
    for pattern, template in _VALUE_MESSAGES:
        m = pattern.fullmatch(text.strip())
        if m:
            return template.format(*m.groups())
    return text


def translate(message: str) -> str:
    """Return a usage-error message of Typer in Chinese (unknown messages are kept as they are).

    Parameters
    ----------
    message : str
        The English message (``ClickException.format_message()``).

    Returns
    -------
    str

    Examples
    --------
    >>> translate("Missing option '--dataset'.")
    "缺少选项 '--dataset'"
    >>> translate("Invalid value for '--port': Input should be a valid integer, unable to parse string")
    "'--port' 的取值无效：应为整数"
    """
    text = message.strip()
    for pattern, template in _MESSAGES:
        m = pattern.fullmatch(text)
        if not m:
            continue
        groups = [g or "" for g in m.groups()]
        out = template.format(*groups, v=_value_message(groups[-1]) if groups else "")
        if template in _SUGGEST and len(groups) > 1 and groups[1]:
            out += _SUGGEST[template].format(*groups)
        return out
    return text


def usage_line(usage: str) -> str:
    """Return Typer's ``Usage: …`` line in Chinese.

    Examples
    --------
    >>> usage_line("Usage: onemap cases [OPTIONS] COMMAND [ARGS]...")
    '用法：onemap cases [选项] 命令 [参数]...'
    """
    return (usage.strip().replace("Usage: ", "用法：", 1).replace("[OPTIONS]", "[选项]")
            .replace("COMMAND [ARGS]...", "命令 [参数]..."))


def report(exc: ClickException, as_json: bool) -> None:
    """Print a usage error in Chinese on stderr, or as the JSON error document on stdout.

    Parameters
    ----------
    exc : ClickException
        The error Typer raised while parsing the command line.
    as_json : bool
        True when ``--json`` was on the command line.
    """
    message = translate(exc.format_message())
    ctx = getattr(exc, "ctx", None)
    if as_json:
        doc = {"error": "UsageError", "message": f"命令行有误：{message}", "problems": []}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
        return
    lines = []
    if ctx is not None:
        lines.append(usage_line(ctx.get_usage()))
        lines.append(f"运行 '{ctx.command_path} --help' 查看帮助。")
    lines.append(f"错误：{message}")
    sys.stderr.write("\n".join(lines) + "\n")


class ChineseGroup(TyperGroup):
    """The root group of ``onemap``: usage errors and aborts reported in Chinese."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command line; see :meth:`typer.core.TyperGroup.main`."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # help already printed by Typer
                sys.exit(exc.exit_code)
            report(exc, "--json" in argv)
            sys.exit(exc.exit_code)
        except typer.Abort:
            sys.stderr.write("已中止。\n")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


for _name, _text in HELP_TEXTS.items():
    setattr(typer.rich_utils, _name, _text)
