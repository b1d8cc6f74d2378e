"""西安80 / 北京54 报盘 and 拐点 files read through the workspace's transformation, or refused."""

import numpy as np
import pyogrio
import pyproj
import pytest
import shapely

from builders import dltb_frame, four_param
from onemap.control.site import read_site
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.geo.transform import CommonPoint, Transformation, fit
from onemap.io.bopan import parse_bopan
from onemap.io.guaidian import parse_guaidian

P = {"dx_m": -35.2, "dy_m": 12.7, "rotation_arcsec": 3.5, "scale_ppm": -4.2}
RING = [(4_201_000.0, 605_000.0), (4_201_000.0, 605_200.0), (4_201_300.0, 605_200.0),
        (4_201_300.0, 605_000.0)]  # X north, Y east (Xian 1980 3° zone 35, CM 105°E)


def transformation(source="EPSG:2380", name="西安80转2000"):
    offs = np.array([-6000.0, 0.0, 6000.0])
    nn, ee = np.meshgrid(4_201_000.0 + offs, 605_000.0 + offs, indexing="ij")
    n2, e2 = four_param(nn.ravel(), ee.ravel(), P)
    pts = [CommonPoint(f"G{i}", nn.ravel()[i], ee.ravel()[i], n2[i], e2[i]) for i in range(9)]
    t = fit(pts, model=4, source_crs=source, target_crs="EPSG:4544", name=name).transformation
    t.version = 1
    return t


def bopan(datum="1980西安坐标系", zone=35):
    pts = RING + RING[:1]
    lines = [f"J{k % 4 + 1},1,{n:.3f},{zone}{e:.3f}" for k, (n, e) in enumerate(pts)]
    return ("[属性描述]\n坐标系=" + datum + "\n几度分带=3\n投影类型=高斯克吕格\n计量单位=米\n带号="
            f"{zone}\n[地块坐标]\n5,,1,甲,面,,,,@\n" + "\n".join(lines) + "\n")


def expected_ring():
    n2, e2 = four_param(np.array([p[0] for p in RING]), np.array([p[1] for p in RING]), P)
    lon, lat = pyproj.Transformer.from_crs(4544, 4490, always_xy=True).transform(e2, n2)
    return shapely.Polygon(list(zip(lon, lat, strict=True)))


def plane_gap(a, b):
    """Largest distance (m, CGCS2000 GK plane) between matching vertices of two polygons."""
    t = pyproj.Transformer.from_crs(4490, 4544, always_xy=True)
    ax, ay = t.transform(*shapely.get_coordinates(shapely.normalize(a)).T)
    bx, by = t.transform(*shapely.get_coordinates(shapely.normalize(b)).T)
    return float(np.max(np.hypot(ax - bx, ay - by)))


def test_xian80_bopan_is_refused_without_a_transformation():
    with pytest.raises(InputError) as info:
        parse_bopan(bopan(), file_name="x80.txt")
    p = info.value.problems[0]
    assert (p.rule, p.row, p.field) == ("coord_legacy_datum", "2", "坐标系")
    assert "工作空间没有从1980西安坐标系出发的坐标转换" in p.message and "--transform" in p.message


def test_xian80_bopan_is_read_through_the_transformation():
    t = transformation()
    data = parse_bopan(bopan(), file_name="x80.txt", transforms=[t])
    want = expected_ring()
    assert plane_gap(data.gdf.geometry.iloc[0], want) < 1e-3
    assert data.gdf["area_m2"].iloc[0] == pytest.approx(float(ellipsoidal_area([want])[0]), abs=0.01)
    assert data.gdf["planar_area_m2"].iloc[0] == pytest.approx(200.0 * 300.0)  # in the file's own plane
    assert data.source_crs == "EPSG:2380"
    assert data.transformation["name"] == "西安80转2000" and data.transformation["version"] == 1
    assert "西安80转2000@1" in data.report.by_rule("coord_transformed")[0].message


def test_other_zone_or_datum_is_still_refused():
    with pytest.raises(InputError) as info:
        parse_bopan(bopan(), file_name="x80.txt", transforms=[transformation("EPSG:2381", "108带")])
    p = info.value.problems[0]
    assert p.rule == "coord_legacy_datum" and p.row == "2"
    assert "第 35 带" in p.message and "“108带@1”（EPSG:2381）" in p.message
    with pytest.raises(InputError) as info:
        parse_bopan(bopan("1954北京坐标系"), file_name="bj54.txt", transforms=[transformation()])
    assert "都不是从1954北京坐标系出发" in info.value.problems[0].message


def test_xian80_guaidian_is_read_through_the_transformation():
    pts = RING + RING[:1]
    text = ("[登记项目]\n项目名称=某砂石矿\n坐标系=1980西安坐标系\n带号=35\n"
            + "".join(f"XY{k + 1:03d}={k + 1},{n:.3f},35{e:.3f}\n" for k, (n, e) in enumerate(pts))
            + "标高=1200,1100\n")
    data = parse_guaidian(text, file_name="kq.txt", transforms=[transformation()])
    assert plane_gap(data.gdf.geometry.iloc[0], expected_ring()) < 1e-3
    assert data.source_crs == "EPSG:2380"


def test_site_files_use_the_offered_transformation(tmp_path):
    t = transformation()
    txt = tmp_path / "x80.txt"
    txt.write_bytes(bopan().encode("gbk"))
    site = read_site(txt, transforms=[t])
    assert plane_gap(site.gdf.geometry.iloc[0], expected_ring()) < 1e-3
    assert site.source_crs == "EPSG:2380" and site.metadata["transformation"]["name"] == "西安80转2000"
    # a Shapefile declared in Xian 1980 GK
    src = dltb_frame(2).to_crs(4544).set_crs(2380, allow_override=True)
    shp = tmp_path / "site.shp"
    pyogrio.write_dataframe(src[["BSM", "geometry"]], shp)
    plain = read_site(shp)
    assert any("未使用转换参数" in m for m in plain.messages)
    moved = read_site(shp, transforms=[t])
    assert not any("未使用转换参数" in m for m in moved.messages)
    to_geo = pyproj.Transformer.from_crs(4544, 4490, always_xy=True)

    def formula(c):
        n2, e2 = four_param(c[:, 1], c[:, 0], P)
        return np.column_stack(to_geo.transform(e2, n2))

    for got, raw in zip(moved.gdf.geometry, src.geometry, strict=True):
        assert plane_gap(got, shapely.transform(raw, formula)) < 1e-3


def test_xian80_lonlat_bopan_through_seven_parameters_between_geographic_crs():
    seven = {"tx_m": -12.3, "ty_m": 110.5, "tz_m": 45.2, "rx_arcsec": 1.2, "ry_arcsec": -0.8,
             "rz_arcsec": 2.1, "scale_ppm": 3.3}
    t = Transformation("七参数经纬度", "seven", "EPSG:4610", "EPSG:4490", seven, version=1)
    ring = [(37.95, 106.20), (37.95, 106.203), (37.953, 106.203), (37.953, 106.20)]  # X 纬度, Y 经度
    lines = [f"J{k % 4 + 1},1,{la},{lo}" for k, (la, lo) in enumerate(ring + ring[:1])]
    text = ("[属性描述]\n坐标系=1980西安坐标系\n计量单位=度\n[地块坐标]\n5,,1,甲,面,,,,@\n"
            + "\n".join(lines) + "\n")
    data = parse_bopan(text, file_name="x80经纬度.txt", transforms=[t])
    pipe = pyproj.Transformer.from_pipeline(
        "+proj=pipeline +step +proj=cart +a=6378140 +rf=298.257 "
        "+step +proj=helmert +x=-12.3 +y=110.5 +z=45.2 +rx=1.2 +ry=-0.8 +rz=2.1 +s=3.3 "
        "+convention=position_vector +step +inv +proj=cart +ellps=GRS80")
    lon, lat, _ = pipe.transform([p[1] for p in ring], [p[0] for p in ring], [0.0] * 4)
    assert plane_gap(data.gdf.geometry.iloc[0], shapely.Polygon(list(zip(lon, lat, strict=True)))) < 1e-3
    assert data.source_crs == "EPSG:4610"
    # the same file with a plane (GK) transformation only is refused: it does not serve lon/lat
    with pytest.raises(InputError) as info:
        parse_bopan(text, file_name="x80经纬度.txt", transforms=[transformation()])
    assert "经纬度" in info.value.problems[0].message
