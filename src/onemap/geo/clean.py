"""Geometry checks and repairs before data enters a workspace.

:func:`repair_geometries` refuses rows that cannot be parcels (missing or
empty geometry, points or lines in a polygon layer, polygons that collapse or
lose area when repaired) and repairs the rest: Z/M dropped, invalid polygons
rebuilt with :func:`shapely.make_valid` keeping only their polygonal part.
Every repair is recorded in a :class:`~onemap.errors.Report`.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from onemap.errors import InputError, Problem, Report
from onemap.geo.polygonal import polygonal

__all__ = ["MAX_AREA_LOSS", "repair_geometries", "row_labels"]

#: Largest relative area a repair may remove before the row is refused.
MAX_AREA_LOSS = 0.01

_MAX_PROBLEMS = 1000

# shapely type ids
_POINT, _LINE, _RING, _POLYGON = 0, 1, 2, 3
_MULTIPOINT, _MULTILINE, _MULTIPOLYGON, _COLLECTION = 4, 5, 6, 7

_FAMILIES = {
    "polygon": ((_POLYGON, _MULTIPOLYGON), "面"),
    "linestring": ((_LINE, _RING, _MULTILINE), "线"),
    "point": ((_POINT, _MULTIPOINT), "点"),
}
_TYPE_NAMES = {
    _POINT: "点（Point）",
    _LINE: "线（LineString）",
    _RING: "线（LinearRing）",
    _POLYGON: "面（Polygon）",
    _MULTIPOINT: "多点（MultiPoint）",
    _MULTILINE: "多线（MultiLineString）",
    _MULTIPOLYGON: "多面（MultiPolygon）",
    _COLLECTION: "几何集合（GeometryCollection）",
}


def row_labels(
    gdf: pd.DataFrame, positions: Sequence[int] | NDArray[np.intp], id_field: str | None = "BSM"
) -> tuple[list[str], list[str]]:
    """Identify rows for messages: by ``id_field`` where filled, else row number.

    Parameters
    ----------
    gdf : pandas.DataFrame
        The rows.
    positions : sequence of int
        0-based positions of the rows.
    id_field : str or None, default "BSM"
        Identity column; ignored when absent.

    Returns
    -------
    labels : list of str
        For :attr:`Problem.row`: the id value, or the 1-based row number.
    texts : list of str
        For sentences: ``"BSM 为 123 的要素"`` or ``"第 5 行"``.
    """
    positions = [int(p) for p in positions]
    values = None
    if id_field and id_field in gdf.columns:
        values = gdf[id_field].to_numpy()[positions] if positions else []
    labels, texts = [], []
    for i, pos in enumerate(positions):
        value = None if values is None else values[i]
        if value is not None and not pd.isna(value) and str(value).strip():
            labels.append(str(value).strip())
            texts.append(f"{id_field} 为 {str(value).strip()} 的要素")
        else:
            labels.append(str(pos + 1))
            texts.append(f"第 {pos + 1} 行")
    return labels, texts


def _make_valid(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """``make_valid`` with the structure method where shapely has it."""
    try:
        return shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    except (TypeError, ValueError):  # shapely < 2.1: only the linework method
        return shapely.make_valid(geoms)


def _only_polygonal(geom: shapely.Geometry) -> bool:
    """True for a non-empty collection whose members are all polygonal."""
    parts = shapely.get_parts(geom)
    return len(parts) > 0 and all(
        shapely.get_type_id(p) in (_POLYGON, _MULTIPOLYGON)
        or (shapely.get_type_id(p) == _COLLECTION and _only_polygonal(p))
        for p in parts
    )


def _refuse(
    gdf: gpd.GeoDataFrame,
    positions: NDArray[np.intp],
    rule: str,
    describe: list[str],
    id_field: str | None,
    file_name: str,
) -> list[Problem]:
    """Problems for rows, ``describe[i]`` being the sentence after the row text."""
    labels, texts = row_labels(gdf, positions[:_MAX_PROBLEMS], id_field)
    return [
        Problem(rule=rule, message=f"{text}{what}", file=file_name or None, row=label)
        for label, text, what in zip(labels, texts, describe, strict=False)
    ]


def repair_geometries(
    gdf: gpd.GeoDataFrame,
    *,
    id_field: str | None = "BSM",
    file_name: str = "",
    expected: str = "Polygon",
) -> tuple[gpd.GeoDataFrame, Report]:
    """Check geometries and repair what can be repaired safely.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Rows to check (any CRS).
    id_field : str or None, default "BSM"
        Column identifying rows in messages; row numbers (1-based) where
        absent or empty.
    file_name : str, optional
        Name used in messages.
    expected : {"Polygon", "LineString", "Point"}
        Geometry family of the layer (``Multi*`` variants are accepted).

    Returns
    -------
    gdf : geopandas.GeoDataFrame
        A copy with Z/M dropped and invalid polygons repaired; valid rows
        are untouched and Polygon/MultiPolygon mixing is kept.
    report : onemap.errors.Report
        One ``repaired_geometry`` finding per repaired row, giving the GEOS
        reason (:func:`shapely.is_valid_reason`) and the area change.

    Raises
    ------
    onemap.errors.InputError
        Rule ``empty_geometry`` (missing or empty geometry),
        ``wrong_geometry_type`` (e.g. a point in a polygon layer) or
        ``unrepairable_geometry`` (an invalid polygon that becomes empty or
        loses more than :data:`MAX_AREA_LOSS` of its area when repaired);
        one problem per row.

    Notes
    -----
    Polygons are repaired with ``shapely.make_valid(method="structure")``
    (shapely ≥ 2.1, else the linework method) and reduced to their polygonal
    part, so slivers collapsing to lines are dropped. A geometry collection
    holding only polygons is turned into a (Multi)Polygon and reported.
    """
    family_key = expected.lower().removeprefix("multi")
    if family_key not in _FAMILIES:
        raise ValueError(f"expected must be Polygon, LineString or Point, not {expected!r}")
    allowed, family_name = _FAMILIES[family_key]
    polygon_layer = family_key == "polygon"
    where = file_name or "数据"
    report = Report()

    geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object).copy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    tids = shapely.get_type_id(geoms)
    wrong = ~empty & ~np.isin(tids, allowed)
    collections = np.flatnonzero(wrong & (tids == _COLLECTION)) if polygon_layer else []
    convertible = [i for i in collections if _only_polygonal(geoms[i])]
    wrong[convertible] = False

    problems: list[Problem] = []
    empty_pos = np.flatnonzero(empty)
    wrong_pos = np.flatnonzero(wrong)
    if empty_pos.size:
        problems += _refuse(
            gdf, empty_pos, "empty_geometry", ["的几何为空"] * empty_pos.size, id_field, file_name
        )
    if wrong_pos.size:
        describe = [
            f"的几何类型为{_TYPE_NAMES.get(int(tids[i]), '未知')}，本图层应为{family_name}"
            for i in wrong_pos[:_MAX_PROBLEMS]
        ]
        problems += _refuse(gdf, wrong_pos, "wrong_geometry_type", describe, id_field, file_name)
    if problems:
        parts = []
        if empty_pos.size:
            parts.append(f"{empty_pos.size} 个要素几何为空")
        if wrong_pos.size:
            parts.append(f"{wrong_pos.size} 个要素不是{family_name}")
        raise InputError(
            f"{where} 中{'，'.join(parts)}（首个：{problems[0].message}）",
            problems,
        )

    has_zm = shapely.has_z(geoms)
    if hasattr(shapely, "has_m"):
        has_zm |= shapely.has_m(geoms)
    if has_zm.any():
        geoms[has_zm] = shapely.force_2d(geoms[has_zm])

    if convertible:
        conv = np.asarray(convertible, dtype=np.intp)
        geoms[conv] = polygonal(geoms[conv])
        labels, _texts = row_labels(gdf, conv, id_field)
        for label in labels:
            report.add(
                "repaired_geometry",
                "几何为只含面的几何集合（GeometryCollection），已转为多面",
                file=file_name or None,
                row=label,
            )

    if polygon_layer:
        _repair_invalid(gdf, geoms, report, id_field, file_name, where)

    out = gdf.copy()
    out[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    return out, report


def _repair_invalid(
    gdf: gpd.GeoDataFrame,
    geoms: NDArray[np.object_],
    report: Report,
    id_field: str | None,
    file_name: str,
    where: str,
) -> None:
    """Repair invalid polygons in place in ``geoms``; refuse those losing area."""
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    if invalid.size == 0:
        return
    before = geoms[invalid]
    reasons = shapely.is_valid_reason(before)
    fixed = polygonal(_make_valid(before))
    area_before = shapely.area(before)
    area_after = shapely.area(fixed)
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.where(area_before > 0, (area_after - area_before) / area_before, np.inf)
    lost = shapely.is_empty(fixed) | (area_after < area_before * (1 - MAX_AREA_LOSS))
    labels, texts = row_labels(gdf, invalid, id_field)
    problems = []
    for k in np.flatnonzero(lost)[:_MAX_PROBLEMS]:
        outcome = (
            "修复后为空"
            if shapely.is_empty(fixed[k])
            else f"修复后面积减少 {-change[k]:.2%}（超过 {MAX_AREA_LOSS:.0%}）"
        )
        problems.append(
            Problem(
                rule="unrepairable_geometry",
                message=f"{texts[k]}的几何无效（{reasons[k]}），{outcome}，无法自动修复，请在源数据中修正",
                file=file_name or None,
                row=labels[k],
            )
        )
    if problems:
        raise InputError(
            f"{where} 中有 {int(lost.sum())} 个要素的几何无效且无法自动修复"
            f"（首个：{problems[0].message}）",
            problems,
        )
    for k in range(invalid.size):
        delta = (
            f"面积变化 {change[k]:+.4%}"
            if np.isfinite(change[k])
            else f"修复前面积为 0，修复后为 {area_after[k]:.6g}（坐标单位的平方）"
        )
        report.add(
            "repaired_geometry",
            f"几何无效（{reasons[k]}），已自动修复，{delta}",
            file=file_name or None,
            row=labels[k],
        )
    geoms[invalid] = fixed
