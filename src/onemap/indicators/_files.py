"""Locating the indicator data files and reporting their errors.

The shipped files live in ``onemap/indicators/data``. As for the domain
tables, a bureau may put an edited copy of the same name into the directory
named by ``ONEMAP_DOMAIN_DIR``; it then replaces the shipped file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from onemap.domain import sources
from onemap.errors import DomainDataError, Problem

#: Directory of the shipped indicator files.
SHIPPED_DIR = sources.SHIPPED_DIRS["indicators"]
#: Environment variable of the override directory (shared with :mod:`onemap.domain`).
ENV_OVERRIDE_DIR = sources.ENV_OVERRIDE_DIR


def resolve(name: str, path: str | Path | None = None) -> Path:
    """Return the file to read: ``path`` if given, else the override copy, else the shipped one.

    Raises
    ------
    DomainDataError
        If ``path`` is given and does not exist, or the override directory is invalid.
    """
    return sources.resolve("indicators", name, path)


_CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")


def join_cjk(text: str) -> str:
    """Drop the spaces a folded YAML string leaves between Chinese characters.

    Examples
    --------
    >>> join_cjk("按判定结果， 否则按填报数据")
    '按判定结果，否则按填报数据'
    """
    return _CJK_GAP.sub("", text)


def _entry_name(data: Any, list_key: str, loc: tuple) -> str | None:
    """Name the list entry a pydantic error location points into (e.g. the indicator code)."""
    if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
        try:
            item = data[list_key][loc[1]]
        except (KeyError, IndexError, TypeError):
            return f"第 {loc[1] + 1} 项"
        code = item.get("code") if isinstance(item, dict) else None
        return f"{code}" if code else f"第 {loc[1] + 1} 项"
    return None


def validation_error(where: str, what: str, exc: ValidationError, data: Any,
                     list_key: str) -> DomainDataError:
    """Turn a pydantic error into a DomainDataError naming the file, the entry and the key."""
    problems = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        entry = _entry_name(data, list_key, loc)
        key = ".".join(str(x) for x in (loc[2:] if entry else loc))
        problems.append(Problem("indicator_data", err.get("msg", ""), file=where, row=entry,
                                field=key or None))
    first = problems[0] if problems else None
    detail = ""
    if first is not None:
        detail = f"：{first.row + ' ' if first.row else ''}{first.field or ''} {first.message}".rstrip()
    return DomainDataError(f"{what} {where} 有误{detail}", problems)
