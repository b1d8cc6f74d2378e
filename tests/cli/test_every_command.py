"""Every ``onemap`` command through Typer's CliRunner with ``--json``, its output checked.

The world: six 0.002° × 0.002° patches in a row at 37.95°N (``builders.dltb_frame``) ingested as
DLTB 2023 and again as DLTB 2024 with patch 0 (水田) built on as 工业用地; a permanent-farmland
polygon over all six; one monitoring patch over patch 3 (乔木林地).

Every patch has the same official area: a latitude–longitude box on the CGCS2000 ellipsoid has the
closed form ``S = b²/2 · Δλ · [q(φ₂) − q(φ₁)]`` with ``q(φ) = sinφ/(1 − e²sin²φ) +
ln((1 + e sinφ)/(1 − e sinφ))/(2e)``, computed here by hand (:func:`box_area`), not by the engine.

``test_every_command_has_a_json_test`` walks the Typer app and fails when a command has no
``run(...)`` call with ``--json`` in this module.
"""

from __future__ import annotations

import ast
import json
import math
import shutil
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from PIL import Image
from typer.main import get_command
from typer.testing import CliRunner

from builders import dltb_frame
from onemap.cli import app
from onemap.domain import sources
from onemap.store import VersionMeta, open_workspace

runner = CliRunner()
CASE = "WP-640302-2024-0001"


def box_area(lat1: float, lat2: float, dlon: float) -> float:
    """Area (m²) of a latitude–longitude box on the CGCS2000 ellipsoid (closed form)."""
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return a * a * (1 - e2) / 2 * math.radians(dlon) * (q(lat2) - q(lat1))


#: Official area of each patch, to the cent (the ingest rounds TBMJ to 0.01 m²).
A = round(box_area(37.95, 37.952, 0.002), 2)
#: 地类面积 of a cultivated patch: TBMJ − KCMJ with KCMJ = TBMJ × 0.05 rounded to the cent.
A_GD = round(A - round(A * 0.05, 2), 2)


def run(*args):
    """Invoke the CLI; return the result (stdout and stderr kept apart)."""
    return runner.invoke(app, [str(a) for a in args], prog_name="onemap")


def ok(*args) -> dict | list:
    """Invoke the CLI, expect success, return the parsed JSON output."""
    r = run(*args)
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout)


def photo(path: Path, lon: float = 106.201, lat: float = 37.951) -> Path:
    """A tiny JPEG with EXIF GPS position and time (evidence for a case)."""
    img = Image.new("RGB", (8, 8), "green")
    exif = Image.Exif()

    def dms(v: float) -> tuple[float, float, float]:
        d = int(v)
        m = int((v - d) * 60)
        return (float(d), float(m), round((v - d - m / 60) * 3600, 4))

    exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    exif[0x8769] = {36867: "2025:03:05 10:20:30"}
    img.save(path, exif=exif)
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """The workspace after init and two ingests (CLI), plus the farmland and monitoring layers."""
    d = tmp_path_factory.mktemp("every")
    ws = d / "ws.gpkg"
    assert ok("init", ws, "--name", "测试市", "--region", "640300", "--json") == {
        "workspace": str(ws), "created": True}
    old = dltb_frame(6)
    new = old.copy()
    new.loc[0, ["DLBM", "DLMC", "KCXS", "GDLX", "GDPDJB", "ZZSXDM", "ZZSXMC", "KCDLBM"]] = [
        "0601", "工业用地", 0.0, "", "", "", "", ""]
    old.to_file(d / "dltb2023.gpkg", layer="DLTB")
    new.to_file(d / "dltb2024.gpkg", layer="DLTB")
    for year in ("2023", "2024"):
        got = ok("ingest", ws, d / f"dltb{year}.gpkg", "--dataset", "DLTB", "--version", year, "--json")
        assert (got["version"]["version"], got["version"]["feature_count"]) == (year, 6)
        assert got["version"]["area_totals"]["TBMJ"] == pytest.approx(6 * A, abs=0.005)
        assert got["findings"] == {"area_computed": 1}
    store = open_workspace(ws)
    farmland = gpd.GeoDataFrame({"BSM": ["1"], "ZLDWDM": ["6403020010010000000"]},
                                geometry=[shapely.box(*old.total_bounds)], crs=4490)
    store.write_version("YJJBNTTB", "2023", farmland, VersionMeta())
    jc = gpd.GeoDataFrame({"JCBH": ["JC-01"], "TBLX": ["20"], "QSX": ["20250101"],
                           "HSX": ["20250601"], "XZQDM": ["640302"]},
                          geometry=[old.geometry.iloc[3]], crs=4490)
    store.write_version("JCTB", "2025-06", jc, VersionMeta(source_file="jc.shp"))
    store.close()
    return ws


@pytest.fixture
def ws(world, tmp_path) -> Path:
    """A private copy of the world."""
    shutil.copy(world, tmp_path / "ws.gpkg")
    return tmp_path / "ws.gpkg"


@pytest.fixture(scope="module")
def judged(world, tmp_path_factory) -> Path:
    """The world with 2023→2024 compared, judged and its case opened."""
    ws = tmp_path_factory.mktemp("judged") / "ws.gpkg"
    shutil.copy(world, ws)
    got = ok("changes", ws, "--from", "2023", "--to", "2024", "--json")
    assert got["changeset"] == {"dataset": "BHTB", "version": "2023-2024", "version_id": 5,
                                "saved": True, "existing": False}
    assert got["summary"]["unchanged"] == 5
    [change] = got["changes"]
    assert (change["before"], change["after"]) == ("0101", "0601")
    assert change["area_m2"] == pytest.approx(A, abs=0.005)
    got = ok("judge", ws, "--changeset", "2023-2024", "--as-of", "2025-03-01", "--json")
    assert (got["run_id"], got["year"], got["as_of"]) == (1, 2024, "2025-03-01")
    [patch] = got["patches"]
    assert (patch["verdict"], patch["rule"]) == ("疑似违法", "YN_OCCUPIED")
    assert patch["suspect_gd_area_m2"] == pytest.approx(A_GD, abs=0.005)
    got = ok("cases", "open", ws, "--json")
    assert [c["case_no"] for c in got["opened"]] == [CASE]
    assert got["opened"][0]["state"] == "issued"
    return ws


# ---------------------------------------------------------------------------- data and catalog
def test_catalog_shows_versions_lineage_and_domain_files(judged, monkeypatch):
    monkeypatch.delenv(sources.ENV_OVERRIDE_DIR, raising=False)
    got = ok("catalog", judged, "--json")
    names = [d["name"] for d in got["datasets"]]
    assert names == ["BHTB", "BHTBPD", "DLTB", "JCTB", "YJJBNTTB"]
    bhtb = got["datasets"][0]["versions"][0]
    assert [(i["dataset"], i["version"], i["role"]) for i in bhtb["inputs"]] == [
        ("DLTB", "2023", "before"), ("DLTB", "2024", "after"), ("YJJBNTTB", "2023", "control")]
    assert bhtb["synthetic"] is False
    judged_set = got["datasets"][1]["versions"][0]
    assert [(c["dataset"], c["depth"]) for c in judged_set["lineage"]] == [
        ("BHTB", 1), ("DLTB", 2), ("DLTB", 2), ("YJJBNTTB", 2)]
    files = got["domain_files"]
    assert files["override_dir"] is None and files["ignored"] == []
    assert [(f["area"], f["name"], f["source"]) for f in files["files"]] == [
        (area, name, "shipped") for area, name in sources.shipped_names()]
    text = run("catalog", judged)
    assert text.exit_code == 0
    assert "派生自" in text.stdout and "DLTB 2023、DLTB 2024、YJJBNTTB 2023" in text.stdout
    assert "均为随软件发布的版本" in text.stdout


def test_stats(world, tmp_path):
    xlsx = tmp_path / "stats.xlsx"
    got = ok("stats", world, "--version", "2024", "--xlsx", xlsx, "--json")
    assert got["source"] == {"dataset": "DLTB", "version": "2024", "version_id": 2}
    by_class = {r["dlbm"]: r["tbdlmj_m2"] for r in got["rows"]}
    assert by_class == pytest.approx({"0102": A_GD, "0103": A_GD, "0301": A, "0601": A,
                                      "0702": A, "1205": A}, abs=0.005)
    total = next(g for g in got["groups_hectare"] if g["unit"] == "合计")
    assert total["total"] == pytest.approx((4 * A + 2 * A_GD) / 10_000, abs=1e-6)
    assert got["xlsx"] == str(xlsx)
    assert openpyxl.load_workbook(xlsx).sheetnames == ["分组汇总（公顷）", "分组汇总（亩）", "二级地类明细"]


def test_official_tables(world, tmp_path):
    ws = tmp_path / "ws.gpkg"
    shutil.copy(world, ws)
    # class table: 1203 holds the 田坎 deducted from the two cultivated patches, so the six
    # patches add up to 6 × TBMJ
    got = ok("stats", ws, "--version", "2023", "--table", "class", "--json")
    assert got["balanced"] is False and got["balance"] == []
    by_class = {r["dlbm"]: r["area_m2"] for r in got["rows"]}
    assert by_class["1203"] == pytest.approx(3 * round(A * 0.05, 2), abs=0.005)
    assert sum(by_class.values()) == pytest.approx(6 * A, abs=0.005)
    # no XZQ with DCMJ: --balanced is refused naming the fields
    r = run("stats", ws, "--table", "class", "--balanced", "--json")
    assert r.exit_code != 0 and "DCMJ" in json.loads(r.stdout)["message"]
    flow = ok("changes", ws, "--from", "2023", "--to", "2024", "--table", "flow", "--json")
    assert [(x["from"], x["to"]) for x in flow["rows"]] == [("0101", "0601")]
    assert flow["change_area_m2"] == flow["summary_change_area_m2"] == pytest.approx(A, abs=0.005)


def test_tabulate(world):
    got = ok("tabulate", world, "--zones", "YJJBNTTB", "--json")
    assert got["sources"]["zones"]["YJJBNTTB"]["patches_whole"] == 6
    inside = {r["dlbm"]: r["tbdlmj_m2"] for r in got["rows"] if r["inside"]}
    outside = sum(r["tbdlmj_m2"] for r in got["rows"] if not r["inside"])
    assert inside == pytest.approx({"0102": A_GD, "0103": A_GD, "0301": A, "0601": A,
                                    "0702": A, "1205": A}, abs=0.005)
    assert outside == 0


def test_check(world, tmp_path):
    site = tmp_path / "site.geojson"
    site.write_text(json.dumps({"type": "Feature", "properties": {"name": "地块一"},
                                "geometry": shapely.geometry.mapping(dltb_frame(6).geometry.iloc[0])}),
                    "utf-8")
    got = ok("check", world, site, "--use", "工业", "--json")
    assert got["name"] == "地块一" and got["use"] == "工业"
    assert got["site_area_m2"] == pytest.approx(A, abs=0.005)
    assert got["by_dlbm"] == pytest.approx({"0601": A}, abs=0.005)
    assert got["layers"]["YJJBNTTB"]["status"] == "已检查"
    assert got["layers"]["YJJBNTTB"]["area_m2"] == pytest.approx(A, abs=0.005)
    assert got["layers"]["STBHHX"]["status"] == "未入库，未检查"


def test_sample(tmp_path):
    got = ok("sample", tmp_path / "s.gpkg", "--patches", "300", "--seed", "7", "--json")
    assert got["workspace"] == str(tmp_path / "s.gpkg")
    versions = [v for d in got["datasets"] for v in d["versions"]]
    assert versions and all(v["synthetic"] for v in versions)
    assert {"DLTB", "XZQ", "YJJBNTTB"} <= {d["name"] for d in got["datasets"]}


def test_copy(judged, tmp_path):
    """A copy holds the same catalog, cases and audit chain (GeoPackage → GeoPackage here;
    PostGIS both ways in tests/store/test_copy.py)."""
    got = ok("copy", judged, tmp_path / "copy.gpkg", "--json")
    assert (got["versions"], got["records"]["monitor_cases"]) == (6, 1)
    assert got["audit"]["ok"] is True
    assert ok("cases", "show", tmp_path / "copy.gpkg", CASE, "--json")["state"] == "issued"
    r = run("copy", judged, tmp_path / "copy.gpkg", "--json")
    assert r.exit_code != 0 and "已存在" in json.loads(r.stdout)["message"]


# ---------------------------------------------------------------------------- monitoring
def test_monitor(ws):
    got = ok("monitor", ws, "--json")
    assert got["changeset"]["version"] == "JCTB-2025-06" and got["changeset"]["saved"] is True
    assert [c["version"] for c in got["consulted"] if c["role"] == "before"] == ["2024"]
    assert got["summary"]["monitoring_patches"] == 1 and got["summary"]["changes"] == 1
    assert got["summary"]["change_area_m2"] == pytest.approx(A, abs=0.005)


def test_case_show_and_act(judged, tmp_path):
    shutil.copy(judged, tmp_path / "ws.gpkg")
    ws = tmp_path / "ws.gpkg"
    got = ok("cases", "show", ws, CASE, "--json")
    assert (got["state"], got["rule"]) == ("issued", "YN_OCCUPIED")
    assert [a["action"] for a in got["allowed_actions"]] == ["evidence"]
    refused = run("cases", "act", ws, CASE, "evidence", "--json")
    assert refused.exit_code == 2
    assert [p["field"] for p in json.loads(refused.stdout)["problems"]] == [
        "officer", "date", "notes", "photos"]
    got = ok("cases", "act", ws, CASE, "evidence", "-f", "officer=张三", "-f", "date=2025-03-05",
             "-f", "notes=现场核查", "--photo", photo(tmp_path / "p.jpg"), "--actor", "张三", "--json")
    assert (got["event"]["from_state"], got["event"]["to_state"]) == ("issued", "evidenced")
    assert got["event"]["fields"]["photos"][0]["distance_m"] == 0.0
    listed = ok("cases", "list", ws, "--state", "evidenced", "--json")
    assert (listed["count"], listed["cases"][0]["case_no"]) == (1, CASE)


def test_public(judged, tmp_path):
    """Public layer marking, a consultation's register, the report queue and 执法公示."""
    from datetime import date, timedelta

    from onemap.app import public

    shutil.copy(judged, tmp_path / "ws.gpkg")
    ws = tmp_path / "ws.gpkg"
    got = ok("public", "mark", ws, "YJJBNTTB", "--approval", "国土资规〔2023〕1号", "--date",
             "2023-10-08", "--json")
    assert (got["title"], got["version"], got["fields"]) == ("永久基本农田", "2023", [])
    r = run("public", "mark", ws, "DLTB", "--approval", "x", "--date", "2023-10-08", "--json")
    assert r.exit_code != 0 and "图层 DLTB 不在可公开图层清单中" in json.loads(r.stdout)["message"]
    today = date.today()
    got = ok("public", "notice", ws, "--title", "某片区规划草案", "--start", str(today),
             "--end", str(today + timedelta(days=30)), "--consult", "--json")
    assert (got["id"], got["consult"]) == (1, True)
    store = open_workspace(ws)
    public.add_comment(store, 1, text="建议保留村口古树", contact="王先生")
    receipt = public.submit_report(store, lon=106.201, lat=37.951, description="水田上建厂房",
                                   photo_dir=tmp_path / "ph")["receipt"]
    store.close()
    got = ok("public", "comments", ws, "1", "--xlsx", tmp_path / "c.xlsx", "--json")
    assert got["count"] == 1 and got["comments"][0]["text"] == "建议保留村口古树"
    assert openpyxl.load_workbook(tmp_path / "c.xlsx").sheetnames == ["意见登记"]
    got = ok("public", "reports", ws, "--pending", "--json")
    assert [(x["receipt"], x["case_no"], x["merged"]) for x in got["reports"]] == [
        (receipt, CASE, "case")]
    ok("cases", "act", ws, CASE, "evidence", "-f", "officer=张三", "-f", "date=2025-03-05",
       "-f", "notes=现场核查", "--photo", photo(tmp_path / "p.jpg"), "--json")
    ok("cases", "act", ws, CASE, "determine", "-f", "determination=违法", "-f", "basis=未批先建",
       "--json")
    ok("cases", "act", ws, CASE, "prosecute", "-f", "filing_no=立〔2025〕1号", "-f", "measures=罚款",
       "-f", "major=否", "--json")
    ok("cases", "act", ws, CASE, "decide", "-f", "decision_no=罚〔2025〕1号", "-f", "date=2025-04-01",
       "-f", "violation=李四未经批准占用耕地", "-f", "penalty=对李四罚款 5000 元", "-f", "party=李四",
       "--json")
    got = ok("public", "decisions", ws, "--json")
    assert got["decisions"] == [{"decision_no": "罚〔2025〕1号", "date": "2025-04-01",
                                 "violation": "李某未经批准占用耕地", "penalty": "对李某罚款 5000 元",
                                 "place": "金积镇金积村", "party": "李某"}]


def test_audit_and_accountability(judged):
    got = ok("audit", "verify", judged, "--json")
    # six versions written (DLTB 2023 and 2024, YJJBNTTB, JCTB, the BHTB change set, the judged
    # BHTBPD, stored after its run row), the judging run and the opened case
    assert (got["ok"], got["rows"], got["first_broken"]) == (True, 8, None)
    log = ok("audit", "log", judged, "--json")
    assert [(e["action"], e["entity_id"]) for e in log["entries"]] == [
        ("version.write", "DLTB/2023"), ("version.write", "DLTB/2024"),
        ("version.write", "YJJBNTTB/2023"), ("version.write", "JCTB/2025-06"),
        ("version.write", "BHTB/2023-2024"), ("judge.run", "1"),
        ("version.write", "BHTBPD/2023-2024-r1"), ("case.open", CASE)]
    point = ok("audit", "checkpoint", judged, "--json")
    assert point["ok"] and point["last_checkpoint"]["seq"] == 8
    acc = ok("accountability", judged, "--year", "2024", "--json")
    [row] = acc["rows"]
    assert (row["county"], row["cases"], row["cases_pending"]) == ("640302", 1, 1)
    assert row["new_construction_gd_m2"] == pytest.approx(A_GD, abs=0.005)
    assert row["pending_gd_m2"] == pytest.approx(A_GD, abs=0.005)
    assert row["ratio"] == 0.0 and row["ratio_if_pending_illegal"] == 1.0


# ---------------------------------------------------------------------------- plan indicators
def test_indicators_and_assess(ws, tmp_path):
    files = ok("indicators", "template", tmp_path / "tpl.xlsx", "--ws", ws, "--json")
    assert files == {"xlsx": str(tmp_path / "tpl.xlsx"), "csv": str(tmp_path / "tpl.csv")}
    got = ok("indicators", "import", ws, tmp_path / "tpl.csv", "--json")  # an empty template
    assert (got["import_id"], got["values"], got["file"]) == (1, 0, "tpl.csv")
    rep = ok("assess", ws, "--year", "2024", "--json")
    assert (rep["kind"], rep["year"], rep["series_years"]) == ("体检", 2024, [2023, 2024])
    assert rep["title"] == "测试市国土空间规划实施2024年度体检报告"
    farmland = next(i for i in rep["indicators"] if i["code"] == "farmland")
    city = farmland["units"][0]
    assert (city["code"], city["status"]) == ("640300", "缺少数据")  # no target was filled in
    # 耕地 in hectares: three cultivated patches in 2023, two in 2024 (patch 0 built on)
    assert city["series"] == pytest.approx({"2023": 3 * A_GD / 10_000, "2024": 2 * A_GD / 10_000},
                                           abs=1e-6)


# ---------------------------------------------------------------------------- coordinate transformations
def test_crs(ws, tmp_path):
    # common points shifted by ΔX = −30 m (north), ΔY = +20 m (east): the fit is that shift exactly
    rows = [(4_200_000.0 + dn, 600_000.0 + de) for dn in (0.0, 5000.0) for de in (0.0, 5000.0)]
    pts = tmp_path / "公共点.csv"
    pts.write_text("点名,原X,原Y,目标X,目标Y\n" + "".join(
        f"P{i},{n},{e},{n - 30},{e + 20}\n" for i, (n, e) in enumerate(rows, 1)), "utf-8")
    got = ok("crs", "fit", ws, pts, "--model", "4", "--from", "EPSG:2380", "--to", "EPSG:4544",
             "--name", "平移", "--json")
    assert (got["name"], got["version"], got["model"], got["outliers"]) == ("平移", 1, 4, [])
    assert got["parameters"] == pytest.approx(
        {"dx_m": -30.0, "dy_m": 20.0, "rotation_arcsec": 0.0, "scale_ppm": 0.0}, abs=1e-6)
    assert [r["point"] for r in got["residuals"]] == ["P1", "P2", "P3", "P4"]
    assert got["rms_m"] == pytest.approx(0.0, abs=1e-6)
    added = ok("crs", "add", ws, "平移", "--kind", "four", "--from", "2380", "--to", "4544",
               "--param", "dx_m=-30", "--param", "dy_m=20", "--param", "rotation_arcsec=0",
               "--param", "scale_ppm=0", "--source", "手工登记", "--json")
    assert (added["version"], added["source_crs"], added["source"]) == (2, "EPSG:2380", "手工登记")
    assert ok("crs", "default", ws, "--from", "2380", "平移", "--json") == {
        "source_crs": "EPSG:2380", "default": "平移"}
    listed = ok("crs", "list", ws, "--json")
    assert [(t["name"], t["version"]) for t in listed["transforms"]] == [("平移", 1), ("平移", 2)]
    assert listed["defaults"] == {"EPSG:2380": "平移"}


# ---------------------------------------------------------------------------- registers and 占补平衡
def test_ledger_and_farmland(ws, tmp_path):
    """P1 (入库) 10000 m², 水田 2000, 等别 6 → 产能 12500; P2 (验收) 5000, 0, 等别 8 → 5000;
    O1 8000, 水田 1000, 等别 8 → 产能 8000. Covered by P1: 640302 keeps 2000, 1000, 4500."""
    pd.DataFrame([
        {"项目编号": "P1", "项目名称": "甲", "类型": "土地整治", "行政区": "640302", "新增耕地面积": 10000,
         "新增水田面积": 2000, "验收平均等别": 6, "状态": "入库"},
        {"项目编号": "P2", "项目名称": "乙", "类型": "旱改水", "行政区": "640302", "新增耕地面积": 5000,
         "新增水田面积": 0, "验收平均等别": 8, "状态": "验收"}]).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame([{"占用编号": "O1", "项目名称": "园区", "占用类型": "建设", "行政区": "640302",
                   "占用耕地面积": 8000, "占用水田面积": 1000, "平均等别": 8}]
                 ).to_excel(tmp_path / "o.xlsx", index=False)
    got = ok("ledger", "import", ws, "补充耕地项目", tmp_path / "p.csv", "--now", "2025-01-01", "--json")
    assert (got["imported"], got["journal_entries"]) == (2, 3)
    assert ok("ledger", "import", ws, "GDZY", tmp_path / "o.xlsx", "--json")["records"] == ["O1"]
    listing = ok("ledger", "list", ws, "BCGDXM", "--state", "验收", "--now", "2025-03-20", "--json")
    assert [(r["record_no"], r["deadline"]) for r in listing["records"]] == [("P2", "即将到期")]
    before = open_workspace(ws).fingerprint()
    r = run("farmland", "cover", ws, "O1", "--projects", "P2", "--json")
    assert r.exit_code == 6
    assert json.loads(r.stdout)["message"].startswith("补充耕地项目 P2 状态为「验收」，尚未入库，不能挂钩（先补后占）")
    assert open_workspace(ws).fingerprint() == before
    got = ok("farmland", "cover", ws, "O1", "--projects", "P1", "--json")
    assert [(e["measure"], e["amount"]) for e in got["entries"]] == [("数量", -8000), ("水田", -1000), ("产能", -8000)]
    got = ok("farmland", "accounts", ws, "--county", "640302", "--json")
    assert [(a["measure"], a["balance"]) for a in got["accounts"]] == [("数量", 2000), ("水田", 1000), ("产能", 4500)]
    got = ok("ledger", "act", ws, "BCGDXM", "P2", "store", "--role", "admin", "--json")
    assert (got["state_title"], got["journal_entries"]) == ("入库", 2)
    r = run("ledger", "act", ws, "BCGDXM", "P1", "start", "--json")
    assert r.exit_code == 6 and "当前状态为「入库」" in json.loads(r.stdout)["message"]
    shown = ok("ledger", "show", ws, "GDZY", "O1", "--json")
    assert [e["action"] for e in shown["events"]] == ["import", "cover"]
    assert len(ok("farmland", "uncover", ws, "O1", "--notes", "改挂", "--json")["entries"]) == 3
    got = ok("ledger", "export", ws, "BCGDXM", tmp_path / "p.xlsx", "--json")
    assert got["count"] == 2 and openpyxl.load_workbook(tmp_path / "p.xlsx").sheetnames == ["补充耕地项目"]
    assert ok("audit", "verify", ws, "--json")["ok"] is True


def test_farmland_balance(world, tmp_path):
    got = ok("farmland", "balance", world, "--from", "2023", "--to", "2024", "--xlsx", tmp_path / "b.xlsx", "--json")
    assert [(r["unit"], r["direction"], r["kind"]) for r in got["rows"]] == [("640302", "减少", "建设")]
    assert got["rows"][0]["area_m2"] == pytest.approx(A_GD, abs=0.005)
    [unit] = got["units"]
    assert (unit["decrease_m2"], unit["increase_m2"]) == (got["changes_zygd_area_m2"], 0)
    assert unit["paddy_decrease_m2"] == unit["decrease_m2"] and unit["net_m2"] == -unit["decrease_m2"]
    assert openpyxl.load_workbook(tmp_path / "b.xlsx").sheetnames == ["按县汇总", "流向明细"]


def test_farmland_occupations(ws):
    got = ok("farmland", "occupations", ws, "--from", "2023", "--to", "2024", "--json")
    assert (got["created"], got["existing"]) == (["BH-2023-2024-640302000000"], 0)
    [rec] = ok("ledger", "list", ws, "GDZY", "--json")["records"]
    assert (rec["values"]["ZYLX"], rec["values"]["ZYGDMJ"]) == ("建设", pytest.approx(A_GD, abs=0.005))
    assert ok("farmland", "occupations", ws, "--from", "2023", "--to", "2024", "--json")["existing"] == 1


def test_minerals_conflicts(ws, tmp_path):
    """A right whose west half lies outside the farmland box, east half inside: share 0.5 exactly
    (same latitudes, so the ellipsoidal areas are in the ratio of the longitude spans)."""
    minx, miny, maxx, maxy = open_workspace(ws).read("YJJBNTTB").total_bounds
    w = (maxx - minx) / 2
    gpd.GeoDataFrame({"许可证号": ["C1"], "类型": ["采矿权"], "矿业权人": ["甲"], "矿山名称": ["甲矿"],
                      "矿种": ["砂石"], "有效期起": ["2020-01-01"], "有效期止": ["2030-01-01"]},
                     geometry=[shapely.box(minx - w, miny, minx + w, maxy)], crs=4490
                     ).to_file(tmp_path / "kyq.geojson", driver="GeoJSON")
    assert ok("ledger", "import", ws, "矿业权", tmp_path / "kyq.geojson", "--json")["records"] == ["C1"]
    got = ok("minerals", "conflicts", ws, "--xlsx", tmp_path / "c.xlsx", "--json")
    assert [(r["right"], r["layer"], r["share"]) for r in got["rows"]] == [("C1", "YJJBNTTB", 0.5)]
    assert got["rows"][0]["area_m2"] == pytest.approx(got["rows"][0]["right_area_m2"] / 2, abs=0.01)
    assert [m["layer"] for m in got["missing"]] == ["STBHHX", "ZRBHD", "CZKFBJ", "GHQK"]  # no 规划区块 either
    assert openpyxl.load_workbook(tmp_path / "c.xlsx").sheetnames == ["矿业权冲突"]


def test_farmland_supplements(ws, tmp_path):
    """A project accepted in 2024 on patch 0, which is 0601 in 2024: its 耕地 is lost (share 0)."""
    gpd.GeoDataFrame({"项目编号": ["BC-1"], "项目名称": ["甲"], "项目类型": ["土地整治"], "行政区代码": ["640302"],
                      "新增耕地面积": [100], "新增水田面积": [0], "验收平均等别": [9], "验收日期": ["2024-05-01"],
                      "状态": ["验收"]}, geometry=[dltb_frame(6).geometry.iloc[0]], crs=4490
                     ).to_file(tmp_path / "bc.geojson", driver="GeoJSON")
    ok("ledger", "import", ws, "补充耕地项目", tmp_path / "bc.geojson", "--json")
    got = ok("farmland", "supplements", ws, "--json")
    assert [(f["rule"], f["record"], f["version"], f["share"]) for f in got["findings"]] == [
        ("lost", "BC-1", "2024", 0.0)]
    assert got["skipped"] == ["STBHHX 未入库，未检查"]


def test_grid_report_and_locate(judged, tmp_path):
    """A county cell over everything and a village cell over patches 0–2: the two 耕地 patches left
    in 2024 (0102, 0103: A_GD each, net of 田坎), the changed patch 0 (area A) and its case."""
    ws = tmp_path / "ws.gpkg"
    shutil.copy(judged, ws)
    # no grid imported yet: the case and the change rows carry an empty 田长
    shown = ok("cases", "show", ws, CASE, "--json")
    assert (shown["case_no"], shown["tianzhang"], shown["tianzhang_cell"]) == (CASE, "", None)
    assert [r["tianzhang"] for r in ok("changes", ws, "--from", "2023", "--to", "2024", "--json")["changes"]] == [""]
    gpd.GeoDataFrame({"网格编码": ["C1", "V1"], "网格名称": ["利通区", "金积村"], "网格层级": ["县级", "村级"],
                      "田长": ["张区长", "李村长"], "网格员": ["", "王五"], "行政区代码": ["640302"] * 2},
                     geometry=[shapely.box(106.19, 37.94, 106.22, 37.96),
                               shapely.box(106.199, 37.949, 106.206, 37.953)], crs=4490
                     ).to_file(tmp_path / "grid.geojson", driver="GeoJSON")
    assert ok("ledger", "import", ws, "田长网格", tmp_path / "grid.geojson", "--json")["records"] == ["C1", "V1"]
    got = ok("grid", "report", ws, "--grid", "田长", "--xlsx", tmp_path / "g.xlsx", "--json")
    assert got["sources"] == {"DLTB": "2024", "BHTB": "2023-2024"}
    assert [(r["code"], r["chief"], r["land_m2"], r["changes"], r["open_cases"]) for r in got["rows"]] == [
        ("C1", "张区长", pytest.approx(2 * A_GD, abs=0.011), 1, 1),
        ("V1", "李村长", pytest.approx(2 * A_GD, abs=0.011), 1, 1)]
    assert got["rows"][1]["change_area_m2"] == pytest.approx(A, abs=0.011)
    assert got["rows"][1]["case_numbers"] == [CASE]
    got = ok("grid", "locate", ws, "--case", CASE, "--json")
    assert [(c["code"], c["chief"], c["worker"]) for c in got["cells"]] == [("C1", "张区长", ""),
                                                                             ("V1", "李村长", "王五")]
    got = ok("grid", "locate", ws, "--changes", "2023-2024", "--json")
    assert [[c["code"] for c in p["cells"]] for p in got["patches"]] == [["C1", "V1"]]
    # the finest cell's 田长 (村级 V1 inside 县级 C1) on the case and on the change row
    shown = ok("cases", "show", ws, CASE, "--json")
    assert (shown["tianzhang"], shown["tianzhang_cell"]) == (
        "李村长", {"code": "V1", "name": "金积村", "level": "村级", "contact": ""})
    rows = ok("changes", ws, "--from", "2023", "--to", "2024", "--json")["changes"]
    assert [(r["tianzhang"], r["tianzhang_cell"]["code"]) for r in rows] == [("李村长", "V1")]
    r = run("grid", "report", ws, "--grid", "河长", "--json")
    assert r.exit_code != 0 and "没有网格「河长」" in json.loads(r.stdout)["message"]
def test_assets_and_asset_balance(ws, tmp_path):
    """Every patch of the world is 集体所有 (QSXZ 30): 实物量 only, no price needed, no value;
    the 资产负债表 of the 全民所有 land is empty and balances at zero."""
    got = ok("assets", ws, "--version", "2024", "--by", "county", "--xlsx", tmp_path / "a.xlsx", "--json")
    assert got["totals"]["集体所有"]["area_m2"] == pytest.approx(6 * A, abs=0.01)
    assert got["totals"]["全民所有"] == {"area_m2": 0.0, "value_yuan": 0.0}
    rows = {r["dlbm"]: r for r in got["rows"]}
    assert rows["0601"]["area_m2"] == pytest.approx(A, abs=0.005) and rows["0601"]["value_yuan"] is None
    assert rows["1203"]["area_m2"] == pytest.approx(2 * (A - A_GD), abs=0.01)
    assert {r["county"] for r in got["rows"]} == {"640302"}
    bal = ok("asset-balance", ws, "--from", "2023", "--to", "2024", "--xlsx", tmp_path / "b.xlsx", "--json")
    assert bal["rows"] == [] and bal["totals"]["closing_yuan"] == 0.0
    assert openpyxl.load_workbook(tmp_path / "b.xlsx").sheetnames == ["资产负债表"]
    r = run("assets", ws, "--by", "town", "--json")
    assert r.exit_code != 0 and "--by 只能是 county" in json.loads(r.stdout)["message"]


def test_restoration_check(ws, tmp_path):
    """A 国土绿化 project over patch 3 (乔木林地 in 2024) passes; one over patches 3–4 (林地 + 宅基地)
    reaches 50 % (equal patches) and fails the 90 % rule."""
    minx, miny, _, maxy = open_workspace(ws).read("DLTB", "2024").total_bounds
    p3 = shapely.box(minx + 0.006, miny, minx + 0.008, maxy)
    p34 = shapely.box(minx + 0.006, miny, minx + 0.010, maxy)
    gpd.GeoDataFrame({"项目编号": ["G1", "G2"], "项目名称": ["甲", "乙"], "项目类型": ["国土绿化"] * 2,
                      "行政区代码": ["640302"] * 2, "状态": ["验收"] * 2},
                     geometry=[p3, p34], crs=4490).to_file(tmp_path / "g.geojson", driver="GeoJSON")
    assert ok("ledger", "import", ws, "生态修复项目", tmp_path / "g.geojson", "--json")["records"] == ["G1", "G2"]
    got = ok("restoration", "check", ws, "--version", "2024", "--xlsx", tmp_path / "r.xlsx", "--json")
    assert [(r["project"], r["passed"]) for r in got["rows"]] == [("G1", True), ("G2", False)]
    assert got["rows"][1]["share"] == pytest.approx(0.5, abs=1e-4)
    assert got["failed"] == ["G2"]


def test_registration_resources(ws, tmp_path):
    """A unit over patches 3 and 4 (乔木林地, 农村宅基地; QSXZ 30 集体): two 一级类, each one patch."""
    minx, miny, _, maxy = open_workspace(ws).read("DLTB", "2024").total_bounds
    gpd.GeoDataFrame({"登记单元号": ["U1"], "登记单元名称": ["甲"], "行政区代码": ["640302"], "所有权主体": ["村集体"]},
                     geometry=[shapely.box(minx + 0.006, miny, minx + 0.010, maxy)], crs=4490
                     ).to_file(tmp_path / "u.geojson", driver="GeoJSON")
    assert ok("ledger", "import", ws, "自然资源登记单元", tmp_path / "u.geojson", "--json")["records"] == ["U1"]
    got = ok("registration", "resources", ws, "U1", "--xlsx", tmp_path / "u.xlsx", "--json")
    [u] = got["units"]
    assert [(r["class"], r["ownership"]) for r in u["resources"]] == [("03", "集体"), ("07", "集体")]
    assert [r["area_m2"] for r in u["resources"]] == pytest.approx([A, A], abs=0.01)
    assert [t["layer"] for t in u["touches"]] == ["YJJBNTTB"]
    assert openpyxl.load_workbook(tmp_path / "u.xlsx").sheetnames == ["自然状况", "关联信息"]


def test_hazards_report(ws, tmp_path):
    """H1: 威胁人数 100 → 中型 (the bound belongs to the higher grade); H2 销号 in 2025."""
    gpd.GeoDataFrame({"统一编号": ["H1", "H2"], "名称": ["甲村滑坡", "乙村崩塌"], "灾害类型": ["滑坡", "崩塌"],
                      "行政区": ["640302", "640302"], "威胁人数": [100, 3], "威胁财产": [0, 20]},
                     geometry=[shapely.Point(106.2, 37.95), shapely.Point(106.21, 37.95)], crs=4490
                     ).to_file(tmp_path / "h.geojson", driver="GeoJSON")
    assert ok("ledger", "import", ws, "地质灾害隐患点", tmp_path / "h.geojson", "--now", "2025-01-01",
              "--json")["records"] == ["H1", "H2"]
    r = run("ledger", "act", ws, "DZZHYHD", "H2", "close", "-f", "XHRQ=2025-03-01", "-f", "XHYY=搬迁避让完成",
            "--json")
    assert r.exit_code != 0 and "「销号」须填写 XHZM" in json.loads(r.stdout)["message"]
    ok("ledger", "act", ws, "DZZHYHD", "H2", "close", "-f", "XHRQ=2025-03-01", "-f", "XHYY=搬迁避让完成",
       "-f", "XHZM=搬迁安置验收表", "--json")
    got = ok("hazards", "report", ws, "--year", "2025", "--now", "2025-02-01", "--xlsx", tmp_path / "r.xlsx",
             "--json")
    assert got["rows"] == [{"county": "640302", "type": "滑坡", "grade": "中型", "count": 1}]
    assert (got["closed_count"], got["due"], got["overdue"]) == (1, [], [])
    assert openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames == ["在册隐患点", "巡查到期", "年度销号"]


def test_supply_unsupplied_and_idle(ws, tmp_path):
    """One batch (patches 0–1), one supply over patch 1 and half of patch 2: half the batch is supplied;
    the supply, 约定动工 2023-03-15 and never started, is 闲置满一年 from 2024-03-15 (fee 20 % of 50 万元)."""
    minx, miny, maxx, maxy = open_workspace(ws).read("DLTB").total_bounds
    w = (maxx - minx) / 6
    gpd.GeoDataFrame({"批准文号": ["宁政土批〔2021〕1号"], "批次名称": ["甲"], "批准日期": ["2021-05-10"],
                      "行政区代码": ["640302"]}, geometry=[shapely.box(minx, miny, minx + 2 * w, maxy)],
                     crs=4490).to_file(tmp_path / "pc.geojson", driver="GeoJSON")
    gpd.GeoDataFrame({"电子监管号": ["6403022022B00001"], "供地方式": ["出让"], "土地用途": ["工业用地"],
                      "受让人": ["乙公司"], "成交价款（万元）": [50], "合同签订日期": ["2022-06-01"],
                      "约定动工日期": ["2023-03-15"], "行政区代码": ["640302"]},
                     geometry=[shapely.box(minx + w, miny, minx + 2.5 * w, maxy)],
                     crs=4490).to_file(tmp_path / "gd.geojson", driver="GeoJSON")
    ok("ledger", "import", ws, "batches", tmp_path / "pc.geojson", "--json")
    ok("ledger", "import", ws, "supplies", tmp_path / "gd.geojson", "--json")
    got = ok("supply", "unsupplied", ws, "--date", "2025-01-01", "--xlsx", tmp_path / "u.xlsx", "--json")
    [row] = got["rows"]
    assert (row["batch"], row["rate"]) == ("宁政土批〔2021〕1号", 0.5)
    assert (row["approved_m2"], row["supplied_m2"]) == (pytest.approx(2 * A, abs=0.02), pytest.approx(A, abs=0.02))
    assert openpyxl.load_workbook(tmp_path / "u.xlsx").sheetnames == ["按批次"]
    [idle] = ok("supply", "idle", ws, "--date", "2024-03-15", "--json")["rows"]
    assert (idle["id"], idle["status"], idle["idle_days"], idle["fee_yuan"]) == (
        "6403022022B00001", "闲置满一年", 366, 100_000.0)
    got = ok("supply", "cases", ws, "--date", "2024-03-15", "--now", "2024-03-20", "--json")
    assert (got["created"], got["existing"]) == (["6403022022B00001"], [])
    [case] = ok("ledger", "list", ws, "闲置土地", "--json")["records"]
    assert (case["state_title"], case["values"]["XZF"]) == ("调查认定", 100_000.0)
    got = ok("supply", "track", ws, "--date", "2025-01-01", "--json")  # no change set in this world
    assert got["changes"] is None
    assert [(r["batch"], r["started"], r["unsupplied_use_m2"], r["flags"]) for r in got["rows"]] == [
        ("宁政土批〔2021〕1号", 0, None, [])]
    got = ok("supply", "disposal", ws, "--year", "2022", "--json")  # stock on 2021-12-31, supplied 2022-06-01
    assert [(r["county"], r["rate"]) for r in got["rows"]] == [("640302", 0.5)]
    r = run("supply", "idle", ws, "--date", "2024-02-30", "--json")
    assert r.exit_code != 0 and "--date 的取值「2024-02-30」不是有效日期" in json.loads(r.stdout)["message"]


def test_supply_sample(ws):
    r = run("supply", "sample", ws, "--json")
    assert r.exit_code != 0 and "没有城镇开发边界（CZKFBJ）或行政区（XZQ）" in json.loads(r.stdout)["message"]
    store = open_workspace(ws)
    store.write_version("XZQ", "2023", gpd.GeoDataFrame({"XZQDM": ["640302"]}, geometry=[
        shapely.box(*store.read("DLTB").total_bounds)], crs=4490), VersionMeta(synthetic=True))
    store.close()
    assert ok("supply", "sample", ws, "--seed", "3", "--json") == {"batches": 4, "supplies": 5, "base_prices": 9}


def test_landprice(ws, tmp_path):
    """One 工业 级别 over every patch (800 元/㎡, 基准日 2024-01-01); the site is patch 1. 工业 has no 容积率 curve
    (Kv = 1); 地价指数 工业 2025Q1 100.8 / 2024Q1 100.3; n = N: Ky = 1 → 800 × 100.8 / 100.3 = 803.99 元/㎡."""
    bounds = open_workspace(ws).read("DLTB").total_bounds
    gpd.GeoDataFrame({"区片编号": ["GY-1"], "用途": ["工业"], "级别": ["一级"], "基准地价": [800],
                      "法定最高年限": [50], "土地还原率": ["5%"], "基准日": ["2024-01-01"], "行政区代码": ["640302"]},
                     geometry=[shapely.box(*bounds)], crs=4490).to_file(tmp_path / "jb.geojson", driver="GeoJSON")
    ok("ledger", "import", ws, "base_prices", tmp_path / "jb.geojson", "--json")
    dltb_frame(6).iloc[[1]][["geometry"]].to_file(tmp_path / "site.geojson", driver="GeoJSON")
    got = ok("landprice", ws, tmp_path / "site.geojson", "--use", "工业", "--date", "2025-03-01",
             "--docx", tmp_path / "p.docx", "--json")
    assert (got["price_yuan_m2"], got["area_m2"]) == (round(800 * 100.8 / 100.3, 2), pytest.approx(A, abs=0.01))
    assert (tmp_path / "p.docx").stat().st_size > 0


def test_farmland_inout(ws, tmp_path):
    """Patch 0 水田 → 工业 is 占用, not 流出: 640302 has neither 流出 nor 流入, and misses its planned 流入."""
    pd.DataFrame([{"行政区代码": "640302", "计划流出面积": 0, "计划流入面积": 100}]
                 ).to_csv(tmp_path / "p.csv", index=False)
    got = ok("farmland", "inout", ws, "--from", "2023", "--to", "2024", "--plan", tmp_path / "p.csv", "--json")
    [u] = got["units"]
    assert [u[k] for k in ("unit", "outflow_m2", "inflow_m2", "plan_gap_m2", "status")] == ["640302", 0, 0, 100, "平衡"]
    assert [f["rule"] for f in got["findings"]] == ["plan_not_met"]


# ---------------------------------------------------------------------------- 增减挂钩
def test_linkage(ws, tmp_path):
    """XMQ-1 (周转 1000); 拆旧 CJ-1 = patch 4 (0702 in both years), accepted, 3000 m²; 建新 JX-1 far north,
    1000 m². 节余 3000 − 1000 = 2000; the only finding: CJ-1 is not 耕地 in 2024."""
    pd.DataFrame([{"项目区编号": "XMQ-1", "项目区名称": "甲", "行政区代码": "640302", "批准文号": "宁〔2023〕1号",
                   "周转指标": 1000, "归还期限": "2026-01-01"}]).to_csv(tmp_path / "q.csv", index=False)
    ok("ledger", "import", ws, "ZJXMQ", tmp_path / "q.csv", "--json")
    gpd.GeoDataFrame([{"地块编号": "CJ-1", "项目区编号": "XMQ-1", "行政区代码": "640302", "复垦前地类": "0702",
                       "拆旧面积": 3000, "新增耕地面积": 3000, "状态": "已验收", "验收日期": "2024-10-01"}],
                     geometry=[shapely.box(106.208, 37.95, 106.21, 37.952)], crs="EPSG:4490"
                     ).to_file(tmp_path / "cj.geojson", driver="GeoJSON")
    ok("ledger", "import", ws, "CJDK", tmp_path / "cj.geojson", "--json")
    gpd.GeoDataFrame([{"地块编号": "JX-1", "项目区编号": "XMQ-1", "行政区代码": "640302", "用途": "经营",
                       "建新面积": 1000, "占用耕地面积": 0}],
                     geometry=[shapely.box(106.20, 37.96, 106.201, 37.961)], crs="EPSG:4490"
                     ).to_file(tmp_path / "jx.geojson", driver="GeoJSON")
    ok("ledger", "import", ws, "JXDK", tmp_path / "jx.geojson", "--json")
    got = ok("linkage", "check", ws, "--base", "2023", "--now", "2025-04-15", "--json")
    assert got["source"]["later"] == "2024"
    assert [(f["rule"], f["record"]) for f in got["findings"]] == [("old_not_cultivated", "CJ-1")]
    [row] = ok("linkage", "balance", ws, "--now", "2025-04-15", "--json")["rows"]
    assert (row["old_accepted_m2"], row["new_m2"], row["surplus_m2"], row["quota_used_m2"]) == (3000, 1000, 2000, 0)
    r = run("linkage", "check", ws, "--base", "1999", "--json")
    assert r.exit_code != 0 and "1999" in r.stdout


# ---------------------------------------------------------------------------- users and server
def test_users(ws):
    assert ok("user", "add", ws, "zhang", "--role", "enforcer", "--county", "640302",
              "--password", "pass-word-123", "--json") == {
        "username": "zhang", "role": "enforcer", "county": "640302"}
    [user] = ok("user", "list", ws, "--json")
    assert (user["username"], user["role_name"], user["active"]) == ("zhang", "执法", True)
    assert ok("user", "passwd", ws, "zhang", "--password", "new-pass-456", "--json") == {
        "username": "zhang", "password_changed": True}
    token = ok("user", "token", ws, "zhang", "--name", "对接", "--days", "30", "--json")
    assert token["username"] == "zhang" and token["token"].startswith("om_")
    assert ok("user", "anonymous", ws, "false", "--json") == {"anonymous_read": False}


def test_settings(ws):
    r = run("settings", ws, "--set", "不存在的项=1", "--json")
    assert r.exit_code != 0
    assert json.loads(r.stdout)["error"] == "InputError"
    got = ok("settings", ws, "--set", "编制单位=测试市自然资源局", "--set", "map_approval=宁S〔2024〕1号", "--json")
    assert (got["org"], got["map_approval"], got["name"]) == ("测试市自然资源局", "宁S〔2024〕1号", "测试市")
    got = ok("settings", ws, "--set", "审图号=", "--json")
    assert "map_approval" not in got and got["org"] == "测试市自然资源局"


def test_serve_refuses_a_missing_workspace(tmp_path):
    r = run("serve", tmp_path / "none.gpkg", "--json")
    assert r.exit_code == 4
    assert json.loads(r.stdout) == {
        "error": "WorkspaceError", "problems": [],
        "message": f"工作空间不存在：{tmp_path / 'none.gpkg'}（请先运行 onemap init）"}


# ---------------------------------------------------------------------------- Typer's own messages
def test_missing_option_is_reported_in_chinese(tmp_path):
    r = run("ingest", tmp_path / "ws.gpkg", tmp_path / "f.shp", "--version", "2024")
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        "用法：onemap ingest [选项] {ws} {file}",
        "运行 'onemap ingest --help' 查看帮助。",
        "错误：缺少选项 '--dataset'",
    ]


@pytest.mark.parametrize(("args", "message"), [
    (("stats", "ws.gpkg", "--bogus"), "没有选项 --bogus"),
    (("serve", "ws.gpkg", "--port", "abc"), "'--port' 的取值无效：应为整数"),
    (("statz",), "没有命令 'statz'（是否想输入：'stats'）"),
    (("stats", "a", "b"), "多余的参数：b"),
    (("stats", "a", "--by"), "选项 '--by' 需要一个值"),
    (("cases", "act", "ws.gpkg"), "缺少参数 'case'"),
])
def test_usage_errors_in_chinese(args, message):
    r = run(*args)
    assert r.exit_code == 2
    assert r.stderr.splitlines()[-1] == f"错误：{message}"


def test_usage_error_with_json_is_a_json_document():
    r = run("stats", "ws.gpkg", "--json", "--bogus")
    assert r.exit_code == 2
    assert json.loads(r.stdout) == {"error": "UsageError", "message": "命令行有误：没有选项 --bogus",
                                    "problems": []}


def test_help_panels_in_chinese():
    r = run("cases", "list", "--help")
    assert r.exit_code == 0
    assert "─ 参数 ─" in r.stdout and "─ 选项 ─" in r.stdout and "[必填]" in r.stdout


# ---------------------------------------------------------------------------- the meta-test
def _commands(group, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            out |= _commands(cmd, prefix + (name,))
        else:
            out.add(prefix + (name,))
    return out


def _json_calls() -> set[tuple[str, ...]]:
    """Command paths of every ``run(...)``/``ok(...)`` call in this module that passes ``--json``."""
    tree = ast.parse(Path(__file__).read_text("utf-8"))
    groups = {"cases", "audit", "indicators", "user", "crs", "ledger", "farmland", "minerals", "hazards",
              "linkage", "grid", "restoration", "registration", "public", "supply"}
    found = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("run", "ok")):
            continue
        words = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if "--json" not in words or not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        first = node.args[0].value
        path = (first, node.args[1].value) if first in groups else (first,)
        found.add(path)
    return found


def test_every_command_has_a_json_test():
    commands = _commands(get_command(app))
    assert {("init",), ("cases", "act"), ("user", "anonymous")} <= commands  # the walk works
    assert commands - _json_calls() == set()
