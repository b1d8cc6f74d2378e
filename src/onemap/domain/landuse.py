"""用地用海分类 (2023) and the 三调 → 用地用海 mapping.

Files:

* ``landuse_2023.csv`` — ``code,name,level,parent`` (24 一级 and the 二级/三级 codes used);
* ``sandiao_to_landuse.csv`` — one row per 三调 level-2 code:
  ``sandiao_code,landuse_code,kind,note`` with ``kind`` one of
  ``same_name`` (automatic), ``needs_czcsxm`` or ``needs_check``;
* ``sandiao_to_landuse_forbidden.csv`` — pairs the mapping must never contain.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from onemap.domain import _files
from onemap.domain._files import SourceKey
from onemap.domain.landclass import land_classes

LANDUSE_FILE = "landuse_2023.csv"
MAPPING_FILE = "sandiao_to_landuse.csv"
FORBIDDEN_FILE = "sandiao_to_landuse_forbidden.csv"

#: Mapping kinds; only ``same_name`` is applied without a person checking.
MAPPING_KINDS = ("same_name", "needs_czcsxm", "needs_check")
#: Kind returned by :func:`map_to_landuse` for a code that is not a 三调 code.
UNKNOWN_KIND = "unknown"


class LanduseRow(BaseModel):
    """One row of ``landuse_2023.csv``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: str = Field(pattern=r"^[0-9]{2}([0-9]{2}([0-9]{2})?)?$")
    name: str = Field(min_length=1)
    level: Literal[1, 2, 3]
    parent: str = ""

    @field_validator("level", mode="before")
    @classmethod
    def _level_int(cls, v: object) -> object:
        return int(v) if isinstance(v, str) and v.strip().isdigit() else v

    def check(self) -> None:
        """Check that code length, level and parent agree.

        Raises
        ------
        ValueError
            With a Chinese explanation.
        """
        if len(self.code) != 2 * self.level:
            raise ValueError(f"{self.level} 级代码应为 {2 * self.level} 位")
        if self.level == 1 and self.parent:
            raise ValueError("一级代码不填 parent")
        if self.level > 1 and self.parent != self.code[: 2 * (self.level - 1)]:
            raise ValueError(f"parent 应为 {self.code[: 2 * (self.level - 1)]}")


class MappingRow(BaseModel):
    """One row of ``sandiao_to_landuse.csv``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sandiao_code: str = Field(min_length=1)
    landuse_code: str = ""
    kind: Literal["same_name", "needs_czcsxm", "needs_check"]
    note: str = ""

    def check(self) -> None:
        """Check that an automatic mapping names its target.

        Raises
        ------
        ValueError
            With a Chinese explanation.
        """
        if self.kind != "needs_check" and not self.landuse_code:
            raise ValueError(f"kind 为 {self.kind} 时须填写 landuse_code")


class ForbiddenRow(BaseModel):
    """One row of ``sandiao_to_landuse_forbidden.csv``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sandiao_code: str = Field(min_length=1)
    landuse_code: str = Field(min_length=1)
    note: str = ""


def _rows(path: Path, columns: tuple[str, ...], model: type[BaseModel], key: str) -> list:
    _, raw = _files.read_csv(path, columns)
    out = []
    for rec in raw.to_dict("records"):
        where = _files.entry(rec, key)
        try:
            row = model.model_validate(rec)
            if hasattr(row, "check"):
                row.check()
        except ValidationError as exc:
            raise _files.validation_failure(path, where, exc) from exc
        except ValueError as exc:
            raise _files.fail(path, where, str(exc)) from exc
        out.append((where, row))
    return out


@lru_cache(maxsize=4)
def _load_landuse(key: SourceKey) -> pd.DataFrame:
    path = Path(key[0])
    rows = _rows(path, ("code", "name", "level", "parent"), LanduseRow, "code")
    seen: set[str] = set()
    for where, row in rows:
        if row.code in seen:
            raise _files.fail(path, where, f"代码 {row.code} 重复", field="code")
        if row.parent and row.parent not in seen:
            raise _files.fail(
                path, where, f"上级代码 {row.parent} 须在本行之前列出", field="parent"
            )
        seen.add(row.code)
    frame = pd.DataFrame(
        [r.model_dump() for _, r in rows], columns=["code", "name", "level", "parent"]
    )
    if (frame["level"] == 1).sum() != 24:
        raise _files.fail(path, None, f"一级类应为 24 个，实有 {(frame['level'] == 1).sum()} 个")
    return frame


@lru_cache(maxsize=4)
def _load_forbidden(key: SourceKey) -> frozenset[tuple[str, str]]:
    path = Path(key[0])
    rows = _rows(path, ("sandiao_code", "landuse_code"), ForbiddenRow, "sandiao_code")
    return frozenset((r.sandiao_code, r.landuse_code) for _, r in rows)


@lru_cache(maxsize=4)
def _load_mapping(
    key: SourceKey, landuse_key: SourceKey, forbidden_key: SourceKey, classes: frozenset[str]
) -> tuple[pd.DataFrame, dict[str, tuple[str | None, str]]]:
    path = Path(key[0])
    landuse = set(_load_landuse(landuse_key)["code"])
    forbidden = _load_forbidden(forbidden_key)
    rows = _rows(path, ("sandiao_code", "landuse_code", "kind", "note"), MappingRow, "sandiao_code")
    seen: set[str] = set()
    for where, row in rows:
        if row.sandiao_code not in classes:
            raise _files.fail(
                path, where, f"{row.sandiao_code} 不是三调二级地类编码", field="sandiao_code"
            )
        if row.sandiao_code in seen:
            raise _files.fail(path, where, f"{row.sandiao_code} 重复出现", field="sandiao_code")
        seen.add(row.sandiao_code)
        if row.landuse_code and row.landuse_code not in landuse:
            raise _files.fail(
                path, where, f"{row.landuse_code} 不在 {LANDUSE_FILE} 中", field="landuse_code"
            )
        if (row.sandiao_code, row.landuse_code) in forbidden:
            raise _files.fail(
                path,
                where,
                f"{row.sandiao_code}→{row.landuse_code} 是禁止的对应关系（见 {FORBIDDEN_FILE}）",
                field="landuse_code",
            )
    missing = sorted(classes - seen)
    if missing:
        raise _files.fail(path, None, f"以下三调地类没有对应关系：{'、'.join(missing)}")
    frame = pd.DataFrame(
        [r.model_dump() for _, r in rows], columns=["sandiao_code", "landuse_code", "kind", "note"]
    )
    frame["landuse_code"] = frame["landuse_code"].where(frame["landuse_code"] != "", None)
    lookup = {r.sandiao_code: (r.landuse_code or None, r.kind) for _, r in rows}
    return frame, lookup


def landuse_classes() -> pd.DataFrame:
    """Return the 用地用海分类 (2023) table.

    Returns
    -------
    pandas.DataFrame
        Columns ``code, name, level, parent`` (a copy; ``level`` is 1, 2 or 3).

    Raises
    ------
    DomainDataError
        If ``landuse_2023.csv`` is malformed.
    """
    return _load_landuse(_files.source_key(LANDUSE_FILE)).copy()


def forbidden_landuse_pairs() -> frozenset[tuple[str, str]]:
    """Return the (三调 code, 用地用海 code) pairs the mapping must never produce.

    Raises
    ------
    DomainDataError
        If ``sandiao_to_landuse_forbidden.csv`` is malformed.
    """
    return _load_forbidden(_files.source_key(FORBIDDEN_FILE))


def _mapping() -> tuple[pd.DataFrame, dict[str, tuple[str | None, str]]]:
    return _load_mapping(
        _files.source_key(MAPPING_FILE),
        _files.source_key(LANDUSE_FILE),
        _files.source_key(FORBIDDEN_FILE),
        land_classes().codes,
    )


def sandiao_to_landuse() -> pd.DataFrame:
    """Return the 三调 → 用地用海 mapping.

    Returns
    -------
    pandas.DataFrame
        Columns ``sandiao_code, landuse_code, kind, note``, one row per 三调
        level-2 code (a copy). ``landuse_code`` may be a 一级 code when only the
        group is certain, or None.

    Raises
    ------
    DomainDataError
        If the mapping, the 2023 table or the forbidden list is malformed, or
        they disagree (unknown code, forbidden pair, unmapped 三调 code).
    """
    return _mapping()[0].copy()


def map_to_landuse(code: str) -> tuple[str | None, str]:
    """Map one 三调 code to 用地用海 (2023).

    Parameters
    ----------
    code : str
        三调 DLBM, e.g. ``"0305"``.

    Returns
    -------
    landuse_code : str or None
        The target (possibly a 一级 code such as ``"09"``), None when not determinable.
    kind : str
        ``same_name`` (apply automatically), ``needs_czcsxm``, ``needs_check``,
        or ``unknown`` when ``code`` is not a 三调 code.

    Examples
    --------
    >>> map_to_landuse("0305")
    ('0303', 'same_name')
    """
    table = _mapping()[1]
    key = code.strip() if isinstance(code, str) else code
    return table.get(key, (None, UNKNOWN_KIND))


def landuse_name(code: str) -> str:
    """Return the name of a 用地用海 code.

    Raises
    ------
    KeyError
        If the code is not in ``landuse_2023.csv``.
    """
    frame = _load_landuse(_files.source_key(LANDUSE_FILE))
    hit = frame.loc[frame["code"] == code, "name"]
    if hit.empty:
        raise KeyError(f"不是用地用海分类代码：{code!r}")
    return str(hit.iloc[0])
