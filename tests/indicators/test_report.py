"""The 体检报告 DOCX and XLSX: structure read back, charts and maps drawn with a CJK font."""

from __future__ import annotations

import re
import warnings

import docx
import openpyxl
import pytest

from onemap.indicators import write_assessment_docx, write_assessment_xlsx
from onemap.indicators.report import _light, _reader

HEADINGS = ["一、总体情况", "二、主要问题", "三、指标体检结果", "四、分县（市、区）情况", "五、重点指标分析",
            "六、专题图", "七、预警和缺少数据的指标", "八、建议和对策", "九、数据来源与说明",
            "附录　指标定义"]


def _glyph_warnings(records) -> list[str]:
    return [str(w.message) for w in records if "missing from font" in str(w.message)]


@pytest.fixture(scope="session")
def report(assessed, tmp_path_factory):
    """The DOCX of the 2024 check, written once, with the warnings raised while drawing."""
    store, a = assessed
    out = tmp_path_factory.mktemp("report") / "体检报告.docx"
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        write_assessment_docx(a, out, store, dpi=60)
    return out, list(rec), a


def test_docx_structure(report):
    path, _, a = report
    d = docx.Document(str(path))
    h1 = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert h1 == HEADINGS
    h2 = [p.text for p in d.paragraphs if p.style.name == "Heading 2"]
    key = [r.name for r in a.indicators if r.key]
    assert sorted(h2) == sorted(key) and len(key) == 10
    title = next(p.text for p in d.paragraphs if p.style.name == "Title")
    assert title == "吴忠市国土空间规划实施\n2024年度体检报告"     # broken after 实施 on the cover
    text = "\n".join(p.text for p in d.paragraphs)
    assert "共评估指标 25 项" in text and "达标 4 项" in text
    for w in a.warnings():
        if w["unit"] == "市域":
            assert _reader(w["reason"]) in text
    assert "_target" not in text and "/work/" not in text and a.generated_at not in text
    # one status chart, one chart per key indicator, three maps
    assert len(d.inline_shapes) == 1 + 10 + 3
    for rel in d.part.rels.values():
        if "image" in rel.reltype:
            assert rel.target_part.blob.startswith(b"\x89PNG")


def test_docx_tables(report):
    path, _, a = report
    d = docx.Document(str(path))
    main = d.tables[0]
    assert [c.text for c in main.rows[0].cells] == ["序号", "指标", "单位", "现状值", "目标值", "差距",
                                                    "趋势", "状态"]
    dims = {r.dimension for r in a.indicators}
    assert len(main.rows) == 1 + 25 + len(dims)                     # a row per 维度 heads its group
    names = [r.cells[1].text for r in main.rows[1:]]
    assert names[0] == "安全" and names[1] == "耕地保有量"              # 安全 first
    forest = next(r for r in main.rows[1:] if r.cells[1].text == "森林覆盖率")
    assert forest.cells[-1].text == "未达标"
    fill = forest.cells[-1]._tc.tcPr.xpath("./w:shd/@w:fill")
    assert fill == [_light(a.colours["未达标"])]
    counties = d.tables[1]
    assert [c.text for c in counties.rows[0].cells] == ["指标（单位）", "全市", "利通区", "青铜峡市"]
    warn = next(t for t in d.tables if t.rows[0].cells[0].text == "指标"
                and [c.text for c in t.rows[0].cells] == ["指标", "行政区", "状态", "原因"])
    assert len(warn.rows) == 1 + len(a.warnings())
    miss = next(t for t in d.tables if [c.text for c in t.rows[0].cells] == ["指标", "缺少的数据",
                                                                               "涉及范围"])
    # grouped: one row per missing input, far fewer rows than (indicator × unit) pairs
    assert len(miss.rows) - 1 < len(a.missing())
    assert any("草原综合植被盖度" in r.cells[1].text and "青铜峡市" in r.cells[2].text
               for r in miss.rows[1:])
    assert not any("（" in r.cells[1].text and "_" in r.cells[1].text for r in miss.rows[1:])
    sources = next(t for t in d.tables if t.rows[0].cells[0].text == "数据")
    assert {r.cells[1].text for r in sources.rows[1:]} >= {"2020 年版", "2024 年版", "2022 年版"}


def test_docx_charts_and_maps_use_a_cjk_font(report):
    _, records, _ = report
    assert _glyph_warnings(records) == []


def test_large_layers_are_drawn_as_rasters(assessed):
    from onemap.indicators.report import render_maps

    store, a = assessed
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        maps = render_maps(a, store, dpi=50, vector_limit=4)      # every layer counts as large
    assert [t for t, _, _ in maps] == ["2024年土地利用现状图", "三条控制线及自然保护地分布图",
                                       "2024年变化热点（按县）"]
    assert all(png is not None and png.startswith(b"\x89PNG") for _, png, _ in maps)
    assert _glyph_warnings(rec) == []


def test_rasterize_fills_pixel_centres():
    import numpy as np
    import shapely

    from onemap.indicators._rastermap import rasterize

    img = rasterize(np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], dtype=object),
                    np.array(["#FF0000", "#0000FF"], dtype=object), (0, 0, 4, 2), (2, 4), alpha=0.5)
    assert img.shape == (2, 4, 4)
    assert img[1, 0].tolist() == [1.0, 0.0, 0.0, 0.5]          # south-west pixel: red
    assert img[1, 1].tolist() == [0.0, 0.0, 1.0, 0.5]
    assert img[0, :, 3].tolist() == [0.0] * 4                  # north row: nothing
    assert img[1, 2:, 3].tolist() == [0.0, 0.0]


def test_docx_without_workspace_has_no_maps(assessment_2024, tmp_path):
    path = write_assessment_docx(assessment_2024, tmp_path / "r.docx", None, dpi=50)
    d = docx.Document(str(path))
    assert len(d.inline_shapes) == 1 + 10
    assert any("未绘制专题图" in p.text for p in d.paragraphs)


def test_period_report_title(ws, tmp_path):
    from onemap.indicators import assess

    a = assess(ws, period="2021-2025", year=2024, codes=["grass_cover", "wetland"])
    d = docx.Document(str(write_assessment_docx(a, tmp_path / "p.docx", None, dpi=50)))
    title = next(p.text for p in d.paragraphs if p.style.name == "Title")
    assert "2021—2025年评估报告" in title
    assert "三、指标评估结果" in [p.text for p in d.paragraphs if p.style.name == "Heading 1"]


def test_xlsx(assessment_2024, tmp_path):
    a = assessment_2024
    path = write_assessment_xlsx(a, tmp_path / "体检.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["指标总表", "分县指标", "历年数值", "预警", "缺少数据", "数据来源", "指标定义"]
    ws = wb["指标总表"]
    assert ws["A1"].value == a.title + "指标总表"
    assert ws["A2"].value == f"填报单位：{a.city_name}自然资源局"
    header = [c.value for c in ws[3]]
    assert header[:5] == ["维度", "类别", "指标名称", "类型", "单位"]
    assert "指标代码" not in header  # names, never internal keys
    col = header.index("状态") + 1
    rows = {ws.cell(row=r, column=3).value: r for r in range(4, ws.max_row + 1)
            if ws.cell(row=r, column=3).value}
    assert len(rows) == 25
    assert "forest_cover" not in rows
    r = rows[a.indicator("forest_cover").name]
    assert ws.cell(row=r, column=col).value == "未达标"
    assert ws.cell(row=r, column=col).fill.fgColor.rgb.endswith(_light(a.colours["未达标"]))
    value = ws.cell(row=rows[a.indicator("farmland").name], column=header.index("现状值") + 1)
    assert value.value == pytest.approx(2.23) and value.number_format == "#,##0.00"
    assert wb["分县指标"].max_row == 3 + 25 * 3 + 0
    series = wb["历年数值"]
    assert series.max_row == 3 + 25 * 3 * 2                      # 2020 and 2024
    src = wb["数据来源"]
    made = [src.cell(r, 2).value for r in range(4, src.max_row + 1) if src.cell(r, 1).value == "生成时间"]
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", made[0])
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$3:$3"
    for sheet in wb:  # no internal keys such as prime_farmland_target anywhere a reader looks
        for row in sheet.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and re.search(r"[a-z]+_[a-z]+", v) for v in row), row
    defs = [c.value for c in wb["指标定义"][3]]
    assert "计算公式" in defs and "依据" in defs
