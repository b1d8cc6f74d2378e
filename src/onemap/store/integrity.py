"""Whole-workspace audit verification: the hash chain, its checkpoints, and what points at it.

:func:`onemap.store.audit.verify` checks the log itself. This module adds the
records that claim to be audited:

- every case event (``monitor_case_events.audit_id``) must point at an
  existing audit row of the same action (``case.<action>``) and case number;
- every catalog version (``onemap_versions``) must have its ``version.write``
  audit row (written with the version by the store), so a layer slipped into
  the catalog behind the log's back is found.

The checkpoint file lives beside the workspace (:func:`checkpoint_file`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, Engine

from onemap.store import audit
from onemap.store.audit import VERSION_WRITE, audit_table
from onemap.store.cases import case_events_table, cases_table
from onemap.store.catalog import versions_table


def checkpoint_file(workspace: str | Path) -> Path:
    """The append-only checkpoint file of a workspace file: ``<name>.audit-checkpoints.jsonl``."""
    path = Path(workspace)
    return path.with_name(path.stem + ".audit-checkpoints.jsonl")


@dataclass
class IntegrityReport:
    """Result of :func:`verify_workspace`.

    Attributes
    ----------
    chain : audit.Verification
        The log against itself and its checkpoints.
    problems : list of str
        Records that do not point at a matching audit row (Chinese sentences).
    """

    chain: audit.Verification
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the chain holds and every record points at its audit row."""
        return self.chain.ok and not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the chain's fields, ``ok`` overall and ``problems``."""
        d = asdict(self.chain)
        d["chain_ok"] = self.chain.ok
        d["ok"] = self.ok
        d["problems"] = list(self.problems)
        return d


def _exists(conn: Connection, table: str) -> bool:
    return inspect(conn).has_table(table)


def _case_event_problems(conn: Connection, limit: int) -> list[str]:
    if not (_exists(conn, case_events_table.name) and _exists(conn, cases_table.name)):
        return []
    e, c, a = case_events_table, cases_table, audit_table
    rows = conn.execute(
        select(e.c.id, e.c.action, e.c.audit_id, c.c.case_no, a.c.action.label("a_action"),
               a.c.entity, a.c.entity_id)
        .join(c, c.c.id == e.c.case_id)
        .join(a, a.c.id == e.c.audit_id, isouter=True)
        .order_by(e.c.id)
    )
    out = []
    for r in rows:
        if r.audit_id is None:
            out.append(f"案件 {r.case_no} 的第 {r.id} 条办理记录（{r.action}）没有审计编号")
        elif r.a_action is None:
            out.append(f"案件 {r.case_no} 的第 {r.id} 条办理记录（{r.action}）指向不存在的审计行 "
                       f"{r.audit_id}")
        elif (r.a_action, r.entity, r.entity_id) != (f"case.{r.action}", "case", r.case_no):
            out.append(f"案件 {r.case_no} 的第 {r.id} 条办理记录（{r.action}）与审计行 "
                       f"{r.audit_id}（{r.a_action} {r.entity_id}）不符")
        if len(out) >= limit:
            break
    return out


def _version_problems(conn: Connection, limit: int) -> list[str]:
    if not _exists(conn, versions_table.name):
        return []
    audited = {row.entity_id for row in conn.execute(
        select(audit_table.c.entity_id).where(audit_table.c.action == VERSION_WRITE,
                                              audit_table.c.entity == "version"))}
    out = []
    for v in conn.execute(select(versions_table.c.dataset, versions_table.c.version)
                          .order_by(versions_table.c.id)):
        if f"{v.dataset}/{v.version}" not in audited:
            out.append(f"数据版本 {v.dataset} {v.version} 没有入库审计记录（未经留痕写入目录）")
            if len(out) >= limit:
                break
    return out


def verify_workspace(engine: Engine, checkpoints: Path | None = None, *,
                     limit: int = 100) -> IntegrityReport:
    """Verify the audit log, its checkpoints and every record pointing at it.

    Parameters
    ----------
    engine : Engine
        The workspace engine.
    checkpoints : Path, optional
        The checkpoint file (absent file: no checkpoint yet).
    limit : int
        At most this many record problems of each kind are listed.

    Returns
    -------
    IntegrityReport
    """
    marks = audit.read_checkpoints(checkpoints) if checkpoints is not None else []
    chain = audit.verify(engine, marks)
    with engine.connect() as conn:
        problems = _case_event_problems(conn, limit) + _version_problems(conn, limit)
    return IntegrityReport(chain, problems)
