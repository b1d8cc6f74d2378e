import json

import geopandas as gpd
import shapely
from typer.testing import CliRunner

from builders import dltb_frame
from onemap.cli import app
from onemap.store import VersionMeta, init_workspace

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def two_versions(tmp_path):
    ws = tmp_path / "ws.gpkg"
    store = init_workspace(ws)
    old = dltb_frame(6)
    old["TBMJ"] = 40000.0
    old["KCMJ"] = 0.0
    old["TBDLMJ"] = 40000.0
    new = old.copy()
    new.loc[0, ["DLBM", "DLMC", "KCXS", "GDLX", "GDPDJB", "ZZSXDM", "ZZSXMC", "KCDLBM"]] = [
        "0601", "工业用地", 0.0, "", "", "", "", ""]
    store.write_version("DLTB", "2023", old, VersionMeta())
    store.write_version("DLTB", "2024", new, VersionMeta())
    yn = gpd.GeoDataFrame({"BSM": ["1"], "ZLDWDM": ["6403020010010000000"]},
                          geometry=[shapely.box(*old.total_bounds)], crs=4490)
    store.write_version("YJJBNTTB", "2023", yn, VersionMeta())
    return ws


def test_changes_judge_cases_audit_from_the_command_line(tmp_path):
    ws = two_versions(tmp_path)
    r = run("changes", ws, "--from", "2023", "--to", "2024", "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["changes"]
    assert len(rows) == 1
    assert rows[0]["before"] == "0101" and rows[0]["after"] == "0601" and rows[0]["sfyn"]
    assert rows[0]["area_m2"] > 30000

    r = run("judge", ws, "--json")
    assert r.exit_code == 0, r.output
    patches = json.loads(r.stdout)["patches"]
    assert patches[0]["verdict"] == "疑似违法"

    r = run("cases", "open", ws, "--json")
    assert r.exit_code == 0, r.output
    case_no = json.loads(r.stdout)["opened"][0]["case_no"]

    # 销号 before 判定 is refused with a clear message and changes nothing.
    r = run("cases", "act", ws, case_no, "close", "-f", "approver=李四")
    assert r.exit_code != 0
    assert "不能执行" in r.stderr

    r = run("cases", "list", ws, "--json")
    listed = json.loads(r.stdout)["cases"]
    assert listed[0]["state"] == "issued"

    r = run("audit", "verify", ws, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["ok"] is True
