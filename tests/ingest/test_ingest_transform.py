"""Ingest through the bureau's transformation: vertices, official areas, provenance, refusals."""

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely

from builders import dltb_frame, file_digest, four_param, write_common_points
from onemap.errors import InputError, WorkspaceError
from onemap.geo.area import ellipsoidal_area
from onemap.geo.transform import Transformation
from onemap.ingest import ingest
from onemap.services import add_transformation, fit_transformation, set_default_transformation
from onemap.store import audit, transforms

P = {"dx_m": -35.2, "dy_m": 12.7, "rotation_arcsec": 3.5, "scale_ppm": -4.2}
NAME = "西安80转2000"


def xian80_shapefile(tmp_path, *, lon0=106.20, n=6, name="DLTB_X80.shp", epsg=2380):
    """A DLTB delivery whose numbers are plane coordinates declared in ``epsg``."""
    plane = dltb_frame(n, lon0=lon0).to_crs(4544)
    src = plane.set_crs(epsg, allow_override=True)
    path = tmp_path / name
    pyogrio.write_dataframe(src, path, driver="ESRI Shapefile", encoding="GBK")
    return path, src


def common_points(tmp_path, n0=4_201_000.0, e0=605_000.0):
    offs = np.array([-6000.0, 0.0, 6000.0])
    nn, ee = np.meshgrid(n0 + offs, e0 + offs, indexing="ij")
    return write_common_points(tmp_path / "公共点.csv", nn.ravel(), ee.ravel(), P)


def expected_lonlat(src):
    """Each source vertex through the written-out formula, then CGCS2000 GK → lon/lat by pyproj."""
    to_geo = pyproj.Transformer.from_crs(4544, 4490, always_xy=True)

    def move(c):
        n2, e2 = four_param(c[:, 1], c[:, 0], P)
        lon, lat = to_geo.transform(e2, n2)
        return np.column_stack([lon, lat])

    return shapely.transform(src.geometry.to_numpy(), move)


def unchanged(store, fn):
    before, digest = store.fingerprint(), file_digest(store.path)
    with pytest.raises((InputError, WorkspaceError)) as info:
        fn()
    assert store.fingerprint() == before and file_digest(store.path) == digest
    return info.value


def test_ingest_through_a_fitted_transformation_puts_vertices_and_areas_right(workspace, tmp_path):
    fitted = fit_transformation(workspace, common_points(tmp_path), model=4, from_crs="EPSG:2380",
                                to_crs="EPSG:4544", name=NAME, actor="测绘科")
    assert fitted.transformation.version == 1 and fitted.rms_m < 1e-6
    path, src = xian80_shapefile(tmp_path)
    result = ingest(workspace, str(path), dataset="DLTB", version="2024", transform=NAME)
    got = workspace.read("DLTB", "2024").sort_values("BSM").reset_index(drop=True)
    want = expected_lonlat(src.sort_values("BSM").reset_index(drop=True))
    # every vertex within a millimetre, measured in the CGCS2000 plane
    to_plane = pyproj.Transformer.from_crs(4490, 4544, always_xy=True)
    for g, w in zip(got.geometry, want, strict=True):
        gx, gy = to_plane.transform(*shapely.get_coordinates(shapely.normalize(g)).T)
        wx, wy = to_plane.transform(*shapely.get_coordinates(shapely.normalize(w)).T)
        assert np.max(np.hypot(gx - wx, gy - wy)) < 1e-3
    # official areas follow the transformed vertices
    np.testing.assert_allclose(got["TBMJ"], np.round(ellipsoidal_area(want), 2), rtol=0, atol=0.005)
    # provenance
    meta = workspace.version("DLTB", "2024").meta
    assert meta.source_crs == "EPSG:2380"
    prov = meta.notes["transformation"]
    assert prov["name"] == NAME and prov["version"] == 1 and prov["kind"] == "four"
    assert prov["target_crs"] == "EPSG:4544" and prov["rms_m"] < 1e-6
    assert any(f"“{NAME}@1”" in n for n in result.notes)
    assert not any("未使用转换参数" in n for n in result.notes)
    # the fit is audited
    rows = audit.entries(workspace.sql_engine(), entity="transform")
    assert [r.entity_id for r in rows] == [f"{NAME}@1"] and rows[0].actor == "测绘科"


def test_legacy_datum_without_transformation_is_refused_unless_accepted(workspace, tmp_path):
    path, _ = xian80_shapefile(tmp_path)
    err = unchanged(workspace, lambda: ingest(workspace, str(path), dataset="DLTB", version="2024"))
    assert err.problems[0].rule == "datum_shift"
    assert "DLTB_X80.shp" in err.message and "--transform" in err.message
    assert "--accept-datum-shift" in err.message
    result = ingest(workspace, str(path), dataset="DLTB", version="2024", accept_datum_shift=True)
    assert any("未使用转换参数" in n for n in result.notes)
    assert "transformation" not in workspace.version("DLTB", "2024").meta.notes


def test_workspace_default_per_source_crs_and_versions(workspace, tmp_path):
    pts = common_points(tmp_path)
    fit_transformation(workspace, pts, model=4, from_crs="EPSG:2380", to_crs="EPSG:4544", name=NAME)
    fit_transformation(workspace, pts, model=4, from_crs="EPSG:2380", to_crs="EPSG:4544", name=NAME)
    assert [t.version for t in transforms.list_all(workspace.sql_engine())] == [1, 2]
    assert set_default_transformation(workspace, "2380", NAME) == "EPSG:2380"
    path, _ = xian80_shapefile(tmp_path)
    result = ingest(workspace, str(path), dataset="DLTB", version="2024")
    assert workspace.version("DLTB", "2024").meta.notes["transformation"]["version"] == 2
    assert any("默认坐标转换" in n for n in result.notes)
    # an older version by name@N
    ingest(workspace, str(path), dataset="DLTB", version="2025", transform=f"{NAME}@1")
    assert workspace.version("DLTB", "2025").meta.notes["transformation"]["version"] == 1


def test_wrong_source_crs_unknown_name_and_outside_area_are_refused(workspace, tmp_path):
    fit_transformation(workspace, common_points(tmp_path), model=4, from_crs="EPSG:2380",
                       to_crs="EPSG:4544", name=NAME)
    cgcs, _ = xian80_shapefile(tmp_path, name="DLTB_2000.shp", epsg=4544)
    err = unchanged(workspace, lambda: ingest(workspace, str(cgcs), dataset="DLTB", version="2024",
                                              transform=NAME))
    assert err.problems[0].rule == "transform_mismatch" and "EPSG:4544" in err.message
    err = unchanged(workspace, lambda: ingest(workspace, str(cgcs), dataset="DLTB", version="2024",
                                              transform="没有这个"))
    assert "没有坐标转换“没有这个”" in err.message and NAME in err.message
    far, _ = xian80_shapefile(tmp_path, lon0=106.9, name="FAR.shp")  # ~60 km east of the points
    err = unchanged(workspace, lambda: ingest(workspace, str(far), dataset="DLTB", version="2024",
                                              transform=NAME))
    assert err.problems[0].rule == "transform_area" and "FAR.shp" in err.message


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_local_system_ingests_through_its_four_parameter_tie(workspace, tmp_path):
    # the city's 独立 system: local X/Y around (10 000, 20 000) m
    p = {"dx_m": 4_190_000.0, "dy_m": 498_000.0, "rotation_arcsec": -120.0, "scale_ppm": 15.0}
    offs = np.array([-3000.0, 0.0, 3000.0])
    nn, ee = np.meshgrid(12_000.0 + offs, 20_000.0 + offs, indexing="ij")
    pts = write_common_points(tmp_path / "城建公共点.csv", nn.ravel(), ee.ravel(), p)
    fit_transformation(workspace, pts, model=4, from_crs="独立:城建", to_crs="EPSG:4544", name="城建独立")
    # a delivery in local coordinates, no .prj (a local system has none)
    n2, e2 = four_param(np.array([12_000.0]), np.array([20_000.0]), p)
    lon, lat = pyproj.Transformer.from_crs(4544, 4490, always_xy=True).transform(e2[0], n2[0])
    local = dltb_frame(3, lon0=lon, lat0=lat).to_crs(4544)
    # local coordinates that the tie maps onto this GK frame: invert the written formula
    k, a = 1 + p["scale_ppm"] * 1e-6, p["rotation_arcsec"] * np.pi / 180 / 3600

    def to_local(c):
        dn, de = c[:, 1] - p["dx_m"], c[:, 0] - p["dy_m"]
        north = (dn * np.cos(a) + de * np.sin(a)) / k
        east = (-dn * np.sin(a) + de * np.cos(a)) / k
        return np.column_stack([east, north])

    local_geoms = shapely.transform(local.geometry.to_numpy(), to_local)
    src = gpd.GeoDataFrame(local.drop(columns="geometry"), geometry=list(local_geoms))
    path = tmp_path / "城建.shp"
    pyogrio.write_dataframe(src, path, driver="ESRI Shapefile")
    assert not path.with_suffix(".prj").exists()
    result = ingest(workspace, str(path), dataset="DLTB", version="2024", transform="城建独立")
    got = workspace.read("DLTB", "2024").sort_values("BSM").reset_index(drop=True)
    want = local.to_crs(4490).sort_values("BSM").reset_index(drop=True)
    to_plane = pyproj.Transformer.from_crs(4490, 4544, always_xy=True)
    for g, w in zip(got.geometry, want.geometry, strict=True):
        gx, gy = to_plane.transform(*shapely.get_coordinates(shapely.normalize(g)).T)
        wx, wy = to_plane.transform(*shapely.get_coordinates(shapely.normalize(w)).T)
        assert np.max(np.hypot(gx - wx, gy - wy)) < 1e-3
    assert workspace.version("DLTB", "2024").meta.source_crs == "LOCAL:城建"
    assert any("独立坐标系“城建”" in n for n in result.notes)


def test_ingest_through_the_bureaus_seven_parameters(workspace, tmp_path):
    seven = {"tx_m": -12.3, "ty_m": 110.5, "tz_m": 45.2, "rx_arcsec": 1.2, "ry_arcsec": -0.8,
             "rz_arcsec": 2.1, "scale_ppm": 3.3}
    t = add_transformation(workspace, Transformation(
        "七参数", "seven", "2380", "4544", dict(seven), source="宁自然资发〔2019〕1号"), actor="测绘科")
    assert (t.version, t.source_crs, t.target_crs) == (1, "EPSG:2380", "EPSG:4544")
    path, src = xian80_shapefile(tmp_path)
    ingest(workspace, str(path), dataset="DLTB", version="2024", transform="七参数")
    pipe = pyproj.Transformer.from_pipeline(
        "+proj=pipeline +step +inv +proj=tmerc +lon_0=105 +x_0=500000 +a=6378140 +rf=298.257 "
        "+step +proj=cart +a=6378140 +rf=298.257 "
        "+step +proj=helmert +x=-12.3 +y=110.5 +z=45.2 +rx=1.2 +ry=-0.8 +rz=2.1 +s=3.3 "
        "+convention=position_vector +step +inv +proj=cart +ellps=GRS80 "
        "+step +proj=tmerc +lon_0=105 +x_0=500000 +ellps=GRS80")
    to_geo = pyproj.Transformer.from_crs(4544, 4490, always_xy=True)

    def move(c):
        e, n, _ = pipe.transform(c[:, 0], c[:, 1], np.zeros(len(c)))
        return np.column_stack(to_geo.transform(e, n))

    got = workspace.read("DLTB", "2024").sort_values("BSM").reset_index(drop=True)
    want = shapely.transform(src.sort_values("BSM").geometry.to_numpy(), move)
    to_plane = pyproj.Transformer.from_crs(4490, 4544, always_xy=True)
    for g, w in zip(got.geometry, want, strict=True):
        gx, gy = to_plane.transform(*shapely.get_coordinates(shapely.normalize(g)).T)
        wx, wy = to_plane.transform(*shapely.get_coordinates(shapely.normalize(w)).T)
        assert np.max(np.hypot(gx - wx, gy - wy)) < 1e-3
    prov = workspace.version("DLTB", "2024").meta.notes["transformation"]
    assert prov["kind"] == "seven" and prov["rms_m"] is None
