"""Relational records of monitoring and enforcement (SQLAlchemy Core).

- ``monitor_judge_runs``: one judging of a change set (rules, approvals and
  their versions, the date judged against).
- ``monitor_judgements``: one row per change patch of a run: verdict, rule,
  reason, facts and the layers consulted.
- ``monitor_cases``: the enforcement case a suspected patch opens, with its
  current state and deadline.
- ``monitor_case_events``: every transition of a case with the fields given.
- ``monitor_evidence``: photos and documents (path, SHA-256, GPS, time).

Every case transition also appends to the audit log
(:mod:`onemap.store.audit`) in the same transaction. Portable SQL only: the
same tables serve the GeoPackage file and PostGIS.
"""

from __future__ import annotations

import weakref

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

judge_runs_table = Table(
    "monitor_judge_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("changeset_dataset", Text, nullable=False),
    Column("changeset_version", Text, nullable=False),
    Column("year", Integer, nullable=True),
    Column("as_of", Text, nullable=False),
    Column("rules_version", Text, nullable=False, default=""),
    Column("rules_sha256", Text, nullable=False, default=""),
    Column("consulted", Text, nullable=False, default="[]"),
    Column("summary", Text, nullable=False, default="{}"),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False, default=""),
)

judgements_table = Table(
    "monitor_judgements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("monitor_judge_runs.id"), nullable=False),
    Column("tbbh", Text, nullable=False),
    Column("verdict", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("priority", Integer, nullable=True),
    Column("before", Text, nullable=False, default=""),
    Column("after", Text, nullable=False, default=""),
    Column("area_m2", Float, nullable=False, default=0.0),
    Column("gd_area_m2", Float, nullable=False, default=0.0),
    Column("new_construction_gd_m2", Float, nullable=False, default=0.0),
    Column("suspect_area_m2", Float, nullable=False, default=0.0),
    Column("suspect_gd_area_m2", Float, nullable=False, default=0.0),
    Column("county", Text, nullable=False, default=""),
    Column("village", Text, nullable=False, default=""),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("facts", Text, nullable=False, default="{}"),
    Column("hits", Text, nullable=False, default="{}"),
    UniqueConstraint("run_id", "tbbh", name="uq_judgement_run_tbbh"),
)

cases_table = Table(
    "monitor_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_no", Text, nullable=False, unique=True),
    Column("run_id", Integer, ForeignKey("monitor_judge_runs.id"), nullable=False),
    Column("judgement_id", Integer, ForeignKey("monitor_judgements.id"), nullable=False),
    Column("changeset_dataset", Text, nullable=False),
    Column("changeset_version", Text, nullable=False),
    Column("tbbh", Text, nullable=False),
    Column("county", Text, nullable=False, default=""),
    Column("village", Text, nullable=False, default=""),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("year", Integer, nullable=True),
    Column("priority", Integer, nullable=True),
    Column("suggested", Text, nullable=False, default=""),
    Column("rule", Text, nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
    Column("area_m2", Float, nullable=False, default=0.0),
    Column("gd_area_m2", Float, nullable=False, default=0.0),
    Column("suspect_gd_area_m2", Float, nullable=False, default=0.0),
    Column("state", Text, nullable=False),
    Column("determination", Text, nullable=True),
    Column("measures", Text, nullable=False, default="[]"),
    Column("opened_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("due_at", Text, nullable=True),
    Column("closed_at", Text, nullable=True),
    Column("data", Text, nullable=False, default="{}"),
    UniqueConstraint("changeset_dataset", "changeset_version", "tbbh", name="uq_case_patch"),
    Index("ix_monitor_cases_county_state", "county", "state"),
)

case_events_table = Table(
    "monitor_case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("monitor_cases.id"), nullable=False),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("from_state", Text, nullable=True),
    Column("to_state", Text, nullable=False),
    Column("fields", Text, nullable=False, default="{}"),
    Column("audit_id", Integer, nullable=True),
    Index("ix_monitor_case_events_case", "case_id"),
)

evidence_table = Table(
    "monitor_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("monitor_cases.id"), nullable=False),
    Column("event_id", Integer, ForeignKey("monitor_case_events.id"), nullable=True),
    Column("path", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("taken_at", Text, nullable=True),
    Column("position_source", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Index("ix_monitor_evidence_case", "case_id"),
)

#: Tables in creation order.
CASE_TABLES = [judge_runs_table, judgements_table, cases_table, case_events_table, evidence_table]

_READY: weakref.WeakSet = weakref.WeakSet()


def ensure_tables(engine: Engine) -> None:
    """Create the monitoring tables on first use (``checkfirst``; idempotent)."""
    if engine in _READY:
        return
    metadata.create_all(engine, tables=CASE_TABLES, checkfirst=True)
    _READY.add(engine)
