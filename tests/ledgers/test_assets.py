"""资产清查 and 资产负债表 by hand: prices imported into asset_prices, two DLTB versions.

2023 (TBDLMJ / KCMJ in m², written as given):
  P1 640302 QSXZ 10 0301 10000          P3 640381 QSXZ 10 0404 2000
  P2 640302 QSXZ 20 0101   950 + 50 田坎  P4 640302 QSXZ 30 0103 3000 (集体)
2024: P3 becomes 0404 500 and P6 640381 QSXZ 10 0301 1500; the rest unchanged.
Prices: J1 0301 12.5 (2023-06-30); J2 一级类 01 40000 元/亩 = 60 元/m²; J3 资源类型 草地 3.2;
J4 1203 1.5; J5 0404 in 640381 only 4.0; J7 0301 13.0 (2024-06-30).
"""

from __future__ import annotations

from decimal import Decimal

import geopandas as gpd
import openpyxl
import pytest
import shapely

from onemap.app.assets import asset_balance, asset_values
from onemap.app.ledgers import act, import_records, list_records
from onemap.errors import InputError
from onemap.ledgers.assets import Price, load_assets, pick_price
from onemap.store import VersionMeta

V2023 = [("P1", "640302", "10", "0301", 10000.0, 0.0), ("P2", "640302", "20", "0101", 950.0, 50.0),
         ("P3", "640381", "10", "0404", 2000.0, 0.0), ("P4", "640302", "30", "0103", 3000.0, 0.0)]
V2024 = [V2023[0], V2023[1], ("P3", "640381", "10", "0404", 500.0, 0.0), V2023[3],
         ("P6", "640381", "10", "0301", 1500.0, 0.0)]
PRICES = [
    {"价格编号": "J1", "地类编码": "0301", "清查价格（元/平方米）": "12.5", "价格时点": "2023-06-30"},
    {"价格编号": "J2", "地类编码": "01", "清查价格（元/亩）": "40000", "价格时点": "2023-06-30"},
    {"价格编号": "J3", "资源类型": "草地", "清查价格（元/平方米）": "3.2", "价格时点": "2023-06-30"},
    {"价格编号": "J4", "地类编码": "1203", "清查价格（元/平方米）": "1.5", "价格时点": "2023-06-30"},
    {"价格编号": "J5", "地类编码": "0404", "清查价格（元/平方米）": "4", "价格时点": "2023-06-30",
     "行政区代码": "640381"},
    {"价格编号": "J7", "地类编码": "0301", "清查价格（元/平方米）": "13", "价格时点": "2024-06-30"},
]


def _dltb(rows):
    return gpd.GeoDataFrame(
        {"BSM": [r[0] for r in rows], "ZLDWDM": [r[1] + "0010010000000" for r in rows],
         "QSXZ": [r[2] for r in rows], "DLBM": [r[3] for r in rows],
         "TBDLMJ": [r[4] for r in rows], "KCMJ": [r[5] for r in rows]},
        geometry=[shapely.box(106.2 + i * 0.01, 37.9, 106.205 + i * 0.01, 37.905)
                  for i in range(len(rows))], crs=4490)


@pytest.fixture
def priced(workspace, write_csv):
    workspace.write_version("DLTB", "2023", _dltb(V2023), VersionMeta())
    workspace.write_version("DLTB", "2024", _dltb(V2024), VersionMeta())
    cols = ["价格编号", "地类编码", "资源类型", "清查价格（元/平方米）", "清查价格（元/亩）", "价格时点", "行政区代码"]
    rows = [{c: r.get(c, "") for c in cols} for r in PRICES]
    got = import_records(workspace, "清查价格", write_csv("prices.csv", rows), actor="张三")
    assert got["records"] == ["J1", "J2", "J3", "J4", "J5", "J7"]
    return workspace


def test_per_mu_price_is_converted(priced):
    values = {r["record_no"]: r["values"] for r in list_records(priced, "asset_prices")["records"]}
    assert values["J2"]["QCJG"] == 60.0 and values["J1"]["QCJG"] == 12.5


def test_a_file_with_only_per_mu_prices(workspace, write_csv):
    got = import_records(workspace, "asset_prices", write_csv("mu.csv", [
        {"价格编号": "M1", "资源类型": "草地", "清查价格（元/亩）": "3000", "价格时点": "2023-06-30"}]),
        actor="张三")
    assert got["records"] == ["M1"]
    [rec] = list_records(workspace, "asset_prices")["records"]
    assert rec["values"]["QCJG"] == 4.5
    with pytest.raises(InputError, match="QCJG"):
        import_records(workspace, "asset_prices", write_csv("none.csv", [
            {"价格编号": "M2", "资源类型": "草地", "清查价格（元/亩）": "", "价格时点": "2023-06-30"}]),
            actor="张三")


def test_values_by_county_by_hand(priced, tmp_path):
    got = asset_values(priced, version="2023", by="county", xlsx=tmp_path / "a.xlsx")
    rows = {(r["county"], r["ownership"], r["dlbm"]): r for r in got["rows"]}
    assert set(rows) == {("640302", "全民所有", "0101"), ("640302", "全民所有", "0301"),
                         ("640302", "全民所有", "1203"), ("640302", "集体所有", "0103"),
                         ("640381", "全民所有", "0404")}
    assert [(rows[k]["area_m2"], rows[k]["price_yuan_m2"], rows[k]["value_yuan"], rows[k]["price_no"])
            for k in sorted(rows)] == [
        (950.0, 60.0, 57000.0, "J2"), (10000.0, 12.5, 125000.0, "J1"), (50.0, 1.5, 75.0, "J4"),
        (3000.0, None, None, ""), (2000.0, 4.0, 8000.0, "J5")]
    assert got["as_of"] == "2023-12-31"
    assert got["totals"] == {"全民所有": {"area_m2": 13000.0, "value_yuan": 190075.0},
                             "集体所有": {"area_m2": 3000.0, "value_yuan": None}}
    sheet = openpyxl.load_workbook(tmp_path / "a.xlsx")["资产清查"]
    assert sheet.cell(3, 9).value == "经济价值（元）"


def test_later_prices_apply_to_later_versions(priced):
    got = asset_values(priced, version="2024")
    rows = {(r["ownership"], r["dlbm"]): r for r in got["rows"]}
    # 0301: 640302 10000 and 640381 1500 at J7 13 元/m²
    assert rows[("全民所有", "0301")]["area_m2"] == 11500.0
    assert rows[("全民所有", "0301")]["value_yuan"] == 149500.0
    assert rows[("全民所有", "0404")]["value_yuan"] == 2000.0
    assert got["totals"]["全民所有"]["value_yuan"] == 208575.0


def test_a_missing_price_is_named_and_refused(priced):
    act(priced, "asset_prices", "J4", "retire", actor="张三", fields={"notes": "价格作废"})
    with pytest.raises(InputError, match=r"没有价格时点不晚于 2023-12-31 的有效清查价格.*1203 田坎（县 640302）"):
        asset_values(priced, version="2023")


def test_balance_sheet_opening_plus_changes_is_closing(priced, tmp_path):
    got = asset_balance(priced, "2023", "2024", by="county", xlsx=tmp_path / "b.xlsx")
    rows = {(r["county"], r["dlbm"]): r for r in got["rows"]}
    keys = ("opening_m2", "change_m2", "closing_m2", "opening_yuan", "quantity_change_yuan",
            "price_change_yuan", "closing_yuan")
    assert {k: tuple(r[x] for x in keys) for k, r in rows.items()} == {
        ("640302", "0101"): (950.0, 0.0, 950.0, 57000.0, 0.0, 0.0, 57000.0),
        ("640302", "0301"): (10000.0, 0.0, 10000.0, 125000.0, 0.0, 5000.0, 130000.0),
        ("640302", "1203"): (50.0, 0.0, 50.0, 75.0, 0.0, 0.0, 75.0),
        ("640381", "0301"): (0.0, 1500.0, 1500.0, 0.0, 19500.0, 0.0, 19500.0),
        ("640381", "0404"): (2000.0, -1500.0, 500.0, 8000.0, -6000.0, 0.0, 2000.0),
    }
    t = got["totals"]
    assert tuple(t[x] for x in keys) == (13000.0, 0.0, 13000.0, 190075.0, 13500.0, 5000.0, 208575.0)
    for r in [*got["rows"], t]:
        assert Decimal(str(r["opening_m2"])) + Decimal(str(r["change_m2"])) == Decimal(str(r["closing_m2"]))
        assert (Decimal(str(r["opening_yuan"])) + Decimal(str(r["quantity_change_yuan"]))
                + Decimal(str(r["price_change_yuan"]))) == Decimal(str(r["closing_yuan"]))
    wb = openpyxl.load_workbook(tmp_path / "b.xlsx")
    sheet = wb[load_assets().balance_sheet.sheet]
    assert sheet.cell(1, 1).value == "测试全民所有土地资源资产负债表（2023—2024）"
    assert [c.value for c in sheet[3]][:3] == ["县级行政区", "地类编码", "地类名称"]
    last = sheet.max_row
    assert sheet.cell(last, 1).value == "合计" and sheet.cell(last, 10).value == 208575.0


def test_whole_city_rows_add_the_counties(priced):
    got = asset_balance(priced, "2023", "2024")
    rows = {r["dlbm"]: r for r in got["rows"]}
    assert (rows["0301"]["opening_yuan"], rows["0301"]["quantity_change_yuan"],
            rows["0301"]["price_change_yuan"], rows["0301"]["closing_yuan"]) == (125000.0, 19500.0,
                                                                                5000.0, 149500.0)
    assert "county" not in rows["0301"]


def test_ownership_must_be_known(workspace):
    bad = _dltb([("P9", "640302", "", "0301", 1.0, 0.0)])
    workspace.write_version("DLTB", "2023", bad, VersionMeta())
    with pytest.raises(InputError, match=r"权属性质 QSXZ 为 空.*BSM P9"):
        asset_values(workspace)


def test_prices_that_tie_are_refused():
    cfg = load_assets()
    same = [Price("A", Decimal(1), "2023-01-01", dlbm="0301"), Price("B", Decimal(2), "2023-01-01", dlbm="0301")]
    with pytest.raises(InputError, match="A、B"):
        pick_price(same, cfg, "640302", "0301", None)
    # a county's own price wins over the city-wide one; a later date over an earlier one
    county = [Price("C", Decimal(1), "2023-01-01", dlbm="0301"),
              Price("D", Decimal(2), "2022-01-01", dlbm="0301", county="640302")]
    assert pick_price(county, cfg, "640302", "0301", None).no == "D"
    assert pick_price(county, cfg, "640381", "0301", None).no == "C"
    assert pick_price(county, cfg, "640381", "0301", "2022-12-31") is None
    # a resource type naming the code (湿地 lists 0304) before one covering its 一级类 (林地 03)
    types = [Price("F", Decimal(1), "2023-01-01", resource_type="林地"),
             Price("W", Decimal(2), "2023-01-01", resource_type="湿地")]
    assert pick_price(types, cfg, "640302", "0304", None).no == "W"
    assert pick_price(types, cfg, "640302", "0301", None).no == "F"
