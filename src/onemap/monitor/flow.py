"""The 土地利用现状变更表 (flow matrix) and the update package (DLTBGX, GXGC) of a change set.

* The flow matrix: 原地类 × 现地类 at 二级 class per unit, from the change pieces of
  :func:`onemap.monitor.changes.detect_changes`. Only off-diagonal cells exist (a piece whose
  class did not change is a re-draw, not a change), and they are summed in hundredths of m²
  so that they add up exactly to the change area of the summary.
* The 三大类 balance: per unit, 农用地 / 建设用地 / 未利用地 increase (pieces entering the
  class from another 三大类), decrease (leaving it) and net change; the nets sum to zero.
* GXGC (更新过程): one row per piece of a re-drawn or re-classed patch, the BSM before → the
  BSM after with the piece's ellipsoidal area; DLTBGX: the patches of the new version that
  the update touched (re-drawn, re-classed, added, or attribute-edited).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from onemap.analysis.balance import to_units
from onemap.analysis.units import UNIT_LEVELS
from onemap.domain import land_classes
from onemap.errors import InputError
from onemap.geo.area import M2_PER_HECTARE, M2_PER_MU
from onemap.monitor.changes import ChangeResult
from onemap.store.base import STORAGE_CRS

#: The 三大类 in report order.
THREE_CLASSES = ("农用地", "建设用地", "未利用地")


@dataclass
class FlowTable:
    """The flow matrix of a change set, in long form.

    Attributes
    ----------
    rows : pandas.DataFrame
        ``unit, unit_name, county, from, from_name, to, to_name, cents, area_m2, hectare, mu``.
    balance : pandas.DataFrame
        ``unit, unit_name, county, three_class, increase_m2, decrease_m2, net_m2`` (+ cents).
    level : str
        Unit level.
    change_area_m2 : float
        Sum of every off-diagonal cell (equals the change set's change area).
    source : dict
        Dataset and versions.
    """

    rows: pd.DataFrame
    balance: pd.DataFrame
    level: str
    change_area_m2: float
    source: dict = field(default_factory=dict)

    def records(self) -> list[dict]:
        """JSON rows: ``unit``, ``unit_name``, ``from``, ``to`` (with names), ``area_m2``, ``hectare``."""
        cols = ["unit", "unit_name", "from", "from_name", "to", "to_name", "area_m2", "hectare"]
        return [{**r, "area_m2": round(float(r["area_m2"]), 2), "hectare": round(float(r["hectare"]), 6)}
                for r in self.rows[cols].to_dict("records")]

    def balance_records(self) -> list[dict]:
        """JSON rows of the 三大类 balance (m²)."""
        cols = ["unit", "unit_name", "three_class", "increase_m2", "decrease_m2", "net_m2"]
        return [{k: (round(float(v), 2) if k.endswith("_m2") else v) for k, v in r.items()}
                for r in self.balance[cols].to_dict("records")]


def flow_table(changes: pd.DataFrame, *, level: str = "county",
               unit_names: Mapping[str, str] | None = None,
               source: dict | None = None) -> FlowTable:
    """Sum change pieces into the 原地类 × 现地类 matrix per unit, with the 三大类 balance.

    Parameters
    ----------
    changes : pandas.DataFrame
        Change pieces with ``before``, ``after``, ``area_m2`` and ``county`` (``zldwdm`` for
        town or village units); rows coded in another system than DLBM are refused.
    level : {"county", "town", "village"}
        Unit level.
    unit_names : mapping, optional
        Unit code → name.
    source : dict, optional
        Provenance.

    Returns
    -------
    FlowTable
    """
    if level not in UNIT_LEVELS:
        raise InputError(f"不支持的统计单元：{level}（可选：{', '.join(UNIT_LEVELS)}）")
    names = dict(unit_names or {})
    lc = land_classes()
    frame = pd.DataFrame(changes).reset_index(drop=True)
    if "code_system" in frame.columns and (frame["code_system"].fillna("DLBM") != "DLBM").any():
        raise InputError("变更表只统计两个地类图斑版本之间的变化（地类编码 DLBM），不统计监测图斑类型")
    unknown = sorted((set(frame.get("before", [])) | set(frame.get("after", []))) - set(lc.codes))
    if unknown:
        raise InputError(f"变化图斑含有未知地类编码 {', '.join(unknown)}，无法编制变更表")
    if level == "county":
        unit = frame.get("county", pd.Series([""] * len(frame))).astype(str)
    else:
        unit = frame.get("zldwdm", pd.Series([""] * len(frame))).astype(str).str.slice(
            0, UNIT_LEVELS[level])
    work = pd.DataFrame({
        "unit": unit.to_numpy(), "from": frame.get("before", pd.Series(dtype=str)).astype(str),
        "to": frame.get("after", pd.Series(dtype=str)).astype(str),
        "cents": np.rint(pd.to_numeric(frame.get("area_m2", pd.Series(dtype=float)))
                         .fillna(0.0).to_numpy() * 100.0).astype(np.int64)})
    work = work[work["from"] != work["to"]]
    rows = work.groupby(["unit", "from", "to"], sort=True, as_index=False)["cents"].sum()
    rows.insert(1, "unit_name", rows["unit"].map(lambda u: names.get(u, "")))
    rows.insert(2, "county", rows["unit"].str.slice(0, UNIT_LEVELS["county"]))
    rows.insert(4, "from_name", rows["from"].map(lc.name))
    rows["to_name"] = rows["to"].map(lc.name)
    rows = rows[["unit", "unit_name", "county", "from", "from_name", "to", "to_name", "cents"]]
    rows["area_m2"] = rows["cents"] / 100.0
    rows["hectare"] = rows["area_m2"] / M2_PER_HECTARE
    rows["mu"] = rows["area_m2"] / M2_PER_MU
    rows["units"] = to_units(rows["cents"].to_numpy())

    tc_from = rows["from"].map(lc.three_class)
    tc_to = rows["to"].map(lc.three_class)
    bal = []
    for unit_code in sorted(rows["unit"].unique()):
        in_unit = (rows["unit"] == unit_code).to_numpy()
        for tc in THREE_CLASSES:
            inc = int(rows["cents"][in_unit & (tc_to == tc).to_numpy()
                                    & (tc_from != tc).to_numpy()].sum())
            dec = int(rows["cents"][in_unit & (tc_from == tc).to_numpy()
                                    & (tc_to != tc).to_numpy()].sum())
            inc_u = int(rows["units"][in_unit & (tc_to == tc).to_numpy()
                                      & (tc_from != tc).to_numpy()].sum())
            dec_u = int(rows["units"][in_unit & (tc_from == tc).to_numpy()
                                      & (tc_to != tc).to_numpy()].sum())
            bal.append({"unit": unit_code, "unit_name": names.get(unit_code, ""),
                        "increase_units": inc_u, "decrease_units": dec_u,
                        "county": unit_code[:UNIT_LEVELS["county"]], "three_class": tc,
                        "increase_cents": inc, "decrease_cents": dec, "net_cents": inc - dec,
                        "increase_m2": inc / 100.0, "decrease_m2": dec / 100.0,
                        "net_m2": (inc - dec) / 100.0})
    balance = pd.DataFrame(bal, columns=["unit", "unit_name", "county", "three_class",
                                         "increase_cents", "decrease_cents", "net_cents",
                                         "increase_units", "decrease_units",
                                         "increase_m2", "decrease_m2", "net_m2"])
    return FlowTable(rows=rows.reset_index(drop=True), balance=balance, level=level,
                     change_area_m2=int(rows["cents"].sum()) / 100.0, source=dict(source or {}))


def update_package(result: ChangeResult, new: gpd.GeoDataFrame, old_ids: pd.Index, *,
                   id_field: str = "BSM") -> dict[str, gpd.GeoDataFrame]:
    """The update layers of a change set: DLTBGX (touched new patches) and GXGC (pieces).

    Parameters
    ----------
    result : ChangeResult
        Output of :func:`~onemap.monitor.changes.detect_changes`.
    new : geopandas.GeoDataFrame
        The newer version (all its fields are kept on DLTBGX).
    old_ids : pandas.Index
        The ids of the older version (new ids not among them are added patches).
    id_field : str
        Patch id field.

    Returns
    -------
    dict
        ``{"DLTBGX": GeoDataFrame, "GXGC": GeoDataFrame}``. GXGC fields: BGQTBBSM (变更前
        图斑标识码), BGHTBBSM (变更后), BGQDLBM, BGHDLBM, BGMJ (m², ellipsoidal), BGLX
        (地类变化 / 界线调整), XZQDM (county).
    """
    ch, rd = result.changes, result.redraws
    ids = new[id_field].astype(str).str.strip()
    county_of = (dict(zip(ids, new["ZLDWDM"].astype(str).str.slice(0, UNIT_LEVELS["county"]),
                          strict=True)) if "ZLDWDM" in new.columns else {})
    gx = pd.concat([
        pd.DataFrame({"BGQTBBSM": ch["bsm_before"].astype(str), "BGHTBBSM": ch["bsm_after"].astype(str),
                      "BGQDLBM": ch["before"].astype(str), "BGHDLBM": ch["after"].astype(str),
                      "BGMJ": ch["area_m2"].astype(float), "BGLX": "地类变化",
                      "XZQDM": ch["county"].astype(str), "geometry": ch.geometry.to_numpy()}),
        pd.DataFrame({"BGQTBBSM": rd["bsm_before"].astype(str), "BGHTBBSM": rd["bsm_after"].astype(str),
                      "BGQDLBM": rd["dlbm"].astype(str), "BGHDLBM": rd["dlbm"].astype(str),
                      "BGMJ": rd["area_m2"].astype(float), "BGLX": "界线调整",
                      "XZQDM": rd["bsm_after"].astype(str).map(county_of).fillna(""),
                      "geometry": rd.geometry.to_numpy()}),
    ], ignore_index=True)
    gx = gx.sort_values(["BGQTBBSM", "BGHTBBSM", "BGLX"], kind="stable").reset_index(drop=True)
    touched = (set(gx["BGHTBBSM"]) | set(result.attribute_edits.get("bsm", pd.Series(dtype=str))
                                         .astype(str)) | (set(ids) - set(old_ids.astype(str))))
    dltbgx = new[ids.isin(touched).to_numpy()].reset_index(drop=True)
    return {"DLTBGX": gpd.GeoDataFrame(dltbgx, geometry=dltbgx.geometry.name, crs=STORAGE_CRS),
            "GXGC": gpd.GeoDataFrame(gx.drop(columns="geometry"), geometry=gx["geometry"].to_numpy(),
                                     crs=STORAGE_CRS)}
