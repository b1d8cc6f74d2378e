"""Benchmark: ingest of a DLTB delivery of 100 000 and 1 000 000 patches.

The delivery is a GeoPackage in CGCS2000 3° Gauss-Krüger zone 35 with zone-prefixed
eastings (EPSG:4523) and the standard DLTB fields, TBMJ/KCMJ/TBDLMJ left empty.
``onemap ingest`` reads it, detects the CRS, transforms to EPSG:4490, repairs and
validates (schema + QC rules), computes the official areas and writes a new version.

Baseline in the same run: the bare copy a script would do without any checks,
``pyogrio.read_dataframe → to_crs(4490) → pyogrio.write_dataframe``.

Each route runs in a fresh process (after one small warm-up ingest in that process, so
imports and domain tables are loaded): wall time, CPU time and peak resident memory of
the call and of the process. Targets (issue #16, at 1 000 000 patches): ≤ 40 s and
≤ 2 GiB peak.

Usage: ``.venv/bin/python bench/ingest.py [--sizes 100000,1000000]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pyogrio  # noqa: E402

from _common import isolated, load_average, print_table, route_stats, synthetic_patches  # noqa: E402
from onemap.ingest import ingest  # noqa: E402
from onemap.store import init_workspace  # noqa: E402


def delivery(n: int, path: Path) -> None:
    """Write a DLTB delivery of ``n`` patches in EPSG:4523."""
    rng = np.random.default_rng(1)
    codes = np.array(["0101", "0102", "0103", "0301", "0305", "0401", "0404", "0702", "1006", "1205"])
    names = {"0101": "水田", "0102": "水浇地", "0103": "旱地", "0301": "乔木林地", "0305": "灌木林地",
             "0401": "天然牧草地", "0404": "其他草地", "0702": "农村宅基地", "1006": "农村道路", "1205": "沙地"}
    dlbm = codes[rng.integers(0, len(codes), n)]
    gd = np.char.startswith(dlbm.astype(str), "01")
    counties = np.array(["640302", "640303", "640323", "640324", "640381"])
    zl = np.char.add(np.char.add(counties[rng.integers(0, 5, n)], "001001"), "0000000")
    gdf = gpd.GeoDataFrame(
        {
            "BSM": np.char.add("6403", np.char.zfill(np.arange(n).astype(str), 14)),
            "YSDM": "2001010100",
            "TBBH": np.char.zfill((np.arange(n) % 10000).astype(str), 4),
            "DLBM": dlbm,
            "DLMC": [names[c] for c in dlbm],
            "QSXZ": "30",
            "QSDWDM": zl,
            "QSDWMC": "某村",
            "ZLDWDM": zl,
            "ZLDWMC": "某村",
            "KCDLBM": np.where(gd, "1203", ""),
            "KCXS": np.where(gd, 0.05, 0.0),
            "GDLX": np.where(gd, "PD", ""),
            "GDPDJB": np.where(gd, "2", ""),
            "ZZSXDM": np.where(gd, "LS", ""),
            "ZZSXMC": np.where(gd, "种植粮食作物", ""),
        },
        geometry=synthetic_patches(n),
        crs=4490,
    ).to_crs(4523)
    pyogrio.write_dataframe(gdf, path, layer="DLTB", use_arrow=True)


def child(route: str, src: Path, tmp: Path) -> None:
    """Run one route on the delivery ``src`` in this (fresh) process; print its JSON report."""
    warm = tmp / "warm.gpkg"
    delivery(100, warm)
    ingest(init_workspace(tmp / "warm_ws.gpkg"), str(warm), dataset="DLTB", version="1")
    if route == "onemap":
        store = init_workspace(tmp / "ws.gpkg")
        stats, result = route_stats(lambda: ingest(store, str(src), dataset="DLTB", version="2024"))
        stats["features"] = result.version.feature_count
        store.close()
    else:
        def bare_copy() -> int:
            g = pyogrio.read_dataframe(src, use_arrow=True).to_crs(4490)
            pyogrio.write_dataframe(g, tmp / "copy.gpkg", layer="DLTB", use_arrow=True)
            return len(g)

        stats, count = route_stats(bare_copy)
        stats["features"] = count
    print(json.dumps(stats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--route", help=argparse.SUPPRESS)
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.route:
        child(args.route, Path(args.src), Path(args.tmp))
        return
    rows = []
    load0 = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            src = Path(tmp) / f"dltb_{n}.gpkg"
            delivery(n, src)
            res = {}
            for route in ("onemap", "bare"):
                work = Path(tmp) / f"{route}_{n}"
                work.mkdir()
                res[route] = isolated(__file__, ["--route", route, "--src", str(src), "--tmp", str(work)])
                assert res[route]["features"] == n, res[route]
            ours, bare = res["onemap"], res["bare"]
            verdict = ""
            if n >= 1_000_000:
                ok = ours["wall_s"] <= 40 and ours["peak_process_mib"] <= 2048
                verdict = f"{'PASS' if ok else 'FAIL'} (≤ 40 s, ≤ 2 GiB)"
            rows.append([f"{n:,}", "onemap ingest (checks + official areas)", f"{ours['wall_s']:.1f}",
                         f"{ours['cpu_s']:.1f}", ours["peak_call_mib"], ours["peak_process_mib"], "1.00", "1.00",
                         verdict])
            rows.append([f"{n:,}", "bare copy (read → to_crs → write, no checks)", f"{bare['wall_s']:.1f}",
                         f"{bare['cpu_s']:.1f}", bare["peak_call_mib"], bare["peak_process_mib"],
                         f"{bare['wall_s'] / ours['wall_s']:.2f}", f"{bare['cpu_s'] / ours['cpu_s']:.2f}", ""])
            src.unlink(missing_ok=True)
    print_table(
        "Ingest of a DLTB delivery (GeoPackage, EPSG:4523, 29 vertices per patch), each route in its own process",
        ["patches", "route", "wall s", "CPU s", "peak call MiB", "peak process MiB", "baseline/ours wall",
         "baseline/ours CPU", "target"],
        rows,
    )
    print(f"load average (1 min) at start {load0}, at end {load_average()} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
