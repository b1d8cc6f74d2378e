"""Use cases of the registers (台账) and the 占补平衡 accounts.

Every register is served alike: import (all or nothing, every write in the
audit chain), list, show, act (one move of the register's flow), export to
XLSX. The 占补平衡 use cases (:func:`cover`, :func:`uncover`, :func:`accounts`)
post to the journal in the same transaction as the record they change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry
from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.engine import Connection, Engine

from onemap.app.linkage import oversold_problems
from onemap.errors import InputError, Problem, WorkspaceError
from onemap.ledgers import computed, farmland, inout, linkage
from onemap.ledgers.balance import balance, load_flows
from onemap.ledgers.flow import TransitionError, check_move, deadline_status, due_at, missing_fields
from onemap.ledgers.rows import check_rows, check_values, map_columns
from onemap.ledgers.schema import Register, _fold, load_register, register_names
from onemap.ledgers.tables import attach_geometry, read_table
from onemap.monitor.cases import as_datetime
from onemap.monitor.changes import detect_changes
from onemap.monitor.classes import FLAG_COLUMNS, describe_codes
from onemap.reports.xlsx import write_workbook
from onemap.store import audit
from onemap.store import ledgers as tables
from onemap.store.base import Store
from onemap.store.catalog import dumps
from onemap.store.users import PermissionDenied


# ---------------------------------------------------------------------------- helpers
def _label(reg: Register, no: str) -> str:
    return f"{reg.title} {no}"


def _ready(engine: Engine) -> bool:
    return inspect(engine).has_table(tables.records_table.name)


def _find(conn: Connection, reg: Register, ref: str, *, lock: bool = False) -> Any:
    t = tables.records_table
    stmt = select(t).where(t.c.register == reg.name, t.c.record_no == str(ref))
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise WorkspaceError(f"「{reg.title}」台账中没有记录 {ref}",
                             [Problem("record_not_found", str(ref), row=str(ref))])
    return row


def record_to_dict(reg: Register, row: Any, now: datetime) -> dict[str, Any]:
    """JSON-ready record: values, state title, allowed actions, deadline status."""
    d = row._asdict()
    due = as_datetime(d["due_at"]) if d.get("due_at") else None
    return {
        "id": d["id"], "register": reg.name, "record_no": d["record_no"], "state": d["state"],
        "state_title": reg.flow.state_title(d["state"]), "county": d["county"],
        "values": json.loads(d["data"]), "has_geometry": d["geometry"] is not None,
        "created_at": d["created_at"], "updated_at": d["updated_at"], "due_at": d["due_at"],
        **deadline_status(reg.flow, d["state"], due, now),
        "allowed_actions": [{"action": a, "title": reg.flow.actions[a].title}
                            for a in reg.flow.allowed(d["state"])],
    }


def _snapshot(row: Any) -> dict[str, Any]:
    d = row._asdict() if hasattr(row, "_asdict") else dict(row)
    return {"record_no": d["record_no"], "state": d["state"], "county": d["county"],
            "values": json.loads(d["data"]), "due_at": d.get("due_at"),
            "geometry": d.get("geometry")}


def _journal(conn: Connection, entries: list[dict[str, Any]], actor: str, when: datetime,
             audit_id: int) -> None:
    for e in entries:
        conn.execute(insert(tables.journal_table).values(
            **e, at=when.isoformat(), actor=actor, audit_id=audit_id))


def _supply_entries(cfg: farmland.AccountsConfig, reg: Register, record: dict[str, Any],
                    county: str, no: str) -> list[dict[str, Any]]:
    """入库 + entries of a project that reaches the stored state."""
    got = farmland.amounts(cfg, record, "supply", _label(reg, no))
    return [{"county": county, "measure": m, "kind": "入库", "amount_cents": a, "project_no": no,
             "occupation_no": None, "note": ""} for m, a in got.items() if a]


def _insert(conn: Connection, reg: Register, key: str, county: str, state: str, values: dict[str, Any],
            geometry: str | None, actor: str, when: datetime, source: dict[str, Any]) -> int:
    """Write one new record with its creation event and audit row; return its id."""
    return _insert_many(conn, reg, [(key, county, state, values, geometry, source)], actor, when)[0]


def _insert_many(conn: Connection, reg: Register,
                 items: list[tuple[str, str, str, dict[str, Any], str | None, dict[str, Any]]],
                 actor: str, when: datetime) -> list[int]:
    """Write new records, each with its creation event and its own audit row, in three batches.

    ``items`` are ``(key, county, state, values, geometry, source)``. Records,
    audit rows and events go in with one ``executemany`` each (the audit chain
    is the same as one append per record); returns the record ids in order.
    """
    if not items:
        return []
    at = when.isoformat()
    rows = [{"register": reg.name, "record_no": key, "state": state, "county": county,
             "data": dumps(values), "geometry": geom, "created_at": at, "updated_at": at,
             "due_at": due_at(reg.flow, None, state, when)}
            for key, county, state, values, geom, _ in items]
    t = tables.records_table
    conn.execute(insert(t), rows)
    keys = [r["record_no"] for r in rows]
    ids: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        ids.update(conn.execute(select(t.c.record_no, t.c.id)
                                .where(t.c.register == reg.name, t.c.record_no.in_(chunk))).all())
    entries = audit.append_many(conn, actor, [("ledger.create", "ledger", f"{reg.name}/{r['record_no']}",
                                               None, _snapshot(r)) for r in rows])
    conn.execute(insert(tables.events_table), [
        {"record_id": ids[r["record_no"]], "at": at, "actor": actor, "action": "import", "from_state": None,
         "to_state": r["state"], "fields": dumps(item[5]), "audit_id": e.id}
        for r, item, e in zip(rows, items, entries, strict=True)])
    return [int(ids[k]) for k in keys]


# ---------------------------------------------------------------------------- import
def import_records(store: Store, register: str, path: str | Path, *, actor: str,
                   layer: str | None = None, encoding: str | None = None,
                   now: datetime | str | None = None, geometry: str | Path | None = None,
                   within: str | None = None, synthetic: bool = False) -> dict[str, Any]:
    """Import a register's records from an XLSX/CSV export or a geodata file.

    Every row is checked first (columns by name, title or synonym; types, code
    lists, required fields, keys not already in the register, states); any
    problem refuses the whole file and nothing is written. Records come in
    with the state of their 状态 column (default the flow's initial state); a
    补充耕地项目 imported as 入库 posts its 入库 entries to the accounts.

    ``within`` (a county-scoped importer's county code) refuses the whole file
    when any record's county code is outside it. ``synthetic`` marks the
    records as made-up data (the sample): their import event and the import's
    audit row say so, and the register's title then ends with （模拟数据）.

    Returns
    -------
    dict
        ``register``, ``file``, ``imported`` (count), ``records`` (numbers),
        ``ignored_columns``, ``journal_entries``, ``audit_id``.

    Raises
    ------
    onemap.errors.InputError
        The file cannot be read or any row is refused (row, field and rule named).
    """
    reg = load_register(register)
    when = as_datetime(now)
    src = read_table(path, layer=layer, encoding=encoding)
    if geometry is not None:
        src = _with_geometry(reg, src, read_table(geometry, encoding=encoding))
    if reg.geometry == "none" and src.geometry is not None:
        geoms = None
    else:
        geoms = src.geometry
    mapping, ignored = map_columns(reg, src.columns, src.file_name)
    rows = [{mapping[c]: v for c, v in r.items() if c in mapping} for r in src.rows]
    rows = computed.fill(reg, rows, list(geoms) if geoms is not None else None)
    has_geom = ([g is not None and not g.is_empty for g in geoms] if geoms is not None
                else [False] * len(rows))
    engine = store.sql_engine()
    existing: set[str] = set()
    if _ready(engine):
        t = tables.records_table
        with engine.connect() as conn:
            existing = set(conn.execute(select(t.c.record_no).where(t.c.register == reg.name)).scalars())
    checked = check_rows(reg, rows, src.labels, src.file_name, existing, has_geometry=has_geom)
    if reg.name == linkage.load_config().registers["trade"]:
        problems = oversold_problems(store, [(linkage.Record(r.key, r.state, r.county, r.values), r.row)
                                             for r in checked.records], file=src.file_name)
        if problems:
            raise InputError(f"{src.file_name}：{len(problems)} 笔指标交易超过节余指标，整个文件未导入："
                             + "；".join(p.message for p in problems), problems)
    if within:
        outside = [Problem("out_of_scope", f"{src.file_name} {r.row}：行政区代码 {r.county or '（空）'} "
                           f"不在本人辖区 {within} 内", file=src.file_name, row=str(r.row), field=reg.county)
                   for r in checked.records if not str(r.county or "").startswith(within)]
        if outside:
            raise PermissionDenied(f"{src.file_name} 有 {len(outside)} 行不属于本人辖区（{within}），整个文件未导入："
                                   + "；".join(p.message for p in outside[:20]), outside)
    cfg = farmland.load_accounts()
    entries = []
    if reg.name == cfg.supply_register:
        for r in checked.records:
            if r.state == cfg.stored_state:
                entries += _supply_entries(cfg, reg, r.values, r.county, r.key)
    tables.ensure_tables(engine)
    audit.ensure_tables(engine)
    with engine.begin() as conn:
        entry = audit.append(conn, actor, "ledger.import", "ledger", reg.name, None, {
            "file": src.file_name, "sha256": src.sha256, "rows": len(checked.records),
            "records": [r.key for r in checked.records], **({"synthetic": True} if synthetic else {})})
        conn.execute(insert(tables.imports_table).values(
            register=reg.name, file=src.file_name, sha256=src.sha256, rows=len(checked.records),
            at=when.isoformat(), actor=actor, audit_id=entry.id))
        _insert_many(conn, reg, [
            (r.key, r.county, r.state, r.values,
             shapely.to_wkb(geoms.iloc[r.geometry_index], hex=True) if r.geometry_index is not None else None,
             {"file": src.file_name, "row": r.row, **({"synthetic": True} if synthetic else {})})
            for r in checked.records], actor, when)
        if entries:
            j = audit.append(conn, actor, "farmland.store", "farmland_journal", reg.name, None,
                             {"entries": entries})
            _journal(conn, entries, actor, when, j.id)
    return {"register": reg.name, "title": reg.title, "file": src.file_name,
            "imported": len(checked.records), "records": [r.key for r in checked.records],
            "ignored_columns": ignored, "journal_entries": len(entries), "audit_id": entry.id}


def _with_geometry(reg: Register, src: Any, shapes: Any) -> Any:
    """The table's rows with the features of a separate geodata file, matched on the register's key."""
    if src.geometry is not None:
        raise InputError(f"{src.file_name} 已带图形，不能再指定图形文件",
                         [Problem("geometry_twice", src.file_name, file=src.file_name)])
    if shapes.geometry is None:
        raise InputError(f"{shapes.file_name} 不是图形文件（应为 GeoPackage/Shapefile/GeoJSON 等）",
                         [Problem("not_geodata", shapes.file_name, file=shapes.file_name)])
    headers = reg.headers()
    keys = []
    for t in (src, shapes):
        col = next((c for c in t.columns if headers.get(_fold(c)) == reg.key), None)
        if col is None:
            title = reg.field(reg.key).title
            raise InputError(f"{t.file_name} 没有 {reg.key}（{title}）列，无法把表格与图形对应",
                             [Problem("missing_column", reg.key, file=t.file_name, field=reg.key)])
        keys.append(col)
    return attach_geometry(src, shapes, keys[0], keys[1], reg.field(reg.key).title)


# ---------------------------------------------------------------------------- read
def _matches(record: dict[str, Any], text: str) -> bool:
    """Whether ``text`` (case-folded) occurs in the record's number or any of its values."""
    if text in str(record["record_no"]).casefold():
        return True
    return any(text in str(v).casefold() for v in record["values"].values() if v is not None)


def list_records(store: Store, register: str, *, state: str | None = None,
                 county: str | None = None, deadline: str | None = None,
                 now: datetime | str | None = None, text: str | None = None,
                 within: str | None = None, offset: int = 0, limit: int | None = None,
                 geometry: bool = False) -> dict[str, Any]:
    """Records of a register, optionally of one state, county or deadline status.

    Parameters
    ----------
    store : Store
        The workspace.
    register : str
        Register name or title.
    state : str, optional
        A state key or title.
    county : str, optional
        Records whose county field equals this code.
    deadline : str, optional
        正常, 即将到期 or 已逾期.
    now : datetime or str, optional
        Time the deadlines are judged at (default now).
    text : str, optional
        Keep records whose number or any value contains this text (case-insensitive).
    within : str, optional
        Keep records whose county code starts with this code (a county-scoped user's scope).
    offset, limit : int
        The page of matching records returned in ``records`` (``count`` is all of them).
    geometry : bool
        Add each returned record's geometry as a GeoJSON object (``geometry``).

    Returns
    -------
    dict
        ``register``, ``title``, ``count`` (matching), ``by_state`` (matching, per state
        title), ``warnings`` (matching records 即将到期 or 已逾期), ``offset``, ``limit``,
        ``records`` (the page).
    """
    reg = load_register(register)
    when = as_datetime(now)
    engine = store.sql_engine()
    out: list[dict[str, Any]] = []
    geoms: list[str | None] = []
    if state is not None and reg.flow.state_key(state) is None:
        raise InputError(f"「{reg.title}」没有状态 {state}（可选："
                         + "、".join(s.title for s in reg.flow.states.values()) + "）")
    if deadline is not None and deadline not in DEADLINES:
        raise InputError(f"期限应为 {'、'.join(DEADLINES)} 之一：{deadline}")
    if _ready(engine):
        t = tables.records_table
        stmt = select(t).where(t.c.register == reg.name)
        if state is not None:
            stmt = stmt.where(t.c.state == reg.flow.state_key(state))
        if county:
            stmt = stmt.where(t.c.county == county)
        if within:
            stmt = stmt.where(t.c.county.startswith(within, autoescape=True))
        with engine.connect() as conn:
            for r in conn.execute(stmt.order_by(t.c.id)):
                out.append(record_to_dict(reg, r, when))
                geoms.append(r.geometry)
    keep = [i for i, r in enumerate(out)
            if (not deadline or r["deadline"] == deadline)
            and (not text or _matches(r, text.strip().casefold()))]
    out = [out[i] for i in keep]
    geoms = [geoms[i] for i in keep]
    counts: dict[str, int] = {}
    for r in out:
        counts[r["state_title"]] = counts.get(r["state_title"], 0) + 1
    warnings = sum(r["deadline"] in ("即将到期", "已逾期") for r in out)
    total = len(out)
    stop = None if limit is None else offset + limit
    page, page_geoms = out[offset:stop], geoms[offset:stop]
    if geometry:
        for r, g in zip(page, page_geoms, strict=True):
            r["geometry"] = _geojson(g)
    return {"register": reg.name, "title": reg.title, "count": total, "by_state": counts,
            "warnings": warnings, "offset": offset, "limit": limit, "records": page}


#: Deadline statuses a listing may filter on.
DEADLINES = ("正常", "即将到期", "已逾期", "无期限")


def _geojson(wkb_hex: str | None) -> dict[str, Any] | None:
    if not wkb_hex:
        return None
    return json.loads(shapely.to_geojson(shapely.from_wkb(bytes.fromhex(wkb_hex))))


def register_catalog(store: Store, *, within: str | None = None,
                     now: datetime | str | None = None) -> dict[str, Any]:
    """Every register (shipped or added in the override folder) with its schema and counts.

    Parameters
    ----------
    store : Store
        The workspace.
    within : str, optional
        Count only records whose county code starts with this code.
    now : datetime or str, optional
        Time the deadline warnings are judged at.

    Returns
    -------
    dict
        ``registers``: per register ``name``, ``title``, ``key``, ``county``, ``geometry``
        (none/optional/required), ``has_geometry``, ``fields`` (name, title, type, unit, codes,
        required), ``states`` (key, title, final, deadline_days, warn_days), ``actions``,
        ``count``, ``by_state``, ``warnings``.
    """
    when = as_datetime(now)
    rows: dict[str, list[Any]] = {}
    engine = store.sql_engine()
    if _ready(engine):
        t = tables.records_table
        stmt = select(t.c.register, t.c.state, t.c.due_at)
        if within:
            stmt = stmt.where(t.c.county.startswith(within, autoescape=True))
        with engine.connect() as conn:
            for r in conn.execute(stmt):
                rows.setdefault(r.register, []).append(r)
            synthetic = _synthetic_registers(conn)
    else:
        synthetic = set()
    out = []
    for name in register_names():
        reg = load_register(name)
        mine = rows.get(reg.name, [])
        by_state: dict[str, int] = {}
        warnings = 0
        for r in mine:
            title = reg.flow.state_title(r.state)
            by_state[title] = by_state.get(title, 0) + 1
            due = as_datetime(r.due_at) if r.due_at else None
            warnings += deadline_status(reg.flow, r.state, due, when)["deadline"] in ("即将到期", "已逾期")
        out.append({
            "name": reg.name, "title": reg.title, "key": reg.key, "county": reg.county,
            "geometry": reg.geometry, "has_geometry": reg.geometry != "none",
            "fields": [{"name": f.name, "title": f.title, "type": f.type, "unit": f.unit,
                        "codes": list(f.codes), "required": f.required} for f in reg.fields],
            "states": [{"key": k, "title": s.title, "final": s.final, "deadline_days": s.deadline_days,
                        "warn_days": s.warn_days} for k, s in reg.flow.states.items()],
            "actions": [{"action": k, "title": a.title, "from": list(a.from_), "to": a.to,
                         "required": list(a.required), "choices": dict(a.choices), "roles": list(a.roles)}
                        for k, a in reg.flow.actions.items()],
            "count": len(mine), "by_state": by_state, "warnings": warnings,
            "synthetic": reg.name in synthetic,
            "display_title": reg.title + ("（模拟数据）" if reg.name in synthetic else "")})
    return {"registers": out}


def _synthetic_registers(conn: Connection) -> set[str]:
    """Registers holding records imported as synthetic (their import event says ``synthetic``)."""
    t, e = tables.records_table, tables.events_table
    found = conn.execute(select(t.c.register, e.c.fields).join(e, e.c.record_id == t.c.id)
                         .where(e.c.action == "import", e.c.fields.contains('"synthetic"'))).all()
    return {reg for reg, fields in found if json.loads(fields).get("synthetic") is True}


def is_synthetic(store: Store, register: str) -> bool:
    """Whether a register holds records imported as synthetic (sample) data."""
    reg = load_register(register)
    engine = store.sql_engine()
    if not _ready(engine):
        return False
    with engine.connect() as conn:
        return reg.name in _synthetic_registers(conn)


def register_frame(store: Store, register: str, *, within: str | None = None,
                   now: datetime | str | None = None) -> gpd.GeoDataFrame:
    """A register's records with geometry as a GeoDataFrame (EPSG:4490), for map services.

    Columns: every field of the register (by its standard name), then ``ZT`` (state title),
    ``DQRQ`` (due date), ``QXZT`` (deadline status). Records without geometry are left out.
    The index is the record's id (stable: a feature id that does not depend on who asks).
    """
    reg = load_register(register)
    listing = list_records(store, register, within=within, now=now, geometry=True)
    cols = [f.name for f in reg.fields]
    recs = [r for r in listing["records"] if r["geometry"] is not None]
    frame = pd.DataFrame([[r["values"].get(c) for c in cols]
                          + [r["state_title"], (r["due_at"] or "")[:10] or None, r["deadline"]]
                          for r in recs], columns=[*cols, *FRAME_EXTRA])
    for f in reg.fields:
        if f.type == "number":
            frame[f.name] = pd.to_numeric(frame[f.name], errors="coerce").astype("float64")
        elif f.type == "int":
            frame[f.name] = pd.to_numeric(frame[f.name], errors="coerce").astype("Int64")
    frame.index = pd.Index([int(r["id"]) for r in recs], dtype="int64", name="id")
    geoms = [shapely.geometry.shape(r["geometry"]) for r in recs]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=4490), crs=4490)


#: The columns :func:`register_frame` adds after the register's fields, with their titles.
FRAME_EXTRA = {"ZT": "状态", "DQRQ": "到期日", "QXZT": "期限"}


def get_record(store: Store, register: str, ref: str, *,
               now: datetime | str | None = None) -> dict[str, Any]:
    """One record with its events, its history in the audit chain and its 占补平衡 journal entries.

    ``history`` lists the audit rows written for the record (``ledger.create``,
    each move, 挂钩/撤销): id, time, actor, action, and the row's hash and the
    previous row's hash, so a reader can check it against ``onemap audit verify``.
    """
    reg = load_register(register)
    engine = store.sql_engine()
    if not _ready(engine):
        raise WorkspaceError(f"「{reg.title}」台账中没有记录 {ref}",
                             [Problem("record_not_found", str(ref), row=str(ref))])
    with engine.connect() as conn:
        row = _find(conn, reg, ref)
        ev = conn.execute(select(tables.events_table).where(tables.events_table.c.record_id == row.id)
                          .order_by(tables.events_table.c.id)).all()
        j = tables.journal_table
        col = j.c.project_no if reg.name == farmland.load_accounts().supply_register else j.c.occupation_no
        je = conn.execute(select(j).where(col == row.record_no).order_by(j.c.id)).all()
        trail = audit.entries(conn, entity="ledger", entity_id=f"{reg.name}/{row.record_no}")
    out = record_to_dict(reg, row, as_datetime(now))
    out["geometry_wkb"] = row.geometry
    out["geometry"] = _geojson(row.geometry)
    out["titles"] = {f.name: f.title for f in reg.fields}
    out["events"] = [{**e._asdict(), "fields": json.loads(e.fields)} for e in ev]
    out["journal"] = [_entry_dict(e) for e in je]
    out["history"] = [{"audit_id": a.id, "at": a.at, "actor": a.actor, "action": a.action,
                       "title": _history_title(reg, a.action), "hash": a.hash, "prev_hash": a.prev_hash}
                      for a in trail]
    return out


def _history_title(reg: Register, action: str) -> str:
    """Chinese name of an audit action on a record (the flow's action title where it is one)."""
    name = action.split(".", 1)[-1]
    if action.startswith("ledger.") and name in reg.flow.actions:
        return reg.flow.actions[name].title
    return HISTORY_TITLES.get(action, action)


#: Titles of the audit actions on a record that are not moves of its flow.
HISTORY_TITLES = {"ledger.create": "登记（导入）", "farmland.cover": "挂钩核销",
                  "farmland.uncover": "撤销挂钩"}


def _entry_dict(e: Any) -> dict[str, Any]:
    d = e._asdict()
    d["amount"] = d.pop("amount_cents") / 100
    return d


# ---------------------------------------------------------------------------- act
def act(store: Store, register: str, ref: str, action: str, *, actor: str,
        role: str | None = None, fields: dict[str, Any] | None = None,
        now: datetime | str | None = None,
        hook: Callable[[Connection, dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Make one move of the register's flow on one record.

    Fields that are register fields (e.g. ``YSRQ`` on 验收) are checked
    against the schema and written on the record; others (``notes``) are kept
    on the event. A 补充耕地项目 that reaches 入库 posts its 入库 entries.

    Parameters
    ----------
    store : Store
        The workspace.
    register : str
        Register name or title.
    ref : str
        The record's number.
    action : str
        An action of the register's flow.
    actor : str
        Who acts.
    role : str, optional
        The actor's role, checked against the action's roles (None: a trusted
        local operator, not checked).
    fields : dict, optional
        The action's fields.
    now : datetime or str, optional
        Time of the move (default now).
    hook : callable, optional
        Called inside the transaction once the move is written, with the connection and
        ``{"record_id", "record_no", "audit_id"}``: a caller's own rows commit or roll back with it.

    Raises
    ------
    TransitionError
        The state, a guard or the role does not allow the move.
    onemap.errors.InputError
        Fields missing or invalid.
    """
    reg = load_register(register)
    when = as_datetime(now)
    engine = store.sql_engine()
    if not _ready(engine):
        raise WorkspaceError(f"「{reg.title}」台账中没有记录 {ref}")
    label = _label(reg, ref)
    fields = {k: v for k, v in (fields or {}).items() if v not in (None, "")}
    _refuse_oversold_move(store, reg, ref, action, fields, label)
    t = tables.records_table
    cfg = farmland.load_accounts()
    with engine.begin() as conn:
        row = _find(conn, reg, ref)
        values = json.loads(row.data)
        spec = check_move(reg.flow, label, row.state, values, action, role)
        problems = missing_fields(spec, {**values, **fields})
        names = {f.name for f in reg.fields}
        own = {k: v for k, v in fields.items() if k in names}
        geom = shapely.from_wkb(bytes.fromhex(row.geometry)) if row.geometry else None
        [merged] = computed.fill(reg, [{**values, **own}], [geom])
        clean = check_values(reg, merged, label, reg.name, problems)
        if problems:
            raise InputError(f"{label}「{spec.title}」的填写不完整或有误（{len(problems)} 处）："
                             + "；".join(p.message for p in problems), problems)
        before = _snapshot(row)
        new = {"state": spec.to, "data": dumps(clean), "updated_at": when.isoformat(),
               "due_at": due_at(reg.flow, spec, spec.to, when, fields)}
        res = conn.execute(update(t).where(t.c.id == row.id, t.c.state == row.state).values(**new))
        if res.rowcount != 1:
            raise TransitionError(f"{label} 已被他人更新，请刷新后重试")
        after = conn.execute(select(t).where(t.c.id == row.id)).one()
        entry = audit.append(conn, actor, f"ledger.{action}", "ledger", f"{reg.name}/{ref}", before,
                             {**_snapshot(after), "fields": fields})
        conn.execute(insert(tables.events_table).values(
            record_id=row.id, at=when.isoformat(), actor=actor, action=action,
            from_state=row.state, to_state=spec.to, fields=dumps(fields), audit_id=entry.id))
        posted = []
        if reg.name == cfg.supply_register and spec.to == cfg.stored_state:
            posted = _supply_entries(cfg, reg, clean, row.county, row.record_no)
            _journal(conn, posted, actor, when, entry.id)
        if hook is not None:
            hook(conn, {"record_id": row.id, "record_no": row.record_no, "audit_id": entry.id})
    out = record_to_dict(reg, after, when)
    out["event"] = {"action": action, "title": spec.title, "from_state": row.state,
                    "to_state": spec.to, "at": when.isoformat(), "actor": actor,
                    "audit_id": entry.id, "fields": fields}
    out["journal_entries"] = len(posted)
    return out


def _refuse_oversold_move(store: Store, reg: Register, ref: str, action: str, fields: dict[str, Any],
                          label: str) -> None:
    """A move of a 指标交易 into a live state is refused when the trade sells more than is left."""
    cfg = linkage.load_config()
    spec = reg.flow.actions.get(action)
    if reg.name != cfg.registers["trade"] or spec is None or spec.to in cfg.void_states:
        return
    with store.sql_engine().connect() as conn:
        row = _find(conn, reg, ref)
    names = {f.name for f in reg.fields}
    values = {**json.loads(row.data), **{k: v for k, v in fields.items() if k in names}}
    problems = oversold_problems(store, [(linkage.Record(row.record_no, spec.to, row.county, values), None)])
    if problems:
        raise InputError(f"{label}「{spec.title}」被拒绝：" + "；".join(p.message for p in problems), problems)


# ---------------------------------------------------------------------------- export
def export_records(store: Store, register: str, out: str | Path, *, state: str | None = None,
                   county: str | None = None, now: datetime | str | None = None,
                   deadline: str | None = None, text: str | None = None,
                   within: str | None = None) -> dict[str, Any]:
    """Write a register's records to XLSX (Chinese headers: field titles, 状态, 到期日, 期限).

    The filters are those of :func:`list_records` (``within``: a county scope).
    """
    listing = list_records(store, register, state=state, county=county, now=now, deadline=deadline,
                           text=text, within=within)
    reg = load_register(register)
    cols = [f.name for f in reg.fields]
    frame = pd.DataFrame(
        [[r["values"].get(c) for c in cols] + [r["state_title"], (r["due_at"] or "")[:10], r["deadline"]]
         for r in listing["records"]],
        columns=[*cols, "state_title", "due", "deadline"])
    headers = {f.name: f"{f.title}（{f.unit}）" if f.unit else f.title for f in reg.fields}
    headers.update({"state_title": "状态", "due": "到期日", "deadline": "期限"})
    path = write_workbook(out, {reg.title: frame}, headers=headers,
                          titles={reg.title: f"{reg.title}台账（{listing['count']} 条）"})
    return {"register": reg.name, "title": reg.title, "count": listing["count"], "xlsx": str(path)}


# ---------------------------------------------------------------------------- 占补平衡
def _available(conn: Connection, cfg: farmland.AccountsConfig, reg: Register, row: Any) -> dict[str, int]:
    """What a project still has on each measure (its account entries; its record if not 入库)."""
    j = tables.journal_table
    got = dict(conn.execute(
        select(j.c.measure, func.sum(j.c.amount_cents))
        .where(j.c.project_no == row.record_no, j.c.county == row.county)
        .group_by(j.c.measure)).all())
    base = ({} if row.state == cfg.stored_state
            else farmland.amounts(cfg, json.loads(row.data), "supply", _label(reg, row.record_no)))
    return {m: int(base.get(m, 0)) + int(got.get(m) or 0) for m in cfg.measures}


def _covered(conn: Connection, record_id: int) -> bool:
    e = tables.events_table
    last = conn.execute(select(e.c.action).where(e.c.record_id == record_id,
                                                 e.c.action.in_(("cover", "uncover")))
                        .order_by(e.c.id.desc()).limit(1)).scalar()
    return last == "cover"


def cover(store: Store, occupation: str, projects: list[str], *, actor: str,
          now: datetime | str | None = None) -> dict[str, Any]:
    """挂钩 an occupation to 补充耕地项目 and post the 核销 (and 调剂) entries.

    The projects are drawn on in the order given. A project of another county
    moves the amount by 调剂 (− in its county, + in the occupation's) before
    the 核销. Everything — entries, the occupation's event, the audit row —
    is one transaction; a refusal writes nothing.

    Returns
    -------
    dict
        ``occupation``, ``exception``, ``demand`` and the ``entries`` posted.

    Raises
    ------
    onemap.ledgers.farmland.CoverRefused
        A project not 入库 without an allowing exception flag (先补后占), or a
        measure the projects cannot cover (named with the amounts).
    onemap.errors.InputError
        Occupation withdrawn or already covered, a project listed twice.
    """
    cfg = farmland.load_accounts()
    occ_reg = load_register(cfg.demand_register)
    sup_reg = load_register(cfg.supply_register)
    when = as_datetime(now)
    engine = store.sql_engine()
    if not _ready(engine):
        raise WorkspaceError(f"「{occ_reg.title}」台账中没有记录 {occupation}")
    if len(set(projects)) != len(projects):
        raise InputError("挂钩的补充耕地项目重复：" + "、".join(projects))
    label = _label(occ_reg, occupation)
    t = tables.records_table
    with engine.begin() as conn:
        occ = _find(conn, occ_reg, occupation)
        # Write first: the transaction holds the write lock (SQLite) before reading any balance,
        # and project rows are locked (PostgreSQL), so two covers cannot draw on the same remainder.
        conn.execute(update(t).where(t.c.id == occ.id).values(updated_at=when.isoformat()))
        if occ.state in cfg.closed_states:
            raise TransitionError(f"{label} 状态为「{occ_reg.flow.state_title(occ.state)}」，不能挂钩")
        if _covered(conn, occ.id):
            raise InputError(f"{label} 已挂钩，如需改挂请先撤销挂钩（onemap farmland uncover）",
                             [Problem("already_covered", occupation, row=occupation)])
        values = json.loads(occ.data)
        exception = str(values.get(cfg.exception_field) or "无")
        demand = farmland.amounts(cfg, values, "demand", label)
        if not projects and cfg.exceptions.get(exception) != "exempt":
            raise InputError(f"{label} 须指定挂钩的补充耕地项目（--projects）")
        sources_ = []
        for no in projects:
            prow = _find(conn, sup_reg, no, lock=True)
            sources_.append(farmland.Source(no, prow.county, prow.state,
                                            sup_reg.flow.state_title(prow.state),
                                            _available(conn, cfg, sup_reg, prow)))
        draws = farmland.allocate(cfg, occupation, demand, exception, sources_)
        entries = []
        for d in draws:
            base = {"measure": d.measure, "project_no": d.project_no, "occupation_no": occupation}
            if d.county != occ.county:
                note = f"{d.county} → {occ.county}"
                entries += [{**base, "county": d.county, "kind": "调剂", "amount_cents": -d.amount,
                             "note": note},
                            {**base, "county": occ.county, "kind": "调剂", "amount_cents": d.amount,
                             "note": note}]
            entries.append({**base, "county": occ.county, "kind": "核销", "amount_cents": -d.amount,
                            "note": ""})
        fields = {"projects": projects, "exception": exception,
                  "demand": {m: a / 100 for m, a in demand.items()}}
        entry = audit.append(conn, actor, "farmland.cover", "ledger", f"{occ_reg.name}/{occupation}",
                             None, {**fields, "entries": entries})
        conn.execute(insert(tables.events_table).values(
            record_id=occ.id, at=when.isoformat(), actor=actor, action="cover",
            from_state=occ.state, to_state=occ.state, fields=dumps(fields), audit_id=entry.id))
        _journal(conn, entries, actor, when, entry.id)
    return {"occupation": occupation, "county": occ.county, "exception": exception,
            "exempt": cfg.exceptions.get(exception) == "exempt", "projects": projects,
            "demand": {m: a / 100 for m, a in demand.items()},
            "entries": [{**e, "amount": e["amount_cents"] / 100} for e in entries],
            "audit_id": entry.id}


def uncover(store: Store, occupation: str, *, actor: str, notes: str = "",
            now: datetime | str | None = None) -> dict[str, Any]:
    """撤销 an occupation's 挂钩: post the opposite of its net entries (kind 撤销)."""
    cfg = farmland.load_accounts()
    occ_reg = load_register(cfg.demand_register)
    when = as_datetime(now)
    engine = store.sql_engine()
    if not _ready(engine):
        raise WorkspaceError(f"「{occ_reg.title}」台账中没有记录 {occupation}")
    label = _label(occ_reg, occupation)
    j = tables.journal_table
    t = tables.records_table
    with engine.begin() as conn:
        occ = _find(conn, occ_reg, occupation)
        conn.execute(update(t).where(t.c.id == occ.id).values(updated_at=when.isoformat()))
        if not _covered(conn, occ.id):
            raise InputError(f"{label} 未挂钩，无需撤销", [Problem("not_covered", occupation)])
        net = conn.execute(
            select(j.c.county, j.c.measure, j.c.project_no, func.sum(j.c.amount_cents))
            .where(j.c.occupation_no == occupation)
            .group_by(j.c.county, j.c.measure, j.c.project_no)
            .order_by(j.c.project_no, j.c.measure, j.c.county)).all()
        entries = [{"county": c, "measure": m, "kind": "撤销", "amount_cents": -int(a),
                    "project_no": p, "occupation_no": occupation, "note": notes}
                   for c, m, p, a in net if a]
        entry = audit.append(conn, actor, "farmland.uncover", "ledger", f"{occ_reg.name}/{occupation}",
                             None, {"notes": notes, "entries": entries})
        conn.execute(insert(tables.events_table).values(
            record_id=occ.id, at=when.isoformat(), actor=actor, action="uncover",
            from_state=occ.state, to_state=occ.state, fields=dumps({"notes": notes}),
            audit_id=entry.id))
        _journal(conn, entries, actor, when, entry.id)
    return {"occupation": occupation, "entries": [{**e, "amount": e["amount_cents"] / 100}
                                                  for e in entries], "audit_id": entry.id}


def accounts(store: Store, *, county: str | None = None) -> dict[str, Any]:
    """Per county and measure: 入库, 核销, 调剂, 撤销 totals and the balance, with the journal."""
    cfg = farmland.load_accounts()
    engine = store.sql_engine()
    rows: list[dict[str, Any]] = []
    journal: list[dict[str, Any]] = []
    if _ready(engine):
        j = tables.journal_table
        stmt = select(j)
        if county:
            stmt = stmt.where(j.c.county == county)
        with engine.connect() as conn:
            entries = conn.execute(stmt.order_by(j.c.id)).all()
        sums: dict[tuple[str, str], dict[str, int]] = {}
        for e in entries:
            acc = sums.setdefault((e.county, e.measure), dict.fromkeys(farmland.KINDS, 0))
            acc[e.kind] += e.amount_cents
        order = list(cfg.measures)
        for (cty, m), acc in sorted(sums.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]))):
            rows.append({"county": cty, "measure": m, "unit": cfg.measures[m].unit,
                         **{k: v / 100 for k, v in acc.items()},
                         "balance": sum(acc.values()) / 100})
        journal = [_entry_dict(e) for e in entries]
    return {"accounts": rows, "journal": journal,
            "config": {"version": cfg.version, "sha256": cfg.sha256}}


# ---------------------------------------------------------------------------- balance from changes
def farmland_balance(store: Store, from_: str, to: str, *, dataset: str = "DLTB",
                     xlsx: str | Path | None = None) -> dict[str, Any]:
    """耕地 decrease (by destination) and increase (by origin) per county between two versions.

    Change detection (:func:`onemap.monitor.changes.detect_changes`) finds the
    pieces; each is classified with the land-class table and
    ``farmland_flows.yaml``; areas are 耕地 net of 田坎 with the KCXS of the
    version where the piece is 耕地 (read by BSM), so the decrease ties to the
    change detection's 占用耕地 area. Nothing is written to the workspace.

    Returns
    -------
    dict
        ``source``, ``rows`` (``unit``, ``direction``, ``kind``, ``area_m2``,
        ``tiankan_m2``), ``units`` (per county ``decrease_m2``, ``increase_m2``,
        ``net_m2``, ``paddy_decrease_m2``, ``paddy_increase_m2``), ``xlsx``.
    """
    cfg = load_flows()
    old_info, new_info, result, pieces = _change_pieces(store, dataset, from_, to)
    got = balance(pieces)
    covered = _covered_losses(store, _loss_prefix(old_info.version, new_info.version))
    for u in got["units"]:
        u["covered_m2"] = covered.get(u["unit"], 0) / 100
        u["uncovered_m2"] = round(u["decrease_m2"] - u["covered_m2"], 2)
    out: dict[str, Any] = {
        "source": {"dataset": dataset, "from": old_info.version, "to": new_info.version},
        **got, "changes_zygd_area_m2": result.summary.get("zygd_area_m2", 0.0),
        "flows_config": {"version": cfg.version, "sha256": cfg.sha256}, "xlsx": None}
    if xlsx is not None:
        rows = pd.DataFrame(got["rows"], columns=["unit", "direction", "kind", "area_m2", "tiankan_m2"])
        units = pd.DataFrame(got["units"], columns=["unit", "decrease_m2", "increase_m2", "net_m2",
                                                     "paddy_decrease_m2", "paddy_increase_m2", "covered_m2",
                                                     "uncovered_m2"])
        headers = {"unit": "行政区", "direction": "方向", "kind": "去向/来源", "area_m2": "耕地面积（平方米）",
                   "tiankan_m2": "田坎面积（平方米）", "decrease_m2": "耕地减少（平方米）",
                   "increase_m2": "耕地增加（平方米）", "net_m2": "净增（平方米）",
                   "paddy_decrease_m2": "水田减少（平方米）", "paddy_increase_m2": "水田增加（平方米）",
                   "covered_m2": "已挂钩核销（平方米）", "uncovered_m2": "未核销（平方米）"}
        title = f"{dataset} {old_info.version} → {new_info.version} 耕地进出"
        path = write_workbook(xlsx, {"按县汇总": units, "流向明细": rows}, headers=headers,
                              titles={"按县汇总": title, "流向明细": title},
                              number_formats={k: "#,##0.00" for k in headers if k.endswith("_m2")})
        out["xlsx"] = str(path)
    return out


def farmland_in_out(store: Store, from_: str, to: str, *, dataset: str = "DLTB",
                    plan: str | Path | None = None) -> dict[str, Any]:
    """耕地进出平衡 per county between two versions (the year of ``to``), with the annual plan.

    流出 (耕地 → other 农用地) and 流入 (other 农用地 → 耕地) of the change pieces, net of 田坎
    (:func:`onemap.ledgers.inout.in_out`); ``plan`` is an XLSX/CSV with 行政区代码, 计划流出面积,
    计划流入面积 (m²). Nothing is written to the workspace.

    Returns
    -------
    dict
        ``source`` (dataset, from, to, year, plan file), ``units``, ``findings``, ``config``.

    Raises
    ------
    onemap.errors.InputError
        The plan file is unreadable or a row is bad (row and field named).
    """
    cfg = inout.load_config()
    plan_rows = None
    plan_name = None
    if plan is not None:
        src = read_table(plan)
        plan_rows = inout.parse_plan(cfg, src.columns, src.rows, src.labels, src.file_name)
        plan_name = src.file_name
    old_info, new_info, _, pieces = _change_pieces(store, dataset, from_, to)
    got = inout.in_out(pieces, plan_rows)
    return {"source": {"dataset": dataset, "from": old_info.version, "to": new_info.version,
                       "year": new_info.version, "plan": plan_name},
            **got, "config": {"version": cfg.version, "sha256": cfg.sha256}}


def _change_pieces(store: Store, dataset: str, from_: str, to: str) -> tuple[Any, Any, Any, list[dict[str, Any]]]:
    """Change detection between two versions, each piece described for the balance."""
    cfg = load_flows()
    old_info, new_info = store.version(dataset, from_), store.version(dataset, to)
    old, new = store.read(dataset, old_info.version), store.read(dataset, new_info.version)
    result = detect_changes(old, new)
    ch = result.changes
    kcxs_old = _kcxs_by_bsm(old)
    kcxs_new = _kcxs_by_bsm(new)
    before = describe_codes(ch["before"].to_numpy(), "DLBM")
    after = describe_codes(ch["after"].to_numpy(), "DLBM")
    pieces = []
    for i, row in enumerate(ch.itertuples(index=False)):
        bf = {k: bool(before[k].iloc[i]) for k in FLAG_COLUMNS}
        af = {k: bool(after[k].iloc[i]) for k in FLAG_COLUMNS}
        pieces.append({
            "unit": row.county or "未知", "area_m2": float(row.area_m2),
            "before_cultivated": bf["cultivated"], "after_cultivated": af["cultivated"],
            "before_paddy": bf["paddy"], "after_paddy": af["paddy"],
            "kcxs_before": kcxs_old.get(str(row.bsm_before), 0.0),
            "kcxs_after": kcxs_new.get(str(row.bsm_after), 0.0),
            "before_kind": cfg.classify(str(row.before), bf), "after_kind": cfg.classify(str(row.after), af),
            "before_other_agri": (bf["agricultural"] or bf["facility"]) and not bf["cultivated"],
            "after_other_agri": (af["agricultural"] or af["facility"]) and not af["cultivated"],
            "tbbh": str(row.tbbh), "bsm_before": str(row.bsm_before), "bsm_after": str(row.bsm_after),
            "before": str(row.before), "after": str(row.after), "geometry": ch.geometry.iloc[i]})
    return old_info, new_info, result, pieces


def record_occupations(store: Store, from_: str, to: str, *, actor: str, dataset: str = "DLTB",
                       now: datetime | str | None = None) -> dict[str, Any]:
    """Register every 耕地 loss change detection finds as a 耕地占用 record (idempotent).

    One record per change piece whose old class is 耕地 and new class is not,
    numbered ``BH-<from>-<to>-<BSM before>[-<BSM after>]`` so a re-run creates
    nothing twice. Values: 占用类型 from the destination (``farmland_flows.yaml``
    ``occupation_types``), 占用耕地 and 水田 net of 田坎, the piece's geometry;
    the 等别 is left empty (DLTB does not carry it) and must be filled, e.g.
    ``onemap ledger act WS GDZY <no> submit -f ZYPJDB=8``, before a cover.

    Returns
    -------
    dict
        ``created`` (numbers), ``existing`` (count of pieces already registered), ``audit_id``.
    """
    cfg = load_flows()
    acc = farmland.load_accounts()
    reg = load_register(acc.demand_register)
    when = as_datetime(now)
    old_info, new_info, _, pieces = _change_pieces(store, dataset, from_, to)
    engine = store.sql_engine()
    existing: set[str] = set()
    if _ready(engine):
        t = tables.records_table
        with engine.connect() as conn:
            existing = set(conn.execute(select(t.c.record_no).where(t.c.register == reg.name)).scalars())
    todo, problems, skipped = [], [], 0
    stamp = f"{dataset} {old_info.version}→{new_info.version}"
    for p in pieces:
        if not (p["before_cultivated"] and not p["after_cultivated"]):
            continue
        key = f"{_loss_prefix(old_info.version, new_info.version)}{p['bsm_before']}"
        if p["bsm_after"] and p["bsm_after"] != p["bsm_before"]:
            key += f"-{p['bsm_after']}"
        if key in existing:
            skipped += 1
            continue
        net = round(p["area_m2"] * (1.0 - min(max(p["kcxs_before"], 0.0), 1.0)), 2)
        raw = {"ZYBH": key, "XMMC": f"变化图斑 {p['tbbh']}（{p['before']}→{p['after']}）",
               "ZYLX": cfg.occupation_types.get(p["after_kind"], p["after_kind"]), "XZQDM": p["unit"],
               "ZYGDMJ": net, "ZYSTMJ": net if p["before_paddy"] else 0.0,
               "BZ": f"由变化检测 {stamp} 生成"}
        values = check_values(reg, raw, f"变化图斑 {p['tbbh']}", stamp, problems)
        todo.append((key, p["unit"], values, shapely.to_wkb(p["geometry"], hex=True)))
    if problems:
        raise InputError(f"变化图斑不能登记为「{reg.title}」（{len(problems)} 处）："
                         + "；".join(x.message for x in problems[:20]), problems)
    if not todo:
        return {"created": [], "existing": skipped, "audit_id": None}
    tables.ensure_tables(engine)
    audit.ensure_tables(engine)
    with engine.begin() as conn:
        entry = audit.append(conn, actor, "ledger.detect", "ledger", reg.name, None,
                             {"source": stamp, "records": [k for k, *_ in todo]})
        _insert_many(conn, reg, [(key, county, reg.flow.initial, values, geom, {"changes": stamp})
                                 for key, county, values, geom in todo], actor, when)
    return {"created": [k for k, *_ in todo], "existing": skipped, "audit_id": entry.id}


def add_records(store: Store, register: str, rows: list[dict[str, Any]], geometries: list[Any], *,
                actor: str, source: dict[str, Any], now: datetime | str | None = None) -> dict[str, Any]:
    """Create records that a computation found (not typed in); keys already in the register are skipped.

    Each row (field name → value) gets the register's computed fields and the
    row check of an import; any problem refuses them all and nothing is written.
    The records, their events and audit rows go in one transaction, with one
    audit row listing them (action ``ledger.detect``).

    Parameters
    ----------
    store : Store
        The workspace.
    register : str
        Register name or title.
    rows : list of dict
        Field name → value, one per record (the key field included).
    geometries : list of geometry or None
        The geometry of each row.
    actor : str
        Who creates them.
    source : dict
        What found them (kept on the audit row and on each creation event).
    now : datetime or str, optional
        Time of creation (sets the due dates).

    Returns
    -------
    dict
        ``created`` (numbers), ``existing`` (numbers already in the register), ``audit_id``.

    Raises
    ------
    onemap.errors.InputError
        A row does not pass the register's checks (row and field named).
    """
    reg = load_register(register)
    when = as_datetime(now)
    engine = store.sql_engine()
    existing: set[str] = set()
    if _ready(engine):
        t = tables.records_table
        with engine.connect() as conn:
            existing = set(conn.execute(select(t.c.record_no).where(t.c.register == reg.name)).scalars())
    rows = computed.fill(reg, rows, geometries)
    todo, problems, skipped = [], [], []
    for raw, geom in zip(rows, geometries, strict=True):
        key = str(raw.get(reg.key))
        if key in existing:
            skipped.append(key)
            continue
        values = check_values(reg, raw, f"{reg.field(reg.key).title} {key}", reg.title, problems)
        wkb = shapely.to_wkb(geom, hex=True) if geom is not None and not geom.is_empty else None
        todo.append((key, str(values.get(reg.county, "")), values, wkb))
    if problems:
        raise InputError(f"不能登记为「{reg.title}」（{len(problems)} 处）："
                         + "；".join(x.message for x in problems[:20]), problems)
    if not todo:
        return {"created": [], "existing": skipped, "audit_id": None}
    tables.ensure_tables(engine)
    audit.ensure_tables(engine)
    with engine.begin() as conn:
        entry = audit.append(conn, actor, "ledger.detect", "ledger", reg.name, None,
                             {"source": source, "records": [k for k, *_ in todo]})
        _insert_many(conn, reg, [(key, county, reg.flow.initial, values, geom, source)
                                 for key, county, values, geom in todo], actor, when)
    return {"created": [k for k, *_ in todo], "existing": skipped, "audit_id": entry.id}


def _loss_prefix(from_: str, to: str) -> str:
    """Number prefix of the occupations registered from one change detection."""
    return f"BH-{from_}-{to}-"


def _covered_losses(store: Store, prefix: str) -> dict[str, int]:
    """Per county, cents of 数量 核销 (net of 撤销) on the occupations numbered ``prefix…``."""
    engine = store.sql_engine()
    if not _ready(engine):
        return {}
    j = tables.journal_table
    measure = farmland.load_accounts().area_measure
    with engine.connect() as conn:
        rows = conn.execute(
            select(j.c.county, func.sum(j.c.amount_cents))
            .where(j.c.occupation_no.startswith(prefix, autoescape=True), j.c.measure == measure,
                   j.c.kind.in_(("核销", "撤销")))
            .group_by(j.c.county)).all()
    return {c: -int(a or 0) for c, a in rows}


def _kcxs_by_bsm(gdf: pd.DataFrame) -> dict[str, float]:
    if "KCXS" not in gdf.columns or "BSM" not in gdf.columns:
        return {}
    k = pd.to_numeric(gdf["KCXS"], errors="coerce").fillna(0.0)
    return dict(zip(gdf["BSM"].astype(str), k.astype(float), strict=True))
