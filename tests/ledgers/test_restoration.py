"""生态修复项目: the register (修复率 computed) and the checks of accepted projects against versions.

Three 0.01° cells in one latitude band (so equal areas): A 106.20–106.21, B 106.21–106.22,
C 106.22–106.23 at 37.90–37.91.
  2023: A 0404 其他草地, B 1206 裸土地, C 0103 旱地 (KCXS 0.1)
  2024: A 0301 乔木林地, B 0103 旱地 (KCXS 0.1), C 0103 旱地 (KCXS 0.1)
"""

from __future__ import annotations

import geopandas as gpd
import openpyxl
import pytest
import shapely

from onemap.app.ledgers import import_records, list_records
from onemap.app.restoration import restoration_check
from onemap.geo.area import ellipsoidal_area
from onemap.store import VersionMeta


def cell(i: int, n: int = 1):
    return shapely.box(106.20 + 0.01 * i, 37.90, 106.20 + 0.01 * (i + n), 37.91)


CELL = float(ellipsoidal_area([cell(0)])[0])


def _dltb(codes, kcxs):
    return gpd.GeoDataFrame({"BSM": ["A", "B", "C"], "DLBM": codes, "KCXS": kcxs,
                             "ZLDWDM": ["6403020010010000000"] * 3},
                            geometry=[cell(0), cell(1), cell(2)], crs=4490)


@pytest.fixture
def projects(workspace, tmp_path):
    workspace.write_version("DLTB", "2023", _dltb(["0404", "1206", "0103"], [0.0, 0.0, 0.1]), VersionMeta())
    workspace.write_version("DLTB", "2024", _dltb(["0301", "0103", "0103"], [0.0, 0.1, 0.1]), VersionMeta())
    base = {"行政区代码": "640302", "状态": "验收"}
    rows = [
        {**base, "项目编号": "G1", "项目名称": "甲绿化", "项目类型": "国土绿化"},
        {**base, "项目编号": "G2", "项目名称": "乙绿化", "项目类型": "国土绿化"},
        {**base, "项目编号": "G3", "项目名称": "丙绿化", "项目类型": "国土绿化", "状态": "实施"},
        {**base, "项目编号": "Z1", "项目名称": "甲整治", "项目类型": "全域土地综合整治",
         "新增耕地面积": round(0.9 * CELL, 2)},
        {**base, "项目编号": "Z2", "项目名称": "乙整治", "项目类型": "全域土地综合整治",
         "新增耕地面积": round(0.5 * CELL, 2)},
        {**base, "项目编号": "M1", "项目名称": "某历史遗留矿山", "项目类型": "历史遗留矿山",
         "损毁面积": 300, "已修复面积": 700, "社会资本主体": "某公司", "资金来源": "社会资本"},
    ]
    geoms = [cell(0), cell(0, 2), cell(0), cell(1), cell(2), cell(2)]
    path = tmp_path / "xf.geojson"
    gpd.GeoDataFrame(rows, geometry=geoms, crs=4490).to_file(path, driver="GeoJSON")
    got = import_records(workspace, "生态修复项目", path, actor="张三")
    assert got["records"] == ["G1", "G2", "G3", "Z1", "Z2", "M1"]
    return workspace


def test_area_and_repair_rate_are_computed(projects):
    values = {r["record_no"]: r["values"] for r in list_records(projects, "restoration")["records"]}
    assert values["M1"]["XFL"] == 0.7
    assert values["G2"]["MJ"] == pytest.approx(2 * CELL, abs=0.02)


def test_checks_against_the_base_version(projects, tmp_path):
    got = restoration_check(projects, version="2024", base="2023", xlsx=tmp_path / "r.xlsx")
    rows = {r["project"]: r for r in got["rows"]}
    assert set(rows) == {"G1", "G2", "Z1", "Z2"}            # G3 not accepted; M1 has no check
    assert (rows["G1"]["share"], rows["G1"]["passed"]) == (1.0, True)
    assert (rows["G2"]["share"], rows["G2"]["passed"]) == (0.5, False)
    assert "占项目面积 50.00%，低于要求的 90%" in rows["G2"]["reason"]
    # Z1: B became 旱地 with KCXS 0.1 → 0.9 × CELL of 耕地, none in 2023: ratio 1
    assert rows["Z1"]["target_m2"] == pytest.approx(0.9 * CELL, abs=0.01)
    assert rows["Z1"]["ratio"] == pytest.approx(1.0, abs=1e-4) and rows["Z1"]["passed"]
    # Z2: C was already 旱地 in 2023: no new 耕地
    assert (rows["Z2"]["target_m2"], rows["Z2"]["ratio"], rows["Z2"]["passed"]) == (0.0, 0.0, False)
    assert got["failed"] == ["G2", "Z2"]
    assert openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames == ["生态修复项目核查"]


def test_without_a_base_the_cultivated_land_inside_counts(projects):
    rows = {r["project"]: r for r in restoration_check(projects)["rows"]}
    assert rows["Z2"]["target_m2"] == pytest.approx(0.9 * CELL, abs=0.01)
    assert rows["Z2"]["ratio"] == pytest.approx(1.8, abs=1e-3) and rows["Z2"]["passed"]
