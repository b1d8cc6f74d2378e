"""Benchmark: ingest of a DLTB delivery of 100 000 and 1 000 000 patches.

The delivery is a GeoPackage in CGCS2000 3° Gauss-Krüger zone 35 with zone-prefixed
eastings (EPSG:4523) and the standard DLTB fields, TBMJ/KCMJ/TBDLMJ left empty.
``onemap ingest`` reads it, detects the CRS, transforms to EPSG:4490, repairs and
validates (schema + QC rules), computes the official areas and writes a new version.

Baseline in the same run: the bare copy a script would do without any checks,
``pyogrio.read_dataframe → to_crs(4490) → pyogrio.write_dataframe``.

Usage: ``.venv/bin/python bench/ingest.py [--sizes 100000,1000000]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pyogrio  # noqa: E402

from _common import measure, print_table, synthetic_patches  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # Warm up imports and domain-table caches once, so both routes start warm.
        warm = Path(tmp) / "warm.gpkg"
        delivery(100, warm)
        ingest(init_workspace(Path(tmp) / "warm_ws.gpkg"), str(warm), dataset="DLTB", version="1")
        for n in [int(s) for s in args.sizes.split(",")]:
            src = Path(tmp) / f"dltb_{n}.gpkg"
            delivery(n, src)
            store = init_workspace(Path(tmp) / f"ws_{n}.gpkg")
            t, mem, result = measure(
                lambda s=store, p=src: ingest(s, str(p), dataset="DLTB", version="2024")
            )
            assert result.version.feature_count == n
            rows.append([f"{n:,}", "onemap ingest (checks + official areas)", f"{t:.1f}", f"{mem:.0f}",
                         "1.00"])
            out = Path(tmp) / f"copy_{n}.gpkg"

            def bare_copy(p=src, o=out):
                g = pyogrio.read_dataframe(p, use_arrow=True).to_crs(4490)
                pyogrio.write_dataframe(g, o, layer="DLTB", use_arrow=True)

            tb, memb, _ = measure(bare_copy)
            rows.append([f"{n:,}", "bare copy (read → to_crs → write, no checks)", f"{tb:.1f}",
                         f"{memb:.0f}", f"{tb / t:.2f}"])
            store.close()
            for f in (src, out, Path(tmp) / f"ws_{n}.gpkg"):
                f.unlink(missing_ok=True)
    print_table(
        "Ingest of a DLTB delivery (GeoPackage, EPSG:4523, 29 vertices per patch)",
        ["patches", "route", "seconds", "peak MiB", "baseline/ours"],
        rows,
    )


if __name__ == "__main__":
    main()
