"""Fixtures of the indicator tests; the world itself is in :mod:`indicator_world`."""

from __future__ import annotations

import shutil

import pytest
from indicator_world import build

from onemap.store import open_workspace


@pytest.fixture(scope="session")
def _ws_template(tmp_path_factory):
    d = tmp_path_factory.mktemp("indws")
    build(d / "ws.gpkg").close()
    return d / "ws.gpkg"


@pytest.fixture
def ws(_ws_template, tmp_path):
    """The hand-built workspace with DLTB 2020/2024, zones and one input import."""
    shutil.copy(_ws_template, tmp_path / "ws.gpkg")
    store = open_workspace(tmp_path / "ws.gpkg")
    yield store
    store.close()


@pytest.fixture(scope="session")
def assessed(_ws_template, tmp_path_factory):
    """(store, the 2024 health check) of the hand-built workspace, computed once."""
    from onemap.indicators import assess

    d = tmp_path_factory.mktemp("assess")
    shutil.copy(_ws_template, d / "ws.gpkg")
    store = open_workspace(d / "ws.gpkg")
    try:
        yield store, assess(store, 2024)
    finally:
        store.close()


@pytest.fixture(scope="session")
def assessment_2024(assessed):
    """The 2024 health check of the hand-built workspace."""
    return assessed[1]
