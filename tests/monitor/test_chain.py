"""Three versions (2023 → 2024 → 2025): a patch is built on, judged, cased, and reclaimed."""

from __future__ import annotations

import re

import openpyxl
import pytest
from monitor_world import make_photo

from onemap.monitor import service
from onemap.store import audit


def test_three_version_chain(chain_ws, tmp_path):
    store = chain_ws
    # --- 2023 → 2024: find the changes
    r = service.run_changes(store, "DLTB", "2023", "2024", actor="pytest",
                            gpkg=tmp_path / "out.gpkg")
    assert r["changeset"] == {**r["changeset"], "dataset": "BHTB", "version": "2023-2024",
                              "saved": True}
    rows = r["changes"]
    assert len(rows) == 4
    for row in rows:
        assert {"before", "after", "area_m2", "sfyn", "sfhx", "in_czkfbj", "county",
                "village", "tbbh", "zygd", "zyst"} <= set(row)
    built = next(x for x in rows if x["bsm_after"] == "102")
    assert (built["before"], built["after"], built["sfyn"], built["in_czkfbj"]) == (
        "0103", "0601", False, False)
    assert [e["bsm"] for e in r["attribute_edits"]] == ["4"]
    assert {d["dlbm"] for d in r["redraws"]} == {"0103", "0702"}
    assert r["summary"]["attribute_edits"] == 1 and r["summary"]["redraws"] == 4
    assert (tmp_path / "out.gpkg").exists()
    # stored with provenance; running again reuses the version
    info = store.version("BHTB", "2023-2024")
    assert info.meta.notes["source"]["from"] == "2023" and info.feature_count == 4
    again = service.run_changes(store, "DLTB", "2023", "2024", rows=False)
    assert again["changeset"]["existing"] and not again["changeset"]["saved"]

    # --- judge against the approvals
    j = service.judge_changes(store, "2023-2024", as_of="2025-03-01", actor="pytest")
    verdicts = {p["tbbh"]: (p["verdict"], p["rule"]) for p in j["patches"]}
    assert sorted(verdicts.values()) == [
        ("合法", "APPROVED_BUILT"), ("合法", "SSNYD_FILED"),
        ("疑似违法", "UNAPPROVED_ON_FARMLAND"), ("疑似违法", "YN_OCCUPIED")]
    assert j["summary"]["missing_layers"] == ["ZJD"]
    p0 = j["patches"][0]
    layers = {(c["layer"], c["role"]): c for c in p0["consulted"]}
    assert layers[("DLTB", "before")]["version"] == "2023"
    assert layers[("DLTB", "after")]["version"] == "2024"
    assert layers[("NZYPC", "approval")]["version"] == "2024"
    assert layers[("ZJD", "approval")]["status"] == "missing"
    assert all(c["created_at"] for c in p0["consulted"] if c["status"] == "used")
    approved = next(p for p in j["patches"] if p["rule"] == "APPROVED_BUILT")
    hits = {c["layer"]: c["hits"] for c in approved["consulted"] if c["role"] == "approval"}
    assert [h["id"] for h in hits["NZYPC"]] == ["PC-2024-01"]
    assert store.version("BHTBPD", f"2023-2024-r{j['run_id']}").feature_count == 4

    # --- cases: one per suspected patch, priority 1 first, idempotent
    o = service.open_cases(store, actor="执法科", now="2025-03-02")
    assert [c["priority"] for c in o["opened"]] == [1, 2]
    assert all(c["state"] == "issued" for c in o["opened"])
    assert service.open_cases(store, actor="执法科")["already_open"] == 2
    yn, built_case = o["opened"]

    # --- the built patch: field check, 违法, order demolition and reclamation
    photo = make_photo(tmp_path / "p1.jpg")
    c = service.case_transition(store, built_case["case_no"], "evidence", "王五",
                                now="2025-03-05", officer="王五", date="2025-03-05",
                                notes="现场为新建厂房", photos=[photo])
    assert c["state"] == "evidenced"
    service.case_transition(store, built_case["case_no"], "determine", "科长", now="2025-03-10",
                            determination="违法", basis="未批先建，占用耕地")
    c = service.case_transition(store, built_case["case_no"], "rectify", "科长",
                                now="2025-03-11", measures="拆除复耕,罚款", deadline="2025-09-30")
    assert c["measures"] == ["拆除复耕", "罚款"] and c["due_at"].startswith("2025-09-30")

    # --- 2024 → 2025: the building is gone, 旱地 again
    r2 = service.run_changes(store, "DLTB", "2024", "2025", actor="pytest")
    assert [(x["before"], x["after"], x["bsm_after"]) for x in r2["changes"]] == [
        ("0601", "0103", "102")]
    j2 = service.judge_changes(store, "2024-2025", as_of="2026-01-15")
    assert [(p["verdict"], p["rule"]) for p in j2["patches"]] == [("其他", "RECLAIMED")]
    assert service.open_cases(store, run_id=j2["run_id"])["opened"] == []
    service.case_transition(store, built_case["case_no"], "complete", "王五", now="2026-01-20",
                            date="2026-01-18",
                            notes=f"已拆除复耕，见变化图斑 2024-2025 {r2['changes'][0]['tbbh']}")
    c = service.case_transition(store, built_case["case_no"], "close", "局长", now="2026-01-25",
                                approver="局长")
    assert c["state"] == "closed" and c["closed_at"] and not c["overdue"]
    detail = service.case_detail(store, built_case["case_no"])
    assert [e["action"] for e in detail["events"]] == [
        "open", "evidence", "determine", "rectify", "complete", "close"]
    assert detail["evidence"][0]["position_source"] == "exif"

    # --- the 永农 case is determined 违法 and stays open
    service.case_transition(store, yn["case_no"], "evidence", "王五", now="2025-03-06",
                            officer="王五", date="2025-03-06", notes="新建住房",
                            photos=[{"path": make_photo(tmp_path / "p2.jpg", gps=False),
                                     "lon": 106.2015, "lat": 37.9005,
                                     "time": "2025-03-06T09:00:00"}])
    service.case_transition(store, yn["case_no"], "determine", "科长", now="2025-03-12",
                            determination="违法", basis="占用永久基本农田")

    # --- accountability 2024: both built patches were determined 违法
    a = service.accountability(store, 2024, xlsx=tmp_path / "acc.xlsx", now="2025-04-01")
    (row,) = a["rows"]
    assert row["county"] == "640302" and row["year"] == 2024
    new_gd = sum(p["new_construction_gd_m2"] for p in rows)
    illegal = sum(p["suspect_gd_area_m2"] for p in j["patches"] if p["verdict"] == "疑似违法")
    assert row["new_construction_gd_m2"] == pytest.approx(new_gd, abs=0.01)
    assert row["illegal_gd_m2"] == pytest.approx(illegal, abs=0.01)
    assert row["ratio"] == pytest.approx(illegal / new_gd, abs=1e-4)
    # one 15 % threshold (第15号令 第三条): a ratio far above it is still just 问责
    assert row["ratio"] > 0.30 and a["threshold"] == 0.15 and "high_threshold" not in a
    assert row["flagged"] and row["level"] == "问责" and a["flagged"] == ["640302"]
    assert row["cases"] == 2 and row["cases_illegal"] == 2 and row["cases_pending"] == 0
    wb = openpyxl.load_workbook(tmp_path / "acc.xlsx")
    assert wb.sheetnames == ["问责统计", "案件明细"]
    assert "问责" in wb["问责统计"]["A1"].value
    acc_sheet, detail = wb["问责统计"], wb["案件明细"]
    assert acc_sheet["C3"].value == "面积（亩）" and acc_sheet["C4"].value == "新增建设用地占用耕地"
    assert acc_sheet["A5"].value.endswith("合计") and acc_sheet["B6"].value == "640302"
    assert acc_sheet["C6"].value == pytest.approx(round(new_gd * 15 / 10000, 2))
    assert acc_sheet["F6"].number_format == "0.00%" and acc_sheet["H6"].value == "是"
    rules_shown = [detail.cell(r, 7).value for r in (5, 6)]
    assert all(v and not re.search(r"[A-Z]{2,}_", v) for v in rules_shown)  # names, not rule ids
    # a closed case has no deadline left: an empty cell, never "nan" or an ISO timestamp
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", detail.cell(5, 13).value)
    assert detail.cell(6, 13).value in (None, "")
    service.accountability(store, 2030, xlsx=tmp_path / "none.xlsx")
    assert openpyxl.load_workbook(tmp_path / "none.xlsx")["问责统计"]["A5"].value.startswith("无判定结果")
    # --- 2025: nothing new was built
    (r25,) = service.accountability(store, 2025)["rows"]
    assert r25["new_construction_gd_m2"] == 0 and r25["ratio"] is None and not r25["flagged"]

    # --- every step is in an intact audit chain
    v = service.audit_verify(store)
    assert v["ok"]
    actions = [e.action for e in audit.entries(store.sql_engine())]
    assert actions.count("judge.run") == 2 and actions.count("case.open") == 2
    assert actions.count("case.close") == 1


def test_monitoring_patches_are_judged_the_same_way(chain_ws):
    import geopandas as gpd
    from monitor_world import cell

    from onemap.store import VersionMeta

    patches = gpd.GeoDataFrame(
        {"JCBH": ["JC-01", "JC-02"], "TBLX": ["20", "YH"], "QSX": ["20250101", "20250101"],
         "HSX": ["20250601", "20250601"], "XZQDM": ["640302", "640302"]},
        geometry=[cell(2.1, 0.1, 2.9, 0.9), cell(0.1, 1.1, 0.4, 1.4)], crs=4490)
    chain_ws.write_version("JCTB", "2025-06", patches, VersionMeta(source_file="jc.shp"))
    r = service.run_monitoring(chain_ws, "JCTB", "2025-06")
    assert r["changeset"]["version"] == "JCTB-2025-06"
    # base = latest DLTB before the 2025 imagery: 2024
    assert [c["version"] for c in r["consulted"] if c["role"] == "before"] == ["2024"]
    j = service.judge_changes(chain_ws, "JCTB-2025-06", as_of="2025-07-01")
    got = {p["jcbh"]: (p["before"], p["after"], p["verdict"], p["rule"]) for p in j["patches"]}
    assert got["JC-01"] == ("0601", "20", "合法", "APPROVED_BUILT")
    assert got["JC-02"] == ("0702", "YH", "其他", "CONSTRUCTION_INTERNAL")
    assert j["year"] == 2025


def test_changes_need_two_versions(tmp_path):
    from onemap.errors import WorkspaceError
    from onemap.store import init_workspace

    store = init_workspace(tmp_path / "w.gpkg")
    with pytest.raises(WorkspaceError, match="两个版本"):
        service.run_changes(store, "DLTB")
