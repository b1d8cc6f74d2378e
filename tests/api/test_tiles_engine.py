"""The NumPy MVT encoder and tile sources, checked with an independent decoder."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from geopandas import GeoDataFrame
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from onemap.tiles import mvt
from onemap.tiles.service import TileService, lonlat_to_tile
from onemap.tiles.source import TileSource, lonlat_to_world


def _decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def _to_world(geom, z, x, y, extent):
    """Tile coordinates of a decoded geometry back to world units."""
    n = 2.0**z
    return shapely.transform(
        shapely.geometry.shape(geom),
        lambda c: np.column_stack([(x + c[:, 0] / extent) / n, (y + c[:, 1] / extent) / n]),
    )


def _world(geom):
    return shapely.transform(geom, lambda c: np.column_stack(lonlat_to_world(c[:, 0], c[:, 1])))


@pytest.mark.parametrize("values", [[0, 1, 127, 128, 300, 2**32, 2**63 + 5]])
def test_varints_match_protobuf(values):
    t = np.array(values, dtype=np.uint64)
    data = mvt.varint_bytes(t)
    out, pos = [], 0
    while pos < len(data):
        v = shift = 0
        while True:
            b = data[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 128:
                break
        out.append(v)
    assert out == values


@pytest.fixture(scope="module")
def patches() -> GeoDataFrame:
    hole = Polygon(
        [(106.200, 37.900), (106.204, 37.900), (106.204, 37.904), (106.200, 37.904)],
        [[(106.201, 37.901), (106.203, 37.901), (106.203, 37.903), (106.201, 37.903)]],
    )
    multi = MultiPolygon([box(106.205, 37.900, 106.206, 37.901), box(106.207, 37.900,
                                                                     106.208, 37.901)])
    big = box(106.0, 37.6, 106.6, 38.2)  # far larger than a z14 tile: must be clipped
    return GeoDataFrame(
        {"DLBM": ["0101", "0201", "0301"], "DLMC": ["水田", "果园", "乔木林地"],
         "TBMJ": [1.0, 2.0, 3.0]},
        geometry=[hole, multi, big], crs=4490,
    )


@pytest.mark.parametrize("z", [14, 16])
def test_individual_features_round_trip(patches, z):
    src = TileSource(patches, "DLTB")
    x, y = lonlat_to_tile(106.2005, 37.9005, z)
    layer = _decode(src.render(z, x, y))["DLTB"]
    extent = layer["extent"]
    assert extent == {14: 2048, 16: 4096}[z]
    by_id = {f["id"]: f for f in layer["features"]}
    assert by_id[1]["properties"] == {"DLBM": "0101", "DLMC": "水田"}  # TBMJ is not a class
    tile = shapely.box(x / 2**z, y / 2**z, (x + 1) / 2**z, (y + 1) / 2**z)
    for fid, feat in by_id.items():
        got = _to_world(feat["geometry"], z, x, y, extent).intersection(tile)
        want = _world(patches.geometry.iloc[fid - 1]).intersection(tile)
        assert got.is_valid
        # quantisation error only: within a few grid cells of area
        assert abs(got.area - want.area) <= 1e-3 * want.area + 2 * tile.area / 4096
    # the big polygon was clipped near the tile: no coordinate far outside
    coords = np.array(shapely.get_coordinates(shapely.geometry.shape(by_id[3]["geometry"])))
    pad = extent / 64
    assert coords.min() >= -pad and coords.max() <= extent + pad
    # a polygon with a hole keeps it (exterior + interior ring)
    if z == 14:  # whole polygon in the tile
        assert by_id[1]["geometry"]["type"] == "Polygon"
        assert len(by_id[1]["geometry"]["coordinates"]) == 2


def test_low_zoom_merges_classes(patches):
    src = TileSource(patches, "DLTB")
    z = 10
    x, y = lonlat_to_tile(106.2005, 37.9005, z)
    layer = _decode(src.render(z, x, y))["DLTB"]
    assert layer["extent"] == 256
    classes = sorted(f["properties"]["DLBM"] for f in layer["features"])
    assert classes == ["0101", "0201", "0301"]
    assert all("id" not in f or not f["id"] for f in layer["features"])


def test_lines_points_and_empty_tiles():
    gdf = GeoDataFrame(
        {"NAME": ["路", "井"]},
        geometry=[LineString([(106.2, 37.9), (106.21, 37.91), (106.22, 37.9)]),
                  Point(106.205, 37.905)],
        crs=4490,
    )
    src = TileSource(gdf, "XZDW")
    z = 14
    x, y = lonlat_to_tile(106.205, 37.905, z)
    layer = _decode(src.render(z, x, y))["XZDW"]
    kinds = {f["properties"]["NAME"]: f["geometry"]["type"] for f in layer["features"]}
    assert kinds == {"路": "LineString", "井": "Point"}
    assert src.render(z, 0, 0) == b""


def test_service_caches_by_version(tmp_path, patches):
    from onemap.store import init_workspace
    from onemap.store.base import VersionMeta

    store = init_workspace(tmp_path / "ws.gpkg")
    info = store.write_version("DLTB", "2024", patches, VersionMeta())
    service = TileService(store, cache_dir=tmp_path / "tiles")
    x, y = lonlat_to_tile(106.2005, 37.9005, 15)
    first = service.tile(info.id, 15, x, y)
    path = service.tile_path(info.id, 15, x, y)
    assert path is not None and path.read_bytes() == first
    assert str(info.id) in path.parent.parent.parent.name
    assert service.tile(info.id, 15, x, y) == first
    assets = store.assets(info.id)
    assert [a["kind"] for a in assets] == ["mvt-cache"]
