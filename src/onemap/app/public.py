"""Use cases of the public services: 公开公示, 意见征询, 群众举报, 执法公示.

Everything a resident may see or send goes through here; the rules are
``monitor/data/public.yaml`` (:mod:`onemap.monitor.public_policy`). What leaves is only:
the layer versions the bureau marked public (with the listed fields), the 公示 items, an
item's published summary, a report's receipt status and public answer, and the published
enforcement decisions (redacted). Every write appends to the audit log in its transaction.
"""

from __future__ import annotations

import io
import json
import secrets
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from onemap.app.workspace import workspace_unit_names
from onemap.errors import InputError, Problem, WorkspaceError
from onemap.monitor import cases as case_mod
from onemap.monitor.evidence import file_sha256, read_exif
from onemap.monitor.monitoring import normalize_date
from onemap.monitor.public_policy import PublicPolicy, public_policy
from onemap.monitor.publication import published_decision
from onemap.monitor.reports import attach_report, match_report, open_report_case, reporter_status
from onemap.reports.xlsx import write_workbook
from onemap.store import audit
from onemap.store import cases as case_tables
from onemap.store import public as tables
from onemap.store.base import Store

#: Who the audit log names for an anonymous resident.
PUBLIC_ACTOR = "公众"
#: Photo file kinds a report may carry.
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".webp")
#: Moderation decisions.
MODERATION = {"通过": "approved", "驳回": "rejected"}


def _engine(store: Store) -> Engine:
    engine = store.sql_engine()
    tables.ensure_tables(engine)
    case_tables.ensure_tables(engine)
    audit.ensure_tables(engine)
    return engine


def _text(value: Any, name: str, limit: int, *, required: bool) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InputError(f"请填写{name}", [Problem("required_field", f"{name}不能为空",
                                                   field=name)])
    if len(text) > limit:
        raise InputError(f"{name}过长：{len(text)} 字，上限 {limit} 字",
                         [Problem("too_long", f"上限 {limit} 字", field=name)])
    return text


def _position(lon: Any, lat: Any, *, required: bool) -> tuple[float | None, float | None]:
    if lon in (None, "") and lat in (None, ""):
        if required:
            raise InputError("请在地图上选择位置（或允许手机定位，或附带有 GPS 位置的照片）",
                             [Problem("required_field", "缺少 lon/lat", field="lon")])
        return None, None
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        raise InputError(f"位置无效：lon={lon!r}, lat={lat!r}（应为经纬度数字）",
                         [Problem("bad_position", "lon/lat 应为数字", field="lon")]) from exc
    if not (-180 <= x <= 180 and -90 <= y <= 90) or x != x or y != y:
        raise InputError(f"位置超出范围：lon={x}, lat={y}",
                         [Problem("bad_position", "经度 −180～180，纬度 −90～90", field="lon")])
    return x, y


# ---------------------------------------------------------------------------- public layers
def public_info(store: Store) -> dict[str, Any]:
    """What the public page shows first: the workspace's name and the region's extent.

    The extent is that of the newest XZQ (行政区) version, None without one.
    """
    have = {d.name for d in store.datasets() if d.versions}
    bbox = None
    if "XZQ" in have:
        bounds = store.read("XZQ", columns=[]).total_bounds
        if all(v == v for v in bounds):
            bbox = [round(float(v), 6) for v in bounds]
    return {"name": store.settings().get("name", ""), "bbox": bbox}


def mark_layer(store: Store, dataset: str, version: str | None, *, approval_no: str,
               approved_on: str, actor: str, policy: PublicPolicy | None = None
               ) -> dict[str, Any]:
    """Make a layer version public (``onemap public mark``), with its 批准文号 and date.

    Raises
    ------
    onemap.errors.InputError
        The layer is not one ``public.yaml`` allows, the 文号 is empty or the date invalid.
    """
    policy = policy or public_policy()
    if dataset not in policy.layers:
        raise InputError(f"图层 {dataset} 不在可公开图层清单中（{policy.path} 的 layers："
                         f"{'、'.join(policy.layers) or '无'}）",
                         [Problem("not_public", "不可公开", field="dataset")])
    info = store.version(dataset, version)
    no = _text(approval_no, "批准文号", 200, required=True)
    day = normalize_date(approved_on)
    if not day:
        raise InputError(f"批准日期无效：{approved_on!r}", [Problem("bad_date", "日期",
                                                              field="date")])
    engine = _engine(store)
    t = tables.marks_table
    row = {"dataset": dataset, "version": info.version, "approval_no": no, "approved_on": day,
           "marked_by": actor, "marked_at": case_mod.as_datetime(None).isoformat()}
    with engine.begin() as conn:
        old = conn.execute(select(t).where(t.c.dataset == dataset,
                                           t.c.version == info.version)).first()
        if old is not None:
            conn.execute(update(t).where(t.c.id == old.id).values(**row))
        else:
            conn.execute(insert(t).values(**row))
        audit.append(conn, actor, "public.mark", "public_layer", f"{dataset}_{info.version}",
                     None if old is None else {"approval_no": old.approval_no,
                                               "approved_on": old.approved_on},
                     {"approval_no": no, "approved_on": day})
    return {**row, "title": policy.layers[dataset].title,
            "fields": policy.layers[dataset].fields}


def public_layers(store: Store, policy: PublicPolicy | None = None) -> list[dict[str, Any]]:
    """The marked layer versions still allowed by the policy (newest mark per dataset first)."""
    policy = policy or public_policy()
    engine = _engine(store)
    t = tables.marks_table
    with engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.dataset, t.c.id.desc())).all()
    out, seen = [], set()
    for r in rows:
        if r.dataset in seen or r.dataset not in policy.layers:
            continue
        seen.add(r.dataset)
        out.append({"dataset": r.dataset, "version": r.version,
                    "title": policy.layers[r.dataset].title, "approval_no": r.approval_no,
                    "approved_on": r.approved_on, "fields": policy.layers[r.dataset].fields})
    return out


def public_features(store: Store, dataset: str, *, bbox: tuple[float, float, float, float]
                    | None = None, policy: PublicPolicy | None = None) -> dict[str, Any]:
    """GeoJSON of a public layer with only its public fields.

    Raises
    ------
    onemap.errors.WorkspaceError
        The layer is not public (the same answer whether it exists or not).
    """
    policy = policy or public_policy()
    entry = next((x for x in public_layers(store, policy) if x["dataset"] == dataset), None)
    if entry is None:
        raise WorkspaceError(f"没有公开图层 {dataset}")
    gdf = store.read(dataset, entry["version"], bbox=bbox)
    fields = [f for f in entry["fields"] if f in gdf.columns]
    features = []
    for i, geom in enumerate(gdf.geometry.values):
        if geom is None or geom.is_empty:
            continue
        props = {f: (None if pd.isna(v := gdf[f].iat[i]) else str(v)) for f in fields}
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                         "properties": props})
    return {"type": "FeatureCollection", "name": entry["title"],
            "approval_no": entry["approval_no"], "approved_on": entry["approved_on"],
            "features": features}


# ---------------------------------------------------------------------------- 公示 / 意见征询
def create_item(store: Store, *, kind: str, title: str, start: str, end: str,
                description: str = "", consult: bool = False, lon: float | None = None,
                lat: float | None = None, actor: str) -> dict[str, Any]:
    """Add a 公示 item (``onemap public notice``); ``consult`` opens it for comments."""
    s, e = normalize_date(start), normalize_date(end)
    if not s or not e:
        raise InputError(f"公示期无效：{start!r} 至 {end!r}（应为日期）",
                         [Problem("bad_date", "开始/结束日期", field="start")])
    if e < s:
        raise InputError(f"公示结束日期 {e} 早于开始日期 {s}",
                         [Problem("bad_period", "结束早于开始", field="end")])
    x, y = _position(lon, lat, required=False)
    row = {"kind": _text(kind, "公示类别", 50, required=True),
           "title": _text(title, "标题", 200, required=True),
           "description": _text(description, "说明", 5000, required=False),
           "start_date": s, "end_date": e, "consult": int(bool(consult)), "lon": x, "lat": y,
           "summary": None, "summary_at": None, "created_by": actor,
           "created_at": case_mod.as_datetime(None).isoformat()}
    engine = _engine(store)
    with engine.begin() as conn:
        item_id = conn.execute(insert(tables.items_table).values(**row)).inserted_primary_key[0]
        audit.append(conn, actor, "public.item", "public_item", item_id, None, row)
    return _item(dict(row, id=item_id))


def _item(row: Any) -> dict[str, Any]:
    d = dict(row._asdict() if hasattr(row, "_asdict") else row)
    return {"id": d["id"], "kind": d["kind"], "title": d["title"],
            "description": d["description"], "start_date": d["start_date"],
            "end_date": d["end_date"], "consult": bool(d["consult"]), "lon": d["lon"],
            "lat": d["lat"], "summary": d["summary"], "summary_at": d["summary_at"]}


def list_items(store: Store, *, on: str | date | None = None,
               include_past: bool = False) -> list[dict[str, Any]]:
    """公示 items current on ``on`` (default today; started, not ended), or all of them."""
    day = normalize_date(on) if on else case_mod.as_datetime(None).date().isoformat()
    engine = _engine(store)
    with engine.connect() as conn:
        rows = conn.execute(select(tables.items_table).order_by(tables.items_table.c.id)).all()
    out = [_item(r) for r in rows]
    if not include_past:
        out = [i for i in out if i["start_date"] <= day <= i["end_date"]]
    for i in out:
        i["open"] = i["start_date"] <= day <= i["end_date"]
    return out


def _find_item(conn: Connection, item_id: int) -> Any:
    row = conn.execute(select(tables.items_table)
                       .where(tables.items_table.c.id == int(item_id))).first()
    if row is None:
        raise WorkspaceError(f"没有公示事项 {item_id}")
    return row


def item_detail(store: Store, item_id: int) -> dict[str, Any]:
    """One item as the public sees it (its published summary only, never the comments)."""
    with _engine(store).connect() as conn:
        return _item(_find_item(conn, item_id))


def add_comment(store: Store, item_id: int, *, text: str, contact: str = "",
                lon: Any = None, lat: Any = None, now: str | None = None,
                policy: PublicPolicy | None = None) -> dict[str, Any]:
    """A resident's comment on an open consultation (意见征询).

    Raises
    ------
    onemap.errors.InputError
        The item is not open for comments, or the comment period has not begun or is over
        (the message names the period), or the text is empty or too long.
    """
    policy = policy or public_policy()
    when = case_mod.as_datetime(now)
    day = when.date().isoformat()
    engine = _engine(store)
    with engine.begin() as conn:
        item = _find_item(conn, item_id)
        body = _text(text, "意见内容", policy.comments.text_chars, required=True)
        contact_s = _text(contact, "联系方式", policy.comments.contact_chars, required=False)
        x, y = _position(lon, lat, required=False)
        period = f"{item.start_date} 至 {item.end_date}"
        if not item.consult:
            raise InputError(f"「{item.title}」不征求意见", [Problem("not_consult", "仅公示",
                                                            field="item")])
        if day > item.end_date:
            raise InputError(f"「{item.title}」的意见征询已于 {item.end_date} 结束"
                             f"（征询期 {period}），不再接受意见",
                             [Problem("period_over", period, field="item")])
        if day < item.start_date:
            raise InputError(f"「{item.title}」的意见征询尚未开始（征询期 {period}）",
                             [Problem("period_not_started", period, field="item")])
        row = {"item_id": item.id, "text": body, "contact": contact_s, "lon": x, "lat": y,
               "created_at": when.isoformat(), "moderation": "pending"}
        cid = conn.execute(insert(tables.comments_table).values(**row)).inserted_primary_key[0]
        audit.append(conn, PUBLIC_ACTOR, "public.comment", "public_comment", cid, None,
                     {"item_id": item.id, "text": body, "lon": x, "lat": y,
                      "contact_given": bool(contact_s)})
    return {"id": cid, "message": f"意见已提交（编号 {cid}），感谢参与"}


def list_comments(store: Store, item_id: int, *, moderation: str | None = None
                  ) -> list[dict[str, Any]]:
    """Every comment of an item (the bureau's view), optionally of one moderation state."""
    t = tables.comments_table
    with _engine(store).connect() as conn:
        _find_item(conn, item_id)
        stmt = select(t).where(t.c.item_id == int(item_id))
        if moderation:
            stmt = stmt.where(t.c.moderation == moderation)
        return [r._asdict() for r in conn.execute(stmt.order_by(t.c.id))]


def _find_comment(conn: Connection, comment_id: int) -> Any:
    row = conn.execute(select(tables.comments_table)
                       .where(tables.comments_table.c.id == int(comment_id))).first()
    if row is None:
        raise WorkspaceError(f"没有意见 {comment_id}")
    return row


def moderate_comment(store: Store, comment_id: int, decision: str, *, actor: str
                     ) -> dict[str, Any]:
    """Approve (通过) or reject (驳回) a comment of the moderation queue."""
    if decision not in MODERATION:
        raise InputError(f"审核结论应为 {'、'.join(MODERATION)}（收到 {decision!r}）")
    t = tables.comments_table
    with _engine(store).begin() as conn:
        row = _find_comment(conn, comment_id)
        conn.execute(update(t).where(t.c.id == row.id).values(moderation=MODERATION[decision]))
        audit.append(conn, actor, "public.comment.moderate", "public_comment", row.id,
                     {"moderation": row.moderation}, {"moderation": MODERATION[decision]})
        return _find_comment(conn, comment_id)._asdict()


def answer_comment(store: Store, comment_id: int, answer: str, *, actor: str,
                   now: str | None = None) -> dict[str, Any]:
    """The bureau's answer to one comment."""
    text = _text(answer, "答复", 5000, required=True)
    when = case_mod.as_datetime(now).isoformat()
    t = tables.comments_table
    with _engine(store).begin() as conn:
        row = _find_comment(conn, comment_id)
        conn.execute(update(t).where(t.c.id == row.id).values(
            answer=text, answered_by=actor, answered_at=when))
        audit.append(conn, actor, "public.comment.answer", "public_comment", row.id,
                     {"answer": row.answer}, {"answer": text})
        return _find_comment(conn, comment_id)._asdict()


def publish_summary(store: Store, item_id: int, summary: str, *, actor: str,
                    now: str | None = None) -> dict[str, Any]:
    """Publish the summary of the answers of a consultation (shown on the public item)."""
    text = _text(summary, "答复汇总", 20000, required=True)
    when = case_mod.as_datetime(now).isoformat()
    t = tables.items_table
    with _engine(store).begin() as conn:
        item = _find_item(conn, item_id)
        conn.execute(update(t).where(t.c.id == item.id).values(summary=text, summary_at=when))
        audit.append(conn, actor, "public.summary", "public_item", item.id,
                     {"summary": item.summary}, {"summary": text})
        return _item(_find_item(conn, item_id))


#: Chinese headers of the comment register.
COMMENT_HEADERS = {"id": "编号", "created_at": "提交时间", "text": "意见内容", "contact": "联系方式",
                   "lon": "经度", "lat": "纬度", "moderation": "审核", "answer": "答复",
                   "answered_by": "答复人", "answered_at": "答复时间"}


def comment_register(store: Store, item_id: int, xlsx: str | Path) -> dict[str, Any]:
    """Write the register of comments of an item (XLSX) and return its rows."""
    with _engine(store).connect() as conn:
        item = _find_item(conn, item_id)
    rows = list_comments(store, item_id)
    frame = pd.DataFrame(rows, columns=list(COMMENT_HEADERS))
    frame["moderation"] = frame["moderation"].map(
        {"pending": "待审核", "approved": "通过", "rejected": "驳回"}).fillna(frame["moderation"])
    path = write_workbook(xlsx, {"意见登记": frame}, headers=COMMENT_HEADERS,
                          titles={"意见登记": f"{item.title} 意见征询登记表（{item.start_date} 至 "
                                             f"{item.end_date}）"})
    return {"item": _item(item), "count": len(rows), "xlsx": str(path), "comments": rows}


# ---------------------------------------------------------------------------- 群众举报
def new_receipt(day: date) -> str:
    """A receipt number: ``JB`` + date + 10 random letters/digits (unguessable)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"JB{day:%Y%m%d}" + "".join(secrets.choice(alphabet) for _ in range(10))


def _place(store: Store, lon: float | None, lat: float | None) -> tuple[str, str, str]:
    """County code, village code and village name at a point.

    From the newest DLTB (ZLDWDM, ZLDWMC), else XZQ (XZQDM, XZQMC); empty when unknown.
    """
    if lon is None or lat is None:
        return "", "", ""
    have = {d.name for d in store.datasets() if d.versions}
    point = shapely.Point(lon, lat)
    eps = 1e-6
    box = (lon - eps, lat - eps, lon + eps, lat + eps)
    for dataset, field, name in (("DLTB", "ZLDWDM", "ZLDWMC"), ("XZQ", "XZQDM", "XZQMC")):
        if dataset not in have:
            continue
        gdf = store.read(dataset, bbox=box)
        if field not in gdf.columns:
            continue
        inside = gdf[gdf.geometry.intersects(point)]
        if len(inside):
            code = str(inside[field].iat[0])
            title = str(inside[name].iat[0]) if name in inside.columns else ""
            return code[:6], code[:12] if len(code) >= 12 else "", title
    return "", "", ""


def _check_photos(photos: list[tuple[str, bytes]], policy: PublicPolicy) -> None:
    rules = policy.reports
    if len(photos) > rules.photos_max:
        raise InputError(f"一次举报最多附 {rules.photos_max} 张照片（收到 {len(photos)} 张）",
                         [Problem("too_many_photos", f"上限 {rules.photos_max}", field="photos")])
    for name, data in photos:
        if Path(name).suffix.lower() not in PHOTO_SUFFIXES:
            raise InputError(f"不支持的照片格式：{name}（可用 {'、'.join(PHOTO_SUFFIXES)}）",
                             [Problem("photo_type", name, field="photos")])
        if len(data) > rules.photo_bytes:
            raise InputError(f"照片 {name} 超过 {rules.photo_bytes / 2**20:.0f} MB",
                             [Problem("photo_size", name, field="photos")])


def submit_report(store: Store, *, lon: Any, lat: Any, description: Any, contact: Any = "",
                  photos: list[tuple[str, bytes]] | None = None,
                  photo_dir: str | Path | None = None, now: str | None = None,
                  policy: PublicPolicy | None = None) -> dict[str, Any]:
    """Take a 群众举报: check it, keep its photos, merge it into a case, give the receipt.

    The merge follows :mod:`onemap.monitor.reports`.

    Parameters
    ----------
    store : Store
        The workspace.
    lon, lat : float
        The place (degrees, from the map or the phone's GPS).
    description : str
        What the resident saw.
    contact : str, optional
        How to reach the resident (never published).
    photos : list of (file name, bytes), optional
        Uploaded photos; their EXIF position and time are kept when present.
    photo_dir : path, optional
        Folder for the photos (default ``<workspace>.evidence/reports``).
    now : str, optional
        Time of the report (default now).
    policy : PublicPolicy, optional
        Default the shipped ``public.yaml``.

    Returns
    -------
    dict
        ``{"receipt"}`` only.

    Raises
    ------
    onemap.errors.InputError
        No place, no description, a text too long, too many or too large photos; nothing is
        kept.
    """
    policy = policy or public_policy()
    rules = policy.reports
    when = case_mod.as_datetime(now)
    text = _text(description, "举报内容", rules.description_chars, required=True)
    contact_s = _text(contact, "联系方式", rules.contact_chars, required=False)
    photos = list(photos or [])
    _check_photos(photos, policy)
    if lon in (None, "") and lat in (None, ""):
        lon, lat = _photo_position(photos)
    x, y = _position(lon, lat, required=True)
    receipt = new_receipt(when.date())
    county, village, _ = _place(store, x, y)
    folder = Path(photo_dir) if photo_dir else _photo_dir(store)
    written: list[Path] = []
    kept: list[dict[str, Any]] = []
    try:
        if photos:
            (folder / receipt).mkdir(parents=True, exist_ok=True)
        for i, (name, data) in enumerate(photos, 1):
            path = folder / receipt / f"{i:02d}{Path(name).suffix.lower()}"
            path.write_bytes(data)
            written.append(path)
            kept.append({"file": path.name, "sha256": file_sha256(path), **read_exif(path)})
        flow = case_mod.load_flow()
        engine = _engine(store)
        with engine.begin() as conn:
            match = match_report(conn, x, y, when, rules, flow)
            report = {"receipt": receipt, "lon": x, "lat": y, "description": text}
            if match is None:
                case = open_report_case(conn, report, county=county, village=village,
                                        actor=PUBLIC_ACTOR, when=when, flow=flow, rules=rules,
                                        policy_version=policy.version)
                how, distance = "new", None
            elif match[0] == "case":
                case, how, distance = match[1]._asdict(), "case", match[2]
            else:
                judgement, run = match[1]
                case = case_mod.open_case(conn, judgement._asdict(), run._asdict(),
                                          actor=PUBLIC_ACTOR, now=when, flow=flow)
                how, distance = "patch", match[2]
            attach_report(conn, case, receipt, actor=PUBLIC_ACTOR, when=when,
                          distance=distance, how=how)
            conn.execute(insert(tables.reports_table).values(
                receipt=receipt, lon=x, lat=y, description=text, contact=contact_s,
                photos=json.dumps(kept, ensure_ascii=False), created_at=when.isoformat(),
                case_id=case["id"], merged=how, moderation="pending"))
            audit.append(conn, PUBLIC_ACTOR, "public.report", "public_report", receipt, None,
                         {"lon": x, "lat": y, "description": text, "photos": kept,
                          "contact_given": bool(contact_s), "case_no": case["case_no"],
                          "merged": how})
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        if photos and (folder / receipt).is_dir():
            (folder / receipt).rmdir()
        raise
    return {"receipt": receipt}


def _photo_position(photos: list[tuple[str, bytes]]) -> tuple[float | None, float | None]:
    """The EXIF GPS position of the first photo that has one (a report without a map place)."""
    for _name, data in photos:
        exif = read_exif(io.BytesIO(data))
        if "lon" in exif and "lat" in exif:
            return exif["lon"], exif["lat"]
    return None, None


def _photo_dir(store: Store) -> Path:
    path = getattr(store, "path", None)
    if path is None:
        raise WorkspaceError("此工作空间没有存放举报照片的目录")
    return Path(path).with_suffix(".evidence") / "reports"


def _find_report(conn: Connection, receipt: str) -> Any:
    row = conn.execute(select(tables.reports_table)
                       .where(tables.reports_table.c.receipt == str(receipt))).first()
    if row is None:
        raise WorkspaceError(f"没有回执号为 {receipt} 的举报")
    return row


def report_status(store: Store, receipt: str, policy: PublicPolicy | None = None
                  ) -> dict[str, Any]:
    """What the reporter sees: ``{"receipt", "status", "answer"}`` and nothing else."""
    policy = policy or public_policy()
    engine = _engine(store)
    c = case_tables.cases_table
    with engine.connect() as conn:
        row = _find_report(conn, receipt)
        state = None
        if row.case_id is not None:
            state = conn.execute(select(c.c.state).where(c.c.id == row.case_id)).scalar()
    return {"receipt": row.receipt,
            "status": reporter_status(state, row.moderation, policy.reports),
            "answer": row.answer or ""}


def list_reports(store: Store, *, moderation: str | None = None) -> list[dict[str, Any]]:
    """Reports for the bureau (the moderation queue with ``moderation="pending"``)."""
    t, c = tables.reports_table, case_tables.cases_table
    stmt = select(t, c.c.case_no, c.c.state).select_from(t.outerjoin(c, c.c.id == t.c.case_id))
    if moderation:
        stmt = stmt.where(t.c.moderation == moderation)
    with _engine(store).connect() as conn:
        rows = conn.execute(stmt.order_by(t.c.id)).all()
    return [{**r._asdict(), "photos": json.loads(r.photos)} for r in rows]


def moderate_report(store: Store, receipt: str, decision: str, *, note: str = "",
                    answer: str | None = None, actor: str) -> dict[str, Any]:
    """Approve (通过) or reject (驳回, with the public answer) a report of the queue."""
    if decision not in MODERATION:
        raise InputError(f"审核结论应为 {'、'.join(MODERATION)}（收到 {decision!r}）")
    t = tables.reports_table
    with _engine(store).begin() as conn:
        row = _find_report(conn, receipt)
        values: dict[str, Any] = {"moderation": MODERATION[decision], "moderation_note": note}
        if answer:
            values.update(answer=_text(answer, "答复", 5000, required=True),
                          answered_by=actor, answered_at=case_mod.as_datetime(None).isoformat())
        conn.execute(update(t).where(t.c.id == row.id).values(**values))
        audit.append(conn, actor, "public.report.moderate", "public_report", receipt,
                     {"moderation": row.moderation}, values)
    return report_status(store, receipt)


def answer_report(store: Store, receipt: str, answer: str, *, actor: str) -> dict[str, Any]:
    """Set the public answer the reporter reads with the receipt."""
    text = _text(answer, "答复", 5000, required=True)
    t = tables.reports_table
    with _engine(store).begin() as conn:
        row = _find_report(conn, receipt)
        conn.execute(update(t).where(t.c.id == row.id).values(
            answer=text, answered_by=actor, answered_at=case_mod.as_datetime(None).isoformat()))
        audit.append(conn, actor, "public.report.answer", "public_report", receipt,
                     {"answer": row.answer}, {"answer": text})
    return report_status(store, receipt)


# ---------------------------------------------------------------------------- 执法公示
def published_decisions(store: Store, policy: PublicPolicy | None = None
                        ) -> list[dict[str, Any]]:
    """Every decided case as the public sees it (newest decision first), redacted by rule."""
    policy = policy or public_policy()
    rules = policy.enforcement
    engine = _engine(store)
    c, e = case_tables.cases_table, case_tables.case_events_table
    with engine.connect() as conn:
        rows = conn.execute(select(e, c.c.county, c.c.village, c.c.lon, c.c.lat)
                            .select_from(e.join(c, c.c.id == e.c.case_id))
                            .where(e.c.action == rules.decision_action)
                            .order_by(e.c.id.desc())).all()
    names = workspace_unit_names(store) if rows else {}
    out, seen = [], set()
    for r in rows:
        if r.case_id in seen:
            continue
        seen.add(r.case_id)
        fields = json.loads(r.fields or "{}")
        village_name = _place(store, r.lon, r.lat)[2] or names.get((r.village or "")[:12], "")
        out.append(published_decision(
            {"county": r.county, "village": r.village}, fields,
            county_name=names.get(r.county or "", ""), village_name=village_name, rules=rules))
    return out
