"""Accountability: one 15 % threshold per calendar year (第15号令 第三条), no second ratio."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from onemap.errors import DomainDataError
from onemap.monitor.accountability import accountability_table, load_thresholds


def _table(illegal_m2: float, new_m2: float) -> dict:
    judged = pd.DataFrame({"county": ["640302"], "new_construction_gd_m2": [new_m2]})
    cases = pd.DataFrame({
        "county": ["640302"], "state": ["determined"], "determination": ["违法"],
        "suspect_gd_area_m2": [illegal_m2], "data": [{}], "overdue": [False],
    })
    return accountability_table(judged, cases, year=2024).iloc[0].to_dict()


def test_shipped_file_has_one_threshold():
    th = load_thresholds()
    assert th.threshold == 0.15
    assert [f.name for f in dataclasses.fields(th)] == ["threshold", "version"]


@pytest.mark.parametrize(
    ("illegal", "flagged", "level"),
    [(140.0, False, ""), (150.0, True, "问责"), (600.0, True, "问责")],
)
def test_ratio_against_the_one_threshold(illegal, flagged, level):
    # 1000 m² 新增建设用地占用耕地; 150 m² 违法 is exactly 15 %
    row = _table(illegal, 1000.0)
    assert row["ratio"] == pytest.approx(illegal / 1000.0)
    assert (row["flagged"], row["level"]) == (flagged, level)


def test_a_second_threshold_in_the_file_is_refused(tmp_path):
    path = tmp_path / "accountability.yaml"
    path.write_text('version: "x"\nthreshold: 0.15\nhigh_threshold: 0.30\n', encoding="utf-8")
    with pytest.raises(DomainDataError) as info:
        load_thresholds(path)
    assert "accountability.yaml" in info.value.message and "high_threshold" in info.value.message
