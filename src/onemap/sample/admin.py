"""Synthetic towns (乡级) and villages (村级调查区) inside a county.

Village seats are spread over the county (denser where parcels are dense);
each town's seat is one of them. A village owns the parcels nearest to its
seat in a warped metric, so village borders follow parcel edges and look
irregular; a town is the union of the villages nearest to its seat.
Codes follow the statistical convention: 街道 001–, 镇 100–, 乡 200–;
社区 001–, 村 200–.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from onemap.sample.config import County, Names
from onemap.sample.fields import LocalFrame, Warp

Array = NDArray[np.float64]

_TOWN_BASE = {"街道": 1, "镇": 100, "乡": 200}


@dataclass
class Villages:
    """Villages of one county.

    Attributes
    ----------
    seats : numpy.ndarray, shape (n, 2)
        Village seats (km).
    town : numpy.ndarray of int
        Index of the town (in the county's ``towns`` order) of each village.
    codes : list of str
        12-digit village codes (6 county + 3 town + 3 village).
    names : list of str
        Village / community names.
    town_codes : list of str
        9-digit code of every town.
    town_seats : numpy.ndarray, shape (t, 2)
        Town seats (km), moved inside the county where needed.
    moved : list of str
        Towns whose configured seat was outside the county.
    """

    seats: Array
    town: NDArray[np.int64]
    codes: list[str]
    names: list[str]
    town_codes: list[str]
    town_seats: Array
    moved: list[str]


def place_inside(county_km, xy: tuple[float, float], min_inset_km: float = 0.5) -> Array:
    """A point inside the polygon near ``xy`` (``xy`` itself when already inside).

    Parameters
    ----------
    county_km : shapely geometry
        Polygon in km.
    xy : tuple of float
        Wanted location (km).
    min_inset_km : float
        Minimum distance from the border for a moved point.
    """
    p = shapely.Point(xy)
    if shapely.contains(county_km, p):
        return np.array(xy, dtype=float)
    inner = shapely.buffer(county_km, -min_inset_km)
    target = inner if not shapely.is_empty(inner) else county_km
    for r in (2.0, 5.0, 10.0, 20.0, 50.0, 200.0):
        near = shapely.intersection(target, shapely.buffer(p, r))
        if not shapely.is_empty(near):
            q = shapely.point_on_surface(near)
            return np.array([shapely.get_x(q), shapely.get_y(q)])
    q = shapely.point_on_surface(county_km)
    return np.array([shapely.get_x(q), shapely.get_y(q)])


def _nearest(points: Array, seats: Array, chunk: int = 65_536) -> NDArray[np.int64]:
    """Index of the nearest seat of every point (brute force, chunked)."""
    out = np.empty(len(points), dtype=np.int64)
    sx = seats[:, 0][None, :]
    sy = seats[:, 1][None, :]
    for i in range(0, len(points), chunk):
        p = points[i : i + chunk]
        d = (p[:, 0:1] - sx) ** 2 + (p[:, 1:2] - sy) ** 2
        out[i : i + chunk] = d.argmin(axis=1)
    return out


def make_villages(
    county: County,
    county_km,
    n_villages: int,
    density,
    density_max: float,
    names: Names,
    used_names: set[str],
    frame: LocalFrame,
    rng: np.random.Generator,
) -> Villages:
    """Place the village seats of a county and give them codes and names.

    Parameters
    ----------
    county : County
        Configuration (towns with seats).
    county_km : shapely geometry
        County polygon in km.
    n_villages : int
        Number of villages (at least the number of towns).
    density : callable
        Parcel density ``density(x, y)`` (km); seats follow its square root.
    density_max : float
        Upper bound of ``density``.
    names : Names
        Name pools.
    used_names : set of str
        Names already taken in the region (updated).
    frame : LocalFrame
        km frame of the region.
    rng : numpy.random.Generator
        Stream for the seats and names.

    Returns
    -------
    Villages
    """
    shapely.prepare(county_km)
    towns = county.towns
    moved = []
    tseats = []
    for t in towns:
        x, y = frame.to_km(t.center[0], t.center[1])
        q = place_inside(county_km, (float(x), float(y)))
        if not np.allclose(q, (x, y)):
            moved.append(t.name)
        tseats.append(q)
    town_seats = np.array(tseats)
    n_villages = max(n_villages, len(towns))
    seats = list(town_seats)
    # best-candidate sampling: spread seats, denser where parcels are dense
    x0, y0, x1, y1 = shapely.bounds(county_km)
    smax = np.sqrt(density_max)
    pool = np.empty((0, 2))
    while len(seats) < n_villages:
        if len(pool) < 16:
            m = 8192
            cx = rng.uniform(x0, x1, m)
            cy = rng.uniform(y0, y1, m)
            ok = shapely.contains_xy(county_km, cx, cy)
            ok[ok] &= rng.uniform(0, smax, ok.sum()) < np.sqrt(density(cx[ok], cy[ok]))
            pool = np.vstack([pool, np.column_stack([cx[ok], cy[ok]])])
            continue
        cand = pool[:16]
        pool = pool[16:]
        s = np.array(seats)
        d = np.sqrt(((cand[:, None, :] - s[None, :, :]) ** 2).sum(-1)).min(axis=1)
        d *= np.sqrt(density(cand[:, 0], cand[:, 1])) ** 0.5
        seats.append(cand[int(d.argmax())])
    seats_arr = np.array(seats)
    town_of = _nearest(seats_arr, town_seats)
    town_of[: len(towns)] = np.arange(len(towns))
    # codes and names
    county_code = county.code
    counters: dict[str, int] = {}
    town_codes = []
    for t in towns:
        base = _TOWN_BASE[t.kind]
        k = counters.get(t.kind, 0)
        counters[t.kind] = k + 1
        town_codes.append(f"{county_code}{base + k:03d}")
    codes = [""] * len(seats_arr)
    vnames = [""] * len(seats_arr)
    prefixes = list(names.village_prefix)
    suffixes = list(names.village_suffix)
    for ti, t in enumerate(towns):
        members = np.flatnonzero(town_of == ti)
        dist = np.hypot(*(seats_arr[members] - town_seats[ti]).T)
        members = members[np.lexsort((members, dist))]
        n_comm = 0
        n_vill = 0
        for rank, vi in enumerate(members):
            community = t.kind == "街道" or (t.kind == "镇" and rank == 0)
            if community:
                n_comm += 1
                codes[vi] = f"{town_codes[ti]}{n_comm:03d}"
                vnames[vi] = _draw_name(rng, names.community_prefix, [""], "社区", used_names, t.name)
            else:
                codes[vi] = f"{town_codes[ti]}{199 + n_vill + 1:03d}"
                n_vill += 1
                vnames[vi] = _draw_name(rng, prefixes, suffixes, "村", used_names, t.name)
    return Villages(
        seats=seats_arr,
        town=town_of.astype(np.int64),
        codes=codes,
        names=vnames,
        town_codes=town_codes,
        town_seats=town_seats,
        moved=moved,
    )


def _draw_name(
    rng: np.random.Generator,
    prefixes: list[str],
    suffixes: list[str],
    ending: str,
    used: set[str],
    town_name: str,
) -> str:
    """A name not used yet in the region."""
    for _ in range(200):
        name = prefixes[int(rng.integers(len(prefixes)))] + suffixes[int(rng.integers(len(suffixes)))] + ending
        if name not in used:
            used.add(name)
            return name
    stem = town_name.rstrip("街道镇乡")
    k = 1
    while f"{stem}{k}{ending}" in used:
        k += 1
    used.add(f"{stem}{k}{ending}")
    return f"{stem}{k}{ending}"


def assign_villages(points_km: Array, seats: Array, warp: Warp | None) -> NDArray[np.int64]:
    """Village of every parcel: nearest seat after a smooth warp of the parcels.

    Parameters
    ----------
    points_km : numpy.ndarray, shape (n, 2)
        A point inside every parcel (km).
    seats : numpy.ndarray, shape (v, 2)
        Village seats (km).
    warp : Warp or None
        Irregularity of the borders.
    """
    if warp is not None:
        wx, wy = warp(points_km[:, 0], points_km[:, 1])
        pts = np.column_stack([wx, wy])
    else:
        pts = points_km
    return _nearest(pts, seats)
