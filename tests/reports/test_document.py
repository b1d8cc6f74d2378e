"""The document layer: numbers, dates, column widths, template, workspace settings."""

from __future__ import annotations

import datetime as dt

import docx
import pytest

from builders import dltb_frame
from onemap.errors import InputError, OneMapError
from onemap.reports.document import (
    DEFAULT_TEMPLATE,
    DocumentInfo,
    OfficialDocument,
    chinese_date,
    fit_widths,
    load_template,
)
from onemap.reports.numbers import axis_formatter, fmt_area, fmt_number
from onemap.services import update_settings
from onemap.store import init_workspace
from onemap.store.base import VersionMeta


def test_numbers_have_separators_fixed_decimals_and_no_exponent():
    assert fmt_number(301234.5) == "301,234.50"
    assert fmt_number(3.012e5, 0) == "301,200"
    assert fmt_number(-0.001) == "0.00"
    assert fmt_number(None) == "—" and fmt_number(float("nan")) == "—"
    assert fmt_area(1_141_234.0) == "114.12"                 # m² → 公顷
    assert fmt_area(1_141_234.0, "亩") == "1,711.85"          # × 15 / 10 000
    f = axis_formatter()
    assert f(301200.0, 0) == "301,200" and f(0.25, 0) == "0.25"


def test_chinese_date_has_no_leading_zeros():
    assert chinese_date(dt.date(2024, 12, 3)) == "2024年12月3日"
    assert chinese_date(dt.date(2025, 1, 9)) == "2025年1月9日"


def test_widths_keep_numbers_and_short_words_whole():
    rows = [["很长的说明文字" * 6, "299,169.80", "缺少数据", "变差（−2,904.34）"]]
    w = fit_widths(["说明", "现状值", "状态", "趋势"], rows, 15.6, 10.5)
    em = 10.5 / 72 * 2.54
    assert abs(sum(w) - 15.6) < 1e-9
    assert w[1] >= 10 * 0.62 * em + 0.5          # the whole number
    assert w[2] >= 4 * em + 0.5                   # 缺少数据 on one line
    assert w[3] >= 9 * 0.62 * em + 0.5            # the number inside the trend text


def test_template_is_data_and_a_bureau_can_swap_it(tmp_path, monkeypatch):
    t = load_template()
    assert t["page"]["top_mm"] == 37 and t["fonts"]["body"] == "仿宋_GB2312"   # GB/T 9704
    own = tmp_path / "own.yaml"
    own.write_text(
        DEFAULT_TEMPLATE.read_text(encoding="utf-8")
        .replace("synthetic_banner: 模拟数据", "synthetic_banner: 本局演示数据"), encoding="utf-8")
    monkeypatch.setenv("ONEMAP_DOCUMENT_TEMPLATE", str(own))
    doc = OfficialDocument(DocumentInfo("测试", synthetic=True))
    out = doc.save(tmp_path / "t.docx")
    header = docx.Document(str(out)).sections[0].header.paragraphs[0].text
    assert header.startswith("本局演示数据")
    bad = tmp_path / "bad.yaml"
    bad.write_text("page: {}\n", encoding="utf-8")
    monkeypatch.setenv("ONEMAP_DOCUMENT_TEMPLATE", str(bad))
    with pytest.raises(OneMapError, match="缺少设置项"):
        load_template()


def test_no_banner_without_synthetic_input_and_toc_only_for_long_documents(tmp_path):
    doc = OfficialDocument(DocumentInfo("短文", synthetic=False))
    doc.toc()
    doc.heading("一、标题", 1)
    d = docx.Document(str(doc.save(tmp_path / "s.docx")))
    assert d.sections[0].header.paragraphs[0].text == ""
    assert not any(p.text.replace("　", "") == "目录" for p in d.paragraphs)


def test_settings_by_label_and_refusal_leaves_workspace_unchanged(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg", name="测试", region="640300")
    store.write_version("DLTB", "2024", dltb_frame(), VersionMeta())
    s = update_settings(store, ["编制单位=某市自然资源局", "region_name=某市"])
    assert s["org"] == "某市自然资源局" and s["region_name"] == "某市"
    before = store.settings()
    with pytest.raises(InputError, match="created_at"):
        update_settings(store, ["审图号=某S（2026）1号", "created_at=2000"])
    with pytest.raises(InputError, match="键=值"):
        update_settings(store, ["编制单位"])
    assert store.settings() == before
    assert "org" not in update_settings(store, ["编制单位="])      # empty value removes it
