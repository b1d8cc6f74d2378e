"""占补平衡: 入库 posts to the accounts, 挂钩 draws on them, and every refusal changes nothing.

Hand computation (coefficients of farmland_accounts.yaml: (16 − 等别) / 8):

- projects (数量 m², 水田 m², 等别 → 产能 = 数量 × coefficient):
  P1 640302 10000, 2000, 6 → 12500 (入库); P2 640302 5000, 0, 10 → 3750 (入库);
  P3 640302 8000, 1000, 8 → 8000 (验收, not 入库); P4 640323 20000, 5000, 4 → 30000 (入库).
- accounts after import: 640302 数量 15000, 水田 2000, 产能 16250; 640323 20000, 5000, 30000.
- O1 640302 12000, 1500, 7 → 13500, covered by P1, P2: 数量 10000 + 2000, 水田 1500 from P1,
  产能 12500 + 1000; 640302 left 3000, 500, 2750; P2 left 3000, 0, 2750.
"""

import pytest

from builders import file_digest
from onemap.app import ledgers as uc
from onemap.errors import InputError
from onemap.ledgers.farmland import CoverRefused
from onemap.ledgers.flow import TransitionError


def project(no, county, area, paddy, grade, state):
    return {"项目编号": no, "项目名称": f"项目{no}", "类型": "土地整治", "行政区": county,
            "新增耕地面积": area, "新增水田面积": paddy, "验收平均等别": grade, "状态": state}


def occupation(no, area, paddy, grade, flag="", county="640302"):
    return {"占用编号": no, "建设用地项目名称": f"占用{no}", "占用类型": "建设", "行政区代码": county,
            "占用耕地面积": area, "占用水田面积": paddy, "占用耕地平均等别": grade, "例外情形": flag}


@pytest.fixture
def books(workspace, write_csv):
    got = uc.import_records(workspace, "BCGDXM", write_csv("p.csv", [
        project("P1", "640302", 10000, 2000, 6, "入库"), project("P2", "640302", 5000, 0, 10, "入库"),
        project("P3", "640302", 8000, 1000, 8, "验收"), project("P4", "640323", 20000, 5000, 4, "入库")]),
        actor="张三")
    assert got["journal_entries"] == 8  # P1 3, P2 2 (水田 0 not posted), P4 3
    uc.import_records(workspace, "GDZY", write_csv("o.csv", [
        occupation("O1", 12000, 1500, 7), occupation("O2", 3500, 0, 15), occupation("O3", 1000, 100, 15),
        occupation("O4", 2000, 0, 1), occupation("O5", 1000, 0, 8), occupation("O6", 1000, 0, 8, "承诺"),
        occupation("O7", 500, 0, 8, "生态退耕"), occupation("O8", 1000, 200, 8)]), actor="张三")
    return workspace


def balances(store):
    return {(r["county"], r["measure"]): r["balance"] for r in uc.accounts(store)["accounts"]}


def test_store_posts_and_cover_draws_in_order(books):
    assert balances(books) == {("640302", "数量"): 15000, ("640302", "水田"): 2000, ("640302", "产能"): 16250,
                               ("640323", "数量"): 20000, ("640323", "水田"): 5000, ("640323", "产能"): 30000}
    got = uc.cover(books, "O1", ["P1", "P2"], actor="张三")
    assert got["demand"] == {"数量": 12000, "水田": 1500, "产能": 13500}
    assert [(e["county"], e["kind"], e["measure"], e["project_no"], e["amount"]) for e in got["entries"]] == [
        ("640302", "核销", "数量", "P1", -10000), ("640302", "核销", "数量", "P2", -2000),
        ("640302", "核销", "水田", "P1", -1500),
        ("640302", "核销", "产能", "P1", -12500), ("640302", "核销", "产能", "P2", -1000)]
    b = balances(books)
    assert (b[("640302", "数量")], b[("640302", "水田")], b[("640302", "产能")]) == (3000, 500, 2750)
    shown = uc.get_record(books, "GDZY", "O1")
    assert shown["events"][-1]["action"] == "cover" and len(shown["journal"]) == 5


@pytest.mark.parametrize(("occ", "message"), [
    ("O2", "数量指标不足：占用 O2 需 3,500.00 平方米，所选项目余额合计 3,000.00 平方米，缺 500.00 平方米"),
    ("O3", "水田指标不足：占用 O3 需 100.00 平方米，所选项目余额合计 0.00 平方米，缺 100.00 平方米"),
    ("O4", "产能指标不足：占用 O4 需 3,750.00 平方米标准耕地，所选项目余额合计 2,750.00 平方米标准耕地，"
           "缺 1,000.00 平方米标准耕地"),
])
def test_a_measure_that_would_go_negative_is_refused(books, occ, message):
    uc.cover(books, "O1", ["P1", "P2"], actor="张三")
    before = books.fingerprint(), file_digest(books.path)
    with pytest.raises(CoverRefused) as info:
        uc.cover(books, occ, ["P2"], actor="张三")
    assert info.value.message == "不能挂钩，余额将为负：" + message
    assert [p.field for p in info.value.problems] == [message[:2]]
    assert (books.fingerprint(), file_digest(books.path)) == before


def test_first_supplement_then_occupy_unless_flagged(books):
    before = books.fingerprint(), file_digest(books.path)
    with pytest.raises(CoverRefused) as info:
        uc.cover(books, "O5", ["P3"], actor="张三")
    assert info.value.message == ("补充耕地项目 P3 状态为「验收」，尚未入库，不能挂钩（先补后占）。"
                               "占用 O5 无允许的例外情形（承诺、边占边补）")
    assert (books.fingerprint(), file_digest(books.path)) == before
    # 承诺: the recorded areas of the project count until it is 入库
    got = uc.cover(books, "O6", ["P3"], actor="张三")
    assert [(e["measure"], e["amount"]) for e in got["entries"]] == [("数量", -1000), ("产能", -1000)]
    uc.act(books, "BCGDXM", "P3", "store", actor="张三")
    b = balances(books)
    assert (b[("640302", "数量")], b[("640302", "水田")], b[("640302", "产能")]) == (22000, 3000, 23250)
    # P3's own entries: the 承诺 draws, then its 入库; it has 8000 − 1000 left on 数量
    p3 = uc.get_record(books, "BCGDXM", "P3")["journal"]
    assert [(e["kind"], e["measure"], e["amount"]) for e in p3] == [
        ("核销", "数量", -1000), ("核销", "产能", -1000), ("入库", "数量", 8000), ("入库", "水田", 1000),
        ("入库", "产能", 8000)]
    assert sum(e["amount"] for e in p3 if e["measure"] == "数量") == 7000


def test_exempt_occupations_need_no_projects(books):
    got = uc.cover(books, "O7", [], actor="张三")
    assert (got["exempt"], got["entries"]) == (True, [])
    before = books.fingerprint(), file_digest(books.path)
    with pytest.raises(InputError, match="耕地占用 O1 须指定挂钩的补充耕地项目"):
        uc.cover(books, "O1", [], actor="张三")
    assert (books.fingerprint(), file_digest(books.path)) == before


def test_cross_county_cover_moves_by_adjustment(books):
    got = uc.cover(books, "O8", ["P4"], actor="张三")
    assert [(e["county"], e["kind"], e["measure"], e["amount"]) for e in got["entries"]] == [
        ("640323", "调剂", "数量", -1000), ("640302", "调剂", "数量", 1000), ("640302", "核销", "数量", -1000),
        ("640323", "调剂", "水田", -200), ("640302", "调剂", "水田", 200), ("640302", "核销", "水田", -200),
        ("640323", "调剂", "产能", -1000), ("640302", "调剂", "产能", 1000), ("640302", "核销", "产能", -1000)]
    b = balances(books)
    assert (b[("640323", "数量")], b[("640323", "水田")], b[("640323", "产能")]) == (19000, 4800, 29000)
    assert (b[("640302", "数量")], b[("640302", "水田")], b[("640302", "产能")]) == (15000, 2000, 16250)


def test_cover_twice_uncover_and_withdrawn(books):
    uc.cover(books, "O1", ["P1", "P2"], actor="张三")
    before = books.fingerprint(), file_digest(books.path)
    with pytest.raises(InputError, match="耕地占用 O1 已挂钩"):
        uc.cover(books, "O1", ["P4"], actor="张三")
    with pytest.raises(InputError, match="挂钩的补充耕地项目重复"):
        uc.cover(books, "O2", ["P1", "P1"], actor="张三")
    with pytest.raises(InputError, match="耕地占用 O2 未挂钩"):
        uc.uncover(books, "O2", actor="张三")
    assert (books.fingerprint(), file_digest(books.path)) == before
    got = uc.uncover(books, "O1", actor="张三", notes="项目调整")
    assert sorted((e["project_no"], e["measure"], e["amount"]) for e in got["entries"]) == [
        ("P1", "产能", 12500), ("P1", "数量", 10000), ("P1", "水田", 1500), ("P2", "产能", 1000), ("P2", "数量", 2000)]
    acc = {(r["county"], r["measure"]): r for r in uc.accounts(books, county="640302")["accounts"]}
    assert (acc[("640302", "数量")]["入库"], acc[("640302", "数量")]["核销"], acc[("640302", "数量")]["撤销"],
            acc[("640302", "数量")]["balance"]) == (15000, -12000, 12000, 15000)
    uc.cover(books, "O1", ["P1", "P2"], actor="张三")  # may be covered again after 撤销
    uc.act(books, "GDZY", "O5", "withdraw", actor="张三", fields={"notes": "项目取消"})
    before = books.fingerprint(), file_digest(books.path)
    with pytest.raises(TransitionError, match="耕地占用 O5 状态为「撤件」，不能挂钩"):
        uc.cover(books, "O5", ["P4"], actor="张三")
    assert (books.fingerprint(), file_digest(books.path)) == before
