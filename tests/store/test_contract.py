"""The store contract, run against both backends: the GeoPackage file and PostGIS.

Every test takes ``workspace_location`` (``tests/conftest.py``): a new ``.gpkg``
path, or an empty database of the session's throw-away PostGIS cluster. The
same assertions hold on both; the PostGIS half never skips.

The six test patches (``builders.dltb_frame``) are 0.002° × 0.002° boxes at
37.95°N; their official area ``A`` is the closed form of a latitude–longitude
box on the CGCS2000 ellipsoid (``builders.box_area``), not the engine's.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from builders import box_area, dltb_frame
from onemap.cli import app
from onemap.errors import WorkspaceError
from onemap.store import VersionMeta, init_workspace, migrations, open_workspace, users
from onemap.store import audit as audit_store
from onemap.store import cases as cases_store
from onemap.store.base import VersionInput
from onemap.store.catalog import workspace_table
from onemap.store.postgis import PostGISStore, safe_url

runner = CliRunner()

#: Official area (m², to the cent) of one test patch (closed form, not the engine).
A = round(box_area(37.95, 37.952, 0.002), 2)


def ok(*args) -> dict | list:
    r = runner.invoke(app, [str(a) for a in args], prog_name="onemap")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout)


def frame(n: int = 3) -> gpd.GeoDataFrame:
    """Three attribute types, a NULL text, a NULL number; polygons (stored as multipolygons)."""
    geoms = [shapely.box(106 + i * 0.01, 37, 106.01 + i * 0.01, 37.01) for i in range(n)]
    return gpd.GeoDataFrame(
        {"BSM": [i + 1 for i in range(n)], "DLBM": ["0101", "0201", None][:n],
         "DLMC": ["水田", "果园", "其他"][:n], "TBMJ": [1.5, None, 3.25][:n]},
        geometry=geoms, crs=4490)


# ---------------------------------------------------------------------------- life cycle
def test_init_open_and_settings(workspace_location):
    store = init_workspace(workspace_location, name="测试市", region="640300")
    assert store.datasets() == []
    got = store.settings()
    assert (got["name"], got["region"], got["schema_version"], got["storage_crs"]) == (
        "测试市", "640300", "2", "EPSG:4490")
    assert store.set_settings({"编制单位": "测试市自然资源局", "region": None})["编制单位"] == "测试市自然资源局"
    store.close()
    again = open_workspace(workspace_location)
    assert "region" not in again.settings() and again.settings()["编制单位"] == "测试市自然资源局"
    with pytest.raises(WorkspaceError, match="已存在"):
        init_workspace(workspace_location)
    again.close()


def test_postgis_init_writes_no_local_file(postgis_cluster, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = postgis_cluster.new_database(with_postgis=False)  # the init makes the extension
    got = ok("init", url, "--name", "某市", "--region", "640300", "--json")
    assert got == {"workspace": url, "created": True}
    assert list(tmp_path.iterdir()) == []
    store = open_workspace(url)
    assert isinstance(store, PostGISStore)
    with store.sql_engine().connect() as conn:
        assert conn.execute(text("SELECT extname FROM pg_extension WHERE extname = 'postgis'")
                            ).scalar() == "postgis"
        names = set(conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert {"onemap_workspace", "onemap_datasets", "onemap_versions", "onemap_assets",
            "onemap_audit", "onemap_audit_head", "onemap_users", "onemap_tokens",
            "monitor_cases", "monitor_case_events", "ledger_records", "ledger_events",
            "onemap_transforms"} <= names
    store.close()


def test_postgis_errors_are_chinese_sentences(postgis_cluster):
    empty = postgis_cluster.new_database()
    with pytest.raises(WorkspaceError, match="不是 OneMap 工作空间：缺少目录表"):
        open_workspace(empty)
    port = postgis_cluster.cluster.port
    with pytest.raises(WorkspaceError, match="无法连接 PostgreSQL 工作空间"):
        open_workspace(f"postgresql://postgres@127.0.0.1:{port}/no_such_db")
    with pytest.raises(WorkspaceError, match="缺少数据库名"):
        open_workspace(f"postgresql://postgres@127.0.0.1:{port}")
    assert safe_url("postgresql://u:secret@h:5432/db") == "postgresql://u@h:5432/db"


# ---------------------------------------------------------------------------- versions
def test_write_and_read_a_version(workspace_location):
    store = init_workspace(workspace_location)
    info = store.write_version("DLTB", "2024", frame(), VersionMeta(
        source_file="a.shp", source_checksum="c" * 64, area_totals={"TBMJ": 4.75},
        notes={"修复": 0}), title="地类图斑")
    assert (info.dataset, info.version, info.layer, info.feature_count) == ("DLTB", "2024", "DLTB_2024", 3)
    got = store.read("DLTB", "2024")
    assert list(got.columns) == ["BSM", "DLBM", "DLMC", "TBMJ", "geometry"]
    assert got["BSM"].tolist() == [1, 2, 3] and str(got["BSM"].dtype) == "int64"
    assert got["DLBM"].tolist()[:2] == ["0101", "0201"] and pd.isna(got["DLBM"].iloc[2])
    assert got["TBMJ"].tolist()[0] == 1.5 and pd.isna(got["TBMJ"].iloc[1])
    assert got.crs.to_epsg() == 4490
    assert got.geometry.geom_type.tolist() == ["MultiPolygon"] * 3
    assert got.geometry.iloc[1].equals(shapely.MultiPolygon([frame().geometry.iloc[1]]))
    assert store.read("DLTB", columns=["DLMC"]).columns.tolist() == ["DLMC", "geometry"]
    assert store.read("DLTB", "2024", columns=[]).columns.tolist() == ["geometry"]
    # bbox selects by envelope, where by attribute (column names in any case, as in SQLite)
    assert store.read("DLTB", bbox=(106.012, 37.0, 106.013, 37.01))["BSM"].tolist() == [2]
    assert store.read("DLTB", where="DLBM = '0201'")["BSM"].tolist() == [2]
    assert store.read("DLTB", where="dlbm IS NULL")["BSM"].tolist() == [3]
    assert store.read("DLTB", where="1=0").columns.tolist() == ["BSM", "DLBM", "DLMC", "TBMJ", "geometry"]
    assert len(store.read("DLTB", where="1=0")) == 0
    store.close()


def test_refused_writes_change_nothing(workspace_location):
    store = init_workspace(workspace_location)
    store.write_version("DLTB", "2024", frame(), VersionMeta())
    before = store.fingerprint()
    with pytest.raises(WorkspaceError, match="版本不可覆盖"):
        store.write_version("DLTB", "2024", frame(), VersionMeta())
    with pytest.raises(WorkspaceError, match="EPSG:4490"):
        store.write_version("DLTB", "2025", frame().to_crs(4326), VersionMeta())
    with pytest.raises(WorkspaceError, match="数据集名称不合规"):
        store.write_version("dltb", "2025", frame(), VersionMeta())
    with pytest.raises(WorkspaceError, match="不在工作空间目录中"):
        store.write_version("BHTB", "2025", frame(), VersionMeta(
            inputs=[VersionInput("DLTB", "2023", "before")]))
    assert store.fingerprint() == before
    store.close()


def test_catalog_lineage_and_assets(workspace_location):
    store = init_workspace(workspace_location)
    a = store.write_version("DLTB", "2023", frame(), VersionMeta(synthetic=True, source_checksum="x"))
    store.write_version("DLTB", "2024", frame(2), VersionMeta())
    c = store.write_version("BHTB", "2023-2024", frame(1), VersionMeta(
        inputs=[VersionInput("DLTB", "2023", "before"), VersionInput("DLTB", "2024", "after")]))
    assert c.meta.synthetic is True  # one synthetic input makes it synthetic
    assert [(i.dataset, i.version, i.role, i.checksum) for i in c.meta.inputs] == [
        ("DLTB", "2023", "before", "x"), ("DLTB", "2024", "after", "")]
    assert [(d.name, [v.version for v in d.versions]) for d in store.datasets()] == [
        ("BHTB", ["2023-2024"]), ("DLTB", ["2023", "2024"])]
    assert store.version("DLTB").version == "2024"
    with pytest.raises(WorkspaceError, match="没有版本 2030（已有版本：2023、2024）"):
        store.version("DLTB", "2030")
    with pytest.raises(WorkspaceError, match="没有数据集 XZQ"):
        store.version("XZQ")
    asset = store.add_asset(a.id, "xlsx", "out/统计.xlsx", {"表": "公报"})
    assert [(x["id"], x["kind"], x["path"], x["meta"]) for x in store.assets(a.id)] == [
        (asset, "xlsx", "out/统计.xlsx", {"表": "公报"})]
    assert store.assets(c.id) == []
    store.close()


# ---------------------------------------------------------------------------- relational records
def test_audit_chain_and_its_guard(workspace_location):
    store = init_workspace(workspace_location)
    store.write_version("DLTB", "2024", frame(), VersionMeta())
    engine = store.sql_engine()
    audit_store.append(engine, "张三", "case.issue", "case", "C-1", None, {"state": "issued"})
    got = audit_store.verify(engine)
    assert (got.ok, got.rows) == (True, 2)
    assert [e.action for e in audit_store.entries(engine)] == ["version.write", "case.issue"]
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE onemap_audit SET actor = '李四' WHERE id = 2"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM onemap_audit WHERE id = 2"))
    assert audit_store.verify(engine).ok
    store.close()


def test_case_tables(workspace_location):
    store = init_workspace(workspace_location)
    engine = store.sql_engine()
    cases_store.ensure_tables(engine)
    with engine.begin() as conn:
        run = conn.execute(insert(cases_store.judge_runs_table).values(
            changeset_dataset="BHTB", changeset_version="2023-2024", year=2024,
            as_of="2025-03-01", created_at="2025-03-01T00:00:00+00:00")).inserted_primary_key[0]
        j = conn.execute(insert(cases_store.judgements_table).values(
            run_id=run, tbbh="1", verdict="疑似违法", rule="YN_OCCUPIED", reason="占用永久基本农田",
            area_m2=A)).inserted_primary_key[0]
        conn.execute(insert(cases_store.cases_table).values(
            case_no="WP-640302-2024-0001", run_id=run, judgement_id=j, changeset_dataset="BHTB",
            changeset_version="2023-2024", tbbh="1", state="issued", area_m2=A,
            opened_at="2025-03-01", updated_at="2025-03-01"))
    with engine.connect() as conn:
        row = conn.execute(select(cases_store.cases_table)).one()
    assert (row.case_no, row.state, row.area_m2, row.run_id) == ("WP-640302-2024-0001", "issued", A, run)
    with pytest.raises(DBAPIError), engine.begin() as conn:  # one case per patch of a change set
        conn.execute(insert(cases_store.cases_table).values(
            case_no="WP-640302-2024-0002", run_id=run, judgement_id=j, changeset_dataset="BHTB",
            changeset_version="2023-2024", tbbh="1", state="issued",
            opened_at="2025-03-01", updated_at="2025-03-01"))
    store.close()


def test_users_and_tokens(workspace_location):
    store = init_workspace(workspace_location)
    engine = store.sql_engine()
    users.create_user(engine, "zhang", "pass-word-123", role="enforcer", county="640302")
    assert users.authenticate(engine, "zhang", "pass-word-123").county == "640302"
    with pytest.raises(users.AuthError):
        users.authenticate(engine, "zhang", "wrong-password")
    token = users.create_token(engine, "zhang", name="对接", days=30, scopes=["case"])
    who = users.user_for_token(engine, token)
    assert (who.username, who.role, who.scopes) == ("zhang", "enforcer", ("case",))
    assert [u["username"] for u in users.list_users(engine)] == ["zhang"]
    store.close()


def test_registers_through_the_cli(workspace_location, tmp_path):
    """P1 (入库) 10000 m² 水田 2000 等别 6; O1 8000, 水田 1000, 等别 8 covered by P1:
    640302 keeps 数量 2000, 水田 1000, 产能 12500 − 8000 = 4500 (as in test_every_command)."""
    ok("init", workspace_location, "--name", "测试市", "--json")
    pd.DataFrame([{"项目编号": "P1", "项目名称": "甲", "类型": "土地整治", "行政区": "640302",
                   "新增耕地面积": 10000, "新增水田面积": 2000, "验收平均等别": 6, "状态": "入库"}]
                 ).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame([{"占用编号": "O1", "项目名称": "园区", "占用类型": "建设", "行政区": "640302",
                   "占用耕地面积": 8000, "占用水田面积": 1000, "平均等别": 8}]).to_csv(tmp_path / "o.csv", index=False)
    got = ok("ledger", "import", workspace_location, "补充耕地项目", tmp_path / "p.csv",
             "--now", "2025-01-01", "--json")
    assert got["imported"] == 1
    assert ok("ledger", "import", workspace_location, "GDZY", tmp_path / "o.csv", "--json")["records"] == ["O1"]
    ok("farmland", "cover", workspace_location, "O1", "--projects", "P1", "--json")
    got = ok("farmland", "accounts", workspace_location, "--county", "640302", "--json")
    assert [(a["measure"], a["balance"]) for a in got["accounts"]] == [
        ("数量", 2000), ("水田", 1000), ("产能", 4500)]
    shown = ok("ledger", "show", workspace_location, "GDZY", "O1", "--json")
    assert [e["action"] for e in shown["events"]] == ["import", "cover"]
    assert ok("audit", "verify", workspace_location, "--json")["ok"] is True


# ---------------------------------------------------------------------------- migrations
def test_an_old_workspace_is_migrated_once(workspace_location):
    """A workspace of schema version 1 (no lineage column) is brought to version 2 at open."""
    store = init_workspace(workspace_location)
    store.write_version("DLTB", "2023", frame(), VersionMeta())
    engine = store.sql_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql('ALTER TABLE onemap_versions DROP COLUMN "inputs"')
        conn.execute(workspace_table.update().where(workspace_table.c.key == "schema_version")
                     .values(value="1"))
    store.close()
    assert [m.version for m in migrations.pending(engine)] == [2]
    again = open_workspace(workspace_location)
    assert again.settings()["schema_version"] == "2"
    assert again.version("DLTB", "2023").meta.inputs == []
    assert migrations.pending(again.sql_engine()) == []
    with again.sql_engine().begin() as conn:
        conn.execute(workspace_table.update().where(workspace_table.c.key == "schema_version")
                     .values(value="9"))
    again.close()
    with pytest.raises(WorkspaceError, match="结构版本为 9，高于本程序支持的 2"):
        open_workspace(workspace_location)


# ---------------------------------------------------------------------------- identical figures
@pytest.fixture(scope="module")
def worlds(tmp_path_factory, postgis_cluster) -> dict[str, str]:
    """The six-patch world (DLTB 2023 and 2024 with patch 0 built on, 永久基本农田 over all six)
    ingested through the CLI into a GeoPackage and into PostGIS."""
    d = tmp_path_factory.mktemp("contract-world")
    old = dltb_frame(6)
    new = old.copy()
    new.loc[0, ["DLBM", "DLMC", "KCXS", "GDLX", "GDPDJB", "ZZSXDM", "ZZSXMC", "KCDLBM"]] = [
        "0601", "工业用地", 0.0, "", "", "", "", ""]
    old.to_file(d / "dltb2023.gpkg", layer="DLTB")
    new.to_file(d / "dltb2024.gpkg", layer="DLTB")
    farmland = gpd.GeoDataFrame({"BSM": ["1"], "ZLDWDM": ["6403020010010000000"]},
                                geometry=[shapely.box(*old.total_bounds)], crs=4490)
    farmland.to_file(d / "jbnt.gpkg", layer="YJJBNTTB")
    out = {"gpkg": str(d / "ws.gpkg"), "postgis": postgis_cluster.new_database()}
    for ws in out.values():
        ok("init", ws, "--name", "测试市", "--region", "640300", "--json")
        for year in ("2023", "2024"):
            ok("ingest", ws, d / f"dltb{year}.gpkg", "--dataset", "DLTB", "--version", year, "--json")
        ok("ingest", ws, d / "jbnt.gpkg", "--dataset", "YJJBNTTB", "--version", "2023", "--json")
    return out


def _same(worlds: dict[str, str], command: str, *args) -> dict:
    """Run ``onemap COMMAND WS ARGS`` on both workspaces (COMMAND may be "group sub");
    return the output, after checking it is the same on both."""
    got = {k: ok(*command.split(), ws, *args) for k, ws in worlds.items()}
    for doc in got.values():
        _drop_volatile(doc)
    assert got["gpkg"] == got["postgis"], _differences(got["gpkg"], got["postgis"])
    return got["gpkg"]


def _differences(a, b, path: str = "") -> list[str]:
    """Where two JSON documents differ (for the failure message)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in _differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _drop_volatile(doc):
    """Remove what differs by nature between two workspaces (location, clock)."""
    if isinstance(doc, dict):
        for key in ("workspace", "created_at", "at", "generated_at", "elapsed_s", "opened_at",
                    "updated_at", "due_at"):
            doc.pop(key, None)
        for v in doc.values():
            _drop_volatile(v)
    elif isinstance(doc, list):
        for v in doc:
            _drop_volatile(v)


def test_identical_stats(worlds):
    got = _same(worlds, "stats", "--version", "2024", "--json")
    total = next(g for g in got["groups_hectare"] if g["unit"] == "合计")
    assert sum(v for k, v in total.items() if k != "unit" and isinstance(v, float)) > 0
    _same(worlds, "stats", "--version", "2023", "--table", "class", "--json")


def test_identical_tabulation(worlds):
    got = _same(worlds, "tabulate", "--zones", "YJJBNTTB", "--json")
    assert got


def test_identical_check(worlds, tmp_path):
    site = tmp_path / "site.geojson"
    site.write_text(json.dumps({"type": "Feature", "properties": {"name": "地块一"},
                                "geometry": shapely.geometry.mapping(dltb_frame(6).geometry.iloc[0])}),
                    "utf-8")
    got = _same(worlds, "check", site, "--use", "工业", "--json")
    assert got["site_area_m2"] == pytest.approx(A, abs=0.005)
    assert got["layers"]["YJJBNTTB"]["area_m2"] == pytest.approx(A, abs=0.005)


def test_identical_changes_judgement_and_cases(worlds):
    got = _same(worlds, "changes", "--from", "2023", "--to", "2024", "--json")
    [change] = got["changes"]
    assert (change["before"], change["after"]) == ("0101", "0601")
    assert change["area_m2"] == pytest.approx(A, abs=0.005)
    _same(worlds, "changes", "--from", "2023", "--to", "2024", "--table", "flow", "--json")
    got = _same(worlds, "judge", "--changeset", "2023-2024", "--as-of", "2025-03-01", "--json")
    assert [p["rule"] for p in got["patches"]] == ["YN_OCCUPIED"]
    got = _same(worlds, "cases open", "--json")
    assert [c["case_no"] for c in got["opened"]] == ["WP-640302-2024-0001"]
    assert all(ok("audit", "verify", ws, "--json")["ok"] for ws in worlds.values())


@pytest.fixture(scope="module")
def samples(tmp_path_factory, postgis_cluster) -> dict[str, str]:
    """The synthetic Wuzhong sample (1500 patches, seed 11) on both backends."""
    from onemap.services import build_sample_workspace

    out = {"gpkg": str(Path(tmp_path_factory.mktemp("contract-sample")) / "s.gpkg"),
           "postgis": postgis_cluster.new_database()}
    for ws in out.values():
        build_sample_workspace(ws, patches=1500, seed=11).close()
    return out


def test_sample_layers_read_back_identically(samples):
    g, p = open_workspace(samples["gpkg"]), open_workspace(samples["postgis"])
    assert [d.to_dict()["name"] for d in g.datasets()] == [d.to_dict()["name"] for d in p.datasets()]
    for d in g.datasets():
        for v in d.versions:
            a, b = g.read(d.name, v.version), p.read(d.name, v.version)
            pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                          pd.DataFrame(b.drop(columns="geometry")), check_exact=True)
            assert a.geometry.geom_equals_exact(b.geometry, 0).all()
    # the same patches meet a box (in R-tree order from the GeoPackage, write order from PostGIS)
    box = (106.0, 37.6, 106.3, 38.0)
    in_g = sorted(g.read("DLTB", "2024", bbox=box, columns=["BSM"])["BSM"])
    assert in_g and in_g == sorted(p.read("DLTB", "2024", bbox=box, columns=["BSM"])["BSM"])
    g.close()
    p.close()


def test_sample_identical_figures(samples, tmp_path):
    _same(samples, "stats", "--by", "county", "--json")
    _same(samples, "stats", "--table", "bulletin", "--by", "county", "--balanced", "--json")
    _same(samples, "tabulate", "--zones", "YJJBNTTB,STBHHX,CZKFBJ", "--json")
    g = open_workspace(samples["gpkg"])
    site_geom = g.read("DLTB", "2024").geometry.iloc[10].buffer(0.003).envelope
    g.close()
    site = tmp_path / "site.geojson"
    site.write_text(json.dumps({"type": "Feature", "properties": {"name": "园区"},
                                "geometry": shapely.geometry.mapping(site_geom)}), "utf-8")
    got = _same(samples, "check", site, "--use", "工业", "--json")
    assert got["site_area_m2"] > 0
    got = _same(samples, "changes", "--from", "2023", "--to", "2024", "--json")
    assert got["summary"]
