"""Lineage: a derived version records its inputs and inherits ``synthetic``; old files are upgraded."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import pytest
import shapely

from onemap.errors import WorkspaceError
from onemap.store import init_workspace, open_workspace
from onemap.store.base import VersionInput, VersionMeta, lineage


def _frame(n: int = 1) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"BSM": [str(i) for i in range(n)]},
                            geometry=[shapely.box(106.2 + i * 0.001, 37.9, 106.201 + i * 0.001, 37.901)
                                      for i in range(n)], crs=4490)


@pytest.fixture
def store(tmp_path):
    s = init_workspace(tmp_path / "ws.gpkg", name="测试", region="640300")
    s.write_version("DLTB", "2023", _frame(), VersionMeta(source_checksum="aaa", synthetic=True))
    s.write_version("DLTB", "2024", _frame(2), VersionMeta(source_checksum="bbb"))
    yield s
    s.close()


def test_derived_version_records_inputs_from_the_catalog_and_inherits_synthetic(store):
    a, b = store.version("DLTB", "2023"), store.version("DLTB", "2024")
    # the caller names the inputs; checksum, id and synthetic come from the catalog
    info = store.write_version("BGTB", "2023-2024", _frame(), VersionMeta(
        source_checksum="ccc", inputs=[VersionInput("DLTB", "2023", "before"),
                                       VersionInput("DLTB", "2024", "after")]))
    assert info.meta.synthetic is True
    assert info.meta.inputs == [
        VersionInput("DLTB", "2023", "before", a.id, "aaa", True),
        VersionInput("DLTB", "2024", "after", b.id, "bbb", False),
    ]
    again = open_workspace(store.location).version("BGTB", "2023-2024")
    assert again.meta.inputs == info.meta.inputs
    assert again.to_dict()["inputs"][0] == {"dataset": "DLTB", "version": "2023", "role": "before",
                                            "version_id": a.id, "checksum": "aaa",
                                            "synthetic": True}


def test_version_made_from_real_inputs_only_stays_real(store):
    info = store.write_version("BGTB", "2024", _frame(), VersionMeta(
        inputs=[VersionInput("DLTB", "2024", "after")]))
    assert info.meta.synthetic is False


def test_input_not_in_the_catalog_is_refused_and_nothing_written(store):
    before = store.fingerprint()
    with pytest.raises(WorkspaceError) as info:
        store.write_version("BGTB", "2022-2023", _frame(), VersionMeta(
            inputs=[VersionInput("DLTB", "2022")]))
    assert info.value.message == "派生版本的输入 DLTB 2022 不在工作空间目录中，无法记录来源"
    assert store.fingerprint() == before


def test_lineage_follows_the_chain_depth_first(store):
    store.write_version("BGTB", "2023-2024", _frame(), VersionMeta(
        inputs=[VersionInput("DLTB", "2023", "before"), VersionInput("DLTB", "2024", "after")]))
    judged = store.write_version("PDTB", "2023-2024-r1", _frame(), VersionMeta(
        inputs=[VersionInput("BGTB", "2023-2024", "changeset")]))
    chain = [(c["dataset"], c["version"], c["role"], c["depth"])
             for c in lineage(store.datasets(), judged.id)]
    assert chain == [("BGTB", "2023-2024", "changeset", 1),
                     ("DLTB", "2023", "before", 2), ("DLTB", "2024", "after", 2)]
    assert judged.meta.synthetic is True  # through the change set, from DLTB 2023
    assert lineage(store.datasets(), store.version("DLTB", "2023").id) == []


def test_workspace_of_an_older_release_gets_the_inputs_column_at_open(tmp_path):
    path = tmp_path / "old.gpkg"
    s = init_workspace(path)
    s.write_version("DLTB", "2024", _frame(), VersionMeta())
    s.close()
    con = sqlite3.connect(path)
    with con:
        con.execute("ALTER TABLE onemap_versions DROP COLUMN inputs")
        con.execute("UPDATE onemap_workspace SET value = '1' WHERE key = 'schema_version'")
    con.close()
    s = open_workspace(path)
    assert s.version("DLTB", "2024").meta.inputs == []
    assert s.settings()["schema_version"] == "2"
    s.write_version("BGTB", "x", _frame(), VersionMeta(inputs=[VersionInput("DLTB", "2024")]))
    assert s.version("BGTB", "x").meta.inputs[0].dataset == "DLTB"
    s.close()
