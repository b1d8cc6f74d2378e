"""Linear features (rivers, roads, canals) carved into the parcel coverage.

A feature's polyline is buffered to its width (in the local km frame) and
clipped to the county; features earlier in the configuration win where two
cross. Every parcel the ribbon touches loses that part; the ribbon itself
becomes one parcel per village it crosses (as 三调 splits linear ground
objects at village borders). Pieces smaller than a minimum mapping unit left
beside a ribbon are merged into it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from onemap.geo.polygonal import polygonal as _polygonal_all
from onemap.geo.polygonal import polygonal_or_none as _polygonal
from onemap.sample.config import LinearFeature
from onemap.sample.fields import LocalFrame
from onemap.sample.tessellation import GRID


@dataclass
class Ribbon:
    """One linear feature clipped to a county."""

    feature: LinearFeature
    geom: object  # shapely geometry, lon/lat


def ribbons_for_county(features: list[LinearFeature], county_deg, frame: LocalFrame) -> list[Ribbon]:
    """Buffer, clip and de-overlap the linear features of one county.

    Parameters
    ----------
    features : list of LinearFeature
        In priority order.
    county_deg : shapely geometry
        County polygon (lon/lat).
    frame : LocalFrame
        km frame used for the buffers.

    Returns
    -------
    list of Ribbon
        Non-empty, mutually disjoint polygons (lon/lat).
    """
    out: list[Ribbon] = []
    taken = None
    for f in features:
        line = frame.geom_to_deg(
            shapely.buffer(frame.geom_to_km(shapely.LineString(f.line)), f.width_m / 2000.0, quad_segs=3)
        )
        if not shapely.intersects(line, county_deg):
            continue
        geom = shapely.intersection(line, county_deg, grid_size=GRID)
        if taken is not None:
            geom = shapely.difference(geom, taken, grid_size=GRID)
        geom = _polygonal(geom)
        if geom is None:
            continue
        out.append(Ribbon(f, geom))
        taken = geom if taken is None else shapely.union(taken, geom, grid_size=GRID)
    return out


def carve(
    geoms: np.ndarray,
    village: NDArray[np.int64],
    rep: NDArray[np.float64],
    village_geoms: np.ndarray,
    ribbons: list[Ribbon],
    min_area_deg2: float,
) -> tuple[np.ndarray, NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], np.ndarray]:
    """Cut the ribbons out of the parcels and add them as parcels.

    Parameters
    ----------
    geoms : numpy.ndarray of Polygon
        Parcels (lon/lat), a coverage.
    village : numpy.ndarray of int
        Village index of each parcel.
    rep : numpy.ndarray, shape (n, 2)
        Point inside each parcel.
    village_geoms : numpy.ndarray
        Village polygons (index = village index); unused, kept for callers.
    ribbons : list of Ribbon
        Mutually disjoint ribbons.
    min_area_deg2 : float
        Pieces below this (square degrees) beside a ribbon join the ribbon.

    Returns
    -------
    geoms, village, rep, ribbon_id, parent
        The new coverage; ``ribbon_id`` is −1 for ordinary parcels and the
        ribbon's index otherwise; ``parent`` is the index of the input parcel
        a piece comes from (−1 for ribbon parcels).
    """
    n = len(geoms)
    if not ribbons or n == 0:
        return geoms, village, rep, np.full(n, -1, dtype=np.int64), np.arange(n)
    tree = shapely.STRtree(geoms)
    current = geoms.copy()
    touched = np.zeros(n, dtype=bool)
    taken_of: list[tuple[NDArray[np.int64], np.ndarray]] = []
    for rb in ribbons:
        shapely.prepare(rb.geom)
        hit = np.sort(tree.query(rb.geom, predicate="intersects"))
        if len(hit):
            cur = current[hit]
            # rest and taken come from the same pair of inputs, so their cut
            # edges are noded identically and the two never overlap
            taken = _polygonal_all(shapely.intersection(cur, rb.geom, grid_size=GRID))
            ok = shapely.area(taken) > 0.0
            hit, cur, taken = hit[ok], cur[ok], taken[ok]
            current[hit] = _polygonal_all(shapely.difference(cur, rb.geom, grid_size=GRID))
            touched[hit] = True
        else:
            taken = np.zeros(0, dtype=object)
        taken_of.append((hit, taken))
    cut = np.flatnonzero(touched)
    parts, owner = shapely.get_parts(current[cut], return_index=True)
    poly = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    parts, owner = parts[poly], cut[owner[poly]]
    small = shapely.area(parts) < min_area_deg2
    # slivers join a ribbon piece they touch in their own parcel
    sliver_geom, sliver_owner = parts[small], owner[small]
    sliver_ribbon = np.full(len(sliver_geom), -1, dtype=np.int64)
    for i, (g, o) in enumerate(zip(sliver_geom, sliver_owner, strict=True)):
        for k, (hit, taken) in enumerate(taken_of):
            pos = np.searchsorted(hit, o)
            if pos < len(hit) and hit[pos] == o and shapely.intersects(g, taken[pos]):
                sliver_ribbon[i] = k
                break
    keep_parts = ~small
    keep_parts[np.flatnonzero(small)[sliver_ribbon < 0]] = True
    parts, owner = parts[keep_parts], owner[keep_parts]
    untouched = np.flatnonzero(~touched)
    out_g = [geoms[untouched], parts]
    out_v = [village[untouched], village[owner]]
    out_r = [rep[untouched], shapely.get_coordinates(shapely.point_on_surface(parts))]
    out_k = [np.full(len(untouched), -1, dtype=np.int64), np.full(len(parts), -1, dtype=np.int64)]
    out_p = [untouched, owner]
    # the ribbon itself: the parts taken from the parcels, one parcel per village
    for k, (hit, taken) in enumerate(taken_of):
        if len(hit) == 0:
            continue
        extra = sliver_ribbon == k
        geoms_k = np.concatenate([taken, sliver_geom[extra]])
        village_k = np.concatenate([village[hit], village[sliver_owner[extra]]])
        order = np.argsort(village_k, kind="stable")
        bounds = np.r_[0, np.flatnonzero(np.diff(village_k[order])) + 1, len(order)]
        new_g, new_v = [], []
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            members = geoms_k[order[a:b]]
            merged = shapely.union_all(members, grid_size=GRID)
            polys = shapely.get_parts(merged)
            polys = polys[(shapely.get_type_id(polys) == 3) & (shapely.area(polys) > 0)]
            new_g.extend(polys)
            new_v.extend([village_k[order[a]]] * len(polys))
        if new_g:
            ng = np.array(new_g, dtype=object)
            out_g.append(ng)
            out_v.append(np.asarray(new_v, dtype=np.int64))
            out_r.append(shapely.get_coordinates(shapely.point_on_surface(ng)))
            out_k.append(np.full(len(ng), k, dtype=np.int64))
            out_p.append(np.full(len(ng), -1, dtype=np.int64))
    return (
        np.concatenate(out_g),
        np.concatenate(out_v),
        np.vstack(out_r),
        np.concatenate(out_k),
        np.concatenate(out_p),
    )
