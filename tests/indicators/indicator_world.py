"""A tiny hand-built workspace for the indicator tests (imported by conftest and the tests).

Two counties side by side (利通区 640302 west, 青铜峡市 640381 east), each a
10 × 10 grid of 0.001° cells near 37.9°N. Every DLTB patch is one grid box
with a TBDLMJ chosen by hand (not its geometric area), so class sums are
plain additions of the table below; zone layers are boxes that hold patches
wholly, so the in-zone sums are additions too. Areas of zone layers are the
official ellipsoidal area, recomputed here with the reference formula of the
standards notes (§3.4), independently of onemap.geo.area.

DLTB 2020 (county A = 640302, county B = 640381)::

    BSM  DLBM CZCSXM cells            TBDLMJ   note
    A01  0101        (0,0)-(1,1)        9000   耕地, in 永农
    A02  0103        (1,0)-(2,1)        8000   耕地 (split in 2024)
    A03  0301        (2,0)-(3,1)        7000   乔木林地
    A04  0305        (3,0)-(4,1)        6000   灌木林地
    A05  0401        (4,0)-(5,1)        5000   草地
    A06  1106        (5,0)-(6,1)        4000   湿地, in ZRBHD
    A07  1108        (6,0)-(7,1)        3000   湿地
    A08  0701  202   (0,2)-(1,3)        2000   in CZKFBJ
    A09  0601  202A  (1,2)-(2,3)        1500   in CZKFBJ
    A10  0702  203   (2,2)-(3,3)        1200   in STBHHX
    A11  1003        (3,2)-(4,3)         800   建设用地, not 城乡
    A12  0302        (4,2)-(5,3)         600   竹林地
    B01  0102        (10,0)-(11,1)      9500   耕地, in 永农
    B02  0301        (11,0)-(12,1)      7500
    B03  0702  203   (10,5)-(11,6)      1800   in STBHHX
    B04  0701  201   (12,2)-(13,3)      2500   in CZKFBJ
    B05  0404        (13,0)-(14,1)      4500   其他草地 (built in 2024)
    B06  0402        (14,0)-(15,1)      3500   湿地, in ZRBHD
    B07  0702  203   (15,0)-(16,1)      1000

DLTB 2024: A02 shrinks to (1,0)-(1.5,1) with 3800; A13 0601/202A on
(1.5,0)-(2,1) with 4100 (new construction on 旱地); B05 is replaced by B08
0702/203 on the same box with 4400 (new construction on unused land).
"""

from __future__ import annotations

import math

import geopandas as gpd
import openpyxl
import pandas as pd
import shapely

from onemap.store import VersionMeta, init_workspace

X0, Y0, U = 106.20, 37.90, 0.001
ZL_A = "6403020010010000000"
ZL_B = "6403810010010000000"

# ---------------------------------------------------------------- reference area (standards §3.4)
_A, _F = 6378137.0, 1 / 298.257222101
_B = _A * (1 - _F)
_E2 = (_A * _A - _B * _B) / (_A * _A)
_C = [1 + 3 / 6 * _E2 + 30 / 80 * _E2**2 + 35 / 112 * _E2**3 + 630 / 2304 * _E2**4,
      1 / 6 * _E2 + 15 / 80 * _E2**2 + 21 / 112 * _E2**3 + 420 / 2304 * _E2**4,
      3 / 80 * _E2**2 + 7 / 112 * _E2**3 + 180 / 2304 * _E2**4,
      1 / 112 * _E2**3 + 45 / 2304 * _E2**4,
      5 / 2304 * _E2**4]


def _trap(b1, l1, b2, l2, l0=0.0):
    dl = math.radians((l1 + l2) / 2 - l0)
    db = math.radians(b2 - b1)
    bm = math.radians((b1 + b2) / 2)
    s = sum((-1) ** k * _C[k] * math.sin((2 * k + 1) * db / 2) * math.cos((2 * k + 1) * bm)
            for k in range(5))
    return 2 * _B * _B * dl * s


def ring_area(cells):
    """Reference ellipsoidal area (m²) of a ring given in grid cells [(x, y), …]."""
    pts = [(X0 + x * U, Y0 + y * U) for x, y in cells]
    n = len(pts)
    return abs(sum(_trap(pts[i][1], pts[i][0], pts[(i + 1) % n][1], pts[(i + 1) % n][0])
                   for i in range(n)))


def box_area(x0, y0, x1, y1):
    """Reference area of a grid box."""
    return ring_area([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


# ---------------------------------------------------------------- the world
def cell(x0, y0, x1, y1):
    return shapely.box(X0 + x0 * U, Y0 + y0 * U, X0 + x1 * U, Y0 + y1 * U)


def frame(rows):
    geoms = [r.pop("geometry") for r in rows]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4490)


def patch(bsm, dlbm, box, tbdlmj, czc="", kcxs=None):
    zl = ZL_A if bsm.startswith("A") else ZL_B
    if kcxs is None:
        kcxs = 0.05 if dlbm.startswith("01") else 0.0
    return {"BSM": bsm, "DLBM": dlbm, "ZLDWDM": zl, "CZCSXM": czc, "TBDLMJ": float(tbdlmj),
            "KCXS": kcxs, "geometry": cell(*box)}


def dltb_2020():
    return frame([
        patch("A01", "0101", (0, 0, 1, 1), 9000), patch("A02", "0103", (1, 0, 2, 1), 8000),
        patch("A03", "0301", (2, 0, 3, 1), 7000), patch("A04", "0305", (3, 0, 4, 1), 6000),
        patch("A05", "0401", (4, 0, 5, 1), 5000), patch("A06", "1106", (5, 0, 6, 1), 4000),
        patch("A07", "1108", (6, 0, 7, 1), 3000), patch("A08", "0701", (0, 2, 1, 3), 2000, "202"),
        patch("A09", "0601", (1, 2, 2, 3), 1500, "202A"), patch("A10", "0702", (2, 2, 3, 3), 1200, "203"),
        patch("A11", "1003", (3, 2, 4, 3), 800), patch("A12", "0302", (4, 2, 5, 3), 600),
        patch("B01", "0102", (10, 0, 11, 1), 9500), patch("B02", "0301", (11, 0, 12, 1), 7500),
        patch("B03", "0702", (10, 5, 11, 6), 1800, "203"), patch("B04", "0701", (12, 2, 13, 3), 2500, "201"),
        patch("B05", "0404", (13, 0, 14, 1), 4500), patch("B06", "0402", (14, 0, 15, 1), 3500),
        patch("B07", "0702", (15, 0, 16, 1), 1000, "203"),
    ])


def dltb_2024():
    g = dltb_2020()
    g = g[~g["BSM"].isin(["A02", "B05"])]
    extra = frame([
        patch("A02", "0103", (1, 0, 1.5, 1), 3800), patch("A13", "0601", (1.5, 0, 2, 1), 4100, "202A"),
        patch("B08", "0702", (13, 0, 14, 1), 4400, "203"),
    ])
    return gpd.GeoDataFrame(pd.concat([g, extra], ignore_index=True), geometry="geometry", crs=4490)


def zones():
    return {
        "XZQ": frame([
            {"XZQDM": "640302001000", "XZQMC": "金积镇", "geometry": cell(0, 0, 10, 5)},
            {"XZQDM": "640302002000", "XZQMC": "上桥镇", "geometry": cell(0, 5, 10, 10)},
            {"XZQDM": "640381001000", "XZQMC": "小坝镇", "geometry": cell(10, 0, 20, 10)},
        ]),
        "STBHHX": frame([
            {"BSM": "H1", "XZQDM": "640302", "geometry": cell(2, 1.5, 3, 3.5)},
            {"BSM": "H2", "XZQDM": "640302", "geometry": cell(2.5, 1.5, 3.5, 4)},
            {"BSM": "H3", "XZQDM": "640381", "geometry": cell(10, 5, 12, 7)},
            {"BSM": "H4", "XZQDM": "640381", "geometry": cell(19, 8, 21, 9)},
        ]),
        "CZKFBJ": frame([
            {"BSM": "K1", "XZQDM": "640302", "geometry": cell(0, 2, 2, 3)},
            {"BSM": "K2", "XZQDM": "640381", "geometry": cell(12, 2, 14, 4)},
        ]),
        "YJJBNTTB": frame([
            {"BSM": "Y1", "ZLDWDM": ZL_A, "geometry": cell(0, 0, 2, 1)},
            {"BSM": "Y2", "ZLDWDM": ZL_B, "geometry": cell(10, 0, 11, 1)},
        ]),
        "ZRBHD": frame([
            {"BSM": "Z1", "ZRBHDMC": "甲保护区", "geometry": cell(4.5, -0.5, 6, 1.5)},
            {"BSM": "Z2", "ZRBHDMC": "乙保护区", "geometry": cell(14, 0, 15, 1)},
        ]),
    }


def coverage():
    return frame([{"BSM": "D1", "geometry": cell(0, 0, 10, 10)},
                  {"BSM": "D2", "geometry": cell(10, 0, 15, 10)}])


# Input form rows: (year, unit code, unit name) → {field: value}
INPUT_ROWS = {
    (2020, "640302", "利通区"): {"gdp": 100, "grass_vegetation_cover": 48.0},
    (2020, "640381", "青铜峡市"): {"gdp": 50},
    (2020, "640300", "吴忠市"): {"grass_vegetation_cover": 50.0},
    (2024, "640302", "利通区"): {
        "gdp": 200, "urban_population": 0.008, "rural_population": 0.001,
        "grass_vegetation_cover": 53.0, "special_shrub_forest_area": 0.5,
        "unsupplied_total": 100, "unsupplied_disposed": 25, "idle_total": 10, "idle_disposed": 1.95,
        "new_construction_quota": 0.5, "farmland_target": 1.2,
        "illegal_farmland_area": 0.05, "new_construction_farmland_area": 0.41},
    (2024, "640381", "青铜峡市"): {
        "gdp": 100, "urban_population": 0.0025, "rural_population": 0.006,
        "unsupplied_total": 200, "unsupplied_disposed": 30, "idle_total": 0, "idle_disposed": 0,
        "new_construction_quota": 0.4, "farmland_target": 0.95,
        "illegal_farmland_area": 0, "new_construction_farmland_area": 0},
    (2024, "640300", "吴忠市"): {"grass_vegetation_cover": 56.1, "eco_redline_target": 0.1},
}


def fill_form(path, rows=INPUT_ROWS):
    """Write the input template at ``path`` and fill it with ``rows``."""
    from onemap.indicators.inputs import load_template, write_input_template

    write_input_template(path, csv_copy=False)
    tpl = load_template()
    col = {f.code: 4 + i for i, f in enumerate(tpl.fields)}
    wb = openpyxl.load_workbook(path)
    ws = wb["填报数据"]
    for i, ((year, code, name), vals) in enumerate(rows.items(), start=2):
        ws.cell(row=i, column=1, value=year)
        ws.cell(row=i, column=2, value=code)
        ws.cell(row=i, column=3, value=name)
        for k, v in vals.items():
            ws.cell(row=i, column=col[k], value=v)
    wb.save(path)
    return path


def build(path, *, with_inputs=True, tmp=None):
    store = init_workspace(path, name="吴忠市测试", region="640300")
    meta = VersionMeta(source_file="test", created_by="pytest", synthetic=True)
    store.write_version("DLTB", "2020", dltb_2020(), meta, title="地类图斑")
    store.write_version("DLTB", "2024", dltb_2024(), meta, title="地类图斑")
    for name, g in zones().items():
        store.write_version(name, "2020" if name == "XZQ" else "2022", g, meta)
    store.write_version("DXT2000", "2024", coverage(), meta)
    if with_inputs:
        from onemap.indicators import import_inputs

        form = fill_form((tmp or path.parent) / "inputs.xlsx")
        import_inputs(store, form, actor="pytest")
    return store
