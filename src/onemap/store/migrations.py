"""Versioned schema migrations, the same steps for the GeoPackage file and PostGIS.

A workspace records its schema version in ``onemap_workspace.schema_version``
(written at ``onemap init``). :data:`MIGRATIONS` lists every step after the
first release in order, each with the version it brings the workspace to;
:func:`upgrade` runs, at open, the steps above the recorded version in one
transaction and moves the recorded version forward with them, so a workspace
is either wholly on the old schema or wholly on the new one.

Why not Alembic: a GeoPackage workspace must stay a plain GeoPackage that
QGIS opens, whose layers GDAL creates and drops beside our tables (Alembic's
autogenerate and its ``alembic_version`` table would have to be taught to
ignore them), and the steps so far are column additions that SQLAlchemy Core
states portably for both dialects. The version number lives in the
workspace's own settings table rather than a tool's table, so ``onemap copy``
carries it along.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from onemap.errors import WorkspaceError
from onemap.store.catalog import SCHEMA_VERSION, workspace_table


@dataclass(frozen=True)
class Migration:
    """One schema step.

    Attributes
    ----------
    version : int
        Schema version after the step.
    title : str
        What it changes (Chinese, shown in errors).
    apply : callable
        ``apply(conn)`` inside the upgrade transaction; must be a no-op
        where the change is already there.
    """

    version: int
    title: str
    apply: Callable[[Connection], None]


def _add_column(table: str, column: str, ddl: str) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {ddl}')

    return run


#: Every step after schema version 1 (the first release's catalog), oldest first.
MIGRATIONS: list[Migration] = [
    Migration(2, "目录表 onemap_versions 增加来源链列 inputs",
              _add_column("onemap_versions", "inputs", "TEXT NOT NULL DEFAULT '[]'")),
]

if MIGRATIONS[-1].version != int(SCHEMA_VERSION):  # pragma: no cover - a release-time mistake
    raise RuntimeError("catalog.SCHEMA_VERSION must be the last migration's version")


def recorded_version(conn: Connection) -> int:
    """The schema version a workspace records (1 when it records none)."""
    value = conn.execute(select(workspace_table.c.value)
                         .where(workspace_table.c.key == "schema_version")).scalar()
    try:
        return int(value) if value is not None else 1
    except ValueError as exc:
        raise WorkspaceError(f"工作空间的 schema_version 无法识别：{value}") from exc


def pending(engine: Engine) -> list[Migration]:
    """The steps a workspace still needs."""
    with engine.connect() as conn:
        current = recorded_version(conn)
    return [m for m in MIGRATIONS if m.version > current]


def upgrade(engine: Engine, label: str) -> list[Migration]:
    """Bring a workspace to :data:`~onemap.store.catalog.SCHEMA_VERSION` in one transaction.

    Parameters
    ----------
    engine : Engine
        The workspace engine.
    label : str
        The workspace location, for messages.

    Returns
    -------
    list of Migration
        The steps applied (empty when the workspace was current).

    Raises
    ------
    onemap.errors.WorkspaceError
        The workspace is newer than this release, or cannot be written.
    """
    steps = pending(engine)
    with engine.connect() as conn:
        current = recorded_version(conn)
    if current > int(SCHEMA_VERSION):
        raise WorkspaceError(f"工作空间 {label} 的结构版本为 {current}，高于本程序支持的 "
                             f"{SCHEMA_VERSION}：请升级 OneMap")
    if not steps:
        return []
    try:
        with engine.begin() as conn:
            for step in steps:
                step.apply(conn)
            done = conn.execute(update(workspace_table)
                                .where(workspace_table.c.key == "schema_version")
                                .values(value=str(steps[-1].version)))
            if done.rowcount == 0:
                conn.execute(workspace_table.insert().values(key="schema_version",
                                                             value=str(steps[-1].version)))
    except DBAPIError as exc:
        titles = "；".join(s.title for s in steps)
        raise WorkspaceError(f"工作空间 {label} 由旧版本创建，需要升级结构（{titles}），"
                             f"但无法写入（{exc.orig}）；请以可写方式打开一次") from exc
    return steps
