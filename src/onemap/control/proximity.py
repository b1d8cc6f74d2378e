"""Point features near a site (地质灾害隐患点 within a buffer), with ellipsoidal distances.

A point inside the site is at distance 0. For a point outside, the nearest point of the
site is found in a local azimuthal equidistant projection centred on the site, and the
distance between the two is then measured on the CGCS2000 ellipsoid (GRS80 axes, as
:mod:`onemap.control.linear`). The site's edges are straight in lon/lat (as stored), which
the projection bends: the site is first densified to vertices at most ``SEGMENT_DEG`` apart
(≈ 50 m), so the projected chords stay within a micrometre of the edges (a 2 km edge left
whole would be 5 cm off at 38°N).
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod, Transformer

__all__ = ["points_within"]

_GEOD = Geod(ellps="GRS80")
#: Longest edge (degrees) of the densified site in the projection.
SEGMENT_DEG = 5e-4
#: Metres per degree of latitude, rounded down (candidate search box only, widened by 20 %).
_M_PER_DEG = 110_000.0


def _search_box(site: shapely.Geometry, distance_m: float) -> shapely.Polygon:
    """The site's bounds widened by ``distance_m`` (generously) in degrees."""
    minx, miny, maxx, maxy = shapely.bounds(site)
    lat = max(abs(miny), abs(maxy))
    dy = 1.2 * distance_m / _M_PER_DEG
    dx = 1.2 * distance_m / (_M_PER_DEG * max(math.cos(math.radians(min(lat + dy, 89.0))), 1e-6))
    return shapely.box(minx - dx, miny - dy, maxx + dx, maxy + dy)


def points_within(site: shapely.Geometry, points: NDArray[np.object_], tree: shapely.STRtree,
                  distance_m: float) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Indices of the points within ``distance_m`` of the site, and their distances.

    Parameters
    ----------
    site : shapely geometry
        The site, lon/lat (EPSG:4490).
    points : array of shapely Point
        The point layer, lon/lat.
    tree : shapely.STRtree
        Index of ``points``.
    distance_m : float
        The buffer (m); points at exactly this distance are included.

    Returns
    -------
    (indices, distances)
        Sorted by distance, then index; distances in metres on the ellipsoid (0 inside).
    """
    cand = tree.query(_search_box(site, distance_m))
    if len(cand) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    cand = np.sort(cand)
    pts = points[cand]
    inside = shapely.covers(site, pts)
    dist = np.zeros(len(cand))
    out = np.flatnonzero(~inside)
    if len(out):
        c = shapely.centroid(site)
        local = Transformer.from_crs(
            "EPSG:4490", f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +ellps=GRS80 +units=m",
            always_xy=True)

        def to_local(xy: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.column_stack(local.transform(xy[:, 0], xy[:, 1]))

        site_m = shapely.transform(shapely.segmentize(site, SEGMENT_DEG), to_local)
        pts_m = shapely.transform(pts[out], to_local)
        near = shapely.get_point(shapely.shortest_line(site_m, pts_m), 0)
        nx, ny = local.transform(shapely.get_x(near), shapely.get_y(near), direction="INVERSE")
        _, _, d = _GEOD.inv(nx, ny, shapely.get_x(pts[out]), shapely.get_y(pts[out]))
        dist[out] = np.abs(np.asarray(d, dtype=float))
    keep = dist <= distance_m
    idx, dist = cand[keep], dist[keep]
    order = np.lexsort((idx, dist))
    return idx[order].astype(np.intp), dist[order]
