"""The 三调 work classification (工作分类) and its statistical roll-ups.

Source of truth:

* ``landclass_sandiao.csv`` — every code, its names, 三大类 (``three_class``),
  and the flags ``is_k``, ``wetland``, ``linear``, ``cultivated``;
* ``bulletin_groups.yaml`` — the 8 bulletin groups plus 其他土地, in order, each
  listing its codes (the grouping by DLBM alone), and the 城镇村属性码 rule: every
  patch whose CZCSXM is 201–205 (with or without the suffix A) counts under
  城镇村及工矿用地 whatever its DLBM (:meth:`LandClassTable.czc_code`,
  :meth:`LandClassTable.czc_classes`). The CSV column ``bulletin_group`` must agree.

The 工作分类 group 00 湿地 (the ``wetland`` flag) holds 8 classes including 0603 盐田;
the bulletin's 湿地 group holds 7 (0603 is not among them).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

from onemap.domain import _files
from onemap.domain._files import SourceKey

CSV_FILE = "landclass_sandiao.csv"
GROUPS_FILE = "bulletin_groups.yaml"

#: 三大类 names.
THREE_CLASSES = ("农用地", "建设用地", "未利用地")
#: The bulletin group whose codes must all carry the ``wetland`` flag.
WETLAND_GROUP = "湿地"
#: The 工作分类 一级 code of the wetland group.
WETLAND_LEVEL1 = "00"

CSV_COLUMNS = (
    "code",
    "name",
    "level",
    "level1_code",
    "level1_name",
    "parent",
    "is_k",
    "three_class",
    "bulletin_group",
    "wetland",
    "linear",
    "cultivated",
)

_CODE_PATTERN = r"^[0-9]{2}([0-9A-Z]{2}[AK]?)?$"


class LandClassRow(BaseModel):
    """One row of ``landclass_sandiao.csv`` (validated on load)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: str = Field(pattern=_CODE_PATTERN)
    name: str = Field(min_length=1)
    level: Literal[1, 2]
    level1_code: str = Field(pattern=r"^[0-9]{2}$")
    level1_name: str = Field(min_length=1)
    parent: str = ""
    is_k: bool
    three_class: Literal["", "农用地", "建设用地", "未利用地"] = ""
    bulletin_group: str = ""
    wetland: bool
    linear: bool
    cultivated: bool

    @field_validator("level", mode="before")
    @classmethod
    def _level_int(cls, v: object) -> object:
        return int(v) if isinstance(v, str) and v.strip().isdigit() else v

    def check(self) -> None:
        """Check the rules that tie the columns of one row together.

        Raises
        ------
        ValueError
            With a Chinese explanation.
        """
        if self.level == 1:
            if self.code != self.level1_code or self.name != self.level1_name:
                raise ValueError("一级行的 code/name 须与 level1_code/level1_name 相同")
            if self.three_class or self.bulletin_group or self.parent:
                raise ValueError("一级行不填 three_class、bulletin_group、parent")
            return
        if self.wetland != (self.level1_code == WETLAND_LEVEL1):
            raise ValueError("wetland 须当且仅当一级代码为 00 湿地时为 true")
        if not self.code.startswith(self.level1_code) and self.level1_code != WETLAND_LEVEL1:
            raise ValueError(f"代码 {self.code} 与一级代码 {self.level1_code} 不符")
        if not self.three_class:
            raise ValueError("二级行须填写 three_class（农用地/建设用地/未利用地）")
        if not self.bulletin_group:
            raise ValueError("二级行须填写 bulletin_group")
        if not self.parent:
            raise ValueError("二级行须填写 parent")
        if self.is_k != self.code.endswith("K"):
            raise ValueError("is_k 须当且仅当代码以 K 结尾时为 true")
        if self.code.endswith(("K", "A")) and self.parent != self.code[:-1]:
            raise ValueError(f"{self.code} 的 parent 应为 {self.code[:-1]}")
        if self.cultivated and self.level1_code != "01":
            raise ValueError("只有 01 耕地的代码可标为 cultivated")


class BulletinGroup(BaseModel):
    """One bulletin group of ``bulletin_groups.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    codes: list[StrictStr] = Field(min_length=1)
    note: str | None = None


class CzcClass(BaseModel):
    """One 城镇村属性码 row of the 城镇村及工矿用地 rule (``czc.codes``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: StrictStr = Field(pattern=r"^[0-9]{3}$")
    name: str = Field(min_length=1)


class CzcRule(BaseModel):
    """The ``czc`` block of ``bulletin_groups.yaml``.

    Every patch whose CZCSXM is one of ``codes`` (or one of them followed by
    ``suffix``) counts under ``group`` whatever its DLBM.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: str = Field(min_length=1)
    source: str = Field(min_length=1)
    suffix: str = ""
    suffix_note: str | None = None
    codes: list[CzcClass] = Field(min_length=1)


class BulletinGroupsFile(BaseModel):
    """The whole of ``bulletin_groups.yaml``."""

    model_config = ConfigDict(extra="forbid")

    version: str
    source: str | None = None
    note: str | None = None
    groups: list[dict[str, object]] = Field(min_length=1)
    czc: CzcRule


class LandClassTable:
    """The 三调 work classification with lookups used across OneMap.

    Obtain it with :func:`land_classes`; the instance is cached and shared, so
    treat it as read-only.

    Parameters
    ----------
    classes : pandas.DataFrame
        Level-2 rows (one per valid DLBM), the CSV columns.
    level1 : pandas.DataFrame
        Level-1 rows.
    groups : list of BulletinGroup
        Bulletin groups in report order.
    czc : CzcRule
        The 城镇村属性码 rule of the bulletin.
    """

    def __init__(
        self,
        classes: pd.DataFrame,
        level1: pd.DataFrame,
        groups: list[BulletinGroup],
        czc: CzcRule,
    ):
        self._frame = classes.reset_index(drop=True)
        self._level1 = level1.reset_index(drop=True)
        self._groups = list(groups)
        self._czc = czc
        self._czc_base: dict[str, str] = {}
        for c in czc.codes:
            self._czc_base[c.code] = c.code
            if czc.suffix:
                self._czc_base[c.code + czc.suffix] = c.code
        rows = self._frame.set_index("code")
        self._names: dict[str, str] = rows["name"].to_dict()
        self._level1_names: dict[str, str] = self._level1.set_index("code")["name"].to_dict()
        self._group_of: dict[str, str] = rows["bulletin_group"].to_dict()
        self._class_of: dict[str, str] = rows["three_class"].to_dict()
        self._parent_of: dict[str, str] = rows["parent"].to_dict()
        self.codes: frozenset[str] = frozenset(self._names)
        """Every valid DLBM (level-2 codes, including K/A/H variants and ``09``)."""
        self._sets: dict[str, frozenset[str]] = {
            "cultivated": self._codes_where(rows["cultivated"]),
            "wetland": self._codes_where(rows["wetland"]),
            "linear": self._codes_where(rows["linear"]),
            "adjustable": self._codes_where(rows["is_k"]),
            "agricultural": self._codes_where(rows["three_class"] == "农用地"),
            "construction": self._codes_where(rows["three_class"] == "建设用地"),
            "unused": self._codes_where(rows["three_class"] == "未利用地"),
        }

    @staticmethod
    def _codes_where(mask: pd.Series) -> frozenset[str]:
        return frozenset(mask.index[mask.astype(bool)])

    # -- lookups -------------------------------------------------------------------

    @property
    def frame(self) -> pd.DataFrame:
        """pandas.DataFrame: one row per level-2 code with the CSV columns (a copy)."""
        return self._frame.copy()

    @property
    def level1(self) -> pd.DataFrame:
        """pandas.DataFrame: the 一级 rows (00 湿地, 01 … 12), a copy."""
        return self._level1.copy()

    def is_valid(self, code: str) -> bool:
        """Return whether ``code`` is a valid DLBM (level-2 code).

        Parameters
        ----------
        code : str
            Candidate code; surrounding spaces are ignored, nothing else is repaired.

        Returns
        -------
        bool
            True for codes such as ``"0101"``, ``"0201K"``, ``"09"``; False for ``"101"``.
        """
        return isinstance(code, str) and code.strip() in self.codes

    def _key(self, code: str) -> str:
        key = code.strip() if isinstance(code, str) else code
        if key not in self.codes:
            raise KeyError(f"不是有效的三调地类编码：{code!r}")
        return key

    def name(self, code: str) -> str:
        """Return the Chinese name of a level-2 or a 一级 code.

        Parameters
        ----------
        code : str
            E.g. ``"0101"`` (水田) or ``"01"`` (耕地).

        Returns
        -------
        str
            The name.

        Raises
        ------
        KeyError
            If the code is unknown.
        """
        key = code.strip() if isinstance(code, str) else code
        if key in self._names:
            return self._names[key]
        if key in self._level1_names:
            return self._level1_names[key]
        raise KeyError(f"不是有效的三调地类编码：{code!r}")

    def parent(self, code: str) -> str:
        """Return the parent of a level-2 code (一级 code, or base code for K/A codes)."""
        return self._parent_of[self._key(code)]

    def bulletin_group(self, code: str) -> str:
        """Return the bulletin group of a level-2 code (e.g. ``"耕地"``).

        Raises
        ------
        KeyError
            If the code is unknown.
        """
        return self._group_of[self._key(code)]

    def bulletin_groups(self) -> list[str]:
        """Return the 9 bulletin group names in report order."""
        return [g.name for g in self._groups]

    def bulletin_group_codes(self, group: str) -> list[str]:
        """Return the codes of one bulletin group, by name or alias (e.g. ``"园地"``).

        Raises
        ------
        KeyError
            If no group has that name or alias.
        """
        for g in self._groups:
            if group == g.name or group in g.aliases:
                return list(g.codes)
        raise KeyError(f"没有名为 {group!r} 的统计分组")

    @property
    def czc_group(self) -> str:
        """str: the bulletin group that takes every patch carrying a CZCSXM of the rule."""
        return self._czc.group

    def czc_classes(self) -> list[tuple[str, str]]:
        """Return the 城镇村属性码 rows of the rule, in order, with their names.

        Returns
        -------
        list of (str, str)
            ``[("201", "城市"), ("202", "建制镇"), …, ("205", …)]``: the rows of the
            城镇村及工矿用地面积汇总表.
        """
        return [(c.code, c.name) for c in self._czc.codes]

    @property
    def czc_suffix(self) -> str:
        """str: the suffix a 城镇村属性码 may carry and still count under its base code ("A")."""
        return self._czc.suffix

    @property
    def czc_codes(self) -> frozenset[str]:
        """Every CZCSXM value that counts (the base codes and their A forms)."""
        return frozenset(self._czc_base)

    def czc_code(self, value: object) -> str | None:
        """Return the base 城镇村属性码 of a CZCSXM value, or None when it does not count.

        Parameters
        ----------
        value : object
            A CZCSXM value as read (surrounding spaces ignored; None/NaN/"" give None).

        Returns
        -------
        str or None
            ``"201"`` for ``"201"`` and ``"201A"``; None for ``""``, ``"206"``, ``None``.

        Examples
        --------
        >>> lc = land_classes()
        >>> lc.czc_code("202A"), lc.czc_code(" 204 "), lc.czc_code("")
        ('202', '204', None)
        """
        if not isinstance(value, str):
            return None
        return self._czc_base.get(value.strip())

    def three_class(self, code: str) -> str:
        """Return the 三大类 of a level-2 code: 农用地, 建设用地 or 未利用地.

        Raises
        ------
        KeyError
            If the code is unknown.
        """
        return self._class_of[self._key(code)]

    def code_set(self, name: str) -> frozenset[str]:
        """Return a named set of codes.

        Parameters
        ----------
        name : str
            One of ``cultivated``, ``wetland``, ``linear``, ``adjustable`` (K codes),
            ``agricultural`` (农用地), ``construction`` (建设用地), ``unused`` (未利用地).

        Returns
        -------
        frozenset of str
            The codes.

        Raises
        ------
        KeyError
            If the set name is unknown.
        """
        return self._sets[name]

    @property
    def set_names(self) -> list[str]:
        """List of str: the names accepted by :meth:`code_set`."""
        return list(self._sets)

    def is_cultivated(self, code: str) -> bool:
        """Return whether the code is 耕地 (0101–0103); False for unknown codes."""
        return isinstance(code, str) and code.strip() in self._sets["cultivated"]

    def is_wetland(self, code: str) -> bool:
        """Return whether the code belongs to the 湿地 statistical group; False if unknown."""
        return isinstance(code, str) and code.strip() in self._sets["wetland"]

    def is_linear(self, code: str) -> bool:
        """Return whether the class may carry XZDWKD (线状地物宽度); False if unknown."""
        return isinstance(code, str) and code.strip() in self._sets["linear"]

    def is_construction(self, code: str) -> bool:
        """Return whether the code is 建设用地 in the 三大类; False if unknown."""
        return isinstance(code, str) and code.strip() in self._sets["construction"]

    def is_adjustable(self, code: str) -> bool:
        """Return whether the code is a K (可调整) code; False if unknown."""
        return isinstance(code, str) and code.strip() in self._sets["adjustable"]

    def __repr__(self) -> str:
        return f"LandClassTable({len(self.codes)} codes, {len(self._groups)} groups)"


def _parse_classes(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    _, raw = _files.read_csv(path, CSV_COLUMNS)
    rows: list[LandClassRow] = []
    seen: set[tuple[str, int]] = set()
    for rec in raw.to_dict("records"):
        where = _files.entry(rec, "code")
        try:
            row = LandClassRow.model_validate(rec)
            row.check()
        except ValidationError as exc:
            raise _files.validation_failure(path, where, exc) from exc
        except ValueError as exc:
            raise _files.fail(path, where, str(exc)) from exc
        if (row.code, row.level) in seen:
            raise _files.fail(path, where, f"代码 {row.code} 重复", field="code")
        seen.add((row.code, row.level))
        rows.append(row)
    lines = dict(zip(raw["code"] + "/" + raw["level"], raw["_line"], strict=True))
    frame = pd.DataFrame([r.model_dump() for r in rows], columns=list(CSV_COLUMNS))
    level1 = frame[frame["level"] == 1]
    classes = frame[frame["level"] == 2]
    names1 = dict(zip(level1["code"], level1["name"], strict=True))
    all_codes = set(frame["code"])
    for rec in classes.to_dict("records"):
        where = f"第 {lines[rec['code'] + '/2']} 行（{rec['code']}）"
        if rec["level1_code"] not in names1:
            raise _files.fail(
                path, where, f"一级代码 {rec['level1_code']} 没有一级行", field="level1_code"
            )
        if names1[rec["level1_code"]] != rec["level1_name"]:
            raise _files.fail(
                path,
                where,
                f"level1_name 应为 {names1[rec['level1_code']]}，而不是 {rec['level1_name']}",
                field="level1_name",
            )
        if rec["parent"] not in all_codes:
            raise _files.fail(path, where, f"parent {rec['parent']} 不在表中", field="parent")
    if classes.empty:
        raise _files.fail(path, None, "没有二级代码")
    return classes, level1


def _parse_groups(path: Path) -> tuple[list[BulletinGroup], CzcRule]:
    doc = _files.read_yaml(path)
    try:
        parsed = BulletinGroupsFile.model_validate(doc)
    except ValidationError as exc:
        raise _files.validation_failure(path, "文件结构", exc) from exc
    seen_czc = [c.code for c in parsed.czc.codes]
    if len(set(seen_czc)) != len(seen_czc):
        raise _files.fail(path, "czc", "城镇村属性码重复", field="codes")
    groups: list[BulletinGroup] = []
    for i, raw in enumerate(parsed.groups):
        name = raw.get("name") if isinstance(raw, dict) else None
        where = f"第 {i + 1} 个分组" + (f"（{name}）" if name else "")
        try:
            group = BulletinGroup.model_validate(raw)
        except ValidationError as exc:
            raise _files.validation_failure(path, where, exc) from exc
        if any(g.name == group.name for g in groups):
            raise _files.fail(path, where, "分组名称重复", field="name")
        groups.append(group)
    if not any(g.name == parsed.czc.group for g in groups):
        raise _files.fail(path, "czc", f"分组 {parsed.czc.group} 不是已定义的分组", field="group")
    return groups, parsed.czc


def _cross_check(
    csv_path: Path, groups_path: Path, classes: pd.DataFrame, groups: list[BulletinGroup]
) -> None:
    group_names = {g.name for g in groups}
    owner: dict[str, str] = {}
    codes = set(classes["code"])
    for g in groups:
        for code in g.codes:
            if code not in codes:
                raise _files.fail(
                    groups_path, f"分组 {g.name}", f"代码 {code} 不在 {CSV_FILE} 中", field="codes"
                )
            if code in owner:
                raise _files.fail(
                    groups_path,
                    f"分组 {g.name}",
                    f"代码 {code} 已属于分组 {owner[code]}，每个代码只能属于一个分组",
                    field="codes",
                )
            owner[code] = g.name
    for rec in classes.to_dict("records"):
        code = rec["code"]
        if code not in owner:
            raise _files.fail(groups_path, None, f"代码 {code} 没有归入任何分组", field="codes")
        if rec["bulletin_group"] not in group_names:
            raise _files.fail(
                csv_path,
                f"代码 {code}",
                f"bulletin_group {rec['bulletin_group']} 不是已定义的分组",
                field="bulletin_group",
            )
        if rec["bulletin_group"] != owner[code]:
            raise _files.fail(
                csv_path,
                f"代码 {code}",
                f"bulletin_group 为 {rec['bulletin_group']}，"
                f"而 {GROUPS_FILE} 将其归入 {owner[code]}",
                field="bulletin_group",
            )
        if owner[code] == WETLAND_GROUP and not rec["wetland"]:
            raise _files.fail(
                csv_path,
                f"代码 {code}",
                "公报湿地分组的代码须属于工作分类 00 湿地（wetland 为 true）",
                field="wetland",
            )


@lru_cache(maxsize=4)
def _load(csv_key: SourceKey, groups_key: SourceKey) -> LandClassTable:
    csv_path, groups_path = Path(csv_key[0]), Path(groups_key[0])
    classes, level1 = _parse_classes(csv_path)
    groups, czc = _parse_groups(groups_path)
    _cross_check(csv_path, groups_path, classes, groups)
    return LandClassTable(classes, level1, groups, czc)


def land_classes() -> LandClassTable:
    """Return the 三调 work classification table (validated, cached).

    Returns
    -------
    LandClassTable
        Lookups by code; reloaded when a file or ``ONEMAP_DOMAIN_DIR`` changes.

    Raises
    ------
    DomainDataError
        If ``landclass_sandiao.csv`` or ``bulletin_groups.yaml`` is malformed.

    Examples
    --------
    >>> lc = land_classes()
    >>> lc.name("0101"), lc.bulletin_group("0201K"), lc.three_class("0603")
    ('水田', '种植园用地', '建设用地')
    """
    return _load(_files.source_key(CSV_FILE), _files.source_key(GROUPS_FILE))
