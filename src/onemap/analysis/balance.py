"""调平: balance the 公顷 tables (2 decimals) to each county's control area.

The rule (``analysis/data/official_tables.yaml`` names its source, official-tables.md §3):

1. a = the county's control area in 公顷 to 2 decimals; b = the sum of the base table,
   each cell converted to 公顷 and rounded to 2 decimals. The gap a − b is counted in
   steps of 0.01 公顷 (may be negative). A gap above the tolerance is a data error.
2. The steps are spread over the county's villages: the quotient to each, the remainder
   one step each to the largest villages.
3. Inside each village the same way over its records (rows of the base table).
4. Inside each record over its 二级 class cells in reverse 地类编码 order, among the cells
   of at least ``large_class_ha`` when the record has any, else among all its cells.

Everything is integer arithmetic on 0.01-公顷 units (= 100 m² = 10 000 hundredths of m²),
so the result is exact and deterministic (ties are broken by code). A step that would make
a village, record or cell negative goes to the next one in the same order instead (only
possible when tiny units receive steps); the exact m² figures are never changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from onemap.errors import InputError, Problem

#: Hundredths of m² in one 0.01-公顷 step.
CENTS_PER_UNIT = 10_000

#: Columns a base cell table must have.
CELL_COLUMNS = ("county", "village", "record", "dlbm", "cents")


@dataclass
class CountyBalance:
    """How one county was balanced (the JSON ``balance`` block)."""

    county: str
    county_name: str
    control_field: str
    control_ha: float
    sum_before_ha: float
    steps: int

    def to_dict(self) -> dict:
        """Return the block as a plain dict."""
        return asdict(self)


@dataclass
class BalanceResult:
    """Balanced base cells.

    Attributes
    ----------
    cells : pandas.DataFrame
        The input cells plus ``units_before`` (each cell rounded alone, 0.01 公顷) and
        ``units`` (balanced, 0.01 公顷).
    counties : list of CountyBalance
        One block per county, in code order.
    """

    cells: pd.DataFrame
    counties: list[CountyBalance]


def to_units(cents: np.ndarray | int) -> np.ndarray:
    """Hundredths of m² → 0.01-公顷 units, rounded half up (exact on integers)."""
    c = np.asarray(cents, dtype=np.int64)
    return np.where(c >= 0, (c + CENTS_PER_UNIT // 2) // CENTS_PER_UNIT,
                    -((-c + CENTS_PER_UNIT // 2) // CENTS_PER_UNIT))


def spread(steps: int, order: list[int], capacity: np.ndarray | None = None) -> np.ndarray:
    """Spread ``steps`` over targets: the quotient to each, the remainder one each in ``order``.

    Parameters
    ----------
    steps : int
        Number of 0.01-公顷 steps, negative to take away.
    order : list of int
        Target positions in priority order (all targets that may take steps).
    capacity : numpy.ndarray, optional
        Current units of every target: a negative spread never takes a target below zero;
        what it cannot take goes to the next targets in ``order``.

    Returns
    -------
    numpy.ndarray of int64
        Steps per target (length ``len(capacity)`` or ``max(order) + 1``).

    Examples
    --------
    >>> spread(7, [2, 0, 1]).tolist()
    [2, 2, 3]
    >>> spread(-2, [0, 1], np.array([0, 5])).tolist()
    [0, -2]
    """
    n = len(capacity) if capacity is not None else (max(order) + 1 if order else 0)
    out = np.zeros(n, dtype=np.int64)
    if steps == 0 or not order:
        return out
    sign = 1 if steps > 0 else -1
    left = abs(int(steps))
    room = (np.asarray(capacity, dtype=np.int64).copy() if capacity is not None and sign < 0
            else None)
    targets = list(order)
    while left > 0:
        if room is not None:
            targets = [t for t in targets if room[t] > 0]
            if not targets:
                raise InputError(f"调平无法分配 {left} 个 0.01 公顷的减少量：可减少的面积不足")
        q, r = divmod(left, len(targets))
        given = 0
        for k, t in enumerate(targets):
            want = q + (1 if k < r else 0)
            if room is not None:
                want = min(want, int(room[t]))
                room[t] -= want
            out[t] += sign * want
            given += want
        left -= given
    return out


def _largest_first(keys: list[str], sizes: np.ndarray) -> list[int]:
    """Positions ordered by size descending, ties by key ascending."""
    return sorted(range(len(keys)), key=lambda i: (-int(sizes[i]), keys[i]))


def balance_cells(
    cells: pd.DataFrame,
    control_m2: Mapping[str, float],
    *,
    control_field: str = "DCMJ",
    tolerance_ha: float = 1.0,
    large_class_ha: float = 1.0,
    unit_names: Mapping[str, str] | None = None,
) -> BalanceResult:
    """Balance a village × record × class base table to the counties' control areas.

    Parameters
    ----------
    cells : pandas.DataFrame
        Columns ``county``, ``village``, ``record`` (the row key inside a village), ``dlbm``
        and ``cents`` (exact area in hundredths of m²), one row per non-empty cell.
    control_m2 : mapping
        County code → control area in m² (2 decimals), e.g. the sum of XZQ.DCMJ.
    control_field : str
        Name of the field the control area comes from (for messages and the JSON block).
    tolerance_ha : float
        Largest accepted |a − b| per county, 公顷.
    large_class_ha : float
        Cells of at least this many 公顷 take a record's steps when it has any.
    unit_names : mapping, optional
        County code → name, for messages.

    Returns
    -------
    BalanceResult

    Raises
    ------
    onemap.errors.InputError
        A county without a control area, or whose gap exceeds the tolerance (naming the
        county and both figures).
    """
    missing = [c for c in CELL_COLUMNS if c not in cells.columns]
    if missing:
        raise InputError(f"调平所需的列缺失：{', '.join(missing)}")
    names = dict(unit_names or {})
    frame = cells.sort_values(["county", "village", "record", "dlbm"]).reset_index(drop=True)
    cents = frame["cents"].to_numpy(dtype=np.int64)
    before = to_units(cents)
    units = before.copy()
    large = int(round(large_class_ha * 100))
    tol = int(round(tolerance_ha * 100))
    counties = sorted(frame["county"].unique())
    blocks: list[CountyBalance] = []
    problems: list[Problem] = []
    plans: list[tuple[str, int]] = []
    for county in counties:
        label = f"{county} {names.get(county, '')}".strip()
        if county not in control_m2 or control_m2[county] is None or not np.isfinite(
                float(control_m2[county])):
            problems.append(Problem("balance_control_missing",
                                    f"县 {label} 没有控制面积（XZQ.{control_field}），无法调平",
                                    field=control_field, row=county))
            continue
        a = int(to_units(int(np.rint(float(control_m2[county]) * 100.0))))
        b = int(before[(frame["county"] == county).to_numpy()].sum())
        if abs(a - b) > tol:
            problems.append(Problem(
                "balance_tolerance",
                f"县 {label} 控制面积（XZQ.{control_field}）{a / 100:,.2f} 公顷，"
                f"基础统计表合计 {b / 100:,.2f} 公顷，相差 {(a - b) / 100:,.2f} 公顷，"
                f"超过容差 {tol / 100:,.2f} 公顷：这是数据错误（图斑面积与控制面积不符），不是舍入误差",
                field=control_field, row=county))
            continue
        plans.append((county, a - b))
        blocks.append(CountyBalance(county=county, county_name=names.get(county, ""),
                                    control_field=control_field, control_ha=a / 100,
                                    sum_before_ha=b / 100, steps=a - b))
    if problems:
        raise InputError("调平被拒绝：" + "；".join(p.message for p in problems), problems)

    dlbm_col = frame["dlbm"].astype(str).to_numpy()
    by_county = frame.groupby("county", sort=True).indices
    by_village = frame.groupby(["county", "village"], sort=True).indices
    by_record = frame.groupby(["village", "record"], sort=True).indices
    villages_of: dict[str, list[str]] = {}
    for county, village in by_village:
        villages_of.setdefault(county, []).append(village)
    records_of: dict[str, list[str]] = {}
    for village, record in by_record:
        records_of.setdefault(village, []).append(str(record))
    for county, steps in plans:
        if steps == 0 or county not in by_county:
            continue
        villages = sorted(villages_of[county])
        v_rows = {v: by_village[(county, v)] for v in villages}
        v_size = np.array([cents[v_rows[v]].sum() for v in villages])
        v_units = np.array([units[v_rows[v]].sum() for v in villages])
        v_steps = spread(steps, _largest_first(villages, v_size), v_units)
        for v, vs in zip(villages, v_steps, strict=True):
            if vs == 0:
                continue
            records = sorted(records_of[v])
            r_rows = {r: by_record[(v, r)] for r in records}
            r_size = np.array([cents[r_rows[r]].sum() for r in records])
            r_units = np.array([units[r_rows[r]].sum() for r in records])
            r_steps = spread(int(vs), _largest_first(records, r_size), r_units)
            for r, rs in zip(records, r_steps, strict=True):
                if rs == 0:
                    continue
                cell_rows = r_rows[r]
                codes = dlbm_col[cell_rows]
                reverse = sorted(range(len(cell_rows)), key=lambda i: codes[i], reverse=True)
                big = [i for i in reverse if units[cell_rows[i]] >= large]
                order = big or reverse
                add = spread(int(rs), order, units[cell_rows])
                units[cell_rows] += add
    frame["units_before"] = before
    frame["units"] = units
    return BalanceResult(cells=frame, counties=blocks)
