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
    return {u: create_token(engine, u, name="tests", days=30) for u in USERS}


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
