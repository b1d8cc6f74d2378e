"""Benchmark: warm site check (onemap check) against a 1 000 000-patch workspace.

Builds (once, cached in ``bench/out/``) or opens a workspace holding DLTB with
``--patches`` patches plus 永久基本农田, 生态保护红线, 城镇开发边界, 自然保护地 and an
XZQ extent; warms a :class:`onemap.control.SiteChecker`; checks ``--sites`` random
sites of 2–50 ha inside the extent (each check includes ``to_dict()``); prints
p50/p95/max.

The workspace is the Wuzhong sample (``onemap.sample.build_sample``) when that
generator is available and ``--source sample`` or ``auto`` is chosen, else
synthetic star-shaped patches (``bench/_common.synthetic_patches``).

Baselines in the same run, on a subset of the same sites:

- ``geopandas.clip``: per site, ``geopandas.clip`` of every layer (in-memory
  GeoDataFrames, spatial index prebuilt) + ellipsoidal area;
- ``cold read + overlay``: per site, ``store.read(bbox=…)`` of every layer from
  the GeoPackage and ``geopandas.overlay`` — a check without warm state.

Target: p95 ≤ 50 ms over 1000 sites against 1 000 000 patches.

Usage: ``.venv/bin/python bench/check.py [--patches 1000000] [--sites 1000]
[--source auto|sample|synthetic] [--baseline-sites 100] [--rebuild]``
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from _common import OUT, print_table, synthetic_patches  # noqa: E402
from onemap.geo.area import ellipsoidal_area  # noqa: E402
from onemap.store import VersionMeta, init_workspace, open_workspace  # noqa: E402

# Synthetic class mix (DLBM, share): roughly a Ningxia county.
CLASS_MIX = [
    ("0101", 0.04), ("0102", 0.14), ("0103", 0.10), ("0201", 0.03), ("0301", 0.05),
    ("0305", 0.04), ("0307", 0.03), ("0401", 0.12), ("0404", 0.14), ("0601", 0.02),
    ("0602", 0.01), ("0701", 0.01), ("0702", 0.04), ("1003", 0.02), ("1006", 0.03),
    ("1101", 0.02), ("1104", 0.01), ("1107", 0.03), ("1202", 0.02), ("1206", 0.10),
]
BBOX = (105.9, 36.6, 107.6, 38.2)
LAYERS = ["DLTB", "YJJBNTTB", "STBHHX", "CZKFBJ", "ZRBHD"]


def _blobs(rng: np.random.Generator, n: int, r_min: float, r_max: float,
           vertices: int = 48) -> np.ndarray:
    """``n`` irregular lon/lat blobs of radius r_min–r_max degrees inside BBOX."""
    ang = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    cx = rng.uniform(BBOX[0] + r_max, BBOX[2] - r_max, n)
    cy = rng.uniform(BBOX[1] + r_max, BBOX[3] - r_max, n)
    r = rng.uniform(r_min, r_max, (n, 1)) * rng.uniform(0.7, 1.0, (n, vertices))
    xy = np.stack([cx[:, None] + r * np.cos(ang), cy[:, None] + r * np.sin(ang)], -1)
    return shapely.polygons(np.concatenate([xy, xy[:, :1]], axis=1))


def synthetic_layers(n: int, seed: int = 0) -> dict[str, gpd.GeoDataFrame]:
    """DLTB of ``n`` synthetic patches and the control layers."""
    rng = np.random.default_rng(seed)
    geoms = synthetic_patches(n, seed=seed)
    codes = np.array([c for c, _ in CLASS_MIX])
    share = np.array([s for _, s in CLASS_MIX])
    dlbm = rng.choice(codes, size=n, p=share / share.sum())
    cult = np.isin(dlbm, ["0101", "0102", "0103"])
    slope = np.where(cult, rng.choice(["1", "2", "3", "4", "5"], size=n,
                                      p=[0.4, 0.3, 0.15, 0.1, 0.05]), None)
    kcxs = np.where(cult & (slope != "1"), rng.uniform(0.02, 0.15, n), 0.0)
    dltb = gpd.GeoDataFrame({
        "BSM": np.char.add("640302", np.arange(1, n + 1).astype(str)),
        "DLBM": dlbm, "DLMC": dlbm, "GDPDJB": slope, "KCXS": kcxs,
        "ZLDWDM": "6403020010010000000",
    }, geometry=geoms, crs="EPSG:4490")
    yn_idx = np.flatnonzero(cult & (rng.random(n) < 0.6))
    yjjbnt = gpd.GeoDataFrame({"BSM": np.char.add("YN", np.arange(len(yn_idx)).astype(str))},
                              geometry=geoms[yn_idx], crs="EPSG:4490")
    red = _blobs(rng, 400, 0.01, 0.06)
    town = _blobs(rng, 60, 0.01, 0.05)
    nature = _blobs(rng, 30, 0.02, 0.08)
    core = shapely.buffer(nature, -0.01)
    layers = {
        "DLTB": dltb,
        "YJJBNTTB": yjjbnt,
        "STBHHX": gpd.GeoDataFrame({"BSM": [f"HX{i}" for i in range(len(red))]}, geometry=red,
                                   crs="EPSG:4490"),
        "CZKFBJ": gpd.GeoDataFrame({"BSM": [f"CZ{i}" for i in range(len(town))]}, geometry=town,
                                   crs="EPSG:4490"),
        "ZRBHD": gpd.GeoDataFrame(
            {"BSM": [f"ZR{i}" for i in range(2 * len(nature))],
             "ZRBHDMC": [f"保护地{i % len(nature)}" for i in range(2 * len(nature))],
             "GNFQ": ["一般控制区"] * len(nature) + ["核心保护区"] * len(nature)},
            geometry=np.concatenate([shapely.difference(nature, core), core]), crs="EPSG:4490"),
        "XZQ": gpd.GeoDataFrame({"BSM": ["1"], "XZQDM": ["640302000000"], "XZQMC": ["模拟区"]},
                                geometry=[shapely.box(*BBOX)], crs="EPSG:4490"),
    }
    return layers


def resolve_source(source: str) -> str:
    """``sample`` when the Wuzhong generator is available (and wanted), else ``synthetic``."""
    if source == "synthetic":
        return source
    try:
        from onemap.sample import build_sample  # noqa: F401
    except ImportError:
        if source == "sample":
            raise SystemExit("onemap.sample.build_sample 不可用") from None
        return "synthetic"
    return "sample"


def build(path: Path, patches: int, kind: str) -> None:
    """Create the benchmark workspace (``kind`` sample or synthetic)."""
    t = time.perf_counter()
    if kind == "sample":
        from onemap.services import build_sample_workspace

        build_sample_workspace(path, patches=patches, seed=2024)
    else:
        store = init_workspace(path, name="bench check (synthetic)")
        for ds, gdf in synthetic_layers(patches).items():
            store.write_version(ds, "2024", gdf, VersionMeta(synthetic=True))
    print(f"built {kind} workspace in {time.perf_counter() - t:.0f} s: {path}")


def random_sites(n: int, extent: tuple[float, float, float, float], seed: int = 7,
                 vertices: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """``n`` irregular polygons of 2–50 ha inside ``extent`` (lon/lat)."""
    rng = np.random.default_rng(seed)
    target = rng.uniform(2e4, 50e4, n)  # m²
    minx, miny, maxx, maxy = extent
    cy = rng.uniform(miny + 0.01, maxy - 0.01, n)
    cx = rng.uniform(minx + 0.01, maxx - 0.01, n)
    ang = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    wobble = rng.uniform(0.8, 1.0, (n, vertices))
    # area of the wobbly polygon ≈ mean(w²)·πr²·sin-correction; scale r to hit the target
    shape_area = 0.5 * np.sin(2 * np.pi / vertices) * np.sum(
        wobble * np.roll(wobble, -1, axis=1), axis=1)
    r_m = np.sqrt(target / shape_area)
    dlat = r_m / 111_320.0
    dlon = dlat / np.cos(np.radians(cy))
    xy = np.stack([cx[:, None] + dlon[:, None] * wobble * np.cos(ang),
                   cy[:, None] + dlat[:, None] * wobble * np.sin(ang)], -1)
    sites = shapely.polygons(np.concatenate([xy, xy[:, :1]], axis=1))
    return sites, ellipsoidal_area(sites)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patches", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--baseline-sites", type=int, default=100)
    parser.add_argument("--source", choices=["auto", "sample", "synthetic"], default="auto")
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    kind = resolve_source(args.source)
    path = args.workspace or OUT / f"check_{kind}_{args.patches}.gpkg"
    if args.rebuild and path.exists():
        path.unlink()
    if path.exists():
        kind += ", cached"
    else:
        build(path, args.patches, kind)
    store = open_workspace(path)
    n_dltb = store.version("DLTB").feature_count

    from onemap.control import SiteChecker

    t0 = time.perf_counter()
    checker = SiteChecker(store)
    load_s = time.perf_counter() - t0
    sites, site_area = random_sites(args.sites, checker.bounds)
    for g in sites[:20]:  # warm-up (first calls import and cache)
        checker.check(g).to_dict()

    times = []
    hits = []
    for g in sites:
        t = time.perf_counter()
        res = checker.check(g).to_dict()
        times.append((time.perf_counter() - t) * 1000)
        hits.append(sum(c["patches"] for c in res["classes"]))
    p50, p95, worst = pct(times, 50), pct(times, 95), max(times)

    # ---- baseline 1: geopandas.clip on in-memory layers (sindex prebuilt)
    nb = min(args.baseline_sites, len(sites))
    frames = {ds: store.read(ds) for ds in LAYERS if ds in {d.name for d in store.datasets()}}
    for f in frames.values():
        _ = f.sindex  # build once, not timed
    clip_times = []
    for g in sites[:nb]:
        t = time.perf_counter()
        mask = gpd.GeoSeries([g], crs="EPSG:4490")
        out = {}
        for ds, f in frames.items():
            part = gpd.clip(f, mask)
            out[ds] = ellipsoidal_area(part.geometry.values).sum()
        clip_times.append((time.perf_counter() - t) * 1000)

    # ---- baseline 2: cold read from the GeoPackage + geopandas.overlay per site
    nc = min(max(nb // 4, 10), len(sites))
    cold_times = []
    for g in sites[:nc]:
        t = time.perf_counter()
        site_df = gpd.GeoDataFrame({"site": [1]}, geometry=[g], crs="EPSG:4490")
        for ds in frames:
            part = store.read(ds, bbox=tuple(g.bounds))
            if len(part):
                ov = gpd.overlay(site_df, part, how="intersection", keep_geom_type=True)
                ellipsoidal_area(ov.geometry.values).sum()
        cold_times.append((time.perf_counter() - t) * 1000)

    rows = [
        ["SiteChecker.check (warm) + to_dict", len(times), f"{p50:.2f}", f"{p95:.2f}",
         f"{worst:.2f}", "1.0", "PASS" if p95 <= 50 else "FAIL (p95 > 50 ms)"],
        ["baseline geopandas.clip (in memory)", nb, f"{pct(clip_times, 50):.2f}",
         f"{pct(clip_times, 95):.2f}", f"{max(clip_times):.2f}",
         f"{pct(clip_times, 50) / p50:.1f}", ""],
        ["baseline cold read + overlay", nc, f"{pct(cold_times, 50):.2f}",
         f"{pct(cold_times, 95):.2f}", f"{max(cold_times):.2f}",
         f"{pct(cold_times, 50) / p50:.1f}", ""],
    ]
    print(f"\nworkspace: {path} ({kind}, DLTB {n_dltb:,} patches); checker load {load_s:.1f} s; "
          f"sites {site_area.min() / 1e4:.1f}–{site_area.max() / 1e4:.1f} ha, "
          f"DLTB patches cut per site median {int(np.median(hits))}, max {max(hits)}; "
          f"{os.cpu_count()} CPUs")
    print_table(
        f"Site check, {len(times)} random sites of 2–50 ha (ms per site)",
        ["method", "sites", "p50 ms", "p95 ms", "max ms", "baseline p50 / ours p50", "target"],
        rows,
    )
    if not math.isfinite(p95) or p95 > 50:
        sys.exit(1)


if __name__ == "__main__":
    main()
