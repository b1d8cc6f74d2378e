"""Opening a workspace removes what an interrupted write of an older release left behind."""

from __future__ import annotations

import logging
import sqlite3

import pyogrio

from builders import dltb_frame
from onemap.store import init_workspace, open_workspace
from onemap.store.base import VersionMeta


def _tables(path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()


def test_orphan_layer_of_an_old_release_is_dropped_and_reported(tmp_path, caplog):
    ws = tmp_path / "ws.gpkg"
    store = init_workspace(ws)
    store.write_version("DLTB", "2024", dltb_frame(), VersionMeta())
    before = store.fingerprint()
    store.close()
    # what an older release left when killed between the layer write and the catalog row
    pyogrio.write_dataframe(dltb_frame(), ws, layer="DLTB_2025", driver="GPKG")
    # layers a user added in QGIS are not OneMap's to remove
    pyogrio.write_dataframe(dltb_frame(), ws, layer="my_sketch", driver="GPKG")
    pyogrio.write_dataframe(dltb_frame(), ws, layer="DLTB_test", driver="GPKG")
    assert {"DLTB_2025", "rtree_DLTB_2025_geom", "my_sketch", "DLTB_test"} <= _tables(ws)
    with caplog.at_level(logging.WARNING, logger="onemap.store"):
        store = open_workspace(ws)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [f"已清理中断写入留下的目录外图层：DLTB_2025（{ws}）"]
    tables = _tables(ws)
    assert "DLTB_2025" not in tables and "rtree_DLTB_2025_geom" not in tables
    assert {"my_sketch", "DLTB_test"} <= tables
    after = store.fingerprint()
    assert after["catalog"] == before["catalog"]
    assert sorted(pyogrio.list_layers(ws)[:, 0]) == sorted(
        ["DLTB_2024", "DLTB_test", "my_sketch", "onemap_assets", "onemap_datasets", "onemap_versions",
         "onemap_workspace"])


def test_workspace_is_in_wal_mode(tmp_path):
    ws = tmp_path / "ws.gpkg"
    init_workspace(ws).close()
    con = sqlite3.connect(ws)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()
