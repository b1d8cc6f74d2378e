"""Field evidence records (外业举证照片) of the field app (SQLAlchemy Core, portable SQL).

``field_evidence``: one row per photo received for a field task: the task, the file names of the
original and its watermarked copy, the SHA-256 of the original (checked against the one the phone
computed at capture), the capture facts (position, accuracy, time, heading), the officer, the
flags of the evidence rules, and the audit rows of the move it went with (``event_audit_id``) and
of the evidence itself (``audit_id``). ``(task_id, sha256)`` is unique, so a retried upload
never adds a photo twice, even when two retries race.
"""

from __future__ import annotations

import weakref

from sqlalchemy import Column, Float, Index, Integer, MetaData, Table, Text, UniqueConstraint
from sqlalchemy.engine import Engine

metadata = MetaData()

evidence_table = Table(
    "field_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("ref", Text, nullable=False),
    Column("case_id", Integer, nullable=True),
    Column("submission", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("watermarked_path", Text, nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("accuracy_m", Float, nullable=False),
    Column("heading", Float, nullable=True),
    Column("taken_at", Text, nullable=False),
    Column("received_at", Text, nullable=False),
    Column("officer", Text, nullable=False),
    Column("flags", Text, nullable=False, default="[]"),
    Column("event_audit_id", Integer, nullable=True),
    Column("audit_id", Integer, nullable=True),
    UniqueConstraint("task_id", "sha256", name="uq_field_evidence_task_sha256"),
    Index("ix_field_evidence_case", "case_id"),
)

_READY: weakref.WeakSet = weakref.WeakSet()


def ensure_tables(engine: Engine) -> None:
    """Create ``field_evidence`` on first use (``checkfirst``; idempotent)."""
    if engine in _READY:
        return
    metadata.create_all(engine, tables=[evidence_table], checkfirst=True)
    _READY.add(engine)
