import numpy as np
import pandas as pd
import pytest

from onemap.analysis.stats import TOTAL_UNIT, bulletin_table, totals_by_unit
from onemap.domain import land_classes
from onemap.errors import InputError


def frame(rows):
    return pd.DataFrame(rows, columns=["ZLDWDM", "DLBM", "TBDLMJ"])


def random_dltb(n=5000, seed=3):
    rng = np.random.default_rng(seed)
    codes = sorted(land_classes().codes)
    counties = ["640302", "640303", "640323", "640324", "640381"]
    zl = [f"{rng.choice(counties)}{rng.integers(1, 9):03d}{rng.integers(1, 20):03d}0000000"
          for _ in range(n)]
    return frame({"ZLDWDM": zl, "DLBM": rng.choice(codes, n),
                  "TBDLMJ": np.round(rng.uniform(10, 200000, n), 2)})


def test_hand_computed_table():
    df = frame([
        ["6403020010010000000", "0101", 1000.10],
        ["6403020010020000000", "0101", 2000.20],
        ["6403020020010000000", "0301", 500.05],
        ["6403240010010000000", "0102", 10000.00],
        ["6403240010010000000", "1106", 300.00],
    ])
    t = bulletin_table(df, level="county", unit_names={"640302": "利通区", "640324": "同心县"})
    r = t.rows.set_index(["unit", "dlbm"])
    assert r.loc[("640302", "0101"), "tbdlmj_m2"] == pytest.approx(3000.30)
    assert r.loc[("640302", "0101"), "group"] == "耕地"
    assert r.loc[("640324", "1106"), "group"] == "湿地"
    assert r.loc[("640302", "0101"), "unit_name"] == "利通区"
    assert r.loc[("640324", "0102"), "hectare"] == pytest.approx(1.0)
    assert r.loc[("640324", "0102"), "mu"] == pytest.approx(15.0)
    g = t.groups.set_index("unit")
    assert g.loc["640302", "耕地"] == pytest.approx(0.30003)
    assert g.loc["640302", "林地"] == pytest.approx(0.050005)
    assert g.loc[TOTAL_UNIT, "total"] == pytest.approx(13800.35 / 10000)
    assert list(t.groups.columns[2:]) == land_classes().bulletin_groups() + ["total"]


def test_by_town_uses_nine_digit_prefix():
    df = frame([
        ["6403020010010000000", "0101", 1.0],
        ["6403020020010000000", "0101", 2.0],
    ])
    t = bulletin_table(df, level="town")
    assert sorted(t.rows["unit"]) == ["640302001", "640302002"]


def test_totals_add_up_exactly_in_cents():
    df = random_dltb()
    t = bulletin_table(df, level="county")
    cents = np.rint(df["TBDLMJ"].to_numpy() * 100).astype(np.int64)
    assert int(t.rows["cents"].sum()) == int(cents.sum())
    units = totals_by_unit(t)
    expected = pd.Series(cents).groupby(df["ZLDWDM"].str[:6].to_numpy()).sum()
    assert units.to_dict() == expected.to_dict()
    # Each class appears once per unit and groups partition the classes.
    assert not t.rows.duplicated(["unit", "dlbm"]).any()
    g = t.groups.set_index("unit")
    groups = land_classes().bulletin_groups()
    np.testing.assert_allclose(g[groups].sum(axis=1), g["total"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(g.drop(index=TOTAL_UNIT)[groups].sum(axis=0), g.loc[TOTAL_UNIT, groups],
                               rtol=0, atol=1e-9)


def test_unknown_code_and_missing_area_are_refused():
    with pytest.raises(InputError, match="未知地类编码"):
        bulletin_table(frame([["6403020010010000000", "9999", 1.0]]))
    with pytest.raises(InputError, match="TBDLMJ"):
        bulletin_table(frame([["6403020010010000000", "0101", None]]))
    with pytest.raises(InputError, match="缺少"):
        bulletin_table(pd.DataFrame({"DLBM": ["0101"]}))
