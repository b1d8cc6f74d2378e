"""Fixtures of the site-check tests (helpers in control_helpers.py)."""

from __future__ import annotations

import pytest
from control_helpers import build_workspace, load_cases


@pytest.fixture(scope="session")
def cases() -> dict:
    return load_cases()


@pytest.fixture(scope="session")
def workspace(tmp_path_factory, cases):
    return build_workspace(tmp_path_factory.mktemp("ws") / "ws.gpkg", cases["workspace"])


@pytest.fixture(scope="session")
def checker(workspace):
    from onemap.control import SiteChecker

    return SiteChecker(workspace)
