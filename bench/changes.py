"""Benchmark: change detection between two DLTB versions (变化图斑), BSM first.

Two synthetic versions of a tessellation around Wuzhong (jittered grid, 29 vertices per
patch, shared edges), the second with about 2 % real changes:

- 0.8 % of patches split in two (new BSMs), the east half built on;
- 0.6 % change class in place (same BSM and geometry);
- 0.3 % pairs whose shared boundary moves (same BSMs, different classes);
- 0.3 % pairs merged into one new patch;
plus noise that must *not* count: 1 % attribute-only edits, 0.3 % re-noded rings, SJNF
updated everywhere.

Routes, in the same run, each in a fresh process (its own wall time, CPU time of all its
threads and peak resident memory; the versions are read from GeoParquet written once):
- ``onemap``: :func:`onemap.monitor.changes.detect_changes` — compare by BSM, overlay only
  what changed, with the 永久基本农田 / 生态保护红线 / 城镇开发边界 overlap areas and the
  official areas;
- ``bsm_join`` (the baseline, as a skilled GeoPandas user would do it): join the versions
  on BSM, keep the patches whose geometry is unchanged (exact WKB, then ``equals`` for
  re-noded rings) and whose class changed as whole pieces, ``geopandas.overlay`` (spatial
  index) only the patches that were re-drawn, added or removed, the official area, and the
  same three overlap areas by ``geopandas.overlay`` of the change pieces with each layer;
- ``overlay`` (``--naive``): ``overlay(old, new, how="intersection")`` of the two whole
  versions, which nobody should do; for reference only.

Every route's result is compared with onemap's cell by cell: change area per (before,
after) class pair and the three overlap areas; the largest difference is printed.

Usage: ``.venv/bin/python bench/changes.py [--sizes 100000,1000000] [--naive]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

from _common import OUT, isolated, load_average, print_table, route_stats  # noqa: E402
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


CONTROLS = ("YJJBNTTB", "STBHHX", "CZKFBJ")
FLAGS = {"YJJBNTTB": "yn_area_m2", "STBHHX": "hx_area_m2", "CZKFBJ": "czkfbj_area_m2"}
ROUTE_NAMES = {"onemap": "onemap.detect_changes (+overlaps)",
               "bsm_join": "GeoPandas BSM join + overlay of changed (+overlaps)",
               "overlay": "geopandas.overlay of whole versions (no overlaps)"}


def full_overlay(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, min_area_m2: float = 1.0) -> dict:
    """The naive method: overlay the two whole versions, then area and class filter."""
    ov = gpd.overlay(old[["BSM", "DLBM", "geometry"]], new[["BSM", "DLBM", "geometry"]],
                     how="intersection", keep_geom_type=True)
    area = ellipsoidal_area(ov.geometry.values)
    real = (ov["DLBM_1"] != ov["DLBM_2"]).to_numpy() & (area >= min_area_m2)
    pairs = pd.DataFrame({"before": ov["DLBM_1"].to_numpy()[real], "after": ov["DLBM_2"].to_numpy()[real],
                          "area_m2": area[real]})
    return {"changes": int(real.sum()), "pairs": _pairs(pairs), "overlaps": {}}


def _overlap_area(pieces: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> np.ndarray:
    """Area of each piece inside the (united) layer, by overlay with its spatial index."""
    left = gpd.GeoDataFrame({"piece": np.arange(len(pieces))}, geometry=pieces.geometry.values, crs=4490)
    zone = gpd.GeoDataFrame(geometry=[shapely.union_all(layer.geometry.values)], crs=4490).explode(
        ignore_index=True)
    cut = gpd.overlay(left, zone, how="intersection", keep_geom_type=True)
    out = np.zeros(len(pieces))
    np.add.at(out, cut["piece"].to_numpy(), ellipsoidal_area(cut.geometry.values))
    return out


def bsm_join(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, controls: dict,
             min_area_m2: float = 1.0) -> dict:
    """The honest baseline: join on BSM, overlay only the patches whose geometry changed."""
    o = old[["BSM", "DLBM", "geometry"]]
    n = new[["BSM", "DLBM", "geometry"]]
    both = o.merge(n.rename(columns={"DLBM": "DLBM_n", "geometry": "geom_n"}), on="BSM", how="inner")
    go = np.asarray(both["geometry"].values, dtype=object)
    gn = np.asarray(both["geom_n"].values, dtype=object)
    same = shapely.to_wkb(go) == shapely.to_wkb(gn)
    rest = ~same
    same[rest] = shapely.equals(go[rest], gn[rest])  # re-noded rings: same shape
    kept = both["BSM"].to_numpy()[same]
    inplace = same & (both["DLBM"].to_numpy() != both["DLBM_n"].to_numpy())
    whole = gpd.GeoDataFrame({"DLBM_1": both["DLBM"].to_numpy()[inplace],
                              "DLBM_2": both["DLBM_n"].to_numpy()[inplace]}, geometry=go[inplace], crs=4490)
    old_changed = o[~o["BSM"].isin(kept)]
    new_changed = n[~n["BSM"].isin(kept)]
    cut = gpd.overlay(old_changed, new_changed, how="intersection", keep_geom_type=True)
    cut = cut[cut["DLBM_1"] != cut["DLBM_2"]][["DLBM_1", "DLBM_2", "geometry"]]
    pieces = gpd.GeoDataFrame(pd.concat([whole, cut], ignore_index=True), crs=4490)
    area = ellipsoidal_area(pieces.geometry.values)
    pieces = pieces[area >= min_area_m2].reset_index(drop=True)
    pairs = pd.DataFrame({"before": pieces["DLBM_1"], "after": pieces["DLBM_2"],
                          "area_m2": area[area >= min_area_m2]})
    overlaps = {FLAGS[k]: float(_overlap_area(pieces, controls[k]).sum()) for k in CONTROLS}
    return {"changes": len(pieces), "pairs": _pairs(pairs), "overlaps": overlaps}


def ours(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, controls: dict) -> dict:
    """onemap's change detection, reduced to the figures every route is compared on."""
    res = detect_changes(old, new, controls)
    ch = res.changes
    return {"changes": len(ch), "pairs": _pairs(ch[["before", "after", "area_m2"]]),
            "overlaps": {f: float(ch[f].sum()) for f in FLAGS.values()},
            "summary": {k: res.summary[k] for k in ("attribute_edits", "renoded_same_shape", "slivers",
                                                    "class_changed_in_place", "removed", "added")}}


def _pairs(frame: pd.DataFrame) -> dict[str, float]:
    table = frame.groupby(["before", "after"])["area_m2"].sum()
    return {f"{b}>{a}": float(v) for (b, a), v in table.items()}


def _max_diff(a: dict, b: dict) -> float:
    keys = set(a) | set(b)
    return max((abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys), default=0.0)


# ---------------------------------------------------------------------------- child process
def _read(data: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict]:
    old = gpd.read_parquet(data / "old.parquet")
    new = gpd.read_parquet(data / "new.parquet")
    return old, new, {k: gpd.read_parquet(data / f"{k}.parquet") for k in CONTROLS}


def child(route: str, data: Path) -> None:
    """Run one route on the data in ``data``; print the JSON report as the last line."""
    t0 = time.perf_counter()
    old, new, controls = _read(data)
    read_s = time.perf_counter() - t0
    run = {"onemap": lambda: ours(old, new, controls),
           "bsm_join": lambda: bsm_join(old, new, controls),
           "overlay": lambda: full_overlay(old, new)}[route]
    stats, result = route_stats(run)
    print(json.dumps({"route": route, "read_s": round(read_s, 2), **stats, **result}, ensure_ascii=False))


# ---------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--naive", action="store_true", help="also the overlay of the whole versions")
    parser.add_argument("--route", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.route:
        child(args.route, Path(args.data))
        return
    routes = ["onemap", "bsm_join"] + (["overlay"] if args.naive else [])
    rows, report = [], []
    load0 = load_average()
    for n in [int(s) for s in args.sizes.split(",")]:
        t0 = time.perf_counter()
        old, new, controls, expected = make_versions(n)
        gen = time.perf_counter() - t0
        with tempfile.TemporaryDirectory(prefix="onemap-bench-changes-") as tmp:
            data = Path(tmp)
            old.to_parquet(data / "old.parquet")
            new.to_parquet(data / "new.parquet")
            for k, g in controls.items():
                g.to_parquet(data / f"{k}.parquet")
            del old, new, controls
            results = {r: isolated(__file__, ["--route", r, "--data", str(data)]) for r in routes}
        base = results["onemap"]
        entry = {"patches": n, "generate_s": round(gen, 1), "expected": expected, "routes": {}}
        for r in routes:
            res = results[r]
            diff = _max_diff(base["pairs"], res["pairs"])
            odiff = _max_diff(base["overlaps"], res["overlaps"]) if res["overlaps"] else float("nan")
            ratio, cpu_ratio = res["wall_s"] / base["wall_s"], res["cpu_s"] / base["cpu_s"]
            entry["routes"][r] = {k: v for k, v in res.items() if k != "pairs"} | {
                "max_pair_diff_m2": diff, "max_overlap_diff_m2": odiff, "ratio_wall": round(ratio, 2),
                "ratio_cpu": round(cpu_ratio, 2), "change_area_m2": sum(res["pairs"].values())}
            rows.append([f"{n:,}", ROUTE_NAMES[r], f"{res['wall_s']:.2f}", f"{res['cpu_s']:.2f}",
                         res["peak_process_mib"], res["changes"], f"{sum(res['pairs'].values()) / 1e4:.1f}",
                         f"{diff:.3f}", "—" if r == "overlay" else f"{odiff:.3f}",
                         f"{ratio:.2f}", f"{cpu_ratio:.2f}"])
        report.append(entry)
        print(json.dumps({k: v for k, v in entry.items() if k != "routes"} | {
            r: {k: v for k, v in e.items() if k not in ("overlaps", "summary")}
            for r, e in entry["routes"].items()}, ensure_ascii=False), flush=True)
    print_table(
        "Change detection between two DLTB versions (~2 % real changes, 29 vertices/patch), "
        "each route in its own process",
        ["patches", "route", "wall s", "CPU s", "peak RSS MiB", "pieces", "change ha",
         "max |Δ| pair m²", "max |Δ| overlap m²", "route/ours wall", "route/ours CPU"],
        rows,
    )
    print(f"load average (1 min) at start {load0}, at end {load_average()} on {os.cpu_count()} CPUs; "
          "peak RSS is the route's process, its input included")
    OUT.mkdir(exist_ok=True)
    (OUT / "changes.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
