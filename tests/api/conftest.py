"""Fixtures: a small temporary workspace, users, and a live uvicorn server on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import shapely
from fastapi.testclient import TestClient
from geopandas import GeoDataFrame

from onemap.store import init_workspace
from onemap.store.base import VersionMeta
from onemap.store.users import create_token, create_user, set_anonymous_read

from ._api_support import PASSWORD, _free_port, make_dltb


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Path:
    """A workspace with DLTB 2024 (36 patches) and XZQ 2024 (2 counties), and four users."""
    path = tmp_path_factory.mktemp("api") / "ws.gpkg"
    store = init_workspace(path, name="测试工作空间", region="640300")
    store.write_version("DLTB", "2024", make_dltb(), VersionMeta(synthetic=True),
                        title="地类图斑")
    xzq = GeoDataFrame({"XZQDM": ["640302", "640324"], "XZQMC": ["利通区", "同心县"]},
                       geometry=[shapely.box(106.2, 37.9, 106.206, 37.912),
                                 shapely.box(106.206, 37.9, 106.212, 37.912)], crs=4490)
    store.write_version("XZQ", "2024", xzq, VersionMeta(synthetic=True), title="行政区")
    engine = store.sql_engine()
    create_user(engine, "admin", PASSWORD, role="admin")
    create_user(engine, "viewer", PASSWORD, role="viewer")
    create_user(engine, "tongxin", PASSWORD, role="enforcer", county="640324",
                display_name="同心县执法员")
    create_user(engine, "editor", PASSWORD, role="editor")
    store.close()
    return path


@pytest.fixture(scope="session")
def tokens(workspace) -> dict[str, str]:
    """An API token per user."""
    from onemap.store import open_workspace

    store = open_workspace(workspace)
    engine = store.sql_engine()
    return {u: create_token(engine, u, name="tests", scopes=("admin",)) for u in
            ("admin", "viewer", "tongxin", "editor")}


@pytest.fixture(scope="session")
def client(workspace, tokens, tmp_path_factory) -> Iterator[TestClient]:
    """An in-process client of the app (the workspace's policy: users exist → no anonymous)."""
    from onemap.api import create_app

    app = create_app(workspace, cache_dir=tmp_path_factory.mktemp("tiles"))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[str]:
    """A real uvicorn server (subprocess) over a workspace that allows anonymous reading.

    A subprocess, not a thread: GDAL (pyogrio) keeps the GIL while it talks HTTP,
    so a server thread in the test process would never answer it.
    """
    path = tmp_path_factory.mktemp("live") / "ws.gpkg"
    store = init_workspace(path, name="客户端测试", region="640300")
    store.write_version("DLTB", "2024", make_dltb(), VersionMeta(synthetic=True),
                        title="地类图斑")
    create_user(store.sql_engine(), "admin", PASSWORD, role="admin")
    set_anonymous_read(store.sql_engine(), True)
    store.close()
    port = _free_port()
    env = dict(os.environ, ONEMAP_WORKSPACE=str(path),
               ONEMAP_TILE_CACHE=str(tmp_path_factory.mktemp("live-tiles")))
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "onemap.api.app:app_from_env",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
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
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
