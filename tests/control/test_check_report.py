"""The DOCX report, the map and its CJK font, and run_check (the CLI use case)."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pytest
from control_helpers import bopan_bytes, load_cases

from onemap.control.report import render_site_map, write_check_docx
from onemap.reports import fonts
from onemap.services import run_check

MULTI = next(c for c in load_cases()["cases"] if c["id"] == "multi_parcel_bopan")


@pytest.fixture(scope="module")
def multi_site(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("site") / "三地块报盘.txt"
    path.write_bytes(bopan_bytes(MULTI["site"]["bopan"]))
    return path


def test_cjk_font_is_found_and_has_glyphs():
    font = fonts.find_cjk_font()
    assert font.path.is_file()
    assert "CJK" in font.family or "Han" in font.family or "Hei" in font.family
    from matplotlib import font_manager

    found = font_manager.findfont(font_manager.FontProperties(family=font.family),
                                  fallback_to_default=False)
    assert Path(found).name.startswith("Noto") and "CJK" in Path(found).name


def test_map_uses_the_cjk_font_without_missing_glyphs(checker, multi_site, caplog):
    from onemap.control import read_site

    result = checker.check(read_site(multi_site), use="城镇建设")
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        png = render_site_map(result, checker, dpi=80)
    texts = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [t for t in texts if "missing from" in t or "Glyph" in t], texts
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_missing_cjk_font_gives_a_clear_message(monkeypatch):
    import matplotlib

    latin = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    monkeypatch.setenv("ONEMAP_CJK_FONT", str(latin))
    fonts.find_cjk_font.cache_clear()
    try:
        with pytest.raises(fonts.FontNotFoundError, match="fonts-noto-cjk"):
            fonts.find_cjk_font()
    finally:
        monkeypatch.delenv("ONEMAP_CJK_FONT")
        fonts.find_cjk_font.cache_clear()
    assert fonts.find_cjk_font().path.is_file()


def test_run_check_writes_json_ready_dict_and_docx(workspace, multi_site, tmp_path):
    out = tmp_path / "报告" / "check.docx"
    d = run_check(workspace, multi_site, use="城镇建设", docx=out)
    json.dumps(d, ensure_ascii=False)  # JSON-ready
    assert Path(d["docx"]) == out and out.is_file()
    assert {"site_area_m2", "by_dlbm", "layers", "rules", "parcels"} <= set(d)
    assert len(d["parcels"]) == 3
    for p in d["parcels"]:
        assert {"site_area_m2", "by_dlbm", "layers", "rules"} <= set(p)
        assert "parcels" not in p
    assert d["layers"]["STBHHX"]["ids"] == ["HX1"]
    assert d["layers"]["DZYFQ"]["status"] == "未入库，未检查"

    import docx

    doc = docx.Document(str(out))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for h in ("一、项目概况", "二、用地位置", "三、用地规模和占用地类", "四、三条控制线和其他管控范围",
              "（一）永久基本农田", "（二）生态保护红线", "（三）城镇开发边界", "五、规划用途符合性",
              "六、节约集约用地", "七、用途管制逐条审查", "八、分地块审查结果", "九、结论与建议",
              "附件：审查依据"):
        assert h in headings, headings
    titles = [p.text for p in doc.paragraphs if p.style.name == "Title"]
    assert titles == ["建设项目用地预审意见"]
    assert len(doc.inline_shapes) == 1
    blips = [r for r in doc.part.rels.values() if "image" in r.reltype]
    assert blips and blips[0].target_part.blob.startswith(b"\x89PNG")
    headers = [[c.text for c in t.rows[0].cells] for t in doc.tables]
    assert ["地类（编码）", "统计分组", "图斑数", "面积（公顷）"] in headers
    assert ["管控范围", "状态", "占用面积（公顷）", "涉及要素"] in headers
    assert ["序号", "审查事项", "结论", "理由"] in headers
    rule_table = doc.tables[headers.index(["序号", "审查事项", "结论", "理由"])]
    assert len(rule_table.rows) == 1 + len(d["rules"])
    verdicts = [r.cells[2].text for r in rule_table.rows[1:]]
    assert verdicts == [r["verdict"] for r in d["rules"]]
    layer_table = doc.tables[headers.index(["管控范围", "状态", "占用面积（公顷）", "涉及要素"])]
    assert any(r.cells[1].text == "未入库，未检查" for r in layer_table.rows)
    # the class table: net 地类面积 per class plus 田坎 add up to the site area (公顷, 2 decimals)
    class_table = doc.tables[headers.index(["地类（编码）", "统计分组", "图斑数", "面积（公顷）"])]
    total = class_table.rows[-1].cells
    assert total[0].text == "合计"
    assert total[3].text == f"{sum(c['area_m2'] for c in d['classes']) / 10000:,.2f}"
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "椭球面积" in body
    assert "三地块报盘" not in body  # never named after the file
    assert "国土资规〔2016〕8号" in body and "（DZYFQ）" not in body
    # every rule not met has its advice in 结论与建议
    for r in d["rules"]:
        if r["verdict"] != "符合" and r["advice"]:
            assert r["advice"] in body, r["id"]
    # East Asian font of the body style comes from the document template (GB/T 9704: 仿宋)
    from docx.oxml.ns import qn

    rfonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == "仿宋_GB2312"


def test_docx_without_map_and_single_parcel(checker, tmp_path):
    import shapely

    result = checker.check(shapely.box(106.497, 37.996, 106.503, 38.002), use="工业")
    path = write_check_docx(result, tmp_path / "one.docx")
    import docx

    doc = docx.Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "八、分地块审查结果" not in headings and "八、结论与建议" in headings
    assert len(doc.inline_shapes) == 0
    assert any("未生成示意图" in p.text for p in doc.paragraphs)


@pytest.mark.parametrize("case_id", ["outside_extent", "invalid_bowtie"])
def test_report_of_a_site_outside_or_repaired_says_so(workspace, tmp_path, case_id):
    from control_helpers import write_site

    case = next(c for c in load_cases()["cases"] if c["id"] == case_id)
    site = write_site(case["site"], tmp_path, case_id)
    d = run_check(workspace, site, use=case["use"], docx=tmp_path / "r.docx",
                  map_png=tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes().startswith(b"\x89PNG")
    import docx

    text = "\n".join(p.text for p in docx.Document(str(tmp_path / "r.docx")).paragraphs)
    for piece in case["expect"]["messages_contain"]:
        assert piece in text
        assert any(piece in m for m in d["messages"])


def test_line_site_report_gives_length_and_crossings_never_an_area(workspace, tmp_path):
    """A 线状 报盘 parcel (a road centre line): the 预审意见 says its length and what it crosses."""
    import docx
    import shapely
    from test_site_coordinate_files import HEAD, ROAD, _length, _points, _write

    lines = ["[属性描述]", "项目名称=某某道路工程", *HEAD[1:], "[地块坐标]",
             "2,,1,道路中线,线,,交通,,@", *_points(ROAD)]
    site = _write(tmp_path, "道路.txt", lines)
    out = tmp_path / "road.docx"
    d = run_check(workspace, site, use="交通", docx=out, map_png=tmp_path / "road.png")
    assert d["kind"] == "线"
    doc = docx.Document(str(out))
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "（某某道路工程）" in body and "道路.txt" not in body + cells   # the 报盘 项目名称
    length = f"{_length(shapely.LineString(ROAD)):,.2f}"
    assert f"线路长度 {length} 米" in cells
    assert "公顷" not in cells                                     # no area anywhere
    headers = [[c.text for c in t.rows[0].cells] for t in doc.tables]
    crossed = doc.tables[headers.index(["地类（编码）", "统计分组", "图斑数", "穿越长度（米）"])]
    assert len(crossed.rows) - 1 == len(d["crossed"]["classes"]) == 4
    layer_rows = {r.cells[0].text: r.cells[2].text for r in
                  doc.tables[headers.index(["管控范围", "状态", "涉及要素"])].rows[1:]}
    assert layer_rows["永久基本农田"].startswith("YN2")
    assert layer_rows["生态保护红线"] == "不涉及"
    assert (tmp_path / "road.png").read_bytes().startswith(b"\x89PNG")
