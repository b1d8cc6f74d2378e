"""Every shipped indicator against a value computed by hand on the tiny workspace (conftest).

Class sums are additions of the TBDLMJ in the conftest table; zone-layer areas
use the reference ellipsoidal formula of the standards notes (conftest.ring_area).
A = 利通区 640302, B = 青铜峡市 640381, city = 市域.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from indicator_world import ZL_A, ZL_B, box_area, build, cell, dltb_2024, fill_form, frame, patch, ring_area

from onemap.indicators import assess, import_inputs, load_registry
from onemap.indicators.inputs import CITY
from onemap.store import VersionMeta

A, B = "640302", "640381"
HA, KM2 = 1e4, 1e6
AREA_A = box_area(0, 0, 10, 10)          # XZQ of A (two towns)
AREA_B = box_area(10, 0, 20, 10)


def row(a, code, unit=CITY):
    return next(u for u in a.indicator(code).units if u.unit == unit)


def values(a, code):
    return {u.unit: u.value for u in a.indicator(code).units}


def approx(x, rel=1e-9):
    return pytest.approx(x, rel=rel, abs=1e-12)


def test_shipped_indicators_are_all_covered_here():
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    for ind in load_registry().indicators:
        assert ind.code in tested, f"no hand-computed test for {ind.code}"


# ------------------------------------------------------------------ DLTB class sums
def test_farmland(assessment_2024):
    a = assessment_2024
    v = values(a, "farmland")
    assert v == {CITY: approx((9000 + 3800 + 9500) / HA), A: approx((9000 + 3800) / HA),
                 B: approx(9500 / HA)}
    assert row(a, "farmland").series[2020] == approx((9000 + 8000 + 9500) / HA)
    assert row(a, "farmland").trend["assessment"] == "变差"
    # targets from the form: A 1.2 ha (met with room), B 0.95 ha (exactly at the line), city Σ 2.15
    assert row(a, "farmland", A).status == "达标"
    assert row(a, "farmland", B).status == "预警"
    assert row(a, "farmland").target == approx(2.15) and row(a, "farmland").status == "达标"
    assert row(a, "farmland").datasets == [{"dataset": "DLTB", "version": "2024", "version_id": 2,
                                            "year": 2024}]


def test_construction_total(assessment_2024):
    v = values(assessment_2024, "construction_total")
    a_ = 2000 + 1500 + 1200 + 800 + 4100
    b_ = 1800 + 2500 + 1000 + 4400
    assert v == {CITY: approx((a_ + b_) / KM2), A: approx(a_ / KM2), B: approx(b_ / KM2)}
    assert row(assessment_2024, "construction_total").series[2020] == approx(
        (2000 + 1500 + 1200 + 800 + 1800 + 2500 + 1000) / KM2)
    assert row(assessment_2024, "construction_total").status == "仅监测"


def test_urban_rural_construction_area(assessment_2024):
    # A11 (1003, no CZCSXM) is 建设用地 but not 城乡建设用地
    v = values(assessment_2024, "urban_rural_construction_area")
    assert v == {CITY: approx((8800 + 9700) / KM2), A: approx((2000 + 1500 + 1200 + 4100) / KM2),
                 B: approx((1800 + 2500 + 1000 + 4400) / KM2)}


def test_forest_land(assessment_2024):
    v = values(assessment_2024, "forest_land")
    assert v == {CITY: approx((7000 + 6000 + 600 + 7500) / HA), A: approx(13600 / HA),
                 B: approx(7500 / HA)}


def test_grassland(assessment_2024):
    v = values(assessment_2024, "grassland")
    assert v == {CITY: approx(5000 / HA), A: approx(5000 / HA), B: 0.0}    # B05 was built on
    assert row(assessment_2024, "grassland", B).series[2020] == approx(4500 / HA)


def test_wetland(assessment_2024):
    v = values(assessment_2024, "wetland")     # 0402 沼泽草地 counts as wetland, not grassland
    assert v == {CITY: approx((4000 + 3000 + 3500) / HA), A: approx(7000 / HA), B: approx(3500 / HA)}


# ------------------------------------------------------------------ zones
def test_prime_farmland(assessment_2024):
    v = values(assessment_2024, "prime_farmland")
    assert v[A] == approx(box_area(0, 0, 2, 1) / HA)
    assert v[B] == approx(box_area(10, 0, 11, 1) / HA)
    assert v[CITY] == approx(v[A] + v[B])
    r = row(assessment_2024, "prime_farmland")
    assert r.status == "缺少数据" and r.value is not None     # the value is there, the target is not
    assert any("永久基本农田保护目标" in m for m in r.missing)
    assert "采用口径：按图斑椭球面积（合并重叠）" in r.notes


def test_prime_farmland_from_the_area_field(ws):
    g = frame([{"BSM": "Y1", "ZLDWDM": ZL_A, "YJJBNTMJ": 15000.0, "geometry": cell(0, 0, 2, 1)},
               {"BSM": "Y2", "ZLDWDM": ZL_B, "YJJBNTMJ": 9000.0, "geometry": cell(10, 0, 11, 1)}])
    ws.write_version("YJJBNTTB", "2023", g, VersionMeta(source_file="t"))
    a = assess(ws, 2024, codes=["prime_farmland"])
    assert values(a, "prime_farmland") == {CITY: approx(2.4), A: approx(1.5), B: approx(0.9)}
    assert "采用口径：按 YJJBNTMJ 字段合计" in row(a, "prime_farmland").notes


def test_prime_farmland_from_jbntmj(ws):
    # official-tables.md §6: public tools write the area field as JBNTMJ; it is accepted too
    g = frame([{"BSM": "Y1", "ZLDWDM": ZL_A, "JBNTMJ": 15000.0, "geometry": cell(0, 0, 2, 1)},
               {"BSM": "Y2", "ZLDWDM": ZL_B, "JBNTMJ": 9000.0, "geometry": cell(10, 0, 11, 1)}])
    ws.write_version("YJJBNTTB", "2023", g, VersionMeta(source_file="t"))
    a = assess(ws, 2024, codes=["prime_farmland"])
    assert values(a, "prime_farmland") == {CITY: approx(2.4), A: approx(1.5), B: approx(0.9)}
    assert "采用口径：按 JBNTMJ 字段合计" in row(a, "prime_farmland").notes


def test_eco_redline(assessment_2024):
    v = values(assessment_2024, "eco_redline")
    # A: two overlapping boxes dissolve into one L-shaped polygon (overlap counted once)
    a_ = ring_area([(2, 1.5), (3.5, 1.5), (3.5, 4), (2.5, 4), (2.5, 3.5), (2, 3.5)])
    # B: one box, and the part of another box that lies inside the city (x ≤ 20)
    b_ = box_area(10, 5, 12, 7) + box_area(19, 8, 20, 9)
    assert v[A] == approx(a_ / KM2, 1e-8) and v[B] == approx(b_ / KM2, 1e-8)
    assert v[CITY] == approx((a_ + b_) / KM2, 1e-8)
    r = row(assessment_2024, "eco_redline")
    assert r.target == approx(0.1) and r.status == "未达标"
    assert row(assessment_2024, "eco_redline", A).status == "缺少数据"   # no county target given


def test_udb_area(assessment_2024):
    v = values(assessment_2024, "udb_area")
    assert v[A] == approx(box_area(0, 2, 2, 3) / KM2, 1e-8)
    assert v[B] == approx(box_area(12, 2, 14, 4) / KM2, 1e-8)
    assert v[CITY] == approx(v[A] + v[B])


def test_redline_urban_rural_construction(assessment_2024):
    v = values(assessment_2024, "redline_urban_rural_construction")
    assert v == {CITY: approx(3000 / KM2), A: approx(1200 / KM2), B: approx(1800 / KM2)}


def test_udb_urban_rural_construction(assessment_2024):
    v = values(assessment_2024, "udb_urban_rural_construction")
    assert v == {CITY: approx(6000 / KM2), A: approx((2000 + 1500) / KM2), B: approx(2500 / KM2)}


def test_wetland_protection(assessment_2024):
    v = values(assessment_2024, "wetland_protection")
    assert v == {CITY: approx(7500 / 10500 * 100), A: approx(4000 / 7000 * 100), B: approx(100.0)}
    r = row(assessment_2024, "wetland_protection")
    # no 2020 value (ZRBHD is 2022), so the 2025 target applies as it stands
    assert r.target == 61.0 and r.target_year == 2025 and r.status == "达标"


def test_wetland_protection_over_several_protected_layers(ws, tmp_path):
    # the 口径 is a parameter: a 湿地公园 layer SDGY over A06 and A07 (5,0)-(7,1) joins ZRBHD;
    # A06 lies in both and counts once, so every 湿地 patch is protected: 100 %
    from importlib.resources import files

    text = (files("onemap.indicators") / "data" / "indicators.yaml").read_text(encoding="utf-8")
    assert text.count("zone: ZRBHD}") == 1
    path = tmp_path / "indicators.yaml"
    path.write_text(text.replace("zone: ZRBHD}", "zone: [ZRBHD, SDGY]}"), encoding="utf-8")
    ws.write_version("SDGY", "2022", frame([{"BSM": "S1", "geometry": cell(5, 0, 7, 1)}]),
                     VersionMeta(source_file="t"))
    a = assess(ws, 2024, codes=["wetland_protection"], registry=load_registry(path))
    assert values(a, "wetland_protection") == {CITY: approx(100.0), A: approx(100.0),
                                               B: approx(100.0)}
    used = {d["dataset"] for d in row(a, "wetland_protection").datasets}
    assert {"DLTB", "ZRBHD", "SDGY"} <= used


def test_mapping_2000_coverage(assessment_2024):
    v = values(assessment_2024, "mapping_2000_coverage")
    assert v[A] == approx(100.0, 1e-9)
    assert v[B] == approx(box_area(10, 0, 15, 10) / AREA_B * 100, 1e-9)
    assert v[CITY] == approx((AREA_A + box_area(10, 0, 15, 10)) / (AREA_A + AREA_B) * 100, 1e-9)
    assert row(assessment_2024, "mapping_2000_coverage").status == "未达标"


def test_mapping_2000_coverage_from_the_form_without_a_layer(tmp_path):
    store = build(tmp_path / "w.gpkg", with_inputs=False)
    try:
        rows = {(2023, "640302", "利通区"): {"mapping_2000_area": 0.5}}
        import_inputs(store, fill_form(tmp_path / "f.xlsx", rows), actor="t")
        a = assess(store, 2023, codes=["mapping_2000_coverage"])        # DXT2000 is 2024
        assert values(a, "mapping_2000_coverage")[A] == approx(0.5 * KM2 / AREA_A * 100)
        assert "采用口径：按填报的覆盖面积" in row(a, "mapping_2000_coverage", A).notes
        assert row(a, "mapping_2000_coverage", B).status == "缺少数据"
    finally:
        store.close()


# ------------------------------------------------------------------ change
def test_new_construction(assessment_2024):
    v = values(assessment_2024, "new_construction")
    # A13 lies wholly on former 旱地, B08 wholly on former 其他草地: their TBDLMJ count
    assert v == {CITY: approx((4100 + 4400) / HA), A: approx(4100 / HA), B: approx(4400 / HA)}
    assert row(assessment_2024, "new_construction", A).status == "达标"        # quota 0.5
    assert row(assessment_2024, "new_construction", B).status == "未达标"      # quota 0.4
    assert row(assessment_2024, "new_construction").target == approx(0.9)
    assert [d["version"] for d in row(assessment_2024, "new_construction").datasets] == [
        "2020", "2024"]


def test_new_construction_partly_on_old_construction(ws):
    """A new patch half on former 耕地, half on former 建设用地: only the first half is new."""
    g = dltb_2024()
    g = g[~g["BSM"].isin(["A08", "A01"])]   # A08 (0701, 0..1 × 2..3) and A01 (0101, 0..1 × 0..1)
    extra = frame([patch("A01", "0101", (0, 0, 1, 0.5), 4000),
                   patch("A20", "0701", (0, 0.5, 1, 3), 5000, "202", kcxs=0.0)])
    new = pd.concat([g, extra], ignore_index=True)
    ws.write_version("DLTB", "2025", gpd.GeoDataFrame(new, geometry="geometry", crs=4490),
                     VersionMeta(source_file="t"))
    a = assess(ws, 2025, codes=["new_construction"])
    # A20 covers old A01 on 0..1 × 0.5..1 (new land), an empty strip and old A08 (construction
    # already): only the first part is new, measured by its ellipsoidal area × (1 − KCXS)
    assert values(a, "new_construction")[A] == approx(box_area(0, 0.5, 1, 1) / HA, 1e-6)
    assert values(a, "new_construction")[B] == 0.0


# ------------------------------------------------------------------ DLTB with inputs
def test_forest_cover(assessment_2024):
    v = values(assessment_2024, "forest_cover")
    assert v[A] == approx((7000 + 600 + 5000) / AREA_A * 100)       # + 0.5 ha special shrub
    assert v[B] == approx(7500 / AREA_B * 100)
    assert v[CITY] == approx((7000 + 600 + 7500 + 5000) / (AREA_A + AREA_B) * 100)
    assert any("未填报国家特别规定灌木林地面积" in n for n in row(assessment_2024, "forest_cover", B).notes)
    assert any("已填报各县之和（未填报：青铜峡市）" in n for n in row(assessment_2024, "forest_cover").notes)
    r = row(assessment_2024, "forest_cover")
    v0 = (7000 + 600 + 7500) / (AREA_A + AREA_B) * 100                # 2020, no shrub figure
    assert r.series[2020] == approx(v0)
    assert r.target == approx(v0 + (20.46 - v0) * 4 / 5) and r.target_kind.startswith("进度目标")
    assert r.status == "未达标"


def test_grass_cover(assessment_2024):
    r = row(assessment_2024, "grass_cover")
    assert r.value == 56.1
    assert r.target == approx(50.0 + (55.3 - 50.0) * 4 / 5) and r.status == "达标"
    assert row(assessment_2024, "grass_cover", A).status == "仅监测"     # no county target
    b = row(assessment_2024, "grass_cover", B)
    assert b.status == "缺少数据" and b.value is None
    assert b.missing == ["缺少填报数据：草原综合植被盖度（grass_vegetation_cover）2024 年 青铜峡市"]


def test_urban_land_per_capita(assessment_2024):
    v = values(assessment_2024, "urban_land_per_capita")
    assert v == {A: approx((2000 + 1500 + 4100) / 80), B: approx(2500 / 25),
                 CITY: approx((2000 + 1500 + 4100 + 2500) / 105)}


def test_village_land_per_capita(assessment_2024):
    v = values(assessment_2024, "village_land_per_capita")
    assert v == {A: approx(1200 / 10), B: approx((1800 + 1000 + 4400) / 60),
                 CITY: approx((1200 + 1800 + 1000 + 4400) / 70)}


def test_land_per_gdp(assessment_2024):
    v = values(assessment_2024, "land_per_gdp")
    assert v == {A: approx(9600 / 200), B: approx(9700 / 100), CITY: approx(19300 / 300)}
    assert row(assessment_2024, "land_per_gdp").series[2020] == approx(10800 / 150)
    assert "全市地区生产总值（可比价）为各县之和" in row(assessment_2024, "land_per_gdp").notes


def test_land_per_gdp_decline(assessment_2024):
    v = values(assessment_2024, "land_per_gdp_decline")
    assert v[A] == approx((55 - 48) / 55 * 100)
    assert v[B] == approx((106 - 97) / 106 * 100)
    assert v[CITY] == approx((72 - 19300 / 300) / 72 * 100)
    r = row(assessment_2024, "land_per_gdp_decline")
    assert r.target == approx(12.0)                 # 0 in 2020 → 15 % in 2025, 4/5 of the way
    assert r.status == "未达标"
    assert {d["version"] for d in r.datasets if d["dataset"] == "DLTB"} == {"2020", "2024"}


# ------------------------------------------------------------------ inputs only
def test_unsupplied_disposal(assessment_2024):
    v = values(assessment_2024, "unsupplied_disposal")
    assert v == {A: approx(25.0), B: approx(15.0), CITY: approx(55 / 300 * 100)}
    assert [row(assessment_2024, "unsupplied_disposal", k).status for k in (A, B, CITY)] == [
        "达标", "未达标", "未达标"]


def test_idle_disposal(assessment_2024):
    assert row(assessment_2024, "idle_disposal", A).value == approx(19.5)
    assert row(assessment_2024, "idle_disposal", A).status == "预警"      # within 5 % of 20
    b = row(assessment_2024, "idle_disposal", B)                          # 0 ÷ 0
    assert b.value is None and b.status == "缺少数据" and "闲置土地面积为 0" in b.missing[0]
    assert row(assessment_2024, "idle_disposal").value == approx(19.5)


def test_illegal_farmland_ratio(assessment_2024):
    # no 卫片执法 judging in the workspace → the form's figures
    v = values(assessment_2024, "illegal_farmland_ratio")
    assert v == {A: approx(0.05 / 0.41 * 100), B: 0.0, CITY: approx(0.05 / 0.41 * 100)}
    assert "采用口径：按填报数据" in row(assessment_2024, "illegal_farmland_ratio", A).notes
    assert row(assessment_2024, "illegal_farmland_ratio", A).status == "预警"   # 12.2 % ≤ 15 %
    assert row(assessment_2024, "illegal_farmland_ratio", B).status == "达标"   # 0 ÷ 0 → 0


def test_illegal_farmland_ratio_from_monitoring(ws):
    stats = {"sources": [{"run_id": 7, "changeset": "2020-2024", "as_of": "2025-03-01"}],
             "rows": [{"county": A, "new_construction_gd_m2": 1000.0, "illegal_gd_m2": 300.0}]}
    a = assess(ws, 2024, codes=["illegal_farmland_ratio"], monitor=lambda y: stats)
    v = values(a, "illegal_farmland_ratio")
    assert v == {A: approx(30.0), B: 0.0, CITY: approx(30.0)}
    assert row(a, "illegal_farmland_ratio", A).status == "未达标"
    assert "采用口径：按卫片执法判定结果" in row(a, "illegal_farmland_ratio", A).notes
    assert row(a, "illegal_farmland_ratio").datasets[0]["version_id"] == 7


# ------------------------------------------------------------------ farmland ledgers (provider passed in)
def test_farmland_balance_status(assessment_2024, ws):
    # no provider in the session assessment → no data for every county, never 平衡
    assert {row(assessment_2024, "farmland_balance_status", k).status for k in (A, B)} == {"缺少数据"}
    assert row(assessment_2024, "farmland_balance_status", A).missing == ["无数据：未接入耕地保护台账"]
    assert values(assessment_2024, "farmland_balance_status") == {CITY: None, A: None, B: None}
    got = {"counties": {A: {"value": 1, "note": "不平衡：水田余额 -300.00 平方米"}},
           "source": "耕地占补平衡指标账户", "version": "1", "absent": "该县没有耕地占补平衡账户流水"}
    a = assess(ws, 2024, codes=["farmland_balance_status"], ledger=lambda m, y: got)
    assert values(a, "farmland_balance_status") == {CITY: 1.0, A: 1.0, B: None}
    assert row(a, "farmland_balance_status").notes == ["市域为各县之和，各县均平衡时为 0",
                                                       f"{a.counties[1][1]}无数据，未计入"]
    assert row(a, "farmland_balance_status", A).status == "未达标"
    assert row(a, "farmland_balance_status", A).notes == ["不平衡：水田余额 -300.00 平方米"]
    assert row(a, "farmland_balance_status", B).missing == ["无数据：该县没有耕地占补平衡账户流水"]
    none = assess(ws, 2024, codes=["farmland_balance_status"],
                  ledger=lambda m, y: {"missing": "没有耕地占补平衡账户流水"})
    assert row(none, "farmland_balance_status", A).status == "缺少数据"


def test_farmland_inout_status(ws):
    seen = []

    def provider(measure, year):
        seen.append((measure, year))
        return {"counties": {A: {"value": 1234.5, "note": "不平衡：缺口 1,234.50 平方米"}},
                "default": {"value": 0.0, "note": "平衡：当年没有耕地与其他农用地互转"}, "source": "DLTB"}

    a = assess(ws, 2024, codes=["farmland_inout_status"], ledger=provider)
    assert seen == [("in_out", 2020), ("in_out", 2024)]   # the series year and the assessed year
    assert values(a, "farmland_inout_status") == {CITY: 1234.5, A: 1234.5, B: 0.0}
    assert (row(a, "farmland_inout_status", A).status, row(a, "farmland_inout_status", B).status) == (
        "未达标", "达标")
    assert row(a, "farmland_inout_status", B).notes == ["平衡：当年没有耕地与其他农用地互转"]
    broken = assess(ws, 2024, codes=["farmland_inout_status"], ledger=lambda m, y: 1 / 0)
    assert row(broken, "farmland_inout_status", A).missing == [
        "无数据：耕地保护台账统计失败：division by zero"]
