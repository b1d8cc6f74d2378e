"""The polygonal part of geometries: what overlays, repairs and the sample generator keep.

An intersection, difference or ``make_valid`` of polygons may return points and
lines where edges only touch, or a collection mixing them with polygons. Every
area computation wants the polygons alone; this is the one place that says how.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

__all__ = ["polygonal", "polygonal_or_none"]

# shapely type ids
_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7


def _polygons_in(geom: shapely.Geometry) -> list[shapely.Geometry]:
    """All non-empty polygons in a geometry, collections flattened."""
    tid = shapely.get_type_id(geom)
    if tid == _POLYGON:
        return [] if geom.is_empty else [geom]
    if tid in (_MULTIPOLYGON, _COLLECTION):
        return [p for part in shapely.get_parts(geom) for p in _polygons_in(part)]
    return []


def _one(geom: shapely.Geometry | None) -> shapely.Geometry:
    polys = _polygons_in(geom) if geom is not None else []
    if not polys:
        return shapely.Polygon()
    if len(polys) == 1:
        return polys[0]
    multi = shapely.MultiPolygon(polys)
    return multi if multi.is_valid else shapely.union_all(polys)


def polygonal(geoms: Any) -> Any:
    """Keep the polygonal part of each geometry.

    Polygons and multipolygons pass unchanged. A collection becomes its
    polygons (nested collections flattened): the polygon itself when there is
    one, a MultiPolygon when they form a valid one, else their union. Points,
    lines, None and collections without a polygon become an empty Polygon.

    Parameters
    ----------
    geoms : shapely.Geometry, None, or array-like of them
        One geometry or many.

    Returns
    -------
    shapely.Geometry or numpy.ndarray
        One geometry for one geometry, else an object array of the same length
        (the input array itself when nothing needed a change).

    Examples
    --------
    >>> import shapely
    >>> mixed = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(1, 0), (2, 0)])])
    >>> polygonal(mixed).wkt
    'POLYGON ((1 0, 1 1, 0 1, 0 0, 1 0))'
    >>> polygonal(shapely.Point(0, 0)).is_empty
    True
    """
    if geoms is None or isinstance(geoms, shapely.Geometry):
        return _one(geoms)
    arr = np.asarray(geoms, dtype=object)
    odd = np.flatnonzero(~np.isin(shapely.get_type_id(arr), (_POLYGON, _MULTIPOLYGON)))
    if len(odd) == 0:
        return arr
    out = arr.copy()
    for i in odd:
        out[i] = _one(arr[i])
    return out


def polygonal_or_none(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """The polygonal part of one geometry, or None when it has no area.

    Parameters
    ----------
    geom : shapely.Geometry or None
        One geometry.

    Returns
    -------
    shapely.Geometry or None
        As :func:`polygonal`, but None instead of an empty or zero-area result.
    """
    part = polygonal(geom)
    return None if shapely.area(part) == 0 else part
