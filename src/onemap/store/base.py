"""The workspace contract every store backend fulfils.

A workspace holds a catalog of **datasets** (DLTB, XZQ, YJJBNTTB, …), each with
immutable **versions** (a year or a date) and, per version, derived **assets**
(exports, tables, tile sets). Everything outside :mod:`onemap.store` talks to a
workspace only through :class:`Store`; nothing else may depend on SQLite or
PostgreSQL.
"""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
from sqlalchemy import delete, insert, select

from onemap.store.catalog import workspace_table

#: Storage CRS of every layer version.
STORAGE_CRS = "EPSG:4490"


@dataclass
class VersionInput:
    """One input a derived version was made from (its lineage).

    The caller names the input (dataset and version); the store fills the
    rest from its catalog when it writes the derived version, so the record
    always matches what was read.

    Parameters
    ----------
    dataset, version : str
        The input version.
    role : str
        What the input was used for, e.g. ``"before"``, ``"after"``, ``"changeset"``.
    version_id : int
        Catalog id of the input (filled by the store).
    checksum : str
        The input's ``source_checksum`` (filled by the store).
    synthetic : bool
        Whether the input is generated sample data (filled by the store).
    """

    dataset: str
    version: str
    role: str = ""
    version_id: int = 0
    checksum: str = ""
    synthetic: bool = False

    @classmethod
    def of(cls, info: VersionInfo, role: str = "") -> VersionInput:
        """The input record of a catalogued version."""
        return cls(dataset=info.dataset, version=info.version, role=role, version_id=info.id,
                   checksum=info.meta.source_checksum, synthetic=info.meta.synthetic)


@dataclass
class VersionMeta:
    """What the caller tells the store about a new version.

    Parameters
    ----------
    source_file : str
        Name of the file the data came from ("" for generated data).
    source_checksum : str
        SHA-256 of the source file (or of the generated content).
    source_crs : str
        CRS of the source, e.g. ``"EPSG:4523"``.
    created_by : str
        User or process that made the version.
    synthetic : bool
        True for generated sample data.
    area_totals : dict
        Totals computed at ingest, e.g. ``{"TBMJ": …, "TBDLMJ": …}`` in m².
    notes : dict
        Anything else worth keeping (repairs made, provenance).
    inputs : list of VersionInput
        The versions a derived version was made from (empty for ingested data).
        A version made from any synthetic input is synthetic itself.
    """

    source_file: str = ""
    source_checksum: str = ""
    source_crs: str = STORAGE_CRS
    created_by: str = ""
    synthetic: bool = False
    area_totals: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    inputs: list[VersionInput] = field(default_factory=list)


@dataclass
class VersionInfo:
    """One immutable version of a dataset as recorded in the catalog."""

    id: int
    dataset: str
    version: str
    layer: str
    feature_count: int
    created_at: str
    meta: VersionMeta

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        d = asdict(self)
        meta = d.pop("meta")
        d.update(meta)
        return d


@dataclass
class DatasetInfo:
    """A dataset and its versions, oldest first."""

    name: str
    title: str
    kind: str
    versions: list[VersionInfo] = field(default_factory=list)

    @property
    def latest(self) -> VersionInfo | None:
        """The newest version (by version label order), or None."""
        return self.versions[-1] if self.versions else None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "versions": [v.to_dict() for v in self.versions],
        }


def lineage(datasets: list[DatasetInfo], version_id: int) -> list[dict[str, Any]]:
    """Return the chain of inputs behind a version, depth first.

    Parameters
    ----------
    datasets : list of DatasetInfo
        The catalog (:meth:`Store.datasets`).
    version_id : int
        The version whose chain to follow.

    Returns
    -------
    list of dict
        Each input as recorded (dataset, version, role, version_id, checksum,
        synthetic) with its ``depth``: 1 for a direct input, 2 for an input of
        an input, and so on. A version reached twice is followed once.
    """
    by_id = {v.id: v for d in datasets for v in d.versions}
    out: list[dict[str, Any]] = []
    followed: set[int] = set()

    def walk(vid: int, depth: int) -> None:
        for item in by_id[vid].meta.inputs:
            out.append({**asdict(item), "depth": depth})
            if item.version_id in by_id and item.version_id not in followed:
                followed.add(item.version_id)
                walk(item.version_id, depth + 1)

    if version_id in by_id:
        walk(version_id, 1)
    return out


class Store(abc.ABC):
    """Contract of a OneMap workspace."""

    #: Where the workspace lives (a file path or a URL).
    location: str

    @abc.abstractmethod
    def datasets(self) -> list[DatasetInfo]:
        """Return every dataset with its versions."""

    @abc.abstractmethod
    def version(self, dataset: str, version: str | None = None) -> VersionInfo:
        """Return one version (the latest when ``version`` is None).

        Raises
        ------
        onemap.errors.WorkspaceError
            If the dataset or version does not exist.
        """

    @abc.abstractmethod
    def read(
        self,
        dataset: str,
        version: str | None = None,
        *,
        columns: list[str] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        where: str | None = None,
    ) -> gpd.GeoDataFrame:
        """Read a version as a GeoDataFrame in EPSG:4490.

        Parameters
        ----------
        dataset, version : str
            What to read; the latest version when ``version`` is None.
        columns : list of str, optional
            Attribute columns to read (geometry always comes along).
        bbox : tuple, optional
            (minx, miny, maxx, maxy) in EPSG:4490.
        where : str, optional
            SQL-style attribute filter, e.g. ``"DLBM = '0101'"``.
        """

    @abc.abstractmethod
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
        """Write a new immutable version in one transaction.

        Either the layer and its catalog entry both exist afterwards, or
        neither does.

        Raises
        ------
        onemap.errors.WorkspaceError
            If the version already exists (versions are never overwritten).
        """

    @abc.abstractmethod
    def add_asset(self, version_id: int, kind: str, path: str, meta: dict | None = None) -> int:
        """Record a derived asset of a version and return its id."""

    @abc.abstractmethod
    def assets(self, version_id: int) -> list[dict[str, Any]]:
        """Return the assets of a version."""

    @abc.abstractmethod
    def sql_engine(self):
        """SQLAlchemy engine for the relational tables (cases, ledgers, users, audit).

        Modules that keep relational records define their tables with
        SQLAlchemy Core in :mod:`onemap.store` and run them through this
        engine, so the same code serves the GeoPackage file and PostGIS.
        """

    @abc.abstractmethod
    def fingerprint(self) -> dict[str, Any]:
        """Return a summary of the whole content (catalog rows and row counts).

        Two equal fingerprints mean the workspace content did not change; the
        refusal tests rely on it.
        """

    @abc.abstractmethod
    def write_layer(self, layer: str, gdf: gpd.GeoDataFrame, *, title: str = "") -> None:
        """Write a bare layer table: no catalog row, no audit row.

        Only :mod:`onemap.store.copy` uses it: a copied workspace takes its
        catalog and audit rows verbatim from the source, so the versions must
        not be catalogued or audited a second time.
        """

    @abc.abstractmethod
    def record_tables(self) -> list[str]:
        """Names of the tables holding records (catalog, audit, cases, registers, users …).

        Everything in the workspace except the version layers and the
        backend's own tables (GeoPackage registries and R-trees,
        PostGIS's ``spatial_ref_sys``).
        """

    @abc.abstractmethod
    def discard(self) -> None:
        """Remove the whole workspace (a copy that failed half-way); the store is closed after."""

    @abc.abstractmethod
    def companion(self, suffix: str) -> Path:
        """Where a file or folder that belongs to the workspace but not in its database lives.

        Tile caches (``".tiles"``), evidence photos (``".evidence"``) and the
        audit checkpoint file (``".audit-checkpoints.jsonl"``) are kept
        outside the database. Nothing is created by this call.

        Parameters
        ----------
        suffix : str
            What it is, starting with a dot.
        """

    def settings(self) -> dict[str, str]:
        """Workspace-level settings (name, region, 编制单位 …) as key → text."""
        with self.sql_engine().connect() as conn:
            return {r.key: r.value for r in conn.execute(select(workspace_table))}

    def set_settings(self, values: dict[str, str | None]) -> dict[str, str]:
        """Set (or, with None or "", remove) workspace settings in one transaction.

        Parameters
        ----------
        values : dict
            Key → new text; None or an empty string removes the key.

        Returns
        -------
        dict
            All settings after the change.
        """
        with self.sql_engine().begin() as conn:
            for key, value in values.items():
                conn.execute(delete(workspace_table).where(workspace_table.c.key == key))
                if value not in (None, ""):
                    conn.execute(insert(workspace_table), [{"key": key, "value": str(value)}])
        return self.settings()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
