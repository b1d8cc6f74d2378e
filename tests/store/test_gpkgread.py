"""The workspace is read with Python's SQLite: same frames as GDAL would give, bbox and where filters."""

from __future__ import annotations

import pandas as pd
import pyogrio
import shapely
from geopandas import GeoDataFrame

from onemap.store.gpkgread import layer_bounds, layer_fields, read_layer, wkb_of


def _frame() -> GeoDataFrame:
    return GeoDataFrame(
        {"BSM": ["1", "2", "3"], "DLBM": ["0101", "0301", "0101"],
         "TBMJ": [10.5, 20.25, None], "KCXS": [0, 1, 2], "HAS": [True, False, True],
         "NOTE": [None, None, None],
         "AT": pd.to_datetime(["2024-01-02", "2024-03-04 05:06:07", "2025-12-31"],
                             format="ISO8601")},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3), None], crs=4490)


def test_frame_matches_gdal_column_for_column(tmp_path):
    path = tmp_path / "l.gpkg"
    pyogrio.write_dataframe(_frame(), path, layer="L", driver="GPKG", promote_to_multi=True)
    gdal = pyogrio.read_dataframe(path, layer="L", use_arrow=True)
    ours = read_layer(path, "L")
    pd.testing.assert_frame_equal(pd.DataFrame(ours.drop(columns="geometry")),
                                  pd.DataFrame(gdal.drop(columns=gdal.geometry.name)))
    assert ours.geometry.iloc[0].equals(shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]))
    assert ours.geometry.iloc[2] is None
    assert ours.crs.to_epsg() == 4490
    assert layer_fields(path, "L") == {"BSM": "string", "DLBM": "string", "TBMJ": "number",
                                       "KCXS": "integer", "HAS": "boolean", "NOTE": "string",
                                       "AT": "string"}
    assert layer_bounds(path, "L") == (0.0, 0.0, 3.0, 3.0)


def test_bbox_where_and_columns(tmp_path):
    path = tmp_path / "l.gpkg"
    pyogrio.write_dataframe(_frame(), path, layer="L", driver="GPKG", promote_to_multi=True,
                            layer_options={"SPATIAL_INDEX": "YES"})
    # the box touches only the first patch's envelope corner region: (0.5,0.5)-(1.5,1.5)
    assert read_layer(path, "L", bbox=(0.5, 0.5, 1.5, 1.5))["BSM"].tolist() == ["1"]
    assert read_layer(path, "L", where="DLBM = '0101'")["BSM"].tolist() == ["1", "3"]
    got = read_layer(path, "L", columns=["TBMJ", "BSM", "MISSING"])
    assert list(got.columns) == ["BSM", "TBMJ", "geometry"]


def test_geometry_blob_header_is_skipped():
    wkb = shapely.to_wkb(shapely.Point(1, 2))
    no_envelope = b"GP\x00\x01" + (4490).to_bytes(4, "little") + wkb
    xy_envelope = b"GP\x00\x03" + (4490).to_bytes(4, "little") + bytes(32) + wkb
    assert wkb_of(no_envelope) == wkb
    assert wkb_of(xy_envelope) == wkb
    assert wkb_of(None) is None
