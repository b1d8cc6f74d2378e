"""The 年度变更: DLTB of the change year from the base year.

About 1–2 % of the parcels change, in the kinds a real annual update has:

* new construction on farmland (most near towns; some inside 永久基本农田 and
  a few inside the 生态保护红线 — the violations monitoring must find),
  new construction on grassland and bare land near towns;
* greening (耕地 → 林地, 其他草地 → 灌木林地);
* reclamation (裸土地/其他草地/盐碱地 → 旱地/水浇地);
* attribute-only edits (种植属性);
* boundaries re-drawn without a class change (one parcel split in two, or
  two neighbours merged).

A class change may take a whole parcel (it keeps its BSM) or only part of it
(the parcel is cut by a straight line; both pieces get new BSMs). Split and
merged parcels get new BSMs; untouched parcels keep theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray

from onemap.geo.area import ellipsoidal_area
from onemap.geo.polygonal import polygonal as polygonal_only
from onemap.sample.config import RegionConfig
from onemap.sample.dltb import AttributeRules, ParcelTable, set_areas
from onemap.sample.fields import FeatureRaster
from onemap.sample.tessellation import GRID

CULTIVATED = ("0101", "0102", "0103")


@dataclass
class ChangeLog:
    """What the change year did, for the metadata and the tests."""

    counts: dict[str, int] = field(default_factory=dict)
    changed_base_bsm: list[int] = field(default_factory=list)
    violations_yjjbnt: list[int] = field(default_factory=list)
    violations_redline: list[int] = field(default_factory=list)
    violation_area_yjjbnt: float = 0.0
    violation_area_redline: float = 0.0


def _weighted_pick(
    rng: np.random.Generator, pool: NDArray[np.int64], weight: NDArray[np.float64], k: int
) -> NDArray[np.int64]:
    """``k`` distinct items of ``pool`` drawn with probability ∝ ``weight``."""
    k = min(k, len(pool))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    w = np.asarray(weight, dtype=np.float64)
    w = np.where(w > 0, w, 0.0)
    if w.sum() <= 0:
        w = np.ones(len(pool))
    # Efraimidis–Spirakis keys: deterministic, O(n log n), no replacement
    keys = np.log(rng.uniform(1e-300, 1.0, len(pool))) / np.maximum(w, 1e-300)
    return np.sort(pool[np.argsort(-keys, kind="stable")[:k]])


def _draw_codes(rng: np.random.Generator, probs: dict[str, float], n: int) -> NDArray:
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    p /= p.sum()
    return np.array(keys, dtype="<U4")[rng.choice(len(keys), size=n, p=p)]


def _halfplane(geoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A half-plane polygon per geometry, bounded by a random line near its centroid."""
    n = len(geoms)
    c = shapely.get_coordinates(shapely.centroid(geoms))
    b = shapely.bounds(geoms)
    r = np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    theta = rng.uniform(0.0, np.pi, n)
    t = rng.uniform(0.0, 0.25, n)
    nx, ny = np.cos(theta), np.sin(theta)
    mx, my = -ny, nx
    px = c[:, 0] + t * r * nx * 0.5
    py = c[:, 1] + t * r * ny * 0.5
    ring = np.stack(
        [
            np.column_stack([px + r * mx, py + r * my]),
            np.column_stack([px + r * mx + 2 * r * nx, py + r * my + 2 * r * ny]),
            np.column_stack([px - r * mx + 2 * r * nx, py - r * my + 2 * r * ny]),
            np.column_stack([px - r * mx, py - r * my]),
            np.column_stack([px + r * mx, py + r * my]),
        ],
        axis=1,
    )
    return shapely.polygons(ring)


def halfplane_cut(
    geoms: np.ndarray,
    rng: np.random.Generator,
    share: tuple[float, float] = (0.2, 0.6),
    attempts: int = 4,
) -> tuple[np.ndarray, np.ndarray, NDArray[np.bool_]]:
    """Cut every parcel in two by a straight line.

    Both parts come from one pair of inputs on the precision grid, so they
    share the cut exactly.

    Parameters
    ----------
    geoms : numpy.ndarray
        Parcels.
    rng : numpy.random.Generator
        Draws the lines.
    share : tuple of float
        Accepted range of the cut-off part's share of the area.
    attempts : int
        Lines tried per parcel.

    Returns
    -------
    taken, rest, ok
        The cut-off part, the remainder, and whether a line within ``share``
        was found.
    """
    n = len(geoms)
    taken = np.empty(n, dtype=object)
    rest = np.empty(n, dtype=object)
    ok = np.zeros(n, dtype=bool)
    a0 = shapely.area(geoms)
    todo = np.arange(n)
    for _ in range(attempts):
        if len(todo) == 0:
            break
        half = _halfplane(geoms[todo], rng)
        tk = polygonal_only(shapely.intersection(geoms[todo], half, grid_size=GRID))
        rs = polygonal_only(shapely.difference(geoms[todo], half, grid_size=GRID))
        frac = shapely.area(tk) / np.where(a0[todo] > 0, a0[todo], 1.0)
        good = (frac >= share[0]) & (frac <= share[1])
        taken[todo[good]] = tk[good]
        rest[todo[good]] = rs[good]
        ok[todo[good]] = True
        todo = todo[~good]
    return taken, rest, ok


@dataclass
class _Piece:
    """New rows produced by the change (geometry + parent row + new class)."""

    geoms: list = field(default_factory=list)
    parent: list = field(default_factory=list)
    code: list = field(default_factory=list)
    kind: list = field(default_factory=list)
    recompute: list = field(default_factory=list)


def apply_changes(
    cfg: RegionConfig,
    base: ParcelTable,
    rules: AttributeRules,
    raster: FeatureRaster,
    in_yjjbnt: NDArray[np.bool_],
    in_kfbj: NDArray[np.bool_],
    in_redline: NDArray[np.bool_],
    year: int,
    rng: np.random.Generator,
    tree: shapely.STRtree | None = None,
) -> tuple[ParcelTable, ChangeLog]:
    """Derive the change-year parcels from the base year.

    Parameters
    ----------
    cfg : RegionConfig
        Region parameters (change rates under ``changes``).
    base : ParcelTable
        Base-year parcels (with BSM and TBBH).
    rules : AttributeRules
        Attribute rules for the parcels whose class changes.
    raster : FeatureRaster
        Location features (town, road, irrigation) steering where changes go.
    in_yjjbnt : numpy.ndarray of bool
        Parcels that are 永久基本农田.
    in_kfbj : numpy.ndarray of bool
        Parcels whose inner point lies in a 城镇开发边界.
    in_redline : numpy.ndarray of bool
        Parcels lying wholly inside the 生态保护红线.
    year : int
        SJNF of the result.
    rng : numpy.random.Generator
        Stream of the change year.
    tree : shapely.STRtree, optional
        Spatial index of ``base.geom`` (built when missing).

    Returns
    -------
    ParcelTable, ChangeLog
    """
    spec = cfg.changes
    n = len(base)
    cols = base.cols
    code = cols["DLBM"].astype("<U4")
    x, y = cols["_x"], cols["_y"]
    ordinary = cols["_ribbon"] < 0
    town = raster.sample("town", x, y)
    road = raster.sample("road", x, y) if "road" in raster.layers else np.zeros(n)
    irr = raster.sample("irrigation", x, y)
    hill = raster.sample("hill", x, y)
    cult = np.isin(code, CULTIVATED) & ordinary
    free = np.ones(n, dtype=bool)
    log = ChangeLog()

    def pick(mask, weight, k):
        pool = np.flatnonzero(mask & free)
        chosen = _weighted_pick(rng, pool, weight[pool], k)
        free[chosen] = False
        return chosen

    def k_of(rate, minimum=0):
        return max(int(round(rate * n)), minimum)

    construction_src = ~np.isin(code, ["1101", "1103", "1106", "1108", "1104", "1107"])
    already_built = np.isin(code, list(spec.build_classes) + list(spec.redline_build_classes))
    red = pick(
        in_redline & ordinary & construction_src & ~already_built,
        (road + 0.3 * town + 0.05) * np.where(cult, 5.0, 1.0),
        k_of(spec.build_redline, 3),
    )
    yj = pick(cult & in_yjjbnt & ~in_kfbj, town + road + 0.05, k_of(spec.build_yjjbnt))
    farm = pick(
        cult & ~in_yjjbnt & ~in_redline,
        (town + 0.02) * np.where(in_kfbj, 4.0, 1.0),
        k_of(spec.build_farmland),
    )
    other = pick(
        np.isin(code, ["0401", "0403", "0404", "1205", "1206", "1204"]) & ordinary & ~in_redline,
        town + 0.5 * road + 0.01,
        k_of(spec.build_other),
    )
    green_c = pick(cult & ~in_yjjbnt & (hill > 0.2), hill + 0.05, k_of(spec.greening * 0.5))
    green_g = pick(np.isin(code, ["0404"]) & ordinary, 0.2 + 0.0 * town, k_of(spec.greening * 0.5))
    recl = pick(
        np.isin(code, ["1206", "0404", "1204"]) & ordinary & ~in_redline & (irr > 0.15),
        irr,
        k_of(spec.reclamation),
    )
    attr = pick(cult, np.ones(n), k_of(spec.attribute))
    area_rank = cols["TBMJ"]
    split = pick(
        np.isin(code, ["0102", "0103", "0401", "0404", "0305"]) & ordinary,
        area_rank,
        k_of(spec.split),
    )

    new_code = code.copy()
    whole: list[NDArray[np.int64]] = []
    pieces = _Piece()
    changed_kind: dict[str, int] = {}

    def change_class(idx, codes_new, kind, partial_ok=True):
        if len(idx) == 0:
            return
        partial = (rng.uniform(size=len(idx)) < spec.partial_share) & partial_ok
        cut = idx[partial]
        if len(cut):
            taken, rest, ok = halfplane_cut(base.geom[cut], rng)
            for j in np.flatnonzero(ok):
                for g in shapely.get_parts(taken[j]):
                    if shapely.get_type_id(g) == 3 and shapely.area(g) > 0:
                        pieces.geoms.append(g)
                        pieces.parent.append(cut[j])
                        pieces.code.append(codes_new[partial][j])
                        pieces.kind.append(kind)
                        pieces.recompute.append(True)
                for g in shapely.get_parts(rest[j]):
                    if shapely.get_type_id(g) == 3 and shapely.area(g) > 0:
                        pieces.geoms.append(g)
                        pieces.parent.append(cut[j])
                        pieces.code.append(code[cut[j]])
                        pieces.kind.append("remainder")
                        pieces.recompute.append(False)
            done = cut[ok]
            partial_fail = cut[~ok]
        else:
            done = np.zeros(0, dtype=np.int64)
            partial_fail = np.zeros(0, dtype=np.int64)
        whole_idx = np.concatenate([idx[~partial], partial_fail])
        lookup = dict(zip(idx.tolist(), codes_new.tolist(), strict=True))
        new_code[whole_idx] = [lookup[i] for i in whole_idx.tolist()]
        whole.append(whole_idx)
        changed_kind[kind] = changed_kind.get(kind, 0) + len(idx)
        return done, whole_idx

    change_class(red, _draw_codes(rng, spec.redline_build_classes, len(red)), "build_redline")
    change_class(yj, _draw_codes(rng, spec.build_classes, len(yj)), "build_yjjbnt")
    change_class(farm, _draw_codes(rng, spec.build_classes, len(farm)), "build_farmland")
    change_class(other, _draw_codes(rng, spec.build_classes, len(other)), "build_other")
    change_class(
        green_c,
        np.where(rng.uniform(size=len(green_c)) < 0.5, "0305", "0301").astype("<U4"),
        "greening",
    )
    change_class(green_g, np.full(len(green_g), "0305", dtype="<U4"), "greening")
    change_class(recl, np.where(irr[recl] > 0.5, "0102", "0103").astype("<U4"), "reclamation")
    # split without class change
    if len(split):
        taken, rest, ok = halfplane_cut(base.geom[split], rng, share=(0.25, 0.75))
        for j in np.flatnonzero(ok):
            for part in (taken[j], rest[j]):
                for g in shapely.get_parts(part):
                    if shapely.get_type_id(g) == 3 and shapely.area(g) > 0:
                        pieces.geoms.append(g)
                        pieces.parent.append(split[j])
                        pieces.code.append(code[split[j]])
                        pieces.kind.append("split")
                        pieces.recompute.append(False)
        free[split[~ok]] = True
        changed_kind["split"] = int(ok.sum())
        split = split[ok]
    # merge two neighbours of the same class in the same village
    if tree is None:
        tree = shapely.STRtree(base.geom)
    merged_pairs = _merge_pairs(base, code, free & ordinary, k_of(spec.merge), rng, tree)
    for a, b, g in merged_pairs:
        big = a if cols["TBMJ"][a] >= cols["TBMJ"][b] else b
        pieces.geoms.append(g)
        pieces.parent.append(big)
        pieces.code.append(code[big])
        pieces.kind.append("merge")
        pieces.recompute.append(False)
    changed_kind["merge"] = len(merged_pairs)
    merged_idx = np.array([i for a, b, _ in merged_pairs for i in (a, b)], dtype=np.int64)

    # rows of the change year
    whole_all = np.unique(np.concatenate(whole)) if whole else np.zeros(0, np.int64)
    replaced = np.zeros(n, dtype=bool)
    parents = np.asarray(pieces.parent, dtype=np.int64)
    replaced[parents] = True
    replaced[merged_idx] = True
    keep = np.flatnonzero(~replaced)
    kept = base.take(keep)
    # whole-parcel class changes keep BSM and TBBH but get new attributes
    wpos = np.flatnonzero(np.isin(keep, whole_all))
    if len(wpos):
        src = keep[wpos]
        fresh = rules.compute(
            new_code[src],
            cols["_county"][src],
            cols["_village"][src],
            x[src],
            y[src],
            cols["_ribbon"][src],
            rng,
        )
        for k, v in fresh.items():
            kept.cols[k][wpos] = v
    # attribute-only edits
    apos = np.flatnonzero(np.isin(keep, attr))
    if len(apos):
        z = kept.cols["ZZSXDM"][apos]
        flipped = np.where(z == "LS", "FLS", "LS").astype(object)
        kept.cols["ZZSXDM"][apos] = flipped
        names = cfg.cultivated.zzsx_names
        kept.cols["ZZSXMC"][apos] = np.array([names[v] for v in flipped], dtype=object)
    changed_kind["attribute"] = len(apos)

    new_rows = None
    if pieces.geoms:
        geoms = np.array(pieces.geoms, dtype=object)
        src = parents
        new_rows = base.take(src)
        new_rows.geom = geoms
        rep = shapely.get_coordinates(shapely.point_on_surface(geoms))
        rx, ry = rules.frame.to_km(rep[:, 0], rep[:, 1])
        new_rows.cols["_x"] = rx
        new_rows.cols["_y"] = ry
        recompute = np.asarray(pieces.recompute, dtype=bool)
        if recompute.any():
            r = np.flatnonzero(recompute)
            fresh = rules.compute(
                np.asarray(pieces.code, dtype="<U4")[r],
                new_rows.cols["_county"][r],
                new_rows.cols["_village"][r],
                rx[r],
                ry[r],
                new_rows.cols["_ribbon"][r],
                rng,
            )
            for k, v in fresh.items():
                new_rows.cols[k][r] = v
        new_rows.cols["_kind"] = np.asarray(pieces.kind, dtype=object)
    kept.cols["_kind"] = np.full(len(kept), "", dtype=object)
    kept.cols["_kind"][wpos] = "whole"
    kept.cols["_kind"][apos] = "attribute"
    # numbering: new BSMs after the base year's; TBBH continues per village
    out = ParcelTable.concat([kept] + ([new_rows] if new_rows is not None else []))
    n_new = len(out) - len(kept)
    if n_new:
        next_bsm = int(base.cols["BSM"].max()) + 1
        out.cols["BSM"][len(kept) :] = np.arange(next_bsm, next_bsm + n_new)
        village = out.cols["_village"]
        tbbh_max = np.zeros(int(village.max()) + 1, dtype=np.int64)
        np.maximum.at(tbbh_max, base.cols["_village"], base.cols["TBBH"].astype(np.int64))
        new_v = village[len(kept) :]
        order = np.argsort(new_v, kind="stable")
        seq = np.empty(n_new, dtype=np.int64)
        sv = new_v[order]
        start = np.r_[0, np.flatnonzero(np.diff(sv)) + 1]
        counts = np.diff(np.r_[start, len(sv)])
        seq[order] = np.arange(n_new) - np.repeat(start, counts) + 1
        out.cols["TBBH"][len(kept) :] = (tbbh_max[new_v] + seq).astype(str).astype(object)
    tbmj = out.cols["TBMJ"].astype(np.float64).copy()
    if n_new:
        tbmj[len(kept) :] = ellipsoidal_area(out.geom[len(kept) :])
    set_areas(out, tbmj)
    out.cols["SJNF"] = np.full(len(out), year, dtype=np.int64)
    # log
    log.counts = {k: int(v) for k, v in changed_kind.items()}
    log.counts["parcels_base"] = n
    log.counts["parcels_change_year"] = len(out)
    touched = np.zeros(n, dtype=bool)
    touched[parents] = True
    touched[merged_idx] = True
    touched[whole_all] = True
    touched[attr] = True
    log.counts["base_parcels_touched"] = int(touched.sum())
    log.changed_base_bsm = base.cols["BSM"][touched].astype(int).tolist()
    kinds = out.cols["_kind"]
    built_codes = set(spec.build_classes) | set(spec.redline_build_classes)
    is_new_build = np.isin(out.cols["DLBM"].astype("<U4"), list(built_codes)) & (
        np.isin(kinds, ["whole", "build_yjjbnt", "build_redline"])
    )
    parent_bsm_of_row = np.full(len(out), -1, dtype=np.int64)
    parent_bsm_of_row[: len(kept)] = base.cols["BSM"][keep]
    if n_new:
        parent_bsm_of_row[len(kept) :] = base.cols["BSM"][parents]
    yj_bsm = set(base.cols["BSM"][yj].tolist())
    red_bsm = set(base.cols["BSM"][red].tolist())
    in_yj = is_new_build & np.isin(parent_bsm_of_row, list(yj_bsm))
    in_red = is_new_build & np.isin(parent_bsm_of_row, list(red_bsm))
    log.violations_yjjbnt = out.cols["BSM"][in_yj].astype(int).tolist()
    log.violations_redline = out.cols["BSM"][in_red].astype(int).tolist()
    log.violation_area_yjjbnt = float(out.cols["TBMJ"][in_yj].sum())
    log.violation_area_redline = float(out.cols["TBMJ"][in_red].sum())
    return out, log


def _merge_pairs(
    base: ParcelTable,
    code: NDArray,
    available: NDArray[np.bool_],
    k: int,
    rng: np.random.Generator,
    tree: shapely.STRtree,
) -> list[tuple[int, int, object]]:
    """Up to ``k`` pairs of touching parcels (same class and village), merged."""
    if k <= 0:
        return []
    village = base.cols["_village"]
    pool = np.flatnonzero(available & np.isin(code, ["0102", "0103", "0401", "0404", "0305"]))
    if len(pool) == 0:
        return []
    cand = np.sort(rng.choice(pool, size=min(len(pool), 4 * k), replace=False))
    left, right = tree.query(base.geom[cand], predicate="touches")
    a = cand[left]
    ok = (a != right) & available[right] & (code[a] == code[right]) & (village[a] == village[right])
    a, b = a[ok], right[ok]
    used = np.zeros(len(base), dtype=bool)
    out: list[tuple[int, int, object]] = []
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        if len(out) >= k:
            break
        if used[i] or used[j]:
            continue
        g = shapely.union(base.geom[i], base.geom[j], grid_size=GRID)
        if shapely.get_type_id(g) != 3:
            continue
        used[i] = used[j] = True
        available[i] = available[j] = False
        out.append((i, j, g))
    return out
