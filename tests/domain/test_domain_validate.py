"""validate_layer: each QC rule fires on hand-built frames, a clean frame passes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from onemap.domain.validate import MAX_PER_RULE, validate_layer
from onemap.errors import Problem

ZL = "6403020012010000000"


def dltb(rows: list[dict] | None = None, **columns) -> gpd.GeoDataFrame:
    """A clean DLTB: one 水浇地, one 乔木林地, one 农村道路 — then overrides."""
    base = [
        {
            "BSM": 1001, "YSDM": "2001010100", "TBBH": "1", "DLBM": "0102", "DLMC": "水浇地",
            "QSXZ": "30", "QSDWDM": ZL, "QSDWMC": "某村", "ZLDWDM": ZL, "ZLDWMC": "某村",
            "TBMJ": 1000.5, "KCDLBM": "1203", "KCXS": 0.05, "KCMJ": 50.03, "TBDLMJ": 950.47,
            "GDLX": "PD", "GDPDJB": "2", "XZDWKD": np.nan, "TBXHDM": "HDGD", "TBXHMC": "河道耕地",
            "ZZSXDM": "LS", "ZZSXMC": "种植粮食作物", "GDDB": 7, "FRDBS": "0", "CZCSXM": None,
            "SJNF": 2023, "MSSM": None, "HDMC": None, "BZ": None,
        },
        {
            "BSM": 1002, "YSDM": "2001010100", "TBBH": "2", "DLBM": "0301", "DLMC": "乔木林地",
            "QSXZ": "20", "QSDWDM": ZL, "QSDWMC": "某村", "ZLDWDM": ZL, "ZLDWMC": "某村",
            "TBMJ": 2000.0, "KCDLBM": None, "KCXS": 0.0, "KCMJ": 0.0, "TBDLMJ": 2000.0,
            "GDLX": None, "GDPDJB": None, "XZDWKD": 0.0, "TBXHDM": None, "TBXHMC": None,
            "ZZSXDM": None, "ZZSXMC": None, "GDDB": np.nan, "FRDBS": "0", "CZCSXM": "203",
            "SJNF": 2023, "MSSM": None, "HDMC": None, "BZ": None,
        },
        {
            "BSM": 1003, "YSDM": "2001010100", "TBBH": "3", "DLBM": "1006", "DLMC": "农村道路",
            "QSXZ": "30", "QSDWDM": ZL, "QSDWMC": "某村", "ZLDWDM": ZL, "ZLDWMC": "某村",
            "TBMJ": 300.0, "KCDLBM": None, "KCXS": 0.0, "KCMJ": 0.0, "TBDLMJ": 300.0,
            "GDLX": None, "GDPDJB": None, "XZDWKD": 4.5, "TBXHDM": None, "TBXHMC": None,
            "ZZSXDM": None, "ZZSXMC": None, "GDDB": np.nan, "FRDBS": "0", "CZCSXM": None,
            "SJNF": 2023, "MSSM": None, "HDMC": None, "BZ": "  ",
        },
    ]  # fmt: skip
    data = rows if rows is not None else base
    frame = pd.DataFrame(data)
    for name, values in columns.items():
        frame[name] = values
    geoms = [box(i, 0, i + 1, 1) for i in range(len(frame))]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4544")


def with_row(i: int, **values) -> gpd.GeoDataFrame:
    """The clean DLTB with row ``i`` changed."""
    gdf = dltb()
    for k, v in values.items():
        if k not in gdf.columns:
            gdf[k] = None
        gdf[k] = gdf[k].astype(object)
        gdf.at[i, k] = v
    return gdf


def rules(problems: list[Problem]) -> set[str]:
    return {p.rule for p in problems}


def test_clean_frame_has_no_problems():
    errors, warnings = validate_layer(dltb(), "DLTB", file="dltb.gpkg")
    assert errors == []
    assert warnings == []


def test_clean_frame_with_string_columns_everywhere():
    gdf = dltb().astype({"BSM": str, "GDDB": object, "SJNF": str})
    errors, warnings = validate_layer(gdf, "DLTB")
    assert (errors, warnings) == ([], [])


def test_missing_required_column_is_one_error_per_field():
    gdf = dltb().drop(columns=["DLMC", "QSDWDM"])
    errors, _ = validate_layer(gdf, "DLTB", file="a.shp")
    missing = [p for p in errors if p.rule == "required_field"]
    assert {p.field for p in missing} == {"DLMC", "QSDWDM"}
    assert all(p.row is None and p.file == "a.shp" for p in missing)
    assert len(missing) == 2


@pytest.mark.parametrize("empty", ["", "   ", None, np.nan])
def test_empty_values_count_as_missing(empty):
    errors, _ = validate_layer(with_row(1, ZLDWDM=empty), "DLTB")
    req = [p for p in errors if p.rule == "required_field"]
    assert len(req) == 1
    assert req[0].row == "1002" and req[0].field == "ZLDWDM"
    assert "ZLDWDM" in req[0].message and "为空" in req[0].message


def test_row_label_falls_back_to_row_number():
    errors, _ = validate_layer(with_row(2, BSM=None, DLBM="9999"), "DLTB")
    bsm = [p for p in errors if p.rule == "required_field" and p.field == "BSM"]
    assert bsm[0].row == "第3行"
    assert [p.row for p in errors if p.rule == "unknown_dlbm"] == ["第3行"]


def test_unknown_dlbm():
    errors, _ = validate_layer(with_row(1, DLBM="0399"), "DLTB")
    (p,) = [p for p in errors if p.rule == "unknown_dlbm"]
    assert p.row == "1002" and p.field == "DLBM" and "0399" in p.message


def test_numeric_dlbm_is_reported_not_fixed():
    gdf = dltb()
    gdf["DLBM"] = [102, 301, 1006]  # read from a numeric column: leading zeros lost
    errors, _ = validate_layer(gdf, "DLTB")
    bad = [p for p in errors if p.rule == "unknown_dlbm"]
    assert [p.row for p in bad] == ["1001", "1002"]
    assert "0102" in bad[0].message  # hint, not a repair
    assert "gd_gdpdjb_required" not in rules(errors)


def test_string_dlbm_with_spaces_is_fine():
    errors, warnings = validate_layer(with_row(0, DLBM=" 0102 "), "DLTB")
    assert (errors, warnings) == ([], [])


def test_duplicate_bsm():
    errors, _ = validate_layer(with_row(2, BSM=1001), "DLTB")
    dup = [p for p in errors if p.rule == "duplicate_bsm"]
    assert [p.row for p in dup] == ["1001", "1001"]
    assert "2 次" in dup[0].message


def test_duplicate_bsm_as_text():
    gdf = dltb().astype({"BSM": str})
    gdf.loc[2, "BSM"] = "1001 "
    errors, _ = validate_layer(gdf, "DLTB")
    assert len([p for p in errors if p.rule == "duplicate_bsm"]) == 2


def test_dlmc_mismatch_warning():
    errors, warnings = validate_layer(with_row(1, DLMC="灌木林地"), "DLTB")
    assert errors == []
    (p,) = [p for p in warnings if p.rule == "dlmc_mismatch"]
    assert p.field == "DLMC" and "乔木林地" in p.message


def test_cultivated_needs_gdpdjb_error_and_zzsxdm_warning():
    errors, warnings = validate_layer(with_row(0, GDPDJB=None, GDLX=None, ZZSXDM=""), "DLTB")
    assert [(p.rule, p.row) for p in errors] == [("gd_gdpdjb_required", "1001")]
    assert ("gd_zzsxdm_required", "1001") in {(p.rule, p.row) for p in warnings}


def test_cultivated_without_zzsxdm_column_is_one_warning():
    gdf = dltb().drop(columns=["ZZSXDM", "ZZSXMC"])
    errors, warnings = validate_layer(gdf, "DLTB")
    assert errors == []
    (p,) = [p for p in warnings if p.rule == "gd_zzsxdm_required"]
    assert p.row is None and p.field == "ZZSXDM" and "1 行" in p.message


def test_non_cultivated_must_not_carry_farm_fields():
    gdf = with_row(1, GDLX="PD", GDPDJB="3", KCXS=0.1, ZZSXDM="LS")
    errors, warnings = validate_layer(gdf, "DLTB")
    hits = [p for p in warnings if p.rule == "non_gd_farm_fields"]
    assert {p.field for p in hits} == {"GDLX", "GDPDJB", "KCXS"}
    assert all(p.row == "1002" for p in hits)
    assert "0301" in hits[0].message
    # KCXS = 0 on non-耕地 is fine (the clean frame has it)
    # a 耕地 种植属性 on non-耕地 is refused by the ZZSXDM rule of non-耕地
    (z,) = [p for p in warnings if p.rule == "non_gd_zzsxdm_value"]
    assert (z.row, z.field) == ("1002", "ZZSXDM") and "JKHF" in z.message


@pytest.mark.parametrize("value", ["JKHF", "GCHF"])
def test_non_cultivated_may_carry_restoration_zzsxdm(value):
    # official-tables.md §5: ZZSXDM on non-耕地 may be JKHF 即可恢复 or GCHF 工程恢复
    errors, warnings = validate_layer(with_row(1, ZZSXDM=value), "DLTB")
    assert errors == [] and warnings == []


def test_cultivated_must_not_carry_restoration_zzsxdm():
    _, warnings = validate_layer(with_row(0, ZZSXDM="JKHF"), "DLTB")
    assert [(p.rule, p.row, p.field) for p in warnings] == [("gd_zzsxdm_value", "1001", "ZZSXDM")]


def test_slope_level_1_must_not_deduct_tiankan():
    # official-tables.md §4: 耕地 ≤ 2° maps 田坎 as its own patch, so KCXS = 0
    errors, _ = validate_layer(with_row(0, GDPDJB="1", GDLX=None), "DLTB")
    hits = [p for p in errors if p.rule == "gdpdjb1_no_kcxs"]
    assert {(p.row, p.field) for p in hits} == {("1001", "KCXS"), ("1001", "KCMJ")}
    assert "GDPDJB=1" in hits[0].message
    errors, _ = validate_layer(with_row(0, GDPDJB="1", GDLX=None, KCXS=0.0, KCMJ=0.0), "DLTB")
    assert errors == []
    errors, _ = validate_layer(dltb(), "DLTB")  # GDPDJB 2 with KCXS 0.05 is fine
    assert "gdpdjb1_no_kcxs" not in rules(errors)


@pytest.mark.parametrize("code", ["YJGD", "FQ", "LJTM", "HDGD"])
def test_tbxhdm_codes_include_the_refinement_codes(code):
    from onemap.domain import codelist

    assert code in codelist("tbxhdm")


def test_gdlx_required_when_slope_level_at_least_2():
    errors, warnings = validate_layer(with_row(0, GDLX=None), "DLTB")
    assert [(p.rule, p.row) for p in warnings] == [("gdlx_required", "1001")]
    _, warnings = validate_layer(with_row(0, GDLX=None, GDPDJB="1", KCXS=0.0, KCMJ=0.0), "DLTB")
    assert "gdlx_required" not in rules(warnings)


def test_xzdwkd_only_on_linear_classes():
    _, warnings = validate_layer(with_row(1, XZDWKD=3.0), "DLTB")
    assert [(p.rule, p.row) for p in warnings] == [("xzdwkd_non_linear", "1002")]
    _, warnings = validate_layer(with_row(2, XZDWKD=8.0), "DLTB")  # 1006 is linear
    assert warnings == []


def test_tbxhmc_required_with_tbxhdm():
    _, warnings = validate_layer(with_row(0, TBXHMC=None), "DLTB")
    assert [(p.rule, p.row, p.field) for p in warnings] == [("tbxhmc_required", "1001", "TBXHMC")]


def test_codelist_fields_warn():
    gdf = with_row(0, QSXZ="50", GDLX="XX", GDPDJB="6", TBXHDM="1301", CZCSXM="209", ZZSXDM="ZZ")
    errors, warnings = validate_layer(gdf, "DLTB")
    bad = {p.field for p in warnings if p.rule == "invalid_code"}
    assert bad == {"QSXZ", "GDLX", "GDPDJB", "TBXHDM", "CZCSXM", "ZZSXDM"}
    assert "invalid_code" not in rules(errors)


def test_codelist_accepts_numeric_columns():
    gdf = dltb()
    gdf["QSXZ"] = [30, 20, 30]
    gdf["CZCSXM"] = [np.nan, 203.0, np.nan]
    gdf["GDPDJB"] = [2.0, np.nan, np.nan]
    assert validate_layer(gdf, "DLTB") == ([], [])


@pytest.mark.parametrize(
    ("value", "ok"), [(0.0, True), (0.9999, True), (1.0, False), (-0.1, False), ("x", False)]
)
def test_kcxs_range(value, ok):
    errors, _ = validate_layer(with_row(0, KCXS=value), "DLTB")
    assert ("kcxs_range" not in rules(errors)) is ok


def test_kcdlbm_rules():
    _, warnings = validate_layer(with_row(0, KCDLBM=None), "DLTB")
    assert "kcdlbm_required" in rules(warnings)
    _, warnings = validate_layer(with_row(0, KCDLBM="1202"), "DLTB")
    assert "kcdlbm_tiankan" in rules(warnings)


def test_zldwdm_format():
    errors, warnings = validate_layer(with_row(0, ZLDWDM="640302001201"), "DLTB")
    assert errors == []
    assert [(p.rule, p.row) for p in warnings] == [("zldwdm_length", "1001")]
    errors, warnings = validate_layer(with_row(0, ZLDWDM="64030200120100000X0"), "DLTB")
    assert [(p.rule, p.row) for p in errors] == [("zldwdm_digits", "1001")]
    assert "zldwdm_length" not in rules(warnings)


def test_other_range_and_numeric_rules():
    _, warnings = validate_layer(with_row(0, GDDB=16, TBMJ=0.0, SJNF="二〇二三", FRDBS="2"), "DLTB")
    assert {"gddb_range", "tbmj_positive", "not_numeric", "frdbs_value"} <= rules(warnings)


def test_cap_per_rule_with_summary():
    n = MAX_PER_RULE + 250
    gdf = gpd.GeoDataFrame(
        {
            "BSM": np.arange(n),
            "DLBM": ["0999"] * n,
            "DLMC": ["x"] * n,
            "QSXZ": ["30"] * n,
            "QSDWDM": [ZL] * n,
            "ZLDWDM": [ZL] * n,
        }  # fmt: skip
    )
    errors, _ = validate_layer(gdf, "DLTB")
    unknown = [p for p in errors if p.rule == "unknown_dlbm"]
    assert len(unknown) == MAX_PER_RULE + 1
    assert unknown[-1].row is None and "另有 250 行违反同一规则" in unknown[-1].message
    errors, _ = validate_layer(gdf, "DLTB", max_per_rule=3)
    assert len([p for p in errors if p.rule == "unknown_dlbm"]) == 4


def test_duplicate_column_names():
    gdf = dltb()
    frame = pd.concat([gdf, gdf[["DLBM"]]], axis=1)
    errors, _ = validate_layer(frame, "DLTB")
    assert [p.field for p in errors if p.rule == "duplicate_column"] == ["DLBM"]


def test_plain_dataframe_is_accepted():
    assert validate_layer(pd.DataFrame(dltb().drop(columns="geometry")), "DLTB") == ([], [])


def test_other_layers():
    xzq = gpd.GeoDataFrame(
        {"BSM": [1, 2], "XZQDM": ["640302001000", None], "XZQMC": ["金积镇", "x"]}
    )
    errors, _ = validate_layer(xzq, "XZQ")
    assert [(p.rule, p.row, p.field) for p in errors] == [("required_field", "2", "XZQDM")]

    zrbhd = gpd.GeoDataFrame(
        {
            "BSM": [1],
            "ZRBHDMC": ["罗山"],
            "ZRBHDLX": ["自然保护区"],
            "JB": ["国家级"],
            "GNFQ": ["缓冲区"],
            "XZQDM": ["640324"],
        }  # fmt: skip
    )
    errors, warnings = validate_layer(zrbhd, "ZRBHD")
    assert errors == []
    assert [(p.rule, p.field) for p in warnings] == [("invalid_code", "GNFQ")]

    stbhhx = gpd.GeoDataFrame({"BSM": [1, 1], "XZQDM": ["640324", "64032A"]})
    errors, _ = validate_layer(stbhhx, "STBHHX")
    assert rules(errors) == {"duplicate_bsm", "xzqdm_digits"}

    cjdcq = gpd.GeoDataFrame({"BSM": [1]})
    errors, _ = validate_layer(cjdcq, "CJDCQ")
    assert {p.field for p in errors} == {"ZLDWDM", "ZLDWMC"}


def test_unknown_layer():
    with pytest.raises(KeyError):
        validate_layer(dltb(), "NOPE")


def test_large_frame_is_vectorised():
    """Sanity, not a timing test: 200 000 rows with one bad row in 1000."""
    n = 200_000
    rng = np.random.default_rng(1)
    codes = np.array(["0102", "0301", "1006", "0702", "1107"])
    dl = rng.choice(codes, n)
    names = {"0102": "水浇地", "0301": "乔木林地", "1006": "农村道路", "0702": "农村宅基地",
             "1107": "沟渠"}  # fmt: skip
    cult = dl == "0102"
    frame = pd.DataFrame(
        {
            "BSM": np.arange(n, dtype=np.int64),
            "DLBM": dl,
            "DLMC": [names[c] for c in dl],
            "QSXZ": "30",
            "QSDWDM": ZL,
            "ZLDWDM": ZL,
            "GDPDJB": np.where(cult, "1", None),
            "ZZSXDM": np.where(cult, "LS", None),
            "KCXS": 0.0,
            "TBMJ": rng.random(n) * 100 + 1,
        }  # fmt: skip
    )
    frame.loc[::1000, "DLBM"] = "9999"
    errors, warnings = validate_layer(frame, "DLTB")
    assert len([p for p in errors if p.rule == "unknown_dlbm"]) == n // 1000
    assert warnings == []


def test_ysdm_must_be_the_layers_confirmed_code():
    # official-tables.md §6: DLTB 2001010100, YJJBNTTB 2005010300 (the old sample wrote 2004010100)
    _, warnings = validate_layer(with_row(0, YSDM="2004010100"), "DLTB")
    (p,) = [p for p in warnings if p.rule == "ysdm_value"]
    assert (p.row, p.field) == ("1001", "YSDM") and "2001010100" in p.message
    yj = gpd.GeoDataFrame({"BSM": ["1"], "YSDM": ["2004010100"], "ZLDWDM": [ZL]})
    _, warnings = validate_layer(yj, "YJJBNTTB")
    assert [(p.rule, p.field) for p in warnings] == [("ysdm_value", "YSDM")]
    assert "2005010300" in warnings[0].message
    # an unconfirmed code (STBHHX) is not enforced
    hx = gpd.GeoDataFrame({"BSM": ["1"], "YSDM": ["1234567890"], "XZQDM": ["640324"]})
    _, warnings = validate_layer(hx, "STBHHX")
    assert "ysdm_value" not in rules(warnings)
