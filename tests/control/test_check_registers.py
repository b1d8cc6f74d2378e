"""The site check against the registers: 压覆 of mining rights, hazard points in a buffer, risk zones.

Every polygon is a lon/lat box between the same parallels S and N, so the ellipsoidal area of a
piece is that of the box the hand-drawn intersection gives. Hazard points are placed with
``pyproj.Geod.fwd`` at known geodesic distances straight out from an edge of the site: due north of
the north edge (a parallel) and due east of the east edge (a meridian, whose perpendicular geodesic
leaves at azimuth 90°), so the expected distance is the one they were placed at.
"""

from __future__ import annotations

import docx
import geopandas as gpd
import pytest
import shapely
from pyproj import Geod

from onemap.app.ledgers import act, import_records
from onemap.control import SiteChecker
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.services import check_assessment, run_check
from onemap.store import init_workspace
from onemap.store.base import VersionMeta

S, N = 37.90, 37.92
GEOD = Geod(ellps="GRS80")
SITE = shapely.box(106.01, S, 106.03, N)


def box(w: float, e: float, s: float = S, n: float = N) -> shapely.Polygon:
    return shapely.box(w, s, e, n)


def area(g) -> float:
    return float(ellipsoidal_area([g])[0])


def fwd(lon: float, lat: float, az: float, dist: float) -> shapely.Point:
    x, y, _ = GEOD.fwd(lon, lat, az, dist)
    return shapely.Point(x, y)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reg")
    store = init_workspace(tmp / "ws.gpkg", name="测试")
    dltb = gpd.GeoDataFrame({"BSM": ["1"], "DLBM": ["0301"], "DLMC": ["乔木林地"], "KCXS": [0.0],
                             "ZLDWDM": ["640302001001"]},
                            geometry=[shapely.box(105.9, 37.8, 106.2, 38.0)], crs="EPSG:4490")
    store.write_version("DLTB", "2024", dltb, VersionMeta(synthetic=True))
    rights = gpd.GeoDataFrame({
        "许可证号": ["C1", "T2", "C3"], "类型": ["采矿权", "探矿权", "采矿权"],
        "矿业权人": ["甲公司", "乙地勘院", "丙公司"], "矿山名称": ["甲石灰岩矿", "乙煤勘查", "丙砂石矿"],
        "矿种": ["水泥用石灰岩", "煤", "建筑用砂"], "有效期起": ["2020-01-01"] * 3,
        "有效期止": ["2030-01-01"] * 3},
        geometry=[box(106.00, 106.02), box(106.025, 106.05), box(106.02, 106.03)], crs="EPSG:4490")
    rights.to_file(tmp / "kyq.geojson", driver="GeoJSON")
    import_records(store, "KYQ", tmp / "kyq.geojson", actor="张三")
    act(store, "KYQ", "C3", "cancel", actor="张三", role="admin", fields={"notes": "到期注销"})
    points = gpd.GeoDataFrame({
        "统一编号": ["P150", "P250", "P0", "P199"], "名称": ["北坡滑坡", "远处崩塌", "场内塌陷", "东沟泥石流"],
        "灾害类型": ["滑坡", "崩塌", "地面塌陷", "泥石流"], "行政区代码": ["640302"] * 4,
        "威胁人数": [120, 5, 0, 30], "威胁财产": [100, 10, 0, 50]},
        geometry=[fwd(106.02, N, 0, 150.0), fwd(106.02, N, 0, 250.0), shapely.Point(106.015, 37.91),
                  fwd(106.03, 37.91, 90, 199.0)], crs="EPSG:4490")
    points.to_file(tmp / "points.geojson", driver="GeoJSON")
    import_records(store, "DZZHYHD", tmp / "points.geojson", actor="张三")
    zones = gpd.GeoDataFrame({"风险区编号": ["FX1"], "名称": ["南山风险区"], "风险等级": ["高"],
                              "行政区代码": ["640302"]},
                             geometry=[box(106.025, 106.04, 37.89, 37.91)], crs="EPSG:4490")
    zones.to_file(tmp / "fxq.geojson", driver="GeoJSON")
    import_records(store, "FXQ", tmp / "fxq.geojson", actor="张三")
    return store


@pytest.fixture(scope="module")
def result(ws):
    return SiteChecker(ws).check(SITE, use="工业")


def test_rights_overlap_per_right_with_its_attributes(result):
    kyq = result.layers["KYQ"].to_dict()
    # C1 ∩ site = 106.01–106.02; T2 ∩ site = 106.025–106.03; C3 is 注销: left out
    c1, t2 = area(box(106.01, 106.02)), area(box(106.025, 106.03))
    assert kyq["status"] == "已检查" and kyq["version"] == "台账"
    assert kyq["ids"] == ["C1", "T2"]
    assert kyq["area_m2"] == pytest.approx(c1 + t2, abs=0.01)
    assert kyq["by_group"] == {"探矿权": pytest.approx(t2, abs=0.01), "采矿权": pytest.approx(c1, abs=0.01)}
    assert kyq["features"] == [
        {"id": "C1", "area_m2": pytest.approx(c1, abs=0.01), "KQLX": "采矿权", "KSMC": "甲石灰岩矿",
         "KZ": "水泥用石灰岩", "KYQR": "甲公司"},
        {"id": "T2", "area_m2": pytest.approx(t2, abs=0.01), "KQLX": "探矿权", "KSMC": "乙煤勘查",
         "KZ": "煤", "KYQR": "乙地勘院"}]
    assert kyq["fields"]["KSMC"] == "矿山名称"


def test_yafu_rule_names_the_mining_right(result):
    rule = next(r for r in result.rules if r.id == "KYQ")
    assert rule.verdict == "需论证"
    c1_ha = area(box(106.01, 106.02)) / 1e4
    assert f"与采矿权重叠 {c1_ha:,.2f} 公顷（许可证号 C1）" in rule.reason
    assert "C1（采矿权，甲石灰岩矿，水泥用石灰岩，甲公司，重叠" in rule.reason
    assert "压覆矿产资源调查评估" in rule.advice


def test_own_mine_flag_is_not_yafu(ws):
    got = SiteChecker(ws).check(SITE, use="工业", flags=["矿业权人自有矿区建设"])
    assert next(r for r in got.rules if r.id == "KYQ").verdict == "符合"


def test_hazard_points_within_the_buffer_with_distances(result):
    pts = result.layers["DZZHYHD"].to_dict()
    assert pts["buffer_m"] == 200.0
    assert pts["ids"] == ["P0", "P150", "P199"]       # nearest first; P250 is outside 200 m
    d = {f["id"]: f["distance_m"] for f in pts["features"]}
    assert d == {"P0": 0.0, "P150": pytest.approx(150.0, abs=0.02), "P199": pytest.approx(199.0, abs=0.02)}
    p150 = next(f for f in pts["features"] if f["id"] == "P150")
    assert p150["XQDJ"] == "中型" and p150["ZHLX"] == "滑坡"   # 120 people ≥ 100: 中型
    rule = next(r for r in result.rules if r.id == "DZZHYHD")
    assert rule.verdict == "需论证"
    assert "200 米范围内有地质灾害隐患点 3 处" in rule.reason and "最近 0 米" in rule.reason
    assert "P150（北坡滑坡，滑坡，中型，120，距用地 150 米）" in rule.reason


def test_buffer_is_data(ws):
    got = SiteChecker(ws, check_layers=[{"dataset": "DZZHYHD", "title": "地质灾害隐患点",
                                         "id_field": "TYBH", "kind": "hazard", "buffer_m": 160,
                                         "register_states": ["active"]}]).check(SITE)
    assert got.layers["DZZHYHD"].ids == ["P0", "P150"]


def test_risk_zone_area(result):
    fxq = result.layers["FXQ"].to_dict()
    expected = area(box(106.025, 106.03, S, 37.91))
    assert fxq["ids"] == ["FX1"] and fxq["area_m2"] == pytest.approx(expected, abs=0.01)
    assert fxq["by_group"] == {"高": pytest.approx(expected, abs=0.01)}
    assert next(r for r in result.rules if r.id == "FXQ").verdict == "需论证"


def test_no_register_is_missing(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg", name="空")
    store.write_version("DLTB", "2024", gpd.GeoDataFrame(
        {"BSM": ["1"], "DLBM": ["0301"]}, geometry=[shapely.box(105.9, 37.8, 106.2, 38.0)],
        crs="EPSG:4490"), VersionMeta(synthetic=True))
    got = SiteChecker(store).check(SITE)
    assert got.layers["KYQ"].status == "未入库，未检查"
    assert next(r for r in got.rules if r.id == "DZZHYHD").reason.startswith("地质灾害隐患点未入库")


def test_assessment_grade_from_importance():
    assert check_assessment("较重要", "中等") == {
        "importance": "较重要建设项目", "complexity": "中等", "complexity_given": True, "grade": "二级",
        "standard": "GB/T 40112-2021"}
    strict = check_assessment("一般建设项目")
    assert (strict["complexity"], strict["complexity_given"], strict["grade"]) == ("复杂", False, "二级")
    assert check_assessment(None) is None
    with pytest.raises(InputError, match="没有建设项目重要性"):
        check_assessment(None, "简单")
    with pytest.raises(InputError, match="建设项目重要性「特别重要」不在"):
        check_assessment("特别重要")


def test_run_check_json_and_docx(ws, tmp_path):
    site = tmp_path / "site.geojson"
    gpd.GeoDataFrame({"name": ["厂区"]}, geometry=[SITE], crs="EPSG:4490").to_file(site, driver="GeoJSON")
    out = run_check(ws, site, use="工业", docx=tmp_path / "r.docx", name="某厂", importance="重要",
                    complexity="简单")
    assert out["assessment"]["grade"] == "一级"
    assert out["layers"]["DZZHYHD"]["ids"] == ["P0", "P150", "P199"]
    d = docx.Document(out["docx"])
    text = "\n".join(p.text for p in d.paragraphs)
    cells = "\n".join(c.text for t in d.tables for row in t.rows for c in row.cells)
    assert "（四）矿业权" in text and "拟用地与矿业权 2 个重叠" in text
    assert "申请人须：向自然资源主管部门查询压覆情况" in text
    assert "拟用地周边 200 米范围内有地质灾害隐患点 3 处" in text
    assert "本项目为重要建设项目，地质环境条件复杂程度为简单，应开展一级地质灾害危险性评估" in text
    assert "甲石灰岩矿" in cells and "东沟泥石流" in cells and "用地范围内" in cells
    assert "南山风险区" in cells


def test_cli_importance_and_refusal(ws, tmp_path):
    import json

    from typer.testing import CliRunner

    from onemap.cli import app

    site = tmp_path / "site.geojson"
    gpd.GeoDataFrame({"name": ["厂区"]}, geometry=[SITE], crs="EPSG:4490").to_file(site, driver="GeoJSON")
    runner = CliRunner()
    r = runner.invoke(app, ["check", str(ws.location), str(site), "--importance", "较重要",
                            "--complexity", "中等", "--json"])
    assert r.exit_code == 0, r.stdout
    got = json.loads(r.stdout)
    assert got["assessment"]["grade"] == "二级"
    assert got["layers"]["KYQ"]["ids"] == ["C1", "T2"]
    r = runner.invoke(app, ["check", str(ws.location), str(site), "--complexity", "简单", "--json"])
    assert r.exit_code != 0
    assert "没有建设项目重要性（--importance）" in json.loads(r.stdout)["message"]
