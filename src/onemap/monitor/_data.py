"""Reading the monitoring data files (YAML) with the same override rule as the domain tables.

A bureau may put an edited copy of any file of ``onemap/monitor/data`` into the
directory named by ``ONEMAP_DOMAIN_DIR``; the copy replaces the shipped file
of the same name. Callers may also pass an explicit path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from onemap.domain import sources

#: Directory of the shipped monitoring files.
SHIPPED_DIR = sources.SHIPPED_DIRS["monitor"]
#: Environment variable of the override directory (shared with :mod:`onemap.domain`).
ENV_OVERRIDE_DIR = sources.ENV_OVERRIDE_DIR


def resolve(name: str, path: str | Path | None = None) -> Path:
    """Return the file to read: ``path`` if given, else the override copy, else the shipped one.

    Raises
    ------
    DomainDataError
        If ``path`` is given and does not exist, or the override directory is invalid.
    """
    return sources.resolve("monitor", name, path)


def read_yaml(path: Path) -> tuple[dict[str, Any], str]:
    """Read a YAML mapping; return it and the SHA-256 of the file bytes."""
    try:
        raw = path.read_bytes()
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(raw.decode("utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise fail(path, None, f"无法读取（{exc}）") from exc
    if not isinstance(data, dict):
        raise fail(path, None, "顶层应为键值表")
    return data, hashlib.sha256(raw).hexdigest()


#: The error for one bad entry of a monitoring data file (the shared data-file error).
fail = sources.data_file_error

#: Short explanation of a pydantic error (location: message).
explain = sources.explain_validation
