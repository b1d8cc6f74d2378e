"""Reference cases of the site check (tests/control/data/cases.yaml)."""

from __future__ import annotations

import pytest
import shapely
from control_helpers import load_cases, oracle, oracle_site, workspace_layers, write_site

from onemap.control import check_site, read_site
from onemap.errors import InputError

CASES = load_cases()
TOL = CASES["tolerance"]


def close(actual: float, expected: float) -> bool:
    return abs(actual - expected) <= TOL["abs_m2"] + TOL["rel"] * abs(expected)


def assert_area(actual: float, expected: float, what: str) -> None:
    assert close(actual, expected), f"{what}: {actual} ≠ {expected}"


def check_figures(result, expect: dict, truth: dict, label: str) -> None:
    """Compare a CheckResult with the frozen expectation and with the oracle."""
    assert_area(result.area_m2, expect["site_area_m2"], f"{label} site_area_m2 (yaml)")
    assert_area(result.area_m2, truth["site_area_m2"], f"{label} site_area_m2 (oracle)")
    if "by_dlbm" in expect:
        got = result.by_dlbm
        assert set(got) == set(expect["by_dlbm"]) == set(truth["by_dlbm"]), (label, got)
        for code, a in expect["by_dlbm"].items():
            assert_area(got[code], a, f"{label} DLBM {code} (yaml)")
            assert_area(got[code], truth["by_dlbm"][code], f"{label} DLBM {code} (oracle)")
    for ds, exp in expect.get("layers", {}).items():
        lr = result.layers[ds]
        assert lr.status == "已检查"
        assert_area(lr.area_m2, exp["area_m2"], f"{label} {ds} area (yaml)")
        assert_area(lr.area_m2, truth["layers"][ds]["area_m2"], f"{label} {ds} area (oracle)")
        assert lr.ids == exp["ids"] == truth["layers"][ds]["ids"], (label, ds, lr.ids)
        if "outside_m2" in exp:
            assert_area(lr.outside_m2, exp["outside_m2"], f"{label} {ds} outside (yaml)")
            assert_area(lr.outside_m2, truth["layers"][ds]["outside_m2"],
                        f"{label} {ds} outside (oracle)")
    if "extent_outside_m2" in expect:
        assert_area(result.extent["outside_m2"], expect["extent_outside_m2"],
                    f"{label} extent outside (yaml)")
        assert_area(result.extent["outside_m2"], truth["extent_outside_m2"],
                    f"{label} extent outside (oracle)")
    verdicts = {r.id: r.verdict for r in result.rules}
    for rule_id, verdict in expect.get("rules", {}).items():
        assert verdicts[rule_id] == verdict, (
            label, rule_id, verdicts[rule_id],
            next(r.reason for r in result.rules if r.id == rule_id))


@pytest.mark.parametrize("case", [c for c in CASES["cases"] if "error" not in c["expect"]],
                         ids=lambda c: c["id"])
def test_reference_case(case, workspace, checker, tmp_path):
    layers = workspace_layers(CASES["workspace"])
    path = write_site(case["site"], tmp_path, case["id"])
    result = check_site(workspace, path, use=case["use"], checker=checker)
    expect = case["expect"]

    parcels = oracle_site(case["site"])
    if "repaired_wkt" in expect:
        repaired = shapely.from_wkt(expect["repaired_wkt"])
        assert shapely.equals_exact(shapely.normalize(result.geometry), shapely.normalize(repaired),
                                   tolerance=1e-9)
        parcels = [("site", repaired)]
    total = shapely.union_all([g for _, g in parcels])
    check_figures(result, expect, oracle(total, layers), case["id"])

    if "cultivated_by_slope" in expect:
        for slope, a in expect["cultivated_by_slope"].items():
            assert_area(result.cultivated["by_slope"][slope], a, f"slope {slope}")
    for text in expect.get("messages_contain", []):
        assert any(text in m for m in result.messages), (text, result.messages)

    if "parcels" in expect:
        assert [p.name for p in result.parcels] == [p["name"] for p in expect["parcels"]]
        by_name = dict(parcels)
        for got, exp in zip(result.parcels, expect["parcels"], strict=True):
            check_figures(got, exp, oracle(by_name[exp["name"]], layers), exp["name"])
        assert_area(sum(p.area_m2 for p in result.parcels), result.area_m2, "parcels sum")
    else:
        assert result.parcels == []

    d = result.to_dict()
    assert {"site_area_m2", "by_dlbm", "layers", "rules"} <= set(d)
    assert all({"rule", "verdict", "reason"} <= set(r) for r in d["rules"])
    assert ("parcels" in d) == ("parcels" in expect)


@pytest.mark.parametrize("case", [c for c in CASES["cases"] if "error" in c["expect"]],
                         ids=lambda c: c["id"])
def test_reference_case_refused(case, tmp_path):
    path = write_site(case["site"], tmp_path, case["id"])
    with pytest.raises(InputError) as info:
        read_site(path)
    err = info.value
    rules = {p.rule for p in err.problems}
    assert case["expect"]["error"]["rule"] in rules
    text = str(err)
    for piece in case["expect"]["error"]["message_contains"]:
        assert piece in text
    assert path.name in text  # the message names the file


def test_every_area_figure_of_the_yaml_is_also_checked_against_the_oracle():
    # guard: a case without oracle-checked areas would only test frozen numbers
    for case in CASES["cases"]:
        if "error" not in case["expect"]:
            assert "site_area_m2" in case["expect"]
