"""What a line or a point site meets: lengths along a line, features a point falls in.

A 报盘 parcel whose 图形属性 is 线 (a road or pipeline centre line) or 点 has no
area; the site check reports the line's geodesic length on the CGCS2000 ellipsoid,
the length inside each feature it crosses, and for points the features that hold
them. These are plain functions over arrays of features and their STRtree.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod

__all__ = ["LINE_TYPES", "POINT_TYPES", "crossings", "geodesic_length"]

#: shapely type ids of lines and points.
LINE_TYPES = (1, 5)
POINT_TYPES = (0, 4)
# CGCS2000 and GRS80 share the semi-major axis; their flattening differs by 1e-10 (≈ 0.1 mm
# per 1000 km of length), so GRS80 is the CGCS2000 ellipsoid for lengths.
_GEOD = Geod(ellps="GRS80")


def geodesic_length(g: shapely.Geometry) -> float:
    """Geodesic length (m) of a lon/lat line on the CGCS2000 ellipsoid (0 for points).

    Examples
    --------
    >>> round(geodesic_length(shapely.LineString([(106.0, 38.0), (106.0, 38.01)])), 1)
    1110.0
    """
    if g is None or shapely.is_empty(g):
        return 0.0
    return float(sum(_GEOD.geometry_length(part) for part in shapely.get_parts(g)
                     if shapely.get_type_id(part) in LINE_TYPES))


def crossings(g: shapely.Geometry, geoms: NDArray[np.object_], tree: shapely.STRtree,
              ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Features a line crosses (with the length inside each) or a point falls in.

    Parameters
    ----------
    g : shapely geometry
        A (multi)line or (multi)point, lon/lat.
    geoms : array of polygons
        The features.
    tree : shapely.STRtree
        Their index.

    Returns
    -------
    idx : ndarray
        Indices of the features met (a line touching a feature only at its edge
        is not counted).
    lengths : ndarray
        Length of ``g`` inside each (m; 0 for points).
    """
    idx = tree.query(g, predicate="intersects")
    if shapely.get_type_id(g) in POINT_TYPES or not len(idx):
        return idx, np.zeros(len(idx))
    pieces = shapely.intersection(g, geoms[idx])
    lengths = np.array([geodesic_length(p) for p in pieces])
    keep = lengths > 0
    return idx[keep], lengths[keep]
