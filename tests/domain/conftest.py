"""Fixtures for the domain-table tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from onemap.domain import ENV_OVERRIDE_DIR, clear_cache
from onemap.domain._files import SHIPPED_DIR


@pytest.fixture(autouse=True)
def _isolated_domain(monkeypatch: pytest.MonkeyPatch):
    """Every test starts from the shipped tables, whatever the environment says."""
    monkeypatch.delenv(ENV_OVERRIDE_DIR, raising=False)
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Return a function writing one file into an override dir that is then in use."""
    monkeypatch.setenv(ENV_OVERRIDE_DIR, str(tmp_path))

    def write(name: str, text: str | None = None, *, edit=None) -> Path:
        path = tmp_path / name
        if text is None:
            text = (SHIPPED_DIR / name).read_text(encoding="utf-8")
        if edit is not None:
            text = edit(text)
        path.write_text(text, encoding="utf-8")
        clear_cache()
        return path

    write.dir = tmp_path
    return write
