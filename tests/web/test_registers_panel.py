"""The 台账 panel in headless Chromium against the real API: list, filters, paging, deadline warnings,
map and highlight, detail with its audit history, a flow move, and the XLSX export.

The workspace is ``web_server.build_workspace`` (DLTB, counties, the web test user, an administrator)
plus register records: 24 补充耕地项目 (one entered 400 days ago and still 立项 → 已逾期, one
验收 entered 80 days ago → 即将到期) and two 矿业权 inside the DLTB squares. Screenshots go to
test-artifacts/web/ (``reg-*.png``).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from web_server import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    ROOT,
    USERNAME,
    WEB,
    build_workspace,
    free_port,
    wait_http,
)

NOW = datetime.now(UTC)
C1 = shapely.box(106.201, 37.951, 106.205, 37.955)
C2 = shapely.box(106.209, 37.957, 106.213, 37.961)


def _projects(tmp: Path, nos: range, state: str, name: str) -> Path:
    rows = [{"项目编号": f"BC-{i:03d}", "项目名称": f"第{i}号土地整治", "类型": "土地整治", "行政区": "640302",
             "新增耕地面积（平方米）": 1000 * i, "其中新增水田": 0, "平均等别": 7, "状态": state} for i in nos]
    path = tmp / name
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _registers(ws: Path, tmp: Path) -> None:
    from onemap.app import ledgers as uc
    from onemap.store import open_workspace

    store = open_workspace(ws)
    uc.import_records(store, "BCGDXM", _projects(tmp, range(1, 2), "立项", "a.csv"), actor="张三",
                      now=NOW - timedelta(days=400))
    # an hour's margin: "10 days left" stays true while the test runs (days are counted whole, rounded down)
    uc.import_records(store, "BCGDXM", _projects(tmp, range(2, 3), "验收", "b.csv"), actor="张三",
                      now=NOW - timedelta(days=80) + timedelta(hours=1))
    uc.import_records(store, "BCGDXM", _projects(tmp, range(3, 25), "立项", "c.csv"), actor="张三", now=NOW)
    gpd.GeoDataFrame({"许可证号": ["C1", "C2"], "类型": ["采矿权", "采矿权"], "矿业权人": ["甲公司", "乙公司"],
                      "矿山名称": ["甲石膏矿", "乙砂石矿"], "矿种": ["石膏", "砂石"], "行政区": ["640302", "640324"],
                      "有效期起": ["2020-01-01"] * 2, "有效期止": ["2030-01-01"] * 2, "生产状态": ["生产", "生产"]},
                     geometry=[C1, C2], crs=4490).to_file(tmp / "kyq.geojson", driver="GeoJSON")
    uc.import_records(store, "KYQ", tmp / "kyq.geojson", actor="张三", synthetic=True)
    store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> dict:
    if shutil.which("npm") is not None:
        subprocess.run(["bash", str(ROOT / "scripts" / "build_web.sh")], check=True)
    assert (WEB / "dist" / "index.html").exists(), "没有构建网页前端：请运行 scripts/build_web.sh"
    import uvicorn

    from onemap.api.app import create_app

    tmp = tmp_path_factory.mktemp("regweb")
    ws = tmp / "web.gpkg"
    build_workspace(ws)
    _registers(ws, tmp)
    srv = uvicorn.Server(uvicorn.Config(create_app(str(ws)), host="127.0.0.1", port=(port := free_port()),
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/api/catalog")
    yield {"url": url}
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"没有找到 Chromium：{CHROMIUM}（apt-get install -y chromium）")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN", accept_downloads=True)
        pg = ctx.new_page()
        pg.errors = []
        pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
        pg.set_default_timeout(30_000)
        pg.goto(server["url"] + "/")
        pg.wait_for_function("window.__onemap !== undefined")
        pg.wait_for_function("window.__onemap.state.ready || document.getElementById('login-dialog').open")
        if pg.locator("#login-dialog").evaluate("d => d.open"):
            pg.fill("#login-form input[name=username]", USERNAME)
            pg.fill("#login-form input[name=password]", PASSWORD)
            pg.click("#login-submit")
        pg.wait_for_function("window.__onemap.state.ready")
        yield pg
        ctx.close()
        browser.close()


def _rows(page) -> list[tuple[str, str, str]]:
    """(record number, row class, deadline cell text) of the table's rows."""
    got = page.evaluate("""() => [...document.querySelectorAll('#reg-table tbody tr')]
        .map(tr => [tr.dataset.record, tr.className, tr.querySelector('.reg-deadline').innerText])""")
    return [tuple(r) for r in got]


def test_list_filters_paging_and_warnings(page):
    page.click("#tabs button[data-tab=registers]")
    page.wait_for_selector("#reg-table tbody tr")
    options = page.locator("#reg-select option").all_inner_texts()
    assert "补充耕地项目（24 条，预警 2）" in options and "矿业权（模拟数据）（2 条）" in options
    assert page.locator("#reg-select").input_value() == "BCGDXM"
    assert page.locator("#reg-summary").inner_text() == "共 24 条，期限预警 2 条（立项 23，验收 1）"
    rows = _rows(page)
    assert len(rows) == 20 and page.locator("#reg-page").inner_text() == "第 1 / 2 页"
    assert rows[0] == ("BC-001", "overdue", "已逾期 35 天")
    assert rows[1] == ("BC-002", "due-soon", "即将到期（剩 10 天）")
    assert {r[1] for r in rows[2:]} == {""}
    page.screenshot(path=str(ARTIFACTS / "reg-01-list.png"))
    page.click("#reg-next")
    page.wait_for_function("document.getElementById('reg-page')?.innerText === '第 2 / 2 页'")
    assert [r[0] for r in _rows(page)] == ["BC-021", "BC-022", "BC-023", "BC-024"]
    page.select_option("#reg-deadline", "已逾期")
    page.click("#reg-load")
    page.wait_for_function("document.querySelectorAll('#reg-table tbody tr').length === 1")
    assert _rows(page) == [("BC-001", "overdue", "已逾期 35 天")]
    page.fill("#reg-text", "第2")
    page.select_option("#reg-deadline", "")
    page.click("#reg-load")
    page.wait_for_function("document.getElementById('reg-summary')?.innerText.startsWith('共 6 条')")
    # 第2号, 第20号 … 第24号 (not 第12号)
    assert [r[0] for r in _rows(page)] == ["BC-002", "BC-020", "BC-021", "BC-022", "BC-023", "BC-024"]
    assert not page.errors, page.errors


def test_map_row_zoom_detail_history_and_a_move(page, server):
    page.select_option("#reg-select", "KYQ")
    page.wait_for_function("document.querySelectorAll('#reg-table tbody tr').length === 2")
    drawn = page.evaluate("() => window.__onemap.map.__overlayFeatures.map(f => f.properties.record_no)")
    assert drawn == ["C1", "C2"]
    page.click("#reg-table tbody tr[data-record=C2]")
    page.wait_for_selector("#reg-history tbody tr")
    assert page.evaluate("() => window.__onemap.map.__highlightFeatures.map(f => f.properties.record_no)") == ["C2"]
    lon, lat = C2.centroid.x, C2.centroid.y
    assert page.evaluate(f"() => window.__onemap.map.getBounds().contains([{lon}, {lat}])")
    assert page.evaluate("() => window.__onemap.map.getZoom()") > 13
    values = page.locator("#reg-values").inner_text()
    assert "许可证号\tC2" in values and "矿山名称\t乙砂石矿" in values
    assert page.locator("#reg-history tbody tr").count() == 1
    assert "登记（导入）" in page.locator("#reg-history").inner_text()
    page.screenshot(path=str(ARTIFACTS / "reg-02-detail.png"))
    page.click("#reg-action-status")  # 生产状态变更: SCZT from its code list
    page.select_option("#reg-field-SCZT", "停产")
    page.fill("#reg-field-notes", "安全检查停产整顿")
    page.click("#reg-action-submit")
    page.wait_for_function("document.querySelectorAll('#reg-history tbody tr').length === 2")
    assert "生产状态\t停产" in page.locator("#reg-values").inner_text()
    history = page.locator("#reg-history").inner_text()
    assert "生产状态变更" in history and USERNAME in history
    page.screenshot(path=str(ARTIFACTS / "reg-03-moved.png"))
    assert not page.errors, page.errors


def test_export_button_downloads_the_filtered_register(page, tmp_path):
    with page.expect_download() as got:
        page.click("#reg-export")
    path = tmp_path / "kyq.xlsx"
    got.value.save_as(path)
    assert got.value.suggested_filename == "矿业权台账.xlsx"
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(path)["矿业权"].iter_rows()]
    head = next(i for i, r in enumerate(rows) if r[0] == "许可证号")
    assert [r[0] for r in rows[head + 1:]] == ["C1", "C2"]
    assert not page.errors, page.errors
