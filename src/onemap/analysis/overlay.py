"""Overlay primitive: the pieces where two sets of polygons meet.

One bulk STRtree query finds candidate pairs; pairs where the right polygon
lies wholly inside the left one (or vice versa) need no exact intersection and
keep their own geometry; only the pairs that cross a boundary are cut. This
is the shared core of tabulation, the site check and change detection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from onemap.geo.area import ellipsoidal_area
from onemap.geo.polygonal import polygonal as _polygonal


@dataclass
class Pieces:
    """Pieces of the intersection of two polygon arrays.

    Attributes
    ----------
    left, right : numpy.ndarray of int
        Index into the left and right arrays of each piece.
    geometry : numpy.ndarray of shapely geometries
        The polygonal piece (in the inputs' lon/lat).
    area_m2 : numpy.ndarray of float
        Official ellipsoidal area of each piece.
    """

    left: NDArray[np.intp]
    right: NDArray[np.intp]
    geometry: NDArray[np.object_]
    area_m2: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.left)


def intersect_pieces(
    left: NDArray[np.object_],
    right: NDArray[np.object_],
    *,
    grid_size: float | None = None,
    min_area_m2: float = 0.0,
) -> Pieces:
    """Intersect every left polygon with every right polygon it overlaps.

    Parameters
    ----------
    left, right : array_like of shapely polygons
        Lon/lat (EPSG:4490) polygons; ``right`` gets the spatial index.
    grid_size : float, optional
        Fixed-precision grid for the exact intersections (degrees), against
        slivers from nearly coincident edges.
    min_area_m2 : float
        Drop pieces smaller than this (0 keeps every piece with area).

    Returns
    -------
    Pieces
        Pieces with positive area, ordered by (left, right).
    """
    left = np.asarray(getattr(left, "values", left), dtype=object)
    right = np.asarray(getattr(right, "values", right), dtype=object)
    empty = Pieces(np.array([], dtype=np.intp), np.array([], dtype=np.intp),
                   np.array([], dtype=object), np.array([], dtype=float))
    if len(left) == 0 or len(right) == 0:
        return empty
    tree = shapely.STRtree(right)
    li, ri = tree.query(left, predicate="intersects")
    if len(li) == 0:
        return empty
    lg, rg = left[li], right[ri]
    shapely.prepare(lg)
    right_inside = shapely.contains_properly(lg, rg)
    shapely.prepare(rg)
    left_inside = ~right_inside & shapely.contains_properly(rg, lg)
    cut = ~(right_inside | left_inside)
    pieces = np.empty(len(li), dtype=object)
    pieces[right_inside] = rg[right_inside]
    pieces[left_inside] = lg[left_inside]
    if cut.any():
        pieces[cut] = _polygonal(shapely.intersection(lg[cut], rg[cut], grid_size=grid_size))
    area = ellipsoidal_area(pieces)
    keep = area > max(min_area_m2, 0.0)
    order = np.lexsort((ri[keep], li[keep]))
    return Pieces(
        left=li[keep][order], right=ri[keep][order],
        geometry=pieces[keep][order], area_m2=area[keep][order],
    )
