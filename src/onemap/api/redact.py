"""Keep server file paths out of what the API answers.

A message such as ``无法读取 /tmp/onemap-site-x1/site.zip`` tells an outsider
how the server is laid out (and, for a path the caller chose, whether a file
exists). :func:`redact` replaces every absolute path by its last part (the
file name the user knows), in a message, a problem or any JSON-ready value.

A POSIX path is recognised when its first part is a folder of the server's
root (``/tmp``, ``/home``, ``/work``…), so API paths such as ``/api/cases``
are left alone; Windows paths (drive letter, colon, backslash) always.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

_STOP = r"\s\"'()（）,，。；;：:<>\[\]{}"
_POSIX = re.compile(rf"(?<![\w./~-])/([^/{_STOP}]+)((?:/[^/{_STOP}]*)+)")
_WINDOWS = re.compile(rf"(?<![\w])[A-Za-z]:[\\/](?:[^\\/{_STOP}]+[\\/])*([^\\/{_STOP}]*)")


@lru_cache(maxsize=1)
def _roots() -> frozenset[str]:
    try:
        return frozenset(os.listdir("/"))
    except OSError:
        return frozenset()


def _posix(match: re.Match[str]) -> str:
    if match.group(1) not in _roots():
        return match.group(0)
    tail = [p for p in match.group(2).split("/") if p]
    return tail[-1] if tail else "…"


def redact_text(text: str) -> str:
    """``text`` with every server path replaced by its file name.

    Examples
    --------
    >>> redact_text("无法读取 /tmp/onemap-site-1/site.zip：格式错误")
    '无法读取 site.zip：格式错误'
    >>> redact_text("见 /api/cases/1")
    '见 /api/cases/1'
    """
    if "/" not in text and "\\" not in text:
        return text
    text = _POSIX.sub(_posix, text)
    return _WINDOWS.sub(lambda m: m.group(1) or "…", text)


def redact(value: Any) -> Any:
    """A copy of a JSON-ready value (dict, list, str…) with server paths redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
