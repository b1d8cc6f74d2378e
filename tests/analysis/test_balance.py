"""调平 on hand-made base tables whose every step can be checked by hand."""

import numpy as np
import pandas as pd
import pytest

from onemap.analysis.balance import balance_cells, spread, to_units
from onemap.errors import InputError

V1, V2 = "640302001001", "640302001002"


def cells(rows):
    """rows: (village, record, dlbm, m²) → a base cell table in hundredths of m²."""
    df = pd.DataFrame(rows, columns=["village", "record", "dlbm", "m2"])
    df["county"] = df["village"].str[:6]
    df["cents"] = np.rint(df["m2"] * 100).astype(np.int64)
    return df.drop(columns="m2")


WORKED = cells([
    (V1, "", "0101", 12345.67),   # 1.234567 ha → 1.23
    (V1, "", "0103", 5004.00),    # 0.5004   → 0.50
    (V1, "", "1203", 49.99),      # 0.004999 → 0.00
    (V1, "203", "0702", 20000.00),  # 2.00
    (V2, "", "0301", 30000.40),   # 3.00004 → 3.00
    (V2, "", "0404", 8000.00),    # 0.80
])  # b = 7.53 公顷; exact 75 400.06 m²


def units_of(result):
    return {(r.village, r.record, r.dlbm): int(r.units) for r in result.cells.itertuples()}


def test_worked_example_spreads_villages_then_records_then_big_classes():
    # a = 75 600.00 m² = 7.56 公顷, b = 7.53: 3 steps over 2 villages → 1 each, the remainder
    # to the larger village V2 (38 000.40 m² > 37 399.66 m²): V2 +2, V1 +1.
    # V2 has one record; of its classes only 0301 (3.00) is ≥ 1 公顷 → 0301 +2.
    # V1's step goes to its larger record 203 (20 000 m² > 17 399.66 m²) → 0702 +1.
    r = balance_cells(WORKED, {"640302": 75600.00}, unit_names={"640302": "利通区"})
    u = units_of(r)
    assert u == {(V1, "", "0101"): 123, (V1, "", "0103"): 50, (V1, "", "1203"): 0,
                 (V1, "203", "0702"): 201, (V2, "", "0301"): 302, (V2, "", "0404"): 80}
    assert sum(u.values()) == 756
    block = r.counties[0].to_dict()
    assert block == {"county": "640302", "county_name": "利通区", "control_field": "DCMJ",
                     "control_ha": 7.56, "sum_before_ha": 7.53, "steps": 3}
    # the exact m² stay as they were
    assert r.cells["cents"].sum() == 7540006


def test_negative_gap_takes_steps_away_the_same_way():
    # a = 7.51: −2 steps over 2 villages → −1 each; V1's goes to record 203, V2's to 0301.
    r = balance_cells(WORKED, {"640302": 75100.00})
    u = units_of(r)
    assert u[(V1, "203", "0702")] == 199 and u[(V2, "", "0301")] == 299
    assert u[(V1, "", "0101")] == 123 and u[(V2, "", "0404")] == 80
    assert r.counties[0].steps == -2 and sum(u.values()) == 751


def test_row_steps_go_in_reverse_code_order_among_big_classes():
    c = cells([(V1, "", "0101", 15000.0), (V1, "", "0103", 20000.0), (V1, "", "0301", 4000.0)])
    # b = 1.50 + 2.00 + 0.40 = 3.90; a = 3.93 → +3 over 0103, 0101 (reverse order, ≥ 1 公顷):
    # quotient 1 each, remainder 1 to 0103 first.
    u = units_of(balance_cells(c, {"640302": 39300.0}))
    assert u == {(V1, "", "0101"): 151, (V1, "", "0103"): 202, (V1, "", "0301"): 40}


def test_row_with_only_small_classes_spreads_over_all_in_reverse_order():
    c = cells([(V1, "", "0101", 3000.0), (V1, "", "0103", 2000.0)])
    u = units_of(balance_cells(c, {"640302": 4900.0}))  # 0.50 → 0.49
    assert u == {(V1, "", "0101"): 30, (V1, "", "0103"): 19}


def test_table_that_already_ties_is_untouched():
    r = balance_cells(WORKED, {"640302": 75300.00})
    assert (r.cells["units"] == r.cells["units_before"]).all()
    assert r.counties[0].steps == 0


def test_gap_above_tolerance_is_refused_naming_county_and_both_figures():
    with pytest.raises(InputError) as exc:
        balance_cells(WORKED, {"640302": 85400.00}, unit_names={"640302": "利通区"})
    msg = str(exc.value)
    assert "640302 利通区" in msg and "8.54 公顷" in msg and "7.53 公顷" in msg and "1.00 公顷" in msg
    assert exc.value.problems[0].field == "DCMJ"
    # exactly the tolerance is accepted; a larger tolerance accepts the gap
    assert balance_cells(WORKED, {"640302": 85300.00}).counties[0].steps == 100
    assert balance_cells(WORKED, {"640302": 85400.00}, tolerance_ha=2).counties[0].steps == 101


def test_county_without_control_area_is_refused():
    with pytest.raises(InputError, match="640302.*没有控制面积（XZQ.KZMJ）"):
        balance_cells(WORKED, {}, control_field="KZMJ")


def test_many_steps_reach_every_village_and_never_go_negative():
    # −60 steps over 2 villages: −30 each; V1 (1.23+0.50+0+2.00 = 3.73) gives 30,
    # split over its records: −15 each … record "" then spreads over 0101 only (≥ 1 公顷).
    r = balance_cells(WORKED, {"640302": 69300.00})
    u = units_of(r)
    assert sum(u.values()) == 693 and min(u.values()) >= 0
    assert u[(V1, "", "0101")] == 108 and u[(V1, "203", "0702")] == 185
    assert u[(V2, "", "0301")] == 270 and u[(V2, "", "0404")] == 80


def test_spread_and_unit_rounding():
    assert spread(7, [2, 0, 1]).tolist() == [2, 2, 3]
    assert spread(-5, [0, 1], np.array([1, 10])).tolist() == [-1, -4]
    assert to_units(np.array([4999, 5000, 15000, -5000])).tolist() == [0, 1, 2, -1]
