"""Reference cases for every judging rule (tests/monitor/data/judging_cases.yaml)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml

from onemap.geo.area import ellipsoidal_area
from onemap.monitor.changes import annotate_changes
from onemap.monitor.judge import judge, load_approval_config
from onemap.monitor.rules import load_rules

DATA = yaml.safe_load((Path(__file__).parent / "data" / "judging_cases.yaml")
                      .read_text(encoding="utf-8"))
X0, Y0 = DATA["origin"]
U = DATA["unit"]


def _box(b):
    return shapely.box(X0 + b[0] * U, Y0 + b[1] * U, X0 + b[2] * U, Y0 + b[3] * U)


def _layer(items):
    rows = [{k: v for k, v in it.items() if k != "box"} for it in items]
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=[_box(it["box"]) for it in items],
                            crs=4490)


def _run(case):
    p = case["patch"]
    geom = _box(p["box"])
    frame = pd.DataFrame({
        "before": [p["before"]], "after": [str(p["after"])],
        "code_system": [p.get("system", "DLBM")],
        "area_m2": [round(float(ellipsoidal_area([geom])[0]), 2)],
        "change_date": [p.get("change_date", DATA["default_change_date"])],
        "zldwdm": ["6403020010010000000"],
    })
    frame["geometry"] = [geom]
    controls = {k: _layer(v) for k, v in (case.get("controls") or {}).items()}
    changes = annotate_changes(frame, controls)
    approvals = {k: _layer(v) for k, v in (case.get("approvals") or {}).items()}
    zones = _layer(case["zones"]) if case.get("zones") else None
    return judge(changes, approvals, as_of=DATA["as_of"], zones=zones)


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["id"] for c in DATA["cases"]])
def test_reference_case(case):
    result = _run(case)
    row = result.patches.iloc[0]
    exp = case["expect"]
    assert row["rule"] == exp["rule"], row["reason"]
    assert row["verdict"] == exp["verdict"]
    if "priority" in exp:
        assert row["priority"] == exp["priority"]
    elif exp["verdict"] != "疑似违法":
        assert pd.isna(row["priority"])
    if "suspect_share" in exp:
        assert row["suspect_area_m2"] / row["area_m2"] == pytest.approx(exp["suspect_share"],
                                                                        abs=0.01)
    for flag in exp.get("flags", []):
        assert flag in row["flags"].split(",")
    assert row["reason"] and "{" not in row["reason"]
    for words in exp.get("reason_has", []):
        assert words in row["reason"], row["reason"]
    if "eco_zone" in exp:
        assert result.facts["eco_zone"].iloc[0] == exp["eco_zone"]
    # every configured approval layer is listed as consulted, used or missing
    listed = {c["layer"]: c for c in result.consulted}
    assert set(load_approval_config().layers) <= set(listed)
    for name in case.get("approvals") or {}:
        assert listed[name]["status"] == "used"


def test_every_rule_has_a_reference_case():
    rules = load_rules(facts=load_approval_config().fact_names())
    covered = {c["expect"]["rule"] for c in DATA["cases"]}
    missing = [r.id for r in rules.rules if r.id not in covered]
    assert not missing, f"rules without a reference case: {missing}"


def test_hits_name_the_approvals_and_their_status():
    case = next(c for c in DATA["cases"] if c["id"] == "expired_temporary_use_still_occupied")
    row = _run(case).patches.iloc[0]
    hit = row["hits"]["LSYD"][0]
    assert hit["id"] == "LS-1" and hit["status"] == "已过期" and hit["ZZRQ"] == "2023-12-31"
    assert "LS-1" in row["reason"]


def test_zone_areas_are_ellipsoidal_and_split_by_zone():
    """Half the patch in a 核心保护区, a quarter in the 一般控制区 of another reserve."""
    from onemap.monitor.ecozones import zone_facts

    patch = _box([0, 0, 1, 1])
    zones = _layer([{"box": [0, 0, 0.5, 1], "ZRBHDMC": "甲", "GNFQ": "核心保护区"},
                    {"box": [0.5, 0, 1, 0.5], "ZRBHDMC": "乙", "GNFQ": "一般控制区"}])
    area = ellipsoidal_area([patch])
    got = zone_facts(pd.Series([patch]).to_numpy(dtype=object), area, zones,
                     after=pd.Series(["0601"]).to_numpy(dtype=object),
                     code_system=pd.Series(["DLBM"]).to_numpy(dtype=object),
                     in_redline=pd.Series([False]).to_numpy())
    assert got["core_area_m2"][0] == pytest.approx(ellipsoidal_area([_box([0, 0, 0.5, 1])])[0],
                                                   abs=0.01)
    assert got["general_area_m2"][0] == pytest.approx(
        ellipsoidal_area([_box([0.5, 0, 1, 0.5])])[0], abs=0.01)
    assert got["eco_zone"][0] == "核心保护区" and got["zone_text"][0] == "甲核心保护区"
    assert got["in_core"][0] and not got["in_general"][0]
    assert got["after_activity"][0] == "" and got["eco_verdict"][0] == "不符合"
