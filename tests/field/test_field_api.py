"""The field app's API: tasks by scope, evidence upload (hash, idempotency, flags, conflicts), office view."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from PIL import Image
from shapely.geometry import shape

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_server import (  # noqa: E402
    FIELD_OFFICERS,
    FIELD_PASSWORD,
    HAZARD_POINTS,
    PASSWORD,
    USERNAME,
    add_field_data,
    build_workspace,
)

from onemap.field.offline import tile_xy, tiles_for  # noqa: E402


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("field") / "field.gpkg"
    info = build_workspace(path)
    assert info["cases_opened"] >= 2
    add_field_data(path)
    return path


@pytest.fixture(scope="module")
def client(ws, tmp_path_factory):
    from onemap.api import create_app

    app = create_app(ws, cache_dir=tmp_path_factory.mktemp("tiles"))
    with TestClient(app) as c:
        yield c


def login(client, user, password=FIELD_PASSWORD) -> dict[str, str]:
    r = client.post("/api/login", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def jpeg(seed: int) -> bytes:
    img = Image.new("RGB", (320, 240), (seed * 37 % 256, 120, 200 - seed % 100))
    out = io.BytesIO()
    img.save(out, "JPEG")
    return out.getvalue()


def inside(task) -> tuple[float, float]:
    p = shape(task["geometry"]).representative_point()
    return p.x, p.y


def meta_for(data: bytes, lon: float, lat: float, *, acc=5.0, minutes_ago=5, heading=45.0,
             sha=None) -> dict:
    when = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    return {"lon": lon, "lat": lat, "accuracy_m": acc, "time": when, "heading": heading,
            "sha256": sha or hashlib.sha256(data).hexdigest()}


def upload(client, headers, task_id, photos, metas, form):
    files = [("photos", (name, data, "image/jpeg")) for name, data in photos]
    data = {"meta": [json.dumps(m) for m in metas], "form": json.dumps(form, ensure_ascii=False)}
    return client.post(f"/api/field/tasks/{task_id}/evidence", headers=headers, files=files,
                       data=data)


def evidence_rows(ws) -> int:
    from sqlalchemy import func, select

    from onemap.store import open_workspace
    from onemap.store.field import ensure_tables, evidence_table

    store = open_workspace(ws)
    ensure_tables(store.sql_engine())
    with store.sql_engine().connect() as conn:
        n = conn.execute(select(func.count()).select_from(evidence_table)).scalar()
    store.close()
    return int(n)


FORM = {"notes": "现场为新建厂房", "site_status": "已建成"}


def test_tasks_only_of_the_officers_county(client):
    seen = {}
    for county, name in FIELD_OFFICERS.items():
        tasks = client.get("/api/field/tasks", headers=login(client, name)).json()
        assert tasks["tasks"], name
        assert {t["county"][:6] for t in tasks["tasks"]} == {county}
        kinds = {t["kind"] for t in tasks["tasks"]}
        assert kinds == {"case_check", "hazard_patrol"}
        hazard = [t for t in tasks["tasks"] if t["kind"] == "hazard_patrol"]
        assert [t["ref"] for t in hazard] == [no for no, c, *_ in HAZARD_POINTS if c == county]
        assert hazard[0]["geometry"]["type"] == "Point" and hazard[0]["case_id"] is None
        case = next(t for t in tasks["tasks"] if t["kind"] == "case_check")
        assert case["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert set(case) >= {"id", "kind", "case_id", "title", "geometry", "due"}
        assert tasks["kinds"]["case_check"]["min_photos"] == 2
        seen[county] = {t["id"] for t in tasks["tasks"]}
    assert not seen["640302"] & seen["640324"]
    # the whole-city admin sees both counties; a viewer may not do field work
    admin = client.get("/api/field/tasks", headers=login(client, USERNAME, PASSWORD)).json()
    assert {t["id"] for t in admin["tasks"]} == seen["640302"] | seen["640324"]
    assert client.get("/api/field/tasks", headers=login(client, "reader")).json()["tasks"] == []


def _first_case_task(client, officer):
    tasks = client.get("/api/field/tasks", headers=login(client, officer)).json()["tasks"]
    return next(t for t in tasks if t["kind"] == "case_check" and t["state"] == "issued")


def test_evidence_lands_once_with_flags_watermark_and_audit(client, ws):
    headers = login(client, "litong")
    task = _first_case_task(client, "litong")
    lon, lat = inside(task)
    a = jpeg(1)
    before = evidence_rows(ws)
    r = upload(client, headers, task["id"], [("a.jpg", a)], [meta_for(a, lon, lat)], FORM)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["accepted"] == 1 and out["duplicates"] == 0
    assert [f["rule"] for f in out["flags"]] == ["举证不足"]  # one photo of the two required
    assert out["state"] == "evidenced"
    # the retried upload (same bytes, same task) adds nothing
    again = upload(client, headers, task["id"], [("a.jpg", a)], [meta_for(a, lon, lat)], FORM)
    assert again.status_code == 200 and again.json()["accepted"] == 0
    assert again.json()["duplicates"] == 1
    assert evidence_rows(ws) == before + 1
    # a second photo completes the evidence: no 举证不足 any more
    b = jpeg(2)
    r2 = upload(client, headers, task["id"], [("a.jpg", a), ("b.jpg", b)],
                [meta_for(a, lon, lat), meta_for(b, lon, lat, heading=None)], FORM)
    assert r2.json()["accepted"] == 1 and r2.json()["duplicates"] == 1
    assert r2.json()["flags"] == []
    # the office sees it on the case: positions, view directions, flags, no server paths
    case = client.get(f"/api/cases/{task['case_id']}", headers=login(client, USERNAME, PASSWORD))
    body = case.json()
    field = body["field_evidence"]
    assert [(e["name"], e["heading"]) for e in field] == [("a.jpg", 45.0), ("b.jpg", None)]
    assert field[0]["flags"][0]["rule"] == "举证不足" and field[1]["flags"] == []
    assert (field[0]["lon"], field[0]["lat"]) == (round(lon, 7), round(lat, 7))
    assert "path" not in field[0] and str(ws.parent) not in case.text
    events = [e for e in body["events"] if e["action"] == "evidence"]
    assert len(events) == 2 and events[0]["fields"]["site_status"] == "已建成"
    # original bytes kept as sent; the watermarked copy is another image of the same size
    orig = client.get(field[0]["photo_url"], headers=headers)
    assert orig.status_code == 200 and orig.content == a
    marked = client.get(field[0]["watermarked_url"], headers=headers).content
    img = Image.open(io.BytesIO(marked)).convert("L")
    assert marked != a and img.size == (320, 240)
    # the band along the bottom is darkened and carries white text; the top is the photo as taken
    top = sum(img.getpixel((x, y)) for x in range(0, 320, 8) for y in range(0, 40, 8)) / 200
    band = [img.getpixel((x, y)) for x in range(0, 320, 4) for y in range(200, 240, 4)]
    assert sum(band) / len(band) < top - 20 and max(band) > 200
    # the audit chain holds the evidence and verifies
    from onemap.monitor.service import audit_verify
    from onemap.store import audit, open_workspace

    store = open_workspace(ws)
    rows = [e for e in audit.entries(store.sql_engine()) if e.action == "field.evidence"]
    assert [p["sha256"] for e in rows for p in e.after["photos"]][-2:] == \
        [hashlib.sha256(a).hexdigest(), hashlib.sha256(b).hexdigest()]
    assert audit_verify(store)["ok"]
    store.close()


def test_hash_mismatch_is_refused_naming_the_photo(client, ws):
    headers = login(client, "tongxin")
    task = _first_case_task(client, "tongxin")
    lon, lat = inside(task)
    good, bad = jpeg(3), jpeg(4)
    before = evidence_rows(ws)
    r = upload(client, headers, task["id"], [("good.jpg", good), ("swapped.jpg", bad)],
               [meta_for(good, lon, lat), meta_for(bad, lon, lat, sha=hashlib.sha256(b"x").hexdigest())],
               FORM)
    assert r.status_code == 400
    assert "swapped.jpg" in r.json()["message"] and "SHA-256" in r.json()["message"]
    assert r.json()["problems"][0]["file"] == "swapped.jpg"
    assert evidence_rows(ws) == before
    state = client.get(f"/api/cases/{task['case_id']}", headers=headers).json()["state"]
    assert state == "issued"


def test_weak_evidence_flags_and_form_check(client):
    headers = login(client, "tongxin")
    task = _first_case_task(client, "tongxin")
    geom = shape(task["geometry"])
    # 0.003° of latitude north of the patch: ~333 m away
    far_lat = geom.bounds[3] + 0.003
    c = jpeg(5)
    missing = upload(client, headers, task["id"], [("c.jpg", c)],
                     [meta_for(c, geom.centroid.x, far_lat)], {"notes": "x"})
    assert missing.status_code == 400 and "现场状况" in missing.json()["message"]
    r = upload(client, headers, task["id"], [("c.jpg", c)],
               [meta_for(c, geom.centroid.x, far_lat, acc=80.0)], FORM)
    assert r.status_code == 200, r.text
    rules = [(f["photo"], f["rule"]) for f in r.json()["flags"]]
    assert rules == [("c.jpg", "位置不符"), ("c.jpg", "精度不足"), (None, "举证不足")]
    d = next(f["message"] for f in r.json()["flags"] if f["rule"] == "位置不符")
    metres = float(d.split("距任务图形 ")[1].split(" 米")[0])
    assert 320 < metres < 345


def test_out_of_scope_and_conflict(client, ws):
    litong = login(client, "litong")
    tasks = client.get("/api/field/tasks", headers=litong).json()["tasks"]
    target = [t for t in tasks if t["kind"] == "case_check" and t["state"] == "issued"][-1]
    lon, lat = inside(target)
    d = jpeg(6)
    # an officer of another county may not serve the task
    r = upload(client, login(client, "tongxin"), target["id"], [("d.jpg", d)],
               [meta_for(d, lon, lat)], FORM)
    assert r.status_code == 403
    assert upload(client, litong, target["id"], [("d.jpg", d)], [meta_for(d, lon, lat)],
                  FORM).status_code == 200
    # the office determines the case while the officer is out: the next upload is a conflict
    admin = login(client, USERNAME, PASSWORD)
    moved = client.post(f"/api/cases/{target['case_id']}/actions/determine", headers=admin,
                        json={"determination": "违法", "basis": "外业核查"})
    assert moved.status_code == 200, moved.text
    before = evidence_rows(ws)
    f = jpeg(8)
    r = upload(client, litong, target["id"], [("f.jpg", f)], [meta_for(f, lon, lat)], FORM)
    assert r.status_code == 409
    assert "已判定" in r.json()["message"] and "未提交" in r.json()["message"]
    assert evidence_rows(ws) == before
    # a retry of what already landed is still answered as received, not as a conflict
    again = upload(client, litong, target["id"], [("d.jpg", d)], [meta_for(d, lon, lat)], FORM)
    assert again.status_code == 200 and again.json()["duplicates"] == 1


def test_hazard_patrol_resets_the_due_date(client):
    headers = login(client, "tongxin")
    task = next(t for t in client.get("/api/field/tasks", headers=headers).json()["tasks"]
                if t["kind"] == "hazard_patrol")
    g = jpeg(9)
    lon, lat = task["geometry"]["coordinates"]
    r = upload(client, headers, task["id"], [("g.jpg", g)], [meta_for(g, lon, lat + 0.0002)],
               {"period": "汛前", "notes": "坡体无新裂缝"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1 and r.json()["flags"] == []
    # inspected: next inspection in 120 days, so the point is no longer a task
    left = [t["id"] for t in client.get("/api/field/tasks", headers=headers).json()["tasks"]]
    assert task["id"] not in left
    seen = client.get(f"/api/field/tasks/{task['id']}/evidence", headers=headers).json()
    assert seen["count"] == 1 and seen["evidence"][0]["sha256"] == hashlib.sha256(g).hexdigest()


def test_offline_plan_sizes_every_tile(client):
    headers = login(client, "tongxin")
    plan = client.get("/api/field/offline", headers=headers).json()
    assert [layer["dataset"] for layer in plan["layers"]] == ["DLTB", "XZQ"]
    assert len(plan["files"]) == 2 * len(plan["tiles"])
    assert plan["bytes"] == sum(f["bytes"] for f in plan["files"]) > 0
    assert plan["over_budget"] is False and plan["budget_bytes"] == 50 * 2**20
    assert {z for z, _, _ in plan["tiles"]} == set(range(13, 18))


def test_tile_arithmetic():
    assert tile_xy(0.0, 0.0, 1) == (1, 1)
    assert tile_xy(-179.9, 80.0, 1) == (0, 0)
    # 106.2E: x = floor((106.2 + 180) / 360 · 2^13) = floor(6512.64) = 6512
    assert tile_xy(106.2, 37.95, 13)[0] == 6512
    box = (106.2001, 37.9501, 106.2002, 37.9502)
    assert tiles_for([box], 13, 13) == [(13, *tile_xy(106.2001, 37.9501, 13))]
    assert shapely.box(*box).area > 0
