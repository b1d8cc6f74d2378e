"""The public routes: anonymous 群众举报 into a case, receipt, 意见征询, public layers, abuse
limits, and every internal route refused to an anonymous caller."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
import shapely
from fastapi.testclient import TestClient
from geopandas import GeoDataFrame
from PIL import Image
from starlette.routing import Mount

from onemap.api import create_app
from onemap.api.auth import PUBLIC_PATHS
from onemap.store import init_workspace, open_workspace
from onemap.store.base import VersionMeta
from onemap.store.users import create_token, create_user

from ._api_support import PASSWORD, auth, make_dltb

# patch BSM 640300001 (0103 旱地, the box 106.202–106.204 × 37.900–37.902) becomes 0702 in 2024
CENTRE = (106.203, 37.901)


def _jpeg(lon: float, lat: float, size: int = 8) -> bytes:
    def dms(v):
        d = int(v)
        m = int((v - d) * 60)
        return (float(d), float(m), round((v - d - m / 60) * 3600, 4))

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    exif[0x8769] = {36867: "2025:05:01 10:00:00"}
    buf = io.BytesIO()
    Image.new("RGB", (size, size), "green").save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


@pytest.fixture(scope="module")
def _template(tmp_path_factory):
    from onemap.monitor import service

    path = tmp_path_factory.mktemp("public") / "ws.gpkg"
    store = init_workspace(path, name="测试", region="640300")
    meta = VersionMeta(synthetic=True)
    old = make_dltb()
    new = old.copy()
    new.loc[new["BSM"] == "640300001", "DLBM"] = "0702"
    store.write_version("DLTB", "2023", old, meta, title="地类图斑")
    store.write_version("DLTB", "2024", new, meta, title="地类图斑")
    store.write_version("STBHHX", "2023", GeoDataFrame(
        {"XZQDM": ["640302"], "BZ": ["内部备注：不公开"]},
        geometry=[shapely.box(106.2, 37.9, 106.201, 37.901)], crs=4490), meta)
    service.run_changes(store, "DLTB", "2023", "2024", actor="pytest")
    service.judge_changes(store, "2023-2024", actor="pytest")
    engine = store.sql_engine()
    create_user(engine, "admin", PASSWORD, role="admin")
    store.close()
    return path


@pytest.fixture
def ws(_template, tmp_path):
    import shutil

    shutil.copy(_template, tmp_path / "ws.gpkg")
    store = open_workspace(tmp_path / "ws.gpkg")
    token = create_token(store.sql_engine(), "admin", name="t", scopes=("admin",))
    store.close()
    return tmp_path / "ws.gpkg", token


@pytest.fixture
def client(ws, tmp_path):
    app = create_app(ws[0], cache_dir=tmp_path / "tiles", web_dist=tmp_path / "nodist")
    with TestClient(app) as c:
        yield c, auth(ws[1])


def test_anonymous_report_becomes_case_source_and_merges_with_patch(client):
    c, admin = client
    r = c.post("/api/public/reports", json={"lon": CENTRE[0], "lat": CENTRE[1],
                                            "description": "耕地上新建房屋", "contact": "13900000000"})
    assert r.status_code == 201, r.text
    assert list(r.json()) == ["receipt"]
    receipt = r.json()["receipt"]
    assert re.fullmatch(r"JB\d{8}[A-Z0-9]{10}", receipt)
    cases = c.get("/api/cases", headers=admin).json()["cases"]
    (case,) = cases
    assert case["tbbh"] == "BH000001" and case["suggested"] == "疑似违法"
    assert case["sources"] == ["卫片执法", "群众举报"] and case["data"]["reports"] == [receipt]
    s = c.get(f"/api/public/reports/{receipt}")
    assert s.status_code == 200 and s.json() == {"receipt": receipt, "status": "已受理",
                                                 "answer": ""}
    # a report far from any patch opens a case whose source is 群众举报
    r2 = c.post("/api/public/reports", json={"lon": 106.25, "lat": 37.95, "description": "挖沙"})
    cases = c.get("/api/cases", headers=admin).json()["cases"]
    mine = [x for x in cases if x["source"] == "群众举报"]
    assert [x["tbbh"] for x in mine] == [r2.json()["receipt"]]
    # the bureau answers; the reporter reads it and nothing else
    a = c.post(f"/api/public-admin/reports/{receipt}/answer", headers=admin,
               json={"answer": "已受理，正在核查"})
    assert a.status_code == 200
    assert c.get(f"/api/public/reports/{receipt}").json() == {
        "receipt": receipt, "status": "已受理", "answer": "已受理，正在核查"}
    assert c.get("/api/public/reports/JB20250101AAAAAAAAAA").status_code == 404
    assert c.get("/api/public/reports/..%2Fcases").status_code == 404


def test_multipart_report_with_photo_and_limits(client):
    c, admin = client
    files = [("photos", ("现场.jpg", _jpeg(106.25, 37.95), "image/jpeg"))]
    r = c.post("/api/public/reports", data={"lon": "106.25", "lat": "37.95",
                                            "description": "倾倒垃圾"}, files=files)
    assert r.status_code == 201, r.text
    (rep,) = c.get("/api/public-admin/reports?moderation=pending", headers=admin).json()["reports"]
    assert rep["description"] == "倾倒垃圾"
    assert rep["photos"][0]["lon"] == pytest.approx(106.25, abs=1e-6)
    assert rep["photos"][0]["taken_at"] == "2025-05-01T10:00:00"
    # no place given: the photo's GPS position is the report's place
    r = c.post("/api/public/reports", data={"description": "照片定位"},
               files=[("photos", ("g.jpg", _jpeg(106.26, 37.96), "image/jpeg"))])
    assert r.status_code == 201, r.text
    last = c.get("/api/public-admin/reports", headers=admin).json()["reports"][-1]
    assert (last["lon"], last["lat"]) == pytest.approx((106.26, 37.96), abs=1e-6)
    five = [("photos", (f"{i}.jpg", _jpeg(106.25, 37.95), "image/jpeg")) for i in range(5)]
    r = c.post("/api/public/reports", data={"lon": "106.25", "lat": "37.95",
                                            "description": "x"}, files=five)
    assert r.status_code == 400 and "最多附 4 张照片" in r.json()["message"]
    big = [("photos", ("big.jpg", b"\xff" * (5 * 2**20 + 10), "image/jpeg"))]
    r = c.post("/api/public/reports", data={"lon": "106.25", "lat": "37.95",
                                            "description": "x"}, files=big)
    assert r.status_code == 413 and "超过 5 MB" in r.json()["message"]
    r = c.post("/api/public/reports", json={"lon": 106.25, "description": "x"})
    assert r.status_code == 400
    assert r.json()["message"] == "位置无效：lon=106.25, lat=None（应为经纬度数字）"


def test_rate_limit_per_device_and_address(client):
    c, _ = client
    body = {"lon": 106.25, "lat": 37.95, "description": "测试"}
    for _ in range(5):
        assert c.post("/api/public/reports", json=body,
                      headers={"X-Device-Id": "phone-1"}).status_code == 201
    r = c.post("/api/public/reports", json=body, headers={"X-Device-Id": "phone-1"})
    assert r.status_code == 429 and "本设备提交过于频繁（1 小时内最多 5 次）" in r.json()["message"]
    assert int(r.headers["retry-after"]) > 3500
    for _ in range(5):      # another device from the same address: the address limit (10) cuts
        c.post("/api/public/reports", json=body, headers={"X-Device-Id": "phone-2"})
    r = c.post("/api/public/reports", json=body, headers={"X-Device-Id": "phone-3"})
    assert r.status_code == 429 and "您所在的网络地址提交过于频繁" in r.json()["message"]


def test_consultation_comments_in_and_after_the_period(client, tmp_path):
    from datetime import date, timedelta

    c, admin = client
    today = date.today()
    open_item = c.post("/api/public-admin/items", headers=admin, json={
        "kind": "规划", "title": "某片区控制性详细规划（草案）", "consult": True,
        "start": str(today - timedelta(days=3)), "end": str(today + timedelta(days=27))})
    assert open_item.status_code == 201, open_item.text
    closed = c.post("/api/public-admin/items", headers=admin, json={
        "kind": "批前公示", "title": "某项目用地批前公示", "consult": True,
        "start": str(today - timedelta(days=40)), "end": str(today - timedelta(days=10))})
    oid, cid = open_item.json()["id"], closed.json()["id"]
    listed = c.get("/api/public/notices").json()["items"]
    assert [i["id"] for i in listed] == [oid]
    r = c.post(f"/api/public/notices/{oid}/comments",
               json={"text": "建议增加停车场", "lon": 106.203, "lat": 37.901, "contact": "李女士"})
    assert r.status_code == 201 and r.json()["id"] == 1
    r = c.post(f"/api/public/notices/{cid}/comments", json={"text": "反对"})
    assert r.status_code == 400
    end = str(today - timedelta(days=10))
    assert r.json()["message"] == (f"「某项目用地批前公示」的意见征询已于 {end} 结束（征询期 "
                                   f"{today - timedelta(days=40)} 至 {end}），不再接受意见")
    queue = c.get(f"/api/public-admin/items/{oid}/comments?moderation=pending", headers=admin)
    assert [x["text"] for x in queue.json()["comments"]] == ["建议增加停车场"]
    m = c.post("/api/public-admin/comments/1/moderate", headers=admin, json={"decision": "通过"})
    assert m.json()["moderation"] == "approved"
    assert c.get(f"/api/public-admin/items/{oid}/comments?moderation=pending",
                 headers=admin).json()["count"] == 0
    a = c.post("/api/public-admin/comments/1/answer", headers=admin,
               json={"answer": "已采纳，在规划中增加公共停车场"})
    assert a.json()["answer"] == "已采纳，在规划中增加公共停车场"
    s = c.post(f"/api/public-admin/items/{oid}/summary", headers=admin,
               json={"summary": "共收到意见 1 条，采纳 1 条"})
    assert s.status_code == 200
    assert c.get(f"/api/public/notices/{oid}").json()["summary"] == "共收到意见 1 条，采纳 1 条"
    x = c.get(f"/api/public-admin/items/{oid}/comments.xlsx", headers=admin)
    assert x.status_code == 200
    path = tmp_path / "c.xlsx"
    path.write_bytes(x.content)
    ws = openpyxl.load_workbook(path).active
    values = [[cell.value for cell in row] for row in ws.iter_rows()]
    assert any(row[:3] == [1, values[-1][1], "建议增加停车场"] for row in values)
    assert values[-1][7] == "已采纳，在规划中增加公共停车场"
    # the public never sees comments
    assert "建议增加停车场" not in c.get(f"/api/public/notices/{oid}").text


def test_public_layers_only_what_is_marked_and_only_public_fields(client, ws):
    c, admin = client
    store = open_workspace(ws[0])
    every = [d.name for d in store.datasets()]
    store.close()
    assert {"DLTB", "STBHHX", "BHTB", "BHTBPD"} <= set(every)
    assert c.get("/api/public/layers").json() == {"layers": []}
    for name in [*every, "NOPE"]:      # no layer of the workspace leaves before it is marked
        assert c.get(f"/api/public/layers/{name}").status_code == 404
    r = c.post("/api/public-admin/layers", headers=admin, json={"dataset": "DLTB",
               "approval_no": "x", "approved_on": "2024-01-01"})
    assert r.status_code == 400 and "不在可公开图层清单中" in r.json()["message"]
    r = c.post("/api/public-admin/layers", headers=admin, json={
        "dataset": "STBHHX", "approval_no": "宁政函〔2023〕15号", "approved_on": "2023-10-08"})
    assert r.status_code == 201, r.text
    assert c.get("/api/public/layers").json()["layers"] == [{
        "dataset": "STBHHX", "version": "2023", "title": "生态保护红线",
        "approval_no": "宁政函〔2023〕15号", "approved_on": "2023-10-08", "fields": ["XZQDM"]}]
    g = c.get("/api/public/layers/STBHHX").json()
    assert g["approval_no"] == "宁政函〔2023〕15号"
    assert [f["properties"] for f in g["features"]] == [{"XZQDM": "640302"}]
    assert "内部备注" not in c.get("/api/public/layers/STBHHX").text
    for name in every:                 # and after marking, only the marked one
        assert c.get(f"/api/public/layers/{name}").status_code == (200 if name == "STBHHX"
                                                                  else 404)


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _internal_routes(app) -> list[tuple[str, str]]:
    out = []

    def walk(routes, prefix):
        for route in routes:
            if isinstance(route, Mount):
                walk(route.routes or [], prefix + route.path)
                continue
            if hasattr(route, "effective_candidates"):   # an included router (FastAPI ≥ 0.16x)
                walk(route.effective_candidates(), prefix)
                continue
            original = getattr(route, "original_route", route)
            for method in sorted(getattr(original, "methods", None) or {"GET"}):
                out.append((method, prefix + route.path))

    walk(app.routes, "")
    # "/" is the web UI's entry (its login page) and "/public" the public page
    return [(m, p) for m, p in out
            if not p.startswith("/api/public/") and p not in PUBLIC_PATHS and p not in ("/", "/public")
            and not p.startswith("/api/docs-assets") and m != "HEAD"]


@pytest.mark.parametrize("anonymous_read", [False, True])
def test_every_internal_route_refuses_an_anonymous_caller(ws, tmp_path, anonymous_read):
    app = create_app(ws[0], cache_dir=tmp_path / "tiles", web_dist=tmp_path / "nodist",
                     anonymous_read=anonymous_read)
    routes = _internal_routes(app)
    assert len(routes) >= 50
    assert ("POST", "/api/cases/{case_id}/actions/{action}") in routes
    assert ("GET", "/api/public-admin/reports") in routes
    refused = {}
    with TestClient(app) as c:
        for method, path in routes:
            r = c.request(method, _fill(path), json={})
            refused[(method, path)] = r.status_code
    if not anonymous_read:
        assert {k: v for k, v in refused.items() if v != 401} == {}
    else:   # anonymous reading on: still no write, and nothing of the public services' back office
        writes = {k: v for k, v in refused.items() if k[0] != "GET" and v != 401}
        assert writes == {}
        back = {k: v for k, v in refused.items() if "/public-admin/" in k[1] and v not in (401, 403)}
        assert back == {}
