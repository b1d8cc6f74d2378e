"""Vector tiles: a NumPy MVT encoder, tile sources per layer version, an immutable tile cache."""

from onemap.tiles.mvt import EXTENT
from onemap.tiles.source import TileSource, tile_bounds_lonlat

__all__ = ["EXTENT", "TileSource", "tile_bounds_lonlat"]
