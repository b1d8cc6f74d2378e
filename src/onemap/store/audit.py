"""Append-only audit log with a hash chain (规划全过程自动强制留痕).

Every state change of a case, a ledger entry, a rule set or an indicator
target appends one row: who, when, what, the record before and after. Each
row carries the hash of the row before it, and its own hash is the SHA-256 of
a canonical serialization of all its fields *including* that previous hash,
so changing, inserting or deleting any row breaks the chain from that row on.
:func:`verify` walks the chain and names the first broken row.

The log is generic: any module appends with :func:`append`, inside its own
transaction when it passes a ``Connection`` (the audit row then commits or
rolls back with the change it records).

Concurrency: appends serialise on a one-row head table (``UPDATE`` first, which
takes a write lock in SQLite and a row lock in PostgreSQL), and ``prev_hash`` is
unique, so the chain can never fork. Nothing here is dialect-specific except
the guard triggers (SQLite and PostgreSQL): the log refuses ``UPDATE`` and
``DELETE``; the head refuses ``DELETE``, a second row, and any update other
than one step forward onto the hash of an existing row.

A database owner can still drop the triggers and rewrite or cut the log
consistently. Against that, :func:`write_checkpoint` appends the head
(sequence number and hash) to a file outside the database (opened in append
mode, one JSON line per checkpoint; the server writes one periodically), and
:func:`verify` checks the log against every checkpoint: a log shorter than a
checkpoint, or whose row at a checkpoint's sequence has another hash, was cut
or rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from onemap.errors import WorkspaceError
from onemap.store.catalog import now_iso

#: Metadata of the audit tables (created lazily, see :func:`ensure_tables`).
metadata = MetaData()

#: Hash that the first row points back to.
GENESIS_HASH = "0" * 64

#: Action of the audit row written with every new layer version (ingest, derived layers).
VERSION_WRITE = "version.write"

audit_table = Table(
    "onemap_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("entity", Text, nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    UniqueConstraint("prev_hash", name="uq_onemap_audit_prev"),
)

audit_head_table = Table(
    "onemap_audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("last_hash", Text, nullable=False),
)

_GUARDS: dict[str, list[str]] = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS onemap_audit_no_update BEFORE UPDATE ON onemap_audit "
        "BEGIN SELECT RAISE(ABORT, 'onemap_audit is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS onemap_audit_no_delete BEFORE DELETE ON onemap_audit "
        "BEGIN SELECT RAISE(ABORT, 'onemap_audit is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS onemap_audit_head_no_delete BEFORE DELETE "
        "ON onemap_audit_head BEGIN SELECT RAISE(ABORT, 'onemap_audit_head is guarded'); END",
        "CREATE TRIGGER IF NOT EXISTS onemap_audit_head_one_row BEFORE INSERT "
        "ON onemap_audit_head WHEN (SELECT count(*) FROM onemap_audit_head) > 0 "
        "BEGIN SELECT RAISE(ABORT, 'onemap_audit_head has one row'); END",
        "CREATE TRIGGER IF NOT EXISTS onemap_audit_head_forward BEFORE UPDATE "
        "ON onemap_audit_head WHEN NEW.id IS NOT OLD.id "
        "OR NOT (NEW.seq = OLD.seq + 1 AND NEW.last_hash IS OLD.last_hash "
        "OR NEW.seq = OLD.seq AND NEW.last_hash IS "
        "(SELECT hash FROM onemap_audit WHERE id = NEW.seq)) "
        "BEGIN SELECT RAISE(ABORT, 'onemap_audit_head only moves forward'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION onemap_audit_refuse() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'onemap_audit is append-only'; END; $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS onemap_audit_guard ON onemap_audit",
        "CREATE TRIGGER onemap_audit_guard BEFORE UPDATE OR DELETE ON onemap_audit "
        "FOR EACH ROW EXECUTE FUNCTION onemap_audit_refuse()",
        "CREATE OR REPLACE FUNCTION onemap_audit_head_guard() RETURNS trigger AS $$ "
        "BEGIN "
        "IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'onemap_audit_head is guarded'; END IF; "
        "IF TG_OP = 'INSERT' THEN "
        "IF EXISTS (SELECT 1 FROM onemap_audit_head) THEN "
        "RAISE EXCEPTION 'onemap_audit_head has one row'; END IF; RETURN NEW; END IF; "
        "IF NEW.id IS DISTINCT FROM OLD.id OR NOT ("
        "(NEW.seq = OLD.seq + 1 AND NEW.last_hash IS NOT DISTINCT FROM OLD.last_hash) OR "
        "(NEW.seq = OLD.seq AND NEW.last_hash IS NOT DISTINCT FROM "
        "(SELECT hash FROM onemap_audit WHERE id = NEW.seq))) THEN "
        "RAISE EXCEPTION 'onemap_audit_head only moves forward'; END IF; "
        "RETURN NEW; END; $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS onemap_audit_head_guard ON onemap_audit_head",
        "CREATE TRIGGER onemap_audit_head_guard BEFORE INSERT OR UPDATE OR DELETE "
        "ON onemap_audit_head FOR EACH ROW EXECUTE FUNCTION onemap_audit_head_guard()",
    ],
}

_READY: weakref.WeakSet = weakref.WeakSet()


def head_seq(bind: Engine | Connection) -> int:
    """Sequence number of the newest audit row (0 for an empty log).

    Every audited write moves it, so a server uses it (with the settings) as
    the state its cached results belong to.
    """
    ensure_tables(bind)
    stmt = select(audit_head_table.c.seq).where(audit_head_table.c.id == 1)
    if isinstance(bind, Connection):
        return int(bind.execute(stmt).scalar() or 0)
    with bind.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)


def canonical_json(obj: Any) -> str:
    """Serialise ``obj`` canonically: sorted keys, no spaces, UTF-8 text kept readable.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": "耕地"})
    '{"a":"耕地","b":1}'
    """
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)


def row_hash(row: dict[str, Any]) -> str:
    """SHA-256 (hex) of one audit row's canonical serialization.

    Parameters
    ----------
    row : dict
        ``id, at, actor, action, entity, entity_id, before, after, prev_hash``;
        ``before``/``after`` are the stored JSON texts, hashed verbatim.

    Returns
    -------
    str
        64 hex digits.
    """
    doc = {
        "id": int(row["id"]),
        "at": str(row["at"]),
        "actor": str(row["actor"]),
        "action": str(row["action"]),
        "entity": str(row["entity"]),
        "entity_id": str(row["entity_id"]),
        "before": str(row["before"]),
        "after": str(row["after"]),
        "prev_hash": str(row["prev_hash"]),
    }
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def ensure_tables(bind: Engine | Connection) -> None:
    """Create the audit tables, the head row and the guard triggers if missing."""
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine in _READY:
        return

    def _create(conn: Connection) -> None:
        metadata.create_all(conn, checkfirst=True)
        head = conn.execute(select(audit_head_table.c.id)).first()
        if head is None:
            conn.execute(insert(audit_head_table).values(id=1, seq=0, last_hash=GENESIS_HASH))
        for ddl in _GUARDS.get(conn.dialect.name, []):
            conn.exec_driver_sql(ddl)

    if isinstance(bind, Connection):
        _create(bind)  # inside the caller's transaction: not cached, it may roll back
        return
    with bind.begin() as conn:
        _create(conn)
    _READY.add(engine)


@dataclass
class AuditEntry:
    """One row of the audit log."""

    id: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``before``/``after`` parsed)."""
        return asdict(self)


def _append(conn: Connection, actor: str, action: str, entity: str, entity_id: object,
            before: Any, after: Any) -> AuditEntry:
    # Take the lock first: the UPDATE serialises concurrent appenders.
    conn.execute(update(audit_head_table).where(audit_head_table.c.id == 1)
                 .values(seq=audit_head_table.c.seq + 1))
    head = conn.execute(select(audit_head_table).where(audit_head_table.c.id == 1)).one()
    row = {
        "id": int(head.seq),
        "at": now_iso(),
        "actor": actor or "unknown",
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": canonical_json(before),
        "after": canonical_json(after),
        "prev_hash": head.last_hash,
    }
    row["hash"] = row_hash(row)
    conn.execute(insert(audit_table).values(**row))
    conn.execute(update(audit_head_table).where(audit_head_table.c.id == 1)
                 .values(last_hash=row["hash"]))
    return AuditEntry(**{**row, "before": before, "after": after})


def append(
    bind: Engine | Connection,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one row to the audit log.

    Parameters
    ----------
    bind : Engine or Connection
        The workspace engine (the row commits on its own) or an open
        connection inside the caller's transaction (the row commits or rolls
        back together with the change it records).
    actor : str
        Who did it (user name or process).
    action : str
        What was done, e.g. ``"case.determine"``.
    entity, entity_id : str
        What it was done to, e.g. ``"case"``, ``42``.
    before, after : JSON-serialisable
        The record before and after (``None`` when created or deleted).

    Returns
    -------
    AuditEntry
        The row written, with its id and hash.
    """
    ensure_tables(bind)
    if isinstance(bind, Connection):
        return _append(bind, actor, action, entity, entity_id, before, after)
    with bind.begin() as conn:
        return _append(conn, actor, action, entity, entity_id, before, after)


def append_many(
    conn: Connection,
    actor: str,
    items: list[tuple[str, str, object, Any, Any]],
) -> list[AuditEntry]:
    """Append several rows in one statement, inside the caller's transaction.

    The chain is exactly what as many :func:`append` calls would write (one row
    per item, each pointing at the hash of the one before), but the rows go in
    with one ``executemany`` and the head's hash is written once.

    Parameters
    ----------
    conn : Connection
        An open connection inside the caller's transaction.
    actor : str
        Who did it.
    items : list of (action, entity, entity_id, before, after)
        One tuple per row, in chain order.

    Returns
    -------
    list of AuditEntry
        The rows written, in order.
    """
    ensure_tables(conn)
    if not items:
        return []
    # The head moves one step per row (the first UPDATE takes the lock; single steps are
    # what the head guard allows), then onto the last row's hash once all rows are in.
    step = update(audit_head_table).where(audit_head_table.c.id == 1).values(seq=audit_head_table.c.seq + 1)
    for _ in items:
        conn.execute(step)
    head = conn.execute(select(audit_head_table).where(audit_head_table.c.id == 1)).one()
    prev = head.last_hash
    first = int(head.seq) - len(items) + 1
    at = now_iso()
    rows: list[dict[str, Any]] = []
    out: list[AuditEntry] = []
    for k, (action, entity, entity_id, before, after) in enumerate(items):
        row = {"id": first + k, "at": at, "actor": actor or "unknown", "action": action,
               "entity": entity, "entity_id": str(entity_id), "before": canonical_json(before),
               "after": canonical_json(after), "prev_hash": prev}
        row["hash"] = prev = row_hash(row)
        rows.append(row)
        out.append(AuditEntry(**{**row, "before": before, "after": after}))
    conn.execute(insert(audit_table), rows)
    conn.execute(update(audit_head_table).where(audit_head_table.c.id == 1).values(last_hash=prev))
    return out


def entries(
    bind: Engine | Connection,
    *,
    entity: str | None = None,
    entity_id: object | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Read audit rows, oldest first, optionally for one entity."""
    ensure_tables(bind)
    stmt = select(audit_table).order_by(audit_table.c.id)
    if entity is not None:
        stmt = stmt.where(audit_table.c.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(audit_table.c.entity_id == str(entity_id))
    if limit is not None:
        stmt = stmt.limit(limit)

    def _read(conn: Connection) -> list[AuditEntry]:
        out = []
        for r in conn.execute(stmt):
            d = r._asdict()
            d["before"] = _loads(d["before"])
            d["after"] = _loads(d["after"])
            out.append(AuditEntry(**d))
        return out

    if isinstance(bind, Connection):
        return _read(bind)
    with bind.connect() as conn:
        return _read(conn)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


@dataclass
class Verification:
    """Result of :func:`verify`.

    Attributes
    ----------
    ok : bool
        True when every row's hash and link are intact.
    rows : int
        Rows checked.
    first_broken : int or None
        Id of the first row that fails (None when ok).
    reason : str
        Chinese explanation of the failure ("" when ok).
    head_hash : str
        Hash of the last row; publish it elsewhere to anchor the chain.
    checkpoints : int
        Checkpoints the log was checked against.
    last_checkpoint : dict or None
        The newest checkpoint (``seq``, ``hash``, ``at``).
    """

    ok: bool
    rows: int
    first_broken: int | None
    reason: str
    head_hash: str
    checkpoints: int = 0
    last_checkpoint: dict[str, Any] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def verify(bind: Engine | Connection, checkpoints: list[dict[str, Any]] | None = None
           ) -> Verification:
    """Check the whole chain, and the log against its checkpoints; name the first broken row.

    A row is broken when its stored hash does not match its content, when it
    does not point at the hash of the row before it, or when ids skip (a row
    was deleted). The head table must also point at the last row (rows were
    not cut off the end). Every checkpoint must still hold: the log has at
    least ``seq`` rows and row ``seq`` has the checkpoint's hash.

    Parameters
    ----------
    bind : Engine or Connection
        The workspace engine.
    checkpoints : list of dict, optional
        Checkpoints (:func:`read_checkpoints`), oldest first.

    Returns
    -------
    Verification
    """
    ensure_tables(bind)
    marks = {int(c["seq"]): str(c["hash"]) for c in checkpoints or []}
    last = checkpoints[-1] if checkpoints else None

    def _check(v: Verification) -> Verification:
        v.checkpoints, v.last_checkpoint = len(marks), last
        return v

    def _run(conn: Connection) -> Verification:
        return _check(_chain(conn, marks))

    if isinstance(bind, Connection):
        return _run(bind)
    with bind.connect() as conn:
        return _run(conn)


def _chain(conn: Connection, marks: dict[int, str]) -> Verification:
    """Walk the chain once (rows, links, hashes, checkpoint hashes, head, length)."""
    prev = GENESIS_HASH
    expected_id = 1
    n = 0
    result = conn.execution_options(yield_per=10_000).execute(
        select(audit_table).order_by(audit_table.c.id)
    )
    for r in result:
        d = r._asdict()
        n += 1
        if int(d["id"]) != expected_id:
            return Verification(False, n, expected_id,
                                f"第 {expected_id} 行缺失（下一行编号为 {d['id']}），日志被删改", prev)
        if d["prev_hash"] != prev:
            return Verification(False, n, int(d["id"]),
                                f"第 {d['id']} 行记录的前一行哈希与第 {expected_id - 1} 行不符", prev)
        if row_hash(d) != d["hash"]:
            return Verification(False, n, int(d["id"]),
                                f"第 {d['id']} 行内容与其哈希不符（该行被修改）", prev)
        mark = marks.get(int(d["id"]))
        if mark is not None and mark != d["hash"]:
            return Verification(False, n, int(d["id"]),
                                f"第 {d['id']} 行的哈希与检查点记录的不符（日志被改写）", prev)
        prev = d["hash"]
        expected_id += 1
    head = conn.execute(select(audit_head_table).where(audit_head_table.c.id == 1)).first()
    if head is not None and (int(head.seq) != n or head.last_hash != prev):
        return Verification(False, n, n + 1,
                            f"日志末尾缺失：应有 {head.seq} 行，实有 {n} 行", prev)
    if marks and max(marks) > n:
        return Verification(False, n, n + 1,
                            f"日志被截断：检查点记录已有 {max(marks)} 行，现只有 {n} 行", prev)
    return Verification(True, n, None, "", prev)


# ---------------------------------------------------------------------------- checkpoints
def read_checkpoints(path: str | Path) -> list[dict[str, Any]]:
    """The checkpoints of a checkpoint file, oldest first (none when the file is absent).

    Raises
    ------
    onemap.errors.WorkspaceError
        A line that is not a checkpoint (the file was edited).
    """
    path = Path(path)
    if not path.exists():
        return []
    out = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
                out.append({"seq": int(doc["seq"]), "hash": str(doc["hash"]),
                            "at": str(doc.get("at", ""))})
            except (ValueError, KeyError, TypeError) as exc:
                raise WorkspaceError(f"审计检查点文件 {path.name} 第 {number} 行无法识别"
                                     "（文件被改动）") from exc
    return out


def write_checkpoint(bind: Engine | Connection, path: str | Path) -> Verification:
    """Verify the log against the file's checkpoints and, when intact, append the head to it.

    Nothing is written when the log is broken (a checkpoint must never bless a
    tampered log) or when the head has not moved since the last checkpoint.
    The file is opened in append mode and flushed to disk.

    Returns
    -------
    Verification
        The verification made before writing (``last_checkpoint`` is the newest
        checkpoint after the call).
    """
    path = Path(path)
    marks = read_checkpoints(path)
    v = verify(bind, marks)
    if not v.ok or (marks and marks[-1]["seq"] == v.rows and marks[-1]["hash"] == v.head_hash):
        return v
    entry = {"seq": v.rows, "hash": v.head_hash, "at": now_iso()}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(canonical_json(entry) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    v.checkpoints += 1
    v.last_checkpoint = entry
    return v
