"""Search engine of the map's search box: typed coordinates, and features by name or code.

Pure functions over what the caller gives (text, GeoDataFrames); the use case
(:func:`onemap.services_map.search`) reads the workspace and merges the hits.

Coordinates accepted (one point, two numbers separated by a comma, space or 、):

- longitude and latitude in decimal degrees or 度分秒 (``106°12′30″``, ``106度12分30秒``,
  ``106:12:30``), in either order (the value in 73–136 is the longitude);
- CGCS2000 Gauss-Krüger X (northing) and Y (easting), in either order: an easting of
  8 digits carries its zone number in front (``36512345.6``: zone 36; 3° zones 25–45,
  6° zones 13–23, :func:`onemap.io.coordtext.gk_crs`); a 6-digit easting has no zone
  prefix and is read in the 3° zone of ``default_lon`` (the workspace's centre).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from onemap.geo.crs import gk_zone_crs
from onemap.io.coordtext import gk_crs, normalize_line, parse_angle, width_of_zone

#: China's longitudes and latitudes (a typed pair outside both is not a lon/lat).
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)
#: Gauss-Krüger northings in China (metres) and plain eastings (zone false easting 500 km).
NORTHING_RANGE = (300_000.0, 6_000_000.0)
PLAIN_EASTING_RANGE = (100_000.0, 900_000.0)


@dataclass(frozen=True)
class Located:
    """A typed coordinate read as a point.

    Attributes
    ----------
    lon, lat : float
        The point (EPSG:4490, degrees).
    title : str
        How it was read, in Chinese (shown in the result list).
    crs : str
        The CRS the text was read in (``EPSG:4490`` or a Gauss-Krüger zone).
    """

    lon: float
    lat: float
    title: str
    crs: str


def _two_parts(text: str) -> list[str] | None:
    s = normalize_line(text)
    s = re.sub(r"[，,;；/]+", " ", s)
    parts = s.split()
    return parts if len(parts) == 2 else None


def _in(value: float, rng: tuple[float, float]) -> bool:
    return rng[0] <= value <= rng[1]


def parse_lonlat(text: str) -> Located | None:
    """Read ``lon lat`` (or ``lat lon``) in decimal degrees or 度分秒; None if it is not one.

    Examples
    --------
    >>> p = parse_lonlat("37°57′00″, 106°12′00″")
    >>> round(p.lon, 6), round(p.lat, 6)
    (106.2, 37.95)
    """
    parts = _two_parts(text)
    if parts is None:
        return None
    angles = [parse_angle(p) for p in parts]
    if any(a is None for a in angles):
        return None
    (a, dms_a), (b, dms_b) = angles  # type: ignore[misc]
    if _in(a, LON_RANGE) and _in(b, LAT_RANGE) and not (_in(a, LAT_RANGE) and _in(b, LON_RANGE)
                                                        and a < b):
        lon, lat = a, b
    elif _in(b, LON_RANGE) and _in(a, LAT_RANGE):
        lon, lat = b, a
    else:
        return None
    kind = "度分秒" if (dms_a or dms_b) else "十进制度"
    return Located(lon, lat, f"经度 {lon:.6f}，纬度 {lat:.6f}（{kind}）", "EPSG:4490")


def _number(text: str) -> float | None:
    try:
        value = float(normalize_line(text))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_gauss_kruger(text: str, default_lon: float | None = None) -> Located | None:
    """Read Gauss-Krüger ``X Y`` (or ``Y X``) in metres; None if it is not one.

    Parameters
    ----------
    text : str
        Two numbers: a northing and an easting with or without the zone prefix.
    default_lon : float, optional
        Longitude whose 3° zone is used for an easting without a zone prefix;
        without it such an easting is not read.

    Examples
    --------
    >>> p = parse_gauss_kruger("4201412.108, 35517579.612")
    >>> p.crs, round(p.lon, 6), round(p.lat, 6)
    ('EPSG:4523', 105.2, 37.945)
    """
    parts = _two_parts(text)
    if parts is None:
        return None
    nums = [_number(p) for p in parts]
    if any(n is None for n in nums):
        return None
    for north, east in (nums, nums[::-1]):
        if not _in(north, NORTHING_RANGE):  # type: ignore[arg-type]
            continue
        if east >= 10_000_000:  # type: ignore[operator]
            zone = int(east // 1_000_000)  # type: ignore[operator]
            width = width_of_zone(zone)
            if width is None or not _in(east % 1_000_000, PLAIN_EASTING_RANGE):  # type: ignore[operator]
                continue
            crs = gk_crs(zone, width, prefixed=True)
            label = f"{width} 度带第 {zone} 带"
        elif _in(east, PLAIN_EASTING_RANGE) and default_lon is not None:  # type: ignore[arg-type]
            crs = f"EPSG:{gk_zone_crs(default_lon).to_epsg()}"
            zone = math.floor(default_lon / 3.0 + 0.5)
            label = f"3 度带第 {zone} 带（无带号，按工作空间所在带）"
        else:
            continue
        tr = pyproj.Transformer.from_crs(crs, "EPSG:4490", always_xy=True)
        lon, lat = tr.transform(east, north)
        if not (_in(lon, LON_RANGE) and _in(lat, LAT_RANGE)):
            continue
        return Located(lon, lat, f"X {north:.3f}，Y {east:.3f}（{label}）→ 经度 {lon:.6f}，"
                                 f"纬度 {lat:.6f}", crs)
    return None


def find_features(gdf: gpd.GeoDataFrame, fields: list[str], text: str, *,
                  exact: bool = False, limit: int = 20) -> np.ndarray:
    """Row positions of the features whose ``fields`` match ``text``.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer version.
    fields : list of str
        Fields searched (those missing from ``gdf`` are skipped).
    text : str
        The text typed (case-insensitive; blanks around it ignored).
    exact : bool
        Whole-value match (codes such as BSM); else substring (names).
    limit : int
        At most this many rows, exact matches first, then in row order.

    Returns
    -------
    numpy.ndarray
        Row positions (0-based; the feature id is position + 1).
    """
    needle = normalize_line(text).casefold()
    if not needle:
        return np.zeros(0, dtype=np.int64)
    whole = np.zeros(len(gdf), dtype=bool)
    part = np.zeros(len(gdf), dtype=bool)
    for name in fields:
        if name not in gdf.columns:
            continue
        values = gdf[name].astype("string").str.strip().str.casefold()
        whole |= (values == needle).fillna(False).to_numpy(dtype=bool)
        if not exact:
            part |= values.str.contains(needle, regex=False).fillna(False).to_numpy(dtype=bool)
    rows = np.concatenate([np.flatnonzero(whole), np.flatnonzero(part & ~whole)])
    return rows[:limit].astype(np.int64)


def bbox_of(gdf: gpd.GeoDataFrame, rows: np.ndarray) -> list[list[float]]:
    """``[minx, miny, maxx, maxy]`` (rounded to 7 decimals) of each row's geometry."""
    b = gdf.geometry.iloc[rows].bounds if len(rows) else pd.DataFrame()
    return [[round(float(v), 7) for v in r] for r in b.to_numpy()]
