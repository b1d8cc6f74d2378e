"""``onemap copy``: GeoPackage → PostGIS → GeoPackage keeps every version, asset, audit row,
case, register row, user and setting, and ``audit verify`` holds on each copy."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import MetaData, select
from typer.testing import CliRunner

from builders import dltb_frame
from onemap.cli import app
from onemap.store import VersionMeta, init_workspace, open_workspace, users
from onemap.store.copy import summary

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args], prog_name="onemap")


def ok(*args) -> dict | list:
    r = run(*args)
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    """A GeoPackage workspace with versions, a derived change set, a judged and opened case,
    a register import, a user with a token, an asset and a setting."""
    d = tmp_path_factory.mktemp("copy-src")
    ws = str(d / "ws.gpkg")
    old = dltb_frame(6)
    new = old.copy()
    new.loc[0, ["DLBM", "DLMC", "KCXS", "GDLX", "GDPDJB", "ZZSXDM", "ZZSXMC", "KCDLBM"]] = [
        "0601", "工业用地", 0.0, "", "", "", "", ""]
    old.to_file(d / "dltb2023.gpkg", layer="DLTB")
    new.to_file(d / "dltb2024.gpkg", layer="DLTB")
    ok("init", ws, "--name", "测试市", "--region", "640300", "--json")
    for year in ("2023", "2024"):
        ok("ingest", ws, d / f"dltb{year}.gpkg", "--dataset", "DLTB", "--version", year, "--json")
    store = open_workspace(ws)
    farmland = gpd.GeoDataFrame({"BSM": ["1"], "ZLDWDM": ["6403020010010000000"]},
                                geometry=[shapely.box(*old.total_bounds)], crs=4490)
    info = store.write_version("YJJBNTTB", "2023", farmland, VersionMeta())
    store.add_asset(info.id, "xlsx", "统计.xlsx", {"表": "公报"})
    users.create_user(store.sql_engine(), "zhang", "pass-word-123", role="enforcer", county="640302")
    users.create_token(store.sql_engine(), "zhang", name="对接", days=30, scopes=["case"])
    store.close()
    ok("settings", ws, "--set", "编制单位=测试市自然资源局", "--json")
    ok("changes", ws, "--from", "2023", "--to", "2024", "--json")
    ok("judge", ws, "--changeset", "2023-2024", "--as-of", "2025-03-01", "--json")
    ok("cases", "open", ws, "--json")
    pd.DataFrame([{"项目编号": "P1", "项目名称": "甲", "类型": "土地整治", "行政区": "640302",
                   "新增耕地面积": 10000, "新增水田面积": 2000, "验收平均等别": 6, "状态": "入库"}]
                 ).to_csv(d / "p.csv", index=False)
    ok("ledger", "import", ws, "补充耕地项目", d / "p.csv", "--now", "2025-01-01", "--json")
    return ws


def _records(location: str) -> dict[str, list]:
    """Every record table's rows in key order (the ids, times and hashes included)."""
    store = open_workspace(location)
    md = MetaData()
    with store.sql_engine().connect() as conn:
        md.reflect(conn, only=store.record_tables())
        out = {name: [tuple(r) for r in conn.execute(select(t).order_by(*(t.primary_key or t.columns)))]
               for name, t in md.tables.items()}
    store.close()
    return out


def test_round_trip_gpkg_postgis_gpkg(source, postgis_cluster, tmp_path):
    url = postgis_cluster.new_database()
    got = ok("copy", source, url, "--json")
    assert (got["versions"], got["features"]) == (5, 6 + 6 + 1 + 1 + 1)
    assert got["audit"]["ok"] is True
    assert got["records"]["monitor_cases"] == 1 and got["records"]["onemap_users"] == 1
    back = tmp_path / "back.gpkg"
    assert ok("copy", url, back, "--json")["audit"]["ok"] is True
    assert ok("audit", "verify", url, "--json")["ok"] is True
    assert ok("audit", "verify", back, "--json")["ok"] is True

    original, there, again = _records(source), _records(url), _records(str(back))
    for name in ("onemap_audit", "onemap_versions", "onemap_assets", "onemap_workspace",
                 "monitor_cases", "monitor_case_events", "ledger_records", "ledger_events",
                 "onemap_users", "onemap_tokens", "farmland_journal"):
        assert original[name], name
        assert original[name] == there[name] == again[name], name
    def filled(location: str) -> dict:  # the copy also has the engines' empty tables
        got = summary(open_workspace(location))
        return {"versions": got["versions"], "records": {t: n for t, n in got["records"].items() if n}}

    assert filled(source) == filled(url) == filled(str(back))

    a, b = open_workspace(source), open_workspace(url)
    for d in a.datasets():
        for v in d.versions:
            x, y = a.read(d.name, v.version), b.read(d.name, v.version)
            pd.testing.assert_frame_equal(pd.DataFrame(x.drop(columns="geometry")),
                                          pd.DataFrame(y.drop(columns="geometry")))
            assert x.geometry.geom_equals_exact(y.geometry, 0).all()
    # the copy goes on working: a new version and a case action append to the copied chain
    b.write_version("DLTB", "2025", b.read("DLTB", "2024"), VersionMeta())
    a.close()
    b.close()
    assert ok("audit", "verify", url, "--json")["ok"] is True
    users.create_user(open_workspace(url).sql_engine(), "li", "pass-word-456")  # serial ids moved on


def test_copy_refuses_an_existing_target_and_leaves_it(source, tmp_path):
    target = tmp_path / "t.gpkg"
    init_workspace(target).close()
    before = open_workspace(target).fingerprint()
    r = run("copy", source, target, "--json")
    assert r.exit_code != 0 and "已存在" in json.loads(r.stdout)["message"]
    assert open_workspace(target).fingerprint() == before


def test_a_failed_copy_leaves_no_workspace(source, postgis_cluster, monkeypatch):
    """A copy that fails after the target was made (fault injected at the records step) removes
    what it made, and only that: a table the database held before stays."""
    from onemap.store import copy as store_copy
    url = postgis_cluster.new_database()
    postgis_cluster.cluster.psql("CREATE TABLE theirs (x int)", database=url.rsplit("/", 1)[1])

    def broken(src, dst):
        raise store_copy.WorkspaceError("复制中断（测试）")

    monkeypatch.setattr(store_copy, "copy_records", broken)
    r = run("copy", source, url, "--json")
    assert r.exit_code != 0 and json.loads(r.stdout)["message"] == "复制中断（测试）"
    r = run("catalog", url, "--json")
    assert r.exit_code != 0 and "不是 OneMap 工作空间" in json.loads(r.stdout)["message"]
    tables = postgis_cluster.cluster.psql(
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
        database=url.rsplit("/", 1)[1]).strip()
    assert tables == "spatial_ref_sys,theirs"
