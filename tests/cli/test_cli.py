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


def test_settings_then_check_report_names_project_and_bureau(tmp_path):
    import docx

    ws = tmp_path / "ws.gpkg"
    assert run("init", ws, "--name", "测试", "--region", "640302").exit_code == 0
    src = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(dltb_frame(6), src, layer="DLTB")
    assert run("ingest", ws, src, "--dataset", "DLTB", "--version", "2024").exit_code == 0
    r = run("settings", ws, "--set", "编制单位=某市自然资源局", "--set", "预审意见文号=某自然资预〔2026〕3号",
            "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["org"] == "某市自然资源局"
    r = run("settings", ws, "--set", "storage_crs=EPSG:4326")
    assert r.exit_code != 0 and "不能设置" in r.output
    site = tmp_path / "site.geojson"
    site.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
            [106.201, 37.9505], [106.205, 37.9505], [106.205, 37.9515], [106.201, 37.9515],
            [106.201, 37.9505]]]}}]}), encoding="utf-8")
    out = tmp_path / "yushen.docx"
    r = run("check", ws, site, "--use", "工业", "--name", "某某项目", "--applicant", "某某公司",
            "--docx", out, "--json")
    assert r.exit_code == 0, r.output
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    cells = "\n".join(c.text for t in docx.Document(str(out)).tables for row in t.rows
                      for c in row.cells)
    assert "某自然资预〔2026〕3号" in text and "（某某项目）" in text
    assert "某某公司" in cells and "site.geojson" not in text + cells
    assert "某市自然资源局（盖章）" in cells
