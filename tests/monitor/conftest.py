"""Fixtures of the monitoring tests: the hand-made world of :mod:`monitor_world` as workspaces."""

from __future__ import annotations

import shutil

import pytest
from monitor_world import (  # noqa: F401 - re-exported for older imports
    VILLAGE_A,
    VILLAGE_B,
    approvals,
    cell,
    controls,
    dltb_2023,
    dltb_2024,
    dltb_2025,
    frame,
    make_photo,
    rotated,
)

from onemap.store import VersionMeta, init_workspace, open_workspace


def _build_chain(path):
    store = init_workspace(path, name="测试", region="640300")
    meta = VersionMeta(source_file="test", created_by="pytest", synthetic=True)
    for v, g in (("2023", dltb_2023()), ("2024", dltb_2024()), ("2025", dltb_2025())):
        store.write_version("DLTB", v, g, meta, title="地类图斑")
    for name, g in controls().items():
        store.write_version(name, "2023", g, meta)
    for name, g in approvals().items():
        store.write_version(name, "2024", g, meta)
    return store


@pytest.fixture(scope="session")
def _chain_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("chain") / "ws.gpkg"
    _build_chain(path).close()
    return path


@pytest.fixture
def chain_ws(_chain_template, tmp_path):
    """A workspace with DLTB 2023/2024/2025, control lines and approvals (ZJD missing)."""
    shutil.copy(_chain_template, tmp_path / "ws.gpkg")
    store = open_workspace(tmp_path / "ws.gpkg")
    yield store
    store.close()


@pytest.fixture(scope="session")
def _opened_template(_chain_template, tmp_path_factory):
    from onemap.monitor import service

    path = tmp_path_factory.mktemp("opened") / "ws.gpkg"
    shutil.copy(_chain_template, path)
    store = open_workspace(path)
    service.run_changes(store, "DLTB", "2023", "2024", actor="pytest")
    service.judge_changes(store, "2023-2024", as_of="2025-03-01", actor="pytest")
    service.open_cases(store, actor="执法科", now="2025-03-02T08:00:00")
    store.close()
    return path


@pytest.fixture
def opened(_opened_template, tmp_path):
    """The chain workspace with 2023→2024 detected, judged and its cases opened."""
    from onemap.monitor import service

    shutil.copy(_opened_template, tmp_path / "ws.gpkg")
    store = open_workspace(tmp_path / "ws.gpkg")
    yield store, service.list_cases(store)["cases"]
    store.close()
