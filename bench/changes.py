"""Benchmark: change detection between two DLTB versions (变化图斑), BSM first.

Two synthetic versions of a tessellation around Wuzhong (jittered grid, 29 vertices per
patch, shared edges), the second with about 2 % real changes:

- 0.8 % of patches split in two (new BSMs), the east half built on;
- 0.6 % change class in place (same BSM and geometry);
- 0.3 % pairs whose shared boundary moves (same BSMs, different classes);
- 0.3 % pairs merged into one new patch;
plus noise that must *not* count: 1 % attribute-only edits, 0.3 % re-noded rings, SJNF
updated everywhere.

Methods, in the same run:
- ``onemap.detect_changes``: compare by BSM, overlay only what changed, with the
  永久基本农田 / 生态保护红线 / 城镇开发边界 flags and the official areas;
- ``geopandas.overlay``: ``overlay(old, new, how="intersection")`` of the two whole
  versions, then the official area and the class filter — no flags.

Target: ≥ 10× faster than the full overlay.

Usage: ``.venv/bin/python bench/changes.py [--sizes 100000,1000000] [--no-overlay]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from _common import OUT, measure, print_table  # noqa: E402
from onemap.geo.area import ellipsoidal_area  # noqa: E402
from onemap.monitor.changes import detect_changes  # noqa: E402

CLASSES = np.array(["0103", "0102", "0101", "0301", "0305", "0404", "0702", "0601", "1003",
                    "1006", "1104", "1206"])
WEIGHTS = np.array([30, 15, 3, 8, 5, 15, 8, 3, 3, 4, 2, 4], dtype=float)
BUILT = np.array(["0601", "0702", "1003", "05H1", "0701", "1202", "0201"])


def tessellation(n: int, rng: np.random.Generator, m: int = 6):
    """A jittered-grid tessellation of ~n cells; returns polygons, (ny, nx), cell size."""
    nx = int(round(np.sqrt(n * 1.7 / 1.6)))
    ny = int(np.ceil(n / nx))
    x0, y0, w, h = 105.9, 36.6, 1.7, 1.6
    dx, dy = w / nx, h / ny
    gx, gy = np.meshgrid(x0 + dx * np.arange(nx + 1), y0 + dy * np.arange(ny + 1))
    nodes = np.stack([gx + rng.uniform(-0.2, 0.2, gx.shape) * dx,
                      gy + rng.uniform(-0.2, 0.2, gy.shape) * dy], -1)
    t = (np.arange(1, m + 1) / (m + 1))[None, None, :, None]
    hpts = nodes[:, :-1, None, :] + t * (nodes[:, 1:, None, :] - nodes[:, :-1, None, :])
    hpts[..., 1] += rng.uniform(-0.04, 0.04, hpts.shape[:-1]) * dy
    vpts = nodes[:-1, :, None, :] + t * (nodes[1:, :, None, :] - nodes[:-1, :, None, :])
    vpts[..., 0] += rng.uniform(-0.04, 0.04, vpts.shape[:-1]) * dx
    ring = np.concatenate([
        nodes[:-1, :-1, None, :], hpts[:-1, :, :, :],          # bottom, left → right
        nodes[:-1, 1:, None, :], vpts[:, 1:, :, :],             # right, bottom → top
        nodes[1:, 1:, None, :], hpts[1:, :, ::-1, :],           # top, right → left
        nodes[1:, :-1, None, :], vpts[:, :-1, ::-1, :],         # left, top → bottom
        nodes[:-1, :-1, None, :],
    ], axis=2).reshape(ny * nx, 4 * m + 5, 2)
    return shapely.polygons(ring)[:n], (ny, nx), (dx, dy)


def _half(polys: np.ndarray, west: bool) -> np.ndarray:
    b = shapely.bounds(polys)
    cx = (b[:, 0] + b[:, 2]) / 2
    boxes = (shapely.box(b[:, 0] - 1, b[:, 1] - 1, cx, b[:, 3] + 1) if west
             else shapely.box(cx, b[:, 1] - 1, b[:, 2] + 1, b[:, 3] + 1))
    return shapely.intersection(polys, boxes)


def make_versions(n: int, seed: int = 7):
    """Old and new versions, control layers and the expected counts."""
    rng = np.random.default_rng(seed)
    polys, (ny, nx), _ = tessellation(n, rng)
    n = len(polys)
    dlbm = rng.choice(CLASSES, n, p=WEIGHTS / WEIGHTS.sum())
    row, col = np.divmod(np.arange(n), nx)
    county = np.where(row < ny // 2, np.where(col < nx // 2, "640302", "640303"),
                      np.where(col < nx // 2, "640323", "640381"))
    village = (row // 40) * 1000 + col // 40
    zl = np.char.add(np.char.add(county.astype(str), np.char.zfill(
        (village % 1_000_000).astype(str), 6)), "0000000")
    cultivated = np.isin(dlbm, ["0101", "0102", "0103"])
    old = gpd.GeoDataFrame({
        "BSM": np.char.add("6403", np.char.zfill(np.arange(1, n + 1).astype(str), 14)),
        "DLBM": dlbm, "ZLDWDM": zl, "ZLDWMC": np.char.add("村", (village % 997).astype(str)),
        "KCXS": np.where(cultivated, 0.05, 0.0), "SJNF": 2023, "BZ": "",
    }, geometry=polys, crs=4490)

    used = np.zeros(n, dtype=bool)
    order = rng.permutation(n)

    def take(k: int, pair: bool = False) -> np.ndarray:
        out = []
        for i in order:
            if len(out) == k:
                break
            if used[i]:
                continue
            if pair:
                j = i + 1
                if col[i] == nx - 1 or j >= n or used[j] or dlbm[i] == dlbm[j]:
                    continue
                used[j] = True
            used[i] = True
            out.append(i)
        return np.array(out, dtype=int)

    split = take(int(0.008 * n))
    inplace = take(int(0.006 * n))
    shift = take(int(0.003 * n), pair=True)
    merge = take(int(0.003 * n), pair=True)
    edits = take(int(0.010 * n))
    renode = take(int(0.003 * n))

    new = old.copy()
    new["SJNF"] = 2024
    new_dlbm = new["DLBM"].to_numpy().copy()
    new_dlbm[inplace] = rng.choice(BUILT, len(inplace))
    new["DLBM"] = new_dlbm
    new.loc[edits, "ZLDWMC"] = new.loc[edits, "ZLDWMC"] + "（更名）"
    g = new.geometry.to_numpy().copy()
    g[renode] = shapely.normalize(g[renode])  # same shape, ring starts elsewhere
    west_r = _half(polys[shift + 1], True)
    g[shift] = shapely.union(polys[shift], west_r)
    g[shift + 1] = _half(polys[shift + 1], False)
    new = new.set_geometry(g)
    drop = np.concatenate([split, merge, merge + 1])
    added = []
    for idxs, geoms, classes in (
        (split, _half(polys[split], True), dlbm[split]),
        (split, _half(polys[split], False), rng.choice(BUILT, len(split))),
        (merge, shapely.union(polys[merge], polys[merge + 1]), dlbm[merge]),
    ):
        part = old.iloc[idxs].copy()
        part["DLBM"] = classes
        part["SJNF"] = 2024
        part = part.set_geometry(geoms)
        added.append(part)
    new = gpd.GeoDataFrame(
        gpd.pd.concat([new.drop(index=drop)] + added, ignore_index=True), crs=4490)
    new["BSM"] = np.concatenate([new["BSM"].to_numpy()[: n - len(drop)],
                                 np.char.add("6403N", np.char.zfill(
                                     np.arange(len(new) - (n - len(drop))).astype(str), 13))])
    new = new.sample(frac=1.0, random_state=seed).reset_index(drop=True)

    cells = np.flatnonzero(cultivated)
    yn = polys[rng.choice(cells, len(cells) // 3, replace=False)]
    b = shapely.bounds(polys).reshape(-1, 4)
    ext = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    cx = rng.uniform(ext[0], ext[2], 24)
    cy = rng.uniform(ext[1], ext[3], 24)
    controls = {
        "YJJBNTTB": gpd.GeoDataFrame({"BSM": np.arange(len(yn))}, geometry=yn, crs=4490),
        "STBHHX": gpd.GeoDataFrame({"BSM": np.arange(20)}, geometry=shapely.box(
            cx[:20], cy[:20], cx[:20] + 0.05, cy[:20] + 0.04), crs=4490),
        "CZKFBJ": gpd.GeoDataFrame({"BSM": np.arange(4)}, geometry=shapely.box(
            cx[20:], cy[20:], cx[20:] + 0.08, cy[20:] + 0.06), crs=4490),
    }
    expected = {"split": len(split), "inplace": len(inplace), "shift_pairs": len(shift),
                "merge_pairs": len(merge), "attribute_edits": len(edits), "renoded": len(renode)}
    return old, new, controls, expected


def full_overlay(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, min_area_m2: float = 1.0):
    """The naive method: overlay the two whole versions, then area and class filter."""
    ov = gpd.overlay(old[["BSM", "DLBM", "geometry"]], new[["BSM", "DLBM", "geometry"]],
                     how="intersection", keep_geom_type=True)
    area = ellipsoidal_area(ov.geometry.values)
    changed = (ov["DLBM_1"] != ov["DLBM_2"]).to_numpy()
    real = changed & (area >= min_area_m2)
    return {"pieces": len(ov), "changed_pieces": int(changed.sum()),
            "changes": int(real.sum()), "slivers_under_1m2": int((changed & ~real).sum()),
            "change_area_m2": float(area[real].sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--no-overlay", action="store_true", help="skip geopandas.overlay")
    args = parser.parse_args()
    rows, report = [], []
    for n in [int(s) for s in args.sizes.split(",")]:
        t0 = time.perf_counter()
        old, new, controls, expected = make_versions(n)
        gen = time.perf_counter() - t0
        t, mem, res = measure(lambda o=old, w=new, c=controls: detect_changes(o, w, c))
        s = res.summary
        ours = {"seconds": round(t, 2), "peak_mib": round(mem), **{k: s[k] for k in (
            "changes", "change_area_m2", "attribute_edits", "renoded_same_shape", "redraws",
            "slivers", "class_changed_in_place", "removed", "added", "geometry_changed",
            "sfyn_count", "zygd_area_m2")}}
        rows.append([f"{n:,}", "onemap.detect_changes (+flags)", f"{t:.2f}", f"{mem:.0f}",
                     s["changes"], f"{s['change_area_m2'] / 1e4:.1f}", "1.0", ""])
        entry = {"patches": n, "generate_s": round(gen, 1), "expected": expected,
                 "onemap": ours}
        if not args.no_overlay:
            tb, memb, base = measure(lambda o=old, w=new: full_overlay(o, w))
            ratio = tb / t
            rows.append([f"{n:,}", "geopandas.overlay (whole versions)", f"{tb:.2f}",
                         f"{memb:.0f}", base["changes"],
                         f"{base['change_area_m2'] / 1e4:.1f}", f"{ratio:.1f}",
                         "PASS" if ratio >= 10 else "FAIL (<10×)"])
            entry["overlay"] = {"seconds": round(tb, 2), "peak_mib": round(memb), **base,
                                "ratio": round(ratio, 1)}
        report.append(entry)
        print(json.dumps(entry, ensure_ascii=False), flush=True)
        del old, new, controls, res
    print_table(
        "Change detection between two DLTB versions (~2 % real changes, 29 vertices/patch)",
        ["patches", "method", "seconds", "peak MiB", "changes", "change ha", "overlay/ours",
         "target ≥10×"],
        rows,
    )
    OUT.mkdir(exist_ok=True)
    (OUT / "changes.json").write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                      encoding="utf-8")


if __name__ == "__main__":
    main()
