"""The 开采总量 and 绿色矿山 registers: records, moves and the 6-month rectification deadline."""

from __future__ import annotations

import pytest

from onemap.app.ledgers import act, import_records, list_records
from onemap.errors import InputError


def test_green_mine_rectification_is_due_six_months_after_the_order(workspace, write_csv):
    import_records(workspace, "绿色矿山名录", write_csv("lsks.csv", [
        {"名录编号": "LS-1", "许可证号": "C1", "矿山名称": "甲石灰岩矿", "级别": "省级", "纳入名录日期": "2023-05-01",
         "行政区代码": "640302"}]), actor="t", now="2024-12-01")
    got = act(workspace, "LSKS", "LS-1", "order", actor="t", role="admin", fields={"ZGRQ": "2025-01-01"},
              now="2025-01-01T00:00:00")
    assert got["state"] == "rectifying"
    assert got["due_at"][:10] == "2025-07-03"            # 2025-01-01 + 183 days
    assert list_records(workspace, "LSKS", now="2025-06-10", deadline="即将到期")["count"] == 1  # ≤ 30 days
    assert list_records(workspace, "LSKS", now="2025-07-10", deadline="已逾期")["count"] == 1
    with pytest.raises(InputError, match="YCRQ"):
        act(workspace, "LSKS", "LS-1", "remove", actor="t", role="admin", fields={"notes": "逾期未整改"})
    got = act(workspace, "LSKS", "LS-1", "remove", actor="t", role="admin",
              fields={"YCRQ": "2025-07-10", "notes": "逾期未整改"}, now="2025-07-10")
    assert got["state"] == "removed"


def test_quota_output_is_reported(workspace, write_csv):
    import_records(workspace, "开采总量", write_csv("kczl.csv", [
        {"指标编号": "ZL-2025-1", "矿种": "建筑用砂", "年度": 2025, "行政区代码": "640302", "年控制量": 120}]),
        actor="t")
    with pytest.raises(InputError, match="SJCL"):
        act(workspace, "KCZL", "ZL-2025-1", "report", actor="t", role="editor")
    got = act(workspace, "KCZL", "ZL-2025-1", "report", actor="t", role="editor", fields={"SJCL": 98.5})
    assert (got["state"], got["values"]["SJCL"]) == ("reported", 98.5)
