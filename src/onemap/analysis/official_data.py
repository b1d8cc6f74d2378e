"""What the official statistics tables need from the data files.

The 城镇村属性码 list and the bulletin (公报) grouping come from the domain tables
(``domain/data/bulletin_groups.yaml`` through :func:`onemap.domain.land_classes`: one source
for every part of OneMap); the 调平 parameters come from ``analysis/data/official_tables.yaml``.
A bureau may override either by putting an edited copy of the same name into the directory
named by ``ONEMAP_DOMAIN_DIR`` (the rule of every data file).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from onemap.domain import land_classes, sources
from onemap.errors import DomainDataError, Problem

FILE_NAME = "official_tables.yaml"


@dataclass(frozen=True)
class OfficialTables:
    """Parsed ``official_tables.yaml``.

    Attributes
    ----------
    czc_codes : dict
        Base 城镇村属性码 (``"201"`` …) → name.
    czc_suffixes : tuple of str
        Suffixes a code may carry (``"A"``).
    groups : tuple of str
        Bulletin groups in report order.
    group_of : dict
        DLBM → bulletin group for patches without a 城镇村属性码.
    czc_group : str
        The group every coded patch counts in.
    tolerance_ha : float
        Default 调平 tolerance per county (公顷).
    large_class_ha : float
        Classes of at least this many 公顷 take the row's steps first.
    control_fields : tuple of str
        XZQ fields holding the control area, first present wins.
    version, path : str
        File version and location (for provenance).
    """

    czc_codes: dict[str, str]
    czc_suffixes: tuple[str, ...]
    groups: tuple[str, ...]
    group_of: dict[str, str]
    czc_group: str
    tolerance_ha: float
    large_class_ha: float
    control_fields: tuple[str, ...]
    version: str
    path: str

    def czc_base(self, value: str) -> str | None:
        """Return the base code of a 城镇村属性码 (``"203A"`` → ``"203"``), "" if empty, None if unknown."""
        text = str(value or "").strip()
        if not text:
            return ""
        if text in self.czc_codes:
            return text
        for suffix in self.czc_suffixes:
            if text.endswith(suffix) and text[: -len(suffix)] in self.czc_codes:
                return text[: -len(suffix)]
        return None


def _fail(path: Path, detail: str) -> DomainDataError:
    return DomainDataError(f"数据文件 {path.name} 有误：{detail}（文件：{path}）",
                           [Problem("domain_data", detail, file=str(path))])


def _resolve() -> Path:
    return sources.resolve("analysis", FILE_NAME)


@lru_cache(maxsize=4)
def _load(path_text: str, mtime: float, classes_id: int) -> OfficialTables:
    path = Path(path_text)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise _fail(path, f"无法读取（{exc}）") from exc
    try:
        balance = doc["balance"]
        tolerance = float(balance["tolerance_ha"])
        large = float(balance["large_class_ha"])
        fields = tuple(str(f) for f in balance["control_fields"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(path, f"缺少或无法解析的项：{exc}") from exc
    lc = land_classes()
    groups = tuple(lc.bulletin_groups())
    group_of = {code: g for g in groups for code in lc.bulletin_group_codes(g)}
    codes = dict(lc.czc_classes())
    czc_group = lc.czc_group
    if tolerance < 0 or large < 0:
        raise _fail(path, "tolerance_ha 和 large_class_ha 不能为负")
    return OfficialTables(
        czc_codes=codes, czc_suffixes=(lc.czc_suffix,) if lc.czc_suffix else (),
        groups=groups, group_of=group_of, czc_group=czc_group,
        tolerance_ha=tolerance, large_class_ha=large, control_fields=fields,
        version=str(doc.get("version", "")), path=str(path),
    )


def official_tables() -> OfficialTables:
    """Return the parsed official-tables data file (cached; reloaded when the file changes).

    Raises
    ------
    DomainDataError
        If the file is malformed or its grouping does not cover every 三调 class exactly once.
    """
    path = _resolve()
    return _load(str(path), path.stat().st_mtime, id(land_classes()))
