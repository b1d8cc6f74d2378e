"""Which map tiles a phone needs offline: the XYZ tiles (Web Mercator) covering task extents."""

from __future__ import annotations

import math

#: Metres per degree of latitude, near enough for a download margin (not for any measurement).
_M_PER_DEG = 111_320.0


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a lon/lat at zoom ``z``."""
    n = 2 ** z
    lat = max(min(lat, 85.05112878), -85.05112878)
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def padded(bbox: tuple[float, float, float, float], margin_m: float
           ) -> tuple[float, float, float, float]:
    """A lon/lat box grown by about ``margin_m`` metres on every side."""
    x0, y0, x1, y1 = bbox
    dlat = margin_m / _M_PER_DEG
    dlon = margin_m / (_M_PER_DEG * max(math.cos(math.radians((y0 + y1) / 2)), 0.01))
    return x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat


def tiles_for(bboxes: list[tuple[float, float, float, float]], min_zoom: int, max_zoom: int,
              margin_m: float = 0.0) -> list[tuple[int, int, int]]:
    """Every (z, x, y) covering the boxes (each grown by ``margin_m``), without repeats, sorted."""
    out: set[tuple[int, int, int]] = set()
    for box in bboxes:
        x0, y0, x1, y1 = padded(box, margin_m)
        for z in range(min_zoom, max_zoom + 1):
            ax, ay = tile_xy(x0, y1, z)
            bx, by = tile_xy(x1, y0, z)
            out.update((z, x, y) for x in range(ax, bx + 1) for y in range(ay, by + 1))
    return sorted(out)
