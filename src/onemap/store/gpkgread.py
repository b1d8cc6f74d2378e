"""Reading a version layer of a GeoPackage workspace through Python's SQLite, not GDAL.

GDAL carries its own copy of SQLite. Two copies of SQLite working on one file
in one process break each other's POSIX locks (closing a file in one copy
drops the locks the other holds), which lets another process write while a
read is in progress ("malformed database schema", stale or torn reads) and
makes WAL mode unsafe. So the workspace file is only ever opened by Python's
``sqlite3`` in an OneMap process; GDAL writes new layers into separate staging
files (:mod:`onemap.store.staging`) and reads source files, never the workspace.

The GeoPackage geometry blob is a small header (``GP``, version, flags, SRS id,
an optional envelope whose size the flags give) followed by standard WKB,
which Shapely decodes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Envelope size in bytes by the envelope-indicator bits of the flags byte (GeoPackage 1.4, §2.1.3).
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_INT_TYPES = ("INTEGER", "INT", "MEDIUMINT", "SMALLINT", "TINYINT")
_REAL_TYPES = ("REAL", "FLOAT", "DOUBLE")


def wkb_of(blob: bytes | None) -> bytes | None:
    """The WKB inside a GeoPackage geometry blob (None for a NULL geometry)."""
    if blob is None:
        return None
    if blob[:2] != b"GP":
        raise ValueError("不是 GeoPackage 几何（缺少 GP 标记）")
    flags = blob[3]
    return blob[8 + _ENVELOPE_BYTES.get((flags >> 1) & 0x07, 0):]


def _geometry_column(con: sqlite3.Connection, layer: str) -> str:
    row = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                      (layer,)).fetchone()
    return row[0] if row else ""


def read_layer(
    path: Path,
    layer: str,
    *,
    columns: list[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    where: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a feature table of a GeoPackage as a GeoDataFrame (EPSG:4490), rows in fid order.

    Parameters
    ----------
    path : Path
        The workspace file.
    layer : str
        Its feature table.
    columns : list of str, optional
        Attribute columns to read (table order; unknown names are ignored).
    bbox : tuple, optional
        (minx, miny, maxx, maxy): only features whose geometry intersects the box.
    where : str, optional
        SQL filter on attributes, e.g. ``"DLBM = '0101'"``.
    """
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        info = con.execute(f'PRAGMA table_info("{layer}")').fetchall()
        geom = _geometry_column(con, layer)
        pk = next((r[1] for r in info if r[5]), None)
        fields = [(r[1], (r[2] or "").upper()) for r in info if r[1] not in (pk, geom)]
        if columns is not None:
            wanted = set(columns)
            fields = [f for f in fields if f[0] in wanted]
        names = [f'"{n}"' for n, _ in fields] + ([f'"{geom}"'] if geom else [])
        sql = f'SELECT {", ".join(names) or "1"} FROM "{layer}"'
        clauses, params = [], []
        if bbox is not None and geom:
            clauses.append(f'"{pk}" IN (SELECT id FROM "rtree_{layer}_{geom}" '
                           "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)")
            params += [bbox[0], bbox[2], bbox[1], bbox[3]]
        if where:
            clauses.append(f"({where})")
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if pk:
            sql += f' ORDER BY "{pk}"'
        rows = con.execute(sql, params).fetchall()
    finally:
        con.close()
    data = {}
    for i, (name, decl) in enumerate(fields):
        data[name] = _column([r[i] for r in rows], decl)
    if geom:
        blobs = [r[-1] for r in rows]
        geoms = shapely.from_wkb(np.array([wkb_of(b) for b in blobs], dtype=object))
    else:
        geoms = np.array([None] * len(rows), dtype=object)
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs="EPSG:4490"),
                           crs="EPSG:4490")
    if bbox is not None and len(gdf):
        gdf = gdf[gdf.geometry.intersects(shapely.box(*bbox))].reset_index(drop=True)
    return gdf


def _column(values: list, decl: str) -> pd.Series | np.ndarray:
    """One attribute column with the dtype its declared type gives (as GDAL would)."""
    has_null = any(v is None for v in values)
    if decl.startswith("BOOLEAN"):
        if not has_null:
            return np.array([bool(v) for v in values], dtype=bool)
        return pd.array([None if v is None else bool(v) for v in values], dtype="boolean")
    if decl.startswith(_INT_TYPES):
        if not has_null:
            return np.array(values, dtype=np.int64)
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if decl.startswith(_REAL_TYPES):
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if decl.startswith("DATETIME"):
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601")
                         ).astype("datetime64[ms]").to_numpy()
    if decl.startswith("BLOB"):
        return np.array(values, dtype=object)
    return pd.Series(values, dtype="str").array


def layer_bounds(path: Path, layer: str) -> tuple[float, float, float, float] | None:
    """The extent GDAL recorded in ``gpkg_contents`` for ``layer`` (None when unknown)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents "
                          "WHERE table_name = ?", (layer,)).fetchone()
    finally:
        con.close()
    if row is None or any(v is None for v in row):
        return None
    return tuple(float(v) for v in row)


def layer_fields(path: Path, layer: str) -> dict[str, str]:
    """Attribute names of ``layer`` and their JSON types (integer, number, boolean, string)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        info = con.execute(f'PRAGMA table_info("{layer}")').fetchall()
        geom = _geometry_column(con, layer)
    finally:
        con.close()
    out = {}
    for r in info:
        decl = (r[2] or "").upper()
        if r[5] or r[1] == geom:
            continue
        out[r[1]] = ("boolean" if decl.startswith("BOOLEAN") else
                     "integer" if decl.startswith(_INT_TYPES) else
                     "number" if decl.startswith(_REAL_TYPES) else "string")
    return out
