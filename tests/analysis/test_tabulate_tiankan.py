"""田坎 share where a zone cuts a patch with a 田坎 deduction (official-tables.md §4).

Expectations by hand, with the areas of tests/analysis/data/tabulate_half_cut.yaml (pieces
bounded by meridians and parallels, measured with the independent series formula).
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from onemap.analysis.tabulate import tabulate

PATCH = "POLYGON ((106.2 37.9, 106.21 37.9, 106.21 37.91, 106.2 37.91, 106.2 37.9))"
HALF = "POLYGON ((106.205 37.895, 106.225 37.895, 106.225 37.915, 106.205 37.915, 106.205 37.895))"
ALL = "POLYGON ((106.1 37.8, 106.3 37.8, 106.3 38.0, 106.1 38.0, 106.1 37.8))"
INSIDE_AREA = 488074.937789917  # the eastern half of PATCH


def _dltb(**fields) -> gpd.GeoDataFrame:
    row = {"BSM": "1", "DLBM": "0103", "ZLDWDM": "6403021010010000000", "KCXS": 0.121,
           "TBDLMJ": 858035.74, **fields}
    return gpd.GeoDataFrame([row], geometry=[shapely.from_wkt(PATCH)], crs="EPSG:4490")


def _rows(dltb, zone_wkt):
    zone = gpd.GeoDataFrame(geometry=[shapely.from_wkt(zone_wkt)], crs="EPSG:4490")
    r = tabulate(dltb, {"YJJBNTTB": zone}, workers=1).rows.set_index("inside")
    return r.loc[True], r.loc[False]


def test_cut_patch_reports_its_tiankan_share_beside_the_net_area():
    inside, outside = _rows(_dltb(TBMJ=976149.88, KCMJ=118114.14), HALF)
    # net = round(488074.9378 × 0.879, 2); 田坎 = round(area, 2) − net = 488074.94 − 429017.87
    assert inside["tbdlmj_m2"] == 429017.87
    assert inside["tiankan_m2"] == 59057.07
    assert round(inside["tbdlmj_m2"] + inside["tiankan_m2"], 2) == round(INSIDE_AREA, 2)
    # outside: TBDLMJ − net and KCMJ − 田坎
    assert outside["tbdlmj_m2"] == 429017.87
    assert outside["tiankan_m2"] == 59057.07
    assert round(inside["tiankan_m2"] + outside["tiankan_m2"], 2) == 118114.14


def test_wholly_inside_patch_keeps_its_delivered_kcmj():
    # a delivered KCMJ (here 0.10 m² off the product, as after 平差) is kept when the patch is whole
    inside, outside = _rows(_dltb(TBMJ=976149.88, KCMJ=118114.04, TBDLMJ=858035.84), ALL)
    assert (inside["tbdlmj_m2"], inside["tiankan_m2"]) == (858035.84, 118114.04)
    assert (outside["tbdlmj_m2"], outside["tiankan_m2"]) == (0.0, 0.0)


def test_kcmj_from_tbmj_or_from_the_area_when_not_delivered():
    inside, outside = _rows(_dltb(TBMJ=976149.88), HALF)  # KCMJ = 976149.88 − 858035.74
    assert inside["tiankan_m2"] == 59057.07
    assert round(outside["tiankan_m2"], 2) == 59057.07
    # neither: KCMJ = round(area × KCXS, 2) = round(976149.8756 × 0.121, 2) = 118114.13
    inside, outside = _rows(_dltb(), HALF)
    assert inside["tiankan_m2"] == 59057.07
    assert round(outside["tiankan_m2"], 2) == 59057.06


def test_patch_without_deduction_has_no_tiankan():
    inside, outside = _rows(_dltb(KCXS=0.0, TBDLMJ=976149.88, KCMJ=0.0), HALF)
    assert inside["tiankan_m2"] == 0.0 and outside["tiankan_m2"] == 0.0
    assert inside["tbdlmj_m2"] == pytest.approx(488074.94)


def test_filed_xlsx_shows_the_tiankan_beside_the_net_class_area(tmp_path):
    """The class detail sheet: 0103 inside 42.90 公顷 net with 5.91 公顷 田坎 (59 057.07 m²), outside the same."""
    import datetime

    import openpyxl

    from onemap.reports.xlsx import Filing
    from onemap.services import write_tabulation

    zone = gpd.GeoDataFrame(geometry=[shapely.from_wkt(HALF)], crs="EPSG:4490")
    result = tabulate(_dltb(TBMJ=976149.88, KCMJ=118114.14), {"YJJBNTTB": zone}, workers=1)
    out = tmp_path / "t.xlsx"
    filing = Filing(region="测试市", filing_unit="测试市自然资源局", on=datetime.date(2024, 12, 3))
    write_tabulation(result, xlsx=out, filing=filing)
    ws = openpyxl.load_workbook(out)["控制线内外地类明细"]
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(r for r in cells if "范围内田坎（1203）" in r)
    row = next(r for r in cells if "0103" in r)
    got = {h: v for h, v in zip(header, row, strict=True) if h}
    assert (got["范围内"], got["范围内田坎（1203）"], got["范围外"], got["范围外田坎（1203）"]) == (
        42.90, 5.91, 42.90, 5.91)
