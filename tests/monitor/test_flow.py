"""土地利用现状变更表, 三大类 balance and the update package on hand-made versions."""

import json

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from onemap.cli import app
from onemap.geo.area import ellipsoidal_area
from onemap.monitor.changes import detect_changes
from onemap.monitor.flow import flow_table, update_package
from onemap.store import init_workspace
from onemap.store.base import VersionMeta

LT, TX = "6403020010010000000", "6403240010010000000"
BOX_A = shapely.box(106.000, 37.000, 106.001, 37.001)
BOX_B = shapely.box(106.002, 37.000, 106.004, 37.001)
LEFT_B = shapely.box(106.002, 37.000, 106.003, 37.001)
RIGHT_B = shapely.box(106.003, 37.000, 106.004, 37.001)
BOX_D = shapely.box(106.010, 37.000, 106.011, 37.001)
BOX_E = shapely.box(106.012, 37.000, 106.013, 37.001)


def versions():
    old = gpd.GeoDataFrame({
        "BSM": ["A", "B", "D", "E"], "DLBM": ["0103", "0301", "1106", "0404"],
        "ZLDWDM": [LT, LT, TX, TX], "BZ": ["", "", "x", ""]},
        geometry=[BOX_A, BOX_B, BOX_D, BOX_E], crs=4490)
    new = gpd.GeoDataFrame({
        "BSM": ["A", "B", "C", "D", "E"], "DLBM": ["0702", "0301", "1003", "1106", "1205"],
        "ZLDWDM": [LT, LT, LT, TX, TX], "BZ": ["", "", "", "y", ""]},
        geometry=[BOX_A, LEFT_B, RIGHT_B, BOX_D, BOX_E], crs=4490)
    return old, new


def area(g):
    return round(float(ellipsoidal_area([g])[0]), 2)


def test_flow_cells_and_three_class_balance_by_hand():
    old, new = versions()
    res = detect_changes(old, new)
    t = flow_table(res.changes, unit_names={"640302": "利通区"})
    got = {(r["unit"], r["from"], r["to"]): r["area_m2"] for r in t.records()}
    assert got == pytest.approx({("640302", "0103", "0702"): area(BOX_A),
                                 ("640302", "0301", "1003"): area(RIGHT_B),
                                 ("640324", "0404", "1205"): area(BOX_E)}, abs=0.011)
    # the off-diagonal cells add up exactly to the change area of the change set
    assert t.change_area_m2 == res.summary["change_area_m2"]
    assert round(sum(got.values()), 2) == res.summary["change_area_m2"]
    bal = {(b["unit"], b["three_class"]): b for b in t.balance_records()}
    moved = round(got[("640302", "0103", "0702")] + got[("640302", "0301", "1003")], 2)
    assert bal[("640302", "农用地")]["decrease_m2"] == moved
    assert bal[("640302", "建设用地")]["increase_m2"] == moved
    assert bal[("640302", "未利用地")]["net_m2"] == 0
    # 0404 → 1205 stays inside 未利用地: no 三大类 movement
    assert all(bal[("640324", c)]["net_m2"] == 0 for c in ("农用地", "建设用地", "未利用地"))
    for unit in ("640302", "640324"):
        assert sum(b["net_m2"] for (u, _), b in bal.items() if u == unit) == 0


def test_update_package_pieces_and_touched_patches():
    old, new = versions()
    res = detect_changes(old, new)
    pkg = update_package(res, new, pd.Index(old["BSM"].astype(str)))
    gx = pkg["GXGC"]
    rows = sorted(zip(gx["BGQTBBSM"], gx["BGHTBBSM"], gx["BGQDLBM"], gx["BGHDLBM"], gx["BGLX"],
                      strict=True))
    assert rows == [("A", "A", "0103", "0702", "地类变化"), ("B", "B", "0301", "0301", "界线调整"),
                    ("B", "C", "0301", "1003", "地类变化"), ("E", "E", "0404", "1205", "地类变化")]
    by_pair = dict(zip(zip(gx["BGQTBBSM"], gx["BGHTBBSM"], strict=True), gx["BGMJ"], strict=True))
    assert by_pair[("B", "C")] == pytest.approx(area(RIGHT_B), abs=0.011)
    assert by_pair[("B", "B")] + by_pair[("B", "C")] == pytest.approx(area(BOX_B), abs=0.02)
    assert sorted(pkg["DLTBGX"]["BSM"]) == ["A", "B", "C", "D", "E"]  # D: attribute edit
    assert set(gx["XZQDM"]) == {"640302", "640324"} and gx.crs.to_epsg() == 4490


def test_cli_flow_json_gpkg_and_xlsx(tmp_path):
    ws = tmp_path / "ws.gpkg"
    store = init_workspace(ws, name="测试市自然资源一张图", region="640300")
    old, new = versions()
    store.write_version("DLTB", "2023", old, VersionMeta(synthetic=True), title="地类图斑")
    store.write_version("DLTB", "2024", new, VersionMeta(synthetic=True), title="地类图斑")
    store.close()
    out, pkg = tmp_path / "flow.xlsx", tmp_path / "gx.gpkg"
    r = CliRunner().invoke(app, ["changes", str(ws), "--from", "2023", "--to", "2024", "--table",
                                 "flow", "--json", "--xlsx", str(out), "--gpkg", str(pkg)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["change_area_m2"] == data["summary_change_area_m2"]
    assert data["update"] == {"DLTBGX": 5, "GXGC": 4}
    assert {(x["from"], x["to"]) for x in data["rows"]} == {("0103", "0702"), ("0301", "1003"),
                                                          ("0404", "1205")}
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["变更表（全市）", "变更表（640302）", "变更表（640324）", "三大类平衡表"]
    sh = wb["变更表（全市）"]
    assert sh["A1"].value == "测试市2023—2024年度土地利用现状变更表"
    assert sh["C3"].value == "减少合计" and sh["D3"].value == "现地类"
    assert [sh.cell(4, j).value for j in (4, 5, 6)] == ["农村宅基地（0702）", "公路用地（1003）", "沙地（1205）"]
    assert [sh.cell(r, 1).value for r in (5, 6, 7, 8)] == ["旱地", "乔木林地", "其他草地", "增加合计"]
    # cells are rounded alone to 0.01 公顷; every total is the sum of what the sheet shows
    # (0.99 × 3 = 2.97, while the exact change area 29 634.72 m² would round to 2.96)
    cells = [round(area(g) / 10000, 2) for g in (BOX_A, RIGHT_B, BOX_E)]
    assert [sh.cell(r, c).value for r, c in ((5, 4), (6, 5), (7, 6))] == cells
    assert sh.cell(8, 3).value == round(sum(cells), 2)
    assert round(sum(sh.cell(8, j).value for j in (4, 5, 6)), 2) == sh.cell(8, 3).value
    assert round(sum(sh.cell(r, 3).value for r in (5, 6, 7)), 2) == sh.cell(8, 3).value
    bal = wb["三大类平衡表"]
    assert bal["C3"].value == "农用地" and bal["C4"].value == "增加" and bal["E4"].value == "净增减"
