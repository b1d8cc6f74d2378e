"""Site files of every accepted format, CRS handling, refusals, and the checker's arithmetic."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from control_helpers import area, build_workspace, load_cases

from onemap.control import SiteChecker, check_site, prepare_site, read_site
from onemap.errors import InputError, ReadError, WorkspaceError
from onemap.store import VersionMeta, init_workspace

BOX = shapely.box(106.497, 37.996, 106.503, 38.002)


def _kml(path, placemarks):
    marks = []
    for folder, name, ring in placemarks:
        coords = " ".join(f"{x},{y},0" for x, y in ring)
        mark = (f"<Placemark><name>{name}</name><Polygon><outerBoundaryIs><LinearRing>"
                f"<coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
                "</Placemark>")
        marks.append(f"<Folder><name>{folder}</name>{mark}</Folder>" if folder else mark)
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/'
                    f'kml/2.2"><Document><name>用地</name>{"".join(marks)}</Document></kml>',
                    encoding="utf-8")


def test_kml_with_folders_gives_one_parcel_per_placemark(tmp_path):
    a = list(BOX.exterior.coords)
    b = list(shapely.box(106.491, 37.991, 106.494, 37.994).exterior.coords)
    path = tmp_path / "site.kml"
    _kml(path, [(None, "甲地块", a), ("第二批", "乙地块", b)])
    site = read_site(path)
    assert site.names == ["甲地块", "乙地块"]
    assert site.gdf.crs.to_epsg() == 4490
    assert not shapely.has_z(site.gdf.geometry.values).any()
    np.testing.assert_allclose(area(site.gdf.geometry.iloc[0]), area(BOX), rtol=1e-12)


def test_kmz(tmp_path):
    kml = tmp_path / "doc.kml"
    _kml(kml, [(None, "甲地块", list(BOX.exterior.coords))])
    kmz = tmp_path / "site.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.write(kml, "doc.kml")
    assert read_site(kmz).names == ["甲地块"]


def test_zipped_shapefile_in_gauss_kruger_with_gbk_names(tmp_path):
    gdf = gpd.GeoDataFrame({"DKMC": ["东地块"]}, geometry=[BOX], crs="EPSG:4490").to_crs(4523)
    shp = tmp_path / "site.shp"
    gdf.to_file(shp, encoding="gbk")
    z = tmp_path / "site.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in tmp_path.glob("site.*"):
            if f.suffix != ".zip":
                zf.write(f, f.name)
    site = read_site(z)
    assert site.names == ["东地块"]
    assert site.source_crs == "EPSG:4523"
    assert area(site.gdf.geometry.iloc[0]) == pytest.approx(area(BOX), rel=1e-6)


def test_shapefile_without_prj_needs_a_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"NAME": ["a"]}, geometry=[BOX], crs="EPSG:4490").to_crs(4523)
    shp = tmp_path / "noprj.shp"
    gdf.to_file(shp)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(InputError) as info:
        read_site(shp)
    assert "unknown_crs" in {p.rule for p in info.value.problems}
    site = read_site(shp, crs="EPSG:4523")
    assert area(site.gdf.geometry.iloc[0]) == pytest.approx(area(BOX), rel=1e-6)


def test_refusals(tmp_path):
    with pytest.raises(ReadError):
        read_site(tmp_path / "missing.geojson")
    pts = gpd.GeoDataFrame({"NAME": ["p"]}, geometry=[shapely.Point(106.5, 38.0)], crs=4490)
    with pytest.raises(InputError) as info:
        prepare_site(pts, file_name="pts.geojson")
    assert "wrong_geometry_type" in {p.rule for p in info.value.problems}
    far = gpd.GeoDataFrame({"NAME": ["x"]}, geometry=[shapely.box(10, 50, 10.01, 50.01)],
                           crs=4490)
    with pytest.raises(InputError, match="中国范围"):
        prepare_site(far, file_name="far.geojson")
    with pytest.raises(InputError, match="没有任何地块"):
        prepare_site(gpd.GeoDataFrame({"NAME": []}, geometry=[], crs=4490))


def test_tbdlmj_share_and_cultivated_breakdown(checker):
    result = checker.check(BOX)
    kcxs = {"0101": 0.05, "0102": 0.08, "0103": 0.12}
    for c in result.classes:
        assert c.tbdlmj_m2 == pytest.approx(c.area_m2 * (1 - kcxs.get(c.dlbm, 0.0)), rel=1e-12)
    cult = result.cultivated
    assert cult["area_m2"] == pytest.approx(sum(cult["by_dlbm"].values()))
    assert cult["area_m2"] == pytest.approx(sum(cult["by_slope"].values()))
    assert set(cult["by_dlbm"]) == {"0101", "0102"}
    assert result.by_group["耕地"] == pytest.approx(cult["area_m2"])
    assert sum(result.by_group.values()) == pytest.approx(result.area_m2, rel=1e-9)
    assert {c.dlbm: c.bsm for c in result.classes} == {
        "0101": ["6"], "0102": ["11"], "0201": ["10"], "0301": ["7"]}
    assert list(result.by_unit) == ["640302001001"]
    assert result.by_unit["640302001001"] == pytest.approx(result.area_m2, rel=1e-9)
    d = result.to_dict()
    assert d["classes"][0]["bsm"] == ["6"]
    assert d["site_area_ha"] == pytest.approx(result.area_m2 / 1e4, abs=1e-4)
    assert d["site_area_mu"] == pytest.approx(result.area_m2 / (10000 / 15), abs=0.01)


def test_geodataframe_and_geometry_inputs_agree(checker):
    gdf = gpd.GeoDataFrame({"NAME": ["甲"]}, geometry=[BOX], crs="EPSG:4490")
    a = checker.check(gdf).to_dict()
    b = checker.check(BOX).to_dict()
    assert a["by_dlbm"] == b["by_dlbm"] and a["site_area_m2"] == b["site_area_m2"]
    assert a["name"] == "甲"


def test_check_site_loads_a_checker_itself(workspace, tmp_path):
    path = tmp_path / "s.geojson"
    gpd.GeoDataFrame({"name": ["s"]}, geometry=[BOX], crs=4490).to_file(path)
    result = check_site(workspace, path, use="工业")
    assert result.file_name == "s.geojson" and result.sources["DLTB"] == "2024"


def test_extent_from_dltb_when_the_workspace_has_no_xzq(tmp_path):
    spec = {k: v for k, v in load_cases()["workspace"].items() if k != "XZQ"}
    store = build_workspace(tmp_path / "ws.gpkg", spec)
    checker = SiteChecker(store)
    assert checker.extent_basis == "DLTB"
    half = shapely.box(106.508, 38.0, 106.512, 38.004)
    result = checker.check(half)
    expected = area(shapely.difference(half, shapely.box(106.49, 37.99, 106.51, 38.01)))
    assert result.extent["outside_m2"] == pytest.approx(expected, abs=0.02)


def test_workspace_without_dltb_is_refused(tmp_path):
    store = init_workspace(tmp_path / "empty.gpkg")
    with pytest.raises(WorkspaceError, match="DLTB"):
        SiteChecker(store)


def test_invalid_workspace_polygon_does_not_break_the_check(tmp_path):
    spec = load_cases()["workspace"]
    store = build_workspace(tmp_path / "ws.gpkg", {"DLTB": spec["DLTB"]})
    bow = shapely.Polygon([(106.49, 37.99), (106.51, 38.01), (106.51, 37.99), (106.49, 38.01)])
    store.write_version("STBHHX", "2023", gpd.GeoDataFrame({"BSM": ["BAD"]}, geometry=[bow],
                                                           crs=4490), VersionMeta())
    result = SiteChecker(store).check(BOX)
    assert result.layers["STBHHX"].ids == ["BAD"]


def test_invalid_dltb_patch_is_repaired_when_geos_trips_on_it(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg")
    bow = shapely.Polygon([(106.49, 37.99), (106.51, 38.01), (106.51, 37.99), (106.49, 38.01)])
    dltb = gpd.GeoDataFrame({"BSM": ["1"], "DLBM": ["0101"], "KCXS": [0.0]}, geometry=[bow],
                            crs=4490)
    store.write_version("DLTB", "2024", dltb, VersionMeta())
    site = shapely.box(106.495, 37.991, 106.505, 38.009)
    result = SiteChecker(store).check(site)
    lobes = shapely.make_valid(bow)
    assert result.by_dlbm["0101"] == pytest.approx(area(shapely.intersection(site, lobes)),
                                                   abs=0.02)


def test_tiankan_share_of_a_cut_patch_is_reported_as_1203(tmp_path):
    # official-tables.md §4: the site cuts the eastern half of a 0103 patch with KCXS 0.121;
    # the half measures 488074.937789917 m² (tests/analysis/data/tabulate_half_cut.yaml), so
    # 田坎 = 488074.9378 × 0.121 = 59057.07 and net = 488074.9378 × 0.879 = 429017.87 (m², 2 dp)
    store = init_workspace(tmp_path / "ws.gpkg")
    dltb = gpd.GeoDataFrame({"BSM": ["1"], "DLBM": ["0103"], "KCXS": [0.121], "GDPDJB": ["3"],
                             "ZLDWDM": ["6403021010010000000"]},
                            geometry=[shapely.box(106.2, 37.9, 106.21, 37.91)], crs=4490)
    store.write_version("DLTB", "2024", dltb, VersionMeta())
    result = SiteChecker(store).check(shapely.box(106.205, 37.9, 106.21, 37.91))
    (c,) = result.classes
    assert c.area_m2 == pytest.approx(488074.937789917, abs=1e-4)  # cut vertices: ±1e-6 m²
    assert c.tiankan_m2 == pytest.approx(c.area_m2 * 0.121, rel=1e-12)
    assert c.tbdlmj_m2 + c.tiankan_m2 == pytest.approx(c.area_m2, abs=1e-9)
    d = result.to_dict()
    assert d["tiankan"] == {"dlbm": "1203", "area_m2": 59057.07, "by_dlbm": {"0103": 59057.07}}
    assert d["classes"][0]["tbdlmj_m2"] == 429017.87 and d["classes"][0]["tiankan_m2"] == 59057.07
    assert d["cultivated"]["tiankan_m2"] == 59057.07
