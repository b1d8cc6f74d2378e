"""增减挂钩 rules on hand-made registers and a hand-made DLTB.

DLTB (``builders.dltb_frame``): six 0.002° boxes along 37.95–37.952°N from 106.200°E, codes
0101 0102 0103 0301 0702 1205; in the base 2023 patch 5 is also 0702 (农村宅基地). In 2024 patch 4
is reclaimed to 0103, patch 5 stays 0702. YJJBNTTB is patch 0's box. Official areas of lat/lon boxes
on the CGCS2000 ellipsoid are computed in closed form (``box_area``).

拆旧 (CJDK): CJ-1 = patch 4 (accepted, passes both); CJ-2 = patch 3 林地 (not 建设用地: share 0);
CJ-3 = patch 5 (accepted but still 0702 in 2024: 耕地 share 0); CJ-4 = east half of patch 3 + west
half of patch 4 (建设用地 share 0.5). 建新 (JXDK): JX-1 north of patch 1 (clean); JX-2 straddles
patch 0's north edge (占永久基本农田 on 0.001° × 0.002°); JX-3 overlaps CJ-1 on 0.001° × 0.001°
and only touches CJ-3 along its edge (no area, no finding);
JX-4 far east (for 项目区 XMQ-3).

Declared areas (m²) and the balance on 2025-04-15, warn 90 days:
XMQ-1 (周转 3000, due 2025-06-30): accepted 拆旧 CJ-1 4000 + CJ-3 2500 = 6500, pending CJ-2 1500;
  建新 JX-1 3000 + JX-2 1200 = 4200 → 节余 2300; trades JY-1 2000 (成交) + JY-2 500 = 2500 → oversold 200;
  周转 in use 0 → 正常 although due in 76 days.
XMQ-2 (周转 1000, due 2025-03-01): pending CJ-4 800; 建新 JX-3 1500 → 节余 −1500, in use 1500 >
  1000 (超用 500) and overdue; trade JY-3 9999 cancelled (ignored).
XMQ-3 (周转 2000, due 2025-06-30): 建新 JX-4 600 → in use 600, due in 76 days ≤ 90 → 即将到期.
The trades are imported before the 建新 plots (when XMQ-1's 节余 is 6500), so the report still finds the
oversold 项目区; a trade naming an unknown 项目区 is refused at import (tests below).
"""

import math

import geopandas as gpd
import pytest
import shapely

from builders import dltb_frame
from onemap.app import ledgers as uc
from onemap.app import linkage as lk
from onemap.errors import InputError
from onemap.store import VersionMeta, audit


def box_area(lat1: float, lat2: float, dlon: float) -> float:
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return a * a * (1 - e2) / 2 * math.radians(dlon) * (q(lat2) - q(lat1))


X0, Y0, S = 106.20, 37.95, 0.002
NOW = "2025-04-15"


def patch(i: int, west: float = 0.0, east: float = 1.0, south: float = 0.0, north: float = 1.0):
    return shapely.box(X0 + (i + west) * S, Y0 + south * S, X0 + (i + east) * S, Y0 + north * S)


def write_geo(tmp_path, name, rows, geoms):
    path = tmp_path / name
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490").to_file(path, driver="GeoJSON")
    return path


@pytest.fixture
def scene(workspace, tmp_path, write_csv):
    base = dltb_frame(6)
    base.loc[5, ["DLBM", "DLMC", "CZCSXM"]] = ["0702", "农村宅基地", "203"]
    later = base.copy()
    later.loc[4, ["DLBM", "DLMC", "KCDLBM", "KCXS", "CZCSXM"]] = ["0103", "旱地", "1203", 0.05, ""]
    workspace.write_version("DLTB", "2023", base, VersionMeta())
    workspace.write_version("DLTB", "2024", later, VersionMeta())
    jbnt = gpd.GeoDataFrame({"BSM": ["1"], "YSDM": ["2001020100"]}, geometry=[patch(0)], crs="EPSG:4490")
    workspace.write_version("YJJBNTTB", "2023", jbnt, VersionMeta())
    areas = [{"项目区编号": n, "项目区名称": f"项目区{n}", "行政区代码": "640302", "批准文号": f"宁自然资〔2023〕{k}号",
              "周转指标": q, "归还期限": due}
             for k, (n, q, due) in enumerate([("XMQ-1", 3000, "2025-06-30"), ("XMQ-2", 1000, "2025-03-01"),
                                               ("XMQ-3", 2000, "2025-06-30")], start=1)]
    uc.import_records(workspace, "ZJXMQ", write_csv("项目区.csv", areas), actor="t", now="2025-01-01")
    old = [("CJ-1", "XMQ-1", 4000, "已验收", patch(4)), ("CJ-2", "XMQ-1", 1500, "待核验", patch(3)),
           ("CJ-3", "XMQ-1", 2500, "已验收", patch(5)), ("CJ-4", "XMQ-2", 800, "待核验",
                                                          shapely.box(X0 + 3.5 * S, Y0, X0 + 4.5 * S, Y0 + S))]
    rows = [{"地块编号": n, "项目区编号": a, "行政区代码": "640302", "复垦前地类": "0702", "拆旧面积": m,
             "新增耕地面积": m, "状态": st, "验收日期": "2024-10-01" if st == "已验收" else None}
            for n, a, m, st, _ in old]
    uc.import_records(workspace, "CJDK", write_geo(tmp_path, "cj.geojson", rows, [g for *_, g in old]),
                      actor="t", now="2025-01-01")
    # trades before the 建新 plots: sold within the 节余 then, above it once they are in
    trades = [("JY-1", "XMQ-1", 2000, "成交"), ("JY-2", "XMQ-1", 500, "登记"), ("JY-3", "XMQ-2", 9999, "撤销")]
    rows = [{"交易编号": n, "项目区编号": a, "行政区代码": "640302", "调出方": "利通区", "调入方": "银川市金凤区",
             "交易面积": m, "单价": 30, "总价": round(m / 666.67 * 30, 2), "交易日期": "2025-02-01",
             "交易范围": "市内", "状态": st} for n, a, m, st in trades]
    uc.import_records(workspace, "ZBJY", write_csv("交易.csv", rows), actor="t", now="2025-01-01")
    new = [("JX-1", "XMQ-1", 3000, shapely.box(X0 + S, Y0 + 1.5 * S, X0 + 2 * S, Y0 + 2 * S)),
           ("JX-2", "XMQ-1", 1200, patch(0, south=0.5, north=1.5)),
           ("JX-3", "XMQ-2", 1500, patch(4, west=0.5, east=1.0, south=0.5, north=1.5)),
           ("JX-4", "XMQ-3", 600, shapely.box(106.30, 37.95, 106.301, 37.951))]
    rows = [{"地块编号": n, "项目区编号": a, "行政区代码": "640302", "用途": "安置", "建新面积": m, "占用耕地面积": 0}
            for n, a, m, _ in new]
    uc.import_records(workspace, "JXDK", write_geo(tmp_path, "jx.geojson", rows, [g for *_, g in new]),
                      actor="t", now="2025-01-01")
    return workspace


def test_balance_per_project_area(scene):
    before = scene.fingerprint()
    got = lk.balance(scene, now=NOW)
    assert scene.fingerprint() == before  # a report writes nothing
    rows = {r["project_area"]: r for r in got["rows"]}
    pick = ("quota_m2", "old_accepted_m2", "old_pending_m2", "new_m2", "surplus_m2", "sold_m2", "available_m2",
            "quota_used_m2", "deadline")
    assert [rows["XMQ-1"][k] for k in pick] == [3000, 6500, 1500, 4200, 2300, 2500, -200, 0, "正常"]
    assert [rows["XMQ-2"][k] for k in pick] == [1000, 0, 800, 1500, -1500, 0, -1500, 1500, "已逾期"]
    assert [rows["XMQ-3"][k] for k in pick] == [2000, 0, 0, 600, -600, 0, -600, 600, "即将到期"]
    assert got["totals"]["surplus_m2"] == 2300 - 1500 - 600
    found = [(f["rule"], f["record"], f["level"], f.get("area_m2")) for f in got["findings"]]
    assert found == [("oversold", "XMQ-1", "违规", 200),
                     ("quota_exceeded", "XMQ-2", "违规", 500),
                     ("quota_due", "XMQ-2", "违规", 1500),
                     ("quota_due", "XMQ-3", "预警", 600)]
    msgs = {(f["rule"], f["record"]): f["message"] for f in got["findings"]}
    assert msgs[("oversold", "XMQ-1")] == "项目区 XMQ-1 已交易 2,500.00 平方米，超过节余 2,300.00 平方米"
    assert msgs[("quota_due", "XMQ-2")] == (
        "项目区 XMQ-2 尚有周转指标 1,500.00 平方米未归还，归还期限 2025-03-01（已逾期）")


def test_check_every_spatial_rule(scene):
    got = lk.check(scene, base="2023", now=NOW)
    assert got["source"] == {"dataset": "DLTB", "base": "2023", "later": "2024", "protected": "YJJBNTTB 2023"}
    assert got["counts"] == {"area": 3, "old": 4, "new": 4, "trade": 3} and got["skipped"] == []
    spatial = [f for f in got["findings"] if f["rule"] in ("old_not_construction", "old_not_cultivated",
                                                            "new_in_farmland", "old_new_overlap")]
    assert [(f["rule"], f["record"]) for f in spatial] == [
        ("old_not_construction", "CJ-2"), ("old_not_construction", "CJ-4"), ("old_not_cultivated", "CJ-3"),
        ("new_in_farmland", "JX-2"), ("old_new_overlap", "JX-3")]
    by = {(f["rule"], f["record"]): f for f in spatial}
    assert by[("old_not_construction", "CJ-2")]["share"] == 0.0
    assert by[("old_not_construction", "CJ-4")]["share"] == pytest.approx(0.5, abs=1e-4)
    assert by[("old_not_construction", "CJ-4")]["message"] == (
        "拆旧地块 CJ-4 在DLTB 2023 地类图斑中建设用地仅占 50.0%（应不低于 95%）")
    assert by[("old_not_cultivated", "CJ-3")]["message"] == (
        "已验收拆旧地块 CJ-3 在DLTB 2024 地类图斑中耕地（01）仅占 0.0%（应不低于 95%）")
    assert by[("new_in_farmland", "JX-2")]["area_m2"] == pytest.approx(box_area(Y0 + S / 2, Y0 + S, S), abs=0.01)
    overlap = by[("old_new_overlap", "JX-3")]
    assert overlap["other"] == "CJ-1"
    assert overlap["area_m2"] == pytest.approx(box_area(Y0 + S / 2, Y0 + S, S / 2), abs=0.01)
    # the balance findings come along, and the by-rule counts add up
    assert sum(got["by_rule"].values()) == len(got["findings"]) == 5 + 4
    assert audit.verify(scene.sql_engine()).ok


def test_check_without_later_version_or_protected_land(workspace, tmp_path):
    workspace.write_version("DLTB", "2023", dltb_frame(6), VersionMeta())
    rows = [{"地块编号": "CJ-1", "项目区编号": "XMQ-1", "行政区代码": "640302", "复垦前地类": "0702",
             "拆旧面积": 100, "新增耕地面积": 100, "状态": "已验收", "验收日期": "2024-10-01"}]
    uc.import_records(workspace, "CJDK", write_geo(tmp_path, "cj.geojson", rows, [patch(4)]), actor="t")
    got = lk.check(workspace, base="2023", now=NOW)
    assert got["skipped"] == ["验收后须为耕地：DLTB 没有晚于 2023 的版本",
                              "建新不得占用永久基本农田：工作空间没有 YJJBNTTB"]
    # patch 4 is 0702 in the base: 拆旧 passes; only its project area is unknown
    assert [(f["rule"], f["record"]) for f in got["findings"]] == [("unknown_area", "CJ-1")]
    # the later version may be named; here 2023 itself, where the accepted plot is not 耕地
    got = lk.check(workspace, base="2023", later="2023", now=NOW)
    assert [(f["rule"], f["record"]) for f in got["findings"]][0] == ("old_not_cultivated", "CJ-1")


def test_a_bad_trade_row_is_refused_and_nothing_written(workspace, write_csv):
    rows = [{"交易编号": "JY-1", "项目区编号": "XMQ-1", "行政区代码": "640302", "调出方": "甲", "调入方": "乙",
             "交易面积": 100, "交易日期": "2025-02-01", "交易范围": "省外"}]
    before = workspace.fingerprint()
    with pytest.raises(InputError, match="第 2 行：FW（交易范围）「省外」不在代码表（市内、省内、跨省）"):
        uc.import_records(workspace, "ZBJY", write_csv("交易.csv", rows), actor="t")
    assert workspace.fingerprint() == before


def _trade_scene(workspace, tmp_path, write_csv):
    """XMQ-A: 拆旧 1 000 m² accepted, 建新 400 m²: 节余 600 m²."""
    uc.import_records(workspace, "ZJXMQ", write_csv("项目区.csv", [
        {"项目区编号": "XMQ-A", "项目区名称": "甲", "行政区代码": "640302", "批准文号": "宁自然资〔2024〕1号",
         "周转指标": 1000, "归还期限": "2027-06-30"}]), actor="t")
    uc.import_records(workspace, "CJDK", write_geo(tmp_path, "cj.geojson", [
        {"地块编号": "CJ-A", "项目区编号": "XMQ-A", "行政区代码": "640302", "复垦前地类": "0702", "拆旧面积": 1000,
         "新增耕地面积": 1000, "状态": "已验收", "验收日期": "2024-10-01"}], [patch(0)]), actor="t")
    uc.import_records(workspace, "JXDK", write_geo(tmp_path, "jx.geojson", [
        {"地块编号": "JX-A", "项目区编号": "XMQ-A", "行政区代码": "640302", "用途": "安置", "建新面积": 400,
         "占用耕地面积": 0}], [patch(2)]), actor="t")


def _trades(write_csv, name, items):
    return write_csv(name, [{"交易编号": n, "项目区编号": a, "行政区代码": "640302", "调出方": "利通区",
                             "调入方": "金凤区", "交易面积": m, "交易日期": "2025-02-01", "交易范围": "市内"}
                            for n, a, m in items])


def test_a_trade_above_the_surplus_is_refused_at_import(workspace, tmp_path, write_csv):
    _trade_scene(workspace, tmp_path, write_csv)
    before = workspace.fingerprint()
    path = _trades(write_csv, "t1.csv", [("T1", "XMQ-A", 400), ("T2", "XMQ-A", 300)])
    with pytest.raises(InputError) as err:
        uc.import_records(workspace, "ZBJY", path, actor="t")
    assert str(err.value).startswith("t1.csv：1 笔指标交易超过节余指标，整个文件未导入：第 3 行：指标交易 T2："
                                     "交易面积 300.00 平方米超过项目区 XMQ-A 尚可交易的节余指标 200.00 平方米")
    [p] = err.value.problems
    assert (p.file, p.row, p.field) == ("t1.csv", "第 3 行", "JYMJ")
    assert workspace.fingerprint() == before
    uc.import_records(workspace, "ZBJY", _trades(write_csv, "t2.csv", [("T1", "XMQ-A", 400)]), actor="t")
    uc.import_records(workspace, "ZBJY", _trades(write_csv, "t3.csv", [("T3", "XMQ-A", 200)]), actor="t")
    with pytest.raises(InputError, match="交易面积 0.01 平方米超过项目区 XMQ-A 尚可交易的节余指标 0.00 平方米"):
        uc.import_records(workspace, "ZBJY", _trades(write_csv, "t4.csv", [("T4", "XMQ-A", 0.01)]), actor="t")
    with pytest.raises(InputError, match="项目区 XMQ-9 不在增减挂钩项目区台账中，没有节余指标可交易"):
        uc.import_records(workspace, "ZBJY", _trades(write_csv, "t5.csv", [("T5", "XMQ-9", 1)]), actor="t")


def test_settling_a_trade_above_the_surplus_is_refused(workspace, tmp_path, write_csv):
    _trade_scene(workspace, tmp_path, write_csv)
    uc.import_records(workspace, "ZBJY", _trades(write_csv, "t.csv", [("T1", "XMQ-A", 400), ("T3", "XMQ-A", 200)]),
                      actor="t")
    # one more 建新 plot of 100 m²: 节余 500, T3 holds 200, 300 left for T1's 400
    uc.import_records(workspace, "JXDK", write_geo(tmp_path, "jx2.geojson", [
        {"地块编号": "JX-B", "项目区编号": "XMQ-A", "行政区代码": "640302", "用途": "安置", "建新面积": 100,
         "占用耕地面积": 0}], [patch(3)]), actor="t")
    before = workspace.fingerprint()
    with pytest.raises(InputError, match="「成交」被拒绝：指标交易 T1：交易面积 400.00 平方米超过项目区 XMQ-A "
                                         "尚可交易的节余指标 300.00 平方米"):
        uc.act(workspace, "ZBJY", "T1", "settle", actor="t")
    assert workspace.fingerprint() == before
    uc.act(workspace, "ZBJY", "T3", "cancel", actor="t", fields={"notes": "买方退出"})
    assert uc.act(workspace, "ZBJY", "T1", "settle", actor="t")["state"] == "settled"
