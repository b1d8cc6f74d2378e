"""Area fields of 三调-style layers: TBMJ, KCMJ, TBDLMJ.

TBMJ is the official ellipsoidal area (m², two decimals); KCMJ = TBMJ × KCXS;
TBDLMJ = TBMJ − KCMJ. Missing values are computed; delivered TBMJ values that
differ from the official area beyond a tolerance are reported, not changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from onemap.errors import Report
from onemap.geo.area import ellipsoidal_area

#: Default tolerance for delivered TBMJ against the official area.
TBMJ_ABS_TOLERANCE_M2 = 1.0
TBMJ_REL_TOLERANCE = 1e-4


def _numeric(gdf: pd.DataFrame, name: str) -> pd.Series:
    if name not in gdf.columns:
        return pd.Series(np.nan, index=gdf.index, dtype="float64")
    return pd.to_numeric(gdf[name], errors="coerce").astype("float64")


def fill_area_fields(
    gdf,
    *,
    ids: pd.Series,
    file_name: str,
    report: Report,
    abs_tol: float = TBMJ_ABS_TOLERANCE_M2,
    rel_tol: float = TBMJ_REL_TOLERANCE,
    area_field: str = "TBMJ",
    with_deduction: bool = True,
):
    """Compute missing area fields and report TBMJ mismatches.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer in EPSG:4490.
    ids : pandas.Series
        Row identity for messages (BSM).
    file_name : str
        Source file name for messages.
    report : Report
        Receives ``area_computed`` and ``tbmj_mismatch`` findings.
    abs_tol, rel_tol : float
        A delivered area is reported when it differs from the official one by
        more than both tolerances.
    area_field : str
        Name of the area field (TBMJ for DLTB, MJ for control lines).
    with_deduction : bool
        Also fill KCMJ and TBDLMJ.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with the area fields filled.
    """
    out = gdf.copy()
    official = np.round(ellipsoidal_area(out.geometry.values), 2)
    delivered = _numeric(out, area_field)
    missing = delivered.isna().to_numpy()
    if missing.any():
        report.add(
            "area_computed",
            f"{int(missing.sum())} 个图斑缺少 {area_field}，已按 CGCS2000 椭球面积补算",
            file=file_name,
            field=area_field,
        )
    diff = np.abs(delivered.to_numpy() - official)
    bad = ~missing & (diff > abs_tol) & (diff > rel_tol * np.maximum(official, 1.0))
    for i in np.flatnonzero(bad)[:1000]:
        report.add(
            "tbmj_mismatch",
            f"{area_field}={delivered.iloc[i]:.2f} 与椭球面积 {official[i]:.2f} 相差 {diff[i]:.2f} m²",
            file=file_name,
            row=str(ids.iloc[i]),
            field=area_field,
        )
    if bad.sum() > 1000:
        report.add("tbmj_mismatch", f"另有 {int(bad.sum()) - 1000} 个图斑面积差异超限", file=file_name)
    tbmj = np.where(missing, official, delivered.to_numpy())
    out[area_field] = tbmj
    if with_deduction:
        kcxs = _numeric(out, "KCXS").fillna(0.0).to_numpy()
        kcmj = _numeric(out, "KCMJ")
        kcmj_new = np.where(kcmj.isna(), np.round(tbmj * kcxs, 2), kcmj.to_numpy())
        tbdlmj = _numeric(out, "TBDLMJ")
        tbdlmj_new = np.where(tbdlmj.isna(), np.round(tbmj - kcmj_new, 2), tbdlmj.to_numpy())
        out["KCXS"] = kcxs
        out["KCMJ"] = kcmj_new
        out["TBDLMJ"] = tbdlmj_new
    return out
