import sqlite3

import geopandas as gpd
import pyogrio
import pytest
import shapely

from onemap.errors import WorkspaceError
from onemap.store import VersionMeta, init_workspace, open_workspace


def _frame(n=3, crs=4490):
    geoms = [shapely.box(106 + i * 0.01, 37, 106.01 + i * 0.01, 37.01) for i in range(n)]
    return gpd.GeoDataFrame(
        {"BSM": [str(i + 1) for i in range(n)], "DLBM": ["0101"] * n, "DLMC": ["水田"] * n},
        geometry=geoms,
        crs=crs,
    )


def test_init_creates_a_geopackage_that_gdal_reads(tmp_path):
    path = tmp_path / "ws.gpkg"
    store = init_workspace(path, name="测试工作空间", region="640300")
    assert path.exists()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    con.close()
    layers = {row[0] for row in pyogrio.list_layers(path)}
    assert {"onemap_datasets", "onemap_versions", "onemap_assets"} <= layers
    assert store.settings()["name"] == "测试工作空间"
    assert store.datasets() == []


def test_init_refuses_existing_workspace(tmp_path):
    path = tmp_path / "ws.gpkg"
    init_workspace(path)
    with pytest.raises(WorkspaceError, match="已存在"):
        init_workspace(path)


def test_open_refuses_missing_and_foreign_files(tmp_path):
    with pytest.raises(WorkspaceError, match="不存在"):
        open_workspace(tmp_path / "none.gpkg")
    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(_frame(), other, layer="x")
    with pytest.raises(WorkspaceError, match="不是 OneMap 工作空间"):
        open_workspace(other)


def test_write_read_and_catalog(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg")
    meta = VersionMeta(source_file="DLTB.shp", source_checksum="abc", source_crs="EPSG:4523",
                       area_totals={"TBMJ": 12.5}, notes={"k": "中文"})
    v1 = store.write_version("DLTB", "2023", _frame(3), meta, title="地类图斑")
    store.write_version("DLTB", "2024", _frame(2), VersionMeta(), title="地类图斑")
    assert v1.layer == "DLTB_2023" and v1.feature_count == 3
    ds = store.datasets()
    assert [d.name for d in ds] == ["DLTB"]
    assert [v.version for v in ds[0].versions] == ["2023", "2024"]
    assert store.version("DLTB").version == "2024"
    got = store.version("DLTB", "2023")
    assert got.meta.source_crs == "EPSG:4523" and got.meta.area_totals == {"TBMJ": 12.5}
    assert got.meta.notes == {"k": "中文"}
    frame = store.read("DLTB", "2023")
    assert len(frame) == 3 and frame.crs.to_epsg() == 4490
    assert set(frame["DLMC"]) == {"水田"}
    assert len(store.read("DLTB", "2023", bbox=(106.0, 37.0, 106.005, 37.005))) == 1
    assert len(store.read("DLTB", "2023", where="BSM = '2'")) == 1
    # The layer is a plain GeoPackage layer any GDAL client reads.
    assert len(pyogrio.read_dataframe(tmp_path / "ws.gpkg", layer="DLTB_2024")) == 2


def test_versions_are_immutable(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg")
    store.write_version("DLTB", "2024", _frame(), VersionMeta())
    before = store.fingerprint()
    with pytest.raises(WorkspaceError, match="不可覆盖"):
        store.write_version("DLTB", "2024", _frame(1), VersionMeta())
    assert store.fingerprint() == before


def test_unknown_dataset_and_version_messages(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg")
    store.write_version("DLTB", "2024", _frame(), VersionMeta())
    with pytest.raises(WorkspaceError, match="没有数据集 XZQ"):
        store.version("XZQ")
    with pytest.raises(WorkspaceError, match="没有版本 2020"):
        store.version("DLTB", "2020")


def test_refuses_non_cgcs2000_and_bad_names(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg")
    before = store.fingerprint()
    with pytest.raises(WorkspaceError, match="EPSG:4490"):
        store.write_version("DLTB", "2024", _frame(crs=4326), VersionMeta())
    with pytest.raises(WorkspaceError, match="数据集名称"):
        store.write_version("dltb;drop", "2024", _frame(), VersionMeta())
    with pytest.raises(WorkspaceError, match="版本号"):
        store.write_version("DLTB", "../x", _frame(), VersionMeta())
    assert store.fingerprint() == before


def test_failed_catalog_write_removes_the_layer(tmp_path, monkeypatch):
    store = init_workspace(tmp_path / "ws.gpkg")
    before = store.fingerprint()

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash after the layer was written")

    import onemap.store.gpkg as gpkg

    monkeypatch.setattr(gpkg, "now_iso", boom)
    with pytest.raises(RuntimeError):
        store.write_version("DLTB", "2024", _frame(), VersionMeta())
    monkeypatch.undo()
    assert store.fingerprint() == before
    assert "DLTB_2024" not in {r[0] for r in pyogrio.list_layers(tmp_path / "ws.gpkg")}


def test_assets(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg")
    v = store.write_version("DLTB", "2024", _frame(), VersionMeta())
    aid = store.add_asset(v.id, "xlsx", "out/stats.xlsx", {"level": "county"})
    assets = store.assets(v.id)
    assert assets[0]["id"] == aid and assets[0]["meta"] == {"level": "county"}
