"""Relational records of the registers (台账) and the 占补平衡 journal (SQLAlchemy Core).

- ``ledger_records``: one row per record of any register: its number, state,
  county, values (JSON), geometry (WKB hex, EPSG:4490) and due date;
- ``ledger_events``: every import and move of a record with its fields;
- ``ledger_imports``: each import (file, SHA-256, rows);
- ``farmland_journal``: 占补平衡 account entries (入库 +, 核销 −, 调剂 ±, 撤销),
  amounts in integer hundredths of the measure's unit so sums are exact.

Every write also appends to the audit log (:mod:`onemap.store.audit`) in the
same transaction. Portable SQL only: the same tables serve the GeoPackage file
and PostGIS.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable
from typing import Any

import shapely
from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

records_table = Table(
    "ledger_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register", Text, nullable=False),
    Column("record_no", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("county", Text, nullable=False, default=""),
    Column("data", Text, nullable=False, default="{}"),
    Column("geometry", Text, nullable=True),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("due_at", Text, nullable=True),
    UniqueConstraint("register", "record_no", name="uq_ledger_record_no"),
)
Index("ix_ledger_records_register_state", records_table.c.register, records_table.c.state)

events_table = Table(
    "ledger_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("record_id", Integer, ForeignKey("ledger_records.id"), nullable=False),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("from_state", Text, nullable=True),
    Column("to_state", Text, nullable=False),
    Column("fields", Text, nullable=False, default="{}"),
    Column("audit_id", Integer, nullable=False),
)
Index("ix_ledger_events_record", events_table.c.record_id)

imports_table = Table(
    "ledger_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register", Text, nullable=False),
    Column("file", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("audit_id", Integer, nullable=False),
)

journal_table = Table(
    "farmland_journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("county", Text, nullable=False),
    Column("measure", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("project_no", Text, nullable=True),
    Column("occupation_no", Text, nullable=True),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("audit_id", Integer, nullable=False),
)
Index("ix_farmland_journal_county", journal_table.c.county, journal_table.c.measure)

_READY: weakref.WeakSet = weakref.WeakSet()


def ensure_tables(engine: Engine) -> None:
    """Create the register tables if missing (once per engine)."""
    if engine in _READY:
        return
    metadata.create_all(engine, checkfirst=True)
    _READY.add(engine)


def geometry_records(engine: Engine, register: str, *, states: Iterable[str] | None = None,
                     skip_states: Iterable[str] = (), require_geometry: bool = True,
                     ) -> list[tuple[str, dict[str, Any], Any]]:
    """(number, values, geometry) of a register's records that carry a geometry, in import order.

    Parameters
    ----------
    engine : Engine
        The workspace's engine. Nothing is created: a workspace without registers gives ``[]``.
    register : str
        Register name (``KYQ``).
    states : iterable of str, optional
        Only records in these states (default: every state).
    skip_states : iterable of str
        Leave out records in these states.
    require_geometry : bool
        False: records without a geometry too (their geometry is None).
    """
    if not inspect(engine).has_table(records_table.name):
        return []
    t = records_table
    stmt = select(t.c.record_no, t.c.data, t.c.geometry).where(t.c.register == register)
    if require_geometry:
        stmt = stmt.where(t.c.geometry.is_not(None))
    if states is not None:
        stmt = stmt.where(t.c.state.in_(list(states)))
    skip = list(skip_states)
    if skip:
        stmt = stmt.where(t.c.state.not_in(skip))
    with engine.connect() as conn:
        return [(no, json.loads(data), shapely.from_wkb(bytes.fromhex(geom)) if geom else None)
                for no, data, geom in conn.execute(stmt.order_by(t.c.id))]


def last_event_id(engine: Engine) -> int:
    """Id of the latest register event (every import and move writes one; 0 without registers).

    A cache of register-derived data (the warm site checker) is stale when it changes.
    """
    if not inspect(engine).has_table(events_table.name):
        return 0
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(events_table.c.id))).scalar() or 0)
