"""GeoPackage backend: one ``.gpkg`` file that QGIS opens as it is.

Each dataset version is a feature table named ``<DATASET>_<version>`` (e.g.
``DLTB_2024``); the catalog lives in plain attribute tables of the same file
(``onemap_*``), registered in ``gpkg_contents`` so QGIS lists them too.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
from sqlalchemy import create_engine, event, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from onemap.domain.security import security_policy
from onemap.errors import WorkspaceError
from onemap.store import audit, faults, migrations
from onemap.store.audit import VERSION_WRITE
from onemap.store.base import (
    STORAGE_CRS,
    DatasetInfo,
    Store,
    VersionInfo,
    VersionInput,
    VersionMeta,
)
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
from onemap.store.gpkgread import read_layer
from onemap.store.locking import release, try_write_lock, write_lock
from onemap.store.staging import (
    copy_layer,
    orphan_layers,
    remove_files,
    staging_path,
    sweep_files,
    sweep_layers,
)

_GPKG_APPLICATION_ID = 0x47504B47
_GPKG_USER_VERSION = 10400
_DATASET_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")

_GPKG_CORE_DDL = [
    """CREATE TABLE gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
        organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
        definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
        identifier TEXT UNIQUE, description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL,
        geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
        z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
        definition TEXT NOT NULL, scope TEXT NOT NULL,
        CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
]


def _core_srs_rows() -> list[tuple]:
    from pyproj import CRS

    return [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS.from_epsg(4326).to_wkt("WKT1_GDAL"), ""),
        ("China Geodetic Coordinate System 2000", 4490, "EPSG", 4490,
         CRS.from_epsg(4490).to_wkt("WKT1_GDAL"), "CGCS2000"),
    ]


def _resolve_path(location: str | Path) -> Path:
    path = Path(location)
    if path.suffix.lower() != ".gpkg":
        path = path / "workspace.gpkg"
    return path


class GeoPackageStore(Store):
    """A workspace in one GeoPackage file.

    Use :meth:`create` or :meth:`open`, not the constructor.
    """

    def __init__(self, path: Path):
        self.path = path
        self.location = str(path)
        # No pooled connections: each use closes its connection, so that the last one in the
        # process folds the write-ahead log back into the file (a copy of the .gpkg alone is whole).
        self._engine: Engine = create_engine(
            f"sqlite:///{path}", poolclass=NullPool,
            connect_args={"timeout": concurrency().busy_seconds})
        event.listen(self._engine, "connect", _sqlite_on_connect)

    # ------------------------------------------------------------------ life cycle
    @classmethod
    def create(cls, location: str | Path, *, name: str = "", region: str = "") -> GeoPackageStore:
        """Create a new workspace file; refuse if one is already there."""
        path = _resolve_path(location)
        if path.exists():
            raise WorkspaceError(f"工作空间已存在：{path}（不会覆盖已有数据）")
        with cls.building(path, name=name, region=region):
            pass
        return cls(path)

    @classmethod
    @contextmanager
    def building(cls, location: str | Path, *, name: str = "",
                 region: str = "") -> Iterator[GeoPackageStore]:
        """A new workspace that appears at ``location`` only once the ``with`` block completes.

        The block fills the workspace (e.g. the sample's layers) in a private
        building file; at the end the file takes its name in one step (a hard
        link, never replacing an existing file). If the block fails or the
        process dies, nothing appears at ``location``.
        """
        path = _resolve_path(location)
        if path.exists():
            raise WorkspaceError(f"工作空间已存在：{path}（不会覆盖已有数据）")
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_files(path)
        building = staging_path(path, "building")
        try:
            _create_file(building, name=name or path.stem, region=region)
            store = cls(building)
            try:
                yield store
            finally:
                store.close()
            faults.point("built")
            try:
                os.link(building, path)
            except FileExistsError:
                raise WorkspaceError(f"工作空间已存在：{path}（不会覆盖已有数据）") from None
        finally:
            remove_files(building)

    @classmethod
    def open(cls, location: str | Path) -> GeoPackageStore:
        """Open an existing workspace file."""
        path = _resolve_path(location)
        if not path.exists():
            raise WorkspaceError(f"工作空间不存在：{path}（请先运行 onemap init）")
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                names = {
                    r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise WorkspaceError(f"不是有效的 GeoPackage 工作空间：{path}（{exc}）") from exc
        missing = {t.name for t in CATALOG_TABLES} - names
        if missing:
            raise WorkspaceError(
                f"{path} 不是 OneMap 工作空间：缺少目录表 {', '.join(sorted(missing))}"
            )
        _tidy(path)
        store = cls(path)
        migrations.upgrade(store._engine, str(path))
        return store

    def sql_engine(self) -> Engine:
        """SQLAlchemy engine on the GeoPackage file (relational tables live beside the layers)."""
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
            versions = sorted(
                (_version_from_row(v) for v in v_rows if v.dataset == d.name),
                key=lambda v: version_sort_key(v.version),
            )
            out.append(DatasetInfo(name=d.name, title=d.title, kind=d.kind, versions=versions))
        return out

    def version(self, dataset: str, version: str | None = None) -> VersionInfo:
        """Return one version, the latest when ``version`` is None."""
        for d in self.datasets():
            if d.name != dataset:
                continue
            if not d.versions:
                break
            if version is None:
                return d.versions[-1]
            for v in d.versions:
                if v.version == str(version):
                    return v
            known = "、".join(v.version for v in d.versions)
            raise WorkspaceError(f"数据集 {dataset} 没有版本 {version}（已有版本：{known}）")
        known = "、".join(d.name for d in self.datasets()) or "无"
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
        """Read a version as a GeoDataFrame in EPSG:4490."""
        info = self.version(dataset, version)
        gdf = read_layer(self.path, info.layer, columns=columns, bbox=bbox, where=where)
        return gdf.set_crs(STORAGE_CRS, allow_override=True)

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
        """Write a new immutable version: the layer, its catalog row and its audit row, or nothing.

        The inputs of a derived version (``meta.inputs``) must be catalogued
        versions; their ids, checksums and ``synthetic`` flags are taken from the
        catalog, and a version made from any synthetic input is synthetic.
        """
        version = str(version)
        if not _DATASET_RE.match(dataset):
            raise WorkspaceError(f"数据集名称不合规：{dataset}（大写字母开头，仅含大写字母、数字、下划线）")
        if not _VERSION_RE.match(version):
            raise WorkspaceError(f"版本号不合规：{version}（如 2024 或 2024-06-30）")
        catalogued = {(v.dataset, v.version): v for d in self.datasets() for v in d.versions}
        if (dataset, version) in catalogued:
            raise WorkspaceError(f"数据集 {dataset} 已有版本 {version}；版本不可覆盖，请使用新的版本号")
        inputs = _catalogued_inputs(meta.inputs, catalogued)
        synthetic = bool(meta.synthetic) or any(i.synthetic for i in inputs)
        if gdf.crs is None or gdf.crs.to_epsg() != 4490:
            raise WorkspaceError("写入工作空间的数据必须为 CGCS2000 经纬度（EPSG:4490）")
        layer = self._free_layer_name(f"{dataset}_{re.sub(r'[^0-9A-Za-z]', '_', version)}")
        staging = staging_path(self.path, "staging")
        try:
            self._write_layer(gdf, staging, layer)
            faults.point("staged")
            with write_lock(self.path, concurrency().write_lock_seconds,
                            what=f"写入 {dataset} {version}"):
                catalogued = {(v.dataset, v.version): v for d in self.datasets()
                              for v in d.versions}
                if (dataset, version) in catalogued:
                    raise WorkspaceError(
                        f"数据集 {dataset} 已有版本 {version}（刚由另一进程写入）；版本不可覆盖")
                if self._free_layer_name(layer) != layer:
                    raise WorkspaceError(f"图层名 {layer} 刚被另一写入占用，工作空间未改动；请重试")
                inputs = _catalogued_inputs(meta.inputs, catalogued)
                new_id = self._commit_layer(staging, layer, dataset, version, gdf, meta, inputs,
                                            title=title, kind=kind, synthetic=synthetic)
                faults.point("committed")
        finally:
            remove_files(staging)
        return self._version_by_id(new_id)

    def add_asset(self, version_id: int, kind: str, path: str, meta: dict | None = None) -> int:
        """Record a derived asset of a version and return its id."""
        with self._engine.begin() as conn:
            res = conn.execute(
                insert(assets_table).values(
                    version_id=version_id,
                    kind=kind,
                    path=str(path),
                    meta=dumps(meta or {}),
                    created_at=now_iso(),
                )
            )
            return int(res.inserted_primary_key[0])

    def assets(self, version_id: int) -> list[dict[str, Any]]:
        """Return the assets recorded for a version."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(assets_table).where(assets_table.c.version_id == version_id)
            ).all()
        return [{**r._asdict(), "meta": json.loads(r.meta)} for r in rows]

    def fingerprint(self) -> dict[str, Any]:
        """Catalog rows plus the row count of every table in the file."""
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            tables = sorted(
                r[0]
                for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if not r[0].startswith("sqlite_")
            )
            counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
            # GDAL may add empty registry tables on first use; they hold no content.
            counts = {t: c for t, c in counts.items() if c or not t.startswith("gpkg_")}
            catalog = {
                t.name: [list(r) for r in con.execute(f'SELECT * FROM "{t.name}" ORDER BY 1')]
                for t in CATALOG_TABLES
            }
        finally:
            con.close()
        return {"tables": counts, "catalog": catalog}

    def write_layer(self, layer: str, gdf: gpd.GeoDataFrame, *, title: str = "") -> None:
        """Write a bare layer (no catalog or audit row), registered with its title.

        Like a version, the layer is written into a staging file first and enters the
        workspace in one transaction under the write lock, or not at all.
        """
        staging = staging_path(self.path, "staging")
        try:
            self._write_layer(gdf, staging, layer)
            with write_lock(self.path, concurrency().write_lock_seconds, what=f"写入图层 {layer}"):
                with self._staged_transaction(staging) as (_, raw):
                    copy_layer(raw, layer)
                    raw.execute(
                        "UPDATE gpkg_contents SET description = ?, identifier = ? WHERE table_name = ?",
                        (title or layer, title or layer, layer))
        finally:
            remove_files(staging)

    def record_tables(self) -> list[str]:
        """Tables that are neither layers (``gpkg_geometry_columns``) nor GeoPackage/SQLite internals."""
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            layers = {r[0] for r in con.execute("SELECT table_name FROM gpkg_geometry_columns")}
        finally:
            con.close()
        return sorted(n for n in names if n not in layers
                      and not n.startswith(("gpkg_", "rtree_", "sqlite_")))

    def companion(self, suffix: str) -> Path:
        """Beside the file: ``ws.gpkg`` → ``ws<suffix>`` (``ws.tiles/``, ``ws.evidence/`` …)."""
        return self.path.with_suffix(suffix)

    def discard(self) -> None:
        """Delete the workspace file (and its journal files)."""
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    # ------------------------------------------------------------------ helpers
    def _version_by_id(self, version_id: int) -> VersionInfo:
        with self._engine.connect() as conn:
            row = conn.execute(select(versions_table).where(versions_table.c.id == version_id)).one()
        return _version_from_row(row)

    def _free_layer_name(self, base: str) -> str:
        con = sqlite3.connect(self.path)
        try:
            names = {r[0].lower() for r in con.execute("SELECT name FROM sqlite_master")}
        finally:
            con.close()
        name, i = base, 1
        while name.lower() in names:
            i += 1
            name = f"{base}_{i}"
        return name

    @staticmethod
    def _write_layer(gdf: gpd.GeoDataFrame, staging: Path, layer: str) -> None:
        """Write the layer into its own staging file (the workspace is not touched)."""
        frame = gdf
        if frame.geometry.name != "geometry":
            frame = frame.rename_geometry("geometry")
        pyogrio.write_dataframe(
            frame,
            staging,
            layer=layer,
            driver="GPKG",
            promote_to_multi=True,
            use_arrow=True,
            layer_options={"SPATIAL_INDEX": "YES"},
        )

    def _commit_layer(self, staging: Path, layer: str, dataset: str, version: str,
                      gdf: gpd.GeoDataFrame, meta: VersionMeta, inputs: list[VersionInput], *,
                      title: str, kind: str, synthetic: bool) -> int:
        """Copy the staged layer, its catalog row and its audit row in one transaction."""
        with self._staged_transaction(staging) as (conn, raw):
            copy_layer(raw, layer)
            faults.point("copied")
            new_id = self._catalog_rows(conn, layer, dataset, version, gdf, meta, inputs,
                                        title=title, kind=kind, synthetic=synthetic)
            faults.point("catalogued")
        return new_id

    @contextmanager
    def _staged_transaction(self, staging: Path) -> Iterator[tuple[Any, Any]]:
        """One write transaction on the workspace with ``staging`` attached as ``stg``.

        Yields the SQLAlchemy connection and its DB-API connection; the transaction is
        committed when the block ends, rolled back on any error, and the WAL is
        checkpointed after a commit.
        """
        with self._engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            raw.execute("ATTACH DATABASE ? AS stg", (str(staging),))
            try:
                raw.execute("BEGIN IMMEDIATE")
                try:
                    yield conn, raw
                    raw.commit()
                except BaseException:
                    raw.rollback()
                    raise
                finally:
                    conn.rollback()
                _checkpoint(raw)
            finally:
                raw.execute("DETACH DATABASE stg")

    @staticmethod
    def _catalog_rows(conn, layer: str, dataset: str, version: str, gdf: gpd.GeoDataFrame,
                      meta: VersionMeta, inputs: list[VersionInput], *, title: str, kind: str,
                      synthetic: bool) -> int:
        conn.exec_driver_sql(
            "UPDATE gpkg_contents SET description = ?, identifier = ? WHERE table_name = ?",
            (f"{title or dataset} {version}", f"{title or dataset} {version}", layer),
        )
        has_ds = conn.execute(select(func.count()).where(datasets_table.c.name == dataset)).scalar()
        if not has_ds:
            conn.execute(insert(datasets_table).values(
                name=dataset, title=title or dataset, kind=kind, created_at=now_iso()))
        result = conn.execute(
            insert(versions_table).values(
                dataset=dataset,
                version=version,
                layer=layer,
                feature_count=len(gdf),
                created_at=now_iso(),
                created_by=meta.created_by or _current_user(),
                source_file=meta.source_file,
                source_checksum=meta.source_checksum,
                source_crs=meta.source_crs,
                synthetic=synthetic,
                area_totals=dumps(meta.area_totals),
                notes=dumps(meta.notes),
                inputs=dumps([asdict(i) for i in inputs]),
            )
        )
        new_id = int(result.inserted_primary_key[0])
        audit.append(conn, meta.created_by or _current_user(), VERSION_WRITE, "version",
                     f"{dataset}/{version}", None, {
                         "id": new_id, "layer": layer, "feature_count": len(gdf),
                         "source_file": meta.source_file,
                         "source_checksum": meta.source_checksum,
                         "synthetic": synthetic,
                         "inputs": [i.version_id for i in inputs]})
        return new_id


def _checkpoint(raw: sqlite3.Connection) -> None:
    """Fold the write-ahead log into the file now (skipped while readers hold it)."""
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.OperationalError:
        pass


def concurrency():
    """The concurrency parameters in force (``security.yaml`` → ``concurrency``)."""
    return security_policy().concurrency


def _create_file(path: Path, *, name: str, region: str) -> None:
    """Write a complete empty workspace (GeoPackage core, catalog tables, settings) at ``path``."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
        con.execute("BEGIN")
        for ddl in _GPKG_CORE_DDL:
            con.execute(ddl)
        con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", _core_srs_rows())
        con.execute("COMMIT")
    finally:
        con.close()
    engine = create_engine(f"sqlite:///{path}")
    try:
        metadata.create_all(engine, tables=CATALOG_TABLES)
        with engine.begin() as conn:
            for table in CATALOG_TABLES:
                conn.exec_driver_sql(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description)"
                    " VALUES (?, 'attributes', ?, ?)",
                    (table.name, table.name, "OneMap 目录"),
                )
            rows = {
                "name": name,
                "region": region,
                "created_at": now_iso(),
                "schema_version": SCHEMA_VERSION,
                "storage_crs": STORAGE_CRS,
            }
            conn.execute(insert(workspace_table), [{"key": k, "value": v} for k, v in rows.items()])
    finally:
        engine.dispose()
    _use_wal(path)


def _use_wal(path: Path) -> None:
    """Switch the file to write-ahead logging (readers never see a write in progress)."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode = WAL")
    finally:
        con.close()


def _tidy(path: Path) -> None:
    """At open: WAL mode, and the debris of interrupted writes removed (when no writer runs)."""
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        return
    fd = try_write_lock(path)
    if fd is None:
        return
    try:
        sweep_files(path)
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            mode = con.execute("PRAGMA journal_mode").fetchone()[0]
            orphans = orphan_layers(con)
        finally:
            con.close()
        if orphans:
            sweep_layers(path)
        if str(mode).lower() != "wal":
            _use_wal(path)
    except sqlite3.DatabaseError as exc:
        raise WorkspaceError(f"工作空间 {path} 无法整理（{exc}）") from exc
    finally:
        release(fd)


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    dbapi_conn.execute("PRAGMA foreign_keys = ON")


def _current_user() -> str:
    try:
        return os.environ.get("ONEMAP_USER") or getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        return "unknown"


def _catalogued_inputs(inputs: list[VersionInput],
                       catalogued: dict[tuple[str, str], VersionInfo]) -> list[VersionInput]:
    """Fill each input from the catalog; refuse an input that is not catalogued."""
    out = []
    for item in inputs:
        info = catalogued.get((item.dataset, str(item.version)))
        if info is None:
            raise WorkspaceError(
                f"派生版本的输入 {item.dataset} {item.version} 不在工作空间目录中，无法记录来源")
        out.append(VersionInput.of(info, item.role))
    return out


def _version_from_row(row) -> VersionInfo:
    meta = VersionMeta(
        source_file=row.source_file,
        source_checksum=row.source_checksum,
        source_crs=row.source_crs,
        created_by=row.created_by,
        synthetic=bool(row.synthetic),
        area_totals=json.loads(row.area_totals or "{}"),
        notes=json.loads(row.notes or "{}"),
        inputs=[VersionInput(**i) for i in json.loads(row.inputs or "[]")],
    )
    return VersionInfo(
        id=row.id,
        dataset=row.dataset,
        version=row.version,
        layer=row.layer,
        feature_count=row.feature_count,
        created_at=row.created_at,
        meta=meta,
    )
