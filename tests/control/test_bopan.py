"""报盘 coordinate files: parsing, CRS, rings, errors, writing."""

from __future__ import annotations

import codecs

import geopandas as gpd
import numpy as np
import pytest
import shapely
from control_helpers import bopan_bytes
from pyproj import Transformer

from onemap.errors import InputError, ReadError
from onemap.geo.area import ellipsoidal_area
from onemap.io.bopan import bopan_crs, looks_like_bopan, parse_bopan, read_bopan, write_bopan

# zone 36 (CM 108°E), a 200 m × 300 m parcel with a 50 m × 50 m hole, and a second parcel
OUTER = [[4207500.000, 36367800.000], [4207500.000, 36368000.000],
         [4207800.000, 36368000.000], [4207800.000, 36367800.000]]
HOLE = [[4207600.000, 36367850.000], [4207650.000, 36367850.000],
        [4207650.000, 36367900.000], [4207600.000, 36367900.000]]
SECOND = [[4208000.000, 36368100.000], [4208000.000, 36368200.000],
          [4208100.000, 36368200.000], [4208100.000, 36368100.000]]
SPEC = {"zone": 36, "parcels": [
    {"name": "一号地块", "use": "工业", "rings": [OUTER, HOLE]},
    {"name": "二号地块", "use": "工业", "rings": [SECOND]},
]}


def _text(body: str, head: str | None = None) -> str:
    head = head if head is not None else (
        "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n投影类型=高斯克吕格\n计量单位=米\n带号=36\n")
    return head + "[地块坐标]\n" + body


def _lonlat(ring, zone=36):
    t = Transformer.from_crs(f"EPSG:{4513 + zone - 25}", "EPSG:4490", always_xy=True)
    lon, lat = t.transform([p[1] for p in ring], [p[0] for p in ring])
    return list(zip(lon, lat, strict=True))


def test_reads_a_gbk_file_with_two_parcels_and_a_hole(tmp_path):
    path = tmp_path / "报盘.txt"
    path.write_bytes(bopan_bytes(SPEC))
    data = read_bopan(path)
    assert data.encoding == "GBK"
    assert data.source_crs == "EPSG:4524" and data.zone == 36 and data.zone_width == 3
    assert data.attributes["坐标系"] == "2000国家大地坐标系"
    gdf = data.gdf
    assert gdf.crs.to_epsg() == 4490
    assert list(gdf["parcel_name"]) == ["一号地块", "二号地块"]
    assert list(gdf["use"]) == ["工业", "工业"]
    assert list(gdf["parcel_no"]) == ["1", "2"]
    first = gdf.geometry.iloc[0]
    assert len(first.interiors) == 1
    # planar Gauss area: 200 × 300 − 50 × 50
    assert gdf["planar_area_m2"].iloc[0] == pytest.approx(60000 - 2500, abs=1e-6)
    expected = shapely.Polygon(_lonlat(OUTER), [_lonlat(HOLE)])
    assert ellipsoidal_area([first])[0] == pytest.approx(ellipsoidal_area([expected])[0],
                                                         abs=1e-6)
    assert gdf["line"].tolist()[0] > 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_encodings_give_the_same_parcels(tmp_path, encoding):
    path = tmp_path / "a.txt"
    path.write_bytes(bopan_bytes(SPEC, encoding=encoding))
    data = read_bopan(path)
    assert list(data.gdf["parcel_name"]) == ["一号地块", "二号地块"]
    assert data.encoding in ("UTF-8", "UTF-8-BOM", "GBK")
    if encoding == "utf-8-sig":
        assert data.encoding == "UTF-8-BOM"
        assert path.read_bytes().startswith(codecs.BOM_UTF8)


def test_zone_from_header_when_eastings_have_no_prefix():
    body = ("4,,1,甲,面,,,,@\nJ1,1,4207500,367800\nJ2,1,4207500,368000\n"
            "J3,1,4207800,368000\nJ1,1,4207500,367800\n")
    data = parse_bopan(_text(body))
    assert data.source_crs == "EPSG:4545"  # CM 108°E without prefix
    lon = data.gdf.geometry.iloc[0].centroid.x
    assert 106 < lon < 107


def test_six_degree_zone():
    assert bopan_crs(18, 6) == "EPSG:4496"
    head = "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=6\n计量单位=米\n"
    body = ("4,,1,甲,面,,,,@\nJ1,1,4207500,18631500\nJ2,1,4207500,18631700\n"
            "J3,1,4207800,18631700\nJ1,1,4207500,18631500\n")
    data = parse_bopan(_text(body, head))
    assert data.source_crs == "EPSG:4496"


def test_ring_outside_the_outer_ring_is_a_separate_part_and_said():
    body = ("8,,1,甲,面,,,,@\n"
            "J1,1,4207500,36367800\nJ2,1,4207500,36368000\nJ3,1,4207800,36368000\n"
            "J1,1,4207500,36367800\n"
            "J4,2,4208000,36368100\nJ5,2,4208000,36368200\nJ6,2,4208100,36368200\n"
            "J4,2,4208000,36368100\n")
    data = parse_bopan(_text(body))
    g = data.gdf.geometry.iloc[0]
    assert g.geom_type == "MultiPolygon" and len(g.geoms) == 2
    assert data.report.by_rule("coord_ring_part")


def test_declared_area_smaller_than_drawn_is_reported_larger_is_refused():
    ring = ("J1,1,4207500,36367800\nJ2,1,4207500,36368000\n"
            "J3,1,4207800,36368000\nJ4,1,4207800,36367800\nJ1,1,4207500,36367800\n")
    data = parse_bopan(_text("5,1.5,1,甲,面,,,,@\n" + ring))  # drawn: 200 m × 300 m = 6 公顷
    assert data.report.by_rule("coord_declared_area")
    assert np.isclose(data.gdf["declared_area_ha"].iloc[0], 1.5)
    with pytest.raises(InputError) as info:
        parse_bopan(_text("5,99.5,1,甲,面,,,,@\n" + ring))
    assert [(p.rule, p.row) for p in info.value.problems] == [("coord_declared_area", "8")]


@pytest.mark.parametrize(
    ("body", "head", "rule", "words"),
    [
        ("4,,1,甲,面,,,,@\nJ1,1,4207500\n", None, "bopan_point", ["第 9 行", "四项"]),
        ("4,,1,甲,面,,,,@\nJ1,1,42075x0,36367800\n", None, "coord_value", ["第 9 行", "X"]),
        ("4,,1,甲,面,,,,@\nJ1,a,4207500,36367800\n", None, "bopan_point", ["圈号"]),
        ("J1,1,4207500,36367800\n", None, "bopan_point", ["地块头行"]),
        ("4,,1,甲,面,,,,@\nJ1,1,4207500,36367800\nJ2,1,4207500,36368000\n"
         "J1,1,4207500,36367800\n", None, "coord_ring", ["至少需要 3 个"]),
        ("4,,1,甲,面,,,,@\nJ1,1,4207500,99367800\nJ2,1,4207500,99368000\n"
         "J3,1,4207800,99368000\n", "[属性描述]\n几度分带=3\n", "coord_zone", ["带号"]),
        ("4,,1,甲,面,,,,@\nJ1,1,4207500,36367800\nJ2,1,4207500,36368000\n"
         "J3,1,4207800,36368000\n", "[属性描述]\n坐标系=1980西安坐标系\n", "coord_legacy_datum",
         ["1980西安坐标系", "CGCS2000", "第 2 行"]),
        ("4,,1,甲,面,,,,@\nJ1,1,36367800,4207500\nJ2,1,36368000,4207500\n"
         "J3,1,36368000,4207800\n", "[属性描述]\n", "coord_xy_swapped", ["颠倒"]),
        ("4,,1,甲,面,,,,@\nJ1,1,4207500,36367800\nJ2,1,4207500,36368000\n"
         "J3,1,4207800,36368000\n", "[属性描述]\n带号=35\n", "coord_zone", ["不一致"]),
        ("4,,1,甲,面,,,,@\nJ1,1,4207500,367800\nJ2,1,4207500,368000\nJ3,1,4207800,368000\n",
         "[属性描述]\n坐标系=2000国家大地坐标系\n", "coord_zone", ["无法确定带号"]),
        ("", None, "bopan_empty", ["没有地块"]),
        ("4,,1,甲,面,,,,@\nJ1,1,4207500,36367800\nJ2,1,4207500,36368000\n"
         "J3,1,4207800,36368000\nJ4,2,4207600,36367850\nJ5,1,4207600,36367900\n", None,
         "bopan_ring", ["不连续"]),
    ],
)
def test_malformed_files_are_refused_with_line_and_rule(body, head, rule, words):
    with pytest.raises(InputError) as info:
        parse_bopan(_text(body, head), file_name="坏文件.txt")
    err = info.value
    assert rule in {p.rule for p in err.problems}, str(err)
    text = str(err)
    assert "坏文件.txt" in text
    for w in words:
        assert w in text, (w, text)


def test_every_bad_line_is_reported_at_once():
    body = "4,,1,甲,面,,,,@\nJ1,1,x,36367800\nJ2,1,4207500\nJ3,1,4207800,y\n"
    with pytest.raises(InputError) as info:
        parse_bopan(_text(body))
    assert len(info.value.problems) == 3
    assert [p.row for p in info.value.problems] == ["9", "10", "11"]


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(ReadError):
        read_bopan(tmp_path / "none.txt")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\xfa\x81\x00" * 3 + b"\x81")
    with pytest.raises((ReadError, InputError)):
        read_bopan(bad)


def test_looks_like_bopan(tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(bopan_bytes(SPEC))
    b = tmp_path / "b.txt"
    b.write_text("hello", encoding="utf-8")
    assert looks_like_bopan(a) and not looks_like_bopan(b)
    assert not looks_like_bopan(tmp_path / "missing.txt")


def test_write_then_read_round_trip(tmp_path):
    polys = [
        shapely.box(106.2, 37.9, 106.21, 37.91).difference(shapely.box(106.203, 37.903,
                                                                       106.205, 37.905)),
        shapely.MultiPolygon([shapely.box(106.22, 37.9, 106.225, 37.905),
                              shapely.box(106.23, 37.9, 106.235, 37.905)]),
    ]
    gdf = gpd.GeoDataFrame({"parcel_name": ["东区", "西区"], "use": ["工业", "交通"]},
                           geometry=polys, crs="EPSG:4490")
    data_bytes = write_bopan(gdf, tmp_path / "out.txt", decimals=4)
    assert data_bytes.decode("gbk").startswith("[属性描述]")
    back = read_bopan(tmp_path / "out.txt")
    assert back.encoding == "GBK" and back.zone == 35
    assert list(back.gdf["parcel_name"]) == ["东区", "西区"]
    assert list(back.gdf["use"]) == ["工业", "交通"]
    a0 = ellipsoidal_area(gdf.geometry.values)
    a1 = ellipsoidal_area(back.gdf.geometry.values)
    np.testing.assert_allclose(a1, a0, rtol=1e-6)
    assert back.gdf.geometry.iloc[1].geom_type == "MultiPolygon"
    # a multi-part parcel is written as rings 1 and 2; reading it back says so
    assert {p.rule for p in back.report.items} == {"coord_ring_part"}
