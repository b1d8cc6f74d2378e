"""耕地 balance from change detection: by destination and origin, net of 田坎, tied to the change areas.

Six 0.002° boxes at 37.95°N (``builders.dltb_frame``), each of official area A (closed form for a
latitude–longitude box on the CGCS2000 ellipsoid). 2023 → 2024, same BSM and geometry:
patch 0 水田 (KCXS 0.05) → 0601 工业; patch 1 水浇地 (0.05) → 0301 林地; patch 3 乔木林地 → 0103
旱地 (KCXS 0.10); patch 5 沙地 → 0101 水田 (KCXS 0.02).
"""

import math

import pytest

from builders import dltb_frame
from onemap.app import ledgers as uc
from onemap.errors import InputError
from onemap.store import VersionMeta


def box_area(lat1: float, lat2: float, dlon: float) -> float:
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return a * a * (1 - e2) / 2 * math.radians(dlon) * (q(lat2) - q(lat1))


A = box_area(37.95, 37.952, 0.002)


def test_balance_by_destination_and_origin(workspace, tmp_path):
    old = dltb_frame(6)
    new = old.copy()
    new.loc[0, ["DLBM", "DLMC", "KCXS"]] = ["0601", "工业用地", 0.0]
    new.loc[1, ["DLBM", "DLMC", "KCXS"]] = ["0301", "乔木林地", 0.0]
    new.loc[3, ["DLBM", "DLMC", "KCXS"]] = ["0103", "旱地", 0.10]
    new.loc[5, ["DLBM", "DLMC", "KCXS"]] = ["0101", "水田", 0.02]
    workspace.write_version("DLTB", "2023", old, VersionMeta())
    workspace.write_version("DLTB", "2024", new, VersionMeta())
    before = workspace.fingerprint()
    got = uc.farmland_balance(workspace, "2023", "2024", xlsx=tmp_path / "b.xlsx")
    assert workspace.fingerprint() == before  # a report writes nothing
    rows = {(r["direction"], r["kind"]): (r["area_m2"], r["tiankan_m2"]) for r in got["rows"]}
    assert set(rows) == {("减少", "建设"), ("减少", "林地"), ("增加", "林地"), ("增加", "其他")}
    assert rows[("减少", "建设")] == pytest.approx((A * 0.95, A * 0.05), abs=0.011)
    assert rows[("减少", "林地")] == pytest.approx((A * 0.95, A * 0.05), abs=0.011)
    assert rows[("增加", "林地")] == pytest.approx((A * 0.90, A * 0.10), abs=0.011)
    assert rows[("增加", "其他")] == pytest.approx((A * 0.98, A * 0.02), abs=0.011)
    [unit] = got["units"]
    assert unit["unit"] == "640302"
    assert unit["decrease_m2"] == pytest.approx(2 * A * 0.95, abs=0.02)
    assert unit["increase_m2"] == pytest.approx(A * 0.90 + A * 0.98, abs=0.02)
    assert unit["net_m2"] == pytest.approx(unit["increase_m2"] - unit["decrease_m2"], abs=1e-9)
    assert unit["paddy_decrease_m2"] == pytest.approx(A * 0.95, abs=0.011)
    assert unit["paddy_increase_m2"] == pytest.approx(A * 0.98, abs=0.011)
    # the decrease is exactly change detection's 占用耕地 area (both net of the old KCXS, to the cent)
    assert unit["decrease_m2"] == got["changes_zygd_area_m2"]
    assert got["xlsx"] == str(tmp_path / "b.xlsx")


def test_every_loss_becomes_an_occupation_once(workspace, write_csv):
    old = dltb_frame(6)
    new = old.copy()
    new.loc[0, ["DLBM", "DLMC", "KCXS"]] = ["0601", "工业用地", 0.0]
    new.loc[2, ["DLBM", "DLMC", "KCXS"]] = ["1104", "坑塘水面", 0.0]
    new.loc[3, ["DLBM", "DLMC", "KCXS"]] = ["0103", "旱地", 0.10]  # a gain: no occupation
    workspace.write_version("DLTB", "2023", old, VersionMeta())
    workspace.write_version("DLTB", "2024", new, VersionMeta())
    got = uc.record_occupations(workspace, "2023", "2024", actor="系统", now="2025-01-01")
    assert got["created"] == ["BH-2023-2024-640302000000", "BH-2023-2024-640302000002"]
    recs = {r["record_no"]: r for r in uc.list_records(workspace, "GDZY")["records"]}
    paddy, pond = recs["BH-2023-2024-640302000000"], recs["BH-2023-2024-640302000002"]
    assert (paddy["values"]["ZYLX"], pond["values"]["ZYLX"]) == ("建设", "坑塘水域")
    assert paddy["values"]["ZYGDMJ"] == pytest.approx(A * 0.95, abs=0.011)
    assert paddy["values"]["ZYSTMJ"] == paddy["values"]["ZYGDMJ"]  # 0101 lost: 水田 too
    assert pond["values"]["ZYSTMJ"] == 0  # 0103 旱地
    assert paddy["county"] == "640302" and paddy["has_geometry"] and paddy["state_title"] == "拟件"
    before = workspace.fingerprint()
    again = uc.record_occupations(workspace, "2023", "2024", actor="系统")
    assert (again["created"], again["existing"]) == ([], 2)
    assert workspace.fingerprint() == before
    # the 等别 is not in DLTB: a cover refuses until it is filled, then draws as usual
    uc.import_records(workspace, "BCGDXM", write_csv("p.csv", [
        {"项目编号": "P1", "项目名称": "甲", "类型": "土地整治", "行政区": "640302", "新增耕地面积": 100000,
         "新增水田面积": 50000, "验收平均等别": 8, "状态": "入库"}]), actor="张三")
    before = workspace.fingerprint()
    with pytest.raises(InputError, match="耕地占用 BH-2023-2024-640302000000 未填写等别 ZYPJDB"):
        uc.cover(workspace, "BH-2023-2024-640302000000", ["P1"], actor="张三")
    assert workspace.fingerprint() == before
    uc.act(workspace, "GDZY", "BH-2023-2024-640302000000", "submit", actor="张三", fields={"ZYPJDB": "8"})
    got = uc.cover(workspace, "BH-2023-2024-640302000000", ["P1"], actor="张三")
    assert got["demand"]["数量"] == paddy["values"]["ZYGDMJ"] == got["demand"]["产能"]
    # the balance report shows how much of the decrease is covered: 0000's 数量, not 0002's
    unit = uc.farmland_balance(workspace, "2023", "2024")["units"][0]
    assert unit["covered_m2"] == paddy["values"]["ZYGDMJ"]
    assert unit["uncovered_m2"] == pytest.approx(pond["values"]["ZYGDMJ"], abs=0.005)
    uc.uncover(workspace, "BH-2023-2024-640302000000", actor="张三")
    assert uc.farmland_balance(workspace, "2023", "2024")["units"][0]["covered_m2"] == 0
