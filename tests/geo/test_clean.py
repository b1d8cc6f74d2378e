from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from onemap.errors import InputError
from onemap.geo.clean import repair_geometries, row_labels

# a 100 m parcel near 利通区 in EPSG:4523 (zone-prefixed eastings)
X0, Y0 = 35_605_000.0, 4_197_000.0


def sq(dx: float = 0.0, size: float = 100.0) -> shapely.Polygon:
    return shapely.box(X0 + dx, Y0, X0 + dx + size, Y0 + size)


def frame(geoms, *, bsm: bool = True) -> gpd.GeoDataFrame:
    data = {"BSM": [f"6403020{k:05d}" for k in range(len(geoms))]} if bsm else {}
    data["DLMC"] = ["水浇地"] * len(geoms)
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs="EPSG:4523")


BOWTIE = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])


def rules(exc: pytest.ExceptionInfo) -> list[str]:
    return [p.rule for p in exc.value.problems]


def test_valid_rows_untouched():
    gdf = frame([sq(0), shapely.MultiPolygon([sq(200), sq(400)]), sq(600)])
    out, report = repair_geometries(gdf, file_name="DLTB.shp")
    assert report.items == []
    assert out is not gdf
    for a, b in zip(out.geometry, gdf.geometry, strict=True):
        assert a is b
    assert list(out.geom_type) == ["Polygon", "MultiPolygon", "Polygon"]
    assert out.crs == gdf.crs
    assert list(out.columns) == list(gdf.columns)


def test_bowtie_is_repaired_and_reported():
    gdf = frame([sq(0), BOWTIE, sq(600)])
    out, report = repair_geometries(gdf, file_name="DLTB.shp")
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[0] is gdf.geometry.iloc[0]
    fixed = out.geometry.iloc[1]
    assert fixed.geom_type == "MultiPolygon"
    assert fixed.area == pytest.approx(5000.0)
    items = report.by_rule("repaired_geometry")
    assert len(items) == 1
    assert items[0].row == "640302000001"
    assert items[0].file == "DLTB.shp"
    assert "Self-intersection" in items[0].message
    assert gdf.geometry.iloc[1] is BOWTIE  # input frame unchanged


def test_spike_and_duplicate_points_keep_area():
    spike = shapely.Polygon(
        [(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 50), (X0 + 150, Y0 + 50), (X0 + 100, Y0 + 50),
         (X0 + 100, Y0 + 100), (X0, Y0 + 100)]
    )  # fmt: skip
    assert not spike.is_valid
    out, report = repair_geometries(frame([spike]))
    assert out.geometry.iloc[0].is_valid
    assert out.geometry.iloc[0].area == pytest.approx(10000.0)
    assert out.geometry.iloc[0].geom_type == "Polygon"
    assert len(report.items) == 1


def test_overlapping_parts_lose_area_and_are_refused():
    doubled = shapely.MultiPolygon([sq(0), sq(10)])  # parts overlap: 90% counted twice
    assert not doubled.is_valid
    with pytest.raises(InputError) as exc:
        repair_geometries(frame([sq(500), doubled]), file_name="DLTB.shp")
    assert rules(exc) == ["unrepairable_geometry"]
    assert exc.value.problems[0].row == "640302000001"
    assert "DLTB.shp" in exc.value.message


def test_small_loss_is_accepted():
    almost = shapely.MultiPolygon([sq(0), sq(99.5)])  # 0.25% overlap
    out, report = repair_geometries(frame([almost]))
    assert out.geometry.iloc[0].is_valid
    assert report.items and "面积变化" in report.items[0].message


def test_collapsing_polygon_is_refused():
    hole_is_shell = shapely.Polygon(sq(0).exterior.coords, [sq(0).exterior.coords])
    with pytest.raises(InputError) as exc:
        repair_geometries(frame([hole_is_shell]))
    assert rules(exc) == ["unrepairable_geometry"]
    assert exc.value.problems[0].row == "640302000000"


def test_zero_width_polygon_is_refused():
    flat = shapely.Polygon([(X0, Y0), (X0 + 100, Y0), (X0 + 50, Y0), (X0, Y0)])
    with pytest.raises(InputError) as exc:
        repair_geometries(frame([flat], bsm=False))
    assert rules(exc) == ["unrepairable_geometry"]
    assert exc.value.problems[0].row == "1"


@pytest.mark.parametrize(
    "bad",
    [
        shapely.Point(X0, Y0),
        shapely.LineString([(X0, Y0), (X0 + 1, Y0 + 1)]),
        shapely.MultiPoint([(X0, Y0), (X0 + 1, Y0)]),
        shapely.GeometryCollection([sq(0), shapely.Point(X0, Y0)]),
    ],
)
def test_wrong_geometry_type(bad):
    with pytest.raises(InputError) as exc:
        repair_geometries(frame([sq(0), sq(200), bad]), file_name="DLTB.shp")
    assert rules(exc) == ["wrong_geometry_type"]
    problem = exc.value.problems[0]
    assert problem.row == "640302000002" and problem.file == "DLTB.shp"
    assert "DLTB.shp" in exc.value.message and "640302000002" in exc.value.message


@pytest.mark.parametrize("empty", [None, shapely.Polygon(), shapely.MultiPolygon()])
def test_empty_geometry(empty):
    with pytest.raises(InputError) as exc:
        repair_geometries(frame([sq(0), empty]), file_name="DLTB.shp")
    assert rules(exc) == ["empty_geometry"]
    assert exc.value.problems[0].row == "640302000001"


def test_all_refusals_listed_together():
    gdf = frame([None, shapely.Point(X0, Y0), sq(0), None], bsm=False)
    with pytest.raises(InputError) as exc:
        repair_geometries(gdf)
    assert sorted((p.rule, p.row) for p in exc.value.problems) == [
        ("empty_geometry", "1"),
        ("empty_geometry", "4"),
        ("wrong_geometry_type", "2"),
    ]


def test_z_and_m_are_dropped():
    z = shapely.Polygon([(x, y, 1200.0) for x, y in sq(0).exterior.coords])
    gdf = frame([z, sq(200)])
    out, report = repair_geometries(gdf)
    assert not shapely.has_z(out.geometry.to_numpy()).any()
    assert report.items == []
    assert out.geometry.iloc[0].equals(sq(0))


def test_polygon_collection_becomes_multipolygon():
    coll = shapely.GeometryCollection([sq(0), sq(200)])
    out, report = repair_geometries(frame([coll]))
    assert out.geometry.iloc[0].geom_type == "MultiPolygon"
    assert out.geometry.iloc[0].area == pytest.approx(20000.0)
    assert [p.rule for p in report.items] == ["repaired_geometry"]


def test_other_layer_families():
    line = shapely.LineString([(X0, Y0), (X0 + 1, Y0 + 1)])
    out, _ = repair_geometries(frame([line]), expected="LineString")
    assert out.geometry.iloc[0] is not None
    with pytest.raises(InputError) as exc:
        repair_geometries(frame([sq(0)]), expected="Point")
    assert rules(exc) == ["wrong_geometry_type"]
    with pytest.raises(ValueError):
        repair_geometries(frame([sq(0)]), expected="Raster")


def test_many_rows_only_invalid_ones_touched():
    n = 20000
    x = X0 + np.arange(n) * 200.0
    geoms = shapely.box(x, Y0, x + 100, Y0 + 100)
    geoms[::1000] = [BOWTIE] * len(geoms[::1000])
    gdf = frame(geoms)
    out, report = repair_geometries(gdf)
    assert len(report.items) == n // 1000
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[1] is gdf.geometry.iloc[1]


def test_row_labels():
    gdf = frame([sq(0), sq(200), sq(400)])
    gdf.loc[1, "BSM"] = None
    labels, texts = row_labels(gdf, [0, 1])
    assert labels == ["640302000000", "2"]
    assert texts[1] == "第 2 行" and "640302000000" in texts[0]
    assert row_labels(gdf, [2], id_field=None)[0] == ["3"]
