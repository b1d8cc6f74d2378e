"""矿业权 register (KYQ): import from 拐点坐标 text and from a table with geometry; area on the ellipsoid."""

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod, Transformer

from onemap.app.ledgers import get_record, import_records, list_records
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area

# Two blocks near 吴忠 (3° zone 35, CM 105°E), (X northing, Y easting without prefix):
# a 400 m × 300 m rectangle and, 1 km east, a 200 m × 200 m square.
RING_A = [(4206000.00, 605000.00), (4206000.00, 605400.00), (4206300.00, 605400.00),
          (4206300.00, 605000.00)]
RING_B = [(4206000.00, 606400.00), (4206000.00, 606600.00), (4206200.00, 606600.00),
          (4206200.00, 606400.00)]
HEAD = ["[登记项目]", "项目名称=宁夏某某石灰岩矿（合成样例）", "许可证号=C6403002020127130150001",
        "矿业权类型=采矿权", "矿业权人=某某建材有限公司", "开采矿种=水泥用石灰岩", "有效期起=2020-01-01",
        "有效期止=2030-12-31", "行政区代码=640303", "坐标系=2000国家大地坐标系"]


def _text(prefix: bool) -> str:
    lines = list(HEAD) + ([] if prefix else ["中央子午线=105"])
    k = 1
    for ring, elev in ((RING_A, "+1250,+1100"), (RING_B, "+1200,+1050")):
        for x, y in ring:
            lines.append(f"XY{k:03d}={k},{x:.2f},{'35' if prefix else ''}{y:.2f}")
            k += 1
        lines.append(f"标高={elev}")
    return "\n".join(lines) + "\n"


def _expected_polygon() -> shapely.MultiPolygon:
    """The same two rings brought to lon/lat independently (pyproj, EPSG:4544 = CGCS2000 CM 105°E)."""
    t = Transformer.from_crs("EPSG:4544", "EPSG:4490", always_xy=True)
    polys = []
    for ring in (RING_A, RING_B):
        lon, lat = t.transform([y for _, y in ring], [x for x, _ in ring])
        polys.append(shapely.Polygon(list(zip(lon, lat, strict=True))))
    return shapely.MultiPolygon(polys)


@pytest.mark.parametrize("prefix", [True, False])
def test_right_from_guaidian_text_has_the_ellipsoidal_area_of_its_two_rings(workspace, tmp_path, prefix):
    path = tmp_path / f"kyq_{prefix}.txt"
    path.write_text(_text(prefix), encoding="gbk")
    got = import_records(workspace, "矿业权", path, actor="张三", now="2025-01-02")
    assert got["imported"] == 1 and got["records"] == ["C6403002020127130150001"]
    rec = get_record(workspace, "KYQ", "C6403002020127130150001")
    v = rec["values"]
    expected = float(ellipsoidal_area([_expected_polygon()])[0])
    # hand check: the plane areas are 120 000 + 40 000 m²; at 38°N, 100 km east of the central
    # meridian the Gauss scale factor is ≈ 1.000123, so the ellipsoid area is ≈ 0.99975 × 160 000 m²
    assert 159_950 < expected < 159_970
    geod, _ = Geod(ellps="GRS80").geometry_area_perimeter(shapely.geometry.polygon.orient(
        _expected_polygon().geoms[0], 1.0))
    assert abs(geod) + Geod(ellps="GRS80").geometry_area_perimeter(shapely.geometry.polygon.orient(
        _expected_polygon().geoms[1], 1.0))[0] == pytest.approx(expected, abs=0.05)
    assert v["MJ"] == round(expected, 2)
    assert (v["BGSX"], v["BGXX"]) == (1250, 1050)
    # the reader folds full-width brackets to ASCII
    assert (v["KQLX"], v["KYQR"], v["KZ"], v["KSMC"]) == ("采矿权", "某某建材有限公司", "水泥用石灰岩",
                                                         "宁夏某某石灰岩矿(合成样例)")
    assert (rec["county"], rec["state_title"]) == ("640303", "有效")
    geom = shapely.from_wkb(bytes.fromhex(rec["geometry_wkb"]))
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2


def test_area_in_a_table_is_replaced_by_the_computed_area(workspace, tmp_path):
    poly = _expected_polygon().geoms[0]
    gdf = gpd.GeoDataFrame({"许可证号": ["T001"], "类型": ["探矿权"], "探矿权人": ["某某地勘院"],
                            "勘查项目名称": ["某某煤勘查"], "勘查矿种": ["煤"], "面积": [1.0],
                            "有效期起": ["2022-01-01"], "有效期止": ["2027-01-01"]},
                           geometry=[poly], crs="EPSG:4490")
    path = tmp_path / "kyq.geojson"
    gdf.to_file(path, driver="GeoJSON")
    import_records(workspace, "KYQ", path, actor="张三")
    v = list_records(workspace, "KYQ")["records"][0]["values"]
    assert v["MJ"] == round(float(ellipsoidal_area([poly])[0]), 2)
    assert 119_960 < v["MJ"] < 119_980  # 120 000 m² in the plane, scale ≈ 0.99975


def test_a_right_without_geometry_is_refused_and_nothing_is_written(workspace, write_csv):
    path = write_csv("kyq.csv", [{"许可证号": "T002", "类型": "探矿权", "矿业权人": "甲", "矿山名称": "乙",
                                  "矿种": "煤", "有效期起": "2022-01-01", "有效期止": "2027-01-01"}])
    with pytest.raises(InputError, match="第 2 行：缺少几何图形"):
        import_records(workspace, "KYQ", path, actor="张三")
    assert list_records(workspace, "KYQ")["count"] == 0
