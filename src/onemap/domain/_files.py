"""Finding, reading and reporting on the domain data files.

The shipped tables live in ``onemap/domain/data``. A bureau may keep edited
copies in a directory named by the environment variable ``ONEMAP_DOMAIN_DIR``;
a file there replaces the shipped file of the same name, the others stay.

Every read failure becomes a :class:`onemap.errors.DomainDataError` whose
Chinese message names the file and the entry concerned.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from onemap.domain import sources
from onemap.errors import DomainDataError, Problem

#: Environment variable naming the override directory.
ENV_OVERRIDE_DIR = sources.ENV_OVERRIDE_DIR

#: Directory of the shipped tables.
SHIPPED_DIR = sources.SHIPPED_DIRS["domain"]

#: The file names OneMap reads (a file of another name in the override directory is ignored).
DATA_FILES = (
    "landclass_sandiao.csv",
    "bulletin_groups.yaml",
    "landuse_2023.csv",
    "sandiao_to_landuse.csv",
    "sandiao_to_landuse_forbidden.csv",
    "layers.yaml",
    "codelists.yaml",
    "qc_rules.yaml",
    "security.yaml",
    "ecology.yaml",
)

#: A cache key for one file: its path and modification time.
SourceKey = tuple[str, int]

#: The override directory (see :func:`onemap.domain.sources.override_dir`).
override_dir = sources.override_dir


def resolve(name: str) -> Path:
    """Return the path of one domain file, the override copy when there is one.

    Parameters
    ----------
    name : str
        File name, one of :data:`DATA_FILES`.

    Returns
    -------
    pathlib.Path
        The file to read.

    Raises
    ------
    DomainDataError
        If the override directory is invalid or the shipped file is missing.
    """
    return sources.resolve("domain", name)


def source_key(name: str) -> SourceKey:
    """Return the cache key of one domain file (resolved path and mtime).

    Parameters
    ----------
    name : str
        File name, one of :data:`DATA_FILES`.

    Returns
    -------
    tuple of (str, int)
        Path and modification time in nanoseconds, so that an edited or
        overridden file is read again.
    """
    path = resolve(name)
    return (str(path), path.stat().st_mtime_ns)


def fail(
    path: str | Path, entry: str | None, detail: str, *, field: str | None = None
) -> DomainDataError:
    """Build the error for one bad entry of a domain file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file read.
    entry : str or None
        Which entry is wrong (e.g. ``"第 12 行（0101K）"`` or ``"图层 DLTB"``).
    detail : str
        Chinese explanation.
    field : str, optional
        The column or key concerned.

    Returns
    -------
    DomainDataError
        To be raised by the caller.
    """
    path = Path(path)
    where = (f" 的{entry}" + (" " if entry[-1].isascii() else "")) if entry else " "
    message = f"领域数据文件 {path.name}{where}有误：{detail}（文件：{path}）"
    return DomainDataError(
        message, [Problem("domain_data", detail, file=str(path), row=entry, field=field)]
    )


_PYDANTIC_TYPES = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的键",
    "string_type": '应为文本（代码请加引号，如 "0101"）',
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数值",
    "float_type": "应为数值",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "string_pattern_mismatch": "格式不符",
    "string_too_short": "不得为空",
    "list_type": "应为列表",
    "dict_type": "应为键值表",
    "model_type": "应为键值表",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
}


def explain(exc: ValidationError) -> str:
    """Return a Chinese one-line explanation of a pydantic validation error.

    Parameters
    ----------
    exc : pydantic.ValidationError
        The error raised while validating one entry.

    Returns
    -------
    str
        ``"键：说明"`` items joined by ``"；"``.
    """
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "__root__")
        kind = err.get("type", "")
        if kind in ("value_error", "assertion_error"):
            text = (
                str(err.get("msg", ""))
                .removeprefix("Value error, ")
                .removeprefix("Assertion failed, ")
            )
        else:
            text = _PYDANTIC_TYPES.get(kind, str(err.get("msg", "")))
            expected = (err.get("ctx") or {}).get("expected")
            if kind in ("literal_error", "enum") and expected:
                text += f"，可用：{expected}"
            value = err.get("input")
            if kind != "missing" and isinstance(value, str | int | float | bool):
                text += f"（当前值 {value!r}）"
        parts.append(f"{loc}：{text}" if loc else text)
    return "；".join(parts)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML domain file whose top level is a mapping with a ``version``.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    DomainDataError
        If the file cannot be read or parsed, is not a mapping, or lacks ``version``.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(path, None, f"无法读取（{exc}）") from exc
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise fail(path, where, f"YAML 语法错误：{problem}") from exc
    if not isinstance(doc, dict):
        raise fail(path, None, "顶层应为键值表")
    if not str(doc.get("version") or "").strip():
        raise fail(path, None, "缺少版本说明 version", field="version")
    return doc


def read_csv(path: Path, columns: Iterable[str]) -> tuple[str, pd.DataFrame]:
    """Read a CSV domain file: ``#`` comment lines (with ``# version:``), then a header.

    All cells are read as stripped text, so codes such as ``"0101"`` keep their
    leading zero. A UTF-8 BOM (as Excel writes) is accepted, and so are comment
    lines that Excel padded with commas or quotes.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    columns : iterable of str
        Columns that must be present (others are kept).

    Returns
    -------
    version : str
        The value of the ``# version:`` comment.
    frame : pandas.DataFrame
        The rows, all ``object`` text; a column ``_line`` holds the file line number.

    Raises
    ------
    DomainDataError
        If the file cannot be read or parsed, lacks the version comment, or a column.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(path, None, f"无法读取（{exc}）") from exc
    lines = text.splitlines()
    version = ""
    skipped = 0
    for line in lines:
        bare = line.strip().strip('"').rstrip(",").strip().strip('"')
        if not bare.startswith("#"):
            break
        skipped += 1
        body = bare.lstrip("#").strip()
        if body.lower().startswith("version:"):
            version = body.split(":", 1)[1].strip()
    if not version:
        raise fail(path, None, "缺少版本说明（文件开头应有一行 # version: …）", field="version")
    data = "\n".join(lines[skipped:])
    try:
        frame = pd.read_csv(
            io.StringIO(data), dtype=str, keep_default_na=False, skip_blank_lines=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise fail(path, None, f"CSV 无法解析（{exc}）") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise fail(path, "表头", f"缺少列 {', '.join(missing)}", field=missing[0])
    frame = frame.astype(object)
    for col in frame.columns:
        frame[col] = frame[col].map(lambda v: v.strip() if isinstance(v, str) else "")
    # Line numbers as a person sees them in an editor: comments + header + row.
    frame["_line"] = range(skipped + 2, skipped + 2 + len(frame))
    return version, frame


def entry(row: dict[str, Any], key: str) -> str:
    """Return ``"第 N 行（KEY）"`` for error messages about one CSV row."""
    label = row.get(key) or ""
    return f"第 {row.get('_line', '?')} 行" + (f"（{label}）" if label else "")


def validation_failure(path: Path, where: str, exc: ValidationError) -> DomainDataError:
    """Turn a pydantic error about one entry into a :class:`DomainDataError`."""
    first = exc.errors()[0].get("loc", ()) if exc.errors() else ()
    field = str(first[0]) if first else None
    return fail(path, where, explain(exc), field=field)
