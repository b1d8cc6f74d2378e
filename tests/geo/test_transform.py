"""Fitting and applying the bureau's transformations (onemap.geo.transform).

Common points are generated from known parameters by formulas written here (4-parameter)
or by a PROJ pipeline string written here (7-parameter), never by the code under test.
"""

import math

import numpy as np
import pyproj
import pytest
import shapely

from onemap.errors import InputError
from onemap.geo.transform import (
    CommonPoint,
    Transformation,
    check_area_of_use,
    crs_key,
    fit,
    transform_geometries,
    transform_xy,
    validate,
)

ARCSEC = math.pi / 180 / 3600
FOUR = {"dx_m": -35.2, "dy_m": 12.7, "rotation_arcsec": 3.5, "scale_ppm": -4.2}
SEVEN = {"tx_m": -12.3, "ty_m": 110.5, "tz_m": 45.2, "rx_arcsec": 1.2, "ry_arcsec": -0.8,
         "rz_arcsec": 2.1, "scale_ppm": 3.3}
# Xian 1980 3° GK CM 105°E (IAG-75 ellipsoid) → CGCS2000 3° GK CM 105°E, written out by hand
SEVEN_PIPELINE = (
    "+proj=pipeline +step +inv +proj=tmerc +lon_0=105 +x_0=500000 +a=6378140 +rf=298.257 "
    "+step +proj=cart +a=6378140 +rf=298.257 "
    "+step +proj=helmert +x=-12.3 +y=110.5 +z=45.2 +rx=1.2 +ry=-0.8 +rz=2.1 +s=3.3 "
    "+convention=position_vector "
    "+step +inv +proj=cart +ellps=GRS80 +step +proj=tmerc +lon_0=105 +x_0=500000 +ellps=GRS80"
)


def four_param(north, east, p=FOUR):
    """X2 = ΔX + k(X cos α − Y sin α), Y2 = ΔY + k(X sin α + Y cos α), X north, Y east."""
    k = 1 + p["scale_ppm"] * 1e-6
    a = p["rotation_arcsec"] * ARCSEC
    n2 = p["dx_m"] + k * (north * math.cos(a) - east * math.sin(a))
    e2 = p["dy_m"] + k * (north * math.sin(a) + east * math.cos(a))
    return n2, e2


def grid(n0=4_202_000.0, e0=518_000.0, d=5_000.0, size=3):
    offs = np.linspace(-d, d, size)
    nn, ee = np.meshgrid(offs, offs, indexing="ij")
    return n0 + nn.ravel(), e0 + ee.ravel()


def points_four(north, east, noise_x=None):
    n2, e2 = four_param(north, east)
    if noise_x is not None:
        n2 = n2 + noise_x
    return [CommonPoint(f"G{i + 1}", north[i], east[i], n2[i], e2[i], row=str(i + 2))
            for i in range(len(north))]


def assert_params(got, want, rel=1e-6):
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=rel), key


def test_four_parameter_fit_recovers_known_parameters_with_zero_residuals():
    north, east = grid(size=4)
    result = fit(points_four(north, east), model=4, source_crs="EPSG:2380", target_crs="EPSG:4544",
                 name="西安80转2000")
    assert_params(result.transformation.parameters, FOUR)
    assert result.rms_m < 1e-6
    assert all(abs(r.dx_m) < 1e-6 and abs(r.dy_m) < 1e-6 for r in result.residuals)
    assert result.outliers == []
    d = result.to_dict()
    assert d["name"] == "西安80转2000" and d["model"] == 4
    assert [r["point"] for r in d["residuals"]] == [f"G{i}" for i in range(1, 17)]
    assert set(d["residuals"][0]) >= {"point", "dx_m", "dy_m"} and "rms_m" in d


def test_four_parameter_transformation_moves_points_as_the_formula():
    north, east = grid(size=3)
    t = fit(points_four(north, east), model=4, source_crs="EPSG:2380", target_crs="EPSG:4544",
            name="t").transformation
    # points not used in the fit, applied through PROJ in GIS order (east, north)
    qn, qe = np.array([4_199_123.456, 4_204_987.001]), np.array([515_432.1, 521_999.9])
    e2, n2 = transform_xy(t, qe, qn)
    wn, we = four_param(qn, qe)
    np.testing.assert_allclose(n2, wn, rtol=0, atol=1e-6)
    np.testing.assert_allclose(e2, we, rtol=0, atol=1e-6)


def test_seven_parameter_fit_recovers_parameters_from_a_proj_pipeline():
    pipe = pyproj.Transformer.from_pipeline(SEVEN_PIPELINE)
    north, east = grid(d=40_000.0, size=4)
    e2, n2, h2 = pipe.transform(east, north, np.zeros_like(east))
    pts = [CommonPoint(f"K{i}", north[i], east[i], n2[i], e2[i], 0.0, h2[i]) for i in range(len(north))]
    result = fit(pts, model=7, source_crs="EPSG:2380", target_crs="EPSG:4544", name="七参数")
    assert_params(result.transformation.parameters, SEVEN)
    assert result.transformation.parameters["convention"] == "position_vector"
    assert result.rms_m < 1e-6
    # applied to other points it agrees with the hand-written pipeline (plane, h = 0)
    qe, qn = np.array([505_000.0, 530_000.0]), np.array([4_190_000.0, 4_230_000.0])
    ge, gn = transform_xy(result.transformation, qe, qn)
    we, wn, _ = pipe.transform(qe, qn, np.zeros(2))
    np.testing.assert_allclose(np.c_[ge, gn], np.c_[we, wn], rtol=0, atol=1e-6)


def test_noisy_fit_reports_rms_sigma0_and_the_outlier():
    # 3 × 3 grid; X noise +8ε at the centre and −ε at the other 8 points sums to zero and
    # is orthogonal to every column of the 4-parameter model (the grid is symmetric), so
    # the parameters stay exact and the residuals are the noise itself.
    eps = 0.01
    north, east = grid(size=3)
    noise = np.full(9, -eps)
    noise[4] = 8 * eps
    result = fit(points_four(north, east, noise), model=4, source_crs="EPSG:2380",
                 target_crs="EPSG:4544", name="noisy")
    assert_params(result.transformation.parameters, FOUR)
    dx = [r.dx_m for r in result.residuals]
    np.testing.assert_allclose(dx, noise, rtol=0, atol=1e-7)
    assert result.rms_m == pytest.approx(math.sqrt(72 * eps**2 / 9), rel=1e-6)  # √8 ε
    assert result.sigma0_m == pytest.approx(math.sqrt(72 * eps**2 / (18 - 4)), rel=1e-6)
    assert result.outliers == ["G5"]  # 8ε > 3σ0 ≈ 6.8ε > ε


@pytest.mark.parametrize("model, n", [(4, 2), (7, 3)])
def test_too_few_points_are_refused_naming_them(model, n):
    north, east = grid(size=3)
    pts = points_four(north, east)[:n]
    with pytest.raises(InputError) as exc:
        fit(pts, model=model, source_crs="EPSG:2380", target_crs="EPSG:4544", name="x",
            file_name="公共点.csv")
    assert exc.value.problems[0].rule == "fit_too_few"
    msg = exc.value.message
    assert "公共点.csv" in msg and "、".join(p.name for p in pts) in msg
    assert ("至少需要 3 个" if model == 4 else "至少需要 4 个") in msg


def test_collinear_points_are_refused_naming_them():
    north = 4_200_000.0 + np.arange(5) * 1000.0
    east = 518_000.0 + np.arange(5) * 500.0  # all on one straight line
    with pytest.raises(InputError) as exc:
        fit(points_four(north, east), model=4, source_crs="EPSG:2380", target_crs="EPSG:4544",
            name="x", file_name="公共点.csv")
    assert exc.value.problems[0].rule == "fit_collinear"
    assert "G1、G2、G3、G4、G5" in exc.value.message and "一条直线" in exc.value.message


def test_duplicate_point_names_are_refused():
    north, east = grid(size=2)
    pts = points_four(north, east)
    pts[3] = CommonPoint("G1", *[getattr(pts[3], k) for k in ("src_x", "src_y", "dst_x", "dst_y")],
                         row="5")
    with pytest.raises(InputError) as exc:
        fit(pts, model=4, source_crs="EPSG:2380", target_crs="EPSG:4544", name="x", file_name="p.csv")
    assert exc.value.problems[0].rule == "fit_duplicate" and "G1" in exc.value.message


def test_local_system_by_four_parameters_and_crs_keys():
    # a city survey: local X/Y around (10 000, 20 000), tied to CGCS2000 GK 105°E
    north, east = 10_000.0 + grid(0, 0)[0], 20_000.0 + grid(0, 0)[1]
    p = {"dx_m": 4_190_000.0, "dy_m": 498_000.0, "rotation_arcsec": -120.0, "scale_ppm": 15.0}
    n2, e2 = four_param(north, east, p)
    pts = [CommonPoint(f"C{i}", north[i], east[i], n2[i], e2[i]) for i in range(9)]
    result = fit(pts, model=4, source_crs=crs_key("独立:城建"), target_crs="EPSG:4544", name="城建独立")
    assert result.transformation.source_crs == "LOCAL:城建"
    assert_params(result.transformation.parameters, p)
    assert crs_key("2380") == "EPSG:2380"
    with pytest.raises(InputError) as exc:
        fit(pts, model=7, source_crs="LOCAL:城建", target_crs="EPSG:4544", name="x")
    assert exc.value.problems[0].rule == "transform_local"


def test_area_of_use_and_validation():
    t = Transformation("t", "four", "EPSG:2380", "EPSG:4544", dict(FOUR), area_of_use=(106.0, 37.8, 106.4, 38.1))
    check_area_of_use(t, (106.1, 37.9, 106.2, 38.0))
    with pytest.raises(InputError) as exc:
        check_area_of_use(t, (106.1, 37.9, 106.5, 38.0), "DLTB.shp")
    assert exc.value.problems[0].rule == "transform_area" and "DLTB.shp" in exc.value.message
    with pytest.raises(InputError) as exc:
        validate(Transformation("g", "grid", "EPSG:4610", "EPSG:4490", {"grid": "/nonexistent/x.gsb"}))
    assert exc.value.problems[0].rule == "transform_grid"
    with pytest.raises(InputError) as exc:
        validate(Transformation("s", "seven", "EPSG:2380", "EPSG:4544", {"tx_m": 1.0}))
    assert exc.value.problems[0].rule == "transform_parameters" and "ty_m" in exc.value.message
    with pytest.raises(InputError) as exc:
        validate(Transformation("p", "pipeline", "EPSG:2380", "EPSG:4544", {"pipeline": "+proj=nonsense"}))
    assert exc.value.problems[0].rule == "transform_invalid"


def test_pipeline_kind_applies_the_proj_string():
    t = Transformation("p", "pipeline", "EPSG:2380", "EPSG:4544", {"pipeline": SEVEN_PIPELINE})
    validate(t)
    e, n = transform_xy(t, np.array([510_000.0]), np.array([4_200_000.0]))
    we, wn, _ = pyproj.Transformer.from_pipeline(SEVEN_PIPELINE).transform(510_000.0, 4_200_000.0, 0.0)
    assert (e[0], n[0]) == pytest.approx((we, wn), abs=1e-9)


def write_ntv2(path, *, south, north, west, east, step, dlat_sec, dlon_east_sec):
    """A one-subgrid NTv2 file with a constant shift (NTv2 longitudes are positive west)."""
    import struct

    def rec(key, fmt, value):
        body = struct.pack("<" + fmt, value) if fmt != "s" else value.ljust(8).encode("ascii")
        return key.ljust(8).encode("ascii") + body.ljust(8, b"\0")

    nlat = round((north - south) / step) + 1
    nlon = round((east - west) / step) + 1
    s = 3600.0
    head = b"".join([
        rec("NUM_OREC", "i", 11), rec("NUM_SREC", "i", 11), rec("NUM_FILE", "i", 1),
        rec("GS_TYPE", "s", "SECONDS"), rec("VERSION", "s", "NTv2.0"), rec("SYSTEM_F", "s", "XIAN80"),
        rec("SYSTEM_T", "s", "CGCS2000"), rec("MAJOR_F", "d", 6378140.0), rec("MINOR_F", "d", 6356755.288),
        rec("MAJOR_T", "d", 6378137.0), rec("MINOR_T", "d", 6356752.314),
        rec("SUB_NAME", "s", "TEST"), rec("PARENT", "s", "NONE"), rec("CREATED", "s", "20261203"),
        rec("UPDATED", "s", "20261203"), rec("S_LAT", "d", south * s), rec("N_LAT", "d", north * s),
        rec("E_LONG", "d", -east * s), rec("W_LONG", "d", -west * s), rec("LAT_INC", "d", step * s),
        rec("LONG_INC", "d", step * s), rec("GS_COUNT", "i", nlat * nlon),
    ])
    node = struct.pack("<4f", dlat_sec, -dlon_east_sec, 0.0, 0.0)
    path.write_bytes(head + node * (nlat * nlon) + rec("END", "s", ""))
    return path


def test_grid_kind_applies_the_bureau_grid_file(tmp_path):
    gsb = write_ntv2(tmp_path / "xian80_cgcs2000.gsb", south=37.0, north=39.0, west=105.0, east=107.0,
                     step=0.5, dlat_sec=1.5, dlon_east_sec=2.0)
    t = Transformation("格网", "grid", "EPSG:4610", "EPSG:4490", {"grid": str(gsb)})
    validate(t)
    lon, lat = transform_xy(t, np.array([106.123, 105.5]), np.array([37.987, 38.75]))
    np.testing.assert_allclose(lon, [106.123 + 2.0 / 3600, 105.5 + 2.0 / 3600], rtol=0, atol=1e-9)
    np.testing.assert_allclose(lat, [37.987 + 1.5 / 3600, 38.75 + 1.5 / 3600], rtol=0, atol=1e-9)
    with pytest.raises(InputError) as exc:
        transform_geometries(t, np.array([shapely.Point(110.0, 30.0)], dtype=object))
    assert exc.value.problems[0].rule == "transform_failed" and "“格网”" in exc.value.message
