"""Security: each attack of issue #19 as a test (each failed on the code before the fix)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from geopandas import GeoDataFrame

from onemap.store import init_workspace, open_workspace
from onemap.store.base import VersionMeta
from onemap.store.users import create_token, create_user

from ._api_support import PASSWORD, auth, make_cases, make_dltb, png_bytes

USERS = {"admin": ("admin", None), "viewer": ("viewer", None),
         "tongxin": ("enforcer", "640324"), "litong": ("enforcer", "640302"),
         "editor": ("editor", None)}


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """DLTB, XZQ and a judged change layer (BHTBPD) over two counties; users; two cases."""
    path = tmp_path_factory.mktemp("sec") / "ws.gpkg"
    store = init_workspace(path, name="安全测试", region="640300")
    store.write_version("DLTB", "2024", make_dltb(), VersionMeta(synthetic=True))
    judged = GeoDataFrame(
        {"tbbh": ["A1", "A2", "B1"], "verdict": ["疑似违法", "合法", "疑似违法"],
         "county": ["640302", "640302", "640324"]},
        geometry=[shapely.box(106.200, 37.900, 106.201, 37.901),
                  shapely.box(106.202, 37.900, 106.203, 37.901),
                  shapely.box(106.208, 37.900, 106.209, 37.901)], crs=4490)
    store.write_version("BHTBPD", "2024", judged, VersionMeta(synthetic=True))
    engine = store.sql_engine()
    for name, (role, county) in USERS.items():
        create_user(engine, name, PASSWORD, role=role, county=county)
    make_cases(engine)
    store.close()
    return path


@pytest.fixture(scope="module")
def tokens(ws) -> dict[str, str]:
    engine = open_workspace(ws).sql_engine()
    return {u: create_token(engine, u, name="tests", days=30, scopes=("admin",)) for u in USERS}


@pytest.fixture(scope="module")
def client(ws, tokens, tmp_path_factory):
    from onemap.api import create_app

    app = create_app(ws, cache_dir=tmp_path_factory.mktemp("sec-tiles"))
    with TestClient(app) as c:
        yield c


def _case_id(client, tokens, county: str) -> int:
    cases = client.get("/api/cases", headers=auth(tokens["admin"])).json()["cases"]
    return next(c["id"] for c in cases if c["county"] == county)


def _evidence_files(ws: Path) -> list[Path]:
    folder = ws.with_suffix(".evidence")
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _no_server_path(body: dict) -> None:
    text = json.dumps(body, ensure_ascii=False)
    for part in ("/tmp", "/etc", "/work", "/home", "/root", "pytest-"):
        assert part not in text, text


# ---------------------------------------------------------------------------- evidence
def test_evidence_never_reads_a_server_path(client, tokens, ws):
    case = _case_id(client, tokens, "640324")
    officer = auth(tokens["tongxin"])
    fields = {"officer": "张三", "date": "2025-01-10", "notes": "现场核查"}
    for target in ("/etc/passwd", "/etc/no-such-file"):
        r = client.post(f"/api/cases/{case}/actions/evidence", headers=officer,
                        json={**fields, "photos": [{"path": target, "lon": 106.21,
                                                    "lat": 37.905, "time": "2025-01-10"}]})
        assert r.status_code == 400
        assert r.json()["message"].startswith("举证照片只能以文件上传")
        _no_server_path(r.json())
    # the same through the multipart form: a path in ``fields`` or as a plain ``photos`` value
    r = client.post(f"/api/cases/{case}/actions/evidence", headers=officer,
                    data={"fields": json.dumps({**fields, "photos": ["/etc/passwd"]})})
    assert r.status_code == 400 and r.json()["message"].startswith("举证照片只能以文件上传")
    r = client.post(f"/api/cases/{case}/actions/evidence", headers=officer,
                    data={"fields": json.dumps(fields), "photos": "/etc/passwd"})
    assert r.status_code == 400 and r.json()["message"].startswith("举证照片只能以文件上传")
    detail = client.get(f"/api/cases/{case}", headers=officer).json()
    assert detail["state"] == "issued" and detail["evidence"] == []


def test_refused_upload_leaves_nothing_and_names_no_path(client, tokens, ws):
    case = _case_id(client, tokens, "640324")
    officer = auth(tokens["tongxin"])
    before = _evidence_files(ws)
    # a photo without position or time: refused, naming the photo by its own name only
    r = client.post(f"/api/cases/{case}/actions/evidence", headers=officer,
                    data={"fields": json.dumps({"officer": "张三", "date": "2025-01-10",
                                                "notes": "现场核查"})},
                    files=[("photos", ("现场.png", png_bytes(), "image/png"))])
    assert r.status_code == 400
    body = r.json()
    _no_server_path(body)
    assert any(p.get("file", "").endswith("_现场.png") for p in body["problems"])
    # a required field missing while the photo itself is fine
    r = client.post(f"/api/cases/{case}/actions/evidence", headers=officer,
                    data={"fields": json.dumps({"date": "2025-01-10", "notes": "现场核查"}),
                          "photos_meta": json.dumps([{"lon": 106.21, "lat": 37.905,
                                                      "time": "2025-01-10T10:00:00"}])},
                    files=[("photos", ("现场.png", png_bytes(), "image/png"))])
    assert r.status_code == 400 and "officer" in json.dumps(r.json(), ensure_ascii=False)
    # the second file has a refused type: the first is not kept either
    r = client.post(f"/api/cases/{case}/actions/evidence", headers=officer,
                    data={"fields": json.dumps({"officer": "张三", "date": "2025-01-10",
                                                "notes": "现场核查"})},
                    files=[("photos", ("a.png", png_bytes(), "image/png")),
                           ("photos", ("b.exe", b"MZ", "application/octet-stream"))])
    assert r.status_code == 400 and "b.exe" in r.json()["message"]
    assert _evidence_files(ws) == before


def test_uploaded_evidence_is_kept_and_shown_by_name(client, tokens, ws):
    case = _case_id(client, tokens, "640324")
    officer = auth(tokens["tongxin"])
    r = client.post(
        f"/api/cases/{case}/actions/evidence", headers=officer,
        data={"fields": json.dumps({"officer": "张三", "date": "2025-01-10", "notes": "现场核查"}),
              # a path in the photo's metadata is ignored: the uploaded bytes are the photo
              "photos_meta": json.dumps([{"lon": 106.21, "lat": 37.905, "path": "/etc/passwd",
                                          "time": "2025-01-10T10:00:00"}])},
        files=[("photos", ("现场.png", png_bytes(), "image/png"))],
    )
    assert r.status_code == 200, r.text
    _no_server_path(r.json())
    files = _evidence_files(ws)
    assert len(files) == 1 and files[0].read_bytes() == png_bytes()
    import hashlib

    detail = client.get(f"/api/cases/{case}", headers=officer).json()
    _no_server_path(detail)
    assert [e["sha256"] for e in detail["evidence"]] == [hashlib.sha256(png_bytes()).hexdigest()]
    assert detail["evidence"][0]["path"] == files[0].name


@pytest.mark.parametrize("name,data", [("地块.kml", b"<kml><x"), ("地块.geojson", b"{}"),
                                       ("地块.gpkg", b"junk")])
def test_site_upload_errors_name_no_temp_path(client, tokens, name, data):
    # GDAL's own message names the temporary file: the answer keeps only its name
    r = client.post("/api/check", headers=auth(tokens["viewer"]),
                    files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == 400
    assert name in r.json()["message"]
    _no_server_path(r.json())


# ---------------------------------------------------------------------------- login throttling
@pytest.fixture()
def fresh_client(ws, tmp_path_factory):
    """A new app over the workspace (its own, empty login counters)."""
    from onemap.api import create_app

    with TestClient(create_app(ws, cache_dir=tmp_path_factory.mktemp("t"))) as c:
        yield c


def test_wrong_passwords_lock_the_account_even_for_the_right_one(fresh_client):
    codes = [fresh_client.post("/api/login", json={"username": "viewer",
                                                   "password": f"wrong-{i:04d}"}).status_code
             for i in range(40)]
    assert codes == [401] * 5 + [429] * 35
    r = fresh_client.post("/api/login", json={"username": "viewer", "password": PASSWORD})
    assert r.status_code == 429
    assert "登录失败次数过多" in r.json()["message"] and "锁定" in r.json()["message"]
    assert 0 < int(r.headers["retry-after"]) <= 60  # attempts while locked are not even checked


def _small_limits(app, address_failures: int = 6):
    from onemap.api.throttle import LoginThrottle
    from onemap.domain.security import LoginPolicy

    app.state.ctx.throttle = LoginThrottle(LoginPolicy(address_failures=address_failures))


def test_many_accounts_from_one_address_lock_the_address(fresh_client):
    _small_limits(fresh_client.app)  # 6 instead of 20: fewer password hashes to wait for
    codes = [fresh_client.post("/api/login", json={"username": f"guess{i}",
                                                   "password": "wrong-pass"}).status_code
             for i in range(7)]
    assert codes == [401] * 6 + [429]
    r = fresh_client.post("/api/login", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 429 and "地址" in r.json()["message"]


def test_lock_doubles_then_success_clears():
    from onemap.api.errors import TooManyRequests
    from onemap.api.throttle import LoginThrottle
    from onemap.domain.security import LoginPolicy

    now = [1000.0]
    t = LoginThrottle(LoginPolicy(account_failures=3, address_failures=100, lock_seconds=60,
                                  max_lock_seconds=200), clock=lambda: now[0])
    def fail(account: str = "zhang", address: str = "10.0.0.1") -> None:
        t.begin(account, address)
        t.end(account, address, False)

    for _ in range(3):
        fail()
    with pytest.raises(TooManyRequests) as info:
        t.begin("zhang", "10.0.0.2")
    assert info.value.retry_after == 60
    now[0] += 60
    fail()  # the lock is over; a 4th failure locks for 120 s
    with pytest.raises(TooManyRequests) as info:
        t.begin("zhang", "10.0.0.1")
    assert info.value.retry_after == 120
    now[0] += 120
    fail()  # 5th: 240 s, capped at 200
    with pytest.raises(TooManyRequests) as info:
        t.begin("ZHANG", "10.0.0.1")
    assert info.value.retry_after == 200
    now[0] += 200
    t.begin("zhang", "10.0.0.1")
    t.end("zhang", "10.0.0.1", True)  # a success clears the account
    fail()
    t.begin("zhang", "10.0.0.1")  # one failure after a success: no lock
    t.end("zhang", "10.0.0.1", True)
    # attempts in progress count: the 4th parallel attempt is refused before any hashing
    for _ in range(3):
        t.begin("li", "10.0.0.9")
    with pytest.raises(TooManyRequests):
        t.begin("li", "10.0.0.9")


def test_parallel_logins_do_not_stall_the_server(ws, tmp_path_factory):
    import asyncio
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from onemap.api import create_app

    app = create_app(ws, cache_dir=tmp_path_factory.mktemp("p"))
    _small_limits(app)

    async def run() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            logins = [asyncio.create_task(c.post("/api/login", json={
                "username": f"nobody{i}", "password": "wrong-pass"})) for i in range(50)]
            await asyncio.sleep(0.05)
            start = time.perf_counter()
            r = await c.get("/healthz")
            health = time.perf_counter() - start
            assert r.status_code == 200
            answered = time.perf_counter()
            results = await asyncio.gather(*logins)
            codes = [x.status_code for x in results]
            # the burst is cut at the address threshold (6): the rest is refused unhashed
            assert codes.count(401) == 6 and codes.count(429) == 44
            return health, time.perf_counter() - answered

    # in a thread of its own: a session-wide Playwright (tests/web) may hold this thread's event loop
    with ThreadPoolExecutor(1) as pool:
        health, rest = pool.submit(asyncio.run, run()).result()
    assert health < 1.0, health
    assert rest > 0  # logins were still being hashed when the health check answered


# ---------------------------------------------------------------------------- tokens
def _login(client, name: str) -> str:
    r = client.post("/api/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return r.json()["token"]


def test_api_token_cannot_take_over_its_account(client, ws):
    engine = open_workspace(ws).sql_engine()
    strong = create_token(engine, "editor", name="一天", days=1, scopes=("admin",))
    r = client.put("/api/users/editor/password", headers=auth(strong),
                   json={"password": "taken-over-1"})
    assert r.status_code == 403 and "接口令牌不能修改密码" in r.json()["message"]
    r = client.post("/api/tokens", headers=auth(strong), json={"name": "永久", "days": 3650})
    assert r.status_code == 403 and "接口令牌不能创建令牌" in r.json()["message"]
    # the account's password still works
    assert client.post("/api/login", json={"username": "editor",
                                           "password": PASSWORD}).status_code == 200
    client.cookies.clear()


def test_password_change_revokes_every_token(client, ws):
    engine = open_workspace(ws).sql_engine()
    create_user(engine, "rotate", PASSWORD, role="viewer")
    api_token = create_token(engine, "rotate", name="对接", scopes=("read",))
    session = _login(client, "rotate")
    other_session = _login(client, "rotate")
    assert client.get("/api/me", headers=auth(api_token)).status_code == 200
    r = client.put("/api/users/rotate/password", headers=auth(session),
                   json={"password": "new-password-2"})
    assert r.status_code == 200 and r.json()["tokens_revoked"] == 3
    for token in (api_token, session, other_session):
        assert client.get("/api/me", headers=auth(token)).status_code == 401


def test_token_scopes_narrow_the_role(client, ws, tokens):
    engine = open_workspace(ws).sql_engine()
    case = _case_id(client, tokens, "640302")
    read_only = create_token(engine, "litong", name="只读", scopes=("read",))
    me = client.get("/api/me", headers=auth(read_only)).json()
    assert me["scopes"] == ["read"] and "case" not in me["permissions"]
    r = client.post(f"/api/cases/{case}/actions/evidence", headers=auth(read_only),
                    json={"officer": "李四"})
    assert r.status_code == 403 and "接口令牌的权限范围（只读）" in r.json()["message"]
    worker = create_token(engine, "litong", name="办案", scopes=("case",))
    r = client.post(f"/api/cases/{case}/actions/evidence", headers=auth(worker),
                    json={"officer": "李四"})
    assert r.status_code == 400  # allowed through: the engine asks for the missing fields
    admin_read = create_token(engine, "admin", name="只读", scopes=("read",))
    r = client.post("/api/users", headers=auth(admin_read),
                    json={"username": "x9", "password": PASSWORD})
    assert r.status_code == 403


def test_token_lifetime_is_bounded_by_policy(client, ws):
    from sqlalchemy import select

    from onemap.store.users import tokens_table, user_for_token

    session = _login(client, "admin")
    r = client.post("/api/tokens", headers=auth(session), json={"name": "长期", "days": 3650})
    assert r.status_code == 400 and "不得超过 365 天" in r.json()["message"]
    r = client.post("/api/tokens", headers=auth(session), json={"name": "默认", "scopes": ["read"]})
    assert r.status_code == 201
    engine = open_workspace(ws).sql_engine()
    assert user_for_token(engine, r.json()["token"]).scopes == ("read",)
    with engine.connect() as conn:
        row = conn.execute(select(tokens_table).order_by(tokens_table.c.id.desc())).first()
    from datetime import datetime

    days = (datetime.fromisoformat(row.expires_at) - datetime.fromisoformat(row.created_at)).days
    assert row.kind == "api" and days == 90
    r = client.post("/api/tokens", headers=auth(session), json={"scopes": ["root"]})
    assert r.status_code == 400 and "未知的令牌权限范围：root" in r.json()["message"]


# ---------------------------------------------------------------------------- county scope
def _items(client, token: str, cid: str = "BHTBPD_2024") -> dict:
    r = client.get(f"/ogc/collections/{cid}/items", headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()


def test_county_scope_on_ogc_items_and_features(client, tokens):
    mine = _items(client, tokens["tongxin"])
    assert mine["numberMatched"] == 1
    assert [(f["id"], f["properties"]["tbbh"]) for f in mine["features"]] == [(3, "B1")]
    assert _items(client, tokens["admin"])["numberMatched"] == 3
    assert _items(client, tokens["litong"])["numberMatched"] == 2
    # a filter cannot widen the scope
    r = client.get("/ogc/collections/BHTBPD_2024/items?county=640302",
                   headers=auth(tokens["tongxin"]))
    assert r.json()["numberMatched"] == 0
    assert client.get("/ogc/collections/BHTBPD_2024/items/1",
                      headers=auth(tokens["tongxin"])).status_code == 404
    assert client.get("/ogc/collections/BHTBPD_2024/items/3",
                      headers=auth(tokens["tongxin"])).status_code == 200
    # public layers are not scoped
    assert _items(client, tokens["tongxin"], "DLTB_2024")["numberMatched"] == 36


def test_county_scope_on_identify_tiles_tabulate_stats(client, tokens):
    import mapbox_vector_tile

    from onemap.tiles.service import lonlat_to_tile

    def ids(token: str, lon: float) -> list:
        r = client.get(f"/api/identify?lon={lon}&lat=37.9005&layers=BHTBPD_2024",
                       headers=auth(token))
        return [f["properties"]["tbbh"] for f in r.json()["features"]]

    assert ids(tokens["tongxin"], 106.2005) == [] and ids(tokens["admin"], 106.2005) == ["A1"]
    assert ids(tokens["tongxin"], 106.2085) == ["B1"]

    catalog = client.get("/api/catalog", headers=auth(tokens["admin"])).json()["datasets"]
    vid = next(v["id"] for d in catalog for v in d["versions"] if v["layer"] == "BHTBPD_2024")
    x, y = lonlat_to_tile(106.2005, 37.9005, 14)

    def tile_ids(token: str) -> list:
        r = client.get(f"/tiles/{vid}/14/{x}/{y}.mvt", headers=auth(token))
        assert r.status_code == 200 and r.headers["cache-control"].startswith("private")
        layers = mapbox_vector_tile.decode(r.content) if r.content else {}
        return sorted(f["properties"]["tbbh"] for lyr in layers.values()
                      for f in lyr["features"])

    assert tile_ids(tokens["admin"]) == ["A1", "A2", "B1"]
    assert tile_ids(tokens["tongxin"]) == ["B1"]
    assert tile_ids(tokens["litong"]) == ["A1", "A2"]

    def inside(token: str) -> dict[str, float]:
        r = client.get("/api/tabulate?zones=BHTBPD&by=county", headers=auth(token))
        assert r.status_code == 200, r.text
        out: dict[str, float] = {}
        for row in r.json()["rows"]:
            if row["inside"] and row["tbdlmj_m2"]:
                out[row["county"]] = round(out.get(row["county"], 0) + row["tbdlmj_m2"], 2)
        return out

    # each verdict patch is one 0.001° square wholly inside one DLTB patch: A1, A2 in 640302
    everyone, mine = inside(tokens["admin"]), inside(tokens["tongxin"])
    assert set(everyone) == {"640302", "640324"} and set(mine) == {"640324"}
    assert mine["640324"] == everyone["640324"]
    assert abs(everyone["640302"] - 2 * everyone["640324"]) < 0.05
    r = client.get("/api/stats?dataset=BHTBPD", headers=auth(tokens["tongxin"]))
    assert r.status_code == 403 and "敏感图层" in r.json()["message"]


# ---------------------------------------------------------------------------- audit
def test_server_checkpoints_the_audit_log_and_shows_it(client, tokens, ws):
    from onemap.store.integrity import checkpoint_file

    lines = checkpoint_file(ws).read_text().splitlines()
    assert lines, "the server writes a checkpoint when it starts"
    r = client.get("/api/audit/verify", headers=auth(tokens["admin"]))
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] and body["checkpoints"] >= 1
    assert body["last_checkpoint"] == json.loads(lines[-1])
    assert "最近检查点" in body["message"]
    assert client.get("/api/audit/verify", headers=auth(tokens["viewer"])).status_code == 403
    # token changes, logins and version writes are all in the log
    engine = open_workspace(ws).sql_engine()
    from onemap.store.audit import entries

    actions = {e.action for e in entries(engine)}
    assert {"version.write", "user.create", "token.create"} <= actions


# ---------------------------------------------------------------------------- limits
def test_deeply_nested_json_is_a_400_not_a_500(client, tokens):
    deep = b"[" * 100_000
    for path, ctype in (("/api/login", "application/json"), ("/api/login", None),
                        ("/api/check", "application/geo+json"), ("/api/check", "text/plain")):
        headers = {**auth(tokens["viewer"])}
        if ctype:
            headers["content-type"] = ctype
        r = client.post(path, content=deep, headers=headers)
        assert r.status_code == 400, (path, ctype, r.text)
        assert "嵌套层数 100000 超过上限 64" in r.json()["message"]
    # the server (and the connection) answer the next request normally
    assert client.get("/api/me", headers=auth(tokens["viewer"])).status_code == 200
    r = client.post(f"/api/cases/{_case_id(client, tokens, '640324')}/actions/evidence",
                    headers=auth(tokens["tongxin"]),
                    data={"fields": "[" * 1000, "photos_meta": "[]"},
                    files=[("photos", ("a.png", png_bytes(), "image/png"))])
    assert r.status_code == 400 and "嵌套层数 1000" in r.json()["message"]


def test_json_depth_counts_brackets_outside_strings():
    from onemap.api.limits import json_depth

    assert json_depth(b'{"a": [1, [2, "[[[{"]], "b": {"c": "]]]]"}}') == 3
    assert json_depth('{"k": "\\"[[[", "v": [[]]}') == 3
    assert json_depth(b"") == 0 and json_depth(b"[]" * 50) == 1


@pytest.fixture()
def small_limits(tmp_path, monkeypatch):
    """A bureau's own security.yaml with small limits (ONEMAP_DOMAIN_DIR)."""
    from onemap.domain._files import SHIPPED_DIR

    text = (SHIPPED_DIR / "security.yaml").read_text(encoding="utf-8")
    for key, value in (("body_bytes", 8192), ("json_bytes", 4096), ("photo_bytes", 1024),
                       ("site_upload_bytes", 2048), ("site_vertices", 50), ("site_area_ha", 5)):
        text = "\n".join(f"  {key}: {value}" if line.strip().startswith(f"{key}:") else line
                         for line in text.splitlines())
    (tmp_path / "security.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("ONEMAP_DOMAIN_DIR", str(tmp_path))
    from onemap.domain.security import security_policy

    assert security_policy().limits.site_vertices == 50


def _square(lon: float, lat: float, side: float, n: int = 4) -> dict:
    """A square polygon with ``n`` points per side (``4n + 1`` coordinates)."""
    pts = []
    for k in range(4):
        for i in range(n):
            t = i / n
            pts.append([(lon + side * t, lat), (lon + side, lat + side * t),
                        (lon + side * (1 - t), lat + side), (lon, lat + side * (1 - t))][k])
    pts.append(pts[0])
    return {"type": "Polygon", "coordinates": [pts]}


def test_limits_are_configuration_and_refusals_are_4xx(client, tokens, ws, small_limits):
    h = auth(tokens["tongxin"])
    # a site with 61 vertices (limit 50)
    r = client.post("/api/check", headers=h, json=_square(106.2, 37.9, 0.001, 15))
    assert r.status_code == 400 and "地块顶点过多：共 61 个，超过上限 50 个" in r.json()["message"]
    # about 9.76 ha (0.003° x 0.003° at 37.9°N), limit 5 ha
    r = client.post("/api/check", headers=h, json=_square(106.2, 37.9, 0.003))
    assert r.status_code == 400 and "超过上限 5 公顷" in r.json()["message"]
    # a small site is checked
    assert client.post("/api/check", headers=h, json=_square(106.2, 37.9, 0.001)).status_code == 200
    # JSON body over json_bytes, any body over body_bytes (declared or streamed)
    big = {"type": "Polygon", "coordinates": [[[106.2, 37.9]] * 400]}
    r = client.post("/api/check", headers=h, json=big)
    assert r.status_code == 413 and "请求内容超过上限" in r.json()["message"]

    def chunks():
        for _ in range(10):
            yield b"x" * 1024

    r = client.post("/api/check", headers={**h, "content-type": "application/octet-stream"},
                    content=chunks())
    assert r.status_code == 413
    # uploads over their own limits leave nothing behind
    before = _evidence_files(ws)
    case = _case_id(client, tokens, "640324")
    r = client.post(f"/api/cases/{case}/actions/evidence", headers=h,
                    data={"fields": json.dumps({"officer": "张三", "date": "2025-01-10",
                                                "notes": "现场核查"})},
                    files=[("photos", ("大.png", b"\x89PNG" + b"0" * 2000, "image/png"))])
    assert r.status_code == 413 and "照片 大.png 超过" in r.json()["message"]
    assert _evidence_files(ws) == before
    r = client.post("/api/check", headers=h, files={"file": ("地块.kml", b"<kml>" + b" " * 3000,
                                                              "application/xml")})
    assert r.status_code == 413 and "地块文件超过" in r.json()["message"]


# ---------------------------------------------------------------------------- protocol
def test_head_works_wherever_get_does(client, tokens):
    from onemap.tiles.service import lonlat_to_tile

    catalog = client.get("/api/catalog", headers=auth(tokens["admin"])).json()["datasets"]
    vid = next(v["id"] for d in catalog for v in d["versions"] if v["layer"] == "DLTB_2024")
    x, y = lonlat_to_tile(106.205, 37.905, 14)
    paths = ["/api/me", "/api/catalog", "/api/cases", "/api/cases/flow", "/ogc", "/ogc/conformance",
             "/ogc/collections", "/ogc/collections/DLTB_2024",
             "/ogc/collections/DLTB_2024/items?limit=2", "/ogc/collections/DLTB_2024/items/1",
             "/ogc/api", f"/tiles/{vid}/14/{x}/{y}.mvt", f"/tiles/{vid}.json",
             "/api/stats.xlsx", "/api/docs", "/api/openapi.json", "/healthz",
             "/ogc/collections/NOPE"]
    for path in paths:
        get = client.get(path, headers=auth(tokens["admin"]))
        head = client.head(path, headers=auth(tokens["admin"]))
        assert head.status_code == get.status_code, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == get.headers.get("content-type"), path
    assert client.head("/api/me").status_code == 401


def test_authentication_comes_before_anything_else(client):
    for method, path, kwargs in [
        ("get", "/api/no-such-route", {}),
        ("get", "/ogc/collections/NOPE/items", {}),
        ("get", "/tiles/999999/0/0/0.mvt", {}),
        ("get", "/api/identify?lon=999", {}),
        ("post", "/api/users", {"content": b"{not json"}),
        ("post", "/api/check", {"content": b"[" * 100_000,
                                "headers": {"content-type": "application/json"}}),
        ("post", "/api/cases/1/actions/evidence", {"json": {"photos": ["/etc/passwd"]}}),
    ]:
        r = getattr(client, method)(path, **kwargs)
        assert r.status_code == 401, (path, r.status_code, r.text)
        assert r.json()["error"] == "AuthError"
    # the login itself and the documentation stay open
    assert client.post("/api/login", json={"username": "nobody", "password": "x" * 8}
                       ).status_code == 401
    assert client.get("/api/docs").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200


def test_api_docs_work_offline(client):
    page = client.get("/api/docs").text
    assert "/api/docs-assets/swagger-ui-bundle.js" in page and "/api/docs-assets/swagger-ui.css" in page
    redoc = client.get("/api/redoc").text
    assert "/api/docs-assets/redoc.standalone.js" in redoc
    for html in (page, redoc):
        assert "https://" not in html and "http://" not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        r = client.get(f"/api/docs-assets/{asset}")
        assert r.status_code == 200 and len(r.content) > 100_000, asset


def test_openapi_declares_every_status_it_answers(client):
    doc = client.get("/api/openapi.json").json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert "422" not in codes, (path, method)
            assert {"400", "404"} <= codes, (path, method)
            if path != "/login":
                assert {"401", "403"} <= codes, (path, method)
            if method in ("post", "put", "patch"):
                assert "413" in codes, (path, method)
            example = op["responses"]["400"]["content"]["application/json"]["example"]
            assert example["error"] and example["message"]
    assert "429" in doc["paths"]["/login"]["post"]["responses"]
    assert doc["paths"]["/login"]["post"]["security"] == []
