"""Benchmark: official ellipsoidal area of 100 000 and 1 000 000 patches.

Baselines in the same run:
- ``gk_planar``: what scripts usually do, ``GeoSeries.to_crs(GK zone).area``
  (planar, not the official area);
- ``pyproj_geodesic``: ``pyproj.Geod.geometry_area_perimeter`` per polygon (exact
  geodesic), on the 100 000 case only (about a minute per million).

Target: 1 000 000 patches in under 10 s on one core.

Usage: ``.venv/bin/python bench/area.py [--sizes 100000,1000000]``
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pyproj  # noqa: E402

from _common import measure, print_table, synthetic_patches  # noqa: E402
from onemap.geo.area import A_CGCS2000, F_CGCS2000, ellipsoidal_area  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    geod = pyproj.Geod(a=A_CGCS2000, f=F_CGCS2000)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        polys = synthetic_patches(n)
        t, mem, ours = measure(lambda polys=polys: ellipsoidal_area(polys))
        rows.append([f"{n:,}", "onemap.ellipsoidal_area", f"{t:.2f}", f"{mem:.0f}", "1.00",
                     "PASS" if n < 1_000_000 or t < 10 else "FAIL (>10 s)"])
        series = gpd.GeoSeries(polys, crs=4490)
        tb, memb, planar = measure(lambda s=series: s.to_crs(4544).area.to_numpy())
        rel = np.median(np.abs(planar - ours) / ours)
        rows.append([f"{n:,}", f"gk_planar (median rel. diff {rel:.1e})", f"{tb:.2f}",
                     f"{memb:.0f}", f"{tb / t:.2f}", ""])
        if n <= 100_000:
            tg, memg, geo = measure(
                lambda p=polys: np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in p])
            )
            rel = np.max(np.abs(geo - ours) / geo)
            rows.append([f"{n:,}", f"pyproj_geodesic (max rel. diff {rel:.1e})", f"{tg:.2f}",
                         f"{memg:.0f}", f"{tg / t:.2f}", ""])
        del polys, series
    print_table(
        "Ellipsoidal area (29 vertices per patch, one core)",
        ["patches", "method", "seconds", "peak MiB", "baseline/ours", "target"],
        rows,
    )


if __name__ == "__main__":
    main()
