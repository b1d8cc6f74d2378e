"""The field app (/field/, a PWA) in headless Chromium as a phone (390×844, touch, emulated GPS).

One officer's day, in order: log in, download the tasks and the offline map (its size shown
before), go offline and reload (the app, the tasks and the map tiles come from the phone), open a
case task, fill its form, take two photos (hashed in the browser at capture), save; reload again
offline (the queue survives); come back online: the submission lands once, the case shows the
photos with their positions, and a forced retry adds nothing. Screenshots go to
``test-artifacts/web/field-*.png``.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import urllib.request

import pytest
from PIL import Image
from shapely.geometry import shape
from test_browser import (  # noqa: F401 - fixtures shared with the workbench tests
    artifacts,
    browser,
    login_if_offered,
    web_dist,
)
from web_server import (
    FIELD_PASSWORD,
    PASSWORD,
    USERNAME,
    add_field_data,
    build_workspace,
    free_port,
    wait_http,
)

OFFICER = "litong"
# put the (already sent) submission back into the queue and sync again: a retry
REQUEUE_JS = """async () => {
    const db = await new Promise((r) => {
        const q = indexedDB.open('onemap-field'); q.onsuccess = () => r(q.result); });
    const item = await new Promise((r) => {
        const g = db.transaction('queue').objectStore('queue').getAll();
        g.onsuccess = () => r(g.result[0]); });
    item.status = 'queued';
    await new Promise((r) => {
        const t = db.transaction('queue', 'readwrite');
        t.objectStore('queue').put(item); t.oncomplete = r; });
    await window.__field.sync();
}"""
MAP_OFFLINE_JS = """() => { const m = window.__field.map; return !!m && !!m.getSource('src-DLTB')
    && m.areTilesLoaded() && m.querySourceFeatures('src-DLTB', {sourceLayer: 'DLTB'}).length > 0
    && !!m.getSource('me') && m.querySourceFeatures('me').length === 1; }"""
MAP_STATE_JS = """() => { const m = window.__field.map; return m && {
    loaded: m.loaded(), tiles: m.areTilesLoaded(), dltb: !!m.getSource('src-DLTB'),
    features: m.getSource('src-DLTB') ? m.querySourceFeatures('src-DLTB', {sourceLayer: 'DLTB'}).length : -1,
    me: m.getSource('me') ? m.querySourceFeatures('me').length : -1, zoom: m.getZoom(),
    center: m.getCenter(), pos: window.__field.state.position,
    controlled: !!navigator.serviceWorker.controller }; }"""


@pytest.fixture(scope="module")
def field_server(tmp_path_factory, web_dist):  # noqa: F811 - the imported fixture
    import uvicorn

    from onemap.api.app import create_app

    ws = tmp_path_factory.mktemp("fieldws") / "field.gpkg"
    build_workspace(ws)
    add_field_data(ws)
    app = create_app(str(ws), cache_dir=tmp_path_factory.mktemp("fieldtiles"))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz")
    yield {"url": url, "path": ws}
    srv.should_exit = True
    thread.join(timeout=10)


def api(url: str, path: str, user: str, password: str):
    body = json.dumps({"username": user, "password": password}).encode()
    req = urllib.request.Request(url + "/api/login", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        token = json.loads(resp.read())["token"]
    req = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def photo_bytes(seed: int) -> bytes:
    img = Image.new("RGB", (640, 480), (40 + seed * 50, 140, 90))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_field_day_offline_then_sync(browser, field_server, artifacts):  # noqa: F811
    url = field_server["url"]
    tasks = api(url, "/api/field/tasks", OFFICER, FIELD_PASSWORD)["tasks"]
    task = next(t for t in tasks if t["kind"] == "case_check" and t["state"] == "issued")
    spot = shape(task["geometry"]).representative_point()
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
        has_touch=True, locale="zh-CN", geolocation={"longitude": spot.x, "latitude": spot.y,
                                                     "accuracy": 6},
        permissions=["geolocation"])
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(30_000)
    try:
        page.goto(url + "/field/")
        page.wait_for_function("window.__field && window.__field.ready")
        assert page.locator("#view-login").is_visible()
        # big touch targets
        assert page.locator("#login-submit").bounding_box()["height"] >= 48
        page.fill("#login-form input[name=username]", OFFICER)
        page.fill("#login-form input[name=password]", FIELD_PASSWORD)
        page.click("#login-submit")
        page.locator("#view-tasks").wait_for()
        page.click("#btn-download")
        page.wait_for_function("document.getElementById('download-info').textContent.includes('已下载')")
        assert page.locator(f"[data-task='{task['id']}']").is_visible()
        size = page.locator("#offline-size").inner_text()
        assert "个瓦片" in size and "上限 50.0 MB" in size, size
        page.screenshot(path=str(artifacts / "field-01-tasks.png"))
        page.click("#btn-tiles")
        page.wait_for_function("document.getElementById('offline-size').dataset.done === 'yes'")

        # offline: the app, the tasks and the map come from the phone
        ctx.set_offline(True)
        page.reload()
        page.wait_for_function("window.__field && window.__field.ready")
        assert page.locator("#net").inner_text() == "离线"
        assert page.locator(f"[data-task='{task['id']}']").is_visible()
        try:
            page.wait_for_function(MAP_OFFLINE_JS, timeout=90_000)
        except Exception:
            print(page.evaluate(MAP_STATE_JS))
            page.screenshot(path=str(artifacts / "field-02-offline-map-failed.png"))
            raise
        page.screenshot(path=str(artifacts / "field-02-offline-map.png"))

        # one task: form, two photos taken in the app
        page.click(f"[data-task='{task['id']}']")
        page.locator("#view-task").wait_for()
        page.fill("textarea[name=notes]", "现场新建厂房一栋，已封顶")
        page.locator("label.choice", has_text="已建成").click()
        shots = [photo_bytes(1), photo_bytes(2)]
        for i, data in enumerate(shots):
            page.set_input_files("#photo-input", files=[{"name": f"现场{i + 1}.jpg",
                                                         "mimeType": "image/jpeg", "buffer": data}])
            page.wait_for_function(f"document.querySelectorAll('#photo-list li').length === {i + 1}")
        listed = page.locator("#photo-list").inner_text()
        for data in shots:  # the hash computed in the browser at capture
            assert hashlib.sha256(data).hexdigest()[:8] in listed
        page.screenshot(path=str(artifacts / "field-03-form.png"))
        page.click("#btn-save")
        page.locator("#view-tasks").wait_for()
        assert page.locator("#queue-count").inner_text() == "1"

        # the queue survives a restart of the app
        page.reload()
        page.wait_for_function("window.__field && window.__field.ready")
        assert page.locator("#queue-count").inner_text() == "1"
        assert page.locator("li.queue[data-status=queued]").count() == 1
        case = api(url, f"/api/cases/{task['case_id']}", USERNAME, PASSWORD)
        assert case["field_evidence"] == [] and case["state"] == "issued"

        # back online: it goes up by itself, once
        ctx.set_offline(False)
        page.locator("li.queue[data-status=sent]").wait_for()
        assert page.locator("#queue-count").inner_text() == "0"
        page.screenshot(path=str(artifacts / "field-04-synced.png"))
        case = api(url, f"/api/cases/{task['case_id']}", USERNAME, PASSWORD)
        assert case["state"] == "evidenced"
        got = case["field_evidence"]
        assert [e["sha256"] for e in got] == [hashlib.sha256(d).hexdigest() for d in shots]
        assert all(e["flags"] == [] for e in got), got
        assert abs(got[0]["lon"] - spot.x) < 1e-6 and abs(got[0]["lat"] - spot.y) < 1e-6
        assert got[0]["accuracy_m"] == 6 and got[0]["officer"] == f"{OFFICER}外业员"
        assert len([e for e in case["events"] if e["action"] == "evidence"]) == 1

        # a retry of the same submission (e.g. the answer was lost) adds nothing
        page.evaluate(REQUEUE_JS)
        page.locator("li.queue[data-status=sent]").wait_for()
        assert "2 张此前已收到" in page.locator("li.queue").inner_text()
        again = api(url, f"/api/cases/{task['case_id']}", USERNAME, PASSWORD)
        assert len(again["field_evidence"]) == 2
        assert len([e for e in again["events"] if e["action"] == "evidence"]) == 1
        assert not errors, errors
    finally:
        ctx.close()

    # the office: the workbench's case panel shows the photos on the map with their flags
    office = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = office.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(url + "/")
        page.wait_for_function("window.__onemap !== undefined")
        page.wait_for_function(
            "window.__onemap.state.ready || document.getElementById('login-dialog').open")
        login_if_offered(page, {"username": USERNAME, "password": PASSWORD})
        page.click("[data-tab=cases]")
        page.click(f"[data-field-evidence='{task['case_id']}']")
        rows = page.locator("#field-evidence-table tbody tr")
        rows.first.wait_for()
        assert rows.count() == 2
        assert "现场1.jpg" in rows.nth(0).inner_text() and "6 米" in rows.nth(0).inner_text()
        drawn = page.evaluate("() => window.__onemap.map.__overlayFeatures.map(f => f.geometry.type)")
        assert drawn.count("Point") == 2
        page.screenshot(path=str(artifacts / "field-05-office.png"))
    finally:
        office.close()
