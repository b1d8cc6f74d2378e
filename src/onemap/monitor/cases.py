"""Enforcement cases: the lifecycle as a state machine written as data.

``case_flow.yaml`` lists the states (with deadline days), the actions, the
states each action may start from, the fields it requires, allowed values,
photo requirements and guards (e.g. a case judged 违法 cannot be closed
directly). :class:`CaseFlow` loads and checks it; :func:`transition` applies
one action to one case in one transaction: the case row (compare-and-set on
its state), an event row, evidence rows, and an audit-log row that chains to
the previous one. A refused move changes nothing and says why in Chinese.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from onemap.errors import InputError, Problem, WorkspaceError
from onemap.ledgers.flow import Flow, StateSpec, TransitionError, parse_flow
from onemap.monitor import _data
from onemap.monitor.evidence import Photo, distance_m, read_photo
from onemap.monitor.monitoring import normalize_date
from onemap.store import audit
from onemap.store import cases as tables
from onemap.store.catalog import dumps

#: The change set a case opened from a 群众举报 names (its judging run and judgement record the report).
REPORT_SOURCE = "群众举报"
#: The source of a case opened from a judged change patch.
PATCH_SOURCE = "卫片执法"

#: The case lifecycle is a generic :class:`~onemap.ledgers.flow.Flow` read from ``case_flow.yaml``.
CaseFlow = Flow


@lru_cache(maxsize=4)
def _load_flow(key: tuple[str, int]) -> CaseFlow:
    path = Path(key[0])
    data, sha = _data.read_yaml(path)
    return parse_flow(data, path, sha)


def load_flow(path: str | Path | None = None) -> CaseFlow:
    """Load ``case_flow.yaml`` (the shipped file, an override, or ``path``)."""
    p = _data.resolve("case_flow.yaml", path)
    return _load_flow((str(p), p.stat().st_mtime_ns))


# ---------------------------------------------------------------------------- time
def as_datetime(now: datetime | str | None) -> datetime:
    """A timezone-aware UTC datetime from None (now), a datetime or ISO text."""
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    if isinstance(now, str):
        text = now.strip()
        if len(text) == 10:
            text += "T00:00:00"
        now = datetime.fromisoformat(text)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).replace(microsecond=0)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


# ---------------------------------------------------------------------------- records
def case_to_dict(row: Any, flow: CaseFlow, now: datetime | None = None) -> dict[str, Any]:
    """JSON-ready case with state title, allowed actions and overdue status."""
    d = dict(row._asdict() if hasattr(row, "_asdict") else row)
    d["measures"] = json.loads(d.get("measures") or "[]")
    d["data"] = json.loads(d.get("data") or "{}")
    d["state_title"] = flow.state_title(d["state"])
    d["source"] = REPORT_SOURCE if d.get("changeset_dataset") == REPORT_SOURCE else PATCH_SOURCE
    d["sources"] = [d["source"]] + ([REPORT_SOURCE] if d["data"].get("reports")
                                    and d["source"] != REPORT_SOURCE else [])
    d["allowed_actions"] = [{"action": a, "title": flow.actions[a].title}
                            for a in flow.allowed(d["state"])]
    now = as_datetime(now)
    due = as_datetime(d["due_at"]) if d.get("due_at") else None
    final = flow.states.get(d["state"], StateSpec(title="")).final
    d["overdue"] = bool(due is not None and not final and due < now)
    d["overdue_days"] = (now - due).days if d["overdue"] else 0
    return d


def _find(conn: Connection, ref: int | str) -> Any:
    t = tables.cases_table
    stmt = select(t).where(t.c.case_no == str(ref))
    row = conn.execute(stmt).first()
    if row is None and str(ref).isdigit():
        row = conn.execute(select(t).where(t.c.id == int(ref))).first()
    if row is None:
        raise WorkspaceError(f"没有案件 {ref}")
    return row


def _snapshot(row: Any) -> dict[str, Any]:
    d = row._asdict() if hasattr(row, "_asdict") else dict(row)
    return {
        "case_no": d["case_no"], "state": d["state"], "determination": d.get("determination"),
        "measures": json.loads(d.get("measures") or "[]"), "due_at": d.get("due_at"),
        "closed_at": d.get("closed_at"), "data": json.loads(d.get("data") or "{}"),
    }


def open_case(
    conn: Connection,
    judgement: dict[str, Any],
    run: dict[str, Any],
    *,
    actor: str,
    now: datetime | str | None = None,
    flow: CaseFlow | None = None,
    prefix: str = "WP",
) -> dict[str, Any]:
    """Open (下发) a case for one suspected patch, inside the caller's transaction.

    Parameters
    ----------
    conn : Connection
        Open transaction on the workspace engine.
    judgement : dict
        Row of ``monitor_judgements``.
    run : dict
        Row of ``monitor_judge_runs``.
    actor : str
        Who issues the case.
    now : datetime or str, optional
        Time of issue (default now); the deadline counts from it.
    flow : CaseFlow, optional
        Default the shipped flow.
    prefix : str
        Case number prefix (``WP`` 卫片; a 群众举报 case takes the policy's prefix).

    Returns
    -------
    dict
        The new case row.
    """
    flow = flow or load_flow()
    when = as_datetime(now)
    t = tables.cases_table
    county = judgement.get("county") or "000000"
    year = run.get("year") or when.year
    prefix = f"{prefix}-{county}-{year}-"
    count = conn.execute(select(func.count()).where(t.c.case_no.like(prefix + "%"))).scalar()
    case_no = f"{prefix}{int(count) + 1:04d}"
    days = flow.states[flow.initial].deadline_days
    row = {
        "case_no": case_no, "run_id": run["id"], "judgement_id": judgement["id"],
        "changeset_dataset": run["changeset_dataset"],
        "changeset_version": run["changeset_version"], "tbbh": judgement["tbbh"],
        "county": judgement.get("county") or "", "village": judgement.get("village") or "",
        "lon": judgement.get("lon"), "lat": judgement.get("lat"), "year": year,
        "priority": judgement.get("priority"), "suggested": judgement["verdict"],
        "rule": judgement["rule"], "reason": judgement["reason"],
        "area_m2": judgement.get("area_m2") or 0.0,
        "gd_area_m2": judgement.get("gd_area_m2") or 0.0,
        "suspect_gd_area_m2": judgement.get("suspect_gd_area_m2") or 0.0,
        "state": flow.initial, "determination": None, "measures": "[]",
        "opened_at": _iso(when), "updated_at": _iso(when),
        "due_at": _iso(when + timedelta(days=days)) if days else None,
        "closed_at": None, "data": "{}",
    }
    case_id = conn.execute(insert(t).values(**row)).inserted_primary_key[0]
    entry = audit.append(conn, actor, "case.open", "case", case_no, None,
                         {**_snapshot(row), "judgement": {k: judgement.get(k) for k in (
                             "tbbh", "verdict", "rule", "reason", "area_m2",
                             "suspect_gd_area_m2")}, "run_id": run["id"]})
    conn.execute(insert(tables.case_events_table).values(
        case_id=case_id, at=_iso(when), actor=actor, action="open", from_state=None,
        to_state=flow.initial, fields=dumps({"judgement_id": judgement["id"]}),
        audit_id=entry.id))
    return {**row, "id": case_id}


def _norm_list(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [x.strip() for x in v.replace("，", ",").replace("、", ",").split(",") if x.strip()]
    return [str(x).strip() for x in v if str(x).strip()]


def _photos(v: Any) -> list[dict[str, Any]]:
    if v is None:
        return []
    if isinstance(v, str | Path | dict):
        v = [v]
    out = []
    for item in v:
        out.append({"path": str(item)} if isinstance(item, str | Path) else dict(item))
    return out


def check_fields(flow: CaseFlow, action: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the fields of one action (no database access).

    Returns
    -------
    dict
        Normalised fields: dates as ISO, measures as a list, photos as
        :class:`~onemap.monitor.evidence.Photo` dicts.

    Raises
    ------
    onemap.errors.InputError
        Missing required fields, values outside the choices, bad dates, too
        few photos or photos without position/time; every problem is listed.
    """
    spec = flow.actions[action]
    out = {k: v for k, v in fields.items() if v is not None and v != ""}
    problems: list[Problem] = []
    photos_in = _photos(out.pop("photos", None))
    for name in spec.required:
        if name not in out or (isinstance(out[name], list | tuple) and not out[name]):
            problems.append(Problem("required_field", f"「{spec.title}」须填写 {name}",
                                    field=name))
    for name in ("date", "deadline", "review_date"):
        if name in out:
            d = normalize_date(out[name])
            if not d:
                problems.append(Problem("bad_date", f"{name} 不是有效日期：{out[name]!r}",
                                        field=name))
            else:
                out[name] = d
    if "measures" in out:
        out["measures"] = _norm_list(out["measures"])
    for name, allowed in spec.choices.items():
        if name not in out:
            continue
        values = out[name] if isinstance(out[name], list) else [out[name]]
        bad = [str(v) for v in values if str(v) not in allowed]
        if bad:
            problems.append(Problem("bad_choice", f"{name} 的取值 {'、'.join(bad)} 不在允许范围"
                                    f"（{'、'.join(allowed)}）", field=name))
    photos: list[Photo] = []
    for p in photos_in:
        try:
            photos.append(read_photo(p["path"], lon=p.get("lon"), lat=p.get("lat"),
                                     taken_at=p.get("time") or p.get("taken_at"),
                                     note=p.get("note", "")))
        except InputError as exc:
            problems += exc.problems or [Problem("photo", exc.message)]
    if len(photos_in) < spec.min_photos:
        problems.append(Problem("photos_required",
                                f"「{spec.title}」须附至少 {spec.min_photos} 张带位置和时间的照片",
                                field="photos"))
    if problems:
        raise InputError(f"「{spec.title}」的填写不完整或有误（{len(problems)} 处）", problems)
    out["photos"] = [p.to_dict() for p in photos]
    return out


def transition(
    engine: Engine,
    case_ref: int | str,
    action: str,
    actor: str,
    *,
    fields: dict[str, Any] | None = None,
    now: datetime | str | None = None,
    flow: CaseFlow | None = None,
    hook: Callable[[Connection, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Apply one action to one case.

    Parameters
    ----------
    engine : Engine
        Workspace engine.
    case_ref : int or str
        Case id or case number (``WP-640302-2024-0001``).
    action : str
        An action of the flow (``evidence``, ``determine``, ``rectify``,
        ``prosecute``, ``complete``, ``reject``, ``close``).
    actor : str
        Who acts (recorded in the event and the audit log).
    fields : dict, optional
        The action's fields; ``photos`` is a list of paths or of dicts
        ``{path, lon, lat, time, note}``.
    now : datetime or str, optional
        Time of the action (default now); deadlines count from it.
    flow : CaseFlow, optional
        Default the shipped flow.
    hook : callable, optional
        Called inside the transaction once the move is written, with the connection and
        ``{"case_id", "case_no", "event_id", "audit_id", "photos"}``: a caller's own rows (the
        field app's evidence records) commit or roll back with the move.

    Returns
    -------
    dict
        The case after the action (see :func:`case_to_dict`) with ``event``.

    Raises
    ------
    TransitionError
        The action is not allowed from the case's state or determination.
    onemap.errors.InputError
        Fields are missing or invalid.
    onemap.errors.WorkspaceError
        The case does not exist.
    """
    flow = flow or load_flow()
    tables.ensure_tables(engine)
    audit.ensure_tables(engine)
    when = as_datetime(now)
    if action not in flow.actions:
        raise InputError(f"不认识的案件操作 {action}（可用：{'、'.join(flow.actions)}）")
    spec = flow.actions[action]
    with engine.connect() as conn:
        row = _find(conn, case_ref)
    _check_allowed(flow, row, action)
    clean = check_fields(flow, action, dict(fields or {}))
    t = tables.cases_table
    with engine.begin() as conn:
        row = _find(conn, case_ref)
        _check_allowed(flow, row, action)
        before = _snapshot(row)
        data = json.loads(row.data or "{}")
        photos = clean.pop("photos")
        data.update({k: v for k, v in clean.items() if k not in spec.sets})
        values: dict[str, Any] = {"state": spec.to, "updated_at": _iso(when),
                                  "data": dumps(data)}
        if "determination" in spec.sets:
            values["determination"] = clean["determination"]
        if "measures" in spec.sets:
            values["measures"] = dumps(clean["measures"])
        target = flow.states[spec.to]
        if target.final:
            values["due_at"] = None
            values["closed_at"] = _iso(when)
        elif spec.deadline_field and clean.get(spec.deadline_field):
            values["due_at"] = clean[spec.deadline_field] + "T23:59:59+00:00"
        elif target.deadline_days:
            values["due_at"] = _iso(when + timedelta(days=target.deadline_days))
        else:
            values["due_at"] = None
        res = conn.execute(update(t).where(t.c.id == row.id, t.c.state == row.state)
                           .values(**values))
        if res.rowcount != 1:
            raise TransitionError(f"案件 {row.case_no} 已被他人更新，请刷新后重试")
        after_row = conn.execute(select(t).where(t.c.id == row.id)).one()
        for ph in photos:
            if row.lon is not None and row.lat is not None:
                ph["distance_m"] = round(distance_m(ph["lon"], ph["lat"], row.lon, row.lat), 1)
        event_fields = {**clean, "photos": photos}
        entry = audit.append(conn, actor, f"case.{action}", "case", row.case_no, before,
                             {**_snapshot(after_row), "fields": event_fields})
        event_id = conn.execute(insert(tables.case_events_table).values(
            case_id=row.id, at=_iso(when), actor=actor, action=action, from_state=row.state,
            to_state=spec.to, fields=dumps(event_fields), audit_id=entry.id,
        )).inserted_primary_key[0]
        for ph in photos:
            conn.execute(insert(tables.evidence_table).values(
                case_id=row.id, event_id=event_id, path=ph["path"], sha256=ph["sha256"],
                lon=ph["lon"], lat=ph["lat"], taken_at=ph["taken_at"],
                position_source=ph["position_source"], note=ph.get("note", "")))
        if hook is not None:
            hook(conn, {"case_id": row.id, "case_no": row.case_no, "event_id": event_id,
                         "audit_id": entry.id, "photos": photos})
    out = case_to_dict(after_row, flow, when)
    out["event"] = {"id": event_id, "action": action, "title": spec.title,
                    "from_state": row.state, "to_state": spec.to, "at": _iso(when),
                    "actor": actor, "audit_id": entry.id, "fields": event_fields}
    return out


def _check_allowed(flow: CaseFlow, row: Any, action: str) -> None:
    spec = flow.actions[action]
    allowed = flow.allowed(row.state)
    allowed_text = "、".join(flow.actions[a].title for a in allowed) or "无（已办结）"
    if row.state not in spec.from_:
        need = "、".join(flow.state_title(s) for s in spec.from_)
        raise TransitionError(
            f"案件 {row.case_no} 当前状态为「{flow.state_title(row.state)}」，不能执行「{spec.title}」"
            f"（「{spec.title}」只能在「{need}」状态下执行）。当前可执行：{allowed_text}",
            [Problem("forbidden_transition", f"{row.state} → {action}", row=row.case_no)],
        )
    guard = spec.guards.get(row.state, {})
    data = json.loads(row.data or "{}")
    for fld, values in guard.items():
        have = getattr(row, fld, None) if fld in row._fields else data.get(fld)
        if str(have) not in values:
            raise TransitionError(
                f"案件 {row.case_no} 的{fld_title(fld)}为「{have}」，不能直接执行「{spec.title}」"
                f"（要求：{'、'.join(values)}）。当前可执行："
                + "、".join(flow.actions[a].title for a in allowed
                           if _guard_ok(flow, row, a)),
                [Problem("guard", f"{fld}={have}", row=row.case_no, field=fld)],
            )


def _guard_ok(flow: CaseFlow, row: Any, action: str) -> bool:
    guard = flow.actions[action].guards.get(row.state, {})
    data = json.loads(row.data or "{}")
    for fld, values in guard.items():
        have = getattr(row, fld, None) if fld in row._fields else data.get(fld)
        if str(have) not in values:
            return False
    return True


def fld_title(name: str) -> str:
    """Chinese name of a case field used in messages."""
    return {"determination": "判定结果", "measures": "处置措施"}.get(name, name)


def get_case(engine: Engine, case_ref: int | str, *, now: datetime | str | None = None,
             flow: CaseFlow | None = None) -> dict[str, Any]:
    """One case with its events and evidence."""
    flow = flow or load_flow()
    tables.ensure_tables(engine)
    with engine.connect() as conn:
        row = _find(conn, case_ref)
        ev = conn.execute(select(tables.case_events_table)
                          .where(tables.case_events_table.c.case_id == row.id)
                          .order_by(tables.case_events_table.c.id)).all()
        ph = conn.execute(select(tables.evidence_table)
                          .where(tables.evidence_table.c.case_id == row.id)
                          .order_by(tables.evidence_table.c.id)).all()
    out = case_to_dict(row, flow, now)
    out["events"] = [{**e._asdict(), "fields": json.loads(e.fields)} for e in ev]
    out["evidence"] = [p._asdict() for p in ph]
    return out


def list_cases(engine: Engine, *, county: str | None = None, state: str | None = None,
               overdue: bool = False, year: int | None = None,
               now: datetime | str | None = None,
               flow: CaseFlow | None = None) -> list[dict[str, Any]]:
    """Cases, optionally of one county/state/year or only overdue ones, by priority."""
    flow = flow or load_flow()
    tables.ensure_tables(engine)
    t = tables.cases_table
    stmt = select(t)
    if county:
        stmt = stmt.where(t.c.county == county)
    if state:
        stmt = stmt.where(t.c.state == state)
    if year is not None:
        stmt = stmt.where(t.c.year == int(year))
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(t.c.id)).all()
    out = [case_to_dict(r, flow, now) for r in rows]
    if overdue:
        out = [c for c in out if c["overdue"]]
    out.sort(key=lambda c: (c["priority"] if c["priority"] is not None else 99, c["id"]))
    return out
