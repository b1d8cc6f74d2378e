"""Checking imported rows against a register's schema (pure).

An import is all or nothing: :func:`check_rows` lists every problem of every
row (row number as the user sees it, field, rule) and raises once; only a clean
table comes back as records.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from onemap.errors import InputError, Problem
from onemap.ledgers.schema import STATE_COLUMN, FieldSpec, Register, _fold


@dataclass
class Record:
    """One checked row: the key, the county, the state, the values and the row's place."""

    key: str
    county: str
    state: str
    values: dict[str, Any]
    row: str
    geometry_index: int | None = None


@dataclass
class Checked:
    """A clean import: records, and the columns ignored."""

    records: list[Record]
    ignored_columns: list[str] = field(default_factory=list)


def map_columns(reg: Register, columns: list[str], file_name: str) -> tuple[dict[str, str], list[str]]:
    """Map a file's column headers to field names.

    Returns
    -------
    (dict, list)
        Column → field name (or the state pseudo field), and the columns ignored.

    Raises
    ------
    onemap.errors.InputError
        Two columns naming the same field, or a required field without a column (a field the
        register computes may come without one).
    """
    accepted = reg.headers()
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for col in columns:
        name = accepted.get(_fold(col))
        if name is None:
            ignored.append(str(col))
            continue
        if name in seen:
            problems.append(Problem("duplicate_column", f"列「{seen[name]}」和「{col}」都对应 {name}",
                                    file=file_name, field=name))
            continue
        seen[name] = str(col)
        mapping[str(col)] = name
    for f in reg.fields:
        # a required field a computation fills (QCJG from the 元/亩 price) needs no column of its own:
        # the row check still refuses a row the computation left blank
        if f.required and f.name not in seen and f.name not in reg.computed:
            problems.append(Problem("missing_column", f"缺少必填列 {f.name}（{f.title}）",
                                    file=file_name, field=f.name))
    if problems:
        raise InputError(f"{file_name} 的表头不符合「{reg.title}」台账（{len(problems)} 处）："
                         + "；".join(p.message for p in problems), problems)
    return mapping, ignored


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == ""


def to_date(v: Any) -> str | None:
    """ISO date of a cell (date, datetime, ``2024-05-01``, ``2024/5/1``, ``20240501``, ``2024年5月1日``)."""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    text = str(v).strip()
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]00:00(?::00)?)?", text) \
        or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None


def convert(f: FieldSpec, v: Any) -> tuple[Any, str | None]:
    """Convert one cell to the field's type; return (value, problem text or None)."""
    if f.type in ("number", "int"):
        text = str(v).strip().replace(",", "").replace("，", "")
        try:
            num = float(text)
        except ValueError:
            return None, f"「{v}」不是数字"
        if not math.isfinite(num):
            return None, f"「{v}」不是有限的数字"
        if f.type == "int":
            if num != int(num):
                return None, f"「{v}」应为整数"
            num = int(num)
        if f.min is not None and num < f.min:
            return None, f"{num:g} 小于下限 {f.min:g}"
        if f.max is not None and num > f.max:
            return None, f"{num:g} 大于上限 {f.max:g}"
        return (round(num, f.decimals) if f.type == "number" else num), None
    if f.type == "date":
        d = to_date(v)
        return (d, None) if d else (None, f"「{v}」不是有效日期")
    if f.type == "bool":
        text = str(v).strip()
        if text in ("是", "1", "true", "True", "Y", "y"):
            return True, None
        if text in ("否", "0", "false", "False", "N", "n"):
            return False, None
        return None, f"「{v}」应为 是/否"
    text = str(v).strip()
    if isinstance(v, float) and v == int(v):
        text = str(int(v))  # a code or number typed into a spreadsheet cell as a number
    if f.type == "code" and text not in f.codes:
        return None, f"「{text}」不在代码表（{'、'.join(f.codes)}）"
    if f.pattern and not re.fullmatch(f.pattern, text):
        return None, f"「{text}」不符合格式 {f.pattern}"
    return text, None


def check_values(reg: Register, values: dict[str, Any], row: str, file_name: str,
                 problems: list[Problem]) -> dict[str, Any]:
    """Convert and check one record's values; append problems; return the clean values."""
    out: dict[str, Any] = {}
    for f in reg.fields:
        v = values.get(f.name)
        if _blank(v):
            if f.default is not None:
                out[f.name] = f.default
            elif f.required:
                problems.append(Problem("required_field", f"{row}：必填字段 {f.name}（{f.title}）为空",
                                        file=file_name, row=row, field=f.name))
            continue
        clean, why = convert(f, v)
        if why:
            problems.append(Problem(f"bad_{f.type}", f"{row}：{f.name}（{f.title}）{why}",
                                    file=file_name, row=row, field=f.name))
        else:
            out[f.name] = clean
    return out


def check_rows(reg: Register, rows: list[dict[str, Any]], row_labels: list[str], file_name: str,
               existing: set[str], *, has_geometry: list[bool] | None = None,
               limit: int = 50) -> Checked:
    """Check every row of an import against the register.

    Parameters
    ----------
    reg : Register
        The register.
    rows : list of dict
        Field name (or :data:`~onemap.ledgers.schema.STATE_COLUMN`) → raw cell.
    row_labels : list of str
        How each row is named in messages (``第 5 行``, ``第 3 个要素``).
    file_name : str
        The file, for messages.
    existing : set of str
        Keys already in the register (a key may not be imported twice).
    has_geometry : list of bool, optional
        Whether each row carries a geometry (checked when the register requires one).
    limit : int, optional
        At most this many problems are listed in the message (all are in ``problems``).

    Returns
    -------
    Checked

    Raises
    ------
    onemap.errors.InputError
        Any problem in any row; nothing is returned then.
    """
    problems: list[Problem] = []
    records: list[Record] = []
    seen: dict[str, str] = {}
    for i, (raw, label) in enumerate(zip(rows, row_labels, strict=True)):
        values = check_values(reg, raw, label, file_name, problems)
        state = reg.flow.initial
        if not _blank(raw.get(STATE_COLUMN)):
            st = reg.flow.state_key(str(raw[STATE_COLUMN]))
            if st is None:
                titles = "、".join(s.title for s in reg.flow.states.values())
                problems.append(Problem("bad_state", f"{label}：状态「{raw[STATE_COLUMN]}」不是本台账的状态"
                                        f"（{titles}）", file=file_name, row=label, field="状态"))
            else:
                state = st
        key = values.get(reg.key)
        if key is not None:
            if key in existing:
                problems.append(Problem("duplicate_key", f"{label}：{reg.key}（{reg.field(reg.key).title}）"
                                        f"{key} 已在台账中", file=file_name, row=label, field=reg.key))
            elif key in seen:
                problems.append(Problem("duplicate_key", f"{label}：{reg.key} {key} 与{seen[key]}重复",
                                        file=file_name, row=label, field=reg.key))
            seen.setdefault(key, label)
        geom = has_geometry[i] if has_geometry is not None else False
        if reg.geometry == "required" and not geom:
            problems.append(Problem("missing_geometry", f"{label}：缺少几何图形", file=file_name, row=label))
        records.append(Record(str(key), str(values.get(reg.county, "")), state, values, label,
                              i if geom else None))
    if not rows:
        problems.append(Problem("empty_file", f"{file_name} 没有数据行", file=file_name))
    if problems:
        shown = "；".join(p.message for p in problems[:limit])
        more = f"；另有 {len(problems) - limit} 处未列出" if len(problems) > limit else ""
        raise InputError(f"{file_name} 不能导入「{reg.title}」，未写入任何记录（{len(problems)} 处问题）："
                         f"{shown}{more}", problems)
    return Checked(records)
