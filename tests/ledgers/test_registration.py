"""自然资源登记单元: resources by class and ownership, the layers touched, the 登记簿 flow.

Cells of 0.01° in one latitude band (equal areas; a half cell is exactly half):
A 106.20–106.21 0301 QSXZ 10 (国有), B 106.21–106.22 0404 QSXZ 30 (集体), C 106.22–106.23 0103 QSXZ 99.
U1 covers A and the west half of B; U2 covers C. STBHHX H1 covers the east half of A; the 矿业权 K1
covers B.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from onemap.app.ledgers import act, import_records
from onemap.app.registration import registration_resources
from onemap.domain import sources
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.store import VersionMeta


def box(x0: float, x1: float):
    return shapely.box(106.20 + 0.01 * x0, 37.90, 106.20 + 0.01 * x1, 37.91)


CELL = float(ellipsoidal_area([box(0, 1)])[0])


@pytest.fixture
def units(workspace, tmp_path):
    workspace.write_version("DLTB", "2024", gpd.GeoDataFrame(
        {"BSM": ["A", "B", "C"], "DLBM": ["0301", "0404", "0103"], "QSXZ": ["10", "30", "99"]},
        geometry=[box(0, 1), box(1, 2), box(2, 3)], crs=4490), VersionMeta())
    workspace.write_version("STBHHX", "2023", gpd.GeoDataFrame({"BSM": ["H1"]}, geometry=[box(0.5, 1)],
                                                               crs=4490), VersionMeta())
    gpd.GeoDataFrame({"许可证号": ["K1"], "类型": ["采矿权"], "矿业权人": ["甲"], "矿山名称": ["甲矿"],
                      "矿种": ["砂石"], "有效期起": ["2020-01-01"], "有效期止": ["2030-01-01"]},
                     geometry=[box(1, 2)], crs=4490).to_file(tmp_path / "k.geojson", driver="GeoJSON")
    import_records(workspace, "矿业权", tmp_path / "k.geojson", actor="张三")
    gpd.GeoDataFrame({"登记单元号": ["U1", "U2"], "登记单元名称": ["甲林场", "乙村"], "行政区代码": ["640302"] * 2,
                      "所有权主体": ["全民", "乙村集体"]},
                     geometry=[box(0, 1.5), box(2, 3)], crs=4490).to_file(tmp_path / "u.geojson", driver="GeoJSON")
    assert import_records(workspace, "自然资源登记单元", tmp_path / "u.geojson",
                          actor="张三")["records"] == ["U1", "U2"]
    return workspace


def test_resources_by_class_and_ownership_and_the_layers_touched(units):
    got = registration_resources(units, "U1")
    [u] = got["units"]
    assert u["state"] == "受理" and u["area_m2"] == pytest.approx(1.5 * CELL, abs=0.02)
    assert [(r["class"], r["class_name"], r["ownership"]) for r in u["resources"]] == [
        ("03", "林地", "国有"), ("04", "草地", "集体")]
    assert [r["area_m2"] for r in u["resources"]] == pytest.approx([CELL, CELL / 2], abs=0.01)
    assert u["by_ownership"]["争议"] == 0.0
    touches = {t["layer"]: t for t in u["touches"]}
    assert set(touches) == {"STBHHX", "KYQ"}
    assert touches["STBHHX"]["area_m2"] == pytest.approx(CELL / 2, abs=0.01) and touches["STBHHX"]["ids"] == ["H1"]
    assert touches["KYQ"]["area_m2"] == pytest.approx(CELL / 2, abs=0.01) and touches["KYQ"]["ids"] == ["K1"]
    assert [m["layer"] for m in got["missing"]] == ["ZRBHD", "YJJBNTTB", "CZKFBJ"]


def test_unknown_ownership_is_refused_unless_the_bureau_lists_it(units, tmp_path, monkeypatch):
    with pytest.raises(InputError, match=r"权属性质 QSXZ 为 99.*BSM C"):
        registration_resources(units, "U2")
    text = sources.resolve("ledgers", "registration.yaml").read_text("utf-8")
    (tmp_path / "over").mkdir()
    (tmp_path / "over" / "registration.yaml").write_text(text.replace("争议: []", '争议: ["99"]'), "utf-8")
    monkeypatch.setenv("ONEMAP_DOMAIN_DIR", str(tmp_path / "over"))
    [u] = registration_resources(units, "U2")["units"]
    assert u["by_ownership"]["争议"] == pytest.approx(CELL, abs=0.01)


def test_register_book_flow(units):
    act(units, "registration_units", "U1", "review", actor="李四", fields={"notes": "权属清楚"})
    with pytest.raises(InputError, match="DBR"):
        act(units, "registration_units", "U1", "register", actor="王五", role="admin",
            fields={"DBSJ": "2025-03-01"})
    got = act(units, "registration_units", "U1", "register", actor="王五", role="admin",
              fields={"DBR": "王五", "DBSJ": "2025-03-01"})
    assert (got["state_title"], got["values"]["DBR"], got["values"]["DBSJ"]) == ("登簿", "王五", "2025-03-01")
    [u] = registration_resources(units, "U1")["units"]
    assert u["state"] == "登簿"
