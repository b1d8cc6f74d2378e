"""The server keeps answering, without a single 5xx, while CLI ingests write into its workspace."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
import pyogrio
import pytest

from builders import dltb_frame
from onemap.store import init_workspace
from onemap.store.base import VersionMeta
from onemap.store.users import create_user, set_anonymous_read

from ._api_support import PASSWORD, _free_port, make_dltb

ONEMAP = [sys.executable, "-c", "from onemap.cli import main; main()"]


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture
def served(tmp_path):
    """A uvicorn server (subprocess) over a workspace with DLTB 2024 and anonymous reading."""
    path = tmp_path / "ws.gpkg"
    store = init_workspace(path, name="并发测试", region="640300")
    info = store.write_version("DLTB", "2024", make_dltb(), VersionMeta(synthetic=True),
                               title="地类图斑")
    create_user(store.sql_engine(), "admin", PASSWORD, role="admin")
    set_anonymous_read(store.sql_engine(), True)
    store.close()
    port = _free_port()
    env = dict(os.environ, ONEMAP_WORKSPACE=str(path),
               ONEMAP_TILE_CACHE=str(tmp_path / "tiles"),
               PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "onemap.api.app:app_from_env",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.1)
    yield url, path, info.id
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_readers_get_no_5xx_while_cli_ingests(served, tmp_path):
    url, ws, vid = served
    src = tmp_path / "DLTB.gpkg"
    pyogrio.write_dataframe(dltb_frame(), src, layer="DLTB", driver="GPKG")
    x, y = _tile(106.206, 37.906, 14)
    paths = [f"/tiles/{vid}/14/{x}/{y}.mvt", "/ogc/collections/DLTB_2024/items?limit=10",
             "/api/stats", "/api/catalog", "/ogc/collections",
             "/api/identify?lon=106.203&lat=37.903&layers=DLTB_2024"]
    statuses: Counter[tuple[str, int]] = Counter()
    errors: list[str] = []
    stop = threading.Event()

    def reader(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            i = offset
            while not stop.is_set():
                p = paths[i % len(paths)]
                try:
                    r = client.get(p)
                    statuses[(p.split("?")[0].split("/")[1], r.status_code)] += 1
                    if r.status_code >= 500:
                        errors.append(f"{p} → {r.status_code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(f"{p} → {exc!r}")
                i += 1

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    try:
        for version in ("2025", "2026", "2027"):
            run = subprocess.run([*ONEMAP, "ingest", str(ws), str(src), "--dataset", "DLTB",
                                  "--version", version, "--json"],
                                 env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
                                 capture_output=True, text=True, timeout=600)
            assert run.returncode == 0, run.stdout + run.stderr
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert errors == []
    assert sum(statuses.values()) >= 30
    assert {code for (_, code) in statuses} == {200}
    with httpx.Client(base_url=url, timeout=60) as client:
        r = client.get("/ogc/collections/DLTB_2027/items?limit=100")
        assert r.status_code == 200
        assert r.json()["numberMatched"] == len(dltb_frame())
        labels = [v["version"] for d in client.get("/api/catalog").json()["datasets"]
                  if d["name"] == "DLTB" for v in d["versions"]]
        assert labels == ["2024", "2025", "2026", "2027"]
