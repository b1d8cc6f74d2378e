"""Small hand-made worlds for the monitoring tests (lon/lat near 利通区, cells of 0.001°).

Plain helpers live here, under a module name no other test folder uses, so that test modules
import them by name whatever order pytest collects the folders in (``from conftest import``
would pick whichever folder's conftest was imported first).
"""

from __future__ import annotations

import geopandas as gpd
import shapely

X0, Y0, U = 106.20, 37.90, 0.001

VILLAGE_A = "6403020010010000000"
VILLAGE_B = "6403020010020000000"


def cell(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A box in grid units (0.001°) from the origin."""
    return shapely.box(X0 + x0 * U, Y0 + y0 * U, X0 + x1 * U, Y0 + y1 * U)


def frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """GeoDataFrame in EPSG:4490 from dicts with a ``geometry`` key."""
    geoms = [r.pop("geometry") for r in rows]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4490)


def _patch(bsm, dlbm, geom, zl, **kw):
    return {"BSM": str(bsm), "DLBM": dlbm, "ZLDWDM": zl, "ZLDWMC": "甲村" if zl == VILLAGE_A
            else "乙村", "KCXS": 0.05 if dlbm.startswith("01") else 0.0, "SJNF": 2023,
            "geometry": geom, **kw}


def rotated(poly: shapely.Polygon) -> shapely.Polygon:
    """The same polygon with the ring starting at another vertex (re-noded, same shape)."""
    pts = list(poly.exterior.coords)[:-1]
    pts = pts[1:] + pts[:1]
    return shapely.Polygon(pts + [pts[0]])


def dltb_2023() -> gpd.GeoDataFrame:
    return frame([
        _patch(1, "0103", cell(0, 0, 1, 1), VILLAGE_A),
        _patch(2, "0101", cell(1, 0, 2, 1), VILLAGE_A),
        _patch(3, "0103", cell(2, 0, 3, 1), VILLAGE_A),
        _patch(4, "0301", cell(3, 0, 4, 1), VILLAGE_A),
        _patch(5, "0702", cell(0, 1, 1, 2), VILLAGE_B),
        _patch(6, "0702", cell(1, 1, 2, 2), VILLAGE_B),
        _patch(7, "0103", cell(2, 1, 3, 2), VILLAGE_B),
        _patch(8, "0404", cell(3, 1, 4, 2), VILLAGE_B),
    ])


def dltb_2024() -> gpd.GeoDataFrame:
    rows = [
        _patch(101, "0103", cell(0, 0, 0.5, 1), VILLAGE_A),      # split: west part stays 旱地
        _patch(102, "0601", cell(0.5, 0, 1, 1), VILLAGE_A),      # east part built, no approval
        _patch(2, "0702", cell(1, 0, 2, 1), VILLAGE_A),          # 水田 in 永农 → 宅基地
        _patch(3, "0601", cell(2, 0, 3, 1), VILLAGE_A),          # approved and built
        _patch(4, "0301", cell(3, 0, 4, 1), VILLAGE_A, BZ="核实"),  # attribute-only edit
        _patch(5, "0702", cell(0, 1, 1.3, 2), VILLAGE_B),        # boundary re-drawn, same class
        _patch(6, "0702", cell(1.3, 1, 2, 2), VILLAGE_B),
        _patch(7, "0103", rotated(cell(2, 1, 3, 2)), VILLAGE_B),  # re-noded, unchanged
        _patch(8, "1202", cell(3, 1, 4, 2), VILLAGE_B),          # 设施农用地, filed
    ]
    for r in rows:
        r["SJNF"] = 2024
    rows[4]["ZLDWMC"] = "甲村"
    return frame(rows)


def dltb_2025() -> gpd.GeoDataFrame:
    g = dltb_2024()
    g["SJNF"] = 2025
    g.loc[g["BSM"] == "102", "DLBM"] = "0103"                  # reclaimed (拆除复耕)
    g.loc[g["BSM"] == "102", "KCXS"] = 0.05
    return g


def controls() -> dict[str, gpd.GeoDataFrame]:
    return {
        "YJJBNTTB": frame([{"BSM": "YN1", "ZLDWDM": VILLAGE_A, "geometry": cell(1, 0, 2, 1)}]),
        "STBHHX": frame([{"BSM": "HX1", "XZQDM": "640302", "geometry": cell(10, 10, 11, 11)}]),
        "CZKFBJ": frame([{"BSM": "KF1", "XZQDM": "640302", "geometry": cell(2, 0, 4, 1)}]),
        "XZQ": frame([{"XZQDM": "640302001000", "XZQMC": "利通区某镇",
                       "geometry": cell(-5, -5, 20, 20)}]),
    }


def approvals() -> dict[str, gpd.GeoDataFrame]:
    return {
        "NZYPC": frame([{"PCBH": "PC-2024-01", "PCMC": "2024年第1批次", "PZRQ": "20240301",
                         "PZJG": "宁夏回族自治区人民政府", "ZT": "有效",
                         "geometry": cell(2, 0, 3, 1)}]),
        "GD": frame([{"DZJGH": "6403022024B00001", "QDRQ": "2024-05-01", "GYFS": "出让",
                      "ZT": "有效", "geometry": cell(2, 0, 3, 1)}]),
        "SSNYD": frame([{"BABH": "SS-2024-01", "BARQ": "2024-02-01", "ZT": "有效",
                         "geometry": cell(3, 1, 4, 2)}]),
        "LSYD": frame([{"PZWH": "LS-2023-09", "PZRQ": "2023-01-01", "ZZRQ": "2024-12-31",
                        "ZT": "有效", "geometry": cell(8, 8, 9, 9)}]),
    }


def make_photo(path, *, lon=106.2008, lat=37.9005, when="2025:03:05 10:20:30", gps=True):
    """A tiny JPEG, with EXIF GPS position and time unless ``gps`` is False."""
    from PIL import Image

    img = Image.new("RGB", (8, 8), "green")
    exif = Image.Exif()
    if gps:
        def dms(v):
            d = int(v)
            m = int((v - d) * 60)
            return (float(d), float(m), round((v - d - m / 60) * 3600, 4))

        exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
        exif[0x8769] = {36867: when}
    img.save(path, exif=exif)
    return str(path)
