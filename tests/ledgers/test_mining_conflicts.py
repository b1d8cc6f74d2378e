"""Mining rights against the control lines: the pure overlay and the use case on a workspace.

Every polygon is a lon/lat box; on the ellipsoid the area of a box is proportional to its
longitude span (same latitudes), so the shares are exact fractions of the right's span.
"""

import geopandas as gpd
import openpyxl
import pytest
import shapely

from onemap.app.ledgers import import_records
from onemap.app.minerals import mining_conflicts
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.minerals import ConflictLayer, LayerPolygons, block_findings, conflicts, load_minerals
from onemap.store.base import VersionMeta

S, N = 37.90, 37.92


def box(w: float, e: float) -> shapely.Polygon:
    return shapely.box(w, S, e, N)


RIGHT = box(106.00, 106.02)            # span 0.02°
FAR = shapely.box(106.50, 37.50, 106.51, 37.51)
RED = [box(106.01, 106.03), box(106.01, 106.025)]  # two overlapping polygons: the east half, once
ZONES = [box(106.000, 106.005), box(106.005, 106.010)]  # a quarter each


def right_area() -> float:
    return float(ellipsoidal_area([RIGHT])[0])


def test_right_area_hand_check():
    # 0.02° of longitude at 37.91°N ≈ 1 757 m, 0.02° of latitude ≈ 2 220 m → ≈ 3.90 km²
    assert 3.89e6 < right_area() < 3.91e6


def test_share_per_layer_and_zone():
    layers = [LayerPolygons(ConflictLayer(dataset="STBHHX", title="生态保护红线"), RED),
              LayerPolygons(ConflictLayer(dataset="ZRBHD", title="自然保护地", group_field="GNFQ"), ZONES,
                            ["核心保护区", "一般控制区"]),
              LayerPolygons(ConflictLayer(dataset="YJJBNTTB", title="永久基本农田"), [FAR.buffer(-0.001)]),
              LayerPolygons(ConflictLayer(dataset="CZKFBJ", title="城镇开发边界"), None)]
    got = conflicts(["C1", "C2"], [RIGHT, FAR], layers)
    a = right_area()
    assert got["missing"] == [{"layer": "CZKFBJ", "title": "城镇开发边界"}]
    rows = {(r["right"], r["layer"]): r for r in got["rows"]}
    assert set(rows) == {("C1", "STBHHX"), ("C1", "ZRBHD"), ("C2", "YJJBNTTB")}
    red = rows[("C1", "STBHHX")]
    assert red["share"] == 0.5 and red["area_m2"] == pytest.approx(a / 2, abs=0.01)
    zr = rows[("C1", "ZRBHD")]
    assert zr["share"] == 0.5
    assert zr["zones"] == {"一般控制区": pytest.approx(a / 4, abs=0.01),
                           "核心保护区": pytest.approx(a / 4, abs=0.01)}
    # C2: the farmland is the right shrunk by 0.001° on each side: 0.008° of 0.01° longitude and
    # 0.008° of 0.01° latitude (near-uniform there) → ≈ 0.64
    assert rows[("C2", "YJJBNTTB")]["share"] == pytest.approx(0.64, abs=0.001)


def test_use_case_reads_the_register_and_the_workspace_layers(workspace, tmp_path):
    rights = gpd.GeoDataFrame({"许可证号": ["C1", "C2"], "类型": ["采矿权", "探矿权"],
                               "矿业权人": ["甲公司", "乙院"], "矿山名称": ["甲石灰岩矿", "乙煤勘查"],
                               "矿种": ["水泥用石灰岩", "煤"], "有效期起": ["2020-01-01"] * 2,
                               "有效期止": ["2030-01-01"] * 2}, geometry=[RIGHT, FAR], crs="EPSG:4490")
    path = tmp_path / "kyq.geojson"
    rights.to_file(path, driver="GeoJSON")
    import_records(workspace, "KYQ", path, actor="张三")
    workspace.write_version("STBHHX", "2024", gpd.GeoDataFrame({"BSM": ["R1", "R2"]}, geometry=RED,
                                                               crs="EPSG:4490"), VersionMeta(synthetic=True))
    workspace.write_version("ZRBHD", "2024", gpd.GeoDataFrame(
        {"BSM": ["Z1", "Z2"], "GNFQ": ["核心保护区", "一般控制区"]}, geometry=ZONES, crs="EPSG:4490"),
        VersionMeta(synthetic=True))
    out = tmp_path / "conflicts.xlsx"
    got = mining_conflicts(workspace, xlsx=out)
    assert got["rights"] == 2
    assert [(r["right"], r["name"], r["layer"], r["share"]) for r in got["rows"]] == [
        ("C1", "甲石灰岩矿", "STBHHX", 0.5), ("C1", "甲石灰岩矿", "ZRBHD", 0.5)]
    assert [m["layer"] for m in got["missing"]] == ["YJJBNTTB", "CZKFBJ", "GHQK"]
    assert got["sources"] == {"STBHHX": "2024", "ZRBHD": "2024"}
    ws = openpyxl.load_workbook(out).active
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert "永久基本农田（YJJBNTTB）未入库，未检查" in str(cells[0][0])
    head = next(i for i, row in enumerate(cells) if row[0] == "许可证号")
    assert cells[head][:5] == ["许可证号", "矿山名称", "冲突图层", "重叠面积（平方米）", "占矿业权面积比例"]
    assert cells[head + 1][:3] == ["C1", "甲石灰岩矿", "生态保护红线"]
    assert cells[head + 1][4] == 0.5


def test_rights_outside_blocks_or_of_another_mineral():
    # C1 lies wholly in B1 (石灰岩) but is a 煤 right; C2 is outside every block; C3's east half is in
    # B2 (煤): outside (share 0.5), same 矿种. Shares are ratios of longitude spans (same latitudes).
    c3 = box(106.06, 106.08)
    blocks = [("B1", "石灰岩", box(106.00, 106.03)), ("B2", " 煤 ", box(106.07, 106.10))]
    got = block_findings(load_minerals(), [("C1", "煤", RIGHT), ("C2", "煤", FAR), ("C3", "煤", c3)], blocks)
    assert [(r["right"], r["finding"], r["share"]) for r in got] == [
        ("C1", "other_mineral", 1.0), ("C2", "outside_block", 0.0), ("C3", "outside_block", 0.5)]
    assert got[0]["message"] == "矿业权 C1 的矿种“煤”与所在规划区块（B1 石灰岩）不符"
    assert got[0]["area_m2"] == pytest.approx(right_area(), abs=0.01)
    assert got[2]["message"] == "矿业权 C3 仅 50.0% 位于规划区块内（应不低于 99%）"
    assert got[2]["blocks"] == [{"block": "B2", "mineral": "煤"}]


def test_use_case_lists_block_findings(workspace, tmp_path):
    gpd.GeoDataFrame({"许可证号": ["C1"], "类型": ["采矿权"], "矿业权人": ["甲"], "矿山名称": ["甲煤矿"],
                      "矿种": ["煤"], "有效期起": ["2020-01-01"], "有效期止": ["2030-01-01"]},
                     geometry=[RIGHT], crs="EPSG:4490").to_file(tmp_path / "kyq.geojson", driver="GeoJSON")
    import_records(workspace, "KYQ", tmp_path / "kyq.geojson", actor="张三")
    gpd.GeoDataFrame({"区块编号": ["B1"], "区块名称": ["甲区块"], "区块类型": ["开采"], "矿种": ["石灰岩"],
                      "行政区代码": ["640302"]}, geometry=[box(106.00, 106.03)], crs="EPSG:4490"
                     ).to_file(tmp_path / "ghqk.geojson", driver="GeoJSON")
    import_records(workspace, "矿产资源规划区块", tmp_path / "ghqk.geojson", actor="张三")
    got = mining_conflicts(workspace)
    assert [(r["right"], r["name"], r["layer"], r["finding"]) for r in got["rows"]] == [
        ("C1", "甲煤矿", "GHQK", "other_mineral")]
    assert "GHQK" not in [m["layer"] for m in got["missing"]]
