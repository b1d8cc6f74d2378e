"""Fixtures for the readers: small deliveries built in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pyproj
import pytest
from io_helpers import parcels, shp_parts, write_shp, zip_files


@pytest.fixture
def gbk_prefixed_shp(tmp_path: Path) -> Path:
    """GBK shapefile without .cpg; eastings zone-prefixed (35…) but .prj says EPSG:4544."""
    shp = write_shp(parcels(), tmp_path / "DLTB.shp", "GBK", cpg=False)
    shp.with_suffix(".prj").write_text(pyproj.CRS.from_epsg(4544).to_wkt("WKT1_ESRI"))
    return shp


@pytest.fixture
def gbk_cpg_shp(tmp_path: Path) -> Path:
    """GBK shapefile whose .cpg says GBK, EPSG:4523."""
    shp = write_shp(parcels(), tmp_path / "gbk_cpg.shp", "GBK")
    assert shp.with_suffix(".cpg").read_text().strip().upper() == "GBK"
    return shp


@pytest.fixture
def utf8_shp(tmp_path: Path) -> Path:
    """UTF-8 shapefile with .cpg, EPSG:4523."""
    return write_shp(parcels(), tmp_path / "utf8.shp", "UTF-8")


@pytest.fixture
def utf8_nocpg_shp(tmp_path: Path) -> Path:
    """UTF-8 shapefile without .cpg."""
    return write_shp(parcels(), tmp_path / "utf8_nocpg.shp", "UTF-8", cpg=False)


@pytest.fixture
def noprj_shp(tmp_path: Path) -> Path:
    """UTF-8 shapefile with zone-prefixed eastings and no .prj."""
    shp = write_shp(parcels(), tmp_path / "noprj.shp", "UTF-8")
    shp.with_suffix(".prj").unlink()
    return shp


@pytest.fixture
def zipped_shp(tmp_path: Path, gbk_prefixed_shp: Path) -> Path:
    """``delivery.zip`` holding the GBK shapefile at its root."""
    return zip_files(tmp_path / "delivery.zip", shp_parts(gbk_prefixed_shp))


@pytest.fixture
def gdb(tmp_path: Path) -> Path:
    """FileGDB with two polygon layers, DLTB and XZQ, in EPSG:4523."""
    path = tmp_path / "sanDiao.gdb"
    pyogrio.write_dataframe(parcels(), path, layer="DLTB", driver="OpenFileGDB")
    xzq = gpd.GeoDataFrame(
        {"XZQDM": ["640302"], "XZQMC": ["利通区"]},
        geometry=[parcels().union_all().envelope],
        crs="EPSG:4523",
    )
    pyogrio.write_dataframe(xzq, path, layer="XZQ", driver="OpenFileGDB")
    return path


@pytest.fixture
def gpkg(tmp_path: Path) -> Path:
    """GeoPackage with one layer DLTB in EPSG:4523."""
    path = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(parcels(), path, layer="DLTB", driver="GPKG")
    return path


@pytest.fixture
def geojson_lonlat(tmp_path: Path) -> Path:
    """GeoJSON without a ``crs`` member (so WGS84 by spec), lon/lat near Wuzhong."""
    gdf = parcels().to_crs(4326)
    path = tmp_path / "dltb.geojson"
    path.write_text(gdf.to_json(drop_id=True), encoding="utf-8")
    assert '"crs"' not in path.read_text(encoding="utf-8")
    return path
