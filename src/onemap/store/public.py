"""Relational records of the public services (SQLAlchemy Core, portable SQL).

- ``public_marks``: a layer version the bureau has made public, with its 批准文号 and date.
- ``public_items``: a 公示 item (plan, 批前公示, 基准地价 …) with its period; an item open
  for comments (意见征询) has ``consult`` = 1 and, once answered, a published summary.
- ``public_comments``: a resident's comment on an item (optionally at a place), its
  moderation state and the bureau's answer.
- ``public_reports``: a 群众举报 (place, description, photos, optional contact) with its
  receipt number, the case it entered and how (``merged``), its moderation and public answer.

Every write also appends to the audit log in the same transaction (done by the callers).
"""

from __future__ import annotations

import weakref

from sqlalchemy import Column, Float, Integer, MetaData, Table, Text, UniqueConstraint
from sqlalchemy.engine import Engine

metadata = MetaData()

marks_table = Table(
    "public_marks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("approval_no", Text, nullable=False),
    Column("approved_on", Text, nullable=False),
    Column("marked_by", Text, nullable=False, default=""),
    Column("marked_at", Text, nullable=False),
    UniqueConstraint("dataset", "version", name="uq_public_mark"),
)

items_table = Table(
    "public_items", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("start_date", Text, nullable=False),
    Column("end_date", Text, nullable=False),
    Column("consult", Integer, nullable=False, default=0),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("summary", Text, nullable=True),
    Column("summary_at", Text, nullable=True),
    Column("created_by", Text, nullable=False, default=""),
    Column("created_at", Text, nullable=False),
)

comments_table = Table(
    "public_comments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("contact", Text, nullable=False, default=""),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("created_at", Text, nullable=False),
    Column("moderation", Text, nullable=False, default="pending"),
    Column("answer", Text, nullable=True),
    Column("answered_by", Text, nullable=True),
    Column("answered_at", Text, nullable=True),
)

reports_table = Table(
    "public_reports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receipt", Text, nullable=False, unique=True),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("description", Text, nullable=False),
    Column("contact", Text, nullable=False, default=""),
    Column("photos", Text, nullable=False, default="[]"),
    Column("created_at", Text, nullable=False),
    Column("case_id", Integer, nullable=True),
    Column("merged", Text, nullable=False, default=""),
    Column("moderation", Text, nullable=False, default="pending"),
    Column("moderation_note", Text, nullable=True),
    Column("answer", Text, nullable=True),
    Column("answered_by", Text, nullable=True),
    Column("answered_at", Text, nullable=True),
)

#: Tables in creation order.
PUBLIC_TABLES = [marks_table, items_table, comments_table, reports_table]

_READY: weakref.WeakSet = weakref.WeakSet()


def ensure_tables(engine: Engine) -> None:
    """Create the public-service tables on first use (``checkfirst``; idempotent)."""
    if engine in _READY:
        return
    metadata.create_all(engine, tables=PUBLIC_TABLES, checkfirst=True)
    _READY.add(engine)
