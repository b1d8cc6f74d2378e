"""Helpers building small deliveries for the reader tests.

Parcels lie in 利通区, 吴忠 (around 106.2°E, 37.9°N), in CGCS2000 3° GK zone
35 (central meridian 105°E) with zone-prefixed eastings (EPSG:4523) unless
asked otherwise. (A separate module, not conftest, so that tests can import it
without clashing with other folders' conftest modules.)
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely

LON0, LAT0 = 106.2, 37.9


def parcels(n: int = 6, epsg: int = 4523, size: float = 80.0) -> gpd.GeoDataFrame:
    """``n`` square parcels of ``size`` metres near Wuzhong, in GK ``epsg``."""
    tr = pyproj.Transformer.from_crs(4490, epsg, always_xy=True)
    x0, y0 = tr.transform(LON0, LAT0)
    i = np.arange(n)
    x = x0 + (i % 3) * 100.0
    y = y0 + (i // 3) * 100.0
    dlmc = np.where(i % 2 == 0, "水浇地", "旱地")
    return gpd.GeoDataFrame(
        {
            "BSM": [f"64030200{k:04d}" for k in i],
            "DLBM": np.where(i % 2 == 0, "0102", "0103"),
            "DLMC": dlmc,
            "ZLDWMC": ["利通区金积镇"] * n,
            "TBMJ": np.full(n, size * size),
        },
        geometry=shapely.box(x, y, x + size, y + size),
        crs=f"EPSG:{epsg}",
    )


def write_shp(gdf: gpd.GeoDataFrame, path: Path, encoding: str, *, cpg: bool = True) -> Path:
    """Write a shapefile in ``encoding``; drop the .cpg unless ``cpg``."""
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def zip_files(zip_path: Path, files: list[Path], folder: str = "") -> Path:
    """Zip ``files`` (flat, under ``folder``)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, f"{folder}{f.name}")
    return zip_path


def shp_parts(shp: Path) -> list[Path]:
    """The files of a shapefile that exist, in checksum order."""
    return [
        shp.with_suffix(ext)
        for ext in (".shp", ".dbf", ".shx", ".prj", ".cpg")
        if shp.with_suffix(ext).exists()
    ]
