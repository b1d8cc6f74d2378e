"""Control lines: 自然保护地, 生态保护红线, 城镇开发边界, 永久基本农田.

* ZRBHD — the configured reserves with a 核心保护区 (inner part) and a
  一般控制区 (the rest), split by county.
* STBHHX — reserves grown by a buffer, river corridors and extra polygons;
  pieces never overlap each other.
* CZKFBJ — around the configured town seats: the built-up parcels closed by
  a buffer, minus the red line (the two control lines must not overlap).
* YJJBNTTB — the better, flatter 耕地 parcels outside both lines, plus a few
  deliberately planted parcels inside the development boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from onemap.geo.area import ellipsoidal_area
from onemap.geo.polygonal import polygonal_or_none as _polygonal
from onemap.sample.config import RegionConfig, Reserve
from onemap.sample.fields import LocalFrame

#: Overlap below this (m²) counts as touching only.
TOUCH_M2 = 1.0


def reserve_geometry(res: Reserve, frame: LocalFrame):
    """Outline of a reserve (lon/lat)."""
    if res.polygons:
        geom = shapely.union_all([shapely.Polygon(p) for p in res.polygons])
    elif res.line:
        geom = frame.geom_to_deg(shapely.buffer(frame.geom_to_km(shapely.LineString(res.line)), res.buffer_m / 1000.0))
    else:  # pragma: no cover - validated by the config
        raise ValueError(f"reserve {res.id} has no geometry")
    return shapely.make_valid(geom)


def core_zone(res: Reserve, outline, frame: LocalFrame):
    """核心保护区: the configured polygons, else an inward buffer.

    The buffer distance is chosen so that the core holds ``core_fraction`` of
    the outline's area.
    """
    if res.core:
        return shapely.intersection(shapely.union_all([shapely.Polygon(p) for p in res.core]), outline)
    km = frame.geom_to_km(outline)
    target = res.core_fraction * shapely.area(km)
    lo, hi = 0.0, float(np.sqrt(shapely.area(km)))
    best = km
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        inner = shapely.buffer(km, -mid, quad_segs=4)
        if shapely.area(inner) > target:
            lo, best = mid, inner
        else:
            hi = mid
    return shapely.intersection(frame.geom_to_deg(best), outline)


@dataclass
class ControlPiece:
    """One row of a control layer before it becomes a GeoDataFrame."""

    geom: object
    county: int
    attrs: dict


def split_by_county(geom, counties: np.ndarray) -> list[tuple[int, object]]:
    """Pieces of ``geom`` in each county (county index, polygonal geometry)."""
    out = []
    for i, c in enumerate(counties):
        if not shapely.intersects(geom, c):
            continue
        piece = _polygonal(shapely.intersection(geom, c))
        if piece is not None and ellipsoidal_area([piece])[0] > TOUCH_M2:
            out.append((i, piece))
    return out


def build_reserves(
    cfg: RegionConfig, counties: np.ndarray, frame: LocalFrame
) -> tuple[list[ControlPiece], dict[str, object]]:
    """ZRBHD rows and the outline of every reserve (by id)."""
    rows: list[ControlPiece] = []
    outlines: dict[str, object] = {}
    region = shapely.union_all(counties)
    for res in cfg.reserves:
        outline = _polygonal(shapely.intersection(reserve_geometry(res, frame), region))
        if outline is None:
            continue
        outlines[res.id] = outline
        core = _polygonal(core_zone(res, outline, frame))
        general = _polygonal(shapely.difference(outline, core)) if core is not None else outline
        for zone, geom in (("核心保护区", core), ("一般控制区", general)):
            if geom is None:
                continue
            for ci, piece in split_by_county(geom, counties):
                rows.append(
                    ControlPiece(
                        piece,
                        ci,
                        {
                            "ZRBHDMC": res.name,
                            "ZRBHDLX": res.kind,
                            "JB": res.level,
                            "PZWH": res.approval,
                            "GLJG": res.authority,
                            "GNFQ": zone,
                        },
                    )
                )
    return rows, outlines


def build_redlines(
    cfg: RegionConfig,
    counties: np.ndarray,
    frame: LocalFrame,
    reserve_outlines: dict[str, object],
) -> list[ControlPiece]:
    """STBHHX rows; later pieces lose what earlier pieces already cover."""
    rows: list[ControlPiece] = []
    taken = None
    region = shapely.union_all(counties)
    for rl in cfg.redlines:
        if rl.reserve is not None:
            base = reserve_outlines.get(rl.reserve)
            if base is None:
                continue
            km = frame.geom_to_km(base)
        elif rl.line is not None:
            km = frame.geom_to_km(shapely.LineString(rl.line))
        else:
            km = frame.geom_to_km(shapely.Polygon(rl.polygon))
        if rl.buffer_m > 0:
            km = shapely.buffer(km, rl.buffer_m / 1000.0, quad_segs=4)
        geom = shapely.intersection(shapely.make_valid(frame.geom_to_deg(km)), region)
        if taken is not None:
            geom = shapely.difference(geom, taken)
        geom = _polygonal(geom)
        if geom is None:
            continue
        taken = geom if taken is None else shapely.union(taken, geom)
        for ci, piece in split_by_county(geom, counties):
            rows.append(ControlPiece(piece, ci, {"HXMC": rl.name, "HXLX": rl.type}))
    return rows


def build_dev_boundaries(
    cfg: RegionConfig,
    counties: np.ndarray,
    frame: LocalFrame,
    town_seats_km: list[NDArray[np.float64]],
    parcels: np.ndarray,
    parcel_rep_km: NDArray[np.float64],
    parcel_county: NDArray[np.int64],
    built: NDArray[np.bool_],
    redline,
    close_km: float = 0.4,
) -> list[ControlPiece]:
    """CZKFBJ rows around the towns that have ``kfbj_km``.

    Parameters
    ----------
    cfg : RegionConfig
        Region parameters (towns with ``kfbj_km``).
    counties : numpy.ndarray
        County polygons (lon/lat).
    frame : LocalFrame
        km frame used for the buffers.
    town_seats_km : list of numpy.ndarray
        Per county, the (t, 2) seats of its towns (km).
    parcels : numpy.ndarray
        DLTB geometries.
    parcel_rep_km : numpy.ndarray
        A point inside every parcel (km).
    parcel_county : numpy.ndarray of int
        County index of every parcel.
    built : numpy.ndarray of bool
        Parcels that are 城镇 construction land.
    redline : shapely geometry or None
        Union of the 生态保护红线, removed from the result.
    close_km : float
        Closing distance joining the built-up parcels.
    """
    rows: list[ControlPiece] = []
    min_piece_m2 = 2e5
    for ci, county in enumerate(cfg.counties):
        county_km = frame.geom_to_km(counties[ci])
        for ti, town in enumerate(county.towns):
            if town.kfbj_km <= 0:
                continue
            cx, cy = town_seats_km[ci][ti]
            d = np.hypot(parcel_rep_km[:, 0] - cx, parcel_rep_km[:, 1] - cy)
            sel = np.flatnonzero(built & (parcel_county == ci) & (d < town.kfbj_km))
            core = shapely.buffer(shapely.Point(cx, cy), 0.3 * town.kfbj_km, quad_segs=8)
            if len(sel):
                try:
                    merged = shapely.coverage_union_all(parcels[sel])
                    if not shapely.is_valid(merged):
                        merged = shapely.union_all(parcels[sel])
                except shapely.errors.GEOSException:
                    merged = shapely.union_all(parcels[sel])
                km = frame.geom_to_km(merged)
                km = shapely.buffer(shapely.buffer(km, close_km, quad_segs=4), -0.6 * close_km)
                km = shapely.union(km, core)
            else:
                km = core
            km = shapely.simplify(km, 0.01)
            geom = shapely.intersection(frame.geom_to_deg(km), counties[ci])
            if redline is not None:
                geom = shapely.difference(geom, redline)
            geom = _polygonal(shapely.make_valid(geom))
            if geom is None:
                continue
            parts = shapely.get_parts(geom)
            parts = parts[ellipsoidal_area(parts) >= min_piece_m2]
            if len(parts) == 0:
                continue
            geom = shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
            rows.append(ControlPiece(geom, ci, {"TOWN": town.name}))
        del county_km
    return rows


def overlap_area(geoms: np.ndarray, other, candidates: NDArray[np.int64]) -> NDArray[np.float64]:
    """Ellipsoidal overlap (m²) of ``geoms[candidates]`` with ``other``."""
    out = np.zeros(len(geoms))
    if other is None or len(candidates) == 0:
        return out
    inter = shapely.intersection(geoms[candidates], other)
    out[candidates] = ellipsoidal_area(inter)
    return out


def touching(geoms: np.ndarray, tree: shapely.STRtree, other) -> NDArray[np.int64]:
    """Indices of ``geoms`` whose envelope meets ``other``'s parts."""
    if other is None:
        return np.zeros(0, dtype=np.int64)
    parts = shapely.get_parts(other)
    _, idx = tree.query(parts, predicate="intersects")
    return np.unique(idx)
