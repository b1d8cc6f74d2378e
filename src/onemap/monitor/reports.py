"""群众举报 in the enforcement workflow: matching a report to a case, and the reporter's view.

A report is matched, in the caller's transaction, against

1. the open (not final) cases whose point lies within ``merge_distance_m`` of the report and
   that were opened within ``merge_period_days`` of it: the nearest one takes the report;
2. else the judged change patches (their centre point, from the judging run) within the same
   distance, judged within the same period, that have no case yet: a case is opened for the
   nearest patch (a 卫片 case) and takes the report;
3. else a case of its own is opened (source 群众举报, number ``<case_prefix>-county-year-n``),
   recorded as a judging run of the change set ``群众举报`` (one per year) whose judgement is
   the report (verdict 待核查).

Taking a report appends an event ``report`` to the case (state unchanged), the receipt to the
case's ``data.reports`` and one audit row. What the reporter sees is only the status the case
state maps to (``public.yaml`` → ``reports.status``) and the public answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from onemap.monitor.cases import REPORT_SOURCE, CaseFlow, as_datetime, open_case
from onemap.monitor.evidence import distance_m
from onemap.monitor.public_policy import ReportRules
from onemap.store import audit
from onemap.store import cases as tables
from onemap.store.catalog import dumps

#: Verdict of the judgement a report stands for (it is a claim, not yet checked).
REPORT_VERDICT = "待核查"
#: Rule id of that judgement.
REPORT_RULE = "PUBLIC_REPORT"


def nearest(points: Iterable[tuple[Any, float | None, float | None]], lon: float, lat: float,
            max_m: float) -> tuple[Any, float] | None:
    """The item nearest to (lon, lat) within ``max_m`` metres, with its distance.

    Parameters
    ----------
    points : iterable of (item, lon, lat)
        Candidates; those without a position are skipped.
    lon, lat : float
        The report's place (degrees).
    max_m : float
        Farthest distance that still matches (inclusive).

    Returns
    -------
    (item, float) or None
        Ties keep the first candidate.

    Examples
    --------
    >>> nearest([("a", 106.0, 37.0), ("b", 106.001, 37.0)], 106.0009, 37.0, 100)[0]
    'b'
    >>> nearest([("a", 106.0, 37.0)], 106.01, 37.0, 100) is None
    True
    """
    best: tuple[Any, float] | None = None
    for item, x, y in points:
        if x is None or y is None:
            continue
        d = distance_m(lon, lat, float(x), float(y))
        if d <= max_m and (best is None or d < best[1]):
            best = (item, d)
    return best


def within_period(a: datetime | str, b: datetime | str, days: int) -> bool:
    """Whether two times are at most ``days`` days apart (either order)."""
    return abs(as_datetime(a) - as_datetime(b)) <= timedelta(days=days)


def reporter_status(state: str | None, moderation: str, rules: ReportRules) -> str:
    """The status a reporter sees: the moderator's refusal, else the case state's public name.

    Examples
    --------
    >>> from onemap.monitor.public_policy import public_policy
    >>> r = public_policy().reports
    >>> reporter_status("issued", "pending", r), reporter_status("closed", "approved", r)
    ('已受理', '已办结')
    >>> reporter_status("issued", "rejected", r)
    '不予受理'
    """
    if moderation == "rejected":
        return rules.rejected_status
    if state is None:
        return rules.status.get("issued", "已受理")
    return rules.status.get(state, "核查中")


def match_report(conn: Connection, lon: float, lat: float, when: datetime, rules: ReportRules,
                 flow: CaseFlow) -> tuple[str, Any, Any] | None:
    """What a report at (lon, lat) at ``when`` merges with, inside the caller's transaction.

    Returns
    -------
    tuple or None
        ``("case", case_row, distance)``, ``("patch", (judgement_row, run_row), distance)``
        or None (nothing near in the period).
    """
    c, j, r = tables.cases_table, tables.judgements_table, tables.judge_runs_table
    final = [s for s, spec in flow.states.items() if spec.final]
    rows = conn.execute(select(c).where(c.c.state.not_in(final), c.c.lon.is_not(None))).all()
    rows = [x for x in rows if within_period(x.opened_at, when, rules.merge_period_days)]
    hit = nearest(((x, x.lon, x.lat) for x in rows), lon, lat, rules.merge_distance_m)
    if hit is not None:
        return ("case", hit[0], hit[1])
    cased = {(x.changeset_dataset, x.changeset_version, x.tbbh)
             for x in conn.execute(select(c.c.changeset_dataset, c.c.changeset_version,
                                          c.c.tbbh))}
    runs = {x.id: x for x in conn.execute(select(r).where(r.c.changeset_dataset != REPORT_SOURCE))
            if within_period(x.as_of, when, rules.merge_period_days)}
    if not runs:
        return None
    patches = [x for x in conn.execute(select(j).where(j.c.run_id.in_(list(runs))))
               if (runs[x.run_id].changeset_dataset, runs[x.run_id].changeset_version,
                   x.tbbh) not in cased]
    hit = nearest(((x, x.lon, x.lat) for x in patches), lon, lat, rules.merge_distance_m)
    if hit is not None:
        return ("patch", (hit[0], runs[hit[0].run_id]), hit[1])
    return None


def attach_report(conn: Connection, case_row: Any, receipt: str, *, actor: str, when: datetime,
                  distance: float | None, how: str) -> None:
    """Record on a case that it takes report ``receipt`` (event ``report``, audit row).

    The case's state and deadline stay as they are; ``data.reports`` gains the receipt.
    """
    t = tables.cases_table
    d = case_row._asdict() if hasattr(case_row, "_asdict") else dict(case_row)
    data = json.loads(d.get("data") or "{}")
    before = {"reports": list(data.get("reports", []))}
    data["reports"] = before["reports"] + [receipt]
    conn.execute(update(t).where(t.c.id == d["id"]).values(data=dumps(data),
                                                           updated_at=when.isoformat()))
    fields = {"receipt": receipt, "how": how,
              "distance_m": None if distance is None else round(float(distance), 1)}
    entry = audit.append(conn, actor, "case.report", "case", d["case_no"], before,
                         {"reports": data["reports"], "fields": fields})
    conn.execute(insert(tables.case_events_table).values(
        case_id=d["id"], at=when.isoformat(), actor=actor, action="report",
        from_state=d["state"], to_state=d["state"], fields=dumps(fields), audit_id=entry.id))


def open_report_case(conn: Connection, report: dict[str, Any], *, county: str, village: str,
                     actor: str, when: datetime, flow: CaseFlow, rules: ReportRules,
                     policy_version: str) -> dict[str, Any]:
    """Open a case of its own for a report that matched nothing.

    Parameters
    ----------
    conn : Connection
        Open transaction.
    report : dict
        ``receipt``, ``lon``, ``lat``, ``description``.
    county, village : str
        Where the place lies (codes; empty when unknown).
    actor : str
        Who is recorded (the public).
    when : datetime
        Time of the report.
    flow : CaseFlow
        The case lifecycle.
    rules : ReportRules
        The report rules (case number prefix).
    policy_version : str
        Version of ``public.yaml``, recorded on the run.

    Returns
    -------
    dict
        The new case row (as :func:`onemap.monitor.cases.open_case`).
    """
    r, j = tables.judge_runs_table, tables.judgements_table
    year = when.year
    run = conn.execute(select(r).where(r.c.changeset_dataset == REPORT_SOURCE,
                                       r.c.changeset_version == str(year))).first()
    if run is None:
        run_id = conn.execute(insert(r).values(
            changeset_dataset=REPORT_SOURCE, changeset_version=str(year), year=year,
            as_of=when.date().isoformat(), rules_version=policy_version, rules_sha256="",
            consulted="[]", summary="{}", created_at=when.isoformat(), created_by=actor,
        )).inserted_primary_key[0]
        run = conn.execute(select(r).where(r.c.id == run_id)).one()
    judgement = {
        "run_id": run.id, "tbbh": report["receipt"], "verdict": REPORT_VERDICT,
        "rule": REPORT_RULE, "reason": f"群众举报：{report['description'][:200]}",
        "priority": None, "county": county, "village": village,
        "lon": report["lon"], "lat": report["lat"], "facts": "{}", "hits": "{}",
    }
    judgement["id"] = conn.execute(insert(j).values(**judgement)).inserted_primary_key[0]
    return open_case(conn, judgement, run._asdict(), actor=actor, now=when, flow=flow,
                     prefix=rules.case_prefix)
