from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from onemap.errors import InputError
from onemap.geo.crs import (
    check_china_lonlat,
    detect_crs,
    gk_code,
    gk_zone_crs,
    gk_zone_of,
    to_storage,
)

# 利通区, 吴忠
LON0, LAT0 = 106.2, 37.9


def squares(epsg: int, n: int = 3, size: float = 100.0, *, bsm: bool = True) -> gpd.GeoDataFrame:
    """Squares near Wuzhong in GK ``epsg`` (or lon/lat for 4490/4326)."""
    tr = pyproj.Transformer.from_crs(4490, epsg, always_xy=True)
    x0, y0 = tr.transform(LON0, LAT0)
    if pyproj.CRS.from_epsg(epsg).is_geographic:
        size = 0.001
    i = np.arange(n)
    geoms = shapely.box(x0 + i * 2 * size, y0, x0 + i * 2 * size + size, y0 + size)
    data = {"BSM": [f"BSM{k}" for k in i]} if bsm else {"DLMC": ["水浇地"] * n}
    return gpd.GeoDataFrame(data, geometry=geoms)


def rules(exc: pytest.ExceptionInfo) -> list[str]:
    return [p.rule for p in exc.value.problems]


# --- zones --------------------------------------------------------------------


def test_gk_codes():
    assert gk_code(25, zone_prefix=True) == 4513
    assert gk_code(45, zone_prefix=True) == 4533
    assert gk_code(25, zone_prefix=False) == 4534
    assert gk_code(45, zone_prefix=False) == 4554
    for zone in range(25, 46):
        for prefix in (True, False):
            crs = pyproj.CRS.from_epsg(gk_code(zone, zone_prefix=prefix))
            params = {p.code: p.value for p in crs.coordinate_operation.params}
            assert params["8802"] == 3 * zone
            assert params["8806"] == (zone * 1_000_000 if prefix else 0) + 500000
            assert gk_zone_of(crs) == (zone, prefix)
    with pytest.raises(ValueError):
        gk_code(24, zone_prefix=True)


@pytest.mark.parametrize(
    ("lon", "prefix", "epsg"),
    [
        (106.2, False, 4544),  # Wuzhong city: zone 35, CM 105°E
        (106.2, True, 4523),
        (107.6, False, 4545),  # eastern 盐池: zone 36, CM 108°E
        (107.6, True, 4524),
        (106.5, False, 4545),  # zone border goes east
        (75.0, False, 4534),
        (135.0, True, 4533),
    ],
)
def test_gk_zone_crs(lon, prefix, epsg):
    assert gk_zone_crs(lon, zone_prefix=prefix).to_epsg() == epsg


@pytest.mark.parametrize("lon", [10.0, 140.0, math.nan])
def test_gk_zone_crs_outside(lon):
    with pytest.raises(InputError) as exc:
        gk_zone_crs(lon)
    assert rules(exc) == ["outside_china"]


def test_gk_zone_of_other_crs():
    assert gk_zone_of(pyproj.CRS.from_epsg(4490)) is None
    assert gk_zone_of(pyproj.CRS.from_epsg(32648)) is None  # UTM 48N
    assert gk_zone_of(pyproj.CRS.from_epsg(2383)) is None  # Xian 1980 GK, other ellipsoid


# --- detect_crs ---------------------------------------------------------------


@pytest.mark.parametrize("override", [4523, "4523", "EPSG:4523", " epsg:4523 "])
def test_override_wins(override):
    gdf = squares(4523)
    crs, notes = detect_crs(gdf, pyproj.CRS.from_epsg(4490), override=override)
    assert crs.to_epsg() == 4523
    assert notes


def test_override_invalid():
    with pytest.raises(InputError) as exc:
        detect_crs(squares(4523), None, override="EPSG:99999999", file_name="a.shp")
    assert rules(exc) == ["invalid_crs"]


def test_override_contradicting_prefix():
    with pytest.raises(InputError) as exc:
        detect_crs(squares(4523), None, override=4544, file_name="a.shp")
    assert rules(exc) == ["crs_mismatch"]
    assert "EPSG:4523" in exc.value.message and "a.shp" in exc.value.message


def test_override_geographic_for_metres():
    with pytest.raises(InputError) as exc:
        detect_crs(squares(4523), None, override=4490)
    assert rules(exc) == ["crs_mismatch"]


def test_declared_epsg_is_used():
    crs, notes = detect_crs(squares(4523), pyproj.CRS.from_epsg(4523))
    assert crs.to_epsg() == 4523 and notes == []
    crs, notes = detect_crs(squares(4544), pyproj.CRS.from_epsg(4544))
    assert crs.to_epsg() == 4544 and notes == []


def test_plain_declared_but_prefixed_eastings():
    gdf = squares(4523)
    assert 35_000_000 < gdf.total_bounds[0] < 36_000_000
    crs, notes = detect_crs(gdf, pyproj.CRS.from_epsg(4544), file_name="DLTB.shp")
    assert crs.to_epsg() == 4523
    assert len(notes) == 1 and "EPSG:4544" in notes[0] and "EPSG:4523" in notes[0]


def test_prefix_names_another_zone_than_declared():
    gdf = squares(4524)  # zone 36 eastings
    crs, notes = detect_crs(gdf, pyproj.CRS.from_epsg(4544))  # .prj says CM 105
    assert crs.to_epsg() == 4524
    assert notes
    crs, _ = detect_crs(gdf, pyproj.CRS.from_epsg(4523))
    assert crs.to_epsg() == 4524


def test_prefixed_declared_but_plain_eastings():
    crs, notes = detect_crs(squares(4544), pyproj.CRS.from_epsg(4523))
    assert crs.to_epsg() == 4544 and notes


def test_esri_prj_without_authority_is_matched_by_parameters():
    wkt = (
        'PROJCS["吴忠_自定义",GEOGCS["GCS_CGCS_2000",DATUM["D_CGCS_2000_custom",'
        'SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
        'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],'
        'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
        'PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",1.0],'
        'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
    )
    declared = pyproj.CRS.from_wkt(wkt)
    assert gk_zone_of(declared) == (35, False)
    crs, _notes = detect_crs(squares(4544), declared)
    assert crs.to_epsg() == 4544
    crs, notes = detect_crs(squares(4523), declared)  # and the prefix is still noticed
    assert crs.to_epsg() == 4523 and notes


@pytest.mark.parametrize("zone", [35, 36])
def test_arcgis_zone_names(zone):
    wkt = pyproj.CRS.from_epsg(gk_code(zone, zone_prefix=True)).to_wkt("WKT1_ESRI")
    assert f"CGCS2000_3_Degree_GK_Zone_{zone}" in wkt
    crs, _ = detect_crs(squares(gk_code(zone, zone_prefix=True)), pyproj.CRS.from_wkt(wkt))
    assert crs.to_epsg() == gk_code(zone, zone_prefix=True)


def test_geographic_declared_but_metres():
    with pytest.raises(InputError) as exc:
        detect_crs(squares(4523), pyproj.CRS.from_epsg(4490), file_name="DLTB.shp")
    assert rules(exc) == ["crs_mismatch"]
    assert "DLTB.shp" in exc.value.message and "EPSG:4523" in exc.value.message


def test_projected_declared_but_degrees():
    with pytest.raises(InputError) as exc:
        detect_crs(squares(4490), pyproj.CRS.from_epsg(4544), file_name="DLTB.shp")
    assert rules(exc) == ["crs_mismatch"]
    assert "EPSG:4490" in exc.value.message


@pytest.mark.parametrize(
    ("epsg", "hint"),
    [(4523, "EPSG:4523"), (4524, "EPSG:4524"), (4544, "4534"), (4490, "EPSG:4490")],
)
def test_nothing_declared_is_refused_with_a_hint(epsg, hint):
    with pytest.raises(InputError) as exc:
        detect_crs(squares(epsg), None, file_name="DLTB.shp")
    assert rules(exc) == ["unknown_crs"]
    message = exc.value.message
    assert "DLTB.shp" in message and "--crs EPSG:" in message and hint in message


def test_wgs84_geojson_default():
    crs, notes = detect_crs(squares(4326), pyproj.CRS.from_user_input("OGC:CRS84"))
    assert crs.to_epsg() == 4326 and notes == []


def test_other_datum_is_noted():
    gdf = squares(2383)  # Xian 1980 GK CM 105
    crs, notes = detect_crs(gdf, pyproj.CRS.from_epsg(2383))
    assert crs.to_epsg() == 2383
    assert any("Xian 1980" in n for n in notes)


# --- to_storage ---------------------------------------------------------------


@pytest.mark.parametrize("epsg", [4523, 4544, 4524, 4545])
def test_gk_square_transforms_like_pyproj(epsg):
    gdf = squares(epsg, n=1)
    out = to_storage(gdf, pyproj.CRS.from_epsg(epsg))
    assert out.crs.to_epsg() == 4490
    xy = shapely.get_coordinates(gdf.geometry)
    tr = pyproj.Transformer.from_crs(epsg, 4490, always_xy=True)
    lon, lat = tr.transform(xy[:, 0], xy[:, 1])
    got = shapely.get_coordinates(out.geometry)
    np.testing.assert_allclose(got, np.c_[lon, lat], rtol=0, atol=1e-10)
    # x is longitude, whatever the EPSG axis order of 4490
    corner = np.argmin(xy[:, 0] + xy[:, 1])  # lower-left corner, built at (LON0, LAT0)
    assert abs(got[corner, 0] - LON0) < 1e-6 and abs(got[corner, 1] - LAT0) < 1e-6
    # input untouched
    assert shapely.get_coordinates(gdf.geometry)[0, 0] > 100000


def test_to_storage_accepts_codes_and_keeps_lonlat():
    gdf = squares(4490)
    out = to_storage(gdf, 4490)
    np.testing.assert_array_equal(
        shapely.get_coordinates(out.geometry), shapely.get_coordinates(gdf.geometry)
    )
    assert out.crs.to_epsg() == 4490


def test_to_storage_wrong_zone_is_caught():
    gdf = squares(4544)
    gdf["geometry"] = shapely.transform(gdf.geometry.to_numpy(), lambda c: c + [3_000_000, 0])
    with pytest.raises(InputError) as exc:
        to_storage(gdf, 4544, file_name="x.shp")
    assert set(rules(exc)) == {"outside_china"}


# --- check_china_lonlat -------------------------------------------------------


def test_china_ok():
    check_china_lonlat(squares(4490))


def test_outside_china_names_first_bsm():
    gdf = squares(4490)
    gdf.loc[1, "geometry"] = shapely.box(2.35, 48.85, 2.36, 48.86)  # Paris
    with pytest.raises(InputError) as exc:
        check_china_lonlat(gdf, "DLTB.shp")
    assert rules(exc) == ["outside_china"]
    assert exc.value.problems[0].row == "BSM1"
    assert exc.value.problems[0].file == "DLTB.shp"
    assert "DLTB.shp" in exc.value.message and "BSM1" in exc.value.message


def test_outside_china_row_number_without_bsm():
    gdf = squares(4490, bsm=False)
    gdf.loc[2, "geometry"] = shapely.box(-120, 40, -119.9, 40.1)
    with pytest.raises(InputError) as exc:
        check_china_lonlat(gdf, "a.gpkg")
    assert exc.value.problems[0].row == "3"
    assert "第 3 行" in exc.value.message


def test_swapped_axes():
    gdf = squares(4490)
    gdf["geometry"] = shapely.transform(gdf.geometry.to_numpy(), lambda c: c[:, ::-1])
    with pytest.raises(InputError) as exc:
        check_china_lonlat(gdf, "DLTB.shp")
    assert rules(exc) == ["swapped_axes"] * 3
    assert "BSM0" in exc.value.message


def test_non_finite_coordinates_are_outside():
    gdf = squares(4490)
    gdf.loc[0, "geometry"] = shapely.Point(math.inf, math.inf)
    with pytest.raises(InputError) as exc:
        check_china_lonlat(gdf)
    assert rules(exc) == ["outside_china"]


def test_empty_rows_are_skipped():
    gdf = squares(4490)
    gdf.loc[0, "geometry"] = None
    gdf.loc[1, "geometry"] = shapely.Polygon()
    check_china_lonlat(gdf)
