"""The 田长/林长 grids: cells' land (耕地 net of 田坎), change patches and open cases; lookups.

Every polygon is a lon/lat box between the parallels S and N: the area of a piece is that of the
box the hand-drawn intersection gives (computed on the ellipsoid with the platform's formula).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely

from onemap.app.grids import grid_report
from onemap.app.ledgers import import_records
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.grids import Cells, cell_report, grid_spec, locate
from onemap.store.base import VersionMeta

S, N = 37.90, 37.92


def box(w: float, e: float) -> shapely.Polygon:
    return shapely.box(w, S, e, N)


def cents(g) -> int:
    return int(round(float(ellipsoidal_area([g])[0]) * 100))


COUNTY = box(106.00, 106.04)
V1, V2 = box(106.00, 106.02), box(106.02, 106.04)
# DLTB: A 0103 (KCXS 0.1) in V1, B 0301 across V1/V2, C 0101 in V2
DLTB = [box(106.00, 106.01), box(106.01, 106.025), box(106.025, 106.035)]
DLBM = ["0103", "0301", "0101"]
KCXS = [0.1, 0.0, 0.0]


def fixed_cells(tz: bool = True) -> Cells:
    """Village 1, the county, village 2 (stored in that order, reported coarse first)."""
    chief, worker = ("TZ", "WGY") if tz else ("LZ", "HLY")
    values = [{"WGMC": "一村", "WGCJ": "村级", chief: "李一", worker: "王一"},
              {"WGMC": "甲县", "WGCJ": "县级", chief: "张县长", "LXDH": "0953-1"},
              {"WGMC": "二村", "WGCJ": "村级", chief: "李二"}]
    geoms = np.empty(3, dtype=object)
    geoms[:] = [V1, COUNTY, V2]
    return Cells(["V1", "C", "V2"], values, geoms)


def test_cultivated_net_of_tiankan_changes_and_cases_per_cell():
    spec = grid_spec("田长")
    change = box(106.015, 106.025)
    rows = cell_report(spec, fixed_cells(), dltb_geometry=DLTB, dlbm=DLBM, kcxs=KCXS,
                       changes=[change], cases=[("WP-1", 106.005, 37.91), ("WP-2", 106.03, 37.91)])
    assert [r["code"] for r in rows] == ["C", "V1", "V2"]          # 县级 first, then by code
    a = cents(DLTB[0])
    tk = round(a * 0.1)
    c = cents(DLTB[2])
    by = {r["code"]: r for r in rows}
    assert by["V1"]["land_m2"] == (a - tk) / 100 and by["V1"]["tiankan_m2"] == tk / 100
    assert by["V2"]["land_m2"] == c / 100 and by["V2"]["tiankan_m2"] == 0
    assert by["C"]["land_m2"] == (a - tk + c) / 100
    assert by["V1"]["changes"] == 1 and by["V1"]["change_area_m2"] == cents(box(106.015, 106.02)) / 100
    assert by["V2"]["change_area_m2"] == cents(box(106.02, 106.025)) / 100
    assert by["C"]["changes"] == 1
    assert (by["V1"]["case_numbers"], by["V2"]["case_numbers"], by["C"]["case_numbers"]) == (
        ["WP-1"], ["WP-2"], ["WP-1", "WP-2"])
    assert (by["V1"]["chief"], by["V1"]["worker"], by["C"]["contact"]) == ("李一", "王一", "0953-1")


def test_forest_grid_measures_forest_land():
    spec = grid_spec("林长")
    rows = cell_report(spec, fixed_cells(tz=False), dltb_geometry=DLTB, dlbm=DLBM, kcxs=KCXS)
    by = {r["code"]: r for r in rows}
    assert by["V1"]["land_m2"] == cents(box(106.01, 106.02)) / 100
    assert by["V2"]["land_m2"] == cents(box(106.02, 106.025)) / 100
    assert by["V1"]["chief"] == "李一" and by["V1"]["worker"] == "王一"


def test_locate_gives_every_level_coarse_first():
    spec = grid_spec("TZWG")
    [here, nowhere] = locate(spec, fixed_cells(), [shapely.Point(106.03, 37.91), shapely.Point(107, 38)])
    assert [(c["code"], c["level"], c["chief"]) for c in here] == [("C", "县级", "张县长"),
                                                                   ("V2", "村级", "李二")]
    assert nowhere == []


def test_unknown_grid_is_refused():
    with pytest.raises(InputError, match="没有网格「河长」，可选：田长（TZWG）、林长（LZWG）"):
        grid_spec("河长")


def test_use_case_reads_register_dltb_and_changes(tmp_path):
    from onemap.store import init_workspace

    store = init_workspace(tmp_path / "ws.gpkg", name="测试")
    store.write_version("DLTB", "2024", gpd.GeoDataFrame(
        {"BSM": ["1", "2", "3"], "DLBM": DLBM, "KCXS": KCXS}, geometry=DLTB, crs="EPSG:4490"),
        VersionMeta(synthetic=True))
    store.write_version("BHTB", "2023-2024", gpd.GeoDataFrame(
        {"tbbh": ["B1"]}, geometry=[box(106.015, 106.025)], crs="EPSG:4490"), VersionMeta(synthetic=True))
    gpd.GeoDataFrame({"网格编码": ["C", "V1", "V2"], "网格名称": ["甲县", "一村", "二村"],
                      "网格层级": ["县级", "村级", "村级"], "田长": ["张县长", "李一", "李二"],
                      "行政区代码": ["640301"] * 3}, geometry=[COUNTY, V1, V2], crs="EPSG:4490"
                     ).to_file(tmp_path / "grid.geojson", driver="GeoJSON")
    import_records(store, "田长网格", tmp_path / "grid.geojson", actor="张三")
    got = grid_report(store, "田长", xlsx=tmp_path / "g.xlsx")
    a = cents(DLTB[0])
    assert got["missing"] == [] and got["sources"] == {"DLTB": "2024", "BHTB": "2023-2024"}
    assert [(r["code"], r["land_m2"], r["changes"]) for r in got["rows"]] == [
        ("C", (a - round(a * 0.1) + cents(DLTB[2])) / 100, 1), ("V1", (a - round(a * 0.1)) / 100, 1),
        ("V2", cents(DLTB[2]) / 100, 1)]
    sheet = openpyxl.load_workbook(got["xlsx"]).active
    texts = [c.value for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "田长" in texts and "耕地面积（平方米）" in texts and "张县长" in texts
