import json

import openpyxl
import pyogrio
from typer.testing import CliRunner

from builders import dltb_frame, file_digest
from onemap.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_init_ingest_catalog_stats_round_trip(tmp_path):
    ws = tmp_path / "ws.gpkg"
    r = run("init", ws, "--name", "测试", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["created"] is True

    src = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(dltb_frame(12), src, layer="DLTB")
    r = run("ingest", ws, src, "--dataset", "DLTB", "--version", "2024")
    assert r.exit_code == 0, r.output
    assert "已入库 DLTB 2024" in r.stdout

    r = run("catalog", ws, "--json")
    cat = json.loads(r.stdout)
    assert cat["datasets"][0]["name"] == "DLTB"
    assert cat["datasets"][0]["versions"][0]["feature_count"] == 12

    xlsx = tmp_path / "stats.xlsx"
    r = run("stats", ws, "--dataset", "DLTB", "--by", "county", "--json", "--xlsx", xlsx)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    rows = data["rows"]
    assert {"unit", "dlbm", "tbdlmj_m2"} <= set(rows[0])
    assert {row["unit"] for row in rows} == {"640302"}
    total = sum(row["tbdlmj_m2"] for row in rows)
    v = json.loads(run("catalog", ws, "--json").stdout)["datasets"][0]["versions"][0]
    assert abs(total - v["area_totals"]["TBDLMJ"]) < 0.01
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["分组汇总（公顷）", "分组汇总（亩）", "二级地类明细"]

    r = run("stats", ws, "--by", "town")
    assert r.exit_code == 0 and "640302001" in r.stdout


def test_refused_ingest_exits_non_zero_with_chinese_message(tmp_path):
    ws = tmp_path / "ws.gpkg"
    run("init", ws)
    bad = dltb_frame()
    bad.loc[1, "DLBM"] = "0199"
    src = tmp_path / "bad.gpkg"
    pyogrio.write_dataframe(bad, src, layer="DLTB")
    before = file_digest(ws)
    r = run("ingest", ws, src, "--dataset", "DLTB", "--version", "2024")
    assert r.exit_code != 0
    assert "unknown_dlbm" in r.stderr and "bad.gpkg" in r.stderr and bad.loc[1, "BSM"] in r.stderr
    r = run("ingest", ws, src, "--dataset", "DLTB", "--version", "2024", "--json")
    assert r.exit_code != 0
    err = json.loads(r.stdout)
    assert any(p["rule"] == "unknown_dlbm" and p["field"] == "DLBM" for p in err["problems"])
    assert file_digest(ws) == before


def test_missing_workspace_and_dataset(tmp_path):
    r = run("catalog", tmp_path / "none.gpkg")
    assert r.exit_code != 0 and "工作空间不存在" in r.stderr
    ws = tmp_path / "ws.gpkg"
    run("init", ws)
    r = run("stats", ws, "--json")
    assert r.exit_code != 0 and "没有数据集 DLTB" in json.loads(r.stdout)["message"]
