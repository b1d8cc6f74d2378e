"""Tabulation of land classes inside and outside control zones (分区统计).

For every zone layer (永久基本农田 YJJBNTTB, 生态保护红线 STBHHX, 城镇开发边界
CZKFBJ, …) :func:`tabulate` gives, per statistical unit and land class
(DLBM), the area inside the layer and the area outside it; and
:func:`control_line_conflicts` finds where control lines that must not overlap
do overlap.

How the figures are made
------------------------
*Overlapping zone polygons.* Polygons of one layer may overlap (digitising
errors, or two plans over the same land); land inside two of them must count
once. The layer is not dissolved: uniting a layer of 10⁵ polygons is slow, gives
monster polygons that make every cut slow, and a self-overlap search over a
coverage-like layer (every polygon touches its neighbours) costs a relate per
neighbour pair, whereas overlaps are rare. Instead the overlap is resolved where
it matters, patch by patch: a patch wholly inside any zone polygon is inside
(whatever else covers it); for a patch cut by several zone polygons, the pieces
are tested pairwise for interior overlap (one DE-9IM matrix each) and, where they
overlap, its inside part is the union of its pieces. Touching, non-overlapping
zone polygons (the normal case) cost nothing extra. Conflicts are reported per
pair of features, so where a layer overlaps itself two conflict rows may
overlap too.

*Pieces.* One bulk STRtree query over the zone polygons finds candidate pairs.
A prepared ``contains_properly`` test settles every patch wholly inside a zone
polygon without cutting it. Zone layers drawn from DLTB (永久基本农田) are
mostly exact copies of patches, and their neighbours only touch them: a zone
polygon equal to a patch (same normalised coordinates) is that patch's alone —
DLTB is a partition (三调 topology: patches do not overlap) — and its other
candidate pairs need no test at all. For the remaining pairs, prepared
``intersects``, ``covers`` and ``touches`` tests sort out the bounding-box false
hits, the patches covered by the polygon (touching its boundary from inside:
whole, not cut) and those only touching it from outside (dropped); only patches
crossing a zone boundary are cut. Large zone polygons are split into parts
(recursive halving of the bounding box to at most ``max_vertices`` vertices,
like PostGIS ``ST_Subdivide``) and a crossing patch is cut against the part it
lies in, so a cut handles a hundred vertices instead of the thousands of a
red-line polygon. A patch whose interior meets several parts is cut against
the whole polygon: the official area treats edges as straight in (B, L), so a
vertex added on a long slanted patch edge where a subdivision line crosses it
would move the piece's area (by ~0.1 m² on an 800 m edge). Pieces are measured
with the official ellipsoidal area (:func:`onemap.geo.area.ellipsoidal_area`);
their geometry is not kept. Work is split into chunks of patches (a chunk holds
all pieces of its patches) run on a thread pool, as Shapely releases the GIL in
its vectorised operations; a task works on its own prepared copies of the zone
polygons it needs, since GEOS completes prepared geometries lazily and two
threads must not do that on one geometry at once.

*Reconciliation with the foundation table.* For a patch ``p`` and a zone layer
the cut piece is ``p ∩ layer`` (all parts of ``p`` inside the layer). Its
``area_m2`` is its ellipsoidal area. Its ``tbdlmj_m2`` share is, in integer
hundredths of m²:

- the patch's own TBDLMJ when the patch lies wholly inside the layer (less
  than half a hundredth of a m², or a millionth of the patch, of it outside),
  so wholly-inside patches add up to exactly the foundation figures;
- otherwise ``round(area × (1 − KCXS), 2)``, clamped to ``[0, TBDLMJ]``.

The outside share is the patch's TBDLMJ minus its inside share, so for every
unit, zone and class, inside + outside equals the foundation table
(:func:`onemap.analysis.stats.bulletin_table`) to the hundredth of a m².
The outside ``area_m2`` is the patch's ellipsoidal area minus the inside one.

*田坎 share.* A patch carrying a 田坎 deduction (KCXS > 0) has KCMJ = TBMJ −
TBDLMJ of 1203 田坎 in it. Where a zone cuts it, the piece's 田坎 share
(piece area × KCXS, official-tables.md §4) is reported as ``tiankan_m2`` beside
the net class area, in integer hundredths of m²: the whole KCMJ for a
wholly-inside patch, else ``round(area, 2)`` minus the net share, clamped to
``[0, KCMJ]``, so net + 田坎 of a cut piece is its area to the cent; the
outside 田坎 is KCMJ minus the inside one. KCMJ is the patch's own field, else
TBMJ − TBDLMJ, else ``round(area × KCXS, 2)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from onemap.analysis.overlay import intersect_pieces
from onemap.analysis.units import unit_codes
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area, ring_areas
from onemap.util import to_cents as _cents

#: Pairs of control lines that must not overlap (三区三线).
CONFLICT_PAIRS: tuple[tuple[str, str], ...] = (
    ("YJJBNTTB", "STBHHX"),
    ("YJJBNTTB", "CZKFBJ"),
    ("STBHHX", "CZKFBJ"),
)

#: Columns of :attr:`TabulationResult.rows` (``unit_name`` follows ``county`` when names are given).
ROW_COLUMNS = ["county", "zone", "inside", "dlbm", "area_m2", "tbdlmj_m2", "tiankan_m2"]

#: Columns of the conflict table besides ``geometry``.
CONFLICT_COLUMNS = ["zone_a", "zone_b", "county", "id_a", "id_b", "area_m2"]

#: A patch with less than ``max(WHOLE_TOLERANCE_M2, WHOLE_TOLERANCE_REL × its area)`` outside
#: a zone layer counts as wholly inside: half a hundredth of a m² (the resolution of TBDLMJ),
#: or a millionth of the patch for large patches, since the official area (edges straight
#: in B, L) of pieces cut along a long slanted edge does not add up exactly to the patch's.
WHOLE_TOLERANCE_M2 = 0.005
WHOLE_TOLERANCE_REL = 1e-6

#: Default maximum number of vertices of a zone part used for cutting.
MAX_VERTICES = 128

#: Default number of patches per work chunk.
CHUNK_SIZE = 20_000

#: Progress callback: ``progress(stage, done, total)``.
Progress = Callable[[str, int, int], None]


@dataclass
class TabulationResult:
    """Result of :func:`tabulate`.

    Attributes
    ----------
    rows : pandas.DataFrame
        One row per unit, zone layer, inside/outside and land class present in
        the unit: ``county`` (the unit code at the chosen level), optional
        ``unit_name``, ``zone``, ``inside`` (bool), ``dlbm``, ``area_m2``
        (ellipsoidal area of the pieces), ``tbdlmj_m2`` (statistical area,
        exact to the hundredth), ``tiankan_m2`` (the 1203 田坎 share of the
        class's patches with a 田坎 deduction, exact to the hundredth; 0 when
        none) and ``cents`` (``tbdlmj_m2`` as integer hundredths of m²).
    conflicts : geopandas.GeoDataFrame
        Overlaps between control lines that must not overlap, one row per
        overlapping pair of features and unit: ``zone_a``, ``zone_b``,
        ``county``, ``id_a``, ``id_b`` (BSM, else the index, of the two
        features), ``area_m2`` (official area of the row's geometry) and
        ``geometry`` (EPSG:4490).
    sources : dict
        Provenance and counts: the DLTB and zone inputs (their ``attrs["source"]``
        or the ``source`` argument, feature counts, repaired geometries, patches
        touched, wholly inside, and in overlapping zone polygons), the unit
        level and the parameters used.
    level : str
        Unit level of ``rows["county"]``.
    """

    rows: pd.DataFrame
    conflicts: gpd.GeoDataFrame
    sources: dict[str, Any] = field(default_factory=dict)
    level: str = "county"

    def to_records(self) -> list[dict[str, Any]]:
        """Rows as JSON-ready dicts (``inside`` as bool, areas as float)."""
        cols = [c for c in self.rows.columns if c != "cents"]
        out = []
        for rec in self.rows[cols].to_dict(orient="records"):
            rec["inside"] = bool(rec["inside"])
            rec["area_m2"] = float(rec["area_m2"])
            rec["tbdlmj_m2"] = float(rec["tbdlmj_m2"])
            rec["tiankan_m2"] = float(rec["tiankan_m2"])
            out.append(rec)
        return out


@dataclass
class _ZoneLayer:
    """A zone layer made ready for overlay: single polygons, prepared, subdivided."""

    name: str
    geoms: NDArray[np.object_]
    ids: NDArray[np.object_]
    parts: NDArray[np.object_]
    part_of: NDArray[np.intp]
    n_parts: NDArray[np.intp]
    normal: NDArray[np.object_]
    bounds: NDArray[np.float64]
    ncoords: NDArray[np.intp]
    feature_of: NDArray[np.intp]
    tree: shapely.STRtree
    part_tree: shapely.STRtree
    info: dict[str, Any]


def _copy_prepared(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Exact copies (WKB round trip keeps every coordinate bit), prepared."""
    out = shapely.from_wkb(shapely.to_wkb(geoms, output_dimension=2))
    shapely.prepare(out)
    return out


def _tree(geoms: NDArray[np.object_]) -> shapely.STRtree:
    tree = shapely.STRtree(geoms)
    tree.query(shapely.box(0, 0, 0, 0))  # build now, not during a query from a thread
    return tree


# --------------------------------------------------------------------------- inputs


def _lonlat(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4490, refusing planar data without a CRS."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what} 不是带几何的图层（GeoDataFrame）")
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4490"):
        if not gdf.crs.is_geographic:
            return gdf.to_crs("EPSG:4490")
        gdf = gdf.to_crs("EPSG:4490")
    if len(gdf):
        minx, miny, maxx, maxy = gdf.total_bounds
        if np.isfinite(minx) and (minx < -180 or maxx > 180 or miny < -90 or maxy > 90):
            raise InputError(
                f"{what} 的坐标不是经纬度（范围 {minx:.0f},{miny:.0f} – {maxx:.0f},{maxy:.0f}），"
                "且未声明坐标系；请先按 EPSG:4490 入库"
            )
    return gdf


def _feature_ids(gdf: pd.DataFrame) -> NDArray[np.object_]:
    """BSM of every feature when the layer has one, else its index label."""
    if "BSM" in gdf.columns:
        ids = gdf["BSM"].astype("string").fillna("").to_numpy(dtype=object)
        fallback = gdf.index.astype(str).to_numpy(dtype=object)
        return np.where(ids == "", fallback, ids)
    return gdf.index.astype(str).to_numpy(dtype=object)


def _explode_polygons(
    geoms: NDArray[np.object_],
) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """Single polygons of ``geoms`` and the index of the geometry each came from."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    multi = np.isin(shapely.get_type_id(parts), (6, 7))
    if multi.any():  # parts of geometry collections may themselves be multi
        sub, sidx = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], sub])
        idx = np.concatenate([idx[~multi], idx[multi][sidx]])
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    return parts[keep], idx[keep].astype(np.intp)


def _repair(geoms: NDArray[np.object_]) -> tuple[NDArray[np.object_], int]:
    """Make invalid polygons valid (keeping their polygonal part); return how many."""
    bad = np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_missing(geoms))
    if len(bad) == 0:
        return geoms, 0
    out = geoms.copy()
    out[bad] = shapely.make_valid(geoms[bad])
    return out, len(bad)


def _subdivide(
    geoms: NDArray[np.object_], max_vertices: int
) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """Split polygons into parts of at most ``max_vertices`` vertices.

    The bounding box of every polygon that is too big is halved across its
    longer side and the polygon clipped to both halves, recursively; the parts
    tile the polygon.

    Returns
    -------
    parts : numpy.ndarray of Polygon
    part_of : numpy.ndarray of int
        Index in ``geoms`` of the polygon each part belongs to.
    """
    out_parts: list[NDArray[np.object_]] = [np.empty(0, dtype=object)]
    out_of: list[NDArray[np.intp]] = [np.empty(0, dtype=np.intp)]
    todo, of = geoms, np.arange(len(geoms), dtype=np.intp)
    for _ in range(40):
        if len(todo) == 0:
            break
        small = shapely.get_num_coordinates(todo) <= max_vertices
        out_parts.append(todo[small])
        out_of.append(of[small])
        big, of_big = todo[~small], of[~small]
        if len(big) == 0:
            todo = big
            break
        b = shapely.bounds(big)
        midx, midy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        across_x = (b[:, 2] - b[:, 0]) >= (b[:, 3] - b[:, 1])
        lo = np.where(across_x[:, None], np.c_[b[:, :2], midx, b[:, 3]],
                      np.c_[b[:, :3], midy])
        hi = np.where(across_x[:, None], np.c_[midx, b[:, 1:]],
                      np.c_[b[:, 0], midy, b[:, 2:]])
        both, rects = np.concatenate([big, big]), np.concatenate([lo, hi])
        # clip_by_rect is a fast scan, but its output is not guaranteed valid: the
        # invalid ones are redone with an exact intersection.
        halves = np.array([shapely.clip_by_rect(geom, *rect)
                           for geom, rect in zip(both, rects, strict=True)], dtype=object)
        bad = ~shapely.is_valid(halves)
        if bad.any():
            halves[bad] = shapely.intersection(both[bad], shapely.box(*rects[bad].T))
        todo, pidx = _explode_polygons(halves)
        of = np.concatenate([of_big, of_big])[pidx]
    if len(todo):  # depth limit reached: keep what is left as it is
        out_parts.append(todo)
        out_of.append(of)
    return np.concatenate(out_parts), np.concatenate(out_of)


def _zone_layer(name: str, gdf: gpd.GeoDataFrame, *, max_vertices: int = MAX_VERTICES
                ) -> _ZoneLayer:
    """Prepare one zone layer: repair, explode to polygons, subdivide, index, prepare."""
    gdf = _lonlat(gdf, name)
    raw = np.asarray(gdf.geometry.values, dtype=object)
    raw, repaired = _repair(raw)
    polys, src = _explode_polygons(raw)
    info: dict[str, Any] = {
        "features": len(gdf),
        "repaired": repaired,
        "without_area": int(len(gdf) - len(np.unique(src))),
        "polygons": len(polys),
    }
    if "source" in gdf.attrs:
        info["source"] = gdf.attrs["source"]
    parts, part_of = _subdivide(polys, max_vertices)
    info["parts"] = len(parts)
    shapely.prepare(polys)
    shapely.prepare(parts)
    n_parts = np.bincount(part_of, minlength=len(polys))
    return _ZoneLayer(name, polys, _feature_ids(gdf)[src], parts, part_of, n_parts,
                      shapely.normalize(polys), shapely.bounds(polys),
                      shapely.get_num_coordinates(polys), src, _tree(polys), _tree(parts), info)


# --------------------------------------------------------------------------- overlay core


def _patch_areas(geoms: NDArray[np.object_]) -> NDArray[np.float64]:
    """Official area of each patch; simple polygons (no holes) take a fast path."""
    tid = shapely.get_type_id(geoms)
    simple = (tid == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    simple &= ~shapely.is_empty(geoms)
    out = np.zeros(len(geoms))
    s = np.flatnonzero(simple)
    if len(s):
        g = geoms[s]
        counts = shapely.get_num_coordinates(g)
        offsets = np.zeros(len(g) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        out[s] = ring_areas(shapely.get_coordinates(g), offsets)
    rest = np.flatnonzero(~simple)
    if len(rest):
        out[rest] = ellipsoidal_area(geoms[rest])
    return out


def _cut(
    patches: NDArray[np.object_], zones: NDArray[np.object_], grid_size: float | None
) -> tuple[NDArray[np.object_], int]:
    """``patches ∩ zones`` pair by pair; invalid patches are repaired if GEOS refuses them."""
    try:
        return shapely.intersection(patches, zones, grid_size=grid_size), 0
    except shapely.errors.GEOSException:
        fixed, n = _repair(patches)
        return shapely.intersection(fixed, zones, grid_size=grid_size), n


def _matrix(a: NDArray[np.object_], b: NDArray[np.object_]) -> NDArray[np.str_]:
    """DE-9IM matrices of pairs as an (n, 9) array of characters."""
    if len(a) == 0:
        return np.empty((0, 9), dtype="U1")
    return shapely.relate(a, b).astype("U9").view("U1").reshape(-1, 9)


def _local(
    geoms: NDArray[np.object_], index: NDArray[np.intp], copy: bool
) -> NDArray[np.object_]:
    """``geoms[index]``, prepared; as fresh copies when ``copy`` (for a worker thread).

    GEOS completes a prepared geometry lazily on first use, which two threads must not
    do on one geometry at once: a thread works on its own copies of the zone polygons
    it needs for its chunk.
    """
    if not copy:
        return geoms[index]
    uniq, inverse = np.unique(index, return_inverse=True)
    return _copy_prepared(geoms[uniq])[inverse]


def _chunk_pieces(
    layer: _ZoneLayer,
    geoms: NDArray[np.object_],
    lo: int,
    hi: int,
    grid_size: float | None,
    copy: bool = False,
) -> tuple[NDArray[np.intp], NDArray[np.float64], int, int]:
    """Inside area of patches ``lo:hi`` in one zone layer, as (patch, area) rows.

    The rows of a patch add up to its area inside the layer; a patch wholly
    inside one zone polygon has one row with NaN area (to be filled with its own
    area). Also returns the number of patches repaired and the number of
    patches whose pieces overlapped (overlapping zone polygons).
    """
    g = geoms[lo:hi]
    empty = np.empty(0, np.intp), np.empty(0), 0, 0
    li, zi = layer.tree.query(g)
    if len(li) == 0:
        return empty
    zg, pg = _local(layer.geoms, zi, copy), g[li]
    whole = shapely.contains_properly(zg, pg)
    drop = np.zeros(len(li), dtype=bool)

    # Zone polygons drawn from DLTB are often exact copies of a patch. Such a polygon is
    # that patch's alone: DLTB is a partition (三调 topology: patches do not overlap), so
    # its neighbours only touch it and need no test at all.
    twin = np.flatnonzero(~whole & (layer.ncoords[zi] == shapely.get_num_coordinates(pg)))
    twin = twin[(layer.bounds[zi[twin]] == shapely.bounds(pg[twin])).all(axis=1)]
    twin = twin[shapely.equals_exact(layer.normal[zi[twin]], shapely.normalize(pg[twin]),
                                     tolerance=0.0)]
    whole[twin] = True
    drop[np.isin(zi, zi[twin])] = True
    drop[twin] = False

    rest = np.flatnonzero(~whole & ~drop)
    rest = rest[shapely.intersects(zg[rest], pg[rest])]
    # Patches covered by the polygon (also touching its boundary from inside) are whole;
    # those only touching it from outside are dropped; the crossing ones are cut.
    covered = shapely.covers(zg[rest], pg[rest])
    whole[rest[covered]] = True
    rest = rest[~covered]
    cut_patch: list[NDArray[np.intp]] = []
    cut_with: list[NDArray[np.object_]] = []

    small = rest[layer.n_parts[zi[rest]] == 1]
    crossing = small[~shapely.touches(zg[small], pg[small])]
    cut_patch.append(li[crossing])
    cut_with.append(zg[crossing])

    # Large polygons: the crossing patches are cut against the small parts of the
    # polygon. A patch whose interior meets several parts straddles a subdivision line: a
    # cut there would add vertices on the patch edges, and the official area (edges
    # straight in B, L) depends slightly on such vertices; such patches are cut against
    # the whole polygon instead, so pieces are those of an unsplit overlay.
    big = rest[layer.n_parts[zi[rest]] > 1]
    if len(big):
        bl, bz = li[big], zi[big]
        k, pi = layer.part_tree.query(g[bl])
        same = layer.part_of[pi] == bz[k]
        k, pi = k[same], pi[same]
        parts = _local(layer.parts, pi, copy)
        hit = shapely.intersects(parts, g[bl[k]])
        k, parts = k[hit], parts[hit]
        inner = ~shapely.touches(parts, g[bl[k]])
        k, parts = k[inner], parts[inner]
        several = np.bincount(k, minlength=len(bl)) > 1
        one = ~several[k]
        cut_patch += [bl[k[one]], bl[several]]
        cut_with += [parts[one], zg[big[several]]]

    cp = np.concatenate(cut_patch)
    pieces, repaired = _cut(g[cp], np.concatenate(cut_with), grid_size)
    area = ellipsoidal_area(pieces)
    whole_patches = np.unique(li[whole])
    keep = (area > 0) & ~np.isin(cp, whole_patches)
    cp, area, pieces = cp[keep], area[keep], pieces[keep]

    # Pieces of one patch from different zone polygons overlap only where the zone
    # polygons overlap each other; there the patch's inside part is their union.
    overlapped = 0
    if len(cp) > 1:
        order = np.argsort(cp, kind="stable")
        cp, area, pieces = cp[order], area[order], pieces[order]
        first = np.flatnonzero(np.r_[True, cp[1:] != cp[:-1]])
        counts = np.diff(np.r_[first, len(cp)])
        two = first[counts == 2]
        ov = _matrix(pieces[two], pieces[two + 1])[:, 0] == "2"
        for start in two[ov]:
            area[start] = ellipsoidal_area([shapely.union(pieces[start], pieces[start + 1])])[0]
            area[start + 1] = 0.0
            overlapped += 1
        for start, count in zip(first[counts > 2], counts[counts > 2], strict=True):
            group = pieces[start:start + count]
            union = float(ellipsoidal_area([shapely.union_all(group)])[0])
            if union < area[start:start + count].sum() - WHOLE_TOLERANCE_M2:
                area[start] = union
                area[start + 1:start + count] = 0.0
                overlapped += 1
    patch = np.concatenate([whole_patches, cp]) + lo
    area = np.concatenate([np.full(len(whole_patches), np.nan), area])
    return patch, area, repaired, overlapped


def _overlay(
    layers: list[_ZoneLayer],
    geoms: NDArray[np.object_],
    *,
    grid_size: float | None,
    pool: ThreadPoolExecutor | None,
    chunk_size: int,
    progress: Progress | None,
) -> list[tuple[NDArray[np.intp], NDArray[np.float64], int, int]]:
    """Run :func:`_chunk_pieces` for every layer and chunk, on ``pool`` when given.

    Returns, per layer, the concatenated (patch, area) rows (NaN area for a
    wholly-inside patch), the patches repaired and the patches in overlaps.
    """
    n = len(geoms)
    bounds = list(range(0, n, chunk_size)) + [n]
    chunks = list(zip(bounds[:-1], bounds[1:], strict=True))
    results: list[list[Any]] = [[None] * len(chunks) for _ in layers]
    done = [0] * len(layers)
    def run(li: int, ci: int):
        lo, hi = chunks[ci]
        return li, ci, _chunk_pieces(layers[li], geoms, lo, hi, grid_size, pool is not None)

    tasks = [(li, ci) for li in range(len(layers)) for ci in range(len(chunks))]
    if pool is None:
        finished: Iterable[Any] = (run(li, ci) for li, ci in tasks)
    else:
        futures = [pool.submit(run, li, ci) for li, ci in tasks]
        finished = (f.result() for f in as_completed(futures))
    for li, ci, res in finished:
        results[li][ci] = res
        done[li] += 1
        if progress is not None:
            progress(layers[li].name, done[li], len(chunks))
    out = []
    for per_layer in results:
        if not per_layer:
            out.append((np.empty(0, np.intp), np.empty(0), 0, 0))
            continue
        out.append((
            np.concatenate([r[0] for r in per_layer]),
            np.concatenate([r[1] for r in per_layer]),
            sum(r[2] for r in per_layer),
            sum(r[3] for r in per_layer),
        ))
    return out


# --------------------------------------------------------------------------- public API


def _tiankan_cents(
    dltb: pd.DataFrame,
    total_cents: NDArray[np.int64],
    kcxs: NDArray[np.float64],
    patch_area: NDArray[np.float64],
) -> NDArray[np.int64]:
    """KCMJ (田坎 deducted by coefficient) of every patch in hundredths of m².

    The patch's KCMJ when given, else TBMJ − TBDLMJ, else ``round(area × KCXS, 2)``;
    0 for patches without a deduction (KCXS ≤ 0).
    """
    if "KCMJ" in dltb.columns:
        given = pd.to_numeric(dltb["KCMJ"], errors="coerce").to_numpy("float64") * 100.0
    elif "TBMJ" in dltb.columns:
        given = pd.to_numeric(dltb["TBMJ"], errors="coerce").to_numpy("float64") * 100.0
        given = given - total_cents
    else:
        given = np.full(len(dltb), np.nan)
    fallback = patch_area * kcxs * 100.0
    kc = np.rint(np.where(np.isnan(given), fallback, given))
    kc[kcxs <= 0] = 0
    return np.maximum(kc, 0).astype(np.int64)


def control_line_conflicts(
    zones: Mapping[str, gpd.GeoDataFrame],
    pairs: Iterable[tuple[str, str]] = CONFLICT_PAIRS,
    *,
    grid_size: float | None = None,
    min_area_m2: float = 0.01,
) -> gpd.GeoDataFrame:
    """Overlaps between control lines that must not overlap.

    Every pair of overlapping features gives one row (where a layer overlaps
    itself, rows of that layer may overlap each other).

    Parameters
    ----------
    zones : mapping of str to geopandas.GeoDataFrame
        Zone layers by name (YJJBNTTB, STBHHX, CZKFBJ, …), EPSG:4490.
    pairs : iterable of (str, str)
        Pairs of layer names to check; pairs naming a layer not in ``zones``
        are skipped.
    grid_size : float, optional
        Fixed-precision grid (degrees) of the intersections.
    min_area_m2 : float
        Overlaps of this ellipsoidal area or less are slivers and are left out
        (default 0.01 m², the resolution of the area fields).

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone_a, zone_b, id_a, id_b, area_m2, geometry`` (EPSG:4490), one row
        per overlapping pair of features, largest first within a pair of layers.

    Examples
    --------
    >>> from shapely import box
    >>> z = {"YJJBNTTB": gpd.GeoDataFrame(geometry=[box(106, 37, 106.01, 37.01)], crs=4490),
    ...      "STBHHX": gpd.GeoDataFrame(geometry=[box(106.005, 37, 106.02, 37.01)], crs=4490)}
    >>> c = control_line_conflicts(z)
    >>> c[["zone_a", "zone_b"]].values.tolist(), round(float(c.area_m2[0]))
    ([['YJJBNTTB', 'STBHHX']], 493883)
    """
    layers = {
        name: _zone_layer(name, zones[name], max_vertices=MAX_VERTICES)
        for pair in pairs for name in pair if name in zones
    }
    return _conflicts(layers, pairs, grid_size=grid_size, min_area_m2=min_area_m2)


def _conflicts(
    layers: Mapping[str, _ZoneLayer],
    pairs: Iterable[tuple[str, str]],
    *,
    grid_size: float | None,
    min_area_m2: float,
) -> gpd.GeoDataFrame:
    frames = []
    for a, b in pairs:
        if a not in layers or b not in layers:
            continue
        la, lb = layers[a], layers[b]
        pieces = intersect_pieces(la.geoms, lb.geoms, grid_size=grid_size,
                                  min_area_m2=min_area_m2)
        if len(pieces) == 0:
            continue
        frame = pd.DataFrame({
            "zone_a": a, "zone_b": b,
            "id_a": la.ids[pieces.left], "id_b": lb.ids[pieces.right],
            "area_m2": pieces.area_m2,
        })
        frame["geometry"] = pieces.geometry
        frames.append(frame.sort_values("area_m2", ascending=False, kind="stable"))
    cols = ["zone_a", "zone_b", "id_a", "id_b", "area_m2"]
    if not frames:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object if c != "area_m2" else float)
                                 for c in cols}, geometry=[], crs="EPSG:4490")
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out[cols], geometry=out["geometry"].to_numpy(), crs="EPSG:4490")


def _union(patches: NDArray[np.object_]) -> shapely.Geometry:
    """Union of DLTB patches: the fast coverage union, checked, else the general one."""
    try:
        union = shapely.coverage_union_all(patches)
        expected = ellipsoidal_area(patches).sum()
        if shapely.is_valid(union) and abs(ellipsoidal_area([union])[0] - expected) <= max(
            1e-9 * expected, 0.01
        ):
            return union
    except shapely.errors.GEOSException:
        pass
    return shapely.union_all(patches)


def _conflicts_by_unit(
    conflicts: gpd.GeoDataFrame,
    geoms: NDArray[np.object_],
    unit: NDArray[np.object_],
    *,
    grid_size: float | None,
    min_area_m2: float,
) -> gpd.GeoDataFrame:
    """Give every conflict its unit; split those that straddle a unit border.

    The units a conflict touches are found with predicates only (bounding-box
    query, prepared ``intersects``). A conflict in one unit keeps its geometry
    and area; one over several units is cut by the union of each unit's
    patches, and each part gets its own official area (parts thinner than
    ``min_area_m2`` are slivers along the border and are dropped). A conflict
    outside every patch keeps an empty unit.
    """
    cols = CONFLICT_COLUMNS + ["geometry"]
    if len(conflicts) == 0:
        out = conflicts.copy()
        out["county"] = pd.Series(dtype=object)
        return out[cols]
    conflicts = conflicts.reset_index(drop=True)
    cg = _copy_prepared(np.asarray(conflicts.geometry.values, dtype=object))
    pi, ci = _tree(cg).query(geoms)
    hit = shapely.intersects(cg[ci], geoms[pi])
    pi, ci = pi[hit], ci[hit]
    touch = pd.DataFrame({"row": ci, "unit": unit[pi], "patch": pi})
    units = touch.groupby("row")["unit"].agg(lambda u: sorted(set(u)))
    keep = ["zone_a", "zone_b", "id_a", "id_b"]
    records = []
    for r, base in enumerate(conflicts.itertuples(index=False)):
        found = units.get(r, [""])
        if len(found) == 1:
            records.append({**{c: getattr(base, c) for c in keep}, "county": found[0],
                            "area_m2": base.area_m2, "geometry": base.geometry})
            continue
        mine = touch[touch["row"] == r]
        for u, patches in mine.groupby("unit")["patch"]:
            piece = shapely.intersection(base.geometry, _union(geoms[np.unique(patches)]),
                                         grid_size=grid_size)
            parts, _ = _explode_polygons(np.array([piece], dtype=object))
            if len(parts) == 0:
                continue
            piece = shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
            area = float(ellipsoidal_area([piece])[0])
            if area > min_area_m2:
                records.append({**{c: getattr(base, c) for c in keep}, "county": u,
                                "area_m2": area, "geometry": piece})
    out = gpd.GeoDataFrame(pd.DataFrame.from_records(records), geometry="geometry",
                           crs="EPSG:4490")
    return out[cols]


def tabulate(
    dltb: gpd.GeoDataFrame,
    zones: Mapping[str, gpd.GeoDataFrame],
    *,
    level: str = "county",
    grid_size: float | None = None,
    progress: Progress | None = None,
    unit_names: Mapping[str, str] | None = None,
    conflict_pairs: Iterable[tuple[str, str]] = CONFLICT_PAIRS,
    min_conflict_m2: float = 0.01,
    max_vertices: int = MAX_VERTICES,
    workers: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    source: Mapping[str, Mapping[str, Any]] | None = None,
) -> TabulationResult:
    """Area of every land class inside and outside every zone layer, per unit.

    Parameters
    ----------
    dltb : geopandas.GeoDataFrame
        DLTB patches (EPSG:4490) with ``DLBM``, ``ZLDWDM`` and ``TBDLMJ``;
        ``KCXS`` (0 when missing), ``KCMJ`` / ``TBMJ`` (the 田坎 share) and
        ``BSM`` are used when present.
    zones : mapping of str to geopandas.GeoDataFrame
        Zone layers by name, e.g. ``{"YJJBNTTB": …, "STBHHX": …, "CZKFBJ": …}``.
        Polygons of one layer may overlap; land inside two of them counts once.
    level : {"county", "town", "village"}
        Statistical unit, a prefix of ZLDWDM; the unit code goes in the
        ``county`` column whatever the level.
    grid_size : float, optional
        Fixed-precision grid (degrees) for the cuts, against slivers.
    progress : callable, optional
        Called as ``progress(zone_name, chunks_done, chunks_total)``.
    unit_names : mapping, optional
        Unit code → name; adds a ``unit_name`` column.
    conflict_pairs : iterable of (str, str)
        Control-line pairs that must not overlap (see :func:`control_line_conflicts`).
    min_conflict_m2 : float
        Conflicts of this area or less are slivers and are left out.
    max_vertices : int
        Zone polygons are split into parts of at most this many vertices for cutting.
    workers : int, optional
        Threads (default: the number of CPUs).
    chunk_size : int
        Patches per work unit.
    source : mapping, optional
        Provenance per input, keyed ``"DLTB"`` or the zone name, e.g.
        ``{"DLTB": {"dataset": "DLTB", "version": "2023"}}``; recorded in
        :attr:`TabulationResult.sources` (a GeoDataFrame's ``attrs["source"]``
        is used otherwise).

    Returns
    -------
    TabulationResult

    Raises
    ------
    onemap.errors.InputError
        Missing fields, empty TBDLMJ, or coordinates that are not lon/lat.

    Examples
    --------
    >>> from shapely import box
    >>> dltb = gpd.GeoDataFrame(
    ...     {"DLBM": ["0101"], "ZLDWDM": ["6403020010010000000"], "TBDLMJ": [1000.0],
    ...      "KCXS": [0.0]}, geometry=[box(106, 37, 106.001, 37.001)], crs=4490)
    >>> zone = gpd.GeoDataFrame(geometry=[box(105, 36, 107, 38)], crs=4490)
    >>> r = tabulate(dltb, {"YJJBNTTB": zone})
    >>> r.rows[["zone", "inside", "tbdlmj_m2"]].values.tolist()
    [['YJJBNTTB', True, 1000.0], ['YJJBNTTB', False, 0.0]]
    """
    missing = [c for c in ("DLBM", "ZLDWDM", "TBDLMJ") if c not in dltb.columns]
    if missing:
        raise InputError(f"地类图斑缺少分区统计所需字段：{', '.join(missing)}")
    dltb = _lonlat(dltb, "DLTB")
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    conflict_pairs = list(conflict_pairs)

    geoms = np.asarray(dltb.geometry.values, dtype=object)
    # Codes are few: work on the distinct values, then index back.
    zl_code, zl_values = pd.factorize(dltb["ZLDWDM"], use_na_sentinel=False)
    unit_of = unit_codes(pd.Series(zl_values, dtype=object), level).fillna("").to_numpy(object)
    dl_code, dl_values = pd.factorize(dltb["DLBM"], use_na_sentinel=False)
    dlbm_of = pd.Series(dl_values, dtype=object).astype("string").str.strip().fillna("")
    unit = unit_of[zl_code]
    total_cents = _cents(dltb["TBDLMJ"], "TBDLMJ")
    if "KCXS" in dltb.columns:
        kcxs = pd.to_numeric(dltb["KCXS"], errors="coerce").fillna(0.0).to_numpy("float64")
    else:
        kcxs = np.zeros(len(dltb))

    # One pool for everything: the zone layers are prepared first, the official area of
    # every patch is computed in chunks meanwhile, then the overlay tasks follow.
    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        def submit(fn, *args, **kwargs):
            if pool is None:
                done: Future = Future()
                done.set_result(fn(*args, **kwargs))
                return done
            return pool.submit(fn, *args, **kwargs)

        layer_jobs = [submit(_zone_layer, name, gdf, max_vertices=max_vertices)
                      for name, gdf in zones.items()]
        area_jobs = [submit(_patch_areas, geoms[lo:lo + chunk_size])
                     for lo in range(0, len(geoms), chunk_size)]
        layers = [job.result() for job in layer_jobs]
        pieces = _overlay(layers, geoms, grid_size=grid_size, pool=pool,
                          chunk_size=chunk_size, progress=progress)
        patch_area = (np.concatenate([job.result() for job in area_jobs]) if area_jobs
                      else np.zeros(0))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    pieces = [(patch, np.where(np.isnan(area), patch_area[patch], area), rep, overlapped)
              for patch, area, rep, overlapped in pieces]

    # Cells (unit, class): combine the small code tables, then number the pairs present.
    u_code, u_values = pd.factorize(unit_of, sort=True)
    d_code, d_values = pd.factorize(dlbm_of.to_numpy(dtype=object), sort=True)
    pair = u_code[zl_code].astype(np.int64) * len(d_values) + d_code[dl_code]
    present, cell = np.unique(pair, return_inverse=True)
    n_cells = len(present)
    cell_unit = np.asarray(u_values, dtype=object)[present // len(d_values)]
    cell_dlbm = np.asarray(d_values, dtype=object)[present % len(d_values)]
    cell_total = np.zeros(n_cells, dtype=np.int64)
    np.add.at(cell_total, cell, total_cents)
    cell_area = np.bincount(cell, weights=patch_area, minlength=n_cells)
    kc_cents = _tiankan_cents(dltb, total_cents, kcxs, patch_area)
    deducted = kc_cents > 0
    # sums of integer cents below 2⁵³ are exact in float64
    cell_kc = np.rint(np.bincount(cell, weights=kc_cents, minlength=n_cells)).astype(np.int64)

    frames = []
    repaired_patches = 0
    for layer, (patch, area, repaired, overlapped) in zip(layers, pieces, strict=True):
        repaired_patches += repaired
        inside_area = np.bincount(patch, weights=area, minlength=len(geoms))
        touched = np.bincount(patch, minlength=len(geoms)) > 0
        inside_area = np.minimum(inside_area, patch_area)
        tolerance = np.maximum(WHOLE_TOLERANCE_M2, WHOLE_TOLERANCE_REL * patch_area)
        whole = touched & (inside_area >= patch_area - tolerance)
        share = np.rint(inside_area * (1.0 - kcxs) * 100.0).astype(np.int64)
        share = np.where(whole, total_cents, np.minimum(np.maximum(share, 0), total_cents))
        share[~touched] = 0
        in_cents = np.zeros(n_cells, dtype=np.int64)
        np.add.at(in_cents, cell, share)
        in_area = np.bincount(cell, weights=inside_area, minlength=n_cells)
        # 田坎 share of patches with a deduction: KCMJ when whole, else the piece's area to
        # the cent minus its net share (net + 田坎 = the piece's area), within [0, KCMJ].
        dp = np.flatnonzero(deducted & touched)
        tk = np.where(whole[dp], kc_cents[dp],
                      np.clip(np.rint(inside_area[dp] * 100.0).astype(np.int64) - share[dp],
                              0, kc_cents[dp]))
        in_tk = np.rint(np.bincount(cell[dp], weights=tk, minlength=n_cells)).astype(np.int64)
        for inside, cents, m2, tk_cents in ((True, in_cents, in_area, in_tk),
                                            (False, cell_total - in_cents,
                                             np.maximum(cell_area - in_area, 0.0),
                                             cell_kc - in_tk)):
            frames.append(pd.DataFrame({
                "county": cell_unit, "zone": layer.name, "inside": inside,
                "dlbm": cell_dlbm, "area_m2": m2,
                "tbdlmj_m2": cents / 100.0, "tiankan_m2": tk_cents / 100.0, "cents": cents,
            }))
        layer.info["patches_touched"] = int(touched.sum())
        layer.info["patches_whole"] = int(whole.sum())
        layer.info["patches_in_overlaps"] = overlapped
    if frames:
        rows = pd.concat(frames, ignore_index=True)
        zone_order = {layer.name: i for i, layer in enumerate(layers)}
        rows = rows.assign(_z=rows["zone"].map(zone_order), _o=~rows["inside"])
        rows = rows.sort_values(["county", "_z", "_o", "dlbm"], kind="stable")
        rows = rows.drop(columns=["_z", "_o"]).reset_index(drop=True)
    else:
        rows = pd.DataFrame({c: pd.Series(dtype=object) for c in ROW_COLUMNS + ["cents"]})
    if unit_names is not None:
        rows.insert(1, "unit_name", rows["county"].map(lambda u: unit_names.get(u, "")))

    by_name = {layer.name: layer for layer in layers}
    conflicts = _conflicts(by_name, conflict_pairs, grid_size=grid_size,
                           min_area_m2=min_conflict_m2)
    conflicts = _conflicts_by_unit(conflicts, geoms, unit, grid_size=grid_size,
                                   min_area_m2=min_conflict_m2)

    sources_zones = {layer.name: layer.info for layer in layers}
    dltb_info: dict[str, Any] = {"features": len(dltb), "repaired": repaired_patches}
    if "source" in dltb.attrs:
        dltb_info["source"] = dltb.attrs["source"]
    for name, prov in (source or {}).items():
        target = dltb_info if name == "DLTB" else sources_zones.get(name)
        if target is not None:
            target["source"] = dict(prov)
    sources = {
        "DLTB": dltb_info,
        "zones": sources_zones,
        "level": level,
        "grid_size": grid_size,
        "max_vertices": max_vertices,
        "conflict_pairs": [list(p) for p in conflict_pairs],
        "min_conflict_m2": min_conflict_m2,
    }
    return TabulationResult(rows=rows, conflicts=conflicts, sources=sources, level=level)
