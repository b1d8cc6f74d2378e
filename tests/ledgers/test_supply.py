"""批次 and 供地 registers, 批而未供 (spatial) and 闲置土地 (exact-date boundaries), worked by hand.

Every polygon is a longitude–latitude box between 37.95°N and 37.952°N, so its CGCS2000 area has the
closed form ``S = b²/2 · Δλ · [q(φ₂) − q(φ₁)]`` (:func:`box_area`), computed here, not by the engine;
areas of boxes of one latitude band are proportional to their longitude spans.
"""

from __future__ import annotations

import math
import shutil
from datetime import date

import geopandas as gpd
import openpyxl
import pytest
import shapely

from onemap.app.ledgers import act, get_record, import_records
from onemap.app.supply import (
    disposal_report,
    idle_report,
    import_sample,
    open_idle_cases,
    supply_track,
    unsupplied_report,
)
from onemap.errors import InputError
from onemap.ledgers.flow import TransitionError
from onemap.ledgers.supply import IdleRule, after_years, idle_status, load_supply_config
from onemap.store import VersionMeta, init_workspace, open_workspace

S, N = 37.95, 37.952


def box_area(dlon: float, lat1: float = S, lat2: float = N) -> float:
    """Area (m²) of a latitude–longitude box on the CGCS2000 ellipsoid (closed form)."""
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return a * a * (1 - e2) / 2 * math.radians(dlon) * (q(lat2) - q(lat1))


def cents(m2: float) -> float:
    return round(m2, 2)


def lon_box(w: float, e: float) -> shapely.Polygon:
    return shapely.box(w, S, e, N)


BATCHES = [  # A and B side by side in 640302; C alone in 640323 with 1 000 m² 核减
    {"批准文号": "宁政土批〔2021〕12号", "批次名称": "A 批次", "批准机关": "宁夏回族自治区人民政府",
     "批准日期": "2021-05-10", "行政区代码": "640302", "核减面积": 0, "geometry": lon_box(106.000, 106.002)},
    {"批准文号": "宁政土批〔2022〕3号", "批次名称": "B 批次", "批准机关": "宁夏回族自治区人民政府",
     "批准日期": "2022-03-01", "行政区代码": "640302", "核减面积": 0, "geometry": lon_box(106.002, 106.004)},
    {"批准文号": "宁政土批〔2020〕30号", "批次名称": "C 批次", "批准机关": "宁夏回族自治区人民政府",
     "批准日期": "2020-06-30", "行政区代码": "640323", "核减面积": 1000, "geometry": lon_box(106.010, 106.012)},
]

SUPPLY = {"供地方式": "出让", "土地用途": "工业用地", "受让人": "某某公司", "约定动工日期": "2022-12-01",
          "实际动工日期": "2022-12-01", "行政区代码": "640302"}
SUPPLIES = [
    # S1 straddles A and B (half in each); S2 lies inside S1's part in A; S3 inside C; S4 outside every batch
    {**SUPPLY, "电子监管号": "S1", "合同签订日期": "2022-06-01", "成交价款（万元）": 100,
     "geometry": lon_box(106.001, 106.003)},
    {**SUPPLY, "电子监管号": "S2", "合同签订日期": "2022-07-01", "成交价款（万元）": 50,
     "geometry": lon_box(106.0015, 106.002)},
    {**SUPPLY, "电子监管号": "S3", "合同签订日期": "2023-01-01", "成交价款（万元）": 80, "行政区代码": "640323",
     "实际动工日期": None, "geometry": lon_box(106.010, 106.0105)},
    {**SUPPLY, "电子监管号": "S4", "合同签订日期": "2022-01-01", "成交价款（万元）": 10,
     "geometry": lon_box(106.020, 106.021)},
]


def write(tmp_path, name, rows):
    path = tmp_path / name
    gpd.GeoDataFrame(rows, crs=4490).to_file(path, driver="GeoJSON")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The workspace with the batches and supplies, built once; each test gets its own copy."""
    d = tmp_path_factory.mktemp("supply")
    ws = init_workspace(d / "ws.gpkg", name="测试")
    import_records(ws, "建设用地批次", write(d, "pc.geojson", BATCHES), actor="张三")
    import_records(ws, "供地", write(d, "gd.geojson", SUPPLIES), actor="张三")
    return d / "ws.gpkg"


@pytest.fixture
def world(built, tmp_path):
    shutil.copy(built, tmp_path / "ws.gpkg")
    return open_workspace(tmp_path / "ws.gpkg")


# ---------------------------------------------------------------------------- registers
def test_batch_and_supply_areas_are_ellipsoidal_from_the_geometry(world):
    b = get_record(world, "batches", "宁政土批〔2021〕12号")["values"]
    assert b["PZMJ"] == pytest.approx(cents(box_area(0.002)), abs=0.01)
    assert (b["PZRQ"], b["XZQDM"], b["HJMJ"]) == ("2021-05-10", "640302", 0)
    s = get_record(world, "supplies", "S1")["values"]
    assert s["GDMJ"] == pytest.approx(cents(box_area(0.002)), abs=0.01)
    assert (s["GDFS"], s["CJJK"], s["HTRQ"], s["YDDGRQ"]) == ("出让", 100, "2022-06-01", "2022-12-01")


def test_supply_import_refusals_name_row_and_field_and_write_nothing(world, tmp_path):
    before = world.fingerprint()
    rows = [{**SUPPLIES[0], "电子监管号": "S9", "供地方式": "拍卖"},
            {**SUPPLIES[0], "电子监管号": "S1"}]
    with pytest.raises(InputError) as exc:
        import_records(world, "供地", write(tmp_path, "bad.geojson", rows), actor="张三")
    msg = str(exc.value)
    assert "第 1 个要素：GDFS（供地方式）「拍卖」不在代码表（出让、划拨、租赁、作价出资）" in msg
    assert "第 2 个要素：DZJGH（电子监管号）S1 已在台账中" in msg
    csv = tmp_path / "gd.csv"
    csv.write_text("电子监管号,供地方式,土地用途,受让人,合同签订日期,约定动工日期,行政区代码\n"
                   "S8,划拨,公共管理与公共服务用地,某局,2022-01-01,2022-06-01,640302\n", encoding="utf-8")
    with pytest.raises(InputError, match="第 2 行：缺少几何图形"):
        import_records(world, "供地", csv, actor="张三")
    assert world.fingerprint() == before


# ---------------------------------------------------------------------------- 批而未供
def test_unsupplied_per_batch_splits_a_straddling_supply_and_counts_overlaps_once(world, tmp_path):
    got = unsupplied_report(world, on="2025-03-01", xlsx=tmp_path / "u.xlsx")
    rows = {r["batch"]: r for r in got["rows"]}
    half = cents(box_area(0.001))
    a = rows["宁政土批〔2021〕12号"]  # S1's west half + S2 (inside it): 0.001° of 0.002°
    assert (a["approved_m2"], a["supplied_m2"]) == (pytest.approx(cents(box_area(0.002)), abs=0.01),
                                                    pytest.approx(half, abs=0.01))
    assert a["unsupplied_m2"] == pytest.approx(a["approved_m2"] - a["supplied_m2"], abs=0.001)
    assert a["rate"] == 0.5
    b = rows["宁政土批〔2022〕3号"]  # S1's east half
    assert b["supplied_m2"] == pytest.approx(half, abs=0.01) and b["rate"] == 0.5
    c = rows["宁政土批〔2020〕30号"]  # S3: a quarter, and 1 000 m² 核减
    assert c["rate"] == 0.25
    assert c["unsupplied_m2"] == pytest.approx(cents(box_area(0.002)) - cents(box_area(0.0005)) - 1000,
                                               abs=0.02)
    # 近5年 = 2020–2024 (the date's year not counted): all three, (0.001 + 0.001 + 0.0005) / 0.006
    rec = got["recent"]
    assert rec["years"] == [2020, 2021, 2022, 2023, 2024] and rec["batches"] == 3
    assert rec["rate"] == round(2.5 / 6, 4) and rec["meets"] is False and rec["floor"] == 0.6
    assert got["total"]["supplied_m2"] == pytest.approx(a["supplied_m2"] + b["supplied_m2"] + c["supplied_m2"],
                                                        abs=1e-9)
    wb = openpyxl.load_workbook(tmp_path / "u.xlsx")
    assert wb.sheetnames == ["按批次"]


def test_unsupplied_on_a_date_takes_batches_approved_and_supplies_signed_by_then(world):
    got = unsupplied_report(world, on="2022-06-15", by="year")
    # B (2022-03-01) is in; S1 (2022-06-01) counts, S2 (07-01) and S3 (2023) do not
    assert [(r["year"], r["batches"], r["rate"]) for r in got["rows"]] == [(2020, 1, 0.0), (2021, 1, 0.5),
                                                                         (2022, 1, 0.5)]
    early = unsupplied_report(world, on="2021-12-31", by="county")
    assert [(r["county"], r["batches"], r["rate"]) for r in early["rows"]] == [("640302", 1, 0.0),
                                                                            ("640323", 1, 0.0)]
    assert early["recent"]["years"] == [2016, 2017, 2018, 2019, 2020]


def test_unsupplied_by_county_sums_the_batches_to_the_cent(world):
    per = {r["batch"]: r for r in unsupplied_report(world, on="2025-03-01")["rows"]}
    got = unsupplied_report(world, on="2025-03-01", by="county")
    [ningxia, tongxin] = got["rows"]
    assert ningxia["county"] == "640302" and ningxia["batches"] == 2
    assert round(ningxia["approved_m2"] * 100) == round(per["宁政土批〔2021〕12号"]["approved_m2"] * 100) + round(
        per["宁政土批〔2022〕3号"]["approved_m2"] * 100)
    assert ningxia["rate"] == 0.5 and tongxin["rate"] == 0.25


def test_a_withdrawn_batch_and_a_revoked_supply_leave_the_report(world):
    act(world, "供地", "S3", "revoke", actor="张三", fields={"notes": "无偿收回"})
    act(world, "建设用地批次", "宁政土批〔2021〕12号", "withdraw", actor="张三", fields={"notes": "撤回"})
    got = unsupplied_report(world, on="2025-03-01")
    assert [(r["batch"], r["rate"]) for r in got["rows"]] == [("宁政土批〔2022〕3号", 0.5),
                                                              ("宁政土批〔2020〕30号", 0.0)]


def test_unsupplied_refuses_a_bad_option_and_a_bad_date(world):
    with pytest.raises(InputError, match="--by 的取值「town」不对"):
        unsupplied_report(world, by="town")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="--date 的取值「2025-13-01」不是有效日期"):
        unsupplied_report(world, on="2025-13-01")


# ---------------------------------------------------------------------------- 闲置
RULE = load_supply_config().idle


def status(values, on, area=10_000.0, state="supplied", rule=RULE):
    return idle_status(values, area, state, date.fromisoformat(on), rule)


NOT_STARTED = {"YDDGRQ": "2023-03-15", "CJJK": 1234.57}


def test_not_started_one_and_two_year_boundaries_on_exact_dates():
    day_before = status(NOT_STARTED, "2024-03-14")
    assert (day_before["status"], day_before["idle_days"], day_before["fee_yuan"]) == ("未到期", 365, None)
    one = status(NOT_STARTED, "2024-03-15")  # 2024 has 29 February: 366 days
    assert (one["status"], one["idle_days"], one["one_year_on"]) == ("闲置满一年", 366, "2024-03-15")
    assert one["fee_yuan"] == 2_469_140.00  # 1234.57 万元 × 10 000 × 20 %
    last = status(NOT_STARTED, "2025-03-14")
    assert (last["status"], last["idle_days"], last["recover"]) == ("闲置满一年", 730, False)
    two = status(NOT_STARTED, "2025-03-15")
    assert (two["status"], two["idle_days"], two["fee_yuan"], two["recover"]) == ("闲置满两年", 731, None, True)
    assert status(NOT_STARTED, "2023-03-01")["idle_days"] == 0
    assert status(NOT_STARTED, "2023-03-01")["status"] == "未到期"


def test_day_after_boundary_and_29_february():
    later = IdleRule(**{**RULE.model_dump(), "boundary": "day_after"})
    assert status(NOT_STARTED, "2024-03-15", rule=later)["status"] == "未到期"
    assert status(NOT_STARTED, "2024-03-16", rule=later)["status"] == "闲置满一年"
    leap = {"YDDGRQ": "2020-02-29", "CJJK": 10}
    assert after_years(date(2020, 2, 29), 1) == date(2021, 2, 28)
    assert status(leap, "2021-02-27")["status"] == "未到期"
    got = status(leap, "2021-02-28")
    assert (got["status"], got["fee_yuan"]) == ("闲置满一年", 20_000.00)


STOPPED = {"YDDGRQ": "2022-01-01", "SJDGRQ": "2022-01-10", "TGRQ": "2023-06-01", "CJJK": 333.33}


def test_started_then_stopped_is_idle_only_below_a_third_developed_or_a_quarter_invested():
    low_pay = {**STOPPED, "KFMJ": 10_000, "YTZE": 24, "ZTZE": 100}  # 24 % invested
    got = status(low_pay, "2024-06-01")
    assert (got["status"], got["idle_since"], got["idle_days"], got["fee_yuan"]) == (
        "闲置满一年", "2023-06-01", 366, 666_660.00)
    assert got["reason"] == "已动工后停工，投资不足"
    assert status(low_pay, "2024-05-31")["status"] == "未到期"
    exact = {**STOPPED, "KFMJ": 10_000, "YTZE": 25, "ZTZE": 100}  # 25 % is not below 25 %
    assert status(exact, "2025-06-01")["status"] == "正常"
    third = {**STOPPED, "KFMJ": 3333, "YTZE": 100, "ZTZE": 100}  # 3 333 of 10 000 m² < 1/3
    assert status(third, "2025-06-01")["status"] == "闲置满两年"
    assert status({**third, "KFMJ": 3334}, "2025-06-01")["status"] == "正常"
    resumed = {**third, "FGRQ": "2023-09-01"}
    assert status(resumed, "2025-06-01")["status"] == "正常"
    assert status(resumed, "2023-08-31")["status"] == "未到期"  # stopped, not resumed yet
    unknown = status(STOPPED, "2025-06-01")
    assert (unknown["status"], unknown["reason"]) == ("正常", "已动工后停工，未填已开发面积或投资额，无法判定")


def test_started_or_completed_land_is_normal():
    assert status({"YDDGRQ": "2020-01-01", "SJDGRQ": "2020-03-01"}, "2025-01-01")["status"] == "正常"
    assert status({"YDDGRQ": "2020-01-01"}, "2025-01-01", state="completed")["status"] == "正常"
    # started after the day asked about: not started on that day
    assert status({"YDDGRQ": "2020-01-01", "SJDGRQ": "2021-06-01"}, "2021-01-01")["status"] == "闲置满一年"


def test_idle_report_reads_the_register_for_any_day(world):
    got = idle_report(world, on="2023-12-01")
    # S3 (约定动工 2022-12-01, not started) is idle one year that day: 80 万元 × 20 % = 160 000 元
    assert {r["id"]: r["status"] for r in got["rows"]} == {"S1": "正常", "S2": "正常", "S3": "闲置满一年",
                                                            "S4": "正常"}
    assert (got["fee_total_yuan"], got["counts"]) == (160_000.00, {"正常": 3, "闲置满一年": 1})
    assert idle_report(world, on="2022-06-30")["counts"] == {"未到期": 2}  # S4, S1: 动工 2022-12-01 not yet
    act(world, "供地", "S3", "start", actor="张三", fields={"SJDGRQ": "2024-01-10"})
    assert idle_report(world, on="2024-06-01")["counts"] == {"正常": 4}
    assert idle_report(world, on="2023-12-01")["counts"] == {"正常": 3, "闲置满一年": 1}  # any day again


# ---------------------------------------------------------------------------- 闲置土地 cases
def test_idle_cases_come_from_the_supplies_once_and_follow_the_statutory_flow(world):
    got = open_idle_cases(world, on="2023-12-01", actor="张三", now="2023-12-05")
    assert (got["created"], got["existing"]) == (["S3"], [])
    again = open_idle_cases(world, on="2023-12-20", actor="张三", now="2023-12-20")
    assert (again["created"], again["existing"]) == ([], ["S3"])  # never registered twice
    case = get_record(world, "闲置土地", "S3", now="2023-12-05")
    v = case["values"]
    assert (v["XZZT"], v["XZQSRQ"], v["XZTS"], v["XZF"], v["CJJK"], v["XZQDM"]) == (
        "闲置满一年", "2022-12-01", 365, 160_000.0, 80, "640323")
    assert v["GDMJ"] == pytest.approx(cents(box_area(0.0005)), abs=0.01) and case["has_geometry"]
    assert (case["state_title"], case["due_at"][:10]) == ("调查认定", "2024-01-04")  # 30 days
    act(world, "idle", "S3", "notify", actor="张三", fields={"notes": "已送达告知书"}, now="2023-12-20")
    act(world, "idle", "S3", "determine", actor="张三", fields={"RDSWH": "吴自然资闲认〔2024〕1号",
                                                               "XZYY": "企业原因"}, now="2024-01-05")
    with pytest.raises(TransitionError, match="XZZT 为「闲置满一年」，不能执行「处置方案：无偿收回」"):
        act(world, "idle", "S3", "plan_recover", actor="张三", fields={"CZFS": "无偿收回"})
    with pytest.raises(TransitionError, match="XZYY 为「企业原因」，不能执行「处置方案：政府原因」"):
        act(world, "idle", "S3", "plan_government", actor="张三", fields={"CZFS": "置换土地"})
    with pytest.raises(InputError, match="CZFS 的取值 无偿收回 不在允许范围（征缴土地闲置费）"):
        act(world, "idle", "S3", "plan_fee", actor="张三", fields={"CZFS": "无偿收回"})
    act(world, "idle", "S3", "plan_fee", actor="张三", fields={"CZFS": "征缴土地闲置费"}, now="2024-01-10")
    got = act(world, "idle", "S3", "dispose", actor="张三", fields={"JDSWH": "吴自然资征〔2024〕1号"},
              now="2024-01-15")
    assert (got["state_title"], got["due_at"][:10]) == ("处置中", "2024-02-14")  # fee due in 30 days
    got = act(world, "idle", "S3", "close", actor="张三", fields={"JARQ": "2024-02-01", "notes": "已缴清"},
              now="2024-02-01")
    assert (got["state_title"], got["allowed_actions"]) == ("结案", [])


def test_a_government_caused_case_gets_the_alternatives_and_the_extended_due_date(world):
    open_idle_cases(world, on="2024-12-01", actor="张三", now="2024-12-01")  # S3: 闲置满两年 by then
    assert get_record(world, "idle", "S3")["values"]["XZZT"] == "闲置满两年"
    act(world, "idle", "S3", "notify", actor="张三", fields={"notes": "告知"})
    act(world, "idle", "S3", "determine", actor="张三", fields={"RDSWH": "认定〔2024〕2号", "XZYY": "政府原因"})
    with pytest.raises(TransitionError, match="XZYY 为「政府原因」，不能执行「处置方案：无偿收回」"):
        act(world, "idle", "S3", "plan_recover", actor="张三", fields={"CZFS": "无偿收回"})
    act(world, "idle", "S3", "plan_government", actor="张三", fields={"CZFS": "延长动工开发期限"})
    got = act(world, "idle", "S3", "dispose", actor="张三", fields={"JDSWH": "延期〔2025〕1号",
                                                                   "YQZ": "2025-12-01"}, now="2025-01-02")
    assert got["due_at"][:10] == "2025-12-01" and got["values"]["YQZ"] == "2025-12-01"


# ---------------------------------------------------------------------------- sample records
def test_sample_records_go_through_the_import_and_show_idle_land(tmp_path):
    ws = init_workspace(tmp_path / "s.gpkg", name="测试")
    xzq = gpd.GeoDataFrame({"XZQDM": ["640302", "640323"], "XZQMC": ["利通区", "盐池县"]},
                           geometry=[shapely.box(106.0, 37.9, 106.2, 38.0), shapely.box(107.0, 37.7, 107.2, 37.8)],
                           crs=4490)
    ws.write_version("XZQ", "2023", xzq, VersionMeta(synthetic=True))
    got = import_sample(ws, seed=7)
    assert got == {"batches": 8, "supplies": 10, "base_prices": 18}  # per county: 4, 5, 3 用途 × 3 级别
    report = unsupplied_report(ws, on="2026-01-01", by="county")
    assert [r["county"] for r in report["rows"]] == ["640302", "640323"]
    assert all(0 < r["rate"] < 1 for r in report["rows"])
    # two supplies per county are never started: idle two years or more by 2030
    assert idle_report(ws, on="2030-01-01")["counts"] == {"正常": 6, "闲置满两年": 4}
    levels = get_record(ws, "base_prices", "640302-商服-2")
    assert (levels["values"]["JZDJ"], levels["values"]["HYL"], levels["values"]["BZ"]) == (
        1800, 0.06, "模拟数据（onemap sample 生成，非真实记录）")
    with pytest.raises(InputError, match="已在台账中"):
        import_sample(ws, seed=7)  # a second run is refused, nothing doubled


# ---------------------------------------------------------------------------- disposal and 增存挂钩
def test_disposal_of_unsupplied_land_in_a_year(world):
    got = disposal_report(world, year=2022)
    # stock on 2021-12-31: A (approved 2021) and C (2020) wholly unsupplied; B (2022) is not stock yet.
    # 2022: S1 and S2 supply 0.001° of A; nothing in C; nothing is idle on 2021-12-31.
    rows = {r["county"]: r for r in got["rows"]}
    b = cents(box_area(0.002))
    assert rows["640302"]["unsupplied_stock_m2"] == pytest.approx(b, abs=0.01)
    assert rows["640302"]["unsupplied_disposed_m2"] == pytest.approx(cents(box_area(0.001)), abs=0.02)
    assert rows["640302"]["rate"] == 0.5 and rows["640302"]["meets"] is True and rows["640302"]["target"] == 0.2
    assert rows["640302"]["quota_m2"] == rows["640302"]["unsupplied_disposed_m2"]  # 1 : 1 (placeholder ratio)
    assert (rows["640323"]["unsupplied_stock_m2"], rows["640323"]["rate"]) == (pytest.approx(b - 1000, abs=0.01), 0)
    assert rows["640323"]["meets"] is False


def test_disposal_of_idle_land_counts_the_cases_closed_in_the_year(world):
    open_idle_cases(world, on="2023-12-01", actor="张三")  # S3 (640323), idle one year from 2023-12-01
    for action, fields in (("notify", {"notes": "告知"}), ("determine", {"RDSWH": "认定1号", "XZYY": "企业原因"}),
                           ("plan_fee", {"CZFS": "征缴土地闲置费"}), ("dispose", {"JDSWH": "征缴1号"}),
                           ("close", {"JARQ": "2024-02-01", "notes": "已缴清"})):
        act(world, "idle", "S3", action, actor="张三", fields=fields)
    row = next(r for r in disposal_report(world, year=2024)["rows"] if r["county"] == "640323")
    b, q = cents(box_area(0.002)), cents(box_area(0.0005))
    # stock on 2023-12-31: C unsupplied b − q − 1 000 and S3 idle q; 2024: S3's case closed → q disposed
    assert (row["idle_stock_m2"], row["idle_disposed_m2"]) == (pytest.approx(q, abs=0.01), pytest.approx(q, abs=0.01))
    assert row["unsupplied_stock_m2"] == pytest.approx(b - q - 1000, abs=0.02)
    assert row["rate"] == pytest.approx(q / (b - 1000), abs=1e-4) and row["meets"] is True
    assert disposal_report(world, year=2025)["rows"][1]["idle_disposed_m2"] == 0  # closed in 2024, not 2025


# ---------------------------------------------------------------------------- XLSX/CSV + a geometry file
def test_a_table_with_a_separate_geometry_file_is_matched_on_the_key(workspace, tmp_path):
    table = tmp_path / "供地.csv"
    table.write_text("电子监管号,供地方式,土地用途,受让人,成交价款（万元）,合同签订日期,约定动工日期,行政区代码\n"
                     "S1,出让,工业用地,甲公司,100,2022-06-01,2022-12-01,640302\n"
                     "S2,划拨,公共管理与公共服务用地,乙局,0,2022-07-01,2023-01-01,640302\n", encoding="gbk")
    shapes = gpd.GeoDataFrame({"DZJGH": ["S2", "S1"]}, geometry=[lon_box(106.002, 106.003), lon_box(106.0, 106.002)],
                              crs=4490)
    shapes.to_file(tmp_path / "gd.geojson", driver="GeoJSON")
    extra = gpd.GeoDataFrame({"电子监管号": ["S1", "S3"]}, geometry=[lon_box(106.0, 106.002)] * 2, crs=4490)
    extra.to_file(tmp_path / "extra.geojson", driver="GeoJSON")
    before = workspace.fingerprint()
    with pytest.raises(InputError, match="第 2 个要素：电子监管号 S3 在表格中没有对应的行"):
        import_records(workspace, "供地", table, actor="张三", geometry=tmp_path / "extra.geojson")
    assert workspace.fingerprint() == before
    import_records(workspace, "供地", table, actor="张三", geometry=tmp_path / "gd.geojson")
    assert get_record(workspace, "supplies", "S1")["values"]["GDMJ"] == pytest.approx(cents(box_area(0.002)),
                                                                                     abs=0.01)
    assert get_record(workspace, "supplies", "S2")["values"]["GDMJ"] == pytest.approx(cents(box_area(0.001)),
                                                                                     abs=0.01)


# ---------------------------------------------------------------------------- 批供用补查
def test_track_follows_each_batch_from_approval_to_findings(world, tmp_path):
    # new construction: K1 in A off every supply (未供先用 0.0005°), K2 inside S3 (not started), K3 over B's east
    # edge (0.0002° inside B off the supplies, 0.0002° outside every batch: 少批多占); K4 is not new construction
    bhtb = gpd.GeoDataFrame({"tbbh": ["K1", "K2", "K3", "K4"], "new_construction": [True, True, True, False]},
                            geometry=[lon_box(106.0, 106.0005), lon_box(106.010, 106.0102),
                                      lon_box(106.0038, 106.0042), lon_box(106.001, 106.002)], crs=4490)
    world.write_version("BHTB", "2023-2024", bhtb, VersionMeta())
    gpd.GeoDataFrame({"占用编号": ["ZY-1"], "项目名称": ["甲"], "占用类型": ["建设"], "行政区代码": ["640302"],
                      "占用耕地面积": [100], "占用水田面积": [0]}, geometry=[lon_box(106.0001, 106.0002)],
                     crs=4490).to_file(tmp_path / "zy.geojson", driver="GeoJSON")
    import_records(world, "耕地占用", tmp_path / "zy.geojson", actor="张三")
    got = supply_track(world, on="2025-03-01")
    assert got["changes"] == {"dataset": "BHTB", "version": "2023-2024"}
    rows = {r["batch"]: r for r in got["rows"]}
    a, b, c = rows["宁政土批〔2021〕12号"], rows["宁政土批〔2022〕3号"], rows["宁政土批〔2020〕30号"]
    assert [(s["id"], s["started"]) for s in a["supplies"]] == [("S1", True), ("S2", True)]
    assert a["unsupplied_use_m2"] == pytest.approx(cents(box_area(0.0005)), abs=0.02)
    assert (a["over_use_m2"], a["construction_on_supplied_m2"], a["occupations"]) == (0, 0, ["ZY-1"])
    assert a["flags"] == [f"未供先用 {a['unsupplied_use_m2']:,.2f} 平方米"]
    assert b["unsupplied_use_m2"] == pytest.approx(cents(box_area(0.0002)), abs=0.02)
    assert b["over_use_m2"] == pytest.approx(cents(box_area(0.0002)), abs=0.02)
    assert c["supplies"][0]["construction_m2"] == pytest.approx(cents(box_area(0.0002)), abs=0.02)
    assert c["flags"] == ["供地 S3 已见建设但未登记动工"] and c["started"] == 0
