"""Change detection between two versions of a land-class layer (变化图斑).

Versions are compared by patch id (BSM) first; only what changed is overlaid:

1. Patches present in both versions with the *identical* geometry (exact
   coordinate comparison, vectorised; a topological-equality check catches
   re-noded rings) and the same class are unchanged; if other attributes
   differ they are **attribute-only edits**.
2. Same BSM and geometry but a different class: the whole patch is a change.
3. Patches removed, added, or whose geometry changed form the *changed set*;
   their old and new geometries are intersected with each other
   (:func:`onemap.analysis.overlay.intersect_pieces`). Pieces whose class
   differs are changes; pieces whose class is the same are **boundary
   re-draws**. Pieces below ``min_area_m2`` or thinner than ``min_width_m``
   are slivers of re-drawn edges and are counted, not reported.

Every change piece gets its official ellipsoidal area, 耕地 area (× (1−KCXS)),
the 田坎 share of a 耕地 piece with a deduction (``tiankan_m2``, reported as 1203
beside the net 耕地 area: its area to the cent minus the net area, official-tables.md §4),
unit codes, and the control-line flags: 涉及永久基本农田 (SFYN), 涉及生态保护红线
(SFHX), inside 城镇开发边界. Overlaying two whole versions instead is ~40× slower
and most of its "changes" are slivers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from onemap.analysis.overlay import intersect_pieces
from onemap.errors import InputError, Problem
from onemap.geo.area import ellipsoidal_area
from onemap.monitor.classes import describe_codes
from onemap.store.base import STORAGE_CRS

#: Control layers and the columns they fill: (overlap area column, flag column).
CONTROL_COLUMNS: dict[str, tuple[str, str]] = {
    "YJJBNTTB": ("yn_area_m2", "sfyn"),
    "STBHHX": ("hx_area_m2", "sfhx"),
    "CZKFBJ": ("czkfbj_area_m2", "in_czkfbj"),
}

#: Layers used only to locate patches without ZLDWDM (monitoring patches).
LOCATION_LAYERS = ("CJDCQ", "XZQ")

#: Attributes ignored when looking for attribute-only edits.
DEFAULT_IGNORE = ("SJNF", "fid", "FID", "OBJECTID")

#: Column order of a change-patch table (geometry last).
CHANGE_COLUMNS = [
    "tbbh", "kind", "bsm_before", "bsm_after", "before", "before_name", "after", "after_name",
    "code_system", "area_m2", "gd_area_m2", "tiankan_m2", "st_area_m2", "zygd", "zyst",
    "new_construction", "new_construction_gd_m2",
    "yn_area_m2", "sfyn", "hx_area_m2", "sfhx", "czkfbj_area_m2", "in_czkfbj", "czkfbj_pos",
    "zldwdm", "county", "village", "lon", "lat", "change_date",
]

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0


@dataclass
class ChangeResult:
    """What changed between two versions.

    Attributes
    ----------
    changes : geopandas.GeoDataFrame
        One row per change piece (columns :data:`CHANGE_COLUMNS`), EPSG:4490.
    attribute_edits : geopandas.GeoDataFrame
        Patches with the same BSM, geometry and class whose other attributes
        changed: ``bsm``, ``dlbm``, ``fields`` (comma-joined), ``changes``
        (``{field: [old, new]}``), ``zldwdm``, ``county``.
    redraws : geopandas.GeoDataFrame
        Pieces of re-drawn patches whose class did not change: ``bsm_before``,
        ``bsm_after``, ``dlbm``, ``area_m2``, ``same_bsm``.
    summary : dict
        Counts and areas (m²), JSON-ready.
    """

    changes: gpd.GeoDataFrame
    attribute_edits: gpd.GeoDataFrame
    redraws: gpd.GeoDataFrame
    summary: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------- helpers
def _geoms(gdf: gpd.GeoDataFrame) -> NDArray[np.object_]:
    return np.asarray(gdf.geometry.to_numpy(), dtype=object)


def _is_text_dtype(dtype) -> bool:
    return isinstance(dtype, pd.StringDtype)


def _text(gdf: pd.DataFrame, col: str, idx: NDArray | None = None) -> NDArray[np.object_]:
    """Column as stripped text ("" for missing), optionally only rows ``idx``."""
    n = len(gdf) if idx is None else len(idx)
    if col not in gdf.columns:
        return np.full(n, "", dtype=object)
    s = gdf[col] if idx is None else gdf[col].iloc[idx]
    if _is_text_dtype(s.dtype):  # Arrow-backed text: stay vectorised
        return s.fillna("").str.strip().to_numpy(dtype=object)
    out = s.astype(object).where(s.notna(), "").astype(str).str.strip()
    return out.to_numpy(dtype=object)


def _numbers(gdf: pd.DataFrame, col: str, idx: NDArray | None = None) -> NDArray[np.float64]:
    n = len(gdf) if idx is None else len(idx)
    if col not in gdf.columns:
        return np.zeros(n)
    s = gdf[col] if idx is None else gdf[col].iloc[idx]
    return pd.to_numeric(s, errors="coerce").fillna(0.0).to_numpy(dtype=float)


def _check_frame(gdf: gpd.GeoDataFrame, what: str, id_field: str, class_field: str
                 ) -> pd.Index:
    """Check fields and CRS; return the ids as a unique index."""
    missing = [c for c in (id_field, class_field) if c not in gdf.columns]
    if missing:
        raise InputError(f"{what}缺少字段 {', '.join(missing)}，无法比较版本",
                         [Problem("required_field", "缺少字段", field=c) for c in missing])
    if gdf.crs is not None and gdf.crs.to_epsg() != 4490:
        raise InputError(f"{what}不是 CGCS2000 经纬度（EPSG:4490），请经工作空间读取")
    ids = pd.Index(_text(gdf, id_field))
    if not ids.is_unique:
        dup = ids[ids.duplicated(keep=False)]
        shown = sorted(set(dup))[:20]
        raise InputError(
            f"{what}的 {id_field} 不唯一（{dup.nunique()} 个重复），无法按标识码比较",
            [Problem("duplicate_id", "标识码重复", row=b, field=id_field) for b in shown],
        )
    return ids


def _same_geometry(a: NDArray[np.object_], b: NDArray[np.object_]) -> tuple[NDArray, int]:
    """Identical geometry per pair: exact coordinates first, topology only for the rest."""
    same = shapely.equals_exact(a, b, tolerance=0.0)
    rest = np.flatnonzero(~same)
    renoded = 0
    if len(rest):
        try:
            topo = shapely.equals(a[rest], b[rest])
        except shapely.errors.GEOSException:
            topo = shapely.equals_exact(shapely.normalize(a[rest]), shapely.normalize(b[rest]),
                                        tolerance=0.0)
        topo &= ~shapely.is_empty(a[rest])
        same[rest] = topo
        renoded = int(topo.sum())
    return same, renoded


def approx_width_m(geoms: NDArray[np.object_], area_m2: NDArray[np.float64]) -> NDArray:
    """Mean width (m) of lon/lat polygons: 2·area / perimeter, perimeter in local metres.

    Good to a few per cent at Wuzhong's latitude; used only to tell slivers
    (re-drawn edges) from real changes.
    """
    n = len(geoms)
    if n == 0:
        return np.zeros(0)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    b = shapely.bounds(geoms)
    lat0 = np.nan_to_num((b[:, 1] + b[:, 3]) / 2.0)
    scaled = coords.copy()
    scaled[:, 0] *= _M_PER_DEG_LON_EQ * np.cos(np.radians(lat0))[idx]
    scaled[:, 1] *= _M_PER_DEG_LAT
    metric = shapely.set_coordinates(np.array(geoms, dtype=object, copy=True), scaled)
    perimeter = shapely.length(metric)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(perimeter > 0, 2.0 * area_m2 / perimeter, 0.0)
    return width


def _valid(geoms: NDArray[np.object_]) -> tuple[NDArray[np.object_], int]:
    bad = ~shapely.is_valid(geoms)
    if not bad.any():
        return geoms, 0
    out = geoms.copy()
    out[bad] = shapely.make_valid(geoms[bad])
    return out, int(bad.sum())


def overlap_area(geoms: NDArray[np.object_], area_m2: NDArray[np.float64],
                 other: NDArray[np.object_]) -> NDArray[np.float64]:
    """Area (m²) of each geometry inside any polygon of ``other`` (capped at its own area).

    Only the polygons of ``other`` whose box meets a geometry are checked for
    validity (and repaired), so a large control layer costs little.
    """
    if len(geoms) == 0 or len(other) == 0:
        return np.zeros(len(geoms))
    near = np.unique(shapely.STRtree(other).query(geoms)[1])
    candidates, _ = _valid(np.asarray(other, dtype=object)[near])
    pieces = intersect_pieces(geoms, candidates)
    inside = np.bincount(pieces.left, weights=pieces.area_m2, minlength=len(geoms))
    return np.minimum(inside, area_m2)


def _locate(points: NDArray[np.object_], layer: gpd.GeoDataFrame, field_name: str,
            ) -> NDArray[np.object_]:
    out = np.full(len(points), "", dtype=object)
    if field_name not in layer.columns or len(points) == 0:
        return out
    values = _text(layer, field_name)
    tree = shapely.STRtree(_geoms(layer))
    pi, li = tree.query(points, predicate="intersects")
    if len(pi):
        first = np.unique(pi, return_index=True)[1]
        out[pi[first]] = values[li[first]]
    return out


# ---------------------------------------------------------------------------- annotation
def annotate_changes(
    pieces: pd.DataFrame,
    control_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    *,
    min_area_m2: float = 1.0,
    prefix: str = "BH",
) -> gpd.GeoDataFrame:
    """Add names, farmland areas, control flags, units and ids to change pieces.

    Parameters
    ----------
    pieces : pandas.DataFrame
        At least ``geometry``, ``area_m2``, ``before``, ``after``; optional
        ``code_system`` (``"DLBM"`` default, or ``"TBLX"``), ``kcxs`` (田坎系数
        of the old patch), ``zldwdm``, ``xzqdm``, ``bsm_before``, ``bsm_after``,
        ``kind``, ``change_date`` and any extra columns (kept).
    control_layers : mapping, optional
        ``YJJBNTTB``, ``STBHHX``, ``CZKFBJ`` fill the flags; ``CJDCQ``/``XZQ``
        locate pieces without ``zldwdm``; any other layer adds
        ``<name>_area_m2``.
    min_area_m2 : float
        An overlap smaller than this does not raise a flag.
    prefix : str
        Prefix of the generated change ids (``tbbh``).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CHANGE_COLUMNS` plus extras, EPSG:4490.
    """
    control_layers = dict(control_layers or {})
    src = pieces.reset_index(drop=True)
    n = len(src)
    # Columns are collected in a dict and framed once (inserting columns one by one is slow).
    cols: dict[str, Any] = {c: src[c].to_numpy() for c in src.columns}
    for col, default in (("code_system", "DLBM"), ("bsm_before", ""), ("bsm_after", ""),
                         ("kind", "piece"), ("zldwdm", ""), ("change_date", "")):
        if col not in cols:
            cols[col] = np.full(n, default, dtype=object)
    geoms = np.asarray(cols["geometry"], dtype=object)
    area = np.asarray(cols["area_m2"], dtype=float)
    kcxs = (pd.to_numeric(pd.Series(cols["kcxs"]), errors="coerce").fillna(0.0).to_numpy()
            if "kcxs" in cols else np.zeros(n))
    before = describe_codes(cols["before"], "DLBM")
    after = describe_codes(cols["after"], cols["code_system"])
    cols["before_name"] = before["name"].to_numpy()
    cols["after_name"] = after["name"].to_numpy()
    for col in before.columns[1:]:
        cols[f"before_{col}"] = before[col].to_numpy()
        cols[f"after_{col}"] = after[col].to_numpy()
    gd = np.where(before["cultivated"], area * (1.0 - np.clip(kcxs, 0.0, 1.0)), 0.0)
    cols["gd_area_m2"] = np.round(gd, 2)
    # 田坎 share (1203) of a 耕地 piece with a deduction: net + 田坎 = the piece's area to the cent
    deducted = before["cultivated"].to_numpy() & (kcxs > 0)
    cols["tiankan_m2"] = np.where(
        deducted, np.maximum(np.round(np.round(area, 2) - cols["gd_area_m2"], 2), 0.0), 0.0)
    cols["st_area_m2"] = np.round(np.where(before["paddy"], gd, 0.0), 2)
    cols["zygd"] = before["cultivated"].to_numpy() & ~after["cultivated"].to_numpy()
    cols["zyst"] = cols["zygd"] & before["paddy"].to_numpy()
    new_c = after["construction"].to_numpy() & ~before["construction"].to_numpy()
    cols["new_construction"] = new_c
    cols["new_construction_gd_m2"] = np.round(np.where(new_c, gd, 0.0), 2)

    flag_min = max(min_area_m2, 0.0)
    for name, (area_col, flag_col) in CONTROL_COLUMNS.items():
        layer = control_layers.get(name)
        inside = (overlap_area(geoms, area, _geoms(layer))
                  if layer is not None else np.zeros(n))
        cols[area_col] = np.round(inside, 2)
        if name == "CZKFBJ":
            cols[flag_col] = inside >= 0.5 * area
            pos = np.where(inside >= area - flag_min, "内",
                           np.where(inside <= flag_min, "外", "跨")).astype(object)
            cols["czkfbj_pos"] = pos if layer is not None else np.full(n, "", dtype=object)
        else:
            cols[flag_col] = inside >= flag_min
    for name, layer in control_layers.items():
        if name in CONTROL_COLUMNS or name in LOCATION_LAYERS or layer is None:
            continue
        cols[f"{name.lower()}_area_m2"] = np.round(overlap_area(geoms, area, _geoms(layer)), 2)

    points = shapely.point_on_surface(geoms) if n else np.array([], dtype=object)
    zl = pd.Series(cols["zldwdm"], dtype=object).fillna("").astype(str).to_numpy(dtype=object)
    need = np.flatnonzero(zl == "")
    if len(need) and control_layers.get("CJDCQ") is not None:
        zl[need] = _locate(points[need], control_layers["CJDCQ"], "ZLDWDM")
    cols["zldwdm"] = zl
    county = pd.Series(zl, dtype=object).str.slice(0, 6).to_numpy(dtype=object)
    if "xzqdm" in cols:
        x = pd.Series(cols["xzqdm"], dtype=object).fillna("").astype(str)
        county = np.where(county == "", x.str.slice(0, 6).to_numpy(dtype=object), county)
    need = np.flatnonzero(county == "")
    if len(need) and control_layers.get("XZQ") is not None:
        county[need] = pd.Series(_locate(points[need], control_layers["XZQ"], "XZQDM"),
                                 dtype=object).str.slice(0, 6).to_numpy(dtype=object)
    cols["county"] = county
    cols["village"] = pd.Series(zl, dtype=object).str.slice(0, 12).to_numpy(dtype=object)
    cols["lon"] = np.round(shapely.get_x(points), 7) if n else np.zeros(0)
    cols["lat"] = np.round(shapely.get_y(points), 7) if n else np.zeros(0)

    tb = pd.Series(cols.get("tbbh", np.full(n, "", dtype=object)), dtype=object)
    if (tb.fillna("").astype(str) == "").any():
        order = np.lexsort((pd.Series(cols["bsm_before"]).astype(str).to_numpy(),
                            pd.Series(cols["bsm_after"]).astype(str).to_numpy()))
        ids = np.empty(n, dtype=object)
        width = max(6, len(str(n)))
        ids[order] = [f"{prefix}{i + 1:0{width}d}" for i in range(n)]
        cols["tbbh"] = ids
    front = [c for c in CHANGE_COLUMNS if c in cols]
    flags = [c for c in cols if c.startswith(("before_", "after_"))
             and c not in ("before_name", "after_name") and c not in front]
    extras = [c for c in cols if c not in front and c not in flags
              and c not in ("geometry", "kcxs")]
    frame = pd.DataFrame({c: cols[c] for c in front + extras + flags})
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=STORAGE_CRS)


# ---------------------------------------------------------------------------- engine
def detect_changes(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    control_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    *,
    id_field: str = "BSM",
    class_field: str = "DLBM",
    min_area_m2: float = 1.0,
    min_width_m: float = 0.2,
    grid_size: float | None = None,
    ignore_fields: tuple[str, ...] = DEFAULT_IGNORE,
    change_date: str = "",
) -> ChangeResult:
    """Find the change patches between two versions of a land-class layer.

    Parameters
    ----------
    old, new : geopandas.GeoDataFrame
        The two versions in EPSG:4490, each with a unique ``id_field`` and a
        ``class_field``; ``KCXS`` (田坎系数) and ``ZLDWDM`` are used when present.
    control_layers : mapping of str to GeoDataFrame, optional
        ``YJJBNTTB``, ``STBHHX``, ``CZKFBJ`` (flags), ``CJDCQ``/``XZQ`` (units)
        and any other polygon layer (overlap area).
    id_field, class_field : str
        Patch id (BSM) and land class (DLBM) fields.
    min_area_m2 : float
        Pieces smaller than this are slivers (counted in the summary only).
    min_width_m : float
        Pieces whose mean width is below this are slivers of re-drawn edges.
    grid_size : float, optional
        Precision grid (degrees) for the exact intersections.
    ignore_fields : tuple of str
        Attributes not compared for attribute-only edits (e.g. SJNF).
    change_date : str
        Date the change is dated at (ISO), e.g. the survey date of ``new``;
        stored on every change for judging.

    Returns
    -------
    ChangeResult

    Raises
    ------
    onemap.errors.InputError
        Missing id/class fields, duplicate ids, or a non-CGCS2000 frame.

    Examples
    --------
    >>> from shapely import box
    >>> old = gpd.GeoDataFrame({"BSM": ["1"], "DLBM": ["0103"]},
    ...                        geometry=[box(106, 37, 106.01, 37.01)], crs=4490)
    >>> new = old.assign(DLBM=["0601"])
    >>> r = detect_changes(old, new)
    >>> r.changes[["before", "after", "zygd"]].values.tolist()
    [['0103', '0601', True]]
    """
    old = old.reset_index(drop=True)
    new = new.reset_index(drop=True)
    old_index = _check_frame(old, "旧版本", id_field, class_field)
    new_index = _check_frame(new, "新版本", id_field, class_field)
    og_all, ng_all = _geoms(old), _geoms(new)
    old_ids = old_index.to_numpy(dtype=object)
    new_ids = new_index.to_numpy(dtype=object)
    pos = new_index.get_indexer(old_index)
    common_old = np.flatnonzero(pos >= 0)
    common_new = pos[common_old]
    removed = np.flatnonzero(pos < 0)
    in_old = np.zeros(len(new), dtype=bool)
    in_old[common_new] = True
    added = np.flatnonzero(~in_old)

    same_geom, renoded = _same_geometry(og_all[common_old], ng_all[common_new])
    oc_all, nc_all = _text(old, class_field), _text(new, class_field)
    same_class = oc_all[common_old] == nc_all[common_new]

    # 1. attribute-only edits
    keep = same_geom & same_class
    edits = _attribute_edits(old, new, common_old[keep], common_new[keep], id_field,
                             class_field, ignore_fields)
    # 2. class changed in place (same BSM and geometry)
    inplace = same_geom & ~same_class
    io, inn = common_old[inplace], common_new[inplace]
    ip_geom = ng_all[inn]
    ip = pd.DataFrame({
        "kind": "class_change",
        "bsm_before": old_ids[io], "bsm_after": new_ids[inn],
        "before": oc_all[io], "after": nc_all[inn],
        "area_m2": np.round(ellipsoidal_area(ip_geom), 2),
        "kcxs": _numbers(old, "KCXS", io),
        "zldwdm": _pick_zl(old, new, io, inn),
    })
    ip["geometry"] = ip_geom
    # 3. changed set: removed + added + geometry changed
    moved = ~same_geom
    old_set = np.concatenate([removed, common_old[moved]])
    new_set = np.concatenate([added, common_new[moved]])
    og, invalid_old = _valid(og_all[old_set])
    ng, invalid_new = _valid(ng_all[new_set])
    pieces = intersect_pieces(og, ng, grid_size=grid_size)
    lo, ln = old_set[pieces.left], new_set[pieces.right]
    width = approx_width_m(pieces.geometry, pieces.area_m2)
    sliver = (pieces.area_m2 < min_area_m2) | (width < min_width_m)
    real = ~sliver
    b_cls, a_cls = oc_all[lo], nc_all[ln]
    is_change = real & (b_cls != a_cls)
    is_redraw = real & (b_cls == a_cls)
    ch = np.flatnonzero(is_change)
    ov = pd.DataFrame({
        "kind": "piece",
        "bsm_before": old_ids[lo[ch]], "bsm_after": new_ids[ln[ch]],
        "before": b_cls[ch], "after": a_cls[ch],
        "area_m2": np.round(pieces.area_m2[ch], 2),
        "kcxs": _numbers(old, "KCXS", lo[ch]),
        "zldwdm": _pick_zl(old, new, lo[ch], ln[ch]),
    })
    ov["geometry"] = pieces.geometry[ch]
    frame = pd.concat([ip, ov], ignore_index=True)
    frame["code_system"] = "DLBM"
    frame["change_date"] = change_date
    changes = annotate_changes(frame, control_layers, min_area_m2=min_area_m2)

    rd = np.flatnonzero(is_redraw)
    redraws = gpd.GeoDataFrame({
        "bsm_before": old_ids[lo[rd]], "bsm_after": new_ids[ln[rd]],
        "dlbm": b_cls[rd], "area_m2": np.round(pieces.area_m2[rd], 2),
        "same_bsm": old_ids[lo[rd]] == new_ids[ln[rd]],
    }, geometry=pieces.geometry[rd], crs=STORAGE_CRS)

    old_changed_area = float(ellipsoidal_area(og).sum())
    new_changed_area = float(ellipsoidal_area(ng).sum())
    piece_area = float(pieces.area_m2.sum())
    summary = {
        "old_patches": len(old),
        "new_patches": len(new),
        "unchanged": int(keep.sum()) - len(edits),
        "attribute_edits": len(edits),
        "renoded_same_shape": renoded,
        "class_changed_in_place": int(inplace.sum()),
        "removed": len(removed),
        "added": len(added),
        "geometry_changed": int(moved.sum()),
        "changes": len(changes),
        "change_area_m2": round(float(changes["area_m2"].sum()), 2),
        "redraws": len(redraws),
        "redraw_area_m2": round(float(redraws["area_m2"].sum()), 2),
        "slivers": int(sliver.sum()),
        "sliver_area_m2": round(float(pieces.area_m2[sliver].sum()), 2),
        "unmatched_old_area_m2": round(max(old_changed_area - piece_area, 0.0), 2),
        "unmatched_new_area_m2": round(max(new_changed_area - piece_area, 0.0), 2),
        "invalid_geometries_repaired": invalid_old + invalid_new,
        **change_totals(changes),
    }
    return ChangeResult(changes=changes, attribute_edits=edits, redraws=redraws,
                        summary=summary)


def change_totals(changes: pd.DataFrame) -> dict[str, Any]:
    """Totals of a change table: farmland, paddy, new construction, flags, transitions."""
    if len(changes) == 0:
        return {"zygd_area_m2": 0.0, "zygd_tiankan_m2": 0.0, "zyst_area_m2": 0.0,
                "new_construction_area_m2": 0.0,
                "new_construction_gd_m2": 0.0, "sfyn_count": 0, "sfhx_count": 0,
                "construction_outside_czkfbj": 0, "by_transition": []}
    zygd = changes["zygd"].astype(bool)
    newc = changes["new_construction"].astype(bool)
    trans = (changes.groupby(["before", "after"], sort=False)["area_m2"]
             .agg(["count", "sum"]).reset_index().sort_values("sum", ascending=False))
    return {
        "zygd_area_m2": round(float(changes.loc[zygd, "gd_area_m2"].sum()), 2),
        "zygd_tiankan_m2": (round(float(changes.loc[zygd, "tiankan_m2"].sum()), 2)
                            if "tiankan_m2" in changes.columns else 0.0),
        "zyst_area_m2": round(float(changes.loc[changes["zyst"].astype(bool),
                                                "st_area_m2"].sum()), 2),
        "new_construction_area_m2": round(float(changes.loc[newc, "area_m2"].sum()), 2),
        "new_construction_gd_m2": round(float(changes["new_construction_gd_m2"].sum()), 2),
        "sfyn_count": int(changes["sfyn"].astype(bool).sum()),
        "sfhx_count": int(changes["sfhx"].astype(bool).sum()),
        "construction_outside_czkfbj": int((newc & ~changes["in_czkfbj"].astype(bool)).sum()),
        "by_transition": [
            {"before": b, "after": a, "count": int(c), "area_m2": round(float(s), 2)}
            for b, a, c, s in trans.itertuples(index=False)
        ],
    }


def _pick_zl(old: pd.DataFrame, new: pd.DataFrame, io: NDArray, inn: NDArray) -> NDArray:
    zn = _text(new, "ZLDWDM", inn)
    zo = _text(old, "ZLDWDM", io)
    return np.where(zn != "", zn, zo)


def _column_diff(a: pd.Series, b: pd.Series) -> NDArray[np.bool_]:
    """Elementwise 'differs' for two aligned columns (missing == missing == "")."""
    if _is_text_dtype(a.dtype) and _is_text_dtype(b.dtype):
        x, y = a.fillna("").str.strip(), b.fillna("").str.strip()
        return (x != y).to_numpy(dtype=bool, na_value=True)
    na_a, na_b = a.isna().to_numpy(), b.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        x = a.to_numpy(dtype=float, na_value=np.nan)
        y = b.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            eq = np.isclose(x, y, rtol=0.0, atol=1e-9)
    else:
        x = a.astype(object).where(~na_a, "").astype(str).str.strip().to_numpy()
        y = b.astype(object).where(~na_b, "").astype(str).str.strip().to_numpy()
        eq = x == y
        na_a = na_a | (x == "")
        na_b = na_b | (y == "")
    return ~(eq | (na_a & na_b))


def _attribute_edits(old, new, io, inn, id_field, class_field, ignore) -> gpd.GeoDataFrame:
    geom_old, geom_new = old.geometry.name, new.geometry.name
    skip = {id_field, class_field, geom_old, geom_new, *ignore}
    # A column present in one version only counts as empty in the other.
    cols = [c for c in old.columns if c not in skip]
    cols += [c for c in new.columns if c not in skip and c not in old.columns]
    n = len(io)

    def side(frame: pd.DataFrame, c: str, idx: NDArray) -> pd.Series:
        if c not in frame.columns:
            return pd.Series([None] * len(idx), dtype=object)
        return frame[c].iloc[idx].reset_index(drop=True)

    diff = np.zeros((n, len(cols)), dtype=bool)
    for j, c in enumerate(cols):
        if n:
            diff[:, j] = _column_diff(side(old, c, io), side(new, c, inn))
    rows = np.flatnonzero(diff.any(axis=1)) if n else np.array([], dtype=int)
    # values of the edited rows only, one column at a time (no per-cell DataFrame access)
    touched = np.flatnonzero(diff[rows].any(axis=0)) if len(rows) else []
    values: dict[str, tuple[list, list]] = {}
    for j in touched:
        c = cols[j]
        values[c] = (side(old, c, io[rows]).tolist(), side(new, c, inn[rows]).tolist())
    fields, changes = [], []
    for k, r in enumerate(rows):
        names = [cols[j] for j in np.flatnonzero(diff[r])]
        fields.append(",".join(names))
        changes.append({c: [_plain(values[c][0][k]), _plain(values[c][1][k])] for c in names})
    zl = _text(new, "ZLDWDM", inn[rows])
    return gpd.GeoDataFrame({
        "bsm": _text(new, id_field, inn[rows]),
        "dlbm": _text(new, class_field, inn[rows]),
        "fields": fields,
        "changes": changes,
        "zldwdm": zl,
        "county": pd.Series(zl, dtype=object).str.slice(0, 6).to_numpy(dtype=object),
    }, geometry=_geoms(new)[inn[rows]] if len(rows) else [], crs=STORAGE_CRS)


def _plain(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v
