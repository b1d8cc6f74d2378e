"""耕地进出平衡 per county from change detection, against the annual plan.

Six 0.002° boxes at 37.95°N (``builders.dltb_frame``), each of official area A (closed form).
Patches 0–2 lie in 640302, 3–5 in 640303. 2023 → 2024, same BSM and geometry:
patch 0 水田 (KCXS 0.05) → 0301 林地: 流出; patch 1 水浇地 (0.05) → 0601 工业: 占用, not 流出;
patch 2 旱地 (0.05) → 1202 设施农用地: 流出; patch 3 乔木林地 → 0103 旱地 (KCXS 0.10): 流入;
patch 5 沙地 → 0101: from 未利用地, not 流入.
640302: 流出 2 × 0.95A, 流入 0 → 缺口 1.9A. 640303: 流出 0, 流入 0.90A → 平衡.
Plan: 640302 流出 5000 / 流入 1000; 640303 0 / 50000; 640381 (no change) 0 / 100.
"""

import math

import pytest

from builders import dltb_frame
from onemap.app import ledgers as uc
from onemap.errors import InputError
from onemap.store import VersionMeta


def box_area(lat1: float, lat2: float, dlon: float) -> float:
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return a * a * (1 - e2) / 2 * math.radians(dlon) * (q(lat2) - q(lat1))


A = box_area(37.95, 37.952, 0.002)


@pytest.fixture
def years(workspace):
    old = dltb_frame(6)
    for col in ("ZLDWDM", "QSDWDM"):
        old.loc[3:5, col] = "6403030010010000000"
    new = old.copy()
    new.loc[0, ["DLBM", "DLMC", "KCXS"]] = ["0301", "乔木林地", 0.0]
    new.loc[1, ["DLBM", "DLMC", "KCXS"]] = ["0601", "工业用地", 0.0]
    new.loc[2, ["DLBM", "DLMC", "KCXS"]] = ["1202", "设施农用地", 0.0]
    new.loc[3, ["DLBM", "DLMC", "KCXS"]] = ["0103", "旱地", 0.10]
    new.loc[5, ["DLBM", "DLMC", "KCXS"]] = ["0101", "水田", 0.02]
    workspace.write_version("DLTB", "2023", old, VersionMeta())
    workspace.write_version("DLTB", "2024", new, VersionMeta())
    return workspace


def test_in_out_per_county_without_plan(years):
    before = years.fingerprint()
    got = uc.farmland_in_out(years, "2023", "2024")
    assert years.fingerprint() == before
    assert got["source"] == {"dataset": "DLTB", "from": "2023", "to": "2024", "year": "2024", "plan": None}
    a, b = got["units"]
    assert (a["unit"], a["status"], b["unit"], b["status"]) == ("640302", "缺口", "640303", "平衡")
    assert a["outflow_m2"] == pytest.approx(2 * 0.95 * A, abs=0.02)
    assert (a["inflow_m2"], a["shortfall_m2"]) == (0.0, a["outflow_m2"])
    assert (b["outflow_m2"], b["shortfall_m2"]) == (0.0, 0.0)
    assert b["inflow_m2"] == pytest.approx(0.90 * A, abs=0.011)
    assert b["net_m2"] == b["inflow_m2"] and a["net_m2"] == -a["outflow_m2"]
    assert (a["plan_out_m2"], a["over_plan_m2"], a["plan_gap_m2"]) == (None, 0.0, 0.0)
    assert [(f["unit"], f["rule"]) for f in got["findings"]] == [("640302", "shortfall")]


def test_in_out_against_the_annual_plan(years, write_csv):
    plan = write_csv("计划.csv", [{"行政区代码": "640302", "计划流出面积": 5000, "计划流入面积": 1000},
                                {"行政区代码": "640303", "计划流出面积": 0, "计划流入面积": 50000},
                                {"行政区代码": "640381", "计划流出面积": 0, "计划流入面积": 100}])
    got = uc.farmland_in_out(years, "2023", "2024", plan=plan)
    assert got["source"]["plan"] == "计划.csv"
    u = {x["unit"]: x for x in got["units"]}
    assert list(u) == ["640302", "640303", "640381"]
    assert u["640302"]["over_plan_m2"] == pytest.approx(2 * 0.95 * A - 5000, abs=0.02)
    assert u["640302"]["plan_gap_m2"] == 1000
    assert u["640303"]["over_plan_m2"] == 0
    assert u["640303"]["plan_gap_m2"] == pytest.approx(50000 - 0.90 * A, abs=0.011)
    assert [u["640381"][k] for k in ("outflow_m2", "inflow_m2", "plan_gap_m2", "status")] == [0, 0, 100, "平衡"]
    assert [(f["unit"], f["rule"]) for f in got["findings"]] == [
        ("640302", "shortfall"), ("640302", "over_plan"), ("640302", "plan_not_met"),
        ("640303", "plan_not_met"), ("640381", "plan_not_met")]
    assert got["findings"][-1]["message"] == "640381 耕地流入未完成年度计划，差 100.00 平方米"


def test_a_bad_plan_is_refused_naming_row_and_field(years, write_csv):
    plan = write_csv("计划.csv", [{"行政区": "640302", "计划流出": 5000, "计划流入": 1000},
                                {"行政区": "640303", "计划流出": 0, "计划流入": "很多"}])
    with pytest.raises(InputError, match="第 3 行：计划流入面积「很多」应为不小于 0 的数（平方米）"):
        uc.farmland_in_out(years, "2023", "2024", plan=plan)
    plan = write_csv("缺列.csv", [{"行政区": "640302", "计划流出": 5000}])
    with pytest.raises(InputError, match="缺列.csv 缺少列：计划流入面积"):
        uc.farmland_in_out(years, "2023", "2024", plan=plan)
