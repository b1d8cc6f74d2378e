"""Case lifecycle: allowed and forbidden moves, required fields, photos, deadlines."""

from __future__ import annotations

import pytest
from monitor_world import make_photo

from onemap.errors import InputError, WorkspaceError
from onemap.monitor import service
from onemap.monitor.cases import TransitionError, load_flow
from onemap.store import audit


def _evidence(store, case, tmp_path, now="2025-03-05"):
    return service.case_transition(store, case, "evidence", "王五", now=now, officer="王五",
                                   date=now, notes="现场核查",
                                   photos=[make_photo(tmp_path / f"{case}.jpg")])


def _audit_rows(store):
    return len(audit.entries(store.sql_engine()))


def test_close_before_determination_is_refused_and_changes_nothing(opened):
    store, cases = opened
    no = cases[0]["case_no"]
    before = _audit_rows(store)
    with pytest.raises(TransitionError) as exc:
        service.case_transition(store, no, "close", "局长", approver="局长")
    msg = exc.value.message
    assert "当前状态为「已下发」" in msg and "不能执行「销号」" in msg and "核查举证" in msg
    assert service.case_detail(store, no)["state"] == "issued"
    assert _audit_rows(store) == before


def test_illegal_case_cannot_be_closed_without_rectification(opened, tmp_path):
    store, cases = opened
    no = cases[1]["case_no"]
    _evidence(store, no, tmp_path)
    service.case_transition(store, no, "determine", "科长", determination="违法", basis="未批先建")
    with pytest.raises(TransitionError, match="判定结果为「违法」.*不能直接执行「销号」"):
        service.case_transition(store, no, "close", "局长", approver="局长")
    with pytest.raises(TransitionError, match="只能在「整改中、立案查处中、已作出处罚决定」"):
        service.case_transition(store, no, "complete", "王五", date="2025-04-01", notes="x")
    c = service.case_transition(store, no, "prosecute", "科长", filing_no="利自然立〔2025〕3号",
                                measures=["罚款", "没收"], fine_yuan=120000)
    assert c["state"] == "prosecuting" and c["data"]["fine_yuan"] == 120000
    service.case_transition(store, no, "complete", "王五", date="2025-06-01", notes="已缴纳罚款")
    c = service.case_transition(store, no, "reject", "局长", notes="复核：建筑未没收")
    assert c["state"] == "rectifying"
    service.case_transition(store, no, "complete", "王五", date="2025-07-01", notes="已没收")
    c = service.case_transition(store, no, "close", "局长", approver="局长")
    assert c["state"] == "closed" and c["allowed_actions"] == []
    with pytest.raises(TransitionError, match="已办结"):
        service.case_transition(store, no, "reject", "局长", notes="x")


def test_legal_determination_closes_directly_but_cannot_be_rectified(opened, tmp_path):
    store, cases = opened
    no = cases[0]["case_no"]
    _evidence(store, no, tmp_path)
    service.case_transition(store, no, "determine", "科长", determination="合法",
                            basis="已取得国务院批准文件（补充材料）")
    with pytest.raises(TransitionError, match="判定结果为「合法」"):
        service.case_transition(store, no, "rectify", "科长", measures="拆除复耕")
    c = service.case_transition(store, no, "close", "局长", approver="局长")
    assert c["state"] == "closed" and c["determination"] == "合法"


def test_required_fields_and_choices(opened, tmp_path):
    store, cases = opened
    no = cases[0]["case_no"]
    with pytest.raises(InputError) as exc:
        service.case_transition(store, no, "evidence", "王五", officer="王五")
    fields = {p.field for p in exc.value.problems}
    assert {"date", "notes", "photos"} <= fields
    _evidence(store, no, tmp_path)
    with pytest.raises(InputError, match="不在允许范围") as exc:
        service.case_transition(store, no, "determine", "科长", determination="可能", basis="x")
    assert exc.value.problems[0].field == "determination"
    with pytest.raises(InputError, match="不是有效日期"):
        service.case_transition(store, no, "evidence", "王五", officer="王五", date="三月",
                                notes="x", photos=[make_photo(tmp_path / "b.jpg")])
    with pytest.raises(InputError, match="不认识的案件操作"):
        service.case_transition(store, no, "approve", "王五")
    with pytest.raises(WorkspaceError, match="没有案件"):
        service.case_transition(store, "WP-000000-1999-0001", "close", "王五")


def test_photos_need_position_and_time(opened, tmp_path):
    store, cases = opened
    no = cases[0]["case_no"]
    bare = make_photo(tmp_path / "bare.jpg", gps=False)
    with pytest.raises(InputError, match="照片无 GPS 位置") as exc:
        service.case_transition(store, no, "evidence", "王五", officer="王五",
                                date="2025-03-05", notes="x", photos=[bare])
    assert {p.rule for p in exc.value.problems} >= {"photo_position", "photo_time"}
    with pytest.raises(InputError, match="不存在"):
        service.case_transition(store, no, "evidence", "王五", officer="王五",
                                date="2025-03-05", notes="x", photos=[tmp_path / "none.jpg"])
    c = service.case_transition(store, no, "evidence", "王五", officer="王五",
                                date="2025-03-05", notes="x",
                                photos=[{"path": bare, "lon": 106.2016, "lat": 37.9005,
                                         "time": "2025-03-05T10:00:00", "note": "东侧"}])
    ph = c["event"]["fields"]["photos"][0]
    assert ph["position_source"] == "given" and len(ph["sha256"]) == 64
    assert ph["distance_m"] < 50  # taken next to the patch
    detail = service.case_detail(store, no)
    assert detail["evidence"][0]["note"] == "东侧"
    # the photo hash is in the audit log
    last = audit.entries(store.sql_engine(), entity="case", entity_id=no)[-1]
    assert last.after["fields"]["photos"][0]["sha256"] == ph["sha256"]


def test_deadlines_and_overdue(opened, tmp_path):
    store, cases = opened
    flow = load_flow()
    assert flow.states["issued"].deadline_days == 30
    assert service.list_cases(store, overdue=True, now="2025-03-20")["count"] == 0
    late = service.list_cases(store, overdue=True, now="2025-04-05")
    assert late["count"] == 2 and all(c["overdue_days"] >= 3 for c in late["cases"])
    no = cases[0]["case_no"]
    _evidence(store, no, tmp_path, now="2025-04-05")
    late = service.list_cases(store, overdue=True, now="2025-04-06")
    assert [c["case_no"] for c in late["cases"]] == [cases[1]["case_no"]]
    by_county = service.list_cases(store, county="640302", now="2025-04-06")
    assert by_county["count"] == 2 and by_county["overdue"] == 1
    assert service.list_cases(store, county="640381")["count"] == 0
    assert service.list_cases(store, state="evidenced")["cases"][0]["case_no"] == no


def test_case_numbers_and_flow_description(opened):
    store, cases = opened
    assert [c["case_no"] for c in cases] == ["WP-640302-2024-0001", "WP-640302-2024-0002"]
    flow = service.case_flow()
    assert flow["initial"] == "issued" and flow["states"]["closed"]["final"]
    assert flow["actions"]["close"]["from"] == ["determined", "rectified"]


def test_bad_flow_files_are_refused(tmp_path):
    from onemap.errors import DomainDataError

    p = tmp_path / "case_flow.yaml"
    p.write_text("initial: a\nstates:\n  a: {title: A}\n  b: {title: B, final: true}\n"
                 "actions:\n  go: {title: 走, from: [a], to: c}\n", encoding="utf-8")
    with pytest.raises(DomainDataError, match="未定义的状态 c"):
        load_flow(p)
    p.write_text("initial: a\nstates:\n  a: {title: A}\n  b: {title: B}\n"
                 "actions:\n  go: {title: 走, from: [a], to: b}\n", encoding="utf-8")
    with pytest.raises(DomainDataError, match="非终态"):
        load_flow(p)


def test_exif_reading(tmp_path):
    from onemap.monitor.evidence import read_exif, read_photo

    path = make_photo(tmp_path / "x.jpg", lon=106.25, lat=37.95, when="2025:05:01 08:00:00")
    got = read_exif(path)
    assert got["lon"] == pytest.approx(106.25, abs=1e-5)
    assert got["lat"] == pytest.approx(37.95, abs=1e-5)
    assert got["taken_at"] == "2025-05-01T08:00:00"
    # EXIF wins over given values
    ph = read_photo(path, lon=1.0, lat=1.0, taken_at="2000-01-01")
    assert ph.position_source == "exif" and ph.lon == pytest.approx(106.25, abs=1e-5)
