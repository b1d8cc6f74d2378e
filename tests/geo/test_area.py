import numpy as np
import pyproj
import pytest
import shapely
from shapely import MultiPolygon, Point, Polygon, box

from onemap.geo.area import (
    A_CGCS2000,
    F_CGCS2000,
    M2_PER_MU,
    ellipsoidal_area,
    series_coefficients,
    to_hectare,
    to_mu,
)

GEOD = pyproj.Geod(a=A_CGCS2000, f=F_CGCS2000)


def reference_series_area(lonlat):
    """Straight transcription of the series formula, edge by edge (independent check)."""
    import math

    b = A_CGCS2000 * (1 - F_CGCS2000)
    c = series_coefficients()
    total = 0.0
    n = len(lonlat)
    for i in range(n):
        l1, b1 = lonlat[i]
        l2, b2 = lonlat[(i + 1) % n]
        dl = math.radians((l1 + l2) / 2 - 60.0)
        db = math.radians(b2 - b1)
        bm = math.radians((b1 + b2) / 2)
        s = sum(
            (-1) ** k * c[k] * math.sin((2 * k + 1) * db / 2) * math.cos((2 * k + 1) * bm)
            for k in range(5)
        )
        total += 2 * b * b * dl * s
    return abs(total)


def test_coefficients_match_reference_values():
    c = series_coefficients()
    assert c[0] == pytest.approx(1.00336408983419, abs=1e-13)
    assert c[1] == pytest.approx(1.12418938e-3, rel=1e-8)
    assert c[2] == pytest.approx(1.69945947e-6, rel=1e-8)
    assert c[3] == pytest.approx(2.7178578e-9, rel=1e-7)
    assert c[4] == pytest.approx(4.3584e-12, rel=1e-4)


def test_one_degree_cell_reproduces_official_value():
    area = ellipsoidal_area([box(106, 37, 107, 38)])[0]
    assert abs(area - 9_813_951_873.46) <= 0.01


def test_orientation_does_not_matter():
    cw = Polygon([(106, 37), (106, 38), (107, 38), (107, 37)])
    ccw = Polygon([(106, 37), (107, 37), (107, 38), (106, 38)])
    a = ellipsoidal_area([cw, ccw])
    assert a[0] == pytest.approx(a[1], abs=1e-6)


def test_polygon_with_hole_subtracts_hole():
    outer = box(106.0, 37.0, 106.01, 37.01)
    hole = box(106.002, 37.002, 106.004, 37.004)
    with_hole = outer.difference(hole)
    assert len(with_hole.interiors) == 1
    a_outer, a_hole, a_with = ellipsoidal_area([outer, hole, with_hole])
    assert a_with == pytest.approx(a_outer - a_hole, abs=1e-6)
    assert a_with == pytest.approx(
        reference_series_area(list(outer.exterior.coords)[:-1])
        - reference_series_area(list(hole.exterior.coords)[:-1]),
        rel=1e-9,
    )


def test_multipolygon_is_sum_of_parts():
    p1 = box(106.0, 37.0, 106.01, 37.01)
    p2 = box(107.0, 38.0, 107.02, 38.005)
    a = ellipsoidal_area([MultiPolygon([p1, p2]), p1, p2])
    assert a[0] == pytest.approx(a[1] + a[2], abs=1e-6)


def test_agrees_with_reference_transcription_on_irregular_polygon():
    rng = np.random.default_rng(1)
    ang = np.sort(rng.uniform(0, 2 * np.pi, 23))
    r = rng.uniform(0.002, 0.004, 23)
    pts = list(zip(106.3 + r * np.cos(ang), 37.9 + r * np.sin(ang), strict=True))
    poly = Polygon(pts)
    assert poly.is_valid
    assert ellipsoidal_area([poly])[0] == pytest.approx(reference_series_area(pts), rel=1e-9)


def test_agrees_with_pyproj_geodesic_area_on_small_patches():
    rng = np.random.default_rng(7)
    n, k = 300, 29
    ang = np.linspace(0, 2 * np.pi, k, endpoint=False)
    cx, cy = rng.uniform(105.9, 107.7, n), rng.uniform(36.5, 38.2, n)
    r = rng.uniform(0.0003, 0.003, (n, 1)) * rng.uniform(0.7, 1.0, (n, k))
    xy = np.stack([cx[:, None] + r * np.cos(ang), cy[:, None] + r * np.sin(ang)], -1)
    polys = shapely.polygons(np.concatenate([xy, xy[:, :1]], axis=1))
    ours = ellipsoidal_area(polys)
    ref = np.array([abs(GEOD.geometry_area_perimeter(p)[0]) for p in polys])
    assert np.max(np.abs(ours - ref) / ref) < 1e-6


def test_non_polygons_and_missing_have_zero_area():
    a = ellipsoidal_area([None, Point(106, 37), shapely.LineString([(106, 37), (107, 38)]),
                          Polygon()])
    assert a.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_geometry_collection_counts_polygonal_parts():
    p = box(106.0, 37.0, 106.01, 37.01)
    gc = shapely.GeometryCollection([p, Point(0, 0)])
    assert ellipsoidal_area([gc])[0] == pytest.approx(ellipsoidal_area([p])[0])


def test_accepts_geoseries_and_empty_input():
    import geopandas as gpd

    s = gpd.GeoSeries([box(106, 37, 106.1, 37.1)], crs=4490)
    assert ellipsoidal_area(s).shape == (1,)
    assert ellipsoidal_area([]).shape == (0,)


def test_unit_conversions():
    assert M2_PER_MU == pytest.approx(666.6666667)
    assert float(to_mu(10000.0)) == pytest.approx(15.0)
    assert float(to_hectare(10000.0)) == pytest.approx(1.0)
