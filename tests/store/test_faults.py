"""Fault injection: ingest and sample killed (SIGKILL) at every step leave nothing half-written.

Each run is a real ``onemap`` process. ``ONEMAP_FAULT_AT`` makes it kill
itself at one named step (:mod:`onemap.store.faults`); further runs are
killed from outside after a delay. After each kill the workspace must be
exactly as before (or, once the commit is through, exactly as after), with
no layer outside the catalog, a clean ``PRAGMA integrity_check``, an intact
audit chain and working statistics; opening it removes the staging debris.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyogrio
import pytest

from onemap.services import build_sample_workspace, land_use_stats
from onemap.store import audit, open_workspace

ONEMAP = [sys.executable, "-c", "from onemap.cli import main; main()"]
SOURCE_COUNT: dict[str, int] = {}


def _env(fault: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("ONEMAP_FAULT_AT", None)
    if fault:
        env["ONEMAP_FAULT_AT"] = fault
    return env


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, Path]:
    """A small sample workspace and a DLTB delivery file to ingest into it."""
    root = tmp_path_factory.mktemp("faults")
    ws = root / "base.gpkg"
    store = build_sample_workspace(ws, patches=300, seed=3)
    dltb = store.read("DLTB", "2024")
    store.close()
    src = root / "DLTB_2025.gpkg"
    pyogrio.write_dataframe(dltb, src, layer="DLTB", driver="GPKG")
    SOURCE_COUNT["DLTB"] = len(dltb)
    return ws, src


def _copy(ws: Path, to: Path) -> Path:
    to.mkdir()
    shutil.copy(ws, to / "ws.gpkg")
    return to / "ws.gpkg"


def _ingest_args(ws: Path, src: Path) -> list[str]:
    return [*ONEMAP, "ingest", str(ws), str(src), "--dataset", "DLTB", "--version", "2025",
            "--json"]


def _feature_tables(ws: Path) -> set[str]:
    con = sqlite3.connect(ws)
    try:
        return {r[0] for r in con.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")}
    finally:
        con.close()


def _integrity(ws: Path) -> str:
    con = sqlite3.connect(ws)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def _debris(ws: Path) -> list[str]:
    return sorted(p.name for p in ws.parent.iterdir() if ".staging-" in p.name
                  or ".building-" in p.name)


def _check_sound(ws: Path) -> dict:
    """Integrity, audit chain, statistics, and every feature table in the catalog."""
    assert _integrity(ws) == "ok"
    store = open_workspace(ws)
    try:
        assert audit.verify(store.sql_engine()).ok
        dltb = store.version("DLTB")
        table = land_use_stats(store, version=dltb.version)
        net = store.read("DLTB", dltb.version, columns=["TBDLMJ"])["TBDLMJ"].sum() / 10_000
        assert round(float(table.groups["total"].iloc[-1]), 2) == round(float(net), 2)
        layers = {v.layer for d in store.datasets() for v in d.versions}
        fp = store.fingerprint()
    finally:
        store.close()
    assert _feature_tables(ws) == layers
    return fp


@pytest.mark.parametrize("point", ["staged", "copied", "catalogued"])
def test_ingest_killed_before_commit_leaves_workspace_as_before(base, tmp_path, point, caplog):
    ws = _copy(base[0], tmp_path / "w")
    before = open_workspace(ws).fingerprint()
    run = subprocess.run(_ingest_args(ws, base[1]), env=_env(point), capture_output=True,
                         timeout=600)
    assert run.returncode == -signal.SIGKILL
    assert _debris(ws) != []  # the staging file of the dead process is still there
    with caplog.at_level(logging.WARNING, logger="onemap.store"):
        open_workspace(ws).close()
    assert any("已清理未完成的写入留下的临时文件" in r.getMessage() for r in caplog.records)
    assert _debris(ws) == []
    assert _check_sound(ws) == before


def test_ingest_killed_after_commit_has_the_new_version(base, tmp_path):
    ws = _copy(base[0], tmp_path / "w")
    run = subprocess.run(_ingest_args(ws, base[1]), env=_env("committed"), capture_output=True,
                         timeout=600)
    assert run.returncode == -signal.SIGKILL
    _check_sound(ws)
    store = open_workspace(ws)
    info = store.version("DLTB", "2025")
    assert info.feature_count == SOURCE_COUNT["DLTB"]
    assert len(store.read("DLTB", "2025")) == SOURCE_COUNT["DLTB"]
    assert _debris(ws) == []


@pytest.mark.parametrize("delay", [1.0, 4.0])
def test_ingest_killed_from_outside_leaves_no_orphan(base, tmp_path, delay):
    ws = _copy(base[0], tmp_path / "w")
    before = open_workspace(ws).fingerprint()
    proc = subprocess.Popen(_ingest_args(ws, base[1]), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    after = _check_sound(ws)
    store = open_workspace(ws)
    versions = [v.version for d in store.datasets() if d.name == "DLTB" for v in d.versions]
    if "2025" in versions:  # the kill came after the commit: exactly one new version, complete
        assert versions == ["2023", "2024", "2025"]
        assert len(store.read("DLTB", "2025")) == SOURCE_COUNT["DLTB"]
    else:
        assert after == before
    assert _debris(ws) == []


@pytest.mark.parametrize("point", ["sample-3", "built"])
def test_sample_killed_is_never_a_workspace(tmp_path, point):
    """Killed while writing its layers, or just before it takes its name: no workspace."""
    ws = tmp_path / "s.gpkg"
    args = [*ONEMAP, "sample", str(ws), "--patches", "300", "--seed", "3", "--json"]
    run = subprocess.run(args, env=_env(point), capture_output=True, timeout=600)
    assert run.returncode == -signal.SIGKILL
    assert not ws.exists()
    assert _debris(ws) != []
    cat = subprocess.run([*ONEMAP, "catalog", str(ws), "--json"], env=_env(),
                         capture_output=True, text=True, timeout=300)
    assert cat.returncode != 0
    assert "工作空间不存在" in cat.stdout + cat.stderr
    if point == "sample-3":
        return
    again = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _debris(ws) == []
    _check_sound(ws)
