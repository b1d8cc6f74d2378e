"""The official tables on a hand-made DLTB: every figure computed by hand, and the tables tie."""

import pandas as pd
import pytest

from onemap.analysis.balance import balance_cells
from onemap.analysis.tables import (
    base_cells,
    bulletin_table,
    class_table,
    county_control_m2,
    czc_table,
    farmland_table,
)
from onemap.errors import InputError

A1, A2 = "6403020010010000000", "6403020010020000000"
B1 = "6403240010010000000"
COLS = ["BSM", "ZLDWDM", "DLBM", "TBMJ", "KCMJ", "TBDLMJ", "CZCSXM", "GDLX", "GDPDJB", "ZZSXDM",
        "TBXHDM"]
DLTB = pd.DataFrame([
    ["1", A1, "0103", 1000.00, 100.00, 900.00, "", "PD", "3", "LS", ""],
    ["2", A1, "1004", 200.00, 0.0, 200.00, "203", "", "", "", ""],
    ["3", A1, "1004", 300.00, 0.0, 300.00, "", "", "", "", ""],
    ["4", A2, "0702", 500.00, 0.0, 500.00, "203A", "", "", "", ""],
    ["5", A2, "0603", 50.00, 0.0, 50.00, "204", "", "", "", ""],
    ["6", B1, "0101", 2000.00, 0.0, 2000.00, "", "TT", "1", "FLS", "HDGD"],
    ["7", B1, "1106", 400.00, 0.0, 400.00, "", "", "", "", ""],
    ["8", B1, "1203", 70.00, 0.0, 70.00, "", "", "", "", ""],
], columns=COLS)


def by(table, *keys):
    return {tuple(r[k] for k in ("unit", *keys)): round(r["area_m2"], 2) for r in table.records()}


def test_class_table_puts_kcmj_under_1203_and_sums_to_tbmj():
    t = class_table(base_cells(DLTB))
    assert by(t, "dlbm") == {
        ("640302", "0103"): 900.0, ("640302", "1203"): 100.0, ("640302", "1004"): 500.0,
        ("640302", "0702"): 500.0, ("640302", "0603"): 50.0,
        ("640324", "0101"): 2000.0, ("640324", "1106"): 400.0, ("640324", "1203"): 70.0}
    assert t.rows["cents"].sum() == round(DLTB["TBMJ"].sum() * 100)
    row = t.rows.set_index(["unit", "dlbm"]).loc[("640302", "0603")]
    # 工作分类: 0603 盐田 sits in the level-1 group 00 湿地 (official-tables.md §1), while the
    # bulletin counts it under 204 when so coded (above)
    assert (row["dlmc"], row["level1"], row["three_class"]) == ("盐田", "00", "建设用地")


def test_bulletin_groups_coded_patches_as_czc_whatever_their_class():
    t = bulletin_table(base_cells(DLTB))
    assert by(t, "group") == {
        ("640302", "耕地"): 900.0, ("640302", "城镇村及工矿用地"): 750.0,
        ("640302", "交通运输用地"): 300.0, ("640302", "其他土地"): 100.0,
        ("640324", "湿地"): 400.0, ("640324", "耕地"): 2000.0, ("640324", "其他土地"): 70.0}
    # report order of the groups
    assert [r["group"] for r in t.records() if r["unit"] == "640302"] == [
        "耕地", "城镇村及工矿用地", "交通运输用地", "其他土地"]


def test_czc_table_is_czcsxm_by_dlbm_with_suffix_a_merged():
    t = czc_table(base_cells(DLTB))
    assert by(t, "czcsxm", "dlbm") == {("640302", "203", "1004"): 200.0,
                                       ("640302", "203", "0702"): 500.0,
                                       ("640302", "204", "0603"): 50.0}
    assert {r["czcmc"] for r in t.records()} == {"村庄", "盐田及采矿用地"}


def test_tables_tie_bulletin_equals_class_equals_czc_plus_rest():
    cells = base_cells(DLTB)
    cls, bul, czc = class_table(cells), bulletin_table(cells), czc_table(cells)
    for unit in ("640302", "640324"):
        total = cls.rows.loc[cls.rows["unit"] == unit, "cents"].sum()
        assert bul.rows.loc[bul.rows["unit"] == unit, "cents"].sum() == total
        in_czc = bul.rows.query("unit == @unit and group == '城镇村及工矿用地'")["cents"].sum()
        assert czc.rows.loc[czc.rows["unit"] == unit, "cents"].sum() == in_czc


def test_village_level_and_balanced_tables_tie_to_the_control_total():
    cells = base_cells(DLTB)
    # 640302: cells 0.09 + 0.01 + 0.05 + 0.05 + 0.01 = 0.21 公顷 rounded alone (exact 0.205);
    # control 0.22 → one step; 640324: 0.20 + 0.04 + 0.01 = 0.25 (exact 0.247) → control 0.25.
    bal = balance_cells(cells.cells, {"640302": 2204.0, "640324": 2470.0})
    assert [(b.county, b.sum_before_ha, b.control_ha, b.steps) for b in bal.counties] == [
        ("640302", 0.21, 0.22, 1), ("640324", 0.25, 0.25, 0)]
    for make in (class_table, bulletin_table):
        t = make(cells, balanced=bal, level="village")
        assert t.balanced and t.balance[0]["steps"] == 1
        sums = t.rows.groupby("county")["units"].sum().to_dict()
        assert sums == {"640302": 22, "640324": 25}
    # the step goes to the larger village A1 (1 500 m² vs 550 m²), its larger record "" (1 300 m²
    # vs 200 m²), whose cells are all below 1 公顷: reverse code order → 1203 first.
    cls = class_table(cells, balanced=bal, level="village").rows.set_index(["unit", "dlbm"])
    assert cls.loc[("640302001001", "1203"), "hectare"] == pytest.approx(0.02)


def test_farmland_breakdowns_each_sum_to_the_cultivated_area():
    t = farmland_table(DLTB)
    got = by(t, "attribute", "value")
    assert got[("640302", "GDPDJB", "3")] == 900.0
    assert got[("640302", "GDPDJB+GDLX", "3+PD")] == 900.0
    assert got[("640324", "GDPDJB+GDLX", "1+TT")] == 2000.0
    assert got[("640324", "ZZSXDM", "FLS")] == 2000.0
    assert got[("640302", "TBXHDM", "")] == 900.0 and got[("640324", "TBXHDM", "HDGD")] == 2000.0
    names = {(r["attribute"], r["value"]): r["value_name"] for r in t.records()}
    assert names[("GDLX", "PD")] == "坡地" and names[("TBXHDM", "")] == "未填写"
    assert names[("GDPDJB+GDLX", "1+TT")].startswith("1级") and "梯田" in names[("GDPDJB+GDLX", "1+TT")]
    for attr in ("GDPDJB", "GDLX", "ZZSXDM", "TBXHDM"):
        assert sum(v for (u, a, _), v in got.items() if a == attr and u == "640302") == 900.0


def test_missing_czcsxm_refuses_bulletin_and_czc_but_not_class():
    cells = base_cells(DLTB.drop(columns="CZCSXM"), source={"dataset": "DLTB", "version": "2024"})
    assert class_table(cells).rows["cents"].sum() == 452000
    for make in (bulletin_table, czc_table):
        with pytest.raises(InputError, match="DLTB 2024 没有城镇村属性码字段 CZCSXM") as exc:
            make(cells)
        assert exc.value.problems[0].field == "CZCSXM"


def test_unknown_czcsxm_is_refused_naming_the_patch():
    bad = DLTB.copy()
    bad.loc[2, "CZCSXM"] = "209"
    with pytest.raises(InputError, match="209.*BSM 3"):
        base_cells(bad)


def test_control_area_from_dcmj_or_kzmj_or_refused():
    xzq = pd.DataFrame({"XZQDM": ["640302", "640324"], "KZMJ": [2204.0, 2470.0]})
    assert county_control_m2(xzq, ["640302"], ("DCMJ", "KZMJ")) == ({"640302": 2204.0}, "KZMJ")
    both = xzq.assign(DCMJ=[1.0, 2.0])
    assert county_control_m2(both, ["640324"], ("DCMJ", "KZMJ")) == ({"640324": 2.0}, "DCMJ")
    with pytest.raises(InputError, match="DCMJ、KZMJ") as exc:
        county_control_m2(xzq.drop(columns="KZMJ"), ["640302"], ("DCMJ", "KZMJ"))
    assert exc.value.problems[0].field == "DCMJ"


def test_balanced_farmland_ties_to_the_balanced_cultivated_area():
    cells = base_cells(DLTB)
    # 640324: +3 steps on its one row, all cells below 1 公顷 → reverse code order, one each:
    # 1203, 1106 and 0101 (0.20 → 0.21): the 耕地 breakdowns must follow to 0.21.
    # 640302: +1 step → village A1, record "", 1203 (耕地 unchanged at 0.09).
    bal = balance_cells(cells.cells, {"640302": 2204.0, "640324": 2800.0})
    cls = class_table(cells, balanced=bal).rows
    gd = cls[cls["dlbm"].isin(["0101", "0102", "0103"])].groupby("unit")["units"].sum()
    t = farmland_table(DLTB, balanced=bal)
    assert t.balanced
    for attr in ("GDPDJB", "GDLX", "ZZSXDM", "TBXHDM"):
        got = t.rows[t.rows["attribute"] == attr].groupby("unit")["units"].sum()
        assert got.to_dict() == gd.to_dict() == {"640302": 9, "640324": 21}
