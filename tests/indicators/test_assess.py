"""Assessment behaviour: missing data never gives a number, provenance, trend, the period."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from indicator_world import INPUT_ROWS, dltb_2024, fill_form

from onemap.errors import InputError
from onemap.indicators import assess, import_inputs, load_inputs, parse_period
from onemap.indicators.inputs import CITY
from onemap.store import VersionMeta, init_workspace

A, B = "640302", "640381"


def row(a, code, unit=CITY):
    return next(u for u in a.indicator(code).units if u.unit == unit)


def test_missing_input_gives_missing_status_naming_the_input(ws, tmp_path):
    rows = {k: {f: v for f, v in vals.items() if not (k[0] == 2024 and k[1] == A and f == "gdp")}
            for k, vals in INPUT_ROWS.items()}
    data = load_inputs(fill_form(tmp_path / "f.xlsx", rows))
    a = assess(ws, 2024, inputs=data, codes=["land_per_gdp", "land_per_gdp_decline", "farmland"])
    r = row(a, "land_per_gdp", A)
    assert r.status == "缺少数据" and r.value is None and r.gap is None
    assert r.missing == ["缺少填报数据：地区生产总值（可比价）（gdp）2024 年 利通区"]
    assert "地区生产总值" in r.reason
    # the city sum needs every county: missing as well, never a partial sum
    c = row(a, "land_per_gdp")
    assert c.value is None and c.status == "缺少数据"
    assert "缺少填报数据：地区生产总值（可比价）（gdp）2024 年 全市" in c.missing
    d = row(a, "land_per_gdp_decline", A)
    assert d.value is None and d.status == "缺少数据"
    # B and unrelated indicators are unaffected
    assert row(a, "land_per_gdp", B).value == pytest.approx(97.0)
    assert row(a, "farmland", A).value == pytest.approx(1.28)
    assert {"name": "每万元GDP地耗", "unit": A} .items() <= next(
        m for m in a.missing() if m["code"] == "land_per_gdp" and m["unit"] == A).items()


def test_no_input_at_all(ws):
    from onemap.indicators import InputSet, load_template

    empty = InputSet(pd.DataFrame(columns=["field", "year", "unit", "unit_name", "value",
                                           "import_id", "remark", "where"]), load_template())
    a = assess(ws, 2024, inputs=empty)
    for code in ("grass_cover", "unsupplied_disposal", "urban_land_per_capita", "land_per_gdp"):
        for u in a.indicator(code).units:
            assert u.value is None and u.status == "缺少数据" and u.missing
    # spatial indicators still compute; targets from the form are missing
    f = row(a, "farmland")
    assert f.value == pytest.approx(2.23) and f.status == "缺少数据"
    assert f.missing[0].startswith("缺少目标：缺少填报数据：耕地保有量目标")


def test_no_dltb_for_the_year(ws):
    a = assess(ws, 2019, codes=["farmland", "wetland_protection", "forest_cover", "eco_redline"])
    for code in ("farmland", "wetland_protection", "forest_cover"):
        for u in a.indicator(code).units:
            assert u.value is None and u.status == "缺少数据"
            assert any("没有 2019 年或更早的 DLTB 版本" in m for m in u.missing)
    # STBHHX (2022) is later than 2019: missing too, never an anachronistic number
    assert any("STBHHX" in m for m in row(a, "eco_redline").missing)


def test_missing_field_and_missing_dataset(ws):
    g = dltb_2024().drop(columns=["CZCSXM"])
    ws.write_version("DLTB", "2025", g, VersionMeta(source_file="t"))
    a = assess(ws, 2025, codes=["urban_rural_construction_area", "construction_total"])
    u = row(a, "urban_rural_construction_area")
    assert u.value is None and u.missing == ["DLTB 2025 缺少 CZCSXM 字段"]
    assert row(a, "construction_total").value == pytest.approx(0.0193)


def test_workspace_without_zone_layer(tmp_path):
    store = init_workspace(tmp_path / "w.gpkg", region="640300")
    try:
        store.write_version("DLTB", "2024", dltb_2024(), VersionMeta(source_file="t"))
        a = assess(store, 2024, codes=["wetland_protection", "eco_redline", "wetland"])
        for code in ("wetland_protection", "eco_redline"):
            for u in a.indicator(code).units:
                assert u.value is None and u.status == "缺少数据"
        assert row(a, "eco_redline").missing == ["工作空间没有 STBHHX 数据集"]
        assert row(a, "wetland").value == pytest.approx(1.05)
        assert [c for c, _ in a.counties] == [A, B]            # counties from DLTB without XZQ
    finally:
        store.close()


def test_older_version_stands_in_and_says_so(ws):
    a = assess(ws, 2023, codes=["farmland", "eco_redline"])
    f = row(a, "farmland")
    assert f.value == pytest.approx(2.65)                       # DLTB 2020
    assert f.datasets[0]["version"] == "2020"
    assert "2023 年无 DLTB 版本，采用 2020 版本（不晚于 2023 年的最新版本）" in f.notes
    assert [d["version"] for d in row(a, "eco_redline").datasets] == ["2022", "2020"]


def test_provenance_and_inputs_import_recorded(ws, tmp_path):
    a1 = assess(ws, 2024, codes=["land_per_gdp"])
    assert row(a1, "land_per_gdp", A).inputs == [{"field": "gdp", "year": 2024, "unit": A,
                                                  "import_id": 1}]
    assert a1.inputs["imports"] == [1] and a1.inputs_used() == [1]
    import_inputs(ws, fill_form(tmp_path / "g.xlsx", {(2024, A, "利通区"): {"gdp": 240}}), "t")
    a2 = assess(ws, 2024, codes=["land_per_gdp"])
    assert row(a2, "land_per_gdp", A).value == pytest.approx(9600 / 240)
    assert row(a2, "land_per_gdp", A).inputs[0]["import_id"] == 2
    assert a2.inputs_used() == [1, 2]
    again = assess(ws, 2024, codes=["land_per_gdp"], inputs_as_of=1)    # reproduce a1
    assert row(again, "land_per_gdp", A).value == pytest.approx(48.0)


def test_to_dict_is_json_ready(assessment_2024):
    d = assessment_2024.to_dict()
    text = json.dumps(d, ensure_ascii=False, allow_nan=False)
    back = json.loads(text)
    assert back["kind"] == "体检" and back["year"] == 2024 and back["series_years"] == [2020, 2024]
    assert back["city"] == {"code": "640300", "name": "吴忠市"}
    assert back["counties"] == [{"code": A, "name": "利通区"}, {"code": B, "name": "青铜峡市"}]
    assert len(back["indicators"]) == 25
    assert sum(back["summary"]["city"].values()) == 25
    assert {w["status"] for w in back["warnings"]} == {"预警", "未达标"}
    assert {"dataset": "DLTB", "version": "2024", "version_id": 2, "year": 2024} in back["datasets"]
    assert back["registry"]["kind"] == "shipped" and back["input_imports"] == [1]
    assert back["colours"]["达标"] == "#2E7D32"
    farmland = next(i for i in back["indicators"] if i["code"] == "farmland")
    assert farmland["units"][0]["series"] == {"2020": pytest.approx(2.65), "2024": pytest.approx(2.23)}


def test_warnings_carry_reasons(assessment_2024):
    w = assessment_2024.warnings()
    assert w[0]["status"] == "未达标"
    b = next(x for x in w if x["code"] == "new_construction" and x["unit"] == B)
    assert b["reason"] == ("2024年 0.44 公顷，未达到不高于 0.40 公顷 的下达指标（新增建设用地计划指标），"
                           "差距 0.04 公顷")
    f = next(x for x in w if x["code"] == "farmland" and x["unit"] == B)
    assert "余量仅 0.00 公顷" in f["reason"]


def test_five_year_evaluation(ws):
    a = assess(ws, period="2021-2025", year=2024,
               codes=["forest_cover", "unsupplied_disposal", "grass_cover"])
    assert a.kind == "评估" and a.period == (2021, 2025) and a.year == 2024
    assert a.series_years == [2020, 2021, 2022, 2023, 2024]
    assert "2021—2025年评估报告" in a.title
    f = row(a, "forest_cover")
    assert f.target == 20.46 and f.target_year == 2025         # the final target, no progress
    # yearly target: every year of the period is judged, missing years included
    u = row(a, "unsupplied_disposal", A)
    assert u.yearly_status == {2021: "缺少数据", 2022: "缺少数据", 2023: "缺少数据", 2024: "达标"}
    assert u.status == "缺少数据" and "2021年缺少数据" in u.reason
    assert row(a, "unsupplied_disposal", B).status == "未达标"
    g = row(a, "grass_cover")
    assert g.series == {2020: 50.0, 2021: None, 2022: None, 2023: None, 2024: 56.1}
    assert g.trend["direction"] == "上升" and g.trend["assessment"] == "向好"
    assert g.trend["annual_change"] == pytest.approx(6.1 / 4)


def test_default_year_and_period_parsing(ws):
    assert assess(ws, codes=["wetland"]).year == 2024
    assert assess(ws, period="2021-2025", codes=["wetland"]).year == 2025
    assert parse_period("2021—2025") == (2021, 2025)
    with pytest.raises(InputError):
        parse_period("2025-2021")
    with pytest.raises(InputError):
        assess(ws, 2024, codes=["no_such_indicator"])


def test_a_failing_source_gives_missing_not_a_crash(ws):
    def broken(year):
        raise RuntimeError("数据库连接中断")

    a = assess(ws, 2024, codes=["illegal_farmland_ratio"], monitor=broken)
    r = row(a, "illegal_farmland_ratio", A)
    assert r.value == pytest.approx(0.05 / 0.41 * 100)            # falls back to the form
    a = assess(ws, 2023, codes=["illegal_farmland_ratio"], monitor=broken)
    r = row(a, "illegal_farmland_ratio", A)
    assert r.value is None
    assert "按卫片执法判定结果：卫片执法统计失败：数据库连接中断" in r.missing


def test_run_assessment_for_the_cli(ws, tmp_path):
    from onemap.indicators import run_assessment

    out = run_assessment(ws, year=2024, xlsx=tmp_path / "t.xlsx", actor="规划科")
    assert out["files"] == {"docx": None, "xlsx": str(tmp_path / "t.xlsx")}
    assert out["actor"] == "规划科" and out["year"] == 2024
    json.dumps(out, ensure_ascii=False, allow_nan=False)
