"""Use cases of the field app (外业核查举证): an officer's tasks, evidence uploads, the office's view.

- :func:`list_tasks`: the tasks of the logged-in officer. Task kinds are data
  (``field/data/field_tasks.yaml``): enforcement cases of the officer's county in a state where the
  case flow allows the kind's action (核查举证), and 地质灾害隐患点 of the officer's county whose next
  inspection (巡查) is due within the kind's days. A task id is ``<kind>-<ref>`` (``case_check-12``,
  ``hazard_patrol-640302001``).
- :func:`submit_evidence`: photos and their capture facts; each photo's SHA-256 is checked against
  the one the phone computed at capture (a mismatch refuses the whole upload, naming the photo);
  photos already received for the task are skipped (idempotent retry); the rest are stored as the
  original and a watermarked copy, flagged by the evidence rules, and recorded in one transaction
  with the task's move (the case's 核查举证, the point's 巡查) and an audit row. A case that has
  moved on is a :class:`TaskConflict`: nothing is written.
- :func:`task_evidence`, :func:`case_field_evidence`, :func:`evidence_file`: what the office sees.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from onemap.app import ledgers as ledger_app
from onemap.errors import InputError, OneMapError, Problem, WorkspaceError
from onemap.field import offline, watermark
from onemap.field.config import FieldConfig, TaskKind, load_config
from onemap.field.evidence_rules import PhotoFacts, check_evidence, parse_time
from onemap.ledgers.flow import TransitionError
from onemap.ledgers.schema import load_register
from onemap.monitor import cases as case_mod
from onemap.store import audit
from onemap.store import cases as case_tables
from onemap.store import field as tables
from onemap.store import ledgers as ledger_tables
from onemap.store.base import Store
from onemap.store.catalog import dumps
from onemap.store.users import PermissionDenied, User, authorize, in_scope

#: What the phone sends for each photo (``heading`` may be null).
META_KEYS = ("lon", "lat", "accuracy_m", "time", "sha256")


class TaskConflict(OneMapError):
    """The task moved on in the office meanwhile (e.g. the case was determined): nothing written."""

    exit_code = 2


# ---------------------------------------------------------------------------- tasks
def _case_geometries(store: Store, cases: list[dict[str, Any]]) -> dict[int, shapely.Geometry]:
    """The change patch of each case (from its change set version), else its point."""
    out: dict[int, shapely.Geometry] = {}
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in cases:
        groups.setdefault((c["changeset_dataset"], c["changeset_version"]), []).append(c)
    for (ds, ver), items in groups.items():
        try:
            gdf = store.read(ds, ver)
        except OneMapError:
            gdf = None
        col = None if gdf is None else next((k for k in gdf.columns if k.lower() == "tbbh"), None)
        by_tbbh = {} if col is None else dict(zip(gdf[col].astype(str), gdf.geometry, strict=True))
        for c in items:
            geom = by_tbbh.get(str(c["tbbh"]))
            if (geom is None or geom.is_empty) and c.get("lon") is not None:
                geom = shapely.Point(c["lon"], c["lat"])
            if geom is not None:
                out[c["id"]] = geom
    return out


def _may(user: User, permission: str) -> bool:
    try:
        authorize(user, permission)
    except OneMapError:
        return False
    return True


def _case_task(kind_name: str, kind: TaskKind, case: dict[str, Any],
               geom: shapely.Geometry | None) -> dict[str, Any]:
    place = case.get("village") or ""
    return {
        "id": f"{kind_name}-{case['id']}", "kind": kind_name, "kind_title": kind.title,
        "case_id": case["id"], "ref": case["case_no"],
        "title": f"{case['case_no']} 图斑 {case['tbbh']}" + (f"（{place}）" if place else ""),
        "geometry": mapping(geom) if geom is not None else None,
        "bbox": list(geom.bounds) if geom is not None else None,
        "due": case.get("due_at"), "start": case.get("opened_at"), "county": case.get("county"),
        "state": case["state"], "state_title": case["state_title"],
        "area_m2": case.get("area_m2"),
    }


def _record_task(kind_name: str, kind: TaskKind, rec: dict[str, Any], geom_hex: str | None,
                 cycle_days: int | None) -> dict[str, Any]:
    geom = shapely.from_wkb(bytes.fromhex(geom_hex)) if geom_hex else None
    due = rec.get("due_at")
    start = None
    if due and cycle_days:
        start = (case_mod.as_datetime(due) - timedelta(days=cycle_days)).isoformat()
    name = rec["values"].get("MC") or ""
    return {
        "id": f"{kind_name}-{rec['record_no']}", "kind": kind_name, "kind_title": kind.title,
        "case_id": None, "ref": rec["record_no"],
        "title": f"{rec['record_no']} {name}".strip(),
        "geometry": mapping(geom) if geom is not None else None,
        "bbox": list(geom.bounds) if geom is not None else None,
        "due": due, "start": start, "county": rec.get("county"),
        "state": rec["state"], "state_title": rec["state_title"], "area_m2": None,
    }


def _case_tasks(store: Store, user: User, kind_name: str, kind: TaskKind,
                now: datetime, only: int | None = None) -> list[dict[str, Any]]:
    if not _may(user, "case"):
        return []
    flow = case_mod.load_flow()
    states = set(flow.actions[kind.action].from_) if kind.action in flow.actions else set()
    engine = store.sql_engine()
    if only is not None:
        cases = [case_mod.get_case(engine, only, now=now)]
    else:
        cases = [c for c in case_mod.list_cases(engine, now=now) if c["state"] in states]
    cases = [c for c in cases if in_scope(user, c.get("county"))]
    geoms = _case_geometries(store, cases)
    return [_case_task(kind_name, kind, c, geoms.get(c["id"])) for c in cases]


def _record_tasks(store: Store, user: User, kind_name: str, kind: TaskKind,
                  now: datetime, only: str | None = None) -> list[dict[str, Any]]:
    reg = load_register(kind.register_name or "")
    spec = reg.flow.actions.get(kind.action)
    if spec is None or (spec.roles and user.role not in spec.roles) or not _may(user, "read"):
        return []
    listing = ledger_app.list_records(store, reg.name, now=now)["records"]
    if only is not None:
        listing = [r for r in listing if r["record_no"] == only]
    else:
        horizon = now + timedelta(days=kind.due_within_days)
        listing = [r for r in listing if r["state"] in spec.from_ and r.get("due_at")
                   and case_mod.as_datetime(r["due_at"]) <= horizon]
    listing = [r for r in listing if in_scope(user, r.get("county"))]
    if not listing:
        return []
    t = ledger_tables.records_table
    with store.sql_engine().connect() as conn:
        rows = conn.execute(select(t.c.id, t.c.geometry).where(
            t.c.id.in_([r["id"] for r in listing]))).all()
    geoms = {r.id: r.geometry for r in rows}
    cycle = reg.flow.states[spec.to].deadline_days if spec.to in reg.flow.states else None
    return [_record_task(kind_name, kind, r, geoms.get(r["id"]), cycle) for r in listing]


def kinds_summary(cfg: FieldConfig) -> dict[str, Any]:
    """The task kinds as the app builds its forms from them."""
    return {name: {"title": k.title, "min_photos": k.min_photos,
                   "form": [f.model_dump() for f in k.form]} for name, k in cfg.kinds.items()}


def list_tasks(store: Store, user: User, *, now: datetime | str | None = None) -> dict[str, Any]:
    """The field tasks of ``user`` (only their county and what their role may do).

    Returns
    -------
    dict
        ``{"tasks": [{id, kind, kind_title, case_id, ref, title, geometry (GeoJSON), bbox, due,
        start, county, state, state_title, area_m2}], "kinds": {kind: {title, min_photos,
        form}}, "rules": {...}, "officer": str, "now": iso}``.
    """
    cfg = load_config()
    when = case_mod.as_datetime(now)
    case_tables.ensure_tables(store.sql_engine())
    tasks: list[dict[str, Any]] = []
    for name, kind in cfg.kinds.items():
        if kind.source == "case":
            tasks += _case_tasks(store, user, name, kind, when)
        else:
            tasks += _record_tasks(store, user, name, kind, when)
    tasks.sort(key=lambda t: (t["due"] or "9999", t["id"]))
    return {"tasks": tasks, "kinds": kinds_summary(cfg), "rules": cfg.rules.model_dump(),
            "officer": user.display_name or user.username, "now": when.isoformat()}


def get_task(store: Store, user: User, task_id: str, *,
             now: datetime | str | None = None) -> dict[str, Any]:
    """One task of ``user`` by its id, whatever its state (the caller checks for conflicts).

    Raises
    ------
    onemap.errors.WorkspaceError
        No such task (unknown kind, case or record).
    onemap.store.users.PermissionDenied
        The task lies outside the user's county or role.
    """
    cfg = load_config()
    kind_name, _, ref = task_id.partition("-")
    if kind_name not in cfg.kinds or not ref:
        raise WorkspaceError(f"没有外业任务 {task_id}（任务编号形如 case_check-12）",
                             [Problem("task_not_found", task_id, field="id")])
    kind = cfg.kinds[kind_name]
    when = case_mod.as_datetime(now)
    if kind.source == "case":
        if not ref.isdigit():
            raise WorkspaceError(f"没有外业任务 {task_id}")
        authorize(user, "case")
        case = case_mod.get_case(store.sql_engine(), int(ref), now=when)
        authorize(user, "case", county=str(case.get("county") or ""))
        found = _case_tasks(store, user, kind_name, kind, when, only=int(ref))
    else:
        found = _record_tasks(store, user, kind_name, kind, when, only=ref)
        if not found:
            ledger_app.get_record(store, kind.register_name or "", ref)  # 404 when missing
            raise PermissionDenied(f"权限不足：外业任务 {task_id} 不在您的辖区或角色范围内")
    return found[0]


def offline_plan(store: Store, user: User, *, now: datetime | str | None = None) -> dict[str, Any]:
    """The vector tiles the phone downloads to work offline around the user's tasks.

    Returns
    -------
    dict
        ``{"layers": [{dataset, version, version_id}], "tiles": [[z, x, y]], "min_zoom",
        "max_zoom", "budget_bytes", "tasks": n, "missing": [dataset]}``; the tiles are the same
        for every layer (``/tiles/{version_id}/{z}/{x}/{y}.mvt``).
    """
    cfg = load_config().offline
    tasks = list_tasks(store, user, now=now)["tasks"]
    boxes = [tuple(t["bbox"]) for t in tasks if t.get("bbox")]
    have = {d.name for d in store.datasets()}
    layers, missing = [], []
    for name in cfg.layers:
        if name not in have:
            missing.append(name)
            continue
        info = store.version(name)
        layers.append({"dataset": name, "version": info.version, "version_id": info.id})
    tiles = offline.tiles_for(boxes, cfg.min_zoom, cfg.max_zoom, cfg.margin_m)
    return {"layers": layers, "tiles": [list(t) for t in tiles], "min_zoom": cfg.min_zoom,
            "max_zoom": cfg.max_zoom, "budget_bytes": int(cfg.budget_mb * 2**20),
            "tasks": len(tasks), "missing": missing}


# ---------------------------------------------------------------------------- evidence
def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-]", "_", name)[:80] or "photo"


def _photo_facts(names: list[str], meta: list[Any], rules_offset: float) -> list[PhotoFacts]:
    problems: list[Problem] = []
    facts: list[PhotoFacts] = []
    if len(meta) != len(names):
        raise InputError(f"照片 {len(names)} 张，但 meta 有 {len(meta)} 条：每张照片须有一条 meta",
                         [Problem("meta_count", f"{len(names)} ≠ {len(meta)}", field="meta")])
    for name, m in zip(names, meta, strict=True):
        if not isinstance(m, dict):
            problems.append(Problem("meta", f"照片 {name} 的 meta 应为 JSON 对象", file=name))
            continue
        missing = [k for k in META_KEYS if m.get(k) in (None, "")]
        if missing:
            problems.append(Problem("meta_missing", f"照片 {name} 的 meta 缺少 {'、'.join(missing)}",
                                    file=name, field=missing[0]))
            continue
        try:
            lon, lat, acc = float(m["lon"]), float(m["lat"]), float(m["accuracy_m"])
            heading = None if m.get("heading") in (None, "") else float(m["heading"]) % 360.0
            taken = parse_time(str(m["time"]), rules_offset)
        except (TypeError, ValueError):
            problems.append(Problem("meta_value", f"照片 {name} 的 meta 中位置、精度、方向或时间无效"
                                    f"（{ {k: m.get(k) for k in (*META_KEYS[:4], 'heading')} }）",
                                    file=name))
            continue
        if not (-180 <= lon <= 180 and -90 <= lat <= 90) or acc < 0:
            problems.append(Problem("meta_range", f"照片 {name} 的位置或精度超出范围：{lon}, {lat}, {acc}",
                                    file=name))
            continue
        facts.append(PhotoFacts(name, lon, lat, acc, taken, heading))
    if problems:
        raise InputError(f"照片的拍摄信息（meta）有误（{len(problems)} 处）："
                         + "；".join(p.message for p in problems), problems)
    return facts


def _check_form(kind: TaskKind, form: dict[str, Any]) -> dict[str, Any]:
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for f in kind.form:
        value = form.get(f.name)
        value = value.strip() if isinstance(value, str) else value
        if value in (None, ""):
            if f.required:
                problems.append(Problem("required_field", f"「{kind.title}」须填写{f.title}（{f.name}）",
                                        field=f.name))
            continue
        if f.type == "choice" and str(value) not in f.choices:
            problems.append(Problem("bad_choice", f"{f.title}（{f.name}）的取值 {value} 不在允许范围"
                                    f"（{'、'.join(f.choices)}）", field=f.name))
            continue
        out[f.name] = value
    if problems:
        raise InputError(f"「{kind.title}」的表单不完整或有误（{len(problems)} 处）："
                         + "；".join(p.message for p in problems), problems)
    return out


def _known_hashes(store: Store, task_id: str) -> set[str]:
    t = tables.evidence_table
    with store.sql_engine().connect() as conn:
        return {r.sha256 for r in conn.execute(select(t.c.sha256).where(t.c.task_id == task_id))}


def evidence_root(store: Store) -> Path:
    """Folder of field photos: ``<workspace>.evidence/field`` beside a file workspace."""
    path = getattr(store, "path", None)
    if path is None:
        raise WorkspaceError("此工作空间没有文件路径，无法保存外业照片")
    return Path(path).with_suffix(".evidence") / "field"


def submit_evidence(store: Store, user: User, task_id: str, photos: list[tuple[str, bytes]],
                    meta: list[Any], form: dict[str, Any] | None = None, *,
                    now: datetime | str | None = None) -> dict[str, Any]:
    """Receive the photos of one field task (see the module docstring).

    Parameters
    ----------
    store : Store
        The workspace.
    user : User
        The officer (their county and role decide which tasks they may serve).
    task_id : str
        ``<kind>-<ref>``.
    photos : list of (str, bytes)
        File name and the original bytes of each photo.
    meta : list of dict
        Per photo, in order: ``lon``, ``lat``, ``accuracy_m``, ``time`` (ISO 8601; local time of
        the rules' UTC offset when it has none), ``heading`` (degrees or null), ``sha256``.
    form : dict, optional
        The task kind's form fields.
    now : datetime or str, optional
        When the server received the upload (default now).

    Returns
    -------
    dict
        ``{"task", "accepted", "duplicates", "flags": [{photo, rule, message}], "submission",
        "state", "state_title", "case_id"}``.

    Raises
    ------
    onemap.errors.InputError
        A photo's bytes do not match its ``sha256`` (named), meta or form incomplete, no photo.
    TaskConflict
        The task's case or record no longer allows the move (nothing is written).
    """
    cfg = load_config()
    when = case_mod.as_datetime(now)
    engine = store.sql_engine()
    tables.ensure_tables(engine)
    task = get_task(store, user, task_id, now=when)
    kind = cfg.kinds[task["kind"]]
    if not photos:
        raise InputError("外业举证须附照片（multipart 的 photos 字段）",
                         [Problem("photos_required", "没有照片", field="photos")])
    names = [_safe(Path(n.replace("\\", "/")).name) for n, _ in photos]
    facts = _photo_facts(names, meta, cfg.rules.utc_offset_hours)
    hashes = []
    for name, (_, data), m in zip(names, photos, meta, strict=True):
        got = hashlib.sha256(data).hexdigest()
        want = str(m["sha256"]).strip().lower()
        if got != want:
            raise InputError(
                f"照片 {name} 的内容与拍摄时记录的 SHA-256 不符（记录 {want[:16]}…，收到 {got[:16]}…），"
                "照片在拍摄后被改动或传输损坏，本次上传未被接收",
                [Problem("sha256_mismatch", f"{want} ≠ {got}", file=name, field="sha256")])
        hashes.append(got)
    known = _known_hashes(store, task_id)
    fresh: list[int] = []
    seen: set[str] = set()
    for i, h in enumerate(hashes):
        if h not in known and h not in seen:
            fresh.append(i)
            seen.add(h)
    base = {"task": task_id, "case_id": task["case_id"], "submission": None}
    if not fresh:
        return {**base, "accepted": 0, "duplicates": len(photos), "flags": [],
                "state": task["state"], "state_title": task["state_title"]}
    _check_open(task, kind)
    clean = _check_form(kind, form or {})
    geom = shape(task["geometry"]) if task["geometry"] else None
    start = case_mod.as_datetime(task["start"]) if kind.period.start != "none" and task["start"] \
        else None
    end = case_mod.as_datetime(task["due"]) if kind.period.end == "due" and task["due"] else None
    flags = check_evidence([facts[i] for i in fresh], geometry=geom, start=start, end=end,
                           received_at=when, prior_photos=len(known), min_photos=kind.min_photos,
                           kind_title=kind.title, rules=cfg.rules)
    flag_dicts = [f.to_dict() for f in flags]
    officer = user.display_name or user.username
    submission = uuid.uuid4().hex
    folder = evidence_root(store) / _safe(task_id)
    written: list[Path] = []
    records: list[dict[str, Any]] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        local = timezone(timedelta(hours=cfg.rules.utc_offset_hours))
        for i in fresh:
            f, data, h = facts[i], photos[i][1], hashes[i]
            stamp = f.taken_at.astimezone(local).strftime("%Y-%m-%d %H:%M:%S")
            lines = watermark.watermark_lines(taken_at=stamp, lon=f.lon, lat=f.lat,
                                              accuracy_m=f.accuracy_m, heading=f.heading,
                                              officer=officer, task=f"{task['title']}（{task_id}）")
            marked = watermark.burn(data, lines, f.name)
            orig = folder / f"{h[:16]}_{f.name}"
            copy = folder / f"{h[:16]}_{Path(f.name).stem}_水印.jpg"
            orig.write_bytes(data)
            written.append(orig)
            copy.write_bytes(marked)
            written.append(copy)
            records.append({
                "task_id": task_id, "kind": task["kind"], "ref": task["ref"],
                "case_id": task["case_id"], "submission": submission, "name": f.name,
                "sha256": h, "path": str(orig), "watermarked_path": str(copy),
                "lon": round(f.lon, 7), "lat": round(f.lat, 7), "accuracy_m": f.accuracy_m,
                "heading": f.heading, "taken_at": f.taken_at.isoformat(),
                "received_at": when.isoformat(), "officer": officer,
                "flags": dumps([d for d in flag_dicts if d["photo"] in (f.name, None)]),
                "watermarked_sha256": hashlib.sha256(marked).hexdigest(),
            })
        result = _apply(store, user, task, kind, clean, records, flag_dicts, submission, officer,
                        when, local)
    except IntegrityError:
        _remove(written)
        # a concurrent retry stored the same photos first
        return {**base, "accepted": 0, "duplicates": len(photos), "flags": [],
                "state": task["state"], "state_title": task["state_title"]}
    except TransitionError as exc:
        _remove(written)
        raise TaskConflict(f"外业任务 {task_id} 已在内业办理中变化，本次举证未提交：{exc.message}",
                           exc.problems) from exc
    except BaseException:
        _remove(written)
        raise
    return {**base, "submission": submission, "accepted": len(fresh),
            "duplicates": len(photos) - len(fresh), "flags": flag_dicts, **result}


def _check_open(task: dict[str, Any], kind: TaskKind) -> None:
    if kind.source == "case":
        flow = case_mod.load_flow()
        spec = flow.actions[kind.action]
        if task["state"] not in spec.from_:
            raise TaskConflict(
                f"案件 {task['ref']} 已进入「{task['state_title']}」，不再接受「{spec.title}」；"
                "本次外业举证未提交，照片仍保留在手机上，请与内业联系",
                [Problem("task_conflict", task["state"], row=task["ref"])])
    else:
        reg = load_register(kind.register_name or "")
        spec = reg.flow.actions[kind.action]
        if task["state"] not in spec.from_:
            raise TaskConflict(
                f"{reg.title} {task['ref']} 已是「{task['state_title']}」，不再接受「{spec.title}」；"
                "本次外业举证未提交，请与内业联系",
                [Problem("task_conflict", task["state"], row=task["ref"])])


def _apply(store: Store, user: User, task: dict[str, Any], kind: TaskKind, form: dict[str, Any],
           records: list[dict[str, Any]], flags: list[dict[str, Any]], submission: str,
           officer: str, when: datetime, local: timezone) -> dict[str, Any]:
    """The task's move with the evidence rows and their audit row, in one transaction."""
    photos_audit = [{k: r[k] for k in ("name", "sha256", "watermarked_sha256", "lon", "lat",
                                       "accuracy_m", "heading", "taken_at")} for r in records]

    def hook(conn: Connection, info: dict[str, Any]) -> None:
        entry = audit.append(conn, user.username, "field.evidence", "field_task", task["id"], None,
                             {"submission": submission, "kind": task["kind"], "ref": task["ref"],
                              "officer": officer, "form": form, "photos": photos_audit,
                              "flags": flags, "received_at": when.isoformat()})
        rows = [{k: v for k, v in r.items() if k != "watermarked_sha256"}
                | {"event_audit_id": info["audit_id"], "audit_id": entry.id} for r in records]
        conn.execute(insert(tables.evidence_table), rows)

    note = "外业举证"
    photo_fields = [{"path": r["path"], "lon": r["lon"], "lat": r["lat"], "time": r["taken_at"],
                     "note": f"{note}（{task['id']}，精度 {r['accuracy_m']:g} 米）"} for r in records]
    day = when.astimezone(local).date().isoformat()
    if kind.source == "case":
        fields = {"officer": officer, "date": day, **form, "photos": photo_fields,
                  "field_submission": submission}
        out = case_mod.transition(store.sql_engine(), task["case_id"], kind.action, user.username,
                                  fields=fields, now=when, hook=hook)
        return {"state": out["state"], "state_title": out["state_title"]}
    fields = {"inspector": officer, **form, "field_submission": submission,
              "photos": [{"name": r["name"], "sha256": r["sha256"], "lon": r["lon"],
                          "lat": r["lat"], "time": r["taken_at"]} for r in records]}
    out = ledger_app.act(store, kind.register_name or "", task["ref"], kind.action,
                         actor=user.username, role=user.role, fields=fields, now=when, hook=hook)
    return {"state": out["state"], "state_title": out["state_title"]}


def _remove(paths: list[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- office side
def _evidence_dict(row: Any) -> dict[str, Any]:
    d = row._asdict()
    d.pop("path")
    d.pop("watermarked_path")
    d["flags"] = json.loads(d["flags"] or "[]")
    d["photo_url"] = f"/api/field/photos/{d['id']}"
    d["watermarked_url"] = f"/api/field/photos/{d['id']}?variant=watermarked"
    return d


def task_evidence(store: Store, user: User, task_id: str) -> dict[str, Any]:
    """The photos received for one task (positions, view directions, flags; no server paths)."""
    task = get_task(store, user, task_id)
    tables.ensure_tables(store.sql_engine())
    t = tables.evidence_table
    with store.sql_engine().connect() as conn:
        rows = conn.execute(select(t).where(t.c.task_id == task_id).order_by(t.c.id)).all()
    items = [_evidence_dict(r) for r in rows]
    return {"task": task, "count": len(items), "evidence": items}


def case_field_evidence(store: Store, case_id: int) -> list[dict[str, Any]]:
    """The field photos of one case (the caller has checked the user may read the case)."""
    tables.ensure_tables(store.sql_engine())
    t = tables.evidence_table
    with store.sql_engine().connect() as conn:
        rows = conn.execute(select(t).where(t.c.case_id == int(case_id)).order_by(t.c.id)).all()
    return [_evidence_dict(r) for r in rows]


def evidence_file(store: Store, user: User, evidence_id: int, variant: str = "original"
                  ) -> tuple[Path, str]:
    """The file of one field photo (original or watermarked copy) and its download name.

    Raises
    ------
    onemap.errors.WorkspaceError
        No such photo, or its file is gone.
    onemap.store.users.PermissionDenied
        The photo's task lies outside the user's scope.
    """
    if variant not in ("original", "watermarked"):
        raise InputError(f"variant 只能是 original 或 watermarked（收到 {variant}）")
    tables.ensure_tables(store.sql_engine())
    t = tables.evidence_table
    with store.sql_engine().connect() as conn:
        row = conn.execute(select(t).where(t.c.id == int(evidence_id))).first()
    if row is None:
        raise WorkspaceError(f"没有外业照片 {evidence_id}")
    if row.case_id is not None:
        case = case_mod.get_case(store.sql_engine(), row.case_id)
        authorize(user, "read", county=str(case.get("county") or ""))
    else:
        get_task(store, user, row.task_id)
    path = Path(row.watermarked_path if variant == "watermarked" else row.path)
    if not path.is_file():
        raise WorkspaceError(f"外业照片 {row.name} 的文件已不在服务器上")
    name = row.name if variant == "original" else f"{Path(row.name).stem}_水印.jpg"
    return path, name
