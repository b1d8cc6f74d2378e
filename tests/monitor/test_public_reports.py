"""群众举报 into the enforcement workflow, the reporter's receipt, 法制审核 and 执法公示."""

from __future__ import annotations

import pytest
from monitor_world import make_photo

from onemap.app import public
from onemap.errors import InputError
from onemap.ledgers.flow import TransitionError
from onemap.monitor import service
from onemap.monitor.public_policy import public_policy

# judged patch BH000004 (合法, 设施农用地, no case) has its centre at (106.2035, 37.9015);
# the open cases are at (106.2015, 37.9005) and (106.20075, 37.9005).
PATCH4 = (106.2035, 37.9016)      # 11 m north of the patch centre


def _case_by_no(store, case_no):
    return next(c for c in service.list_cases(store)["cases"] if c["case_no"] == case_no)


def test_report_merges_with_patch_then_with_its_case(opened, tmp_path):
    store, cases = opened
    r = public.submit_report(store, lon=PATCH4[0], lat=PATCH4[1], description="有人在地里盖房",
                             contact="13912345678", now="2025-03-20T09:00:00",
                             photo_dir=tmp_path / "photos")
    assert set(r) == {"receipt"} and r["receipt"].startswith("JB20250320")
    after = service.list_cases(store)["cases"]
    assert len(after) == len(cases) + 1
    new = next(c for c in after if c["tbbh"] == "BH000004")
    assert new["case_no"] == "WP-640302-2024-0003"          # a 卫片 case of the change patch
    assert new["source"] == "卫片执法" and new["sources"] == ["卫片执法", "群众举报"]
    assert new["data"]["reports"] == [r["receipt"]]
    # a second report 20 m away a week later merges into that case: no new case
    r2 = public.submit_report(store, lon=106.2035, lat=37.90178, description="又在盖",
                              now="2025-03-27")
    after2 = service.list_cases(store)["cases"]
    assert len(after2) == len(after)
    assert _case_by_no(store, new["case_no"])["data"]["reports"] == [r["receipt"],
                                                                      r2["receipt"]]
    detail = service.case_detail(store, new["case_no"])
    assert [e["action"] for e in detail["events"]] == ["open", "report", "report"]
    assert [e["fields"]["how"] for e in detail["events"][1:]] == ["patch", "case"]
    # the queue holds both, with the case they went to
    queue = public.list_reports(store, moderation="pending")
    assert [(q["receipt"], q["case_no"], q["merged"]) for q in queue] == [
        (r["receipt"], new["case_no"], "patch"), (r2["receipt"], new["case_no"], "case")]


def test_cases_open_skips_the_report_runs(_chain_template, tmp_path):
    import shutil

    from onemap.store import open_workspace

    shutil.copy(_chain_template, tmp_path / "ws.gpkg")
    store = open_workspace(tmp_path / "ws.gpkg")
    service.run_changes(store, "DLTB", "2023", "2024", actor="pytest")
    service.judge_changes(store, "2023-2024", as_of="2025-03-01", actor="pytest")
    # a report far from every patch is recorded as a newer judging run of its own
    public.submit_report(store, lon=106.2150, lat=37.9150, description="倾倒", now="2025-03-02")
    got = service.open_cases(store, actor="执法科", now="2025-03-03")
    assert got["run_id"] == 1 and len(got["opened"]) == 2
    # nor is the report run a source of the 问责 ratio (it holds no change patch)
    acc = service.accountability(store, 2025)
    assert [x["changeset"] for x in acc["sources"]] == []
    assert [x["changeset"] for x in service.accountability(store, 2024)["sources"]] == [
        "2023-2024"]
    store.close()


def test_report_far_away_opens_its_own_case(opened):
    store, cases = opened
    r = public.submit_report(store, lon=106.2150, lat=37.9150, description="河边倾倒建筑垃圾",
                             now="2025-04-01")
    mine = [c for c in service.list_cases(store)["cases"] if c["source"] == "群众举报"]
    assert len(mine) == 1
    case = mine[0]
    assert case["case_no"] == "JB-640302-2025-0001" and case["county"] == "640302"
    assert case["tbbh"] == r["receipt"] and case["suggested"] == "待核查"
    assert case["sources"] == ["群众举报"] and case["state"] == "issued"
    # the same place again: merges into that case
    public.submit_report(store, lon=106.2151, lat=37.9150, description="还在倒",
                         now="2025-04-02")
    assert len([c for c in service.list_cases(store)["cases"]
                if c["source"] == "群众举报"]) == 1


def test_report_outside_the_period_does_not_merge(opened):
    store, cases = opened
    # 2026-06-01 is more than 365 days after the judging (2025-03-01) and the cases (2025-03-02)
    public.submit_report(store, lon=106.2015, lat=37.9005, description="同一地点",
                         now="2026-06-01")
    after = service.list_cases(store)["cases"]
    assert len(after) == len(cases) + 1
    assert next(c for c in after if c["source"] == "群众举报")["case_no"] == \
        "JB-640302-2026-0001"


def test_receipt_shows_status_and_answer_only(opened, tmp_path):
    store, cases = opened
    r = public.submit_report(store, lon=106.2150, lat=37.9150, description="占用耕地挖沙",
                             contact="王先生 13800000000", now="2025-04-01")
    receipt = r["receipt"]
    assert public.report_status(store, receipt) == {"receipt": receipt, "status": "已受理",
                                                    "answer": ""}
    case = next(c for c in service.list_cases(store)["cases"] if c["tbbh"] == receipt)
    service.case_transition(store, case["case_no"], "evidence", "王五", now="2025-04-03",
                            officer="王五", date="2025-04-03", notes="现场核查",
                            photos=[make_photo(tmp_path / "p.jpg", lon=106.2150, lat=37.9150)])
    public.answer_report(store, receipt, "已到现场核查，正在依法处理", actor="执法科")
    assert public.report_status(store, receipt) == {
        "receipt": receipt, "status": "核查中", "answer": "已到现场核查，正在依法处理"}
    service.case_transition(store, case["case_no"], "determine", "科长", now="2025-04-05",
                            determination="合法", basis="已办理设施农用地备案")
    service.case_transition(store, case["case_no"], "close", "局长", now="2025-04-06",
                            approver="局长")
    assert public.report_status(store, receipt)["status"] == "已办结"
    public.moderate_report(store, receipt, "驳回", note="重复", actor="审核员")
    assert public.report_status(store, receipt)["status"] == "不予受理"
    with pytest.raises(Exception, match="没有回执号为 JB0 的举报"):
        public.report_status(store, "JB0")


def test_report_refused_leaves_nothing(opened, tmp_path):
    store, cases = opened
    before = store.fingerprint()
    photos = [(f"p{i}.jpg", b"x") for i in range(5)]
    with pytest.raises(InputError, match="最多附 4 张照片"):
        public.submit_report(store, lon=106.2, lat=37.9, description="x", photos=photos,
                             photo_dir=tmp_path / "ph")
    with pytest.raises(InputError, match="请在地图上选择位置（或允许手机定位"):
        public.submit_report(store, lon=None, lat=None, description="x")
    with pytest.raises(InputError, match="请填写举报内容"):
        public.submit_report(store, lon=106.2, lat=37.9, description="  ")
    with pytest.raises(InputError, match="举报内容过长：1001 字，上限 1000 字"):
        public.submit_report(store, lon=106.2, lat=37.9, description="字" * 1001)
    big = [("a.jpg", b"0" * (5 * 2**20 + 1))]
    with pytest.raises(InputError, match="照片 a.jpg 超过 5 MB"):
        public.submit_report(store, lon=106.2, lat=37.9, description="x", photos=big)
    assert store.fingerprint() == before
    assert not (tmp_path / "ph").exists()
    assert len(service.list_cases(store)["cases"]) == len(cases)


def test_report_photo_exif_is_kept(opened, tmp_path):
    store, _ = opened
    photo = make_photo(tmp_path / "p.jpg", lon=106.2151, lat=37.9152, when="2025:03:30 08:00:00")
    data = open(photo, "rb").read()
    r = public.submit_report(store, lon=106.2150, lat=37.9150, description="倾倒",
                             photos=[("现场.jpg", data)], photo_dir=tmp_path / "ph",
                             now="2025-04-01")
    (kept,) = public.list_reports(store)[0]["photos"]
    assert kept["file"] == "01.jpg" and kept["taken_at"] == "2025-03-30T08:00:00"
    assert kept["lon"] == pytest.approx(106.2151, abs=1e-6)
    assert kept["lat"] == pytest.approx(37.9152, abs=1e-6)
    assert (tmp_path / "ph" / r["receipt"] / "01.jpg").read_bytes() == data


def test_report_without_a_place_takes_the_photo_gps(opened, tmp_path):
    store, _ = opened
    photo = make_photo(tmp_path / "p.jpg", lon=106.2151, lat=37.9152)
    r = public.submit_report(store, lon=None, lat=None, description="倾倒",
                             photos=[("现场.jpg", open(photo, "rb").read())],
                             photo_dir=tmp_path / "ph", now="2025-04-01")
    (rep,) = public.list_reports(store)
    assert rep["receipt"] == r["receipt"]
    assert (rep["lon"], rep["lat"]) == pytest.approx((106.2151, 37.9152), abs=1e-6)
    without_gps = make_photo(tmp_path / "q.jpg", gps=False)
    with pytest.raises(InputError, match="请在地图上选择位置（或允许手机定位，或附带有 GPS 位置的照片）"):
        public.submit_report(store, lon=None, lat=None, description="倾倒",
                             photos=[("q.jpg", open(without_gps, "rb").read())],
                             photo_dir=tmp_path / "ph", now="2025-04-01")


def _to_prosecuting(store, case_no, tmp_path, **prosecute):
    service.case_transition(store, case_no, "evidence", "王五", now="2025-03-05",
                            officer="王五", date="2025-03-05", notes="新建房屋",
                            photos=[make_photo(tmp_path / "e.jpg")])
    service.case_transition(store, case_no, "determine", "科长", now="2025-03-10",
                            determination="违法", basis="未批先建")
    service.case_transition(store, case_no, "prosecute", "科长", now="2025-03-12",
                            filing_no="吴自然资立〔2025〕7号", measures="拆除复耕,罚款",
                            **prosecute)


DECISION = {"decision_no": "吴自然资罚〔2025〕12号", "date": "2025-04-01",
            "violation": "张三丰（身份证号 64030219800101123X，电话 13912345678）未经批准占用"
                         "耕地 520 平方米建房",
            "penalty": "责令张三丰限期拆除，恢复耕地原状，并处罚款 10400 元",
            "party": "张三丰"}


def test_major_decision_needs_legal_review(opened, tmp_path):
    store, cases = opened
    case_no = cases[0]["case_no"]
    _to_prosecuting(store, case_no, tmp_path)               # 重大 not stated: treated as 重大
    with pytest.raises(TransitionError, match="不能直接执行「处罚决定」"):
        service.case_transition(store, case_no, "decide", "局长", now="2025-04-01", **DECISION)
    assert _case_by_no(store, case_no)["state"] == "prosecuting"
    with pytest.raises(InputError, match="「法制审核」须填写 reviewer"):
        service.case_transition(store, case_no, "legal_review", "法制科", review_date="2025-03-30",
                                opinion="同意")
    c = service.case_transition(store, case_no, "legal_review", "法制科", now="2025-03-30",
                                reviewer="法制科 赵六", review_date="2025/3/30", opinion="不同意")
    assert c["state"] == "legal_reviewed" and c["data"]["review_date"] == "2025-03-30"
    with pytest.raises(TransitionError, match="不能直接执行「处罚决定」"):
        service.case_transition(store, case_no, "decide", "局长", now="2025-04-01", **DECISION)
    service.case_transition(store, case_no, "legal_review", "法制科", now="2025-03-31",
                            reviewer="法制科 赵六", review_date="2025-03-31", opinion="同意")
    c = service.case_transition(store, case_no, "decide", "局长", now="2025-04-01", **DECISION)
    assert c["state"] == "decided" and c["state_title"] == "已作出处罚决定"


def test_ordinary_decision_without_review_and_its_publication(opened, tmp_path):
    store, cases = opened
    case_no = cases[0]["case_no"]
    _to_prosecuting(store, case_no, tmp_path, major="否")
    service.case_transition(store, case_no, "decide", "局长", now="2025-04-01", **DECISION)
    (pub,) = public.published_decisions(store)
    assert pub == {
        "decision_no": "吴自然资罚〔2025〕12号", "date": "2025-04-01",
        "violation": "张某（身份证号 ******************，电话 ***********）未经批准占用"
                     "耕地 520 平方米建房",
        "penalty": "责令张某限期拆除，恢复耕地原状，并处罚款 10400 元",
        "place": "甲村", "party": "张某"}


def test_policy_file_is_checked(tmp_path):
    bad = tmp_path / "public.yaml"
    bad.write_text("version: x\nlayers: {}\n", encoding="utf-8")
    with pytest.raises(Exception, match="数据文件 public.yaml"):
        public_policy(bad)
