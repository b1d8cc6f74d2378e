"""The 三调 bulletin table: land-class areas per unit, exact to the cent.

Areas come from TBDLMJ (m², two decimals). They are summed as integer
hundredths of a square metre so that every class, group, unit and the total
add up exactly; 公顷 and 亩 are derived from the exact sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from onemap.analysis.units import unit_codes
from onemap.domain import land_classes
from onemap.errors import InputError
from onemap.geo.area import M2_PER_HECTARE, M2_PER_MU
from onemap.util import to_cents as _cents

#: Columns of the long result table.
STAT_COLUMNS = ["unit", "unit_name", "group", "dlbm", "dlmc", "tbdlmj_m2", "hectare", "mu"]

TOTAL_UNIT = "合计"


@dataclass
class BulletinTable:
    """Result of :func:`bulletin_table`.

    Attributes
    ----------
    rows : pandas.DataFrame
        One row per unit and 二级 class present: ``unit, unit_name, group,
        dlbm, dlmc, tbdlmj_m2, hectare, mu``.
    groups : pandas.DataFrame
        Wide table: one row per unit plus the total row, one column per
        bulletin group (公顷) and ``total``.
    level : str
        Unit level used.
    source : dict
        Dataset and version the figures come from.
    """

    rows: pd.DataFrame
    groups: pd.DataFrame
    level: str
    source: dict = field(default_factory=dict)


def bulletin_table(
    dltb: pd.DataFrame,
    *,
    level: str = "county",
    unit_names: dict[str, str] | None = None,
    area_field: str = "TBDLMJ",
    source: dict | None = None,
) -> BulletinTable:
    """Tabulate DLTB areas by unit, bulletin group and 二级 class.

    Parameters
    ----------
    dltb : pandas.DataFrame
        DLTB rows with at least ``DLBM``, ``ZLDWDM`` and ``area_field``.
    level : {"county", "town", "village"}
        Unit level taken from ZLDWDM.
    unit_names : dict, optional
        Unit code → name.
    area_field : str
        Area column, TBDLMJ by default (the statistics area of 三调).
    source : dict, optional
        Provenance to carry along (dataset, version).

    Returns
    -------
    BulletinTable
    """
    lc = land_classes()
    missing = [c for c in ("DLBM", "ZLDWDM", area_field) if c not in dltb.columns]
    if missing:
        raise InputError(f"地类图斑缺少统计所需字段：{', '.join(missing)}")
    units = unit_codes(dltb["ZLDWDM"], level)
    frame = pd.DataFrame(
        {"unit": units.to_numpy(), "dlbm": dltb["DLBM"].astype(str).to_numpy(),
         "cents": _cents(dltb[area_field])}
    )
    summed = frame.groupby(["unit", "dlbm"], sort=True, as_index=False)["cents"].sum()
    unknown = sorted(set(summed["dlbm"]) - set(lc.codes))
    if unknown:
        raise InputError(f"存在未知地类编码，无法归入统计分组：{', '.join(unknown)}")
    names = unit_names or {}
    summed["unit_name"] = summed["unit"].map(lambda u: names.get(u, ""))
    summed["group"] = summed["dlbm"].map(lc.bulletin_group)
    summed["dlmc"] = summed["dlbm"].map(lc.name)
    order = {g: i for i, g in enumerate(lc.bulletin_groups())}
    summed["_g"] = summed["group"].map(order)
    summed = summed.sort_values(["unit", "_g", "dlbm"]).drop(columns="_g")
    rows = _with_areas(summed)

    group_cents = summed.pivot_table(
        index="unit", columns="group", values="cents", aggfunc="sum", fill_value=0
    ).reindex(columns=lc.bulletin_groups(), fill_value=0)
    group_cents.loc[TOTAL_UNIT] = group_cents.sum(axis=0)
    group_cents["total"] = group_cents.sum(axis=1)
    groups = (group_cents / 100.0 / M2_PER_HECTARE).reset_index()
    groups.insert(1, "unit_name", groups["unit"].map(lambda u: names.get(u, "")))
    return BulletinTable(rows=rows, groups=groups, level=level, source=dict(source or {}))


def _with_areas(summed: pd.DataFrame) -> pd.DataFrame:
    out = summed.copy()
    m2 = out["cents"].to_numpy() / 100.0
    out["tbdlmj_m2"] = m2
    out["hectare"] = m2 / M2_PER_HECTARE
    out["mu"] = m2 / M2_PER_MU
    return out[STAT_COLUMNS + ["cents"]].reset_index(drop=True)


def totals_by_unit(table: BulletinTable) -> pd.Series:
    """Exact total per unit in hundredths of m² (for checks)."""
    return table.rows.groupby("unit")["cents"].sum()
