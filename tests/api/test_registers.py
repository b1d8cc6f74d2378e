"""REST API of the registers (/api/registers): list, records, detail with audit history, moves, import, export."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from builders import file_digest
from onemap.api import create_app
from onemap.app import ledgers as uc
from onemap.store import audit, init_workspace, open_workspace
from onemap.store.users import create_token, create_user

from ._api_support import PASSWORD, auth

NOW = datetime.now(UTC)
SHIPPED = {"BCGDXM", "CJDK", "DZZHYHD", "FXQ", "GDZY", "JXDK", "KYQ", "ZBJY", "ZJXMQ"}


def _project(no: str, county: str, state: str, name: str) -> dict:
    return {"项目编号": no, "项目名称": name, "类型": "土地整治", "行政区": county,
            "新增耕地面积（平方米）": 10000, "其中新增水田": 2000, "平均等别": 6, "状态": state}


def _csv(tmp_path, name: str, rows: list[dict]):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.fixture
def setup(tmp_path):
    """BC-001 立项 640302 (entered 400 days ago: its 365-day deadline passed 35 days ago),
    BC-002 验收 640302 (entered 80 days ago: 10 days left of 90, warned 15 days before),
    BC-003 立项 640324 (entered today); users of each role and a 同心县 enforcer and editor."""
    path = tmp_path / "ws.gpkg"
    store = init_workspace(path, name="台账测试", region="640300")
    uc.import_records(store, "BCGDXM", _csv(tmp_path, "a.csv", [
        _project("BC-001", "640302", "立项", "甲村土地整治")]), actor="张三", now=NOW - timedelta(days=400))
    uc.import_records(store, "BCGDXM", _csv(tmp_path, "b.csv", [
        _project("BC-002", "640302", "验收", "乙村旱改水")]), actor="张三", now=NOW - timedelta(days=80))
    uc.import_records(store, "BCGDXM", _csv(tmp_path, "c.csv", [
        _project("BC-003", "640324", "立项", "丙村高标准农田")]), actor="张三", now=NOW)
    engine = store.sql_engine()
    for name, role, county in (("admin", "admin", None), ("viewer", "viewer", None),
                               ("editor", "editor", None), ("tongxin", "enforcer", "640324"),
                               ("txedit", "editor", "640324")):
        create_user(engine, name, PASSWORD, role=role, county=county)
    tokens = {u: auth(create_token(engine, u, name="t", scopes=("admin",)))
              for u in ("admin", "viewer", "editor", "tongxin", "txedit")}
    tokens["readonly"] = auth(create_token(engine, "editor", name="r", scopes=("read",)))
    store.close()
    app = create_app(path, cache_dir=tmp_path / "tiles")
    with TestClient(app) as client:
        yield client, tokens, path


def _unchanged(path):
    store = open_workspace(path)
    try:
        return store.fingerprint(), file_digest(path)
    finally:
        store.close()


def test_register_list_has_every_register_with_schema_counts_and_scope(setup):
    client, tok, _ = setup
    r = client.get("/api/registers", headers=tok["viewer"])
    assert r.status_code == 200
    regs = {g["name"]: g for g in r.json()["registers"]}
    assert SHIPPED <= set(regs)
    bc = regs["BCGDXM"]
    assert bc["title"] == "补充耕地项目" and bc["key"] == "XMBH" and bc["geometry"] == "optional"
    assert bc["count"] == 3 and bc["by_state"] == {"立项": 2, "验收": 1}
    assert bc["warnings"] == 2  # BC-001 overdue, BC-002 due in 10 days
    assert {"name": "XZGDMJ", "title": "新增耕地面积", "type": "number", "unit": "平方米", "codes": [],
            "required": True} in bc["fields"]
    assert [s["title"] for s in bc["states"]] == ["立项", "实施", "验收", "入库", "撤销"]
    assert {a["action"]: a["roles"] for a in bc["actions"]}["store"] == ["admin"]
    assert regs["KYQ"]["title"] == "矿业权" and regs["KYQ"]["has_geometry"] is True
    assert regs["ZBJY"]["has_geometry"] is False and regs["KYQ"]["count"] == 0
    scoped = {g["name"]: g for g in client.get("/api/registers", headers=tok["tongxin"]).json()["registers"]}
    assert scoped["BCGDXM"]["count"] == 1 and scoped["BCGDXM"]["warnings"] == 0


def test_records_filter_page_and_warn(setup):
    client, tok, _ = setup
    h = tok["viewer"]
    got = client.get("/api/registers/BCGDXM", headers=h).json()
    assert got["count"] == 3 and [r["record_no"] for r in got["records"]] == ["BC-001", "BC-002", "BC-003"]
    assert [r["deadline"] for r in got["records"]] == ["已逾期", "即将到期", "正常"]
    assert got["records"][0]["overdue_days"] == 35  # due 35 days (and the test's seconds) ago
    page = client.get("/api/registers/补充耕地项目?offset=1&limit=1", headers=h).json()
    assert (page["count"], [r["record_no"] for r in page["records"]]) == (3, ["BC-002"])
    assert [r["record_no"] for r in client.get("/api/registers/BCGDXM?state=立项", headers=h)
            .json()["records"]] == ["BC-001", "BC-003"]
    assert [r["record_no"] for r in client.get("/api/registers/BCGDXM?q=旱改水", headers=h)
            .json()["records"]] == ["BC-002"]
    assert [r["record_no"] for r in client.get("/api/registers/BCGDXM?deadline=已逾期", headers=h)
            .json()["records"]] == ["BC-001"]
    assert [r["record_no"] for r in client.get("/api/registers/BCGDXM?county=640324", headers=h)
            .json()["records"]] == ["BC-003"]
    # a county user sees the county's records only, and cannot ask for another county
    mine = client.get("/api/registers/BCGDXM", headers=tok["tongxin"]).json()
    assert [r["record_no"] for r in mine["records"]] == ["BC-003"]
    r = client.get("/api/registers/BCGDXM?county=640302", headers=tok["tongxin"])
    assert r.status_code == 403 and "640324" in r.json()["message"]
    bad = client.get("/api/registers/BCGDXM?state=完工", headers=h)
    assert bad.status_code == 400 and "没有状态 完工" in bad.json()["message"]
    missing = client.get("/api/registers/XYZ", headers=h)
    assert missing.status_code == 404 and "没有台账 XYZ" in missing.json()["message"]


def test_record_detail_with_audit_history_and_county_scope(setup):
    client, tok, path = setup
    got = client.get("/api/registers/BCGDXM/BC-001", headers=tok["viewer"]).json()
    assert got["values"]["XMMC"] == "甲村土地整治" and got["state_title"] == "立项"
    assert [a["action"] for a in got["allowed_actions"]] == ["start", "cancel"]
    store = open_workspace(path)
    [row] = audit.entries(store.sql_engine(), entity="ledger", entity_id="BCGDXM/BC-001")
    store.close()
    assert got["history"] == [{"audit_id": row.id, "at": row.at, "actor": "张三", "action": "ledger.create",
                               "title": "登记（导入）", "hash": row.hash, "prev_hash": row.prev_hash}]
    assert "geometry_wkb" not in got and got["geometry"] is None
    r = client.get("/api/registers/BCGDXM/BC-001", headers=tok["tongxin"])
    assert r.status_code == 403 and "640324" in r.json()["message"]
    assert client.get("/api/registers/BCGDXM/BC-003", headers=tok["tongxin"]).status_code == 200
    r = client.get("/api/registers/BCGDXM/BC-999", headers=tok["viewer"])
    assert r.status_code == 404 and "没有记录 BC-999" in r.json()["message"]


def test_actions_follow_the_flow_roles_and_fields(setup):
    client, tok, path = setup
    url = "/api/registers/BCGDXM/BC-002/actions"
    before = _unchanged(path)
    r = client.post(url, json={"action": "store"}, headers=tok["editor"])  # 入库: admin only
    assert r.status_code == 403
    assert r.json()["message"] == "角色 editor 不能对 补充耕地项目 BC-002 执行「入库」（允许的角色：admin）"
    r = client.post(url, json={"action": "store"}, headers=tok["viewer"])  # no 办理 permission at all
    assert r.status_code == 403 and "只读角色不能" in r.json()["message"]
    r = client.post(url, json={"action": "store"}, headers=tok["readonly"])  # a read-only token
    assert r.status_code == 403 and "接口令牌的权限范围" in r.json()["message"]
    r = client.post(url, json={"action": "start"}, headers=tok["admin"])  # 验收 → 开工实施: wrong state
    assert r.status_code == 400 and "当前状态为「验收」，不能执行「开工实施」" in r.json()["message"]
    r = client.post("/api/registers/BCGDXM/BC-003/actions", json={"action": "start"}, headers=tok["tongxin"])
    assert r.status_code == 403  # enforcer: not among 开工实施's roles
    assert _unchanged(path) == before
    r = client.post("/api/registers/BCGDXM/BC-001/actions", json={"action": "start"}, headers=tok["editor"])
    assert r.status_code == 200 and r.json()["state_title"] == "实施"
    r = client.post("/api/registers/BCGDXM/BC-001/actions", json={"action": "accept"}, headers=tok["editor"])
    assert r.status_code == 400
    assert r.json()["message"] == "补充耕地项目 BC-001「验收」的填写不完整或有误（1 处）：「验收」须填写 YSRQ"
    r = client.post("/api/registers/BCGDXM/BC-001/actions",
                    json={"action": "accept", "fields": {"YSRQ": "2025-06-30"}}, headers=tok["editor"])
    assert r.status_code == 200 and r.json()["values"]["YSRQ"] == "2025-06-30"
    got = client.get("/api/registers/BCGDXM/BC-001", headers=tok["viewer"]).json()
    assert [(h["action"], h["title"], h["actor"]) for h in got["history"]] == [
        ("ledger.create", "登记（导入）", "张三"), ("ledger.start", "开工实施", "editor"),
        ("ledger.accept", "验收", "editor")]
    assert got["history"][2]["prev_hash"] == got["history"][1]["hash"]  # the refused 验收 wrote nothing
    r = client.post("/api/registers/BCGDXM/BC-003/actions",
                    json={"action": "start", "fields": {"XZQDM": "640302"}}, headers=tok["txedit"])
    assert r.status_code == 403 and "640302" in r.json()["message"]


def test_import_upload_is_all_or_nothing_and_scoped(setup, tmp_path):
    client, tok, path = setup
    good = _csv(tmp_path, "新项目.csv", [_project("BC-010", "640324", "立项", "丁村整治"),
                                          _project("BC-011", "640302", "实施", "戊村整治")])
    bad_rows = [_project("BC-020", "640324", "立项", "己村整治"), _project("BC-021", "64032", "立项", "庚村整治")]
    bad = _csv(tmp_path, "有误.csv", bad_rows)
    before = _unchanged(path)
    r = client.post("/api/registers/BCGDXM/import", headers=tok["editor"],
                    files={"file": ("有误.csv", bad.read_bytes(), "text/csv")})
    assert r.status_code == 400
    [p] = r.json()["problems"]
    assert (p["row"], p["field"]) == ("第 3 行", "XZQDM") and "64032" in p["message"]
    r = client.post("/api/registers/BCGDXM/import", headers=tok["tongxin"],  # enforcer: no edit
                    files={"file": ("新项目.csv", good.read_bytes(), "text/csv")})
    assert r.status_code == 403
    r = client.post("/api/registers/BCGDXM/import", headers=tok["txedit"],  # 同心县 editor, a 利通区 row
                    files={"file": ("新项目.csv", good.read_bytes(), "text/csv")})
    assert r.status_code == 403 and r.json()["problems"][0]["row"] == "第 3 行"
    r = client.post("/api/registers/BCGDXM/import", headers=tok["editor"],
                    files={"file": ("x.exe", b"MZ", "application/octet-stream")})
    assert r.status_code == 400 and "不支持的台账文件类型：x.exe" in r.json()["message"]
    assert _unchanged(path) == before
    r = client.post("/api/registers/BCGDXM/import", headers=tok["editor"],
                    files={"file": ("新项目.csv", good.read_bytes(), "text/csv")})
    assert r.status_code == 200
    assert (r.json()["imported"], r.json()["records"], r.json()["file"]) == (2, ["BC-010", "BC-011"], "新项目.csv")
    listing = client.get("/api/registers/BCGDXM?state=实施", headers=tok["viewer"]).json()
    assert [x["record_no"] for x in listing["records"]] == ["BC-011"]


def test_export_xlsx_follows_filters_and_scope(setup):
    client, tok, _ = setup
    r = client.get("/api/registers/BCGDXM/export.xlsx?state=立项", headers=tok["viewer"])
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(r.content))["补充耕地项目"].iter_rows()]
    head = next(i for i, row in enumerate(rows) if row[0] == "项目编号")
    assert [row[0] for row in rows[head + 1:]] == ["BC-001", "BC-003"]
    assert rows[head + 1][-3] == "立项" and rows[head + 1][-1] == "已逾期"
    r = client.get("/api/registers/BCGDXM/export.xlsx", headers=tok["tongxin"])
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(r.content))["补充耕地项目"].iter_rows()]
    head = next(i for i, row in enumerate(rows) if row[0] == "项目编号")
    assert [row[0] for row in rows[head + 1:]] == ["BC-003"]
