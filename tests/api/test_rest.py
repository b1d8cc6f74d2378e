"""REST API: login, users and refusals (Chinese messages), catalog, identify, stats, tiles, check."""

from __future__ import annotations

import io

import docx
import mapbox_vector_tile
import openpyxl
import pytest

from onemap.store import open_workspace
from onemap.store.audit import entries, verify
from onemap.tiles.service import lonlat_to_tile

from ._api_support import PASSWORD, auth, make_cases, make_dltb


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# ---------------------------------------------------------------------------- refusals
def test_no_login_is_refused_in_chinese(client):
    r = client.get("/api/catalog")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    body = r.json()
    assert body["error"] == "AuthError" and _is_chinese(body["message"])
    assert client.get("/ogc/collections").status_code == 401
    assert client.get("/tiles/1/10/814/395.mvt").status_code == 401
    r = client.post("/api/users", json={"username": "x1", "password": PASSWORD})
    assert r.status_code == 401 and _is_chinese(r.json()["message"])


def test_bad_token_and_bad_password(client):
    r = client.get("/api/me", headers=auth("om_not-a-token"))
    assert r.status_code == 401 and _is_chinese(r.json()["message"])
    r = client.post("/api/login", json={"username": "admin", "password": "wrong-password"})
    assert r.status_code == 401 and r.json()["message"] == "用户名或密码错误"


def test_read_only_user_cannot_write(client, tokens):
    r = client.post("/api/users", headers=auth(tokens["viewer"]),
                    json={"username": "x2", "password": PASSWORD})
    assert r.status_code == 403
    assert r.json()["error"] == "PermissionDenied" and "只读" in r.json()["message"]
    r = client.put("/api/settings/anonymous_read", headers=auth(tokens["viewer"]),
                   json={"value": True})
    assert r.status_code == 403
    r = client.put("/api/users/admin/password", headers=auth(tokens["viewer"]),
                   json={"password": "another-pass-1"})
    assert r.status_code == 403 and _is_chinese(r.json()["message"])


def _make_cases(workspace) -> None:
    make_cases(open_workspace(workspace).sql_engine())


def test_county_officer_sees_and_works_only_own_county_cases(client, tokens, workspace):
    _make_cases(workspace)
    officer = auth(tokens["tongxin"])
    mine = client.get("/api/cases", headers=officer).json()["cases"]
    assert [c["county"] for c in mine] == ["640324"]
    assert any(a["action"] == "evidence" for a in mine[0]["allowed_actions"])
    everyone = client.get("/api/cases", headers=auth(tokens["admin"])).json()["cases"]
    assert len(everyone) == 2
    other = next(c for c in everyone if c["county"] == "640302")
    r = client.get(f"/api/cases/{other['id']}", headers=officer)
    assert r.status_code == 403 and "640324" in r.json()["message"]
    r = client.get("/api/cases?county=640302", headers=officer)
    assert r.status_code == 403 and _is_chinese(r.json()["message"])
    assert client.get(f"/api/cases/{mine[0]['id']}", headers=officer).status_code == 200
    # writing: the officer may not act on another county's case
    r = client.post(f"/api/cases/{other['id']}/actions/evidence", headers=officer,
                    json={"officer": "张三", "date": "2025-01-10", "notes": "现场核查"})
    assert r.status_code == 403 and r.json()["error"] == "PermissionDenied"
    # a read-only user may not act at all
    r = client.post(f"/api/cases/{mine[0]['id']}/actions/evidence", headers=auth(tokens["viewer"]),
                    json={"officer": "张三", "date": "2025-01-10", "notes": "现场核查"})
    assert r.status_code == 403 and "只读" in r.json()["message"]
    # no login at all
    r = client.post(f"/api/cases/{mine[0]['id']}/actions/evidence", json={})
    assert r.status_code == 401
    # the officer's own case: the engine answers (here: a photo is required → 400)
    r = client.post(f"/api/cases/{mine[0]['id']}/actions/evidence", headers=officer,
                    json={"officer": "张三", "date": "2025-01-10", "notes": "现场核查"})
    assert r.status_code == 400 and _is_chinese(r.json()["message"])
    flow = client.get("/api/cases/flow", headers=officer).json()
    assert flow["initial"] == "issued"
    # with a photo uploaded as multipart (position and time given for a photo without EXIF)
    import io
    import json

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(png, format="PNG")
    r = client.post(
        f"/api/cases/{mine[0]['id']}/actions/evidence", headers=officer,
        data={"fields": json.dumps({"officer": "张三", "date": "2025-01-10", "notes": "现场核查"}),
              "photos_meta": json.dumps([{"lon": 106.21, "lat": 37.905,
                                          "time": "2025-01-10T10:00:00"}])},
        files=[("photos", ("site.png", png.getvalue(), "image/png"))],
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "evidenced" and done["event"]["actor"] == "tongxin"
    detail = client.get(f"/api/cases/{mine[0]['id']}", headers=officer).json()
    assert len(detail["evidence"]) == 1 and detail["evidence"][0]["sha256"]
    assert (detail["tianzhang"], detail["tianzhang_cell"]) == ("", None)   # no 田长 grid imported


# ---------------------------------------------------------------------------- users
def test_login_users_tokens_and_audit(client, tokens, workspace):
    r = client.post("/api/login", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200
    client.cookies.clear()  # use the bearer header only
    token = r.json()["token"]
    me = client.get("/api/me", headers=auth(token)).json()
    assert me["username"] == "admin" and me["role"] == "admin" and me["role_name"] == "管理员"
    r = client.post("/api/users", headers=auth(token),
                    json={"username": "yanchi", "password": PASSWORD, "role": "enforcer",
                          "county": "640323"})
    assert r.status_code == 201 and r.json()["county"] == "640323"
    r = client.post("/api/users", headers=auth(token),
                    json={"username": "yanchi", "password": PASSWORD})
    assert r.status_code == 409 and "已存在" in r.json()["message"]
    r = client.post("/api/users", headers=auth(token),
                    json={"username": "bad", "password": PASSWORD, "role": "boss"})
    assert r.status_code == 400 and "未知角色" in r.json()["message"]
    r = client.patch("/api/users/yanchi", headers=auth(token), json={"role": "viewer"})
    assert r.json()["role"] == "viewer"
    api_token = client.post("/api/tokens", headers=auth(token), json={"name": "审批系统"})
    assert api_token.status_code == 201
    assert client.get("/api/me", headers=auth(api_token.json()["token"])).status_code == 200
    # every write is in the audit log with its user, and the chain holds
    engine = open_workspace(workspace).sql_engine()
    rows = [(e.actor, e.action) for e in entries(engine)]
    assert ("admin", "user.create") in rows and ("admin", "user.update") in rows
    assert ("admin", "token.create") in rows and ("admin", "user.login") in rows
    assert verify(engine).ok
    assert client.get("/api/audit", headers=auth(token)).json()["verification"]["ok"]
    r = client.post("/api/logout", headers=auth(token))
    assert r.json()["revoked"] is True
    assert client.get("/api/me", headers=auth(token)).status_code == 401


def test_cookie_reads_but_does_not_write(client):
    r = client.post("/api/login", json={"username": "admin", "password": PASSWORD})
    client.cookies.set("onemap_token", r.json()["token"])
    assert client.get("/api/me").status_code == 200
    r = client.post("/api/users", json={"username": "c1", "password": PASSWORD})
    assert r.status_code == 401
    client.cookies.clear()


# ---------------------------------------------------------------------------- reading
def test_catalog_workspace_legend(client, tokens):
    h = auth(tokens["viewer"])
    cat = client.get("/api/catalog", headers=h).json()
    dltb = next(d for d in cat["datasets"] if d["name"] == "DLTB")
    v = dltb["versions"][0]
    assert v["layer"] == "DLTB_2024" and v["feature_count"] == 36
    assert v["tiles"] == f"/tiles/{v['id']}/{{z}}/{{x}}/{{y}}.mvt"
    assert v["collection"] == "/ogc/collections/DLTB_2024"
    ws = client.get("/api/workspace", headers=h).json()
    assert ws["name"] == "测试工作空间"
    assert abs(ws["bbox"][0] - 106.2) < 1e-9
    leg = client.get("/api/legend/DLTB", headers=h).json()
    assert leg["field"] == "DLBM"
    assert {"code": "0101", "name": "水田"}.items() <= next(
        i for i in leg["items"] if i["code"] == "0101").items()
    assert client.get("/api/legend/NOPE", headers=h).status_code == 404


def test_identify_and_stats(client, tokens):
    h = auth(tokens["viewer"])
    r = client.get("/api/identify", headers=h,
                   params={"lon": 106.201, "lat": 37.901, "layers": "DLTB_2024,XZQ_2024"})
    feats = r.json()["features"]
    assert {f["collection"] for f in feats} == {"DLTB_2024", "XZQ_2024"}
    patch = next(f for f in feats if f["collection"] == "DLTB_2024")
    assert patch["properties"]["DLBM"] == "0101" and 30_000 < patch["area_m2"] < 50_000
    s = client.get("/api/stats", headers=h, params={"by": "county"}).json()
    assert s["source"]["dataset"] == "DLTB" and s["rows"]
    assert client.get("/api/stats", headers=h, params={"by": "planet"}).status_code == 400
    x = client.get("/api/stats.xlsx", headers=h)
    assert x.status_code == 200
    # the filed table: every (county, class) cell in 公顷 to two decimals, the total the sum of
    # the cells shown (so the printed table adds up)
    d = make_dltb()  # the 36 patches written
    cells = d.groupby([d["ZLDWDM"].str[:6], "DLBM"])["TBDLMJ"].sum()
    total_ha = sum(int(round(v * 100)) // 10_000 + (int(round(v * 100)) % 10_000 >= 5_000)
                   for v in cells) / 100
    sheet = openpyxl.load_workbook(io.BytesIO(x.content))["分组汇总（公顷）"]
    assert (sheet["A3"].value, sheet["C3"].value) == ("行政区名称", "合计")
    total_row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "合计")
    assert total_row[2] == pytest.approx(total_ha, abs=1e-9)


def test_tiles_over_http(client, tokens):
    h = auth(tokens["viewer"])
    v = client.get("/api/catalog", headers=h).json()["datasets"]
    vid = next(d for d in v if d["name"] == "DLTB")["versions"][0]["id"]
    x, y = lonlat_to_tile(106.201, 37.901, 14)
    r = client.get(f"/tiles/{vid}/14/{x}/{y}.mvt", headers=h)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    layer = mapbox_vector_tile.decode(r.content)["DLTB"]
    assert {f["properties"]["DLBM"] for f in layer["features"]} <= {"0101", "0103", "0301",
                                                                    "0702"}
    assert client.get(f"/tiles/{vid}/14/0/0.mvt", headers=h).content == b""
    assert client.get(f"/tiles/999/14/{x}/{y}.mvt", headers=h).status_code == 404
    assert client.get(f"/tiles/{vid}/30/0/0.mvt", headers=h).status_code == 400
    tj = client.get(f"/tiles/{vid}.json", headers=h).json()
    assert tj["tiles"][0].endswith(f"/tiles/{vid}/{{z}}/{{x}}/{{y}}.mvt")


def test_ogc_part2_crs(client, tokens):
    h = auth(tokens["viewer"])
    base = "/ogc/collections/DLTB_2024/items"
    lonlat = client.get(base, headers=h, params={"limit": 1}).json()
    lon, lat = lonlat["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 106 < lon < 107 and 37 < lat < 38
    r = client.get(base, headers=h, params={"limit": 1,
                                            "crs": "http://www.opengis.net/def/crs/EPSG/0/4490"})
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4490>"
    assert r.json()["features"][0]["geometry"]["coordinates"][0][0][0] == [lat, lon]
    gk = client.get(base, headers=h, params={
        "limit": 1, "crs": "http://www.opengis.net/def/crs/EPSG/0/4544"}).json()  # CM 105E
    north, east = gk["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 4_100_000 < north < 4_300_000 and 500_000 < east < 800_000
    # a bbox in the GK zone (northing first) selects the same patches as in CRS84
    ref = client.get(base, headers=h, params={"bbox": "106.2,37.9,106.205,37.905",
                                              "limit": 100}).json()["numberMatched"]
    b = client.get(base, headers=h, params={
        "bbox": f"{north - 10},{east - 10},{north + 10},{east + 10}",
        "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4544"}).json()
    assert b["numberMatched"] >= 1 and ref >= 1
    assert client.get(base, headers=h, params={"crs": "EPSG:9999"}).status_code == 400
    assert client.get(base, headers=h, params={"limit": "unlimited"}).status_code == 400
    assert client.get(base, headers=h, params={"NOPE": "1"}).status_code == 400
    assert client.get(base + "/9999", headers=h).status_code == 404
    html = client.get(base, headers={**h, "Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html") and "DLTB_2024" in html.text


def test_ogc_paging_adds_up(client, tokens):
    h = auth(tokens["viewer"])
    url, seen = "/ogc/collections/DLTB_2024/items?limit=7", []
    while url:
        doc = client.get(url, headers=h).json()
        seen += [f["id"] for f in doc["features"]]
        nxt = [lk["href"] for lk in doc["links"] if lk["rel"] == "next"]
        url = nxt[0] if nxt else None
        assert "limit=7" in (url or "limit=7")
    assert len(seen) == len(set(seen)) == doc["numberMatched"] == 36


def test_check_geojson_and_report(client, tokens):
    site = {"type": "Feature", "properties": {"name": "测试地块"}, "geometry": {
        "type": "Polygon", "coordinates": [[[106.2005, 37.9005], [106.2035, 37.9005],
                                            [106.2035, 37.9035], [106.2005, 37.9035],
                                            [106.2005, 37.9005]]]}}
    assert client.post("/api/check", json=site).status_code == 401
    r = client.post("/api/check", json=site, params={"name": "测试项目"}, headers=auth(tokens["viewer"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] and body["checked_by"] == "viewer" and body["project_name"] == "测试项目"
    doc = client.get(body["report"], headers=auth(tokens["viewer"]))
    assert doc.status_code == 200
    report = docx.Document(io.BytesIO(doc.content))
    assert "建设项目用地预审意见" in [p.text for p in report.paragraphs[:3]]
    rows = {tuple(c.text for c in row.cells) for t in report.tables for row in t.rows}
    assert ("项目名称", "测试项目") in rows
    for c in body["classes"]:  # every land class of the result is in the report's table, in 公顷
        assert (f"{c['dlmc']}（{c['dlbm']}）", c["group"], str(c["patches"]),
                f"{c['area_m2'] / 1e4:,.2f}") in rows
    bad = client.post("/api/check", json={"type": "Point", "coordinates": [1, 2]},
                      headers=auth(tokens["viewer"]))
    assert bad.status_code == 400 and _is_chinese(bad.json()["message"])
    # the GB/T 40112 grade with the importance; a complexity alone is refused
    r = client.post("/api/check", json=site, params={"importance": "一般", "complexity": "中等"},
                    headers=auth(tokens["viewer"]))
    assert r.status_code == 200 and r.json()["assessment"]["grade"] == "三级"
    r = client.post("/api/check", json=site, params={"complexity": "中等"}, headers=auth(tokens["viewer"]))
    assert r.status_code == 400 and "没有建设项目重要性" in r.json()["message"]
    # the declared human activity (ecology.yaml) is checked and returned
    act = client.post("/api/check", json=site, params={"activity": "生态修复"}, headers=auth(tokens["viewer"]))
    assert act.status_code == 200 and act.json()["activity"] == "生态修复"
    unknown = client.post("/api/check", json=site, params={"activity": "修路"}, headers=auth(tokens["viewer"]))
    assert unknown.status_code == 400 and "未知的活动类型“修路”" in unknown.json()["message"]


def test_indicators_assessment_changes(client, tokens):
    h = auth(tokens["viewer"])
    ind = client.get("/api/indicators", headers=h)
    assert ind.status_code == 200 and ind.json()["year"] == 2024
    assert ind.json()["indicators"]
    assert client.get("/api/assess", headers=h).json()["kind"] == "体检"
    x = client.get("/api/assess.xlsx", headers=h)
    assert x.status_code == 200
    dltb = make_dltb()
    farmland_ha = round(float(dltb.loc[dltb["DLBM"].str.startswith("01"), "TBDLMJ"].sum()) / 10_000, 6)
    table = list(openpyxl.load_workbook(io.BytesIO(x.content))["指标总表"].iter_rows(values_only=True))
    header = next(r for r in table if r[0] == "维度")
    assert "指标代码" not in header  # named indicators, no internal keys
    farmland = next(r for r in table if r[header.index("指标名称")] == "耕地保有量")
    assert farmland[header.index("现状值")] == pytest.approx(farmland_ha, abs=1e-6)
    ch = client.get("/api/changes", headers=h)  # one DLTB version only: refused, in Chinese
    assert ch.status_code == 404  # WorkspaceError (onemap.api.errors.STATUS)
    assert ch.json()["message"] == "数据集 DLTB 至少需要两个版本才能比较"
