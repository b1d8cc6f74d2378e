"""The register engine without a workspace: schemas, flows, header mapping, row checks."""

from datetime import UTC, datetime

import pytest

from onemap.domain import sources
from onemap.errors import DomainDataError, InputError
from onemap.ledgers.flow import TransitionError, check_move, deadline_status, due_at
from onemap.ledgers.rows import check_rows, map_columns, to_date
from onemap.ledgers.schema import STATE_COLUMN, load_register, register_names
from onemap.monitor.cases import load_flow


def test_registers_load_by_name_and_title():
    assert register_names() == ["BCGDXM", "CJDK", "DZZHYHD", "FXQ", "GDZY", "GHQK", "JXDK", "KCZL", "KYQ",
                                "LSKS", "LZWG", "TZWG", "ZBJY", "ZJXMQ",
                                "asset_prices", "base_prices", "batches", "idle", "inefficient",
                                "registration_units", "restoration", "supplies"]
    reg = load_register("补充耕地项目")
    assert (reg.name, reg.key, reg.county, reg.geometry) == ("BCGDXM", "XMBH", "XZQDM", "optional")
    assert reg.flow.initial == "approved"
    assert [s.title for s in reg.flow.states.values()] == ["立项", "实施", "验收", "入库", "撤销"]
    with pytest.raises(InputError, match=r"没有台账 耕地台账（可用：BCGDXM（补充耕地项目）、CJDK（增减挂钩拆旧地块）、"
                                         r"DZZHYHD（地质灾害隐患点）、FXQ（地质灾害风险区）、GDZY（耕地占用）、GHQK（矿产资源规划区块）、"
                                         r"JXDK（增减挂钩建新地块）、KCZL（开采总量）、KYQ（矿业权）、LSKS（绿色矿山名录）、LZWG（林长网格）、"
                                         r"TZWG（田长网格）、ZBJY（增减挂钩节余指标交易）、"
                                         r"ZJXMQ（增减挂钩项目区）、asset_prices（清查价格）、base_prices（基准地价级别）、"
                                         r"batches（建设用地批次）、idle（闲置土地）、inefficient（低效用地）、"
                                         r"registration_units（自然资源登记单元）、restoration（生态修复项目）、supplies（供地））"):
        load_register("耕地台账")


def test_case_flow_is_read_by_the_generic_flow():
    flow = load_flow()
    assert flow.initial == "issued"
    assert flow.actions["rectify"].guards == {"determined": {"determination": ["违法"]}}
    assert flow.actions["close"].roles == []  # cases do not restrict roles


def test_moves_states_roles_and_guards():
    flow = load_register("BCGDXM").flow
    assert check_move(flow, "P1", "approved", {}, "start", "editor").to == "building"
    with pytest.raises(TransitionError, match="P1 当前状态为「立项」，不能执行「入库」"
                                              "（「入库」只能在「验收」状态下执行）。当前可执行：开工实施、撤销"):
        check_move(flow, "P1", "approved", {}, "store", None)
    with pytest.raises(TransitionError, match="角色 editor 不能对 P1 执行「入库」（允许的角色：admin）"):
        check_move(flow, "P1", "accepted", {}, "store", "editor")
    assert check_move(flow, "P1", "accepted", {}, "store", None).to == "stored"  # local operator
    with pytest.raises(TransitionError, match="不认识的操作 fly"):
        check_move(flow, "P1", "accepted", {}, "fly", None)


def test_deadlines_and_warnings():
    flow = load_register("GDZY").flow
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    assert due_at(flow, None, "draft", t0) == "2025-01-31T00:00:00+00:00"  # 拟件: 30 days
    assert due_at(flow, None, "filed", t0) is None
    due = datetime(2025, 1, 31, tzinfo=UTC)
    assert deadline_status(flow, "draft", due, datetime(2025, 1, 20, tzinfo=UTC))["deadline"] == "正常"
    near = deadline_status(flow, "draft", due, datetime(2025, 1, 25, tzinfo=UTC))  # 6 days ≤ warn 7
    assert (near["deadline"], near["days_left"]) == ("即将到期", 6)
    late = deadline_status(flow, "draft", due, datetime(2025, 2, 3, tzinfo=UTC))
    assert (late["deadline"], late["overdue"], late["overdue_days"]) == ("已逾期", True, 3)
    assert deadline_status(flow, "filed", None, t0)["deadline"] == "无期限"


def test_headers_by_name_title_and_synonym():
    reg = load_register("BCGDXM")
    mapping, ignored = map_columns(reg, ["序号", "项目编号", "项目名称", "类型", "行政区", "XZGDMJ",
                                         "其中新增水田", "平均等别", "状态"], "a.csv")
    assert mapping == {"项目编号": "XMBH", "项目名称": "XMMC", "类型": "XMLX", "行政区": "XZQDM",
                       "XZGDMJ": "XZGDMJ", "其中新增水田": "XZSTMJ", "平均等别": "YSPJDB", "状态": STATE_COLUMN}
    assert ignored == ["序号"]
    with pytest.raises(InputError) as info:
        map_columns(reg, ["项目编号", "编号", "项目名称"], "b.xlsx")
    rules = [(p.rule, p.field) for p in info.value.problems]
    assert rules == [("duplicate_column", "XMBH"), ("missing_column", "XMLX"), ("missing_column", "XZQDM"),
                     ("missing_column", "XZGDMJ"), ("missing_column", "XZSTMJ"), ("missing_column", "YSPJDB")]
    assert "b.xlsx 的表头不符合「补充耕地项目」台账" in str(info.value)


def good(**over):
    row = {"XMBH": "P1", "XMMC": "整治一", "XMLX": "土地整治", "XZQDM": "640302", "XZGDMJ": "1,000.5",
           "XZSTMJ": "0", "YSPJDB": "6", "YSRQ": "2024年5月1日"}
    return {**row, **over}


def test_rows_convert_and_every_problem_is_named():
    reg = load_register("BCGDXM")
    ok = check_rows(reg, [good(), good(XMBH="P2", **{STATE_COLUMN: "入库"})], ["第 2 行", "第 3 行"], "a.csv", set())
    [r1, r2] = ok.records
    assert (r1.key, r1.county, r1.state) == ("P1", "640302", "approved")
    assert r1.values["XZGDMJ"] == 1000.5 and r1.values["YSPJDB"] == 6 and r1.values["YSRQ"] == "2024-05-01"
    assert r2.state == "stored"
    rows = [good(XMLX="开荒"), good(XMBH="P2", XZGDMJ="-3"), good(XMBH="P1", YSPJDB="16"),
            good(XMBH="P9", XZQDM="6403"), good(XMBH="P3", XMMC=" ", **{STATE_COLUMN: "完成"}),
            good(XMBH="P0", YSRQ="2024-02-30")]
    labels = [f"第 {i} 行" for i in range(2, 8)]
    with pytest.raises(InputError) as info:
        check_rows(reg, rows, labels, "a.csv", {"P9"})
    got = [(p.rule, p.row, p.field) for p in info.value.problems]
    assert got == [("bad_code", "第 2 行", "XMLX"), ("bad_number", "第 3 行", "XZGDMJ"),
                   ("bad_int", "第 4 行", "YSPJDB"), ("duplicate_key", "第 4 行", "XMBH"),
                   ("bad_text", "第 5 行", "XZQDM"), ("duplicate_key", "第 5 行", "XMBH"),
                   ("required_field", "第 6 行", "XMMC"), ("bad_state", "第 6 行", "状态"),
                   ("bad_date", "第 7 行", "YSRQ")]
    text = str(info.value)
    assert text.startswith("a.csv 不能导入「补充耕地项目」，未写入任何记录（9 处问题）：")
    assert "第 2 行：XMLX（项目类型）「开荒」不在代码表" in text
    assert "第 3 行：XZGDMJ（新增耕地面积）-3 小于下限 0" in text
    assert "第 4 行：XMBH P1 与第 2 行重复" in text
    assert "第 5 行：XMBH（项目编号）P9 已在台账中" in text


def test_dates():
    assert [to_date(x) for x in ("2024/5/1", "20240501", "2024-05-01 00:00:00", "2024.5.1", "5/1/2024")] == [
        "2024-05-01", "2024-05-01", "2024-05-01", "2024-05-01", None]


def test_a_bureau_override_is_used_and_a_bad_one_is_named(tmp_path, monkeypatch):
    text = (sources.SHIPPED_DIRS["ledgers"] / "GDZY.yaml").read_text("utf-8")

    def override(name: str, edited: str) -> None:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "GDZY.yaml").write_text(edited, "utf-8")
        monkeypatch.setenv(sources.ENV_OVERRIDE_DIR, str(folder))

    override("a", text.replace("draft: {title: 拟件, deadline_days: 30", "draft: {title: 拟件, deadline_days: 10"))
    assert load_register("GDZY").flow.states["draft"].deadline_days == 10
    override("b", text.replace("to: filed", "to: archived"))
    with pytest.raises(DomainDataError, match="GDZY.yaml中 flow.actions.file 有误：引用了未定义的状态 archived"):
        load_register("GDZY")
    override("c", text.replace("key: ZYBH", "key: BH"))
    with pytest.raises(DomainDataError, match="数据文件 GDZY.yaml中 key 有误：BH 不是本台账的字段"):
        load_register("GDZY")
