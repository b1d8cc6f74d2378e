"""The public page (/public) in headless Chromium at phone size (390 × 844).

A resident opens the page, sees the public layer the bureau marked, taps a place on the map,
writes what they saw, submits, gets a receipt, and reads the receipt's status. Screenshots go
to ``test-artifacts/web/`` (beside the other browser tests' screenshots).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from web_server import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, WEB, build_workspace, free_port, wait_http

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def public_server(tmp_path_factory):
    """A server over the browser-test workspace with 永久基本农田 marked public and one consultation."""
    if shutil.which("npm") is not None:
        subprocess.run(["bash", str(ROOT / "scripts" / "build_web.sh")], check=True)
    if not (WEB / "dist" / "portal.html").exists():
        pytest.fail("没有 src/onemap/web/dist/portal.html：请先运行 scripts/build_web.sh")
    import uvicorn

    from onemap.api.app import create_app
    from onemap.app import public
    from onemap.store import open_workspace

    ws = tmp_path_factory.mktemp("publicws") / "web.gpkg"
    build_workspace(ws)
    store = open_workspace(ws)
    public.mark_layer(store, "YJJBNTTB", None, approval_no="国土资规〔2024〕3号",
                      approved_on="2024-06-01", actor="pytest")
    today = date.today()
    public.create_item(store, kind="规划", title="某片区详细规划（草案）公示", consult=True,
                       start=str(today - timedelta(days=1)), end=str(today + timedelta(days=29)),
                       actor="pytest")
    store.close()
    app = create_app(str(ws))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz")
    yield url
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def phone(public_server):
    """Run steps on a phone-sized page: its own Playwright in its own thread.

    Another browser-test module may hold a sync Playwright for the whole session in the main
    thread, and a second one cannot start there; so this module's Playwright lives in one worker
    thread and every step runs in it (``phone(steps)`` returns what ``steps(page)`` returns and
    raises what it raises).
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"没有找到 Chromium：{CHROMIUM}（apt-get install -y chromium）")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="public-page")

    def start():
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True)
        page = ctx.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.set_default_timeout(30_000)
        return pw, browser, ctx, page

    pw, browser, ctx, page = pool.submit(start).result()
    yield lambda steps: pool.submit(steps, page).result()

    def stop():
        ctx.close()
        browser.close()
        pw.stop()

    pool.submit(stop).result()
    pool.shutdown()


def test_report_and_read_its_receipt_on_a_phone(phone, public_server):
    def steps(page):
        page.goto(f"{public_server}/public")
        page.wait_for_selector("#pt-map canvas")
        page.wait_for_function("() => document.getElementById('pt-ws').textContent.length > 0")
        assert page.inner_text("#pt-ws") == "网页测试工作空间"
        # the page fits the phone: no sideways scrolling
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(ARTIFACTS / "public-1-open.png"), full_page=True)

        box = page.locator("#pt-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert page.inner_text("#pt-where").startswith("已选位置（地图）：东经 ")
        page.fill("#pt-desc", "村东侧耕地上有人新建房屋")
        page.fill("#pt-contact", "13900000000")
        page.screenshot(path=str(ARTIFACTS / "public-2-form.png"), full_page=True)
        page.click("#pt-submit")
        page.wait_for_selector("#pt-receipt-value")
        receipt = page.inner_text("#pt-receipt-value")
        assert receipt.startswith("JB") and len(receipt) == 20
        page.screenshot(path=str(ARTIFACTS / "public-3-receipt.png"), full_page=True)

        page.click(".pt-tabs button[data-tab=track]")
        assert page.input_value("#pt-receipt-no") == receipt
        page.click("#pt-track")
        page.wait_for_selector("#pt-status-value")
        assert page.inner_text("#pt-status-value") == "已受理"
        page.screenshot(path=str(ARTIFACTS / "public-4-status.png"), full_page=True)

        page.fill("#pt-receipt-no", "JB20250101AAAAAAAAAA")
        page.click("#pt-track")
        page.wait_for_selector("#pt-track-error:not([hidden])")
        assert page.inner_text("#pt-track-error") == "没有回执号为 JB20250101AAAAAAAAAA 的举报"
        assert page.errors == []

    phone(steps)


def test_notice_comment_and_decisions_on_a_phone(phone, public_server):
    def steps(page):
        page.click(".pt-tabs button[data-tab=notices]")
        page.wait_for_selector("form.pt-comment")
        assert "某片区详细规划（草案）公示" in page.inner_text("#pt-notices")
        page.fill("form.pt-comment textarea", "建议保留村口的古树")
        page.click("form.pt-comment button[type=submit]")
        page.wait_for_selector("form.pt-comment .pt-result:not([hidden])")
        assert page.inner_text("form.pt-comment .pt-result") == "意见已提交（编号 1），感谢参与"
        page.screenshot(path=str(ARTIFACTS / "public-5-notice.png"), full_page=True)
        page.click(".pt-tabs button[data-tab=decisions]")
        page.wait_for_selector("#pt-decisions .pt-empty")
        assert page.inner_text("#pt-decisions") == "暂无公示的处罚决定。"
        assert page.errors == []

    phone(steps)


def _gps_jpeg(lon: float, lat: float) -> bytes:
    import io

    from PIL import Image

    def dms(v):
        d = int(v)
        m = int((v - d) * 60)
        return (float(d), float(m), round((v - d - m / 60) * 3600, 4))

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    exif[0x8769] = {36867: "2025:05:01 10:00:00"}
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def test_report_placed_by_its_photo_gps(phone, public_server):
    def steps(page):
        page.goto(f"{public_server}/public")
        page.wait_for_selector("#pt-map canvas")
        page.fill("#pt-desc", "只拍了照片，没有在地图上选点")
        page.click("#pt-submit")
        page.wait_for_selector("#pt-report-error:not([hidden])")
        assert page.inner_text("#pt-report-error") == ("请先在地图上点击选择位置，或使用手机定位"
                                                        "（也可附带有 GPS 位置的照片）。")
        page.set_input_files("#pt-photos", files=[{"name": "现场.jpg", "mimeType": "image/jpeg",
                                                   "buffer": _gps_jpeg(106.205, 37.955)}])
        page.click("#pt-submit")
        page.wait_for_selector("#pt-receipt-value")
        assert page.inner_text("#pt-receipt-value").startswith("JB")
        page.screenshot(path=str(ARTIFACTS / "public-6-photo-gps.png"), full_page=True)
        assert page.errors == []

    phone(steps)
