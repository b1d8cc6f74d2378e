"""External monitoring patches (监测图斑) as change patches.

A 监测图斑 layer (imported as a dataset, e.g. ``JCTB``) carries JCBH (patch
number), QSX/HSX (前/后时相, imagery dates), TBLX (the class after the change,
from imagery, see ``data/tblx.yaml``) and usually DLBM (原地类) and XZQDM. When
a base DLTB version is given, each monitoring patch is cut by it so every piece
gets its own before class, 田坎系数 and 坐落单位 — a patch over 耕地 and 林地
becomes two change pieces. The result has the same columns as
:func:`onemap.monitor.changes.detect_changes` and is judged the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from onemap.analysis.overlay import intersect_pieces
from onemap.errors import InputError, Problem
from onemap.geo.area import ellipsoidal_area
from onemap.monitor.changes import _geoms, _numbers, _text, _valid, annotate_changes

#: Fields a monitoring layer must have.
REQUIRED_FIELDS = ("JCBH", "TBLX")


def normalize_date(value: object) -> str:
    """Return an ISO date (``YYYY-MM-DD``) from 20250501, 2025-05-01, 2025/5/1 or a timestamp.

    Examples
    --------
    >>> normalize_date("20250501"), normalize_date("2025/5/1"), normalize_date(None)
    ('2025-05-01', '2025-05-01', '')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    if text.isdigit() and len(text) == 8:
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    ts = pd.to_datetime(text, errors="coerce")
    return "" if pd.isna(ts) else ts.date().isoformat()


def monitoring_changes(
    patches: gpd.GeoDataFrame,
    base: gpd.GeoDataFrame | None = None,
    control_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    *,
    min_area_m2: float = 1.0,
) -> gpd.GeoDataFrame:
    """Turn monitoring patches into change patches.

    Parameters
    ----------
    patches : geopandas.GeoDataFrame
        监测图斑 in EPSG:4490 with JCBH and TBLX; DLBM, QSX, HSX, XZQDM used
        when present.
    base : geopandas.GeoDataFrame, optional
        DLTB version before the change (DLBM, KCXS, ZLDWDM, BSM); when given
        the before class comes from it, piece by piece.
    control_layers : mapping, optional
        As for :func:`onemap.monitor.changes.annotate_changes`.
    min_area_m2 : float
        Pieces of the cut smaller than this are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        Change patches with ``jcbh``, ``qsx``, ``hsx``, ``tblx`` extra columns;
        ``code_system`` is ``"TBLX"`` and ``change_date`` the HSX date.

    Raises
    ------
    onemap.errors.InputError
        If JCBH or TBLX is missing.
    """
    missing = [f for f in REQUIRED_FIELDS if f not in patches.columns]
    if missing:
        raise InputError(f"监测图斑缺少字段 {', '.join(missing)}",
                         [Problem("required_field", "缺少字段", field=f) for f in missing])
    if base is None and "DLBM" not in patches.columns:
        raise InputError("监测图斑没有原地类（DLBM），请同时给出基期地类图斑（DLTB）版本")
    patches = patches.reset_index(drop=True)
    geoms, _ = _valid(_geoms(patches))
    jcbh = _text(patches, "JCBH")
    tblx = _text(patches, "TBLX")
    qsx = np.array([normalize_date(v) for v in patches.get("QSX", [None] * len(patches))],
                   dtype=object)
    hsx = np.array([normalize_date(v) for v in patches.get("HSX", [None] * len(patches))],
                   dtype=object)
    xzq = _text(patches, "XZQDM")
    if base is None:
        idx = np.arange(len(patches))
        frame = pd.DataFrame({
            "before": _text(patches, "DLBM"),
            "area_m2": np.round(ellipsoidal_area(geoms), 2),
            "bsm_before": "", "zldwdm": _text(patches, "ZLDWDM"), "kcxs": 0.0,
        })
        frame["geometry"] = geoms
    else:
        bg, _ = _valid(_geoms(base))
        pieces = intersect_pieces(geoms, bg)
        keep = pieces.area_m2 >= min_area_m2
        idx, bi = pieces.left[keep], pieces.right[keep]
        frame = pd.DataFrame({
            "before": _text(base, "DLBM")[bi],
            "area_m2": np.round(pieces.area_m2[keep], 2),
            "bsm_before": _text(base, "BSM")[bi] if "BSM" in base.columns else "",
            "zldwdm": _text(base, "ZLDWDM")[bi],
            "kcxs": _numbers(base, "KCXS")[bi],
        })
        frame["geometry"] = pieces.geometry[keep]
    counts = pd.Series(idx).map(pd.Series(idx).value_counts()).to_numpy()
    seq = pd.Series(idx).groupby(idx).cumcount().to_numpy() + 1
    frame["tbbh"] = [j if c == 1 else f"{j}-{s}" for j, c, s in
                     zip(jcbh[idx], counts, seq, strict=True)]
    frame["kind"] = "monitoring"
    frame["bsm_after"] = ""
    frame["after"] = tblx[idx]
    frame["code_system"] = "TBLX"
    frame["change_date"] = hsx[idx]
    frame["xzqdm"] = xzq[idx]
    frame["jcbh"] = jcbh[idx]
    frame["qsx"] = qsx[idx]
    frame["hsx"] = hsx[idx]
    return annotate_changes(frame, control_layers, min_area_m2=min_area_m2)
