"""Layer schemas, code lists and the QC rule file."""

from __future__ import annotations

import pytest

from onemap.domain import (
    FieldSpec,
    LayerSchema,
    UnknownNameError,
    all_qc_rules,
    codelist,
    codelist_names,
    layer_names,
    layer_schema,
    qc_rules,
)
from onemap.domain.layers import RULE_KINDS
from onemap.errors import InputError

# standards.md §3.2, in order.
DLTB_FIELDS = [
    "BSM", "YSDM", "TBYBH", "TBBH", "DLBM", "DLMC", "QSXZ", "QSDWDM", "QSDWMC", "ZLDWDM",
    "ZLDWMC", "TBMJ", "KCDLBM", "KCXS", "KCMJ", "TBDLMJ", "GDLX", "GDPDJB", "XZDWKD", "TBXHDM",
    "TBXHMC", "ZZSXDM", "ZZSXMC", "GDDB", "FRDBS", "CZCSXM", "SJNF", "MSSM", "HDMC", "BZ",
]  # fmt: skip

LAYERS = {
    "XZQ": (
        ["BSM", "YSDM", "XZQDM", "XZQMC", "DCMJ", "JSMJ", "KZMJ", "MSSM", "HDMC", "BZ"],
        {"XZQDM", "XZQMC"},
        "XZQDM",
    ),
    "CJDCQ": (
        ["BSM", "YSDM", "ZLDWDM", "ZLDWMC", "DCMJ", "JSMJ", "KZMJ", "BZ"],
        {"ZLDWDM", "ZLDWMC"},
        "ZLDWDM",
    ),
    "DLTB": (DLTB_FIELDS, {"BSM", "DLBM", "DLMC", "QSXZ", "QSDWDM", "ZLDWDM"}, "ZLDWDM"),
    "YJJBNTTB": (
        [
            "BSM",
            "YSDM",
            "TBBH",
            "DLBM",
            "DLMC",
            "QSXZ",
            "QSDWDM",
            "QSDWMC",
            "ZLDWDM",
            "ZLDWMC",
            "TBMJ",
            "YJJBNTTBBH",
            "YJJBNTMJ",
            "JBNTMJ",
            "KCDLBM",
            "KCXS",
            "KCMJ",
            "GDLX",
            "GDPDJB",
            "BZ",
        ],
        {"BSM", "ZLDWDM"},
        "ZLDWDM",
    ),  # fmt: skip
    "STBHHX": (
        ["BSM", "YSDM", "HXBH", "HXMC", "HXLX", "XZQDM", "XZQMC", "MJ", "BZ"],
        {"BSM", "XZQDM"},
        "XZQDM",
    ),
    "CZKFBJ": (["BSM", "YSDM", "BJBH", "XZQDM", "XZQMC", "MJ", "BZ"], {"BSM", "XZQDM"}, "XZQDM"),
    "ZRBHD": (
        ["BSM", "YSDM", "ZRBHDMC", "ZRBHDLX", "JB", "PZWH", "GLJG", "GNFQ", "XZQDM", "MJ", "BZ"],
        {"BSM", "ZRBHDMC"},
        "XZQDM",
    ),
}


def test_layer_names():
    assert layer_names() == list(LAYERS)


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_fields_required_and_unit(name):
    fields, required, unit = LAYERS[name]
    schema = layer_schema(name)
    assert isinstance(schema, LayerSchema)
    assert [f.name for f in schema.fields] == fields
    assert set(schema.required_fields) == required
    assert schema.id_field == "BSM"
    assert schema.unit_field == unit
    assert schema.geometry == "Polygon"
    assert schema.title
    for f in schema.fields:
        assert isinstance(f, FieldSpec)
        assert f.title and f.type in ("str", "int", "float", "date")
        if f.codelist:
            assert f.codelist in codelist_names()


def test_ysdm_codes_and_their_status():
    # official-tables.md §6 (TDDC3D zrzy/JBNTTBTqOptForm.cs)
    confirmed = {"XZQ": "1000600100", "DLTB": "2001010100", "YJJBNTTB": "2005010300"}
    for name in layer_names():
        s = layer_schema(name)
        if name in confirmed:
            assert (s.ysdm, s.ysdm_confirmed) == (confirmed[name], True), name
        else:
            assert not s.ysdm_confirmed, name
        assert s.ysdm_source, name  # every layer says where its code comes from, or that it does not


def test_area_fields_accept_both_names():
    # XZQ: DCMJ (三调) or KZMJ (older); YJJBNTTB: YJJBNTMJ or JBNTMJ (official-tables.md §6)
    xzq = layer_schema("XZQ")
    assert xzq.area_field(["XZQDM", "DCMJ", "KZMJ"]) == "DCMJ"
    assert xzq.area_field(["XZQDM", "KZMJ"]) == "KZMJ"
    assert xzq.area_field(["XZQDM", "JSMJ"]) is None
    yj = layer_schema("YJJBNTTB")
    assert yj.area_field(["BSM", "JBNTMJ"]) == "JBNTMJ"
    assert yj.area_field(["BSM", "YJJBNTMJ", "JBNTMJ"]) == "YJJBNTMJ"
    assert layer_schema("DLTB").area_field(["TBMJ"]) is None


def test_dltb_field_details():
    s = layer_schema("DLTB")
    assert s.title == "地类图斑"
    assert s.ysdm == "2001010100"
    for computed in ("TBMJ", "KCMJ", "TBDLMJ"):
        assert not s.field(computed).required
        assert s.field(computed).type == "float"
    assert s.field("DLBM").codelist == "dlbm" and s.field("DLBM").length == 5
    assert s.field("QSXZ").codelist == "qsxz"
    assert s.field("GDLX").codelist == "gdlx"
    assert s.field("GDPDJB").codelist == "gdpdjb"
    assert s.field("CZCSXM").codelist == "czcsxm" and s.field("CZCSXM").length == 4
    assert s.field("ZZSXDM").codelist == "zzsxdm"
    assert s.field("TBXHDM").codelist == "tbxhdm"
    assert s.field("TBBH").length == 8
    assert s.field("KCXS").decimals == 4
    with pytest.raises(KeyError):
        s.field("XXTBKD")


def test_layer_schema_case_insensitive_and_unknown():
    assert layer_schema("dltb") is layer_schema("DLTB")
    with pytest.raises(UnknownNameError) as info:
        layer_schema("NOPE")
    assert isinstance(info.value, InputError) and isinstance(info.value, KeyError)
    assert "NOPE" in str(info.value)


def test_codelists():
    assert codelist("qsxz") == {
        "10": "国有土地所有权", "20": "国有土地使用权", "30": "集体土地所有权",
        "31": "村民小组", "32": "村集体经济组织", "33": "乡集体经济组织",
        "34": "其他农民集体经济组织", "40": "集体土地使用权",
    }  # fmt: skip
    assert codelist("gdlx") == {"TT": "梯田", "PD": "坡地"}
    assert list(codelist("gdpdjb")) == ["1", "2", "3", "4", "5"]
    assert set(codelist("czcsxm")) == {"201", "201A", "202", "202A", "203", "203A", "204", "205"}
    # official-tables.md §5: JKHF 即可恢复 / GCHF 工程恢复 (non-耕地), YJGD and the 废弃/垃圾填埋 细化
    assert set(codelist("zzsxdm")) == {"LS", "FLS", "LYFL", "XG", "LLJZ", "WG", "JKHF", "GCHF"}
    tbxh = codelist("tbxhdm")
    assert set(tbxh) == {
        "HDGD", "HQGD", "LQGD", "MQGD", "SMGD", "SHGD", "LQYD", "GCCD", "YJGD", "FQ", "LJTM",
    }  # fmt: skip
    assert "1301" not in tbxh and "1302" not in tbxh
    assert codelist("dlbm")["0101"] == "水田"
    d = codelist("qsxz")
    d["99"] = "x"
    assert "99" not in codelist("qsxz")
    with pytest.raises(UnknownNameError):
        codelist("nope")


def test_rules_are_well_formed():
    rules = all_qc_rules()
    assert len({r.id for r in rules}) == len(rules)
    for r in rules:
        assert r.kind in RULE_KINDS
        assert r.severity in ("error", "warning")
        assert r.title
    dltb = {r.id: r for r in qc_rules("DLTB")}
    for rid in (
        "required_field", "unknown_dlbm", "duplicate_bsm", "dlmc_mismatch",
        "gd_gdpdjb_required", "gd_zzsxdm_required", "non_gd_farm_fields", "gdlx_required",
        "xzdwkd_non_linear", "tbxhmc_required", "invalid_code", "kcxs_range",
        "zldwdm_digits", "zldwdm_length",
    ):  # fmt: skip
        assert rid in dltb, rid
    assert dltb["unknown_dlbm"].severity == "error"
    assert dltb["gd_gdpdjb_required"].severity == "error"
    assert dltb["gd_zzsxdm_required"].severity == "warning"
    assert dltb["dlmc_mismatch"].severity == "warning"
    assert dltb["kcxs_range"].severity == "error"
    assert dltb["zldwdm_digits"].severity == "error"
    assert dltb["zldwdm_length"].severity == "warning"
    assert dltb["invalid_code"].severity == "warning"
    assert {r.id for r in qc_rules("XZQ")} >= {"required_field", "duplicate_bsm"}
    assert "unknown_dlbm" not in {r.id for r in qc_rules("XZQ")}
