"""The workspace's coordinate transformations (SQLAlchemy Core), versioned and audited.

- ``onemap_transforms``: one row per version of a named transformation (never
  updated: saving a name again adds version n + 1), with its kind, source and
  target CRS, parameters (JSON), area of use, provenance text, RMS and residuals
  of the fit.
- ``onemap_transform_defaults``: the default transformation of a source CRS
  (a workspace setting used by ingest when ``--transform`` is not given).

Every save and every change of a default appends to the audit log
(:mod:`onemap.store.audit`) in the same transaction. Reads never create tables,
so looking a name up leaves a workspace byte-for-byte unchanged.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy import delete as sql_delete
from sqlalchemy.engine import Engine

from onemap.errors import WorkspaceError
from onemap.geo.transform import Residual, Transformation
from onemap.store import audit
from onemap.store.catalog import now_iso

__all__ = ["default_for", "defaults", "ensure_tables", "get", "list_all", "offered", "save", "set_default"]

metadata = MetaData()

transforms_table = Table(
    "onemap_transforms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("source_crs", Text, nullable=False),
    Column("target_crs", Text, nullable=False),
    Column("parameters", Text, nullable=False),
    Column("area_of_use", Text, nullable=True),
    Column("source", Text, nullable=False, default=""),
    Column("rms_m", Float, nullable=True),
    Column("residuals", Text, nullable=False, default="[]"),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False, default=""),
    UniqueConstraint("name", "version", name="uq_onemap_transforms_name_version"),
)

defaults_table = Table(
    "onemap_transform_defaults",
    metadata,
    Column("source_crs", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("set_at", Text, nullable=False),
    Column("set_by", Text, nullable=False, default=""),
)

_READY: weakref.WeakSet = weakref.WeakSet()


def ensure_tables(engine: Engine) -> None:
    """Create the transformation tables on first use (``checkfirst``; idempotent)."""
    if engine in _READY:
        return
    metadata.create_all(engine, checkfirst=True)
    _READY.add(engine)


def _exists(engine: Engine) -> bool:
    return engine in _READY or inspect(engine).has_table(transforms_table.name)


def _from_row(r: Any) -> Transformation:
    area = json.loads(r.area_of_use) if r.area_of_use else None
    return Transformation(
        name=r.name, kind=r.kind, source_crs=r.source_crs, target_crs=r.target_crs,
        parameters=json.loads(r.parameters), area_of_use=tuple(area) if area else None,
        source=r.source, rms_m=r.rms_m, version=int(r.version),
        residuals=[Residual(**d) for d in json.loads(r.residuals or "[]")])


def save(engine: Engine, t: Transformation, *, actor: str = "") -> Transformation:
    """Store ``t`` as the next version of its name; the audit row commits with it.

    Parameters
    ----------
    engine : Engine
        The workspace engine.
    t : Transformation
        Checked beforehand (:func:`onemap.geo.transform.validate`).
    actor : str
        Who saves it.

    Returns
    -------
    Transformation
        ``t`` with its version number.
    """
    ensure_tables(engine)
    audit.ensure_tables(engine)
    with engine.begin() as conn:
        last = conn.execute(select(func.max(transforms_table.c.version))
                            .where(transforms_table.c.name == t.name)).scalar()
        t.version = int(last or 0) + 1
        row = {
            "name": t.name, "version": t.version, "kind": t.kind, "source_crs": t.source_crs,
            "target_crs": t.target_crs,
            "parameters": json.dumps(t.parameters, ensure_ascii=False, sort_keys=True),
            "area_of_use": json.dumps(list(t.area_of_use)) if t.area_of_use else None,
            "source": t.source, "rms_m": t.rms_m,
            "residuals": json.dumps([r.__dict__ for r in t.residuals], ensure_ascii=False),
            "created_at": now_iso(), "created_by": actor or "",
        }
        new_id = conn.execute(insert(transforms_table).values(**row)).inserted_primary_key[0]
        audit.append(conn, actor, "transform.save", "transform", f"{t.name}@{t.version}",
                     None, {**t.to_dict(), "id": int(new_id)})
    return t


def _split(name: str) -> tuple[str, int | None]:
    base, sep, ver = name.rpartition("@")
    if sep and ver.isdigit():
        return base, int(ver)
    return name, None


def get(engine: Engine, name: str) -> Transformation:
    """The newest version of a named transformation, or ``name@N`` for version N.

    Raises
    ------
    onemap.errors.WorkspaceError
        When there is no such transformation (the message lists those there are).
    """
    base, version = _split(name.strip())
    if _exists(engine):
        stmt = select(transforms_table).where(transforms_table.c.name == base)
        stmt = (stmt.where(transforms_table.c.version == version) if version is not None
                else stmt.order_by(transforms_table.c.version.desc()))
        with engine.connect() as conn:
            r = conn.execute(stmt.limit(1)).first()
        if r is not None:
            return _from_row(r)
    known = sorted({t.name for t in list_all(engine)})
    have = (f"；工作空间中已有：{'、'.join(known)}" if known
            else "；工作空间中还没有任何转换参数（可用 onemap crs fit 或 onemap crs add 建立）")
    raise WorkspaceError(f"工作空间中没有坐标转换“{name}”{have}")


def list_all(engine: Engine) -> list[Transformation]:
    """Every version of every transformation, by name then version."""
    if not _exists(engine):
        return []
    with engine.connect() as conn:
        rows = conn.execute(select(transforms_table).order_by(
            transforms_table.c.name, transforms_table.c.version)).all()
    return [_from_row(r) for r in rows]


def set_default(engine: Engine, source_crs: str, name: str | None, *, actor: str = "") -> None:
    """Make ``name`` the default transformation of ``source_crs`` (None removes it), audited."""
    if name is not None:
        get(engine, name)  # refuse an unknown name before writing anything
    ensure_tables(engine)
    audit.ensure_tables(engine)
    with engine.begin() as conn:
        old = conn.execute(select(defaults_table.c.name)
                           .where(defaults_table.c.source_crs == source_crs)).scalar()
        conn.execute(sql_delete(defaults_table).where(defaults_table.c.source_crs == source_crs))
        if name is not None:
            conn.execute(insert(defaults_table).values(source_crs=source_crs, name=name,
                                                       set_at=now_iso(), set_by=actor or ""))
        audit.append(conn, actor, "transform.default", "transform_default", source_crs,
                     {"name": old} if old else None, {"name": name} if name else None)


def defaults(engine: Engine) -> dict[str, str]:
    """Source CRS → default transformation name."""
    if not (engine in _READY or inspect(engine).has_table(defaults_table.name)):
        return {}
    with engine.connect() as conn:
        return {r.source_crs: r.name for r in conn.execute(select(defaults_table))}


def default_for(engine: Engine, source_crs: str) -> Transformation | None:
    """The default transformation of a source CRS (``"EPSG:2380"``), or None."""
    name = defaults(engine).get(source_crs)
    return get(engine, name) if name else None


def offered(engine: Engine, name: str | None = None) -> list[Transformation]:
    """Transformations a reader may use: the one named, else every source CRS's default."""
    if name:
        return [get(engine, name)]
    return [get(engine, n) for n in defaults(engine).values()]
