"""田坎 share of change pieces cut from a 耕地 patch with a deduction (official-tables.md §4).

The eastern half of the box 106.2–106.21 × 37.9–37.91 measures 488074.937789917 m²
(tests/analysis/data/tabulate_half_cut.yaml): with KCXS 0.121 its net 耕地 is
round(488074.9378 × 0.879, 2) = 429017.87 and its 田坎 488074.94 − 429017.87 = 59057.07.
"""

from __future__ import annotations

import geopandas as gpd
import shapely

from onemap.monitor.changes import change_totals, detect_changes

WEST = shapely.box(106.2, 37.9, 106.205, 37.91)
EAST = shapely.box(106.205, 37.9, 106.21, 37.91)
ZL = "6403021010010000000"


def _layer(rows, geoms):
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490")


def test_cut_farmland_piece_carries_its_tiankan_share():
    old = _layer({"BSM": ["1", "2"], "DLBM": ["0103", "0301"], "KCXS": [0.121, 0.0],
                  "ZLDWDM": [ZL, ZL]},
                 [shapely.box(106.2, 37.9, 106.21, 37.91), shapely.box(106.21, 37.9, 106.22, 37.91)])
    new = _layer({"BSM": ["3", "4", "5"], "DLBM": ["0103", "0601", "0602"], "KCXS": [0.121, 0, 0],
                  "ZLDWDM": [ZL, ZL, ZL]},
                 [WEST, EAST, shapely.box(106.21, 37.9, 106.22, 37.91)])
    r = detect_changes(old, new)
    by_after = r.changes.set_index("after")
    east = by_after.loc["0601"]
    assert east["area_m2"] == 488074.94  # round(488074.937789917, 2)
    assert east["gd_area_m2"] == 429017.87
    assert east["tiankan_m2"] == 59057.07
    assert round(east["gd_area_m2"] + east["tiankan_m2"], 2) == round(east["area_m2"], 2)
    forest = by_after.loc["0602"]  # 林地 → 采矿: no 田坎 deduction
    assert forest["gd_area_m2"] == 0.0 and forest["tiankan_m2"] == 0.0
    totals = change_totals(r.changes)
    assert totals["zygd_area_m2"] == 429017.87 and totals["zygd_tiankan_m2"] == 59057.07
