"""Validate a layer's attribute table against its schema and the QC rules.

Every rule of ``qc_rules.yaml`` that applies to the layer is run as whole-column
pandas/numpy operations (no Python loop over rows), so a 1 000 000-row DLTB
validates in seconds. A rule failing on many rows yields one
:class:`~onemap.errors.Problem` per row for the first :data:`MAX_PER_RULE`
rows plus one summary problem.

Values are compared as text after normalisation: surrounding spaces are
removed, and an empty string, whitespace, None and NaN all count as missing.
Integer-valued numeric columns are written without a decimal point (BSM
``123.0`` → ``"123"``), but nothing else is repaired: a DLBM read as the number
101 becomes ``"101"`` and is reported, not turned into ``"0101"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types as ptypes

from onemap.domain.landclass import LandClassTable, land_classes
from onemap.domain.layers import (
    DLBM_CODELIST,
    Condition,
    LayerSchema,
    QcRule,
    codelist,
    codelist_title,
    layer_schema,
    qc_rules,
)
from onemap.errors import Problem

if TYPE_CHECKING:
    import geopandas as gpd

#: Most per-row problems reported for one rule; the rest are summarised.
MAX_PER_RULE = 1000

_TEXT = pd.StringDtype("pyarrow")

Mask = np.ndarray


def _to_text(col: pd.Series) -> pd.Series:
    """Return ``col`` as stripped pyarrow strings with NA for every missing value."""
    col = col.reset_index(drop=True)
    dtype = col.dtype
    if ptypes.is_bool_dtype(dtype):
        out = col.astype(object).astype(_TEXT)
    elif ptypes.is_float_dtype(dtype):
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        finite = values[np.isfinite(values)]
        if finite.size and np.all(np.mod(finite, 1) == 0) and np.all(np.abs(finite) < 2**53):
            out = col.astype("Int64").astype(_TEXT)
        else:
            out = col.astype(_TEXT)
    elif ptypes.is_numeric_dtype(dtype) or ptypes.is_datetime64_any_dtype(dtype):
        out = col.astype(_TEXT)
    else:
        out = col.astype(_TEXT).str.strip()
    return out.where(out != "")


def _bool(series: pd.Series) -> Mask:
    return series.fillna(False).to_numpy(dtype=bool)


def _fullmatch(text: pd.Series, regex: str) -> Mask:
    """Return where ``text`` fully matches ``regex`` (False where missing)."""
    try:
        return _bool(text.str.fullmatch(regex))
    except Exception:  # a regex pyarrow's RE2 cannot run: fall back to Python's re
        return _bool(text.astype(object).str.fullmatch(regex))


def _parse_numbers(text: pd.Series) -> np.ndarray:
    """Parse text as float64 (NaN where missing or not a number), fast when all parse."""
    try:
        parsed = pc.cast(pa.array(text.array), pa.float64())
        return parsed.to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        pass
    values = np.full(len(text), np.nan)
    present = text.notna().to_numpy(dtype=bool)
    if present.any():
        sub = pd.to_numeric(text[present].astype(object), errors="coerce")
        values[present] = pd.Series(sub).to_numpy(dtype="float64", na_value=np.nan)
    return values


class _Table:
    """The attribute table under validation, with per-column caches."""

    def __init__(self, frame: pd.DataFrame, schema: LayerSchema, file: str):
        self.frame = frame
        self.schema = schema
        self.file = file or None
        self.n = len(frame)
        self.lc: LandClassTable = land_classes()
        self._text: dict[str, pd.Series] = {}
        self._num: dict[str, np.ndarray] = {}
        self._present: dict[str, Mask] = {}
        self._codes: dict[str, frozenset[str]] = {}
        self._isin: dict[tuple[str, frozenset[str]], Mask] = {}

    def has(self, col: str) -> bool:
        return col in self.frame.columns

    def _is_numeric(self, col: str) -> bool:
        dtype = self.frame[col].dtype
        return ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype)

    def text(self, col: str) -> pd.Series:
        if col not in self._text:
            self._text[col] = _to_text(self.frame[col])
        return self._text[col]

    def present(self, col: str) -> Mask:
        if col not in self._present:
            if self._is_numeric(col):
                self._present[col] = ~np.isnan(self.num(col))
            else:
                self._present[col] = self.text(col).notna().to_numpy(dtype=bool)
        return self._present[col]

    def num(self, col: str) -> np.ndarray:
        """Return the column as float64, NaN where missing or not a number."""
        if col not in self._num:
            if self._is_numeric(col):
                values = self.frame[col].to_numpy(dtype="float64", na_value=np.nan)
            else:
                values = _parse_numbers(self.text(col))
            self._num[col] = values
        return self._num[col]

    def isin(self, col: str, allowed: frozenset[str]) -> Mask:
        """Return the mask of rows whose text is in ``allowed`` (cached)."""
        key = (col, allowed)
        if key not in self._isin:
            self._isin[key] = _bool(self.text(col).isin(list(allowed)))
        return self._isin[key]

    def values(self, col: str, positions: np.ndarray) -> list[str | None]:
        if not self.has(col):
            return [None] * len(positions)
        taken = self.text(col).take(positions)
        return [None if pd.isna(v) else str(v) for v in taken]

    def labels(self, positions: np.ndarray) -> list[str]:
        ids = self.values(self.schema.id_field, positions)
        return [v if v is not None else f"第{p + 1}行" for v, p in zip(ids, positions, strict=True)]

    def codes(self, name: str) -> frozenset[str]:
        if name not in self._codes:
            self._codes[name] = (
                self.lc.codes if name == DLBM_CODELIST else frozenset(codelist(name))
            )
        return self._codes[name]

    def title(self, col: str) -> str:
        return self.schema.field(col).title if self.schema.has_field(col) else col

    def all(self) -> Mask:
        return np.ones(self.n, dtype=bool)

    def none(self) -> Mask:
        return np.zeros(self.n, dtype=bool)


def _condition(t: _Table, cond: Condition) -> tuple[Mask, Mask]:
    """Return ``(holds, evaluable)`` masks of a condition over all rows."""
    f, op, value = cond.field, cond.op, cond.value
    if not t.has(f):
        if op == "absent":
            return t.all(), t.all()
        if op == "present":
            return t.none(), t.all()
        return t.none(), t.none()
    present = t.present(f)
    if op == "present":
        return present, t.all()
    if op == "absent":
        return ~present, t.all()
    if op in ("in", "not_in"):
        hit = t.isin(f, frozenset(value))
        return (hit if op == "in" else present & ~hit), present
    if op in ("in_set", "not_in_set"):
        known = t.isin(f, t.lc.codes)
        hit = t.isin(f, t.lc.code_set(value))
        return (hit if op == "in_set" else known & ~hit), known
    if op == "matches":
        return _fullmatch(t.text(f), value) & present, present
    if op == "eq" and isinstance(value, str):
        return _bool(t.text(f) == value), present
    num = t.num(f)
    ok = ~np.isnan(num)
    with np.errstate(invalid="ignore"):
        holds = {
            "eq": num == value,
            "gt": num > value,
            "gte": num >= value,
            "lt": num < value,
            "lte": num <= value,
        }[op]
    return holds & ok, ok


@dataclass
class _Hit:
    """Rows of one field violating a rule, and how to describe each."""

    field: str
    mask: Mask
    describe: Callable[[np.ndarray], list[str]]


@dataclass
class _Outcome:
    column_problems: list[Problem]
    hits: list[_Hit]


def _quote(v: str | None) -> str:
    return "“”" if v is None else f"“{v}”"


# --------------------------------------------------------------------------- kinds


def _fields_of(t: _Table, fields: list[str] | str) -> list[str]:
    if fields == "$required":
        return t.schema.required_fields
    if fields == "$codelist":
        return [f.name for f in t.schema.fields if f.codelist]
    if fields == "$numeric":
        return [f.name for f in t.schema.fields if f.type in ("int", "float")]
    return list(fields)


def _missing_column(
    t: _Table, rule: QcRule, f: str, detail: str, *, titled: bool = True
) -> Problem:
    return Problem(rule.id, f"{rule.title}：{detail}" if titled else detail, t.file, None, f)


def _run_required(t: _Table, rule: QcRule, scope: Mask) -> _Outcome:
    out = _Outcome([], [])
    conditional = rule.when is not None
    for f in _fields_of(t, rule.spec.fields):
        title = t.title(f)
        if not t.has(f):
            if not conditional:
                out.column_problems.append(
                    _missing_column(t, rule, f, f"缺少必填字段 {f}（{title}）", titled=False)
                )
            elif (n := int(scope.sum())) > 0:
                out.column_problems.append(
                    _missing_column(t, rule, f, f"缺少字段 {f}（{title}），有 {n} 行应填写")
                )
            continue
        out.hits.append(
            _Hit(
                f,
                scope & ~t.present(f),
                lambda pos, f=f, title=title: [f"{f}（{title}）为空"] * len(pos),
            )
        )
    return out


def _run_in_codelist(t: _Table, rule: QcRule, scope: Mask) -> _Outcome:
    spec = rule.spec
    out = _Outcome([], [])
    for f in _fields_of(t, spec.fields):
        if f in spec.exclude or not t.has(f):
            continue
        if spec.values == "$ysdm":
            if t.schema.ysdm is None or not t.schema.ysdm_confirmed:
                continue  # an unconfirmed code is not enforced
            allowed = frozenset({t.schema.ysdm})
            expect = f"应为 {t.schema.ysdm}（{t.schema.title}的要素代码）"
        elif spec.values is not None:
            allowed = frozenset(spec.values)
            expect = "应为 " + "、".join(spec.values)
        else:
            name = spec.codelist or (t.schema.field(f).codelist if t.schema.has_field(f) else None)
            if name is None:
                continue
            allowed = t.codes(name)
            expect = f"不在{codelist_title(name)}代码表中"
        bad = scope & t.present(f) & ~t.isin(f, allowed)
        is_dlbm = spec.values is None and allowed is t.lc.codes

        def describe(
            pos: np.ndarray, f: str = f, expect: str = expect, dl: bool = is_dlbm
        ) -> list[str]:
            msgs = []
            for v in t.values(f, pos):
                msg = f"{f}={_quote(v)}{'，' if expect.startswith('应') else ''}{expect}"
                if dl and v is not None and v.isdigit() and len(v) < 4 and v.zfill(4) in t.lc.codes:
                    msg += f"（疑为数值列丢失前导零，应为 {v.zfill(4)}？未自动修正）"
                msgs.append(msg)
            return msgs

        out.hits.append(_Hit(f, bad, describe))
    return out


def _run_unique(t: _Table, rule: QcRule, scope: Mask) -> _Outcome:
    f = t.schema.id_field if rule.spec.field == "$id" else rule.spec.field
    if not t.has(f):
        return _Outcome([], [])
    live = scope & t.present(f)
    # Integer ids (the usual BSM) are compared as numbers: much faster than text.
    keys = pd.Series(t.num(f)[live]) if t._is_numeric(f) else t.text(f)[live]
    dup_local = keys.duplicated(keep=False).to_numpy(dtype=bool)
    bad = t.none()
    bad[np.flatnonzero(live)[dup_local]] = True
    counts = t.text(f)[bad].value_counts() if dup_local.any() else pd.Series(dtype="int64")

    def describe(pos: np.ndarray) -> list[str]:
        return [f"{f}={_quote(v)} 出现 {int(counts.get(v, 0))} 次" for v in t.values(f, pos)]

    return _Outcome([], [_Hit(f, bad, describe)])


def _run_consistent_name(t: _Table, rule: QcRule, scope: Mask) -> _Outcome:
    spec = rule.spec
    code_f, name_f = spec.code_field, spec.name_field
    if not (t.has(code_f) and t.has(name_f)):
        return _Outcome([], [])
    names = (
        {c: t.lc.name(c) for c in t.lc.codes}
        if spec.codelist == DLBM_CODELIST
        else codelist(spec.codelist)
    )
    sep = "\x1f"
    pairs = frozenset(f"{c}{sep}{n}" for c, n in names.items())
    known = t.isin(code_f, frozenset(names))
    joined = t.text(code_f) + sep + t.text(name_f)
    bad = scope & known & t.present(name_f) & ~_bool(joined.isin(list(pairs)))

    def describe(pos: np.ndarray) -> list[str]:
        codes = t.values(code_f, pos)
        return [
            f"{name_f}={_quote(v)}，而 {code_f}={c} 应为“{names[c]}”"
            for v, c in zip(t.values(name_f, pos), codes, strict=True)
        ]

    return _Outcome([], [_Hit(name_f, bad, describe)])


def _run_forbidden_unless(t: _Table, rule: QcRule, scope: Mask) -> _Outcome:
    spec = rule.spec
    holds, evaluable = _condition(t, spec.unless)
    base = scope & evaluable & ~holds
    out = _Outcome([], [])
    cf = spec.unless.field
    for f in spec.fields:
        if not t.has(f):
            continue
        carried = base & t.present(f)
        if carried.any():
            with np.errstate(invalid="ignore"):
                carried &= ~(t.num(f) == 0)

        def describe(pos: np.ndarray, f: str = f) -> list[str]:
            return [
                f"{f}={_quote(v)}（{cf}={c}）"
                for v, c in zip(t.values(f, pos), t.values(cf, pos), strict=True)
            ]

        out.hits.append(_Hit(f, carried, describe))
    return out


def _interval(spec: object) -> str:
    lo = "(-∞" if spec.min is None else ("[" if spec.min_inclusive else "(") + f"{spec.min:g}"
    hi = "+∞)" if spec.max is None else f"{spec.max:g}" + ("]" if spec.max_inclusive else ")")
    return f"{lo}, {hi}"


def _run_range(t: _Table, rule: QcRule, scope: Mask) -> _Outcome:
    spec = rule.spec
    f = spec.field
    if not t.has(f):
        return _Outcome([], [])
    num = t.num(f)
    present = t.present(f)
    nan = np.isnan(num)
    out_of = np.zeros(t.n, dtype=bool)
    with np.errstate(invalid="ignore"):
        if spec.min is not None:
            out_of |= (num < spec.min) if spec.min_inclusive else (num <= spec.min)
        if spec.max is not None:
            out_of |= (num > spec.max) if spec.max_inclusive else (num >= spec.max)
    bad = scope & present & (nan | out_of)
    interval = _interval(spec)

    def describe(pos: np.ndarray) -> list[str]:
        return [
            f"{f}={_quote(v)} 不是数值"
            if np.isnan(num[p])
            else f"{f}={_quote(v)} 不在 {interval} 内"
            for v, p in zip(t.values(f, pos), pos, strict=True)
        ]

    return _Outcome([], [_Hit(f, bad, describe)])


def _run_pattern(t: _Table, rule: QcRule, scope: Mask) -> _Outcome:
    f = rule.spec.field
    if not t.has(f):
        return _Outcome([], [])
    bad = scope & t.present(f) & ~_fullmatch(t.text(f), rule.spec.regex)

    def describe(pos: np.ndarray) -> list[str]:
        return [f"{f}={_quote(v)}" for v in t.values(f, pos)]

    return _Outcome([], [_Hit(f, bad, describe)])


def _run_numeric(t: _Table, rule: QcRule, scope: Mask) -> _Outcome:
    out = _Outcome([], [])
    for f in _fields_of(t, rule.spec.fields):
        if not t.has(f) or t._is_numeric(f):
            continue
        bad = scope & t.present(f) & np.isnan(t.num(f))

        def describe(pos: np.ndarray, f: str = f) -> list[str]:
            return [f"{f}={_quote(v)} 不是数值" for v in t.values(f, pos)]

        out.hits.append(_Hit(f, bad, describe))
    return out


_RUNNERS: dict[str, Callable[[_Table, QcRule, Mask], _Outcome]] = {
    "required": _run_required,
    "required_if": _run_required,
    "in_codelist": _run_in_codelist,
    "unique": _run_unique,
    "consistent_name": _run_consistent_name,
    "forbidden_unless": _run_forbidden_unless,
    "range": _run_range,
    "pattern": _run_pattern,
    "numeric": _run_numeric,
}


def _problems(t: _Table, rule: QcRule, outcome: _Outcome, limit: int) -> list[Problem]:
    problems = list(outcome.column_problems)
    budget = limit
    total = 0
    fields = set()
    for hit in outcome.hits:
        positions = np.flatnonzero(hit.mask)
        total += len(positions)
        if len(positions):
            fields.add(hit.field)
        take = positions[: max(budget, 0)]
        budget -= len(take)
        if not len(take):
            continue
        details = hit.describe(take)
        for label, detail in zip(t.labels(take), details, strict=True):
            problems.append(Problem(rule.id, f"{rule.title}：{detail}", t.file, label, hit.field))
    if total > limit:
        field = next(iter(fields)) if len(fields) == 1 else None
        problems.append(
            Problem(
                rule.id,
                f"{rule.title}：另有 {total - limit} 行违反同一规则"
                f"（共 {total} 行，仅列出前 {limit} 行）",
                t.file,
                None,
                field,
            )
        )
    return problems


def validate_layer(
    gdf: gpd.GeoDataFrame | pd.DataFrame,
    layer: str,
    *,
    file: str = "",
    max_per_rule: int = MAX_PER_RULE,
) -> tuple[list[Problem], list[Problem]]:
    """Return (errors, warnings) for the layer against its schema and QC rules.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or pandas.DataFrame
        The features; column names already upper-case (the geometry column is ignored).
    layer : str
        Layer name with a schema, e.g. ``"DLTB"``.
    file : str, optional
        Source file name, copied into every problem.
    max_per_rule : int, optional
        Per-row problems reported per rule before one summary problem.

    Returns
    -------
    errors : list of Problem
        Problems of rules with severity ``error`` (the layer should be refused).
    warnings : list of Problem
        Problems of rules with severity ``warning``.

    Raises
    ------
    UnknownNameError
        If the layer has no schema.
    DomainDataError
        If a domain file is malformed.

    Notes
    -----
    ``Problem.row`` is the id field value (BSM) where present, else ``"第{i+1}行"``;
    it is None for a problem about a whole column (missing required field) and
    for the summary problem of a rule.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"BSM": ["1"], "DLBM": ["0101"], "DLMC": ["水田"], "QSXZ": ["30"],
    ...                    "QSDWDM": ["6403020012010000000"], "ZLDWDM": ["6403020012010000000"],
    ...                    "GDPDJB": ["1"], "ZZSXDM": ["LS"]})
    >>> validate_layer(df, "DLTB")
    ([], [])
    """
    schema = layer_schema(layer)
    frame = pd.DataFrame(gdf)
    errors: list[Problem] = []
    warnings: list[Problem] = []
    dup = frame.columns.duplicated()
    if dup.any():
        for name in sorted({str(c) for c in frame.columns[dup]}):
            errors.append(
                Problem(
                    "duplicate_column",
                    f"字段 {name} 出现多次，只检查第一个",
                    file or None,
                    None,
                    name,
                )
            )
        frame = frame.loc[:, ~dup]
    t = _Table(frame, schema, file)
    for rule in qc_rules(schema.name):
        if rule.when is not None:
            holds, evaluable = _condition(t, rule.when)
            scope = holds & evaluable
        else:
            scope = t.all()
        outcome = _RUNNERS[rule.kind](t, rule, scope)
        found = _problems(t, rule, outcome, max_per_rule)
        (errors if rule.severity == "error" else warnings).extend(found)
    return errors, warnings
