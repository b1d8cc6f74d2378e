"""Registers in a workspace: import (all or nothing), list, show, act, export, audit."""

import json

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely

from builders import file_digest
from onemap.app import ledgers as uc
from onemap.errors import InputError, WorkspaceError
from onemap.ledgers.flow import TransitionError
from onemap.store import audit

T0 = "2025-01-01T00:00:00"

PROJECTS = [
    {"序号": 1, "项目编号": "BC-001", "项目名称": "甲村土地整治", "类型": "土地整治", "行政区": "640302",
     "新增耕地面积（平方米）": 10000, "其中新增水田": 2000, "平均等别": 6, "状态": "立项"},
    {"序号": 2, "项目编号": "BC-002", "项目名称": "乙村旱改水", "类型": "旱改水", "行政区": "640323",
     "新增耕地面积（平方米）": 5000, "其中新增水田": 5000, "平均等别": 10, "状态": "验收"},
]


def assert_unchanged(store, before):
    assert store.fingerprint() == before[0]
    assert file_digest(store.path) == before[1]


def snapshot(store):
    return store.fingerprint(), file_digest(store.path)


def test_import_gbk_csv_then_list_show_and_audit(workspace, write_csv):
    path = write_csv("项目.csv", PROJECTS, encoding="gbk")
    got = uc.import_records(workspace, "补充耕地项目", path, actor="张三", now=T0)
    assert (got["register"], got["imported"], got["records"]) == ("BCGDXM", 2, ["BC-001", "BC-002"])
    assert got["ignored_columns"] == ["序号"] and got["journal_entries"] == 0
    listing = uc.list_records(workspace, "BCGDXM", now="2025-01-10")
    assert listing["by_state"] == {"立项": 1, "验收": 1}
    first = listing["records"][0]
    assert first["values"] == {"XMBH": "BC-001", "XMMC": "甲村土地整治", "XMLX": "土地整治", "XZQDM": "640302",
                               "XZGDMJ": 10000.0, "XZSTMJ": 2000.0, "YSPJDB": 6}
    # 立项: 365 days; 验收: 90 days with a warning 15 days before
    assert first["due_at"] == "2026-01-01T00:00:00+00:00"
    assert listing["records"][1]["due_at"] == "2025-04-01T00:00:00+00:00"
    assert [r["record_no"] for r in uc.list_records(workspace, "BCGDXM", county="640323")["records"]] == ["BC-002"]
    warn = uc.list_records(workspace, "BCGDXM", deadline="即将到期", now="2025-03-20")
    assert [r["record_no"] for r in warn["records"]] == ["BC-002"] and warn["warnings"] == 1
    assert uc.list_records(workspace, "BCGDXM", state="立项")["count"] == 1
    shown = uc.get_record(workspace, "BCGDXM", "BC-002")
    assert [e["action"] for e in shown["events"]] == ["import"]
    assert shown["events"][0]["fields"] == {"file": "项目.csv", "row": "第 3 行"}
    log = audit.entries(workspace.sql_engine())
    assert [(e.action, e.entity_id) for e in log] == [
        ("ledger.import", "BCGDXM"), ("ledger.create", "BCGDXM/BC-001"), ("ledger.create", "BCGDXM/BC-002")]
    assert audit.verify(workspace.sql_engine()).ok
    with pytest.raises(WorkspaceError, match="「补充耕地项目」台账中没有记录 BC-009"):
        uc.get_record(workspace, "BCGDXM", "BC-009")


def test_a_bad_row_refuses_the_whole_file_and_writes_nothing(workspace, write_csv):
    before = snapshot(workspace)
    bad = [PROJECTS[0], {**PROJECTS[1], "平均等别": "十"}]
    with pytest.raises(InputError) as info:
        uc.import_records(workspace, "BCGDXM", write_csv("bad.csv", bad), actor="张三")
    assert [(p.rule, p.row, p.field) for p in info.value.problems] == [("bad_int", "第 3 行", "YSPJDB")]
    assert "第 3 行：YSPJDB（验收平均等别）「十」不是数字" in str(info.value)
    assert_unchanged(workspace, before)
    # once imported, the same records are refused a second time, and nothing changes
    uc.import_records(workspace, "BCGDXM", write_csv("ok.csv", PROJECTS), actor="张三")
    before = snapshot(workspace)
    with pytest.raises(InputError, match="第 2 行：XMBH（项目编号）BC-001 已在台账中"):
        uc.import_records(workspace, "BCGDXM", write_csv("again.csv", PROJECTS[:1]), actor="张三")
    assert_unchanged(workspace, before)


def test_xlsx_and_geojson_imports(workspace, tmp_path):
    xlsx = tmp_path / "占用.xlsx"
    pd.DataFrame([{"编号": "ZY-1", "项目名称": "工业园一期", "占用类型": "建设", "批复文号": "宁政土批〔2024〕1号",
                   "行政区": 640302, "占用耕地": 3000, "其中水田": 0, "平均等别": 8, "批准时间": "2024/06/30"}]
                 ).to_excel(xlsx, index=False)
    got = uc.import_records(workspace, "耕地占用", xlsx, actor="李四", now=T0)
    rec = uc.get_record(workspace, "GDZY", "ZY-1")
    assert got["imported"] == 1 and rec["state_title"] == "拟件"
    assert rec["values"]["XZQDM"] == "640302" and rec["values"]["LWQX"] == "无"  # the default
    assert rec["values"]["PZSJ"] == "2024-06-30" and rec["has_geometry"] is False
    box = shapely.box(106.2, 37.95, 106.202, 37.952)
    gdf = gpd.GeoDataFrame({"XMBH": ["BC-G1"], "XMMC": ["丙村复垦"], "XMLX": ["增减挂钩复垦"], "XZQDM": ["640302"],
                            "XZGDMJ": [4000.0], "XZSTMJ": [0.0], "YSPJDB": [9]}, geometry=[box], crs=4490)
    gj = tmp_path / "projects.geojson"
    gdf.to_file(gj, driver="GeoJSON")
    got = uc.import_records(workspace, "BCGDXM", gj, actor="李四")
    rec = uc.get_record(workspace, "BCGDXM", "BC-G1")
    assert rec["has_geometry"] is True
    assert shapely.from_wkb(bytes.fromhex(rec["geometry_wkb"])).equals(box)


def test_act_moves_checks_fields_and_roles(workspace, write_csv):
    uc.import_records(workspace, "BCGDXM", write_csv("p.csv", PROJECTS), actor="张三", now=T0)
    before = snapshot(workspace)
    with pytest.raises(TransitionError, match="补充耕地项目 BC-001 当前状态为「立项」，不能执行「验收」"):
        uc.act(workspace, "BCGDXM", "BC-001", "accept", actor="张三")
    with pytest.raises(TransitionError, match="角色 viewer 不能对 补充耕地项目 BC-001 执行「开工实施」"):
        uc.act(workspace, "BCGDXM", "BC-001", "start", actor="王五", role="viewer")
    assert_unchanged(workspace, before)
    got = uc.act(workspace, "BCGDXM", "BC-001", "start", actor="张三", role="editor", now="2025-02-01")
    assert (got["state"], got["due_at"]) == ("building", "2027-02-01T00:00:00+00:00")  # 实施: 730 days
    before = snapshot(workspace)
    with pytest.raises(InputError, match="「验收」须填写 YSRQ"):
        uc.act(workspace, "BCGDXM", "BC-001", "accept", actor="张三")
    with pytest.raises(InputError, match="YSRQ（验收日期）「明天」不是有效日期"):
        uc.act(workspace, "BCGDXM", "BC-001", "accept", actor="张三", fields={"YSRQ": "明天"})
    assert_unchanged(workspace, before)
    got = uc.act(workspace, "BCGDXM", "BC-001", "accept", actor="张三",
                 fields={"YSRQ": "2025/3/1", "notes": "现场验收"}, now="2025-03-02")
    assert got["values"]["YSRQ"] == "2025-03-01" and got["state_title"] == "验收"
    assert got["event"]["fields"] == {"YSRQ": "2025/3/1", "notes": "现场验收"}
    shown = uc.get_record(workspace, "BCGDXM", "BC-001")
    assert [(e["action"], e["from_state"], e["to_state"]) for e in shown["events"]] == [
        ("import", None, "approved"), ("start", "approved", "building"), ("accept", "building", "accepted")]
    assert audit.verify(workspace.sql_engine()).ok


def test_export_xlsx(workspace, write_csv, tmp_path):
    uc.import_records(workspace, "BCGDXM", write_csv("p.csv", PROJECTS), actor="张三", now=T0)
    got = uc.export_records(workspace, "补充耕地项目", tmp_path / "out.xlsx", now="2025-01-02")
    assert got["count"] == 2
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")["补充耕地项目"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(i for i, r in enumerate(values) if r[0] == "项目编号")
    assert values[header][:7] == ["项目编号", "项目名称", "项目类型", "行政区代码", "新增耕地面积（平方米）",
                                  "新增水田面积（平方米）", "计划平均等别"]
    assert values[header][-3:] == ["状态", "到期日", "期限"]
    assert values[header + 2][0] == "BC-002" and values[header + 2][-3:] == ["验收", "2025-04-01", "正常"]
    assert json.dumps(values[header + 1][4]) == "10000"
