"""Parcel-like tessellation of a county: a warped, densified Voronoi coverage.

Seed points are drawn with a density that varies by location (small parcels
near towns and in the irrigated plain, large ones in the steppe). Their
Voronoi cells are densified edge by edge — every shared edge is subdivided
from its lexicographically smaller end, so both neighbours get bit-identical
vertices — and then moved by a smooth homeomorphic warp, which keeps the
cells a gap-free, overlap-free coverage while giving them irregular outlines.
Finally the cells that cross the county border are clipped to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from onemap.sample.fields import LocalFrame, Warp

Array = NDArray[np.float64]
DensityFn = Callable[[Array, Array], Array]

#: Cells processed per batch (bounds the temporary memory).
CHUNK = 120_000
#: Upper bound of the subdivisions of one edge.
MAX_SUBDIVISIONS = 48
#: Precision grid of the parcel coordinates (degrees, ≈ 0.1 mm). Every overlay
#: that cuts parcels runs snap-rounded on this grid, so the two sides of a cut
#: are noded identically even where segments nearly coincide.
GRID = 1e-9


@dataclass
class CountyCells:
    """Pieces of one county's tessellation.

    Attributes
    ----------
    geoms : numpy.ndarray
        Polygons (lon/lat), a coverage of the county.
    rep : numpy.ndarray, shape (n, 2)
        A point inside each piece (lon/lat).
    cell : numpy.ndarray of int
        Index of the Voronoi cell (seed point) each piece comes from.
    repaired : int
        Cells that the warp made invalid and ``make_valid`` repaired.
    """

    geoms: np.ndarray
    rep: Array
    cell: NDArray[np.int64]
    repaired: int = 0


def on_grid(values: Array) -> Array:
    """Round to :data:`GRID` exactly as GEOS's fixed precision model does."""
    scale = 1.0 / GRID
    return np.floor(np.asarray(values) * np.round(scale) + 0.5) / np.round(scale)


def sample_points(
    county_km,
    n: int,
    density: DensityFn,
    density_max: float,
    rng: np.random.Generator,
) -> Array:
    """Draw ``n`` points inside a polygon with probability ∝ ``density``.

    Parameters
    ----------
    county_km : shapely geometry
        Polygon in km coordinates.
    n : int
        Number of points.
    density : callable
        ``density(x, y)`` ≥ 0 in km coordinates.
    density_max : float
        Upper bound of the density over the polygon (rejection envelope).
    rng : numpy.random.Generator
        Stream of the draws.

    Returns
    -------
    numpy.ndarray, shape (n, 2)
    """
    shapely.prepare(county_km)
    x0, y0, x1, y1 = shapely.bounds(county_km)
    box_area = (x1 - x0) * (y1 - y0)
    fill = max(float(shapely.area(county_km)) / box_area, 0.05)
    out: list[Array] = []
    have = 0
    while have < n:
        m = int(min(max((n - have) / fill * 2.5, 4096), 4_000_000))
        x = rng.uniform(x0, x1, m)
        y = rng.uniform(y0, y1, m)
        u = rng.uniform(0.0, density_max, m)
        ok = shapely.contains_xy(county_km, x, y)
        ok[ok] &= u[ok] < density(x[ok], y[ok])
        pts = np.column_stack([x[ok], y[ok]])
        out.append(pts[: n - have])
        have += len(out[-1])
    return np.vstack(out) if out else np.empty((0, 2))


def densify_warp(
    polys: np.ndarray,
    step: Callable[[Array, Array], Array],
    warp: Warp | None,
    frame: LocalFrame,
) -> np.ndarray:
    """Subdivide every edge canonically, warp, and convert km → degrees.

    Parameters
    ----------
    polys : numpy.ndarray of Polygon
        Single-ring polygons in km (Voronoi cells).
    step : callable
        ``step(x, y)`` → target segment length (km) at an edge midpoint.
    warp : Warp or None
        Displacement applied to every vertex (km).
    frame : LocalFrame
        Conversion to degrees.

    Returns
    -------
    numpy.ndarray of Polygon
        Lon/lat polygons, in the input order.
    """
    _, coords, (ring_off, poly_off) = shapely.to_ragged_array(polys)
    n_rings = len(ring_off) - 1
    n_coords = len(coords)
    last = np.zeros(n_coords, dtype=bool)
    last[ring_off[1:] - 1] = True
    start = np.flatnonzero(~last)
    ring_of_edge = np.repeat(np.arange(n_rings), np.diff(ring_off) - 1)
    p = coords[start]
    q = coords[start + 1]
    swap = (p[:, 0] > q[:, 0]) | ((p[:, 0] == q[:, 0]) & (p[:, 1] > q[:, 1]))
    a = np.where(swap[:, None], q, p)
    b = np.where(swap[:, None], p, q)
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    mid = a + 0.5 * d
    seg = step(mid[:, 0], mid[:, 1])
    n = np.clip(np.rint(length / seg), 1, MAX_SUBDIVISIONS).astype(np.int64)
    del mid, seg, length
    total = int(n.sum())
    e = np.repeat(np.arange(len(n)), n)
    first = np.cumsum(n) - n
    m = np.arange(total, dtype=np.int64) - first[e]
    ne = n[e]
    j = np.where(swap[e], ne - m, m)
    frac = j / ne
    pts = a[e] + d[e] * frac[:, None]
    at_vertex = m == 0
    pts[at_vertex] = p[e[at_vertex]]
    del j, frac, m, ne, a, b, d, p, q
    ring_of_pt = ring_of_edge[e]
    per_ring = np.bincount(ring_of_edge, weights=n, minlength=n_rings).astype(np.int64) + 1
    new_off = np.zeros(n_rings + 1, dtype=np.int64)
    np.cumsum(per_ring, out=new_off[1:])
    out = np.empty((total + n_rings, 2))
    out[np.arange(total) + ring_of_pt] = pts
    out[new_off[1:] - 1] = out[new_off[:-1]]
    del pts, e, ring_of_pt
    if warp is not None:
        wx, wy = warp(out[:, 0], out[:, 1])
        out[:, 0] = wx
        out[:, 1] = wy
    out = frame.xy_to_deg(out)
    out = on_grid(out)
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, out, (new_off, np.asarray(poly_off, dtype=np.int64)))


def tessellate_county(
    county_deg,
    points_km: Array,
    frame: LocalFrame,
    step: Callable[[Array, Array], Array],
    warp: Warp | None,
    margin_km: float,
) -> CountyCells:
    """Warped Voronoi coverage of one county, clipped to its boundary.

    Parameters
    ----------
    county_deg : shapely geometry
        County polygon, lon/lat.
    points_km : numpy.ndarray, shape (n, 2)
        Seed points inside the county (km).
    frame : LocalFrame
        km frame of the region.
    step : callable
        Target segment length at a location (km).
    warp : Warp or None
        Homeomorphic displacement of the vertices.
    margin_km : float
        Width of the band kept around the county before warping; must exceed
        the warp's largest displacement.

    Returns
    -------
    CountyCells
    """
    county_deg = shapely.set_precision(county_deg, GRID)
    county_km = frame.geom_to_km(county_deg)
    x0, y0, x1, y1 = shapely.bounds(county_km)
    env = shapely.box(x0 - 2 * margin_km, y0 - 2 * margin_km, x1 + 2 * margin_km, y1 + 2 * margin_km)
    diagram = shapely.voronoi_polygons(shapely.multipoints(points_km), extend_to=env, ordered=True)
    cells_km = shapely.get_parts(diagram)
    del diagram
    if len(cells_km) != len(points_km):  # pragma: no cover - GEOS guarantees one cell per point
        raise RuntimeError("Voronoi diagram lost cells")
    # Outer cells fan out to the envelope as long needles that a warp could
    # fold; cut them back to a band around the county first (the cut edges
    # stay outside the county after the warp, so they never reach the result).
    band = shapely.buffer(county_km, margin_km, quad_segs=2)
    shapely.prepare(band)
    outer = np.flatnonzero(~shapely.contains_properly(band, cells_km))
    cell_of = np.arange(len(cells_km))
    if len(outer):
        cut = shapely.intersection(cells_km[outer], band)
        parts, owner = shapely.get_parts(cut, return_index=True)
        keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0.0)
        inner = np.ones(len(cells_km), dtype=bool)
        inner[outer] = False
        cells_km = np.concatenate([cells_km[inner], parts[keep]])
        cell_of = np.concatenate([cell_of[inner], outer[owner[keep]]])
    if warp is not None:
        rx, ry = warp(points_km[:, 0], points_km[:, 1])
    else:
        rx, ry = points_km[:, 0], points_km[:, 1]
    rep_deg = frame.xy_to_deg(np.column_stack([rx, ry]))
    shapely.prepare(county_deg)
    geoms: list[np.ndarray] = []
    reps: list[Array] = []
    cells: list[NDArray[np.int64]] = []
    repaired = 0
    for c0 in range(0, len(cells_km), CHUNK):
        chunk = densify_warp(cells_km[c0 : c0 + CHUNK], step, warp, frame)
        idx = cell_of[c0 : c0 + len(chunk)]
        bad = np.flatnonzero(~shapely.is_valid(chunk))
        if len(bad):  # not expected for warp amplitudes ≤ 0.15; keep the output valid anyway
            chunk[bad] = shapely.make_valid(chunk[bad])
            repaired += len(bad)
        inside = shapely.contains_properly(county_deg, chunk)
        geoms.append(chunk[inside])
        reps.append(rep_deg[idx[inside]])
        cells.append(idx[inside])
        cut = np.flatnonzero(~inside)
        if len(cut):
            clipped = shapely.intersection(chunk[cut], county_deg, grid_size=GRID)
            parts, owner = shapely.get_parts(clipped, return_index=True)
            keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0.0)
            parts = parts[keep]
            owner = cut[owner[keep]]
            geoms.append(parts)
            reps.append(shapely.get_coordinates(shapely.point_on_surface(parts)))
            cells.append(idx[owner])
    return CountyCells(
        geoms=np.concatenate(geoms),
        rep=np.vstack(reps),
        cell=np.concatenate(cells).astype(np.int64),
        repaired=repaired,
    )
