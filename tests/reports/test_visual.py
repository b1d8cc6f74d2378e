"""The DOCX documents as a reader gets them: rendered to PDF (LibreOffice) and page images.

Each document is rendered with ``soffice --headless`` and read back with
``pdftotext``; the page images (``pdftoppm``) are kept under
``test-artifacts/documents/`` for a person to look at. The checks: page
counts in a sensible range, the 模拟数据 banner on every page exactly when
an input is synthetic, every number of every table on one line (a number
broken over two lines is not found verbatim in the text), no internal keys.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest

from onemap.indicators import run_assessment
from onemap.services import build_sample_workspace, run_check, update_settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"
SITE = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
    "type": "Polygon", "coordinates": [[[106.150, 37.958], [106.163, 37.958], [106.163, 37.967],
                                        [106.150, 37.967], [106.150, 37.958]]]}}]}
CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
NUMBER = re.compile(r"^[−+-]?\d[\d,]*(\.\d+)?%?$")


def render(docx_path: Path, name: str) -> list[str]:
    """PDF and PNG pages of a DOCX; returns the text of each page."""
    out = docx_path.parent
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out),
                    str(docx_path)], check=True, capture_output=True, timeout=240)
    pdf = docx_path.with_suffix(".pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / name)], check=True)
    shutil.copy(pdf, ARTIFACTS / f"{name}.pdf")
    # pdftotext puts a space between Chinese and Latin text ("15 号"): drop it to compare
    text = re.sub(rf" (?=[{CJK}])|(?<=[{CJK}]) ", "", text)
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def table_numbers(path: Path) -> set[str]:
    """Every number-only cell text of every table of a DOCX."""
    found = set()
    for t in docx.Document(str(path)).tables:
        for row in t.rows:
            for cell in row.cells:
                text = cell.text.strip()
                if NUMBER.match(text) and len(text) >= 4:
                    found.add(text)
    return found


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A small synthetic sample with the bureau's settings."""
    path = tmp_path_factory.mktemp("sample") / "wz.gpkg"
    store = build_sample_workspace(path, patches=3000, seed=11)
    update_settings(store, ["编制单位=吴忠市自然资源局", "预审意见文号=吴自然资预〔2026〕15号",
                            "体检报告文号=吴自然资〔2026〕88号"])
    return store


@pytest.fixture(scope="module")
def check_pages(sample, tmp_path_factory):
    folder = tmp_path_factory.mktemp("check")
    site = folder / "site.geojson"
    site.write_text(json.dumps(SITE), encoding="utf-8")
    out = folder / "预审意见.docx"
    d = run_check(sample, site, use="工业", docx=out, name="吴忠市某产业园区配套项目",
                  applicant="吴忠市某投资有限公司")
    return out, render(out, "yushen"), d


@pytest.fixture(scope="module")
def assess_pages(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("assess") / "体检报告.docx"
    run_assessment(sample, year=2024, docx=out)
    return out, render(out, "tijian")


def test_check_document_renders_as_filed(check_pages):
    path, pages, d = check_pages
    assert 4 <= len(pages) <= 10, len(pages)
    text = "\n".join(pages)
    assert all("模拟数据" in p for p in pages)                     # banner on every page
    assert "建设项目用地预审意见" in pages[0] and "吴自然资预〔2026〕15号" in pages[0]
    assert "吴忠市某产业园区配套项目" in pages[0] and "site.geojson" not in text
    assert "吴忠市某投资有限公司" in text
    assert re.search(r"—\s*2\s*—", pages[1])                     # page numbers
    seal = next(i for i, p in enumerate(pages) if "（盖章）" in p)
    assert "审核人（签字）" in pages[seal]                            # one block, one page
    assert re.search(r"^\d+\.", pages[seal], re.M)                  # not alone: after 结论与建议
    assert "附件：审查依据" in pages[seal + 1]                         # the attachment follows
    assert "国土资规〔2016〕8号" in text
    # the site is 114.12 公顷 (ellipsoidal m² / 10 000, 2 decimals) and its total is printed whole
    assert f"{d['site_area_m2'] / 10000:,.2f}" in text
    numbers = table_numbers(path)
    assert numbers
    missing = sorted(n for n in numbers if n not in text)
    assert missing == [], missing                                 # no number broken over lines
    assert not re.search(r"\d\.\d{4}\b", text)                    # no 4-decimal 公顷
    assert not re.search(r"\d\.\d+e[+-]\d", text)                 # no scientific notation


def test_assessment_document_renders_as_filed(assess_pages):
    path, pages = assess_pages
    assert 12 <= len(pages) <= 30, len(pages)
    text = "\n".join(pages)
    assert all("模拟数据" in p for p in pages)
    cover = pages[0]
    assert "吴忠市国土空间规划实施" in cover and "2024年度体检报告" in cover
    assert "吴自然资〔2026〕88号" in cover and "吴忠市自然资源局" in cover
    assert "目" in pages[1] and "录" in pages[1] and "建议和对策" in pages[1]
    assert "一张图" not in cover                                   # titled after the city
    assert not re.search(r"\d{4}-\d\d-\d\dT", text)               # no ISO timestamps
    assert "_target" not in text and "/work/" not in text and "/tmp/" not in text
    numbers = table_numbers(path)
    missing = sorted(n for n in numbers if n not in text)
    assert missing == [], missing
    assert "（盖章）" in pages[-1]


def test_real_data_has_no_banner(tmp_path):
    """A workspace whose data are not synthetic: no 模拟数据 mark on any page."""
    from builders import dltb_frame
    from onemap.store import init_workspace
    from onemap.store.base import VersionMeta

    store = init_workspace(tmp_path / "real.gpkg", name="实测", region="640302")
    store.write_version("DLTB", "2024", dltb_frame(), VersionMeta(source_file="DLTB.shp"))
    site = tmp_path / "site.geojson"
    site.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
            [106.201, 37.9505], [106.205, 37.9505], [106.205, 37.9515], [106.201, 37.9515],
            [106.201, 37.9505]]]}}]}), encoding="utf-8")
    out = tmp_path / "real.docx"
    run_check(store, site, use="工业", docx=out, name="某项目")
    pages = render(out, "real")
    assert pages and not any("模拟数据" in p for p in pages)
    assert "坐落单位名称未入库" in "".join(pages)     # no XZQ/CJDCQ: says so, prints no bare code
