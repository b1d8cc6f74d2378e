"""The 体检 indicators 耕地占补平衡状况 and 耕地进出平衡状况 per county, from the farmland ledgers.

Land (``test_farmland_inout``): DLTB 2023 → 2024, 640302 流出 2 × 0.95A, 流入 0 → 缺口 1.9A;
640303 流出 0, 流入 0.90A → 平衡.
Accounts (coefficients (16 − 等别) / 8 of farmland_accounts.yaml):
P1 640302 10000 / 2000 / 等别 6 → 产能 12500 (入库); P2 640302 5000 / 0 / 10 → 3750 (入库);
O1 640302 12000 / 1500 / 7 → 13500 covered by P1, P2 → 640302 left 3000, 500, 2750: 平衡 (0 short).
P5 640303 1000 / 0 / 8 (验收, not 入库, so nothing posted); O9 640303 1000 / 0 / 8 with 承诺 covered
by P5 → 640303 数量 −1000, 产能 −1000 (no 水田 entry): 不平衡, 2 short measures.
"""

import pytest
import test_farmland_inout as land
from test_farmland_cover import occupation, project

from onemap.app import ledgers as uc
from onemap.app.assessment import ledger_provider, run_assessment
from onemap.indicators import assess

A = land.A
years = land.years  # the two DLTB versions

CODES = ["farmland_balance_status", "farmland_inout_status"]


@pytest.fixture
def books(years, write_csv):
    uc.import_records(years, "BCGDXM", write_csv("p.csv", [
        project("P1", "640302", 10000, 2000, 6, "入库"), project("P2", "640302", 5000, 0, 10, "入库"),
        project("P5", "640303", 1000, 0, 8, "验收")]), actor="张三")
    uc.import_records(years, "GDZY", write_csv("o.csv", [
        occupation("O1", 12000, 1500, 7), occupation("O9", 1000, 0, 8, "承诺", county="640303")]),
        actor="张三")
    uc.cover(years, "O1", ["P1", "P2"], actor="张三")
    uc.cover(years, "O9", ["P5"], actor="张三")
    return years


def units(result, code):
    ind = next(i for i in result["indicators"] if i["code"] == code)
    return {u["unit"]: u for u in ind["units"]}


def test_status_per_county_from_accounts_and_in_out(books):
    got = run_assessment(books, year=2024)
    bal = units(got, "farmland_balance_status")
    assert list(bal) == ["市域", "640302", "640303"]
    assert (bal["市域"]["value"], bal["市域"]["status"]) == (2.0, "未达标")  # Σ of the counties' short measures
    assert (bal["640302"]["value"], bal["640302"]["status"]) == (0.0, "达标")
    assert bal["640302"]["notes"] == ["平衡：数量余额 3,000.00 平方米、水田余额 500.00 平方米、"
                                      "产能余额 2,750.00 平方米标准耕地（账户截至评估时）"]
    assert (bal["640303"]["value"], bal["640303"]["status"]) == (2.0, "未达标")
    assert bal["640303"]["notes"] == ["不平衡：数量余额 -1,000.00 平方米；产能余额 -1,000.00 平方米标准耕地"
                                      "（账户截至评估时）"]
    io = units(got, "farmland_inout_status")
    assert io["市域"]["value"] == pytest.approx(1.9 * A, abs=0.02)
    assert io["640302"]["status"] == "未达标"
    assert io["640302"]["value"] == pytest.approx(1.9 * A, abs=0.02)
    assert io["640302"]["notes"][0].startswith("不平衡：流出 ")
    assert (io["640303"]["value"], io["640303"]["status"]) == (0.0, "达标")
    assert io["640303"]["notes"][0].startswith("平衡：流出 0.00 平方米，流入 ")


def test_without_registers_or_versions_there_is_no_data_never_balance(years):
    a = assess(years, 2024, codes=CODES, ledger=ledger_provider(years))
    bal, io = a.indicator("farmland_balance_status"), a.indicator("farmland_inout_status")
    assert [(u.unit, u.status, u.value) for u in bal.units] == [
        ("市域", "缺少数据", None), ("640302", "缺少数据", None), ("640303", "缺少数据", None)]
    assert {tuple(u.missing) for u in bal.units} == {("无数据：没有耕地占补平衡账户流水（补充耕地项目尚未入库）",)}
    assert [u.status for u in io.units] == ["未达标", "未达标", "达标"]
    a23 = assess(years, 2023, codes=CODES, ledger=ledger_provider(years))
    assert a23.indicator("farmland_inout_status").units[2].missing == [
        "无数据：没有 2022 年和 2023 年两期地类图斑（DLTB），无法计算进出平衡"]
    bare = assess(years, 2024, codes=CODES)  # the engine alone, no provider passed in
    assert {u.status for r in bare.indicators for u in r.units} == {"缺少数据"}
    assert bare.indicator("farmland_inout_status").units[0].missing == ["无数据：未接入耕地保护台账"]
