"""`onemap crs …` and `onemap ingest --transform`: the worked example of the user guide."""

import json

import numpy as np
import openpyxl
import pyogrio
import pytest
from typer.testing import CliRunner

from builders import dltb_frame, file_digest, four_param, write_common_points
from onemap.cli import app

runner = CliRunner()
P = {"dx_m": -35.2, "dy_m": 12.7, "rotation_arcsec": 3.5, "scale_ppm": -4.2}


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def grid(n0=4_201_000.0, e0=605_000.0, d=6000.0):
    offs = np.array([-d, 0.0, d])
    nn, ee = np.meshgrid(n0 + offs, e0 + offs, indexing="ij")
    return nn.ravel(), ee.ravel()


@pytest.fixture
def ws(tmp_path):
    path = tmp_path / "ws.gpkg"
    assert run("init", path, "--name", "测试").exit_code == 0
    return path


def test_fit_json_then_ingest_with_transform(ws, tmp_path):
    pts = write_common_points(tmp_path / "公共点.csv", *grid(), P, encoding="gbk")
    r = run("crs", "fit", ws, pts, "--model", "4", "--from", "EPSG:2380", "--to", "EPSG:4544",
            "--name", "西安80转2000", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["name"] == "西安80转2000" and d["model"] == 4 and d["version"] == 1
    for key, value in P.items():
        assert d["parameters"][key] == pytest.approx(value, rel=1e-6)
    assert [row["point"] for row in d["residuals"]] == [f"G{i}" for i in range(1, 10)]
    assert all(abs(row["dx_m"]) < 1e-6 and abs(row["dy_m"]) < 1e-6 for row in d["residuals"])
    assert d["rms_m"] < 1e-6 and d["outliers"] == []

    r = run("crs", "list", ws, "--json")
    assert [t["name"] for t in json.loads(r.stdout)["transforms"]] == ["西安80转2000"]

    src = dltb_frame(6).to_crs(4544).set_crs(2380, allow_override=True)
    shp = tmp_path / "DLTB.shp"
    pyogrio.write_dataframe(src, shp, driver="ESRI Shapefile", encoding="GBK")
    r = run("ingest", ws, shp, "--dataset", "DLTB", "--version", "2024")
    assert r.exit_code == 2 and "--accept-datum-shift" in r.output
    r = run("crs", "default", ws, "--from", "EPSG:2380", "西安80转2000")
    assert r.exit_code == 0, r.output
    r = run("ingest", ws, shp, "--dataset", "DLTB", "--version", "2024", "--json")
    assert r.exit_code == 0, r.output
    version = json.loads(r.stdout)["version"]
    assert version["notes"]["transformation"]["name"] == "西安80转2000"
    r = run("catalog", ws, "--json")
    v = json.loads(r.stdout)["datasets"][0]["versions"][0]
    assert v["source_crs"] == "EPSG:2380" and v["notes"]["transformation"]["version"] == 1


def test_fit_human_output_says_axis_order_and_flags_outlier(ws, tmp_path):
    north, east = grid()
    n2, e2 = four_param(north, east, P)
    n2 = n2 + np.where(np.arange(9) == 4, 0.08, -0.01)  # hand-made noise, see tests/geo
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["点名", "原X", "原Y", "目标X", "目标Y"])
    for i in range(9):
        sheet.append([f"G{i + 1}", float(north[i]), float(east[i]), float(n2[i]), float(e2[i])])
    xlsx = tmp_path / "公共点.xlsx"
    wb.save(xlsx)
    r = run("crs", "fit", ws, xlsx, "--model", "4", "--from", "2380", "--to", "4544", "--name", "含粗差")
    assert r.exit_code == 0, r.output
    assert "X 为北坐标、Y 为东坐标" in r.stdout
    assert f"RMS = {np.sqrt(8) * 0.01:.4f} 米" in r.stdout
    assert "G5 的残差超过 3σ0" in r.stdout


def test_fit_refusals_change_nothing(ws, tmp_path):
    before = file_digest(ws)
    north, east = grid()
    two = write_common_points(tmp_path / "两点.csv", north[:2], east[:2], P)
    r = run("crs", "fit", ws, two, "--model", "4", "--from", "EPSG:2380", "--to", "EPSG:4544",
            "--name", "x", "--json")
    assert r.exit_code == 2
    err = json.loads(r.stdout)
    assert err["problems"][0]["rule"] == "fit_too_few" and "G1、G2" in err["message"]
    bad = tmp_path / "坏表.csv"
    bad.write_text("点名,原X,原Y,目标X\nA,1,2,3\n", encoding="utf-8")
    r = run("crs", "fit", ws, bad, "--model", "4", "--from", "EPSG:2380", "--to", "EPSG:4544", "--name", "x")
    assert r.exit_code == 2 and "缺少列：目标Y" in r.output and "X 为北坐标" in r.output
    bad.write_text("点名,原X,原Y,目标X,目标Y\nA,1,2,3,4\nB,1,二,3,4\n", encoding="utf-8")
    r = run("crs", "fit", ws, bad, "--model", "4", "--from", "EPSG:2380", "--to", "EPSG:4544",
            "--name", "x", "--json")
    err = json.loads(r.stdout)
    assert err["problems"][0] == {"rule": "points_value", "file": "坏表.csv", "row": "3", "field": "原Y",
                                  "message": "第 3 行 原Y“二”不是数字（X 为北坐标、Y 为东坐标（测量坐标系））"}
    assert file_digest(ws) == before


def test_add_seven_parameters_and_refuse_bad_ones(ws):
    r = run("crs", "add", ws, "七参数", "--kind", "seven", "--from", "EPSG:2380", "--to", "EPSG:4544",
            "--param", "tx_m=-12.3", "--param", "ty_m=110.5", "--param", "tz_m=45.2",
            "--param", "rx_arcsec=1.2", "--param", "ry_arcsec=-0.8", "--param", "rz_arcsec=2.1",
            "--param", "scale_ppm=3.3", "--source", "宁自然资发〔2019〕1号", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["version"] == 1
    r = run("crs", "add", ws, "缺参数", "--kind", "seven", "--from", "EPSG:2380", "--to", "EPSG:4544",
            "--param", "tx_m=1")
    assert r.exit_code == 2 and "缺少参数" in r.output


def test_check_reads_a_xian80_bopan_through_the_workspace_transformation(ws, tmp_path):
    src = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(dltb_frame(6), src, layer="DLTB")
    assert run("ingest", ws, src, "--dataset", "DLTB", "--version", "2024").exit_code == 0
    ring = [(4_202_600.0, 605_500.0), (4_202_600.0, 605_700.0), (4_202_800.0, 605_700.0),
            (4_202_800.0, 605_500.0), (4_202_600.0, 605_500.0)]
    body = "".join(f"J{k % 4 + 1},1,{n:.3f},35{e:.3f}\n" for k, (n, e) in enumerate(ring))
    site = tmp_path / "西安80报盘.txt"
    site.write_bytes(("[属性描述]\n坐标系=1980西安坐标系\n几度分带=3\n计量单位=米\n带号=35\n"
                      "[地块坐标]\n5,,1,甲,面,,,,@\n" + body).encode("gbk"))
    r = run("check", ws, site, "--json")
    assert r.exit_code == 2 and json.loads(r.stdout)["problems"][0]["rule"] == "coord_legacy_datum"
    pts = write_common_points(tmp_path / "公共点.csv", *grid(), P)
    assert run("crs", "fit", ws, pts, "--model", "4", "--from", "EPSG:2380", "--to", "EPSG:4544",
               "--name", "西安80转2000").exit_code == 0
    r = run("check", ws, site, "--transform", "西安80转2000", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["source_crs"] == "EPSG:2380"
    assert run("crs", "default", ws, "--from", "2380", "西安80转2000").exit_code == 0
    r = run("check", ws, site, "--json")  # the default serves it now
    assert r.exit_code == 0, r.output


def test_seven_parameter_fit_from_points_with_heights(ws, tmp_path):
    import pyproj

    pipe = pyproj.Transformer.from_pipeline(
        "+proj=pipeline +step +inv +proj=tmerc +lon_0=105 +x_0=500000 +a=6378140 +rf=298.257 "
        "+step +proj=cart +a=6378140 +rf=298.257 "
        "+step +proj=helmert +x=-12.3 +y=110.5 +z=45.2 +rx=1.2 +ry=-0.8 +rz=2.1 +s=3.3 "
        "+convention=position_vector +step +inv +proj=cart +ellps=GRS80 "
        "+step +proj=tmerc +lon_0=105 +x_0=500000 +ellps=GRS80")
    north, east = grid(d=30_000.0)
    h1 = 1100.0 + np.arange(9) * 10.0
    e2, n2, h2 = pipe.transform(east, north, h1)
    rows = ["点名,原X,原Y,原H,目标X,目标Y,目标H"] + [
        f"K{i + 1}," + ",".join(repr(float(v[i])) for v in (north, east, h1, n2, e2, h2)) for i in range(9)]
    pts = tmp_path / "七参数公共点.csv"
    pts.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = run("crs", "fit", ws, pts, "--model", "7", "--from", "EPSG:2380", "--to", "EPSG:4544",
            "--name", "七参数", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    want = {"tx_m": -12.3, "ty_m": 110.5, "tz_m": 45.2, "rx_arcsec": 1.2, "ry_arcsec": -0.8,
            "rz_arcsec": 2.1, "scale_ppm": 3.3}
    assert d["model"] == 7
    for key, value in want.items():
        assert d["parameters"][key] == pytest.approx(value, rel=1e-6), key
    assert d["rms_m"] < 1e-6


def test_the_guide_worked_example(ws, tmp_path):
    """docs/guide.md §1.1: the example CSV gives the residuals, RMS and outlier the guide shows."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "公共点_西安80.csv"
    guide = (Path(__file__).resolve().parents[2] / "docs" / "guide.md").read_text(encoding="utf-8")
    assert example.read_text(encoding="utf-8").strip() in guide  # the guide shows the file as it is
    r = run("crs", "fit", ws, example, "--model", "4", "--from", "EPSG:2380", "--to", "EPSG:4544",
            "--name", "西安80转2000", "--json")
    d = json.loads(r.stdout)
    assert d["outliers"] == ["金积03"]
    assert f"RMS = {d['rms_m']:.4f} 米；单位权中误差 σ0 = {d['sigma0_m']:.4f} 米" in guide
    assert f"ΔX（北，米） = {d['parameters']['dx_m']!r}" in guide
    kept = [line for line in example.read_text(encoding="utf-8").splitlines() if "金积03" not in line]
    v2 = tmp_path / "公共点_v2.csv"
    v2.write_text("\n".join(kept) + "\n", encoding="utf-8")
    r = run("crs", "fit", ws, v2, "--model", "4", "--from", "EPSG:2380", "--to", "EPSG:4544",
            "--name", "西安80转2000", "--json")
    d = json.loads(r.stdout)
    assert d["version"] == 2 and d["outliers"] == []
    assert f"（RMS {d['rms_m']:.4f} 米）" in guide
