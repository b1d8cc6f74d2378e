"""Registers with geometry as OGC API – Features collections: documents, items, scope, and GDAL reading them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import geopandas as gpd
import httpx
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient

from onemap.api import create_app
from onemap.app import ledgers as uc
from onemap.geo.area import ellipsoidal_area
from onemap.store import init_workspace, open_workspace
from onemap.store.users import create_token, create_user, set_anonymous_read

from ._api_support import PASSWORD, _free_port, auth

#: Two 采矿权 (利通区 and 同心县) and one 探矿权 without a county; boxes of 0.01° × 0.01°.
BOXES = {"C1": shapely.box(106.20, 37.90, 106.21, 37.91), "C2": shapely.box(106.30, 37.90, 106.31, 37.91),
         "T1": shapely.box(106.40, 37.95, 106.41, 37.96)}


def _rights(path) -> None:
    gpd.GeoDataFrame({
        "许可证号": list(BOXES), "类型": ["采矿权", "采矿权", "探矿权"], "矿业权人": ["甲公司", "乙公司", "丙公司"],
        "矿山名称": ["甲石膏矿", "乙砂石矿", "丙煤矿勘查"], "矿种": ["石膏", "砂石", "煤"],
        "行政区": ["640302", "640324", None], "有效期起": ["2020-01-01"] * 3,
        "有效期止": ["2030-01-01", "2028-06-30", "2027-01-01"], "生产规模": [30, 10, None]},
        geometry=list(BOXES.values()), crs=4490).to_file(path, driver="GeoJSON")


def _workspace(tmp_path, *, anonymous: bool):
    path = tmp_path / "ws.gpkg"
    store = init_workspace(path, name="台账要素服务", region="640300")
    _rights(tmp_path / "kyq.geojson")
    uc.import_records(store, "KYQ", tmp_path / "kyq.geojson", actor="张三", synthetic=True)
    engine = store.sql_engine()
    create_user(engine, "admin", PASSWORD, role="admin")
    if anonymous:
        set_anonymous_read(engine, True)
    store.close()
    return path


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[tuple[TestClient, dict]]:
    tmp = tmp_path_factory.mktemp("reg-ogc")
    path = _workspace(tmp, anonymous=False)
    store = open_workspace(path)
    create_user(store.sql_engine(), "tongxin", PASSWORD, role="enforcer", county="640324")
    tokens = {u: auth(create_token(store.sql_engine(), u, name="t", scopes=("admin",))) for u in ("admin", "tongxin")}
    store.close()
    with TestClient(create_app(path, cache_dir=tmp / "tiles")) as c:
        yield c, tokens


def test_registers_with_geometry_are_collections(client):
    c, tok = client
    cols = {x["id"]: x for x in c.get("/ogc/collections", headers=tok["admin"]).json()["collections"]}
    assert {"register_KYQ", "register_DZZHYHD", "register_FXQ", "register_CJDK", "register_JXDK",
            "register_BCGDXM", "register_GDZY"} <= set(cols)
    assert "register_ZBJY" not in cols  # 指标交易 has no geometry
    kyq = cols["register_KYQ"]
    assert kyq["title"] == "矿业权台账（模拟数据）"
    assert cols["register_DZZHYHD"]["title"] == "地质灾害隐患点台账"  # empty, not synthetic
    assert kyq["extent"]["spatial"]["bbox"] == [[106.2, 37.9, 106.41, 37.96]]
    one = c.get("/ogc/collections/register_KYQ", headers=tok["admin"]).json()
    assert one["description"] == "台账 KYQ（矿业权），3 条有图形的记录（模拟数据）"
    q = c.get("/ogc/collections/register_KYQ/queryables", headers=tok["admin"]).json()["properties"]
    assert q["XKZH"] == {"title": "许可证号", "type": "string"}
    assert q["MJ"] == {"title": "面积", "type": "number"} and q["ZT"] == {"title": "状态", "type": "string"}
    r = c.get("/ogc/collections/register_NOPE/items", headers=tok["admin"])
    assert r.status_code == 404


def test_register_items_filters_ids_and_county_scope(client):
    c, tok = client
    doc = c.get("/ogc/collections/register_KYQ/items?limit=10", headers=tok["admin"]).json()
    assert doc["numberMatched"] == 3
    feats = {f["properties"]["XKZH"]: f for f in doc["features"]}
    c1 = feats["C1"]
    assert c1["properties"]["MJ"] == round(float(ellipsoidal_area([BOXES["C1"]])[0]), 2)
    assert c1["properties"]["ZT"] == "有效" and c1["properties"]["KSMC"] == "甲石膏矿"
    assert shapely.geometry.shape(c1["geometry"]).equals(BOXES["C1"])
    only = c.get("/ogc/collections/register_KYQ/items?KQLX=探矿权", headers=tok["admin"]).json()
    assert [f["properties"]["XKZH"] for f in only["features"]] == ["T1"]
    boxed = c.get("/ogc/collections/register_KYQ/items?bbox=106.29,37.89,106.35,37.92",
                  headers=tok["admin"]).json()
    assert [f["properties"]["XKZH"] for f in boxed["features"]] == ["C2"]
    scale = c.get("/ogc/collections/register_KYQ/items?SCGM=30", headers=tok["admin"]).json()
    assert [f["properties"]["XKZH"] for f in scale["features"]] == ["C1"]
    # the feature id is the record's id: the same for every user
    fid = feats["C2"]["id"]
    got = c.get(f"/ogc/collections/register_KYQ/items/{fid}", headers=tok["admin"]).json()
    assert got["properties"]["XKZH"] == "C2"
    mine = c.get("/ogc/collections/register_KYQ/items", headers=tok["tongxin"]).json()
    assert [(f["id"], f["properties"]["XKZH"]) for f in mine["features"]] == [(fid, "C2")]
    assert c.get(f"/ogc/collections/register_KYQ/items/{c1['id']}", headers=tok["tongxin"]).status_code == 404
    api = c.get("/ogc/api", headers=tok["admin"]).json()
    names = {p["name"] for p in api["paths"]["/collections/register_KYQ/items"]["get"]["parameters"]
             if "name" in p}
    assert {"XKZH", "KQLX", "MJ", "ZT", "QXZT"} <= names


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[str]:
    """A uvicorn subprocess (GDAL keeps the GIL while it talks HTTP) over an anonymous-read workspace."""
    tmp = tmp_path_factory.mktemp("reg-live")
    path = _workspace(tmp, anonymous=True)
    port = _free_port()
    env = dict(os.environ, ONEMAP_WORKSPACE=str(path), ONEMAP_TILE_CACHE=str(tmp / "tiles"))
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "onemap.api.app:app_from_env",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    try:
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_gdal_reads_a_register_collection(live):
    names = {n for n, _ in pyogrio.list_layers(f"OAPIF:{live}/ogc")}
    assert "register_KYQ" in names
    df = pyogrio.read_dataframe(f"OAPIF:{live}/ogc/collections/register_KYQ", PAGE_SIZE="2")
    assert sorted(df["XKZH"]) == ["C1", "C2", "T1"]
    assert set(df["KSMC"]) == {"甲石膏矿", "乙砂石矿", "丙煤矿勘查"}
    row = df.set_index("XKZH").loc["C2"]
    assert row["MJ"] == pytest.approx(round(float(ellipsoidal_area([BOXES["C2"]])[0]), 2), abs=1e-6)
    assert row.geometry.normalize().equals_exact(BOXES["C2"].normalize(), 1e-9)
    only = pyogrio.read_dataframe(f"OAPIF:{live}/ogc/collections/register_KYQ", where="KQLX = '探矿权'")
    assert list(only["XKZH"]) == ["T1"]
