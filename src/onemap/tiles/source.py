"""A layer version prepared for cutting vector tiles (EPSG:3857, XYZ scheme).

:class:`TileSource` converts a GeoDataFrame (EPSG:4490, treated as WGS 84 for
display, as every web map does) once into flat NumPy arrays in *world units*
(Web Mercator scaled to [0, 1], y down), with one envelope per feature in an
STRtree. A tile is then:

1. the features whose envelope meets the tile (one STRtree query);
2. their rings gathered from the flat arrays (no Shapely objects); features
   much larger than the tile are clipped with GEOS (``clip_by_rect``) first,
   so no coordinate lies far outside the tile;
3. coordinates quantised to the tile grid, repeated vertices dropped,
   collapsed rings dropped (with their holes), rings oriented as MVT wants;
4. the vectorised encoder of :mod:`onemap.tiles.mvt`.

Zooms up to ``level_max_zoom`` (default 13) use **pre-generalised levels**:
the whole layer is snapped once to the world-aligned grid of that zoom
(:meth:`TileSource.snap`: 1/256 of a tile up to z10, 1/512 at z11–z12,
1/2048 at z13–z14, 1/4096 above; the tile's MVT ``extent`` is that grid),
repeated and collinear vertices and collapsed rings are dropped and rings
oriented, once; lower levels are derived from the level above. A tile then
only gathers and shifts already-clean integer rings. Snapping a coverage to a
world-aligned grid keeps shared edges shared: neighbouring patches stay
gap-free. Up to ``merge_max_zoom`` (z12) the patches of one attribute class
(e.g. one DLBM) in a tile are also **merged into one multipolygon feature**
(no per-patch feature id), which is what a land-use map draws at that scale;
identify goes through the API instead.

Properties carried in tiles: the attribute columns with few distinct values
(``max_values``, default 256: DLBM, DLMC, …), the same at every zoom; the
feature id (row number + 1, the same id as the OGC API items) at zooms above
the merged levels.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from onemap.tiles import mvt

_MAX_LAT = 85.0511287798066


def lonlat_to_world(lon: NDArray, lat: NDArray) -> tuple[NDArray, NDArray]:
    """Web Mercator in world units: x, y in [0, 1], origin top-left, y down.

    Examples
    --------
    >>> [round(float(v), 6) for v in lonlat_to_world(np.array([0.0]), np.array([0.0]))[0]]
    [0.5]
    """
    lat = np.clip(np.asarray(lat, dtype=np.float64), -_MAX_LAT, _MAX_LAT)
    x = (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0
    y = 0.5 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / (2 * np.pi)
    return x, y


def tile_bounds_lonlat(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of an XYZ tile in degrees."""
    n = 2.0**z

    def lat(t: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


def _ragged_take(offsets: NDArray[np.int64], idx: NDArray[np.int64]):
    """Flat element indices and counts of segments ``idx`` of a ragged array."""
    starts = offsets[idx]
    counts = offsets[idx + 1] - starts
    first = np.cumsum(counts) - counts
    flat = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(starts - first, counts)
    return flat, counts


@dataclass
class _Rings:
    """Rings in tile or grid coordinates, grouped by feature.

    ``x, y`` vertices ring after ring; ``ring_n`` vertices per ring;
    ``ring_feat`` the (source) feature index of each ring, features contiguous.
    """

    x: NDArray[np.int64]
    y: NDArray[np.int64]
    ring_n: NDArray[np.int64]
    ring_feat: NDArray[np.int64]

    @staticmethod
    def empty() -> _Rings:
        z = np.zeros(0, dtype=np.int64)
        return _Rings(z, z.copy(), z.copy(), z.copy())

    @staticmethod
    def concat(parts: list[_Rings]) -> _Rings:
        parts = [p for p in parts if p.ring_n.size]
        if not parts:
            return _Rings.empty()
        if len(parts) == 1:
            return parts[0]
        return _Rings(*(np.concatenate([getattr(p, f) for p in parts])
                        for f in ("x", "y", "ring_n", "ring_feat")))


def clean_rings(
    x: NDArray[np.int64],
    y: NDArray[np.int64],
    ring_off: NDArray[np.int64],
    ring_kind: NDArray[np.int64],
    ring_hole: NDArray[np.bool_],
    ring_ext: NDArray[np.int64],
    *,
    closed: bool = True,
    simplify: bool = False,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Clean quantised rings for MVT.

    Drops the closing vertex of polygon rings and repeated vertices, drops
    polygon rings with fewer than three vertices or zero area (and every
    hole of a dropped exterior ring) and lines with fewer than two vertices,
    and orients polygon rings (exterior positive area by the surveyor's
    formula with y down, holes negative).

    Parameters
    ----------
    x, y : numpy.ndarray of int64
        Quantised vertices, ring after ring (polygon rings closed).
    ring_off : numpy.ndarray of int64
        Ring offsets into the vertices (length R + 1).
    ring_kind : numpy.ndarray of int64
        MVT type of each ring's feature.
    ring_hole : numpy.ndarray of bool
        Whether a polygon ring is an interior ring.
    ring_ext : numpy.ndarray of int64
        Index of the exterior ring of each ring's polygon (itself for
        exterior rings, lines and points).
    closed : bool
        Whether polygon rings repeat their first vertex at the end (True for
        rings from Shapely, False for rings already cleaned once).
    simplify : bool
        Also drop polygon vertices collinear with their two neighbours (and
        the spikes of snapping); shared edges stay shared.

    Returns
    -------
    x, y : numpy.ndarray
        Kept vertices, ring after ring.
    ring_n : numpy.ndarray
        Vertices per ring (R entries; 0 for dropped rings).
    keep : numpy.ndarray of bool
        Which rings are kept.
    """
    x = np.asarray(x, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    nring = ring_off.size - 1
    n = np.diff(ring_off)
    start0 = ring_off[:-1]
    poly = ring_kind == mvt.POLYGON
    keep = np.ones(x.size, dtype=bool)
    if closed:  # the closing vertex of polygon rings
        ends = poly & (n >= 2)
        keep[ring_off[1:][ends] - 1] = False
    if x.size > 1:  # repeated vertices (the previous vertex of the same ring)
        first = np.zeros(x.size, dtype=bool)
        first[start0[n > 0]] = True
        keep[1:] &= ~((x[1:] == x[:-1]) & (y[1:] == y[:-1]) & ~first[1:])
    x, y, nk, start = _compact(x, y, keep, start0, n)
    # a polygon ring whose last kept vertex repeats its first
    live = poly & (nk > 1)
    if live.any():
        s_, e_ = start[live], start[live] + nk[live] - 1
        rep = (x[s_] == x[e_]) & (y[s_] == y[e_])
        if rep.any():
            keep = np.ones(x.size, dtype=bool)
            keep[e_[rep]] = False
            x, y, nk, start = _compact(x, y, keep, start, nk)
    if simplify and x.size:
        # drop polygon vertices collinear with their neighbours (straight runs and spikes
        # of the snapped grid); a shared edge loses the same vertices on both sides
        ring3 = poly & (nk >= 3)
        px, py, qx, qy = _neighbours(x, y, start, nk)
        cross = (x - px) * (qy - y) - (y - py) * (qx - x)
        drop = (cross == 0) & np.repeat(ring3, nk)
        if drop.any():
            x, y, nk, start = _compact(x, y, ~drop, start, nk)
            if x.size > 1:
                first = np.zeros(x.size, dtype=bool)
                first[start[nk > 0]] = True
                same = (x[1:] == x[:-1]) & (y[1:] == y[:-1]) & ~first[1:]
                if same.any():
                    keep = np.ones(x.size, dtype=bool)
                    keep[1:] = ~same
                    x, y, nk, start = _compact(x, y, keep, start, nk)
    # validity and orientation
    valid = np.where(poly, nk >= 3, np.where(ring_kind == mvt.LINESTRING, nk >= 2, nk >= 1))
    area2 = np.zeros(nring, dtype=np.int64)
    if poly.any() and x.size:
        # twice the signed area (surveyor's formula); int64 wrap-around keeps differences exact
        c = np.empty(x.size, dtype=np.int64)
        c[:-1] = x[:-1] * y[1:] - x[1:] * y[:-1]
        has = nk > 0
        s_, e_ = start[has], start[has] + nk[has] - 1
        c[e_] = x[e_] * y[s_] - x[s_] * y[e_]
        cc = np.concatenate([[0], np.cumsum(c)])
        area2 = np.where(poly, cc[start + nk] - cc[start], 0)
    valid &= ~poly | (area2 != 0)
    valid &= valid[ring_ext]
    reverse = valid & poly & np.where(ring_hole, area2 > 0, area2 < 0)
    if reverse.any():
        rr = np.flatnonzero(reverse)
        flat, counts = _ragged_take(np.concatenate([start, [x.size]]), rr)
        rstart = np.repeat(start[rr], counts)
        src = rstart + np.repeat(start[rr] + counts - 1, counts) - flat
        x = x.copy()
        y = y.copy()
        x[flat], y[flat] = x[src], y[src]
    vkeep = np.repeat(valid, nk)
    x, y = x[vkeep], y[vkeep]
    nk = np.where(valid, nk, 0)
    return x, y, nk, valid


def _compact(x, y, keep, start, n):
    """Keep some vertices; return them with the new counts and starts of the rings."""
    ck = np.concatenate([[0], np.cumsum(keep)])
    nk = ck[start + n] - ck[start]
    return x[keep], y[keep], nk, ck[start]


def _neighbours(x, y, start, nk):
    """Previous and next vertex of every vertex, cyclic within its ring."""
    px = np.empty_like(x)
    py = np.empty_like(y)
    qx = np.empty_like(x)
    qy = np.empty_like(y)
    px[1:], py[1:] = x[:-1], y[:-1]
    qx[:-1], qy[:-1] = x[1:], y[1:]
    has = nk > 0
    s_, e_ = start[has], start[has] + nk[has] - 1
    px[s_], py[s_] = x[e_], y[e_]
    qx[e_], qy[e_] = x[s_], y[s_]
    return px, py, qx, qy


@dataclass
class _Level:
    """A layer snapped once to the world-aligned grid of one zoom (cleaned rings).

    Coordinates are grid integers at ``2**z * extent`` per world; a tile's
    local coordinates are ``x - tile_x * extent``.
    """

    x: NDArray[np.int64]
    y: NDArray[np.int64]
    ring_off: NDArray[np.int64]
    feat_ring_off: NDArray[np.int64]
    ring_kind: NDArray[np.int64]
    ring_hole: NDArray[np.bool_]
    ring_ext: NDArray[np.int64]
    extent: int


class TileSource:
    """One layer version, loaded for tile cutting.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The version (EPSG:4490 or any geographic CRS); row ``i`` gets feature
        id ``i + 1``.
    name : str
        MVT layer name (the dataset, e.g. ``"DLTB"``).
    max_values : int
        Attribute columns with at most this many distinct values go into the
        tiles.
    level_max_zoom : int
        Highest zoom served from pre-generalised levels.
    merge_max_zoom : int
        Highest zoom where the features of one attribute class are merged
        into one multipolygon and coordinates are snapped to a coarser grid
        (:meth:`snap`).
    buffer : int
        Tile buffer in tile units: features are taken this far beyond the
        tile edge, and clipped pieces keep this much beyond it.
    clip_margin : float
        Features reaching more than this fraction of a tile beyond its edge
        are clipped; smaller ones are kept whole (at most 1.5 tiles wide, well
        inside the coordinate range renderers accept).
    """

    def __init__(
        self,
        gdf: gpd.GeoDataFrame,
        name: str,
        *,
        max_values: int = 256,
        level_max_zoom: int = 13,
        merge_max_zoom: int = 12,
        buffer: int = 64,
        clip_margin: float = 0.5,
    ):
        self.name = name
        self.level_max_zoom = level_max_zoom
        self.merge_max_zoom = merge_max_zoom
        self.buffer = buffer
        self.clip_margin = clip_margin
        self._levels: dict[int, _Level] = {}
        self._lock = threading.Lock()
        geoms = np.asarray(gdf.geometry.array, dtype=object)
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        tid = shapely.get_type_id(geoms)
        codes_all, group_all = self._properties(gdf, max_values)
        # Internal order: by geometry type, then attribute class, then row, so that the
        # features of a tile, taken in index order, come grouped by class (merged tiles).
        order = np.lexsort((np.arange(len(gdf)), group_all))
        groups = [
            (mvt.POLYGON, order[(ok & np.isin(tid, (3, 6)))[order]]),
            (mvt.LINESTRING, order[(ok & np.isin(tid, (1, 5)))[order]]),
            (mvt.POINT, order[(ok & np.isin(tid, (0, 4)))[order]]),
        ]
        coords, ring_off, feat_ring_off, ring_hole, ring_ext, kinds, feat_rows = (
            [], [], [], [], [], [], [])
        vbase = rbase = 0
        for kind, mask in groups:
            if not mask.size:
                continue
            gtype, xy, offsets = shapely.to_ragged_array(geoms[mask], include_z=False)
            if kind == mvt.POLYGON:
                if len(offsets) == 2:  # plain Polygons: one polygon per feature
                    r_off, p_off = offsets
                    g_off = np.arange(p_off.size)
                else:
                    r_off, p_off, g_off = offsets
                f_ring = p_off[g_off]
                hole = np.ones(r_off.size - 1, dtype=bool)
                hole[p_off[:-1][np.diff(p_off) > 0]] = False
                ext = np.repeat(p_off[:-1], np.diff(p_off))
            elif kind == mvt.LINESTRING:
                if len(offsets) == 1:  # plain LineStrings
                    r_off, f_ring = offsets[0], np.arange(offsets[0].size)
                else:
                    r_off, f_ring = offsets
                hole = np.zeros(r_off.size - 1, dtype=bool)
                ext = np.arange(r_off.size - 1)
            else:
                r_off = np.arange(len(xy) + 1)
                f_ring = offsets[0] if offsets else np.arange(len(xy) + 1)
                hole = np.zeros(len(xy), dtype=bool)
                ext = np.arange(len(xy))
            coords.append(xy)
            ring_off.append(np.asarray(r_off[:-1], dtype=np.int64) + vbase)
            feat_ring_off.append(np.asarray(f_ring[:-1], dtype=np.int64) + rbase)
            ring_hole.append(hole)
            ring_ext.append(np.asarray(ext, dtype=np.int64) + rbase)
            kinds.append(np.full(mask.size, kind, dtype=np.int64))
            feat_rows.append(mask)
            vbase += len(xy)
            rbase += r_off.size - 1
        if coords:
            xy = np.concatenate(coords)
            self.ring_off = np.concatenate(ring_off + [[vbase]]).astype(np.int64)
            self.feat_ring_off = np.concatenate(feat_ring_off + [[rbase]]).astype(np.int64)
            self.ring_hole = np.concatenate(ring_hole)
            self.ring_ext = np.concatenate(ring_ext)
            self.kind = np.concatenate(kinds)
            self.rows = np.concatenate(feat_rows)
        else:
            xy = np.zeros((0, 2))
            self.ring_off = np.zeros(1, dtype=np.int64)
            self.feat_ring_off = np.zeros(1, dtype=np.int64)
            self.ring_hole = np.zeros(0, dtype=bool)
            self.ring_ext = np.zeros(0, dtype=np.int64)
            self.kind = np.zeros(0, dtype=np.int64)
            self.rows = np.zeros(0, dtype=np.int64)
        wx, wy = lonlat_to_world(xy[:, 0], xy[:, 1])
        self.wx, self.wy = wx, wy
        nfeat = self.kind.size
        self.ring_kind = np.repeat(self.kind, np.diff(self.feat_ring_off))
        self.ids = (self.rows + 1).astype(np.uint64)
        # envelopes and index
        if nfeat:
            fv = self.ring_off[self.feat_ring_off[:-1]]
            self.minx = np.minimum.reduceat(wx, fv)
            self.maxx = np.maximum.reduceat(wx, fv)
            self.miny = np.minimum.reduceat(wy, fv)
            self.maxy = np.maximum.reduceat(wy, fv)
        else:
            self.minx = self.maxx = self.miny = self.maxy = np.zeros(0)
        self.tree = shapely.STRtree(shapely.box(self.minx, self.miny, self.maxx, self.maxy))
        self.codes = codes_all[self.rows]
        self.group = group_all[self.rows]

    # ------------------------------------------------------------------ attributes
    def _properties(self, gdf: gpd.GeoDataFrame, max_values: int):
        """Pick the tile attributes; return their codes per row and a class id per row."""
        names, codes, values = [], [], []
        for col in gdf.columns:
            if col == gdf.geometry.name:
                continue
            series = gdf[col]
            if not (pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)
                    or pd.api.types.is_integer_dtype(series)
                    or pd.api.types.is_bool_dtype(series)):
                continue
            code, uniques = pd.factorize(series, use_na_sentinel=True)
            if len(uniques) > max_values:
                continue
            names.append(str(col))
            codes.append(code.astype(np.int64))
            values.append([_plain(v) for v in uniques])
        self.keys = names
        self.values = values
        self._encoded_values = [[mvt.encode_value(v) for v in vals] for vals in values]
        if not codes:
            return np.zeros((len(gdf), 0), dtype=np.int64), np.zeros(len(gdf), dtype=np.int64)
        matrix = np.stack(codes, axis=1)
        # class id = mixed-radix number of the codes (each code shifted by one for nulls)
        group = np.zeros(len(gdf), dtype=np.int64)
        for j in range(matrix.shape[1]):
            group = group * (len(values[j]) + 1) + matrix[:, j] + 1
        _, group = np.unique(group, return_inverse=True)
        return matrix, group.reshape(-1).astype(np.int64)

    # ------------------------------------------------------------------ levels
    def snap(self, z: int) -> int:
        """Grid step (in 4096ths of a tile) of zoom ``z``.

        16 up to z10, 8 up to the merged zooms (z12), 2 at z13–z14 (a quarter of
        a pixel of a 512-pixel tile), 1 above.
        """
        if z <= 10:
            return 16
        if z <= self.merge_max_zoom:
            return 8
        if z <= 14:
            return 2
        return 1

    def level(self, z: int) -> _Level:
        """The pre-generalised level of zoom ``z`` ≤ ``level_max_zoom`` (built once, then kept)."""
        lvl = self._levels.get(z)
        if lvl is not None:
            return lvl
        upper = self.level(z + 1) if z < self.level_max_zoom else None
        with self._lock:
            lvl = self._levels.get(z)
            if lvl is None:
                lvl = self._build_level(z, upper)
                self._levels[z] = lvl
        return lvl

    def prepare(self, zooms: range | list[int] | None = None) -> None:
        """Build the levels of ``zooms`` now (default: z10 … ``level_max_zoom``)."""
        if zooms is None:
            zooms = range(min(10, self.level_max_zoom), self.level_max_zoom + 1)
        self.level(self.level_max_zoom)  # the others are derived from it
        for z in sorted(zooms, reverse=True):
            if z <= self.level_max_zoom:
                self.level(z)

    def _build_level(self, z: int, upper: _Level | None) -> _Level:
        extent = mvt.EXTENT // self.snap(z)
        if upper is None:  # from the world coordinates
            scale = (2.0**z) * extent
            gx = np.rint(self.wx * scale).astype(np.int64)
            gy = np.rint(self.wy * scale).astype(np.int64)
            ring_off, feat_ring_off = self.ring_off, self.feat_ring_off
            kind, hole, ext, closed = self.ring_kind, self.ring_hole, self.ring_ext, True
        else:  # re-snap the level above (shared vertices stay shared)
            ratio = (2 * upper.extent) // extent
            gx = np.floor_divide(upper.x + ratio // 2, ratio)
            gy = np.floor_divide(upper.y + ratio // 2, ratio)
            ring_off, feat_ring_off = upper.ring_off, upper.feat_ring_off
            kind, hole, ext, closed = upper.ring_kind, upper.ring_hole, upper.ring_ext, False
        x, y, nk, valid = clean_rings(gx, gy, ring_off, kind, hole, ext, closed=closed,
                                      simplify=True)
        nfeat = feat_ring_off.size - 1
        ring_owner = np.repeat(np.arange(nfeat), np.diff(feat_ring_off))
        per_feat = np.bincount(ring_owner[valid], minlength=nfeat)
        new_index = np.cumsum(valid) - 1
        return _Level(
            x=x.astype(np.int32), y=y.astype(np.int32),
            ring_off=np.concatenate([[0], np.cumsum(nk[valid])]).astype(np.int64),
            feat_ring_off=np.concatenate([[0], np.cumsum(per_feat)]).astype(np.int64),
            ring_kind=kind[valid], ring_hole=hole[valid], ring_ext=new_index[ext[valid]],
            extent=extent,
        )

    # ------------------------------------------------------------------ tiles
    def features_in(self, z: int, x: int, y: int) -> NDArray[np.int64]:
        """Indices (internal order) of the features whose envelope meets the buffered tile."""
        n = 2.0**z
        pad = self.buffer / mvt.EXTENT
        box = shapely.box((x - pad) / n, (y - pad) / n, (x + 1 + pad) / n, (y + 1 + pad) / n)
        return np.sort(self.tree.query(box))

    def render(self, z: int, x: int, y: int) -> bytes:
        """Encode tile ``z/x/y`` (XYZ, EPSG:3857); ``b""`` when it holds nothing.

        Parameters
        ----------
        z, x, y : int
            Zoom and tile column/row (origin top-left).

        Returns
        -------
        bytes
            An MVT tile with one layer named after the source.
        """
        idx = self.features_in(z, x, y)
        if idx.size == 0:
            return b""
        n = 2.0**z
        pad = self.buffer / mvt.EXTENT
        rect = ((x - pad) / n, (y - pad) / n, (x + 1 + pad) / n, (y + 1 + pad) / n)
        # Only features reaching far beyond the tile are clipped (GEOS); a patch that
        # merely straddles the edge is kept whole (renderers clip at the tile edge).
        far = self.clip_margin
        big = ((self.minx[idx] < (x - far) / n) | (self.maxx[idx] > (x + 1 + far) / n)
               | (self.miny[idx] < (y - far) / n) | (self.maxy[idx] > (y + 1 + far) / n))
        inner, outer = idx[~big], idx[big]
        extent = mvt.EXTENT // self.snap(z)
        x0, y0 = x * extent, y * extent
        parts = []
        if inner.size:
            if z <= self.level_max_zoom:
                parts.append(self._from_level(self.level(z), inner, x0, y0))
            else:
                parts.append(self._from_world(inner, z, extent, x0, y0))
        if outer.size:
            parts.append(self._clipped(outer, z, extent, x0, y0, rect))
        rings = _Rings.concat(parts)
        if rings.ring_n.size == 0:
            return b""
        return self._encode(rings, z <= self.merge_max_zoom, extent)

    def _from_level(self, lvl: _Level, feats: NDArray[np.int64], x0: int, y0: int) -> _Rings:
        ring_idx, ring_count = _ragged_take(lvl.feat_ring_off, feats)
        vidx, ring_n = _ragged_take(lvl.ring_off, ring_idx)
        return _Rings(
            x=lvl.x[vidx].astype(np.int64) - x0,
            y=lvl.y[vidx].astype(np.int64) - y0,
            ring_n=ring_n,
            ring_feat=np.repeat(feats, ring_count),
        )

    def _from_world(self, feats: NDArray[np.int64], z: int, extent: int, x0: int,
                    y0: int) -> _Rings:
        ring_idx, ring_count = _ragged_take(self.feat_ring_off, feats)
        vidx, ring_n = _ragged_take(self.ring_off, ring_idx)
        scale = (2.0**z) * extent
        gx = np.rint(self.wx[vidx] * scale).astype(np.int64) - x0
        gy = np.rint(self.wy[vidx] * scale).astype(np.int64) - y0
        local_off = np.concatenate([[0], np.cumsum(ring_n)]).astype(np.int64)
        # ring_ext is a global ring index inside the same feature: shift it into the selection
        local_first = np.cumsum(ring_count) - ring_count
        ext = np.repeat(local_first - self.feat_ring_off[feats], ring_count) + self.ring_ext[ring_idx]
        xs, ys, nk, valid = clean_rings(gx, gy, local_off, self.ring_kind[ring_idx],
                                        self.ring_hole[ring_idx], ext, simplify=True)
        return _Rings(x=xs, y=ys, ring_n=nk[valid],
                      ring_feat=np.repeat(feats, ring_count)[valid])

    def _clipped(self, feats, z, extent, x0, y0, rect) -> _Rings:
        geoms = self._world_geoms(feats)
        clipped = shapely.clip_by_rect(geoms, *rect)
        keep = ~shapely.is_empty(clipped)
        feats, clipped = feats[keep], clipped[keep]
        if feats.size == 0:
            return _Rings.empty()
        sub = TileSource.__new__(TileSource)
        sub._init_world(clipped, self.kind[feats])
        scale = (2.0**z) * extent
        gx = np.rint(sub.wx * scale).astype(np.int64) - x0
        gy = np.rint(sub.wy * scale).astype(np.int64) - y0
        xs, ys, nk, valid = clean_rings(gx, gy, sub.ring_off, sub.ring_kind, sub.ring_hole,
                                        sub.ring_ext, simplify=True)
        owner = np.repeat(feats[sub.rows], np.diff(sub.feat_ring_off))
        return _Rings(x=xs, y=ys, ring_n=nk[valid], ring_feat=owner[valid])

    def _init_world(self, geoms: NDArray[np.object_], kinds: NDArray[np.int64]) -> None:
        """Minimal ragged arrays of world-unit geometries (for clipped pieces)."""
        ring_off, hole, ext, rows, ring_kind, xs, ys = [], [], [], [], [], [], []
        vbase = rbase = 0
        for kind in (mvt.POLYGON, mvt.LINESTRING, mvt.POINT):
            sel = np.flatnonzero(kinds == kind)
            if sel.size == 0:
                continue
            g = geoms[sel]
            if kind == mvt.POLYGON:
                g = shapely.get_parts(g, return_index=True)
                parts, owner = g
                parts_ok = shapely.get_type_id(parts) == 3
                parts, owner = parts[parts_ok], owner[parts_ok]
                if parts.size == 0:
                    continue
                rings, powner = shapely.get_rings(parts, return_index=True)
                nring = rings.size
                first = np.ones(nring, dtype=bool)
                first[1:] = powner[1:] != powner[:-1]
                ring_ext_local = np.maximum.accumulate(np.where(first, np.arange(nring), 0))
                fowner = owner[powner]
                geoms_r = rings
                hole.append(~first)
                ext.append(ring_ext_local + rbase)
            else:
                parts, fowner = shapely.get_parts(g, return_index=True)
                if kind == mvt.LINESTRING:
                    parts_ok = shapely.get_type_id(parts) == 1
                else:
                    parts_ok = shapely.get_type_id(parts) == 0
                parts, fowner = parts[parts_ok], fowner[parts_ok]
                if parts.size == 0:
                    continue
                geoms_r = parts
                hole.append(np.zeros(parts.size, dtype=bool))
                ext.append(np.arange(parts.size) + rbase)
            counts = shapely.get_num_coordinates(geoms_r)
            xy = shapely.get_coordinates(geoms_r)
            xs.append(xy[:, 0])
            ys.append(xy[:, 1])
            ring_off.append(np.cumsum(counts) - counts + vbase)
            # rings of one feature are contiguous (get_parts keeps order)
            feat_owner = sel[fowner]
            rows.append(feat_owner)
            ring_kind.append(np.full(geoms_r.size, kind, dtype=np.int64))
            vbase += int(counts.sum())
            rbase += geoms_r.size
        if not xs:
            z = np.zeros(0, dtype=np.int64)
            self.wx = self.wy = np.zeros(0)
            self.ring_off = np.zeros(1, dtype=np.int64)
            self.feat_ring_off = np.zeros(1, dtype=np.int64)
            self.ring_hole = np.zeros(0, dtype=bool)
            self.ring_ext = self.ring_kind = self.rows = z
            return
        self.wx = np.concatenate(xs)
        self.wy = np.concatenate(ys)
        self.ring_off = np.concatenate(ring_off + [[vbase]]).astype(np.int64)
        self.ring_hole = np.concatenate(hole)
        self.ring_ext = np.concatenate(ext).astype(np.int64)
        self.ring_kind = np.concatenate(ring_kind)
        ring_row = np.concatenate(rows)
        # one "feature" per run of rings with the same owner
        starts = np.flatnonzero(np.concatenate([[True], ring_row[1:] != ring_row[:-1]]))
        self.feat_ring_off = np.concatenate([starts, [ring_row.size]]).astype(np.int64)
        self.rows = ring_row[starts]

    def _world_geoms(self, feats: NDArray[np.int64]) -> NDArray[np.object_]:
        """Shapely geometries (world units) of some features, rebuilt from the flat arrays."""
        out = np.empty(feats.size, dtype=object)
        for i, f in enumerate(feats):
            r0, r1 = self.feat_ring_off[f], self.feat_ring_off[f + 1]
            rings = [
                np.column_stack([self.wx[self.ring_off[r]:self.ring_off[r + 1]],
                                 self.wy[self.ring_off[r]:self.ring_off[r + 1]]])
                for r in range(r0, r1)
            ]
            kind = self.kind[f]
            if kind == mvt.POLYGON:
                polys, cur = [], None
                for r, ring in zip(range(r0, r1), rings, strict=True):
                    if not self.ring_hole[r]:
                        cur = [ring, []]
                        polys.append(cur)
                    elif cur is not None:
                        cur[1].append(ring)
                out[i] = shapely.MultiPolygon([shapely.Polygon(s, h) for s, h in polys])
            elif kind == mvt.LINESTRING:
                out[i] = shapely.MultiLineString(rings)
            else:
                out[i] = shapely.MultiPoint(np.concatenate(rings))
        return out

    def _encode(self, rings: _Rings, merged: bool, extent: int) -> bytes:
        feat_of_ring = rings.ring_feat
        if merged:
            # one output feature per geometry type and attribute class
            # (internal order is polygons, lines, points, each by class: keys ascend)
            width = int(self.group.max(initial=0)) + 1
            gkey = (3 - self.kind[feat_of_ring]) * width + self.group[feat_of_ring]
        else:
            gkey = feat_of_ring  # rings of one feature are already together
        if merged and gkey.size > 1 and not bool(np.all(gkey[1:] >= gkey[:-1])):
            order = np.argsort(gkey, kind="stable")
            vstart = np.cumsum(rings.ring_n) - rings.ring_n
            off = np.concatenate([vstart, [rings.x.size]])
            vidx, _ = _ragged_take(off, order)
            rings = _Rings(rings.x[vidx], rings.y[vidx], rings.ring_n[order],
                           rings.ring_feat[order])
            gkey = gkey[order]
        new = np.ones(gkey.size, dtype=bool)
        new[1:] = gkey[1:] != gkey[:-1]
        ring_out = np.cumsum(new) - 1
        rep = rings.ring_feat[new]  # a source feature standing for each output feature
        ftype = self.kind[rep]
        tag_tokens, tag_counts, values = self._tags(rep)
        features = mvt.encode_features(
            rings.x, rings.y, rings.ring_n, ring_out, ftype,
            feature_ids=None if merged else self.ids[rep],
            tag_tokens=tag_tokens, tag_counts=tag_counts,
        )
        layer = mvt.encode_layer(self.name, features, self.keys, values, extent=extent)
        return mvt.encode_tile([layer])

    def _tags(self, feats: NDArray[np.int64]):
        k = len(self.keys)
        if k == 0:
            return None, None, []
        codes = self.codes[feats]  # (n, k)
        local = np.empty_like(codes)
        values: list[bytes] = []
        for j in range(k):
            col = codes[:, j]
            used = np.unique(col[col >= 0])
            local[:, j] = len(values) + np.searchsorted(used, col)
            enc = self._encoded_values[j]
            values.extend(enc[u] for u in used)
        present = codes >= 0
        pairs = np.stack([np.broadcast_to(np.arange(k), codes.shape), local], axis=2)
        tag_tokens = pairs[present].reshape(-1).astype(np.uint64)
        tag_counts = 2 * present.sum(axis=1).astype(np.int64)
        return tag_tokens, tag_counts, values


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value
