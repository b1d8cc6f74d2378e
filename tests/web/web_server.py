"""Helpers of the browser tests (test_browser.py): Chromium settings, a small deterministic
workspace, and waiting for the server. Not a conftest: other test folders import their own
``conftest`` by name, so this folder keeps its fixtures in the test module.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "onemap" / "web"
ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = os.environ.get("ONEMAP_CHROMIUM", "/usr/bin/chromium")
# Headless Chromium without a GPU: WebGL 2 through ANGLE on SwiftShader (software).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",
]
USERNAME = os.environ.get("ONEMAP_WEB_TEST_USER", "webtest")
PASSWORD = os.environ.get("ONEMAP_WEB_TEST_PASSWORD", "webtest-Pass-2026")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
            last = exc
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"服务器没有在 {timeout:.0f} 秒内响应：{url}（{last}）")


# A small, deterministic workspace: 8 × 8 DLTB patches of 200 m near 吴忠 (two versions, five
# patches built on between them), two counties, permanent farmland over some of them.
CLASSES = [("0101", "水田"), ("0102", "水浇地"), ("0103", "旱地"), ("0301", "乔木林地"),
           ("0404", "其他草地"), ("0702", "农村宅基地"), ("1003", "公路用地"), ("1101", "河流水面"),
           ("1202", "设施农用地"), ("0201", "果园")]
BUILT_ON = {(0, 0): ("0702", "农村宅基地"), (0, 1): ("0601", "工业用地"),
            (2, 2): ("0702", "农村宅基地"), (5, 6): ("0601", "工业用地"), (6, 1): ("0601", "工业用地")}
LON0, LAT0, STEP, SIDE = 106.20, 37.95, 0.002, 8


def _dltb(changed: dict):
    import numpy as np
    import shapely
    from geopandas import GeoDataFrame

    from onemap.geo.area import ellipsoidal_area

    rows = []
    for i in range(SIDE):
        for j in range(SIDE):
            code, name = changed.get((i, j), CLASSES[(i * 3 + j) % len(CLASSES)])
            county = "640302" if j < SIDE // 2 else "640324"
            box = shapely.box(LON0 + j * STEP, LAT0 + i * STEP,
                              LON0 + (j + 1) * STEP, LAT0 + (i + 1) * STEP)
            rows.append((box, code, name, f"{county}1010010000000", f"6403{i:02d}{j:02d}0000"))
    geoms = [r[0] for r in rows]
    area = np.round(ellipsoidal_area(np.array(geoms, dtype=object)), 2)
    n = len(rows)
    return GeoDataFrame(
        {"BSM": [r[4] for r in rows], "DLBM": [r[1] for r in rows], "DLMC": [r[2] for r in rows],
         "ZLDWDM": [r[3] for r in rows], "QSXZ": ["30"] * n, "TBMJ": area, "KCXS": [0.0] * n,
         "TBDLMJ": area},
        geometry=geoms, crs=4490,
    )


def build_workspace(path: Path) -> dict:
    """Write the workspace, a test user, and the cases the monitoring engine opens."""
    import shapely
    from geopandas import GeoDataFrame

    from onemap.store import init_workspace
    from onemap.store.base import VersionMeta
    from onemap.store.users import create_user

    store = init_workspace(path, name="网页测试工作空间", region="640300")
    meta = VersionMeta(synthetic=True)
    store.write_version("DLTB", "2023", _dltb({}), meta, title="地类图斑")
    store.write_version("DLTB", "2024", _dltb(BUILT_ON), meta, title="地类图斑")
    half = LON0 + STEP * SIDE / 2
    top, right = LAT0 + STEP * SIDE, LON0 + STEP * SIDE
    xzq = GeoDataFrame({"XZQDM": ["640302", "640324"], "XZQMC": ["利通区", "同心县"]},
                       geometry=[shapely.box(LON0, LAT0, half, top), shapely.box(half, LAT0, right, top)],
                       crs=4490)
    store.write_version("XZQ", "2024", xzq, meta, title="行政区")
    yj = GeoDataFrame({"BSM": ["YJ1", "YJ2"], "DLBM": ["0101", "0102"]},
                      geometry=[shapely.box(LON0, LAT0, LON0 + 2 * STEP, LAT0 + STEP),
                                shapely.box(LON0 + 2 * STEP, LAT0 + 2 * STEP,
                                            LON0 + 5 * STEP, LAT0 + 4 * STEP)],
                      crs=4490)
    store.write_version("YJJBNTTB", "2024", yj, meta, title="永久基本农田")
    create_user(store.sql_engine(), USERNAME, PASSWORD, role="admin", display_name="网页测试")
    from onemap.monitor import service as monitor

    monitor.run_changes(store, "DLTB", "2023", "2024", rows=False)
    monitor.judge_changes(store, rows=False)
    info = {"path": path, "cases_opened": len(monitor.open_cases(store)["opened"])}
    store.close()
    return info


# ---- the field app (issue #22): officers of each county and hazard points due for 巡查 ----------
FIELD_PASSWORD = "field-Pass-2026"
#: county → field officer (enforcer) of that county
FIELD_OFFICERS = {"640302": "litong", "640324": "tongxin"}
#: hazard points: number, county, position (inside the test patches), name
HAZARD_POINTS = [("H640302", "640302", LON0 + 0.5 * STEP, LAT0 + 6.5 * STEP, "利通测试滑坡"),
                 ("H640324", "640324", LON0 + 6.5 * STEP, LAT0 + 6.5 * STEP, "同心测试崩塌")]


def add_field_data(path: Path, *, imported_days_ago: int = 100) -> None:
    """Add the county officers and two hazard points whose 巡查 falls due within 30 days."""
    from datetime import UTC, datetime, timedelta

    import geopandas as gpd
    import shapely

    from onemap.app.ledgers import import_records
    from onemap.store import open_workspace
    from onemap.store.users import create_user

    store = open_workspace(path)
    for county, name in FIELD_OFFICERS.items():
        create_user(store.sql_engine(), name, FIELD_PASSWORD, role="enforcer", county=county,
                    display_name=f"{name}外业员")
    create_user(store.sql_engine(), "reader", FIELD_PASSWORD, role="viewer")
    rows = [{"统一编号": no, "名称": title, "类型": "滑坡", "行政区": county, "威胁人数": 12,
             "威胁财产": 80, "监测员": "李四", "防治措施": "群测群防"}
            for no, county, _, _, title in HAZARD_POINTS]
    gdf = gpd.GeoDataFrame(rows, geometry=[shapely.Point(x, y) for _, _, x, y, _ in HAZARD_POINTS],
                           crs="EPSG:4490")
    src = Path(str(path) + ".hazards.geojson")
    gdf.to_file(src, driver="GeoJSON")
    when = datetime.now(UTC) - timedelta(days=imported_days_ago)
    import_records(store, "地质灾害隐患点", src, actor="测试", now=when.isoformat())
    src.unlink()
    store.close()
