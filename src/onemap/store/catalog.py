"""Catalog tables shared by every backend (SQLAlchemy Core).

``onemap_datasets`` → ``onemap_versions`` → ``onemap_assets``, plus
``onemap_workspace`` for workspace-level settings. The same definitions
serve the GeoPackage file and, PostGIS.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

workspace_table = Table(
    "onemap_workspace",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

datasets_table = Table(
    "onemap_datasets",
    metadata,
    Column("name", Text, primary_key=True),
    Column("title", Text, nullable=False, default=""),
    Column("kind", Text, nullable=False, default="vector"),
    Column("created_at", Text, nullable=False),
)

versions_table = Table(
    "onemap_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", Text, ForeignKey("onemap_datasets.name"), nullable=False),
    Column("version", Text, nullable=False),
    Column("layer", Text, nullable=False),
    Column("feature_count", Integer, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False, default=""),
    Column("source_file", Text, nullable=False, default=""),
    Column("source_checksum", Text, nullable=False, default=""),
    Column("source_crs", Text, nullable=False, default=""),
    Column("synthetic", Boolean, nullable=False, default=False),
    Column("area_totals", Text, nullable=False, default="{}"),
    Column("notes", Text, nullable=False, default="{}"),
    # Lineage of a derived version: JSON list of its inputs (dataset, version, id, checksum).
    Column("inputs", Text, nullable=False, default="[]", server_default="[]"),
    UniqueConstraint("dataset", "version", name="uq_dataset_version"),
)

assets_table = Table(
    "onemap_assets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("onemap_versions.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("meta", Text, nullable=False, default="{}"),
    Column("created_at", Text, nullable=False),
)

#: Catalog schema version written to ``onemap_workspace`` (2: lineage column ``inputs``); the
#: steps from older versions are :data:`onemap.store.migrations.MIGRATIONS`.
SCHEMA_VERSION = "2"

#: Tables of the catalog, in creation order.
CATALOG_TABLES = [workspace_table, datasets_table, versions_table, assets_table]



def now_iso() -> str:
    """Current UTC time as ISO 8601 text, second precision."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def dumps(obj: object) -> str:
    """JSON text with Chinese kept readable and keys sorted."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str)


def version_sort_key(label: str) -> tuple:
    """Order version labels: numbers and dates naturally, text after."""
    digits = "".join(ch for ch in label if ch.isdigit())
    return (0, int(digits), label) if digits else (1, 0, label)
