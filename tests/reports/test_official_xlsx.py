"""Official tables through the CLI, and every XLSX read back with openpyxl."""

import json
import re
from datetime import date

import openpyxl
import pandas as pd
import pytest
import shapely
from geopandas import GeoDataFrame
from typer.testing import CliRunner

from onemap.cli import app
from onemap.reports.xlsx import (
    Column,
    Filing,
    Sheet,
    chinese_date,
    display_width,
    period_text,
    write_official_workbook,
)
from onemap.store import init_workspace
from onemap.store.base import VersionMeta

runner = CliRunner()
A1, A2, B1 = "6403020010010000000", "6403020010020000000", "6403240010010000000"
COLS = ["BSM", "ZLDWDM", "DLBM", "TBMJ", "KCMJ", "TBDLMJ", "CZCSXM"]
ROWS = [
    ["1", A1, "0103", 1000.00, 100.00, 900.00, ""],
    ["2", A1, "1004", 200.00, 0.0, 200.00, "203"],
    ["3", A1, "1004", 300.00, 0.0, 300.00, ""],
    ["4", A2, "0702", 500.00, 0.0, 500.00, "203A"],
    ["5", A2, "0603", 50.00, 0.0, 50.00, "204"],
    ["6", B1, "0101", 2000.00, 0.0, 2000.00, ""],
    ["7", B1, "1106", 400.00, 0.0, 400.00, ""],
    ["8", B1, "1203", 70.00, 0.0, 70.00, ""],
]


def make_ws(path, *, czcsxm=True, control="DCMJ"):
    store = init_workspace(path, name="测试市自然资源一张图", region="640300")
    dltb = pd.DataFrame(ROWS, columns=COLS)
    if not czcsxm:
        dltb = dltb.drop(columns="CZCSXM")
    boxes = [shapely.box(106 + i * 0.001, 37, 106.001 + i * 0.001, 37.001) for i in range(len(dltb))]
    store.write_version("DLTB", "2024", GeoDataFrame(dltb, geometry=boxes, crs=4490),
                        VersionMeta(synthetic=True), title="地类图斑")
    xzq = {"XZQDM": ["640302", "640324"], "XZQMC": ["利通区", "同心县"]}
    if control:
        xzq[control] = [2204.00, 2470.00]
    store.write_version("XZQ", "2024", GeoDataFrame(xzq, geometry=boxes[:2], crs=4490),
                        VersionMeta(synthetic=True), title="行政区")
    store.close()
    return path


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_bulletin_json_is_balanced_to_the_control_area(tmp_path):
    ws = make_ws(tmp_path / "ws.gpkg")
    r = run("stats", ws, "--table", "bulletin", "--balanced", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["balanced"] is True
    # 640302: cells 0.09+0.01+0.03+0.02+0.05+0.01 = 0.21; control 0.22 → the step goes to
    # village 001's record without a code, reverse code order → 1203 (其他土地).
    assert data["balance"] == [
        {"county": "640302", "county_name": "利通区", "control_field": "DCMJ",
         "control_ha": 0.22, "sum_before_ha": 0.21, "steps": 1},
        {"county": "640324", "county_name": "同心县", "control_field": "DCMJ",
         "control_ha": 0.25, "sum_before_ha": 0.25, "steps": 0}]
    got = {(x["unit"], x["group"]): x["hectare"] for x in data["rows"]}
    assert got == {("640302", "耕地"): 0.09, ("640302", "城镇村及工矿用地"): 0.08,
                   ("640302", "交通运输用地"): 0.03, ("640302", "其他土地"): 0.02,
                   ("640324", "湿地"): 0.04, ("640324", "耕地"): 0.2,
                   ("640324", "其他土地"): 0.01}
    assert {x["area_m2"] for x in data["rows"] if x["group"] == "城镇村及工矿用地"} == {750.0}
    # unbalanced JSON keeps the exact figures
    plain = json.loads(run("stats", ws, "--table", "class", "--json").stdout)
    assert plain["balanced"] is False and plain["balance"] == []
    assert sum(x["area_m2"] for x in plain["rows"]) == pytest.approx(4520.0)


def test_bulletin_xlsx_as_filed(tmp_path):
    ws = make_ws(tmp_path / "ws.gpkg")
    out = tmp_path / "bulletin.xlsx"
    r = run("stats", ws, "--table", "bulletin", "--xlsx", out)
    assert r.exit_code == 0, r.output
    sh = openpyxl.load_workbook(out)["公报口径汇总表"]
    assert sh["A1"].value == "测试市2024年度土地利用现状主要数据汇总表（公报口径）"
    merged = {str(m) for m in sh.merged_cells.ranges}
    assert "A1:L1" in merged and "D3:L3" in merged and "A3:A4" in merged
    assert sh["A2"].value == "填报单位：测试市自然资源局"
    assert re.fullmatch(r"填报日期：\d{4}年\d{1,2}月\d{1,2}日    单位：公顷", sh["G2"].value)
    assert [sh.cell(3, j).value for j in (1, 2, 3, 4)] == ["行政区名称", "行政区代码", "合计", "公报分组"]
    assert sh["D4"].value == "湿地" and sh["I4"].value == "城镇村及工矿用地"
    # 全市 first, then the counties; balanced by default (the XZQ carries DCMJ)
    assert [sh.cell(r, 1).value for r in (5, 6, 7)] == ["测试市合计", "利通区", "同心县"]
    assert [sh.cell(5, j).value for j in (3, 4, 5, 9, 11, 12)] == [0.47, 0.04, 0.29, 0.08, 0.0,
                                                                  0.03]
    assert sh.cell(6, 3).value == 0.22 and sh.cell(7, 3).value == 0.25
    assert sh.cell(5, 3).number_format == "#,##0.00" and sh.cell(5, 1).font.b
    assert "已调平" in sh.cell(9, 1).value
    assert sh.freeze_panes == "C5" and sh.print_title_rows == "$3:$4"
    ps = sh.page_setup
    assert (ps.orientation, ps.paperSize, ps.fitToWidth, ps.fitToHeight) == ("landscape", 9, 1, 0)
    assert sh.sheet_properties.pageSetUpPr.fitToPage
    assert sh.column_dimensions["K"].width >= display_width("水域及水利设施用地")


def test_class_table_by_village_has_county_subtotals_and_two_level_headers(tmp_path):
    ws = make_ws(tmp_path / "ws.gpkg")
    out = tmp_path / "class.xlsx"
    assert run("stats", ws, "--table", "class", "--by", "village", "--xlsx", out).exit_code == 0
    sh = openpyxl.load_workbook(out).active
    assert sh["A3"].value == "村级调查区名称" and sh["D3"].value == "三大类"
    heads = {sh.cell(3, j).value: sh.cell(4, j).value for j in range(1, sh.max_column + 1)
             if sh.cell(3, j).value}
    assert heads["耕地（01）"] == "小计"
    names = [sh.cell(r, 1).value for r in range(5, 10)]
    assert names == ["测试市合计", "利通区小计", "6403020010010000000"[:12], "6403020010020000000"[:12],
                     "同心县小计"]
    col = {sh.cell(4, j).value: j for j in range(1, sh.max_column + 1)}
    assert sh.cell(6, 3).value == 0.22 and sh.cell(7, 3).value + sh.cell(8, 3).value == 0.22
    assert sh.cell(7, col["田坎（1203）"]).value == 0.02  # the balancing step, by hand
    assert sh.cell(6, 1).font.b and not sh.cell(7, 1).font.b


def test_czc_and_bulletin_refused_without_czcsxm_and_balanced_refused_without_dcmj(tmp_path):
    ws = make_ws(tmp_path / "a.gpkg", czcsxm=False)
    r = run("stats", ws, "--table", "czc")
    assert r.exit_code != 0 and "没有城镇村属性码字段 CZCSXM" in r.stderr
    assert run("stats", ws, "--table", "class").exit_code == 0
    ws2 = make_ws(tmp_path / "b.gpkg", control=None)
    r = run("stats", ws2, "--table", "class", "--balanced")
    assert r.exit_code != 0 and "DCMJ、KZMJ" in r.stderr
    out = tmp_path / "c.xlsx"
    assert run("stats", ws2, "--table", "class", "--xlsx", out).exit_code == 0
    sh = openpyxl.load_workbook(out).active
    assert any("未调平" in str(c.value) for c in sh["A"])
    ws3 = make_ws(tmp_path / "k.gpkg", control="KZMJ")
    data = json.loads(run("stats", ws3, "--table", "class", "--balanced", "--json").stdout)
    assert data["balance"][0]["control_field"] == "KZMJ"


def test_writer_empty_sheet_says_no_data_and_wide_sheets_go_to_a3(tmp_path):
    f = Filing(region="某市", filing_unit="某市自然资源局", on=date(2024, 12, 3))
    wide = [Column("name", "名称")] + [Column(f"c{i}", f"第{i}列", "分组", "area") for i in range(20)]
    out = write_official_workbook(tmp_path / "w.xlsx", [
        Sheet("空表", "某市空表", [Column("name", "名称"), Column("v", "面积", kind="area")], []),
        Sheet("宽表", "某市宽表", wide, [{"name": "甲", **{f"c{i}": 1234.5 for i in range(20)}}],
              unit=""),
    ], f)
    wb = openpyxl.load_workbook(out)
    empty, wide_sh = wb["空表"], wb["宽表"]
    assert empty["A4"].value == "无数据" and "A4:B4" in {str(m) for m in empty.merged_cells.ranges}
    assert empty["B2"].value == "填报日期：2024年12月3日    单位：公顷"
    assert wide_sh.page_setup.paperSize == 8 and "单位" not in wide_sh["K2"].value
    assert wide_sh.column_dimensions["B"].width >= len("1,234.50")
    assert chinese_date("2024-01-05T10:00:00+00:00") == "2024年1月5日"
    assert period_text("2023", "2024") == "2023—2024年度" and display_width("耕地a") == 5


def test_tabulation_xlsx_in_hectare_and_mu_by_county_and_control_line(tmp_path):
    ws = tmp_path / "ws.gpkg"
    store = init_workspace(ws, name="测试市自然资源一张图", region="640300")
    a, b = shapely.box(106.0, 37.0, 106.001, 37.001), shapely.box(106.002, 37.0, 106.003, 37.001)
    dltb = GeoDataFrame({"BSM": ["1", "2"], "DLBM": ["0101", "0702"], "ZLDWDM": [A1, B1],
                         "TBDLMJ": [9000.00, 5000.00], "KCXS": [0.0, 0.0]},
                        geometry=[a, b], crs=4490)
    store.write_version("DLTB", "2024", dltb, VersionMeta(synthetic=True), title="地类图斑")
    store.write_version("YJJBNTTB", "2024", GeoDataFrame({"BSM": ["y1"]}, geometry=[a], crs=4490),
                        VersionMeta(synthetic=True), title="永久基本农田图斑")
    store.close()
    out = tmp_path / "t.xlsx"
    r = run("tabulate", ws, "--zones", "YJJBNTTB", "--xlsx", out)
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["控制线内外（公顷）", "控制线内外（亩）", "控制线内外地类明细", "控制线冲突"]
    ha, mu = wb["控制线内外（公顷）"], wb["控制线内外（亩）"]
    assert ha["A1"].value == "测试市2024年度控制线内外土地利用现状面积统计表（公顷）"
    assert ha["C3"].value == "永久基本农田图斑"
    assert [ha.cell(4, j).value for j in (3, 4, 5, 6)] == ["范围内合计", "其中：耕地", "其中：建设用地", "范围外"]
    # 全市: patch 1 (0101, 9 000 m²) inside, patch 2 (0702, 5 000 m²) outside
    assert [ha.cell(5, j).value for j in (3, 4, 5, 6)] == [0.9, 0.9, 0.0, 0.5]
    assert [ha.cell(r, 2).value for r in (5, 6, 7)] == ["640300", "640302", "640324"]
    assert [mu.cell(5, j).value for j in (3, 4, 5, 6)] == [13.5, 13.5, 0.0, 7.5]
    assert mu["D2"].value.endswith("单位：亩")
    assert wb["控制线冲突"]["A4"].value == "无数据"


def test_group_summary_xlsx_without_table(tmp_path):
    ws = make_ws(tmp_path / "ws.gpkg")
    out = tmp_path / "s.xlsx"
    assert run("stats", ws, "--xlsx", out).exit_code == 0
    sh = openpyxl.load_workbook(out)["分组汇总（公顷）"]
    assert sh["A1"].value == "测试市2024年度土地利用现状分类面积汇总表（公顷）"
    assert sh["A5"].value == "测试市合计" and sh["A6"].value == "利通区"
    # TBDLMJ only (no KCMJ in this table): 640302 0.09+0.02+0.03+0.05+0.01, 640324 0.20+0.04+0.01
    assert [sh.cell(r, 3).value for r in (5, 6, 7)] == [0.45, 0.2, 0.25]


def test_settings_name_the_filing_unit_and_region_of_every_table(tmp_path):
    ws = make_ws(tmp_path / "ws.gpkg")
    got = json.loads(run("settings", ws, "--set", "编制单位=某市自然资源和规划局", "--set",
                         "region_name=某市", "--json").stdout)
    assert (got["org"], got["region_name"]) == ("某市自然资源和规划局", "某市")
    out = tmp_path / "c.xlsx"
    assert run("stats", ws, "--table", "czc", "--xlsx", out).exit_code == 0
    sh = openpyxl.load_workbook(out).active
    assert sh["A1"].value == "某市2024年度城镇村及工矿用地面积汇总表"
    assert sh["A2"].value == "填报单位：某市自然资源和规划局"
    # 全市 小计 row, then one row per 城镇村属性码 named before its code
    assert [sh.cell(r, 3).value for r in (5, 6, 7)] == ["小计", "村庄（203）", "盐田及采矿用地（204）"]
