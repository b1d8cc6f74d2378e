"""The one resolver of OneMap's data files: shipped copy or the bureau's override.

Codes, rules, layer lists, judging rules, indicators and registers ship as data files in
the ``data`` folder of their package (``domain``, ``control``, ``monitor``, ``geo``, ``ledgers``,
``indicators``). A bureau may keep edited copies in one folder named by the
environment variable ``ONEMAP_DOMAIN_DIR``: a file there replaces the shipped
file of the same name, the others stay.

An override folder that is set but missing, not a folder or unreadable is an
error naming the path: a misspelled bureau path must never quietly apply the
shipped rules. :func:`data_files` reports, for every data file, where it came
from (``onemap catalog --json`` and ``/api/about`` show it).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from onemap.errors import DomainDataError, Problem

#: Environment variable naming the override folder.
ENV_OVERRIDE_DIR = "ONEMAP_DOMAIN_DIR"

_PACKAGE_DIR = Path(__file__).resolve().parent.parent

#: Folder of the shipped data files of each area (package).
SHIPPED_DIRS: dict[str, Path] = {
    area: _PACKAGE_DIR / area / "data"
    for area in ("domain", "control", "monitor", "indicators", "geo", "ledgers", "analysis",
                 "reports", "field")
}

#: File kinds that are data files (other files in a data folder are not).
DATA_SUFFIXES = (".yaml", ".yml", ".csv", ".json")

Origin = Literal["shipped", "override", "file"]

_YAML_VERSION = re.compile(r"^version:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(?:#.*)?$", re.MULTILINE)
_CSV_VERSION = re.compile(r"^\W*#\s*version:\s*([^,\"\n]+)", re.MULTILINE | re.IGNORECASE)


def _error(message: str, detail: str, path: Path) -> DomainDataError:
    return DomainDataError(message, [Problem("domain_data", detail, file=str(path))])


def override_dir() -> Path | None:
    """Return the override folder named by ``ONEMAP_DOMAIN_DIR``, if set.

    Returns
    -------
    pathlib.Path or None
        The folder, or None when the variable is unset or empty.

    Raises
    ------
    DomainDataError
        If the variable names a path that does not exist, is not a folder, or
        cannot be listed; the message names the path.
    """
    value = os.environ.get(ENV_OVERRIDE_DIR, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.exists():
        raise _error(f"环境变量 {ENV_OVERRIDE_DIR} 指向的覆盖目录不存在：{path}",
                     "覆盖目录不存在", path)
    if not path.is_dir():
        raise _error(f"环境变量 {ENV_OVERRIDE_DIR} 指向的不是目录：{path}",
                     "覆盖目录不是目录", path)
    try:
        with os.scandir(path):
            pass
    except OSError as exc:
        raise _error(f"环境变量 {ENV_OVERRIDE_DIR} 指向的覆盖目录无法读取：{path}（{exc.strerror}）",
                     "覆盖目录无法读取", path) from exc
    return path


def shipped_path(area: str, name: str) -> Path:
    """Return the path of a shipped data file.

    Parameters
    ----------
    area : str
        One of :data:`SHIPPED_DIRS` (``"domain"``, ``"control"``, ``"monitor"``, ``"indicators"``, ``"geo"``,
        ``"ledgers"``).
    name : str
        File name.

    Returns
    -------
    pathlib.Path
    """
    if area not in SHIPPED_DIRS:
        raise ValueError(f"unknown data area {area!r}")
    return SHIPPED_DIRS[area] / name


def resolve(area: str, name: str, path: str | Path | None = None) -> Path:
    """Return the data file to read: ``path`` if given, else the override copy, else the shipped one.

    Parameters
    ----------
    area : str
        The package whose ``data`` folder ships the file (see :data:`SHIPPED_DIRS`).
    name : str
        File name, e.g. ``"rules.yaml"``.
    path : str or Path, optional
        An explicit file chosen by the caller (a command option); it must exist.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DomainDataError
        If ``path`` is given and is not a file, the override folder is invalid,
        or the shipped file is missing.
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise _error(f"找不到文件：{p}", "文件不存在", p)
        return p
    over = override_dir()
    if over is not None and (over / name).is_file():
        return over / name
    shipped = shipped_path(area, name)
    if not shipped.is_file():
        raise _error(f"缺少数据文件 {name}（{shipped}）", "文件不存在", shipped)
    return shipped


def origin(path: str | Path) -> Origin:
    """Say where a resolved file came from.

    Returns
    -------
    str
        ``"shipped"`` (a shipped data folder), ``"override"`` (the
        ``ONEMAP_DOMAIN_DIR`` folder) or ``"file"`` (any other file a caller chose).
    """
    parent = Path(path).resolve().parent
    if any(parent == d for d in SHIPPED_DIRS.values()):
        return "shipped"
    value = os.environ.get(ENV_OVERRIDE_DIR, "").strip()
    if value and parent == Path(value).expanduser().resolve():
        return "override"
    return "file"


@dataclass(frozen=True)
class DataFile:
    """Where one data file in use came from.

    Attributes
    ----------
    area : str
        Package shipping the file.
    name : str
        File name.
    source : str
        ``"shipped"`` or ``"override"``.
    path : str
        The file read.
    version : str
        Its declared version (``version:`` key or ``# version:`` comment), "" if none.
    sha256 : str
        Checksum of the bytes.
    """

    area: str
    name: str
    source: str
    path: str
    version: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        """Return the record as a plain dict."""
        return asdict(self)


def declared_version(name: str, data: bytes) -> str:
    """Return the version a data file declares, "" if it declares none.

    Parameters
    ----------
    name : str
        File name (its suffix chooses the rule).
    data : bytes
        File content.

    Returns
    -------
    str
    """
    text = data.decode("utf-8-sig", errors="replace")
    rule = _CSV_VERSION if name.endswith(".csv") else _YAML_VERSION
    m = rule.search(text)
    return m.group(1).strip() if m else ""


def shipped_names() -> list[tuple[str, str]]:
    """Return ``(area, file name)`` of every shipped data file, sorted."""
    out = []
    for area, folder in SHIPPED_DIRS.items():
        out += [(area, p.name) for p in sorted(folder.iterdir())
                if p.is_file() and p.suffix in DATA_SUFFIXES]
    return out


def data_files() -> list[DataFile]:
    """Report every data file in use: area, name, shipped or override, path, version, checksum.

    Returns
    -------
    list of DataFile

    Raises
    ------
    DomainDataError
        If the override folder is invalid or an override copy cannot be read.
    """
    out = []
    for area, name in shipped_names():
        p = resolve(area, name)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise _error(f"数据文件无法读取：{p}（{exc.strerror}）", "文件无法读取", p) from exc
        out.append(DataFile(area, name, origin(p), str(p), declared_version(name, data),
                            hashlib.sha256(data).hexdigest()))
    return out


def ignored_overrides() -> list[str]:
    """Return files in the override folder that replace nothing (likely misspelled names).

    Returns
    -------
    list of str
        Paths, sorted; empty without an override folder.
    """
    over = override_dir()
    if over is None:
        return []
    known = {name for _, name in shipped_names()}
    return sorted(str(p) for p in over.iterdir()
                  if p.is_file() and p.suffix in DATA_SUFFIXES and p.name not in known)


def describe() -> dict[str, Any]:
    """The ``domain_files`` block of ``onemap catalog --json`` and ``/api/about``.

    Returns
    -------
    dict
        ``{"override_dir": str | None, "files": [...], "ignored": [...]}``.
    """
    over = override_dir()
    return {"override_dir": str(over) if over is not None else None,
            "files": [f.to_dict() for f in data_files()],
            "ignored": ignored_overrides()}


def data_file_error(path: Path, entry: str | None, detail: str) -> DomainDataError:
    """The error for one bad entry of a data file, naming the file, the entry and what is wrong.

    Parameters
    ----------
    path : Path
        The data file (shipped or override).
    entry : str or None
        The entry at fault (a code, a rule id, ``states.立项`` …), or None for the whole file.
    detail : str
        What is wrong, in Chinese.
    """
    where = f"中 {entry} " if entry else " "
    return DomainDataError(
        f"数据文件 {path.name}{where}有误：{detail}（文件：{path}）",
        [Problem("domain_data", detail, file=str(path), row=entry)],
    )


def explain_validation(exc: Any) -> str:
    """Short explanation of a pydantic ``ValidationError``: ``location：message`` joined by "；"."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{loc}：{msg}" if loc else msg)
    return "；".join(parts)
