"""Checks of the supplemented 耕地: still 耕地 later, outside 红线 and 河湖, not too steep.

Three patches side by side (lon/lat boxes between the same parallels), each one project:
P1 was 1101 河流水面 in 2023 (base) and is 旱地 since; P2 is 旱地 of 坡度级别 4 (> 15°);
P3 is 旱地 in 2024 and 乔木林地 in 2025 (lost), its east half inside the 生态保护红线.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from onemap.app.ledgers import import_records
from onemap.app.supplements import check_supplemented
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.store.base import VersionMeta

S, N = 37.90, 37.91
P = [shapely.box(106.00 + 0.01 * i, S, 106.01 + 0.01 * i, N) for i in range(3)]


def area(g) -> float:
    return float(ellipsoidal_area([g])[0])


def dltb(codes: list[str], slopes: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"BSM": ["1", "2", "3"], "DLBM": codes, "GDPDJB": slopes}, geometry=P,
                            crs="EPSG:4490")


@pytest.fixture
def scene(workspace, tmp_path, write_csv):
    workspace.write_version("DLTB", "2023", dltb(["1101", "1206", "1206"], ["", "", ""]), VersionMeta())
    workspace.write_version("DLTB", "2024", dltb(["0103", "0103", "0103"], ["2", "4", "2"]), VersionMeta())
    workspace.write_version("DLTB", "2025", dltb(["0103", "0103", "0301"], ["2", "4", ""]), VersionMeta())
    workspace.write_version("STBHHX", "2023", gpd.GeoDataFrame(
        {"BSM": ["R1"]}, geometry=[shapely.box(106.025, S, 106.03, N)], crs="EPSG:4490"), VersionMeta())
    rows = [{"项目编号": f"BC-{i + 1}", "项目名称": f"项目{i + 1}", "项目类型": "未利用地开发", "行政区代码": "640302",
             "新增耕地面积": 1000, "新增水田面积": 0, "验收平均等别": 9, "验收日期": "2024-06-01", "状态": "验收"}
            for i in range(3)]
    gpd.GeoDataFrame(rows, geometry=P, crs="EPSG:4490").to_file(tmp_path / "bc.geojson", driver="GeoJSON")
    import_records(workspace, "补充耕地项目", tmp_path / "bc.geojson", actor="t")
    import_records(workspace, "补充耕地项目", write_csv("bc.csv", [
        {**rows[0], "项目编号": "BC-4"}, {**rows[0], "项目编号": "BC-5", "状态": "立项", "验收日期": None}]),
        actor="t")
    return workspace


def test_each_rule_with_its_figures(scene):
    before = scene.fingerprint()
    got = check_supplemented(scene)
    assert scene.fingerprint() == before
    assert got["projects"] == 3 and got["no_geometry"] == ["BC-4"]
    assert got["sources"] == {"DLTB": "2023、2024、2025", "STBHHX": "2023"}
    found = [(f["rule"], f["record"], f.get("version"), f.get("share"), f.get("area_m2")) for f in got["findings"]]
    assert found == [
        ("in_water", "BC-1", None, None, round(area(P[0]), 2)),
        ("too_steep", "BC-2", "2025", None, round(area(P[1]), 2)),
        ("lost", "BC-3", "2025", 0.0, None),
        ("in_redline", "BC-3", None, None, round(area(shapely.box(106.025, S, 106.03, N)), 2))]
    msgs = {f["rule"]: f["message"] for f in got["findings"]}
    assert msgs["lost"] == "补充耕地项目 BC-3 在 DLTB 2025 中耕地（01）仅占 0.0%（应不低于 95%），补充的耕地已流失"
    assert msgs["in_water"].startswith(
        f"补充耕地项目 BC-1 有 {area(P[0]):,.2f} 平方米位于DLTB 2023 河湖水面和内陆滩涂内")
    assert msgs["in_redline"].endswith("平方米位于生态保护红线内（占项目面积 50.0%）")
    assert got["by_rule"] == {"补充耕地不得位于河湖范围内": 1, "新增耕地坡度超限": 1, "补充耕地已流失": 1,
                              "补充耕地不得位于生态保护红线内": 1}


def test_base_version_is_checked(scene):
    with pytest.raises(InputError, match="DLTB 没有版本 1999（可选：2023、2024、2025）"):
        check_supplemented(scene, base="1999")
    got = check_supplemented(scene, base="2024")  # 2024 has no water: BC-1 passes the 河湖 check
    assert [f["record"] for f in got["findings"] if f["rule"] == "in_water"] == []
