"""PostGIS backend: a workspace in one PostgreSQL database (``postgresql://USER@HOST:PORT/DB``).

The catalog, audit, case, register, user and transformation tables are the
same SQLAlchemy Core tables as in the GeoPackage file. Each dataset version is
a table of its own, named as the GeoPackage layer (``"DLTB_2024"``), with an
integer key ``fid``, the attribute columns in their original names and case,
and a ``geom`` column ``geometry(<type>, 4490)`` with a GiST index; QGIS opens
it as a PostGIS layer.

A version is written in **one transaction**: the table, its rows (one
``COPY`` stream, not row-by-row ``INSERT``), its index, its catalog row and
its audit row commit together or not at all (PostgreSQL's DDL is
transactional), and writers serialise on an advisory lock. Reads fetch the
geometry as binary WKB in one query.

The audit hash chain is computed in Python (:mod:`onemap.store.audit`, the
same code as the GeoPackage side, so a copied log verifies on either backend);
PostgreSQL guards it with plpgsql triggers (no ``UPDATE``/``DELETE``).
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
from sqlalchemy import create_engine, func, insert, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from onemap.errors import WorkspaceError
from onemap.store import audit, migrations
from onemap.store import cases as cases_store
from onemap.store import ledgers as ledgers_store
from onemap.store import transforms as transforms_store
from onemap.store import users as users_store
from onemap.store.audit import VERSION_WRITE
from onemap.store.base import STORAGE_CRS, DatasetInfo, Store, VersionInfo, VersionMeta
from onemap.store.catalog import (
    CATALOG_TABLES,
    SCHEMA_VERSION,
    assets_table,
    datasets_table,
    dumps,
    metadata,
    now_iso,
    version_sort_key,
    versions_table,
    workspace_table,
)
from onemap.store.gpkg import (
    _DATASET_RE,
    _VERSION_RE,
    _catalogued_inputs,
    _current_user,
    _version_from_row,
)

#: URL schemes that name a PostGIS workspace.
URL_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")

#: Environment variable naming the folder of PostGIS workspaces' files (:meth:`PostGISStore.companion`).
FILES_DIR_ENV = "ONEMAP_FILES_DIR"

#: Advisory lock key serialising writers of one workspace database.
_WRITE_LOCK = 0x4F4E454D  # "ONEM"

#: Key column of every version table.
FID = "fid"
#: Geometry column of every version table.
GEOM = "geom"

_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}

def is_url(location: object) -> bool:
    """Whether ``location`` names a PostgreSQL workspace."""
    return str(location).startswith(URL_PREFIXES)


def safe_url(url: str) -> str:
    """The URL without its password (for messages and the catalog)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _driver_url(url: str) -> str:
    for prefix in URL_PREFIXES:
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise WorkspaceError(f"不是 PostgreSQL 工作空间地址：{url}（应为 postgresql://用户@主机:端口/数据库）")


def _engine(url: str) -> Engine:
    parts = urlsplit(url)
    if not parts.path.strip("/"):
        raise WorkspaceError(f"PostgreSQL 地址缺少数据库名：{safe_url(url)}"
                             "（应为 postgresql://用户@主机:端口/数据库）")
    return create_engine(_driver_url(url), pool_pre_ping=True)


def _connect_error(url: str, exc: Exception) -> WorkspaceError:
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else ""
    return WorkspaceError(f"无法连接 PostgreSQL 工作空间 {safe_url(url)}：{detail}"
                          "（请检查地址、端口、用户和数据库是否存在，可用 createdb 先建库）")


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class PostGISStore(Store):
    """A workspace in one PostgreSQL + PostGIS database.

    Use :meth:`create` or :meth:`open`, not the constructor.
    """

    def __init__(self, url: str, engine: Engine):
        self.url = url
        self.location = safe_url(url)
        self._engine = engine
        #: Tables the database held before :meth:`create` (never dropped by :meth:`discard`).
        self._foreign: set[str] | None = None

    # ------------------------------------------------------------------ life cycle
    @classmethod
    def create(cls, location: str, *, name: str = "", region: str = "") -> PostGISStore:
        """Create the schema in an existing, empty database; refuse a database that holds a workspace.

        Everything (the PostGIS extension, the catalog, audit, case, register,
        user and transformation tables, the audit guards, the settings rows)
        is made in one transaction; no local file is written.
        """
        url = str(location)
        engine = _engine(url)
        try:
            with engine.begin() as conn:
                if inspect(conn).has_table(workspace_table.name):
                    raise WorkspaceError(f"工作空间已存在：{safe_url(url)}（不会覆盖已有数据）")
                foreign = set(inspect(conn).get_table_names())
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
                metadata.create_all(conn, tables=CATALOG_TABLES)
                for meta in (cases_store.metadata, ledgers_store.metadata,
                             users_store.metadata, transforms_store.metadata):
                    meta.create_all(conn, checkfirst=True)
                audit.ensure_tables(conn)
                rows = {
                    "name": name or urlsplit(url).path.strip("/"),
                    "region": region,
                    "created_at": now_iso(),
                    "schema_version": SCHEMA_VERSION,
                    "storage_crs": STORAGE_CRS,
                }
                conn.execute(insert(workspace_table),
                             [{"key": k, "value": v} for k, v in rows.items()])
        except OperationalError as exc:
            engine.dispose()
            raise _connect_error(url, exc) from exc
        except BaseException:
            engine.dispose()
            raise
        store = cls(url, engine)
        store._foreign = foreign
        return store

    @classmethod
    @contextmanager
    def building(cls, location: str, *, name: str = "", region: str = "") -> Iterator[PostGISStore]:
        """A new workspace filled by the ``with`` block; dropped again if the block fails.

        The schema is created first (:meth:`create`); an exception in the block
        discards every table the workspace made, so a half-built sample is never
        taken for a workspace. (A killed process leaves the schema behind; the
        next ``create`` refuses it by name and ``onemap init`` says so.)
        """
        store = cls.create(location, name=name, region=region)
        try:
            yield store
        except BaseException:
            store.discard()
            raise
        store.close()

    @classmethod
    def open(cls, location: str) -> PostGISStore:
        """Open the workspace in a database (applying pending schema migrations)."""
        url = str(location)
        engine = _engine(url)
        try:
            with engine.connect() as conn:
                names = set(inspect(conn).get_table_names())
        except OperationalError as exc:
            engine.dispose()
            raise _connect_error(url, exc) from exc
        missing = {t.name for t in CATALOG_TABLES} - names
        if missing:
            engine.dispose()
            raise WorkspaceError(
                f"{safe_url(url)} 不是 OneMap 工作空间：缺少目录表 {', '.join(sorted(missing))}"
                "（新库请先运行 onemap init）")
        migrations.upgrade(engine, safe_url(url))
        return cls(url, engine)

    def sql_engine(self) -> Engine:
        """SQLAlchemy engine on the database (psycopg 3)."""
        return self._engine

    def close(self) -> None:
        """Dispose of pooled connections."""
        self._engine.dispose()

    # ------------------------------------------------------------------ catalog
    def datasets(self) -> list[DatasetInfo]:
        """Return every dataset with its versions, oldest first."""
        with self._engine.connect() as conn:
            ds_rows = conn.execute(select(datasets_table).order_by(datasets_table.c.name)).all()
            v_rows = conn.execute(select(versions_table)).all()
        out = []
        for d in ds_rows:
            versions = sorted((_version_from_row(v) for v in v_rows if v.dataset == d.name),
                              key=lambda v: version_sort_key(v.version))
            out.append(DatasetInfo(name=d.name, title=d.title, kind=d.kind, versions=versions))
        return out

    def version(self, dataset: str, version: str | None = None) -> VersionInfo:
        """Return one version, the latest when ``version`` is None."""
        datasets = self.datasets()
        for d in datasets:
            if d.name != dataset or not d.versions:
                continue
            if version is None:
                return d.versions[-1]
            for v in d.versions:
                if v.version == str(version):
                    return v
            known = "、".join(v.version for v in d.versions)
            raise WorkspaceError(f"数据集 {dataset} 没有版本 {version}（已有版本：{known}）")
        known = "、".join(d.name for d in datasets) or "无"
        raise WorkspaceError(f"工作空间中没有数据集 {dataset}（已有：{known}）")

    # ------------------------------------------------------------------ data
    def read(
        self,
        dataset: str,
        version: str | None = None,
        *,
        columns: list[str] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        where: str | None = None,
    ) -> gpd.GeoDataFrame:
        """Read a version as a GeoDataFrame in EPSG:4490 (rows in write order)."""
        info = self.version(dataset, version)
        with self._engine.connect() as conn:
            types = _column_types(conn, info.layer)
            # As the GeoPackage reader: the layer's order, and a requested column the layer
            # lacks is simply not there (callers test for optional fields such as TBXHDM).
            names = list(types) if columns is None else [c for c in types if c in set(columns)]
            sql = (f"SELECT {''.join(_q(c) + ', ' for c in names)}"
                   f"encode(ST_AsBinary({GEOM}), 'hex') FROM {_q(info.layer)}")
            conds = []
            if bbox is not None:
                # what GDAL's spatial filter returns for a GeoPackage: geometries meeting the box
                x0, y0, x1, y1 = (repr(float(v)) for v in bbox)
                conds.append(f"ST_Intersects({GEOM}, ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, 4490))")
            if where:
                conds.append("(" + _quote_columns(where, list(types)) + ")")
            if conds:
                sql += " WHERE " + " AND ".join(conds)
            sql += f" ORDER BY {FID}"
            buf = io.BytesIO()
            cur = conn.connection.dbapi_connection.cursor()
            try:
                with cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
                    for block in copy:
                        buf.write(block)
            except Exception as exc:  # noqa: BLE001 - psycopg's errors carry the reason
                if type(exc).__module__.startswith("psycopg"):
                    raise WorkspaceError(f"读取 {dataset} {info.version} 失败：{exc}") from exc
                raise
            finally:
                cur.close()
        return _frame(buf, names, {c: types[c] for c in names})

    def write_version(
        self,
        dataset: str,
        version: str,
        gdf: gpd.GeoDataFrame,
        meta: VersionMeta,
        *,
        title: str = "",
        kind: str = "vector",
    ) -> VersionInfo:
        """Write a new immutable version (table, rows, index, catalog row, audit row) in one transaction."""
        version = str(version)
        if not _DATASET_RE.match(dataset):
            raise WorkspaceError(f"数据集名称不合规：{dataset}（大写字母开头，仅含大写字母、数字、下划线）")
        if not _VERSION_RE.match(version):
            raise WorkspaceError(f"版本号不合规：{version}（如 2024 或 2024-06-30）")
        if gdf.crs is None or gdf.crs.to_epsg() != 4490:
            raise WorkspaceError("写入工作空间的数据必须为 CGCS2000 经纬度（EPSG:4490）")
        frame, attrs, geoms = _prepared(gdf)
        actor = meta.created_by or _current_user()
        with self._engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK})")
            catalogued = {(v.dataset, v.version): v for d in self._datasets(conn) for v in d.versions}
            if (dataset, version) in catalogued:
                raise WorkspaceError(f"数据集 {dataset} 已有版本 {version}；版本不可覆盖，请使用新的版本号")
            inputs = _catalogued_inputs(meta.inputs, catalogued)
            synthetic = bool(meta.synthetic) or any(i.synthetic for i in inputs)
            layer = _free_layer_name(conn, f"{dataset}_{re.sub(r'[^0-9A-Za-z]', '_', version)}")
            _create_layer(conn, layer, frame, attrs, geoms, f"{title or dataset} {version}")
            if not conn.execute(select(func.count()).where(datasets_table.c.name == dataset)).scalar():
                conn.execute(insert(datasets_table).values(
                    name=dataset, title=title or dataset, kind=kind, created_at=now_iso()))
            result = conn.execute(insert(versions_table).values(
                dataset=dataset, version=version, layer=layer, feature_count=len(frame),
                created_at=now_iso(), created_by=actor, source_file=meta.source_file,
                source_checksum=meta.source_checksum, source_crs=meta.source_crs,
                synthetic=synthetic, area_totals=dumps(meta.area_totals), notes=dumps(meta.notes),
                inputs=dumps([asdict(i) for i in inputs])))
            new_id = result.inserted_primary_key[0]
            audit.append(conn, actor, VERSION_WRITE, "version", f"{dataset}/{version}", None, {
                "id": new_id, "layer": layer, "feature_count": len(frame),
                "source_file": meta.source_file, "source_checksum": meta.source_checksum,
                "synthetic": synthetic, "inputs": [i.version_id for i in inputs]})
            row = conn.execute(select(versions_table).where(versions_table.c.id == new_id)).one()
        return _version_from_row(row)

    def add_asset(self, version_id: int, kind: str, path: str, meta: dict | None = None) -> int:
        """Record a derived asset of a version and return its id."""
        with self._engine.begin() as conn:
            res = conn.execute(insert(assets_table).values(
                version_id=version_id, kind=kind, path=str(path), meta=dumps(meta or {}),
                created_at=now_iso()))
            return int(res.inserted_primary_key[0])

    def assets(self, version_id: int) -> list[dict[str, Any]]:
        """Return the assets recorded for a version."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(assets_table).where(assets_table.c.version_id == version_id)
                                .order_by(assets_table.c.id)).all()
        return [{**r._asdict(), "meta": json.loads(r.meta)} for r in rows]

    def fingerprint(self) -> dict[str, Any]:
        """Catalog rows plus the row count of every table of the workspace."""
        with self._engine.connect() as conn:
            tables = sorted(t for t in inspect(conn).get_table_names()
                            if t != "spatial_ref_sys")
            counts = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {_q(t)}").scalar()
                      for t in tables}
            catalog = {t.name: [list(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
                       for t in CATALOG_TABLES}
        return {"tables": counts, "catalog": catalog}

    def write_layer(self, layer: str, gdf: gpd.GeoDataFrame, *, title: str = "") -> None:
        """Write a bare layer table (no catalog or audit row) in one transaction."""
        frame, attrs, geoms = _prepared(gdf)
        with self._engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK})")
            if layer.lower() in {t.lower() for t in inspect(conn).get_table_names()}:
                raise WorkspaceError(f"{self.location} 中已有表 {layer}")
            _create_layer(conn, layer, frame, attrs, geoms, title or layer)

    def record_tables(self) -> list[str]:
        """Tables that are not layers (``geometry_columns``) nor PostGIS's ``spatial_ref_sys``."""
        with self._engine.connect() as conn:
            layers = set(conn.exec_driver_sql(
                "SELECT f_table_name FROM geometry_columns WHERE f_table_schema = current_schema()"
            ).scalars())
            return sorted(t for t in inspect(conn).get_table_names()
                          if t != "spatial_ref_sys" and t not in layers)

    def companion(self, suffix: str) -> Path:
        """Under ``$ONEMAP_FILES_DIR`` (default ``~/.local/share/onemap``): ``<host>-<port>-<db><suffix>``.

        The database holds no files; a server keeps the workspace's tile cache,
        evidence photos and audit checkpoints in that folder, one name per
        database, so two servers of the same database should share it.
        """
        parts = urlsplit(self.url)
        base = Path(os.environ.get(FILES_DIR_ENV) or Path.home() / ".local" / "share" / "onemap")
        name = f"{parts.hostname or 'localhost'}-{parts.port or 5432}-{parts.path.strip('/')}"
        return base / (re.sub(r"[^0-9A-Za-z._-]", "_", name) + suffix)

    def discard(self) -> None:
        """Drop every table and function this workspace made (the database and its other tables stay).

        Only a store made by :meth:`create` in this process may be discarded:
        it knows which tables the database held before.
        """
        if self._foreign is None:
            raise WorkspaceError(f"只能撤销本次新建的工作空间：{self.location}")
        with self._engine.begin() as conn:
            for t in inspect(conn).get_table_names():
                if t != "spatial_ref_sys" and t not in self._foreign:
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_q(t)} CASCADE")
            for fn in ("onemap_audit_refuse", "onemap_audit_head_guard"):
                conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {fn}() CASCADE")
        self.close()

    # ------------------------------------------------------------------ helpers
    def _datasets(self, conn: Connection) -> list[DatasetInfo]:
        ds_rows = conn.execute(select(datasets_table).order_by(datasets_table.c.name)).all()
        v_rows = conn.execute(select(versions_table)).all()
        return [DatasetInfo(name=d.name, title=d.title, kind=d.kind,
                            versions=sorted((_version_from_row(v) for v in v_rows
                                             if v.dataset == d.name),
                                            key=lambda v: version_sort_key(v.version)))
                for d in ds_rows]


# ---------------------------------------------------------------------------- layers
def _free_layer_name(conn: Connection, base: str) -> str:
    names = {t.lower() for t in inspect(conn).get_table_names()}
    name, i = base, 1
    while name.lower() in names:
        i += 1
        name = f"{base}_{i}"
    return name


def _prepared(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str], np.ndarray]:
    """The frame with its geometry named ``geometry``, its attribute names, its multi geometries."""
    frame = gdf if gdf.geometry.name == "geometry" else gdf.rename_geometry("geometry")
    attrs = [c for c in frame.columns if c != "geometry"]
    clash = [c for c in attrs if c.lower() in (FID, GEOM)]
    if clash:
        raise WorkspaceError(f"字段名 {'、'.join(clash)} 与 PostGIS 图层的保留列（fid、geom）重名，请改名后入库")
    return frame, attrs, _promote_to_multi(np.asarray(frame.geometry.values, dtype=object))


def _create_layer(conn: Connection, layer: str, frame: gpd.GeoDataFrame, attrs: list[str],
                  geoms: np.ndarray, title: str) -> None:
    """Create the table, COPY the rows in, index the geometry (inside the caller's transaction)."""
    col_types = {c: _pg_type(frame[c]) for c in attrs}
    ddl = ", ".join([f"{FID} bigserial PRIMARY KEY"]
                    + [f"{_q(c)} {t}" for c, t in col_types.items()]
                    + [f"{GEOM} geometry({_geometry_type(geoms)}, 4490)"])
    conn.exec_driver_sql(f"CREATE TABLE {_q(layer)} ({ddl})")
    comment = title.replace("'", "''")
    conn.exec_driver_sql(f"COMMENT ON TABLE {_q(layer)} IS '{comment}'")
    _copy_rows(conn, layer, frame, attrs, col_types, geoms)
    conn.exec_driver_sql(f"CREATE INDEX {_q(layer + '_geom_gist')} ON {_q(layer)} USING gist ({GEOM})")


def _column_types(conn: Connection, layer: str) -> dict[str, str]:
    """Attribute columns of a version table in table order → PostgreSQL type name."""
    rows = conn.exec_driver_sql(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (layer,)).all()
    return {r[0]: r[1] for r in rows if r[0] not in (FID, GEOM)}


def _pg_type(col: pd.Series) -> str:
    """The PostgreSQL type that keeps a column's values (and reads back as the same dtype)."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        size = getattr(dtype, "itemsize", 8)
        return {1: "smallint", 2: "smallint", 4: "integer"}.get(size, "bigint")
    if pd.api.types.is_float_dtype(dtype):
        return "real" if getattr(dtype, "itemsize", 8) == 4 else "double precision"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    return "text"


def _promote_to_multi(geoms: np.ndarray) -> np.ndarray:
    """Points, lines and polygons as one-part multi geometries (what the GeoPackage layers hold)."""
    out = geoms.copy()
    types = shapely.get_type_id(out)
    for single, make in ((0, shapely.multipoints), (1, shapely.multilinestrings),
                         (3, shapely.multipolygons)):
        mask = types == single
        if mask.any():
            out[mask] = make(out[mask], indices=np.arange(int(mask.sum())))
    return out


def _geometry_type(geoms: np.ndarray) -> str:
    present = geoms[~shapely.is_missing(geoms)]
    names = {shapely.get_type_id(g) for g in present}
    kinds = {4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
    base = kinds.get(next(iter(names)), "Geometry") if len(names) == 1 else "Geometry"
    return base + ("Z" if len(present) and bool(shapely.has_z(present).any()) else "")


def _copy_rows(conn: Connection, layer: str, frame: gpd.GeoDataFrame, attrs: list[str],
               col_types: dict[str, str], geoms: np.ndarray) -> None:
    """Stream every row through one ``COPY … FROM STDIN (FORMAT csv)`` (geometry as hex EWKB).

    Arrow writes the CSV: a NULL is an unquoted empty field, an empty text
    ``""``, floats in their shortest exact form.
    """
    hexes = shapely.to_wkb(shapely.set_srid(geoms, 4490), hex=True, include_srid=True)
    arrays = [_arrow_column(frame[c], col_types[c]) for c in attrs]
    arrays.append(pa.array(hexes, type=pa.string(), from_pandas=True))
    table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(arrays))])
    cols_sql = ", ".join([_q(c) for c in attrs] + [GEOM])
    cur = conn.connection.dbapi_connection.cursor()
    try:
        with cur.copy(f"COPY {_q(layer)} ({cols_sql}) FROM STDIN WITH (FORMAT csv)") as copy:
            for lo in range(0, max(len(table), 1), _COPY_BATCH):
                buf = io.BytesIO()
                pacsv.write_csv(table.slice(lo, _COPY_BATCH), buf,
                                write_options=pacsv.WriteOptions(include_header=False))
                copy.write(buf.getvalue())
    finally:
        cur.close()


#: Rows per CSV block sent to COPY.
_COPY_BATCH = 50_000


def _arrow_column(col: pd.Series, pg_type: str) -> pa.Array:
    """One column as an Arrow array for the CSV writer (missing values as nulls)."""
    if pg_type in ("double precision", "real"):
        return pa.array(col.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True)
    if pg_type in ("smallint", "integer", "bigint", "boolean"):
        return pa.array(col, from_pandas=True)
    return pa.array(_column_values(col, pg_type), type=pa.string())


def _column_values(col: pd.Series, pg_type: str) -> list:
    """Text of a column for COPY (None for missing)."""
    if pg_type == "timestamp":
        return [None if pd.isna(v) else pd.Timestamp(v).isoformat(sep=" ") for v in col]
    return [None if _missing(v) else str(v) for v in col.tolist()]


def _missing(v: object) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


#: PostgreSQL column type → Arrow type of the CSV reader (the dtypes the GeoPackage reader gives).
_ARROW_TYPES = {"smallint": pa.int16(), "integer": pa.int32(), "bigint": pa.int64(),
                "real": pa.float32(), "double precision": pa.float64(), "boolean": pa.bool_(),
                "text": pa.string(), "timestamp without time zone": pa.timestamp("us")}


def _frame(buf: io.BytesIO, names: list[str], types: dict[str, str]) -> gpd.GeoDataFrame:
    """A GeoDataFrame of ``COPY … TO STDOUT (FORMAT csv)`` output (attributes, then hex WKB).

    Parsed by Arrow's CSV reader, then converted as pyogrio converts the
    GeoPackage's Arrow stream, so both backends give the same dtypes. In
    PostgreSQL's CSV an unquoted empty field is NULL and ``""`` an empty text.
    """
    wkb = "__onemap_wkb"
    column_types = {n: _ARROW_TYPES.get(types[n], pa.string()) for n in names}
    column_types[wkb] = pa.string()
    if not buf.getbuffer().nbytes:
        table = pa.table({n: pa.array([], type=t) for n, t in column_types.items()})
    else:
        buf.seek(0)
        table = _read_csv(buf, names, wkb, column_types)
    # hex → bytes here: GEOS's own hex reader is an order of magnitude slower
    geometry = shapely.from_wkb(np.array(
        [None if h is None else bytes.fromhex(h) for h in table.column(wkb).to_pylist()],
        dtype=object))
    frame = table.drop_columns([wkb]).to_pandas()
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=STORAGE_CRS),
                            crs=STORAGE_CRS)


def _read_csv(buf: io.BytesIO, names: list[str], wkb: str, column_types: dict) -> pa.Table:
    return pacsv.read_csv(
        buf,
        read_options=pacsv.ReadOptions(column_names=[*names, wkb]),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=column_types, strings_can_be_null=True, quoted_strings_can_be_null=False,
            true_values=["t"], false_values=["f"]))


_STRING_OR_WORD = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[A-Za-z_][A-Za-z0-9_]*")


def _quote_columns(where: str, columns: list[str]) -> str:
    """Quote the column names of an attribute filter (``DLBM = '0101'`` → ``"DLBM" = '0101'``).

    Names match case-insensitively, as in the GeoPackage (SQLite) filter;
    string literals and already quoted names are left alone.
    """
    by_lower = {c.lower(): c for c in columns}

    def sub(m: re.Match) -> str:
        token = m.group(0)
        if token[0] in "'\"":
            return token
        real = by_lower.get(token.lower())
        return _q(real) if real is not None else token

    return _STRING_OR_WORD.sub(sub, where)
