"""Loading: versions, overrides through ONEMAP_DOMAIN_DIR, errors on malformed files."""

from __future__ import annotations

import pytest

from onemap.domain import (
    DATA_FILES,
    codelist,
    data_versions,
    land_classes,
    layer_schema,
    load_all,
    map_to_landuse,
    qc_rules,
    sandiao_to_landuse,
)
from onemap.domain._files import SHIPPED_DIR
from onemap.errors import DomainDataError


def test_every_shipped_file_loads_and_has_a_version():
    load_all()
    versions = data_versions()
    assert set(versions) == set(DATA_FILES)
    for name, info in versions.items():
        assert info["version"], name
        assert info["overridden"] == "false"
        assert (SHIPPED_DIR / name).is_file()


def test_results_are_cached():
    assert land_classes() is land_classes()
    assert layer_schema("DLTB") is layer_schema("DLTB")


def test_override_replaces_only_that_file(override):
    override(
        "codelists.yaml",
        edit=lambda t: t.replace(
            '"40": 集体土地使用权', '"40": 集体土地使用权\n      "99": 测试代码'
        ),
    )
    assert codelist("qsxz")["99"] == "测试代码"
    assert land_classes().name("0101") == "水田"  # other files still shipped
    info = data_versions()
    assert info["codelists.yaml"]["overridden"] == "true"
    assert info["layers.yaml"]["overridden"] == "false"


def test_malformed_yaml_in_override_names_the_file(override):
    override("layers.yaml", "version: '1'\nlayers: [\n  - name: DLTB\n")
    with pytest.raises(DomainDataError) as info:
        layer_schema("DLTB")
    err = info.value
    assert "layers.yaml" in err.message
    assert "YAML" in err.message
    assert err.problems and err.problems[0].file.endswith("layers.yaml")
    assert err.exit_code == 5


def test_bad_entry_in_layers_yaml_names_the_layer(override):
    override(
        "layers.yaml",
        edit=lambda t: t.replace(
            "type: float, length: 15, decimals: 2, required: false}",
            "type: double, length: 15, decimals: 2, required: false}",
            1,
        ),
    )  # noqa: E501
    with pytest.raises(DomainDataError) as info:
        layer_schema("XZQ")
    assert "layers.yaml" in info.value.message
    assert "图层 XZQ" in info.value.message
    assert "type" in info.value.message


def test_unknown_codelist_reference_is_refused(override):
    override("layers.yaml", edit=lambda t: t.replace("codelist: gdlx}", "codelist: nosuch}", 1))
    with pytest.raises(DomainDataError) as info:
        layer_schema("DLTB")
    assert "nosuch" in info.value.message


def test_unquoted_code_in_bulletin_groups_is_refused(override):
    override(
        "bulletin_groups.yaml",
        edit=lambda t: t.replace('["0101", "0102", "0103"]', "[0101, 0102, 0103]"),
    )  # noqa: E501
    with pytest.raises(DomainDataError) as info:
        land_classes()
    assert "bulletin_groups.yaml" in info.value.message
    assert "引号" in info.value.message


def test_code_in_two_groups_is_refused(override):
    override(
        "bulletin_groups.yaml",
        edit=lambda t: t.replace('["0101", "0102", "0103"]', '["0101", "0102", "0103", "0303"]'),
    )  # noqa: E501
    with pytest.raises(DomainDataError) as info:
        land_classes()
    assert "0303" in info.value.message and "bulletin_groups.yaml" in info.value.message


def test_csv_group_disagreeing_with_yaml_is_refused(override):
    override(
        "landclass_sandiao.csv",
        edit=lambda t: t.replace(
            "1201,空闲地,2,12,其他土地,12,false,建设用地,其他土地",
            "1201,空闲地,2,12,其他土地,12,false,建设用地,城镇村及工矿用地",
        ),  # noqa: E501
    )
    with pytest.raises(DomainDataError) as info:
        land_classes()
    assert "landclass_sandiao.csv" in info.value.message and "1201" in info.value.message


def test_bad_csv_row_names_line_and_code(override):
    override(
        "landclass_sandiao.csv",
        edit=lambda t: t.replace(
            "0102,水浇地,2,01,耕地,01,false,农用地,耕地,false,false,true",
            "0102,水浇地,2,01,耕地,01,maybe,农用地,耕地,false,false,true",
        ),
    )  # noqa: E501
    with pytest.raises(DomainDataError) as info:
        land_classes()
    msg = info.value.message
    assert "landclass_sandiao.csv" in msg and "0102" in msg and "is_k" in msg and "第" in msg


def test_bad_three_class_is_refused(override):
    override(
        "landclass_sandiao.csv",
        edit=lambda t: t.replace(
            "0404,其他草地,2,04,草地,04,false,未利用地", "0404,其他草地,2,04,草地,04,false,荒地"
        ),
    )  # noqa: E501
    with pytest.raises(DomainDataError) as info:
        land_classes()
    assert "0404" in info.value.message and "three_class" in info.value.message


def test_csv_without_version_is_refused(override):
    text = (SHIPPED_DIR / "landuse_2023.csv").read_text("utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    override("landuse_2023.csv", body)
    with pytest.raises(DomainDataError) as info:
        map_to_landuse("0101")
    assert "landuse_2023.csv" in info.value.message and "version" in info.value.message


def test_csv_from_excel_with_bom_and_padded_comments_loads(override):
    text = (SHIPPED_DIR / "sandiao_to_landuse_forbidden.csv").read_text("utf-8")
    lines = [line + ",," if line.startswith("#") else line for line in text.splitlines()]
    override("sandiao_to_landuse_forbidden.csv", "\ufeff" + "\r\n".join(lines) + "\r\n")
    assert len(sandiao_to_landuse()) == len(land_classes().codes)


def test_forbidden_pair_in_mapping_is_refused(override):
    override(
        "sandiao_to_landuse.csv",
        edit=lambda t: t.replace("0404,0403,same_name", "0404,2302,same_name"),
    )  # noqa: E501
    with pytest.raises(DomainDataError) as info:
        sandiao_to_landuse()
    assert "0404" in info.value.message and "2302" in info.value.message


def test_mapping_target_must_exist(override):
    override(
        "sandiao_to_landuse.csv",
        edit=lambda t: t.replace("1207,2307,same_name", "1207,2399,same_name"),
    )  # noqa: E501
    with pytest.raises(DomainDataError) as info:
        sandiao_to_landuse()
    assert "2399" in info.value.message


def test_unmapped_sandiao_code_is_refused(override):
    override("sandiao_to_landuse.csv", edit=lambda t: t.replace("1207,2307,same_name,\n", ""))
    with pytest.raises(DomainDataError) as info:
        sandiao_to_landuse()
    assert "1207" in info.value.message


def test_rule_with_unknown_kind_is_refused(override):
    override("qc_rules.yaml", edit=lambda t: t.replace("kind: consistent_name", "kind: magic"))
    with pytest.raises(DomainDataError) as info:
        qc_rules("DLTB")
    assert "qc_rules.yaml" in info.value.message and "dlmc_mismatch" in info.value.message


def test_rule_with_unknown_field_is_refused(override):
    override(
        "qc_rules.yaml",
        edit=lambda t: t.replace("params: {fields: [TBXHMC]}", "params: {fields: [TBXHMX]}"),
    )  # noqa: E501
    with pytest.raises(DomainDataError) as info:
        qc_rules("DLTB")
    assert "TBXHMX" in info.value.message


def test_rule_with_bad_regex_is_refused(override):
    override(
        "qc_rules.yaml",
        edit=lambda t: t.replace('regex: "[0-9]{19}"}\n    when', 'regex: "[0-9"}\n    when'),
    )  # noqa: E501
    with pytest.raises(DomainDataError) as info:
        qc_rules("DLTB")
    assert "zldwdm_length" in info.value.message


def test_missing_override_dir_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ONEMAP_DOMAIN_DIR", str(tmp_path / "nope"))
    with pytest.raises(DomainDataError):
        land_classes()


def test_edited_file_is_reloaded(override):
    path = override("codelists.yaml")
    assert "99" not in codelist("gdpdjb")
    import os

    text = path.read_text("utf-8").replace('"5": ">25°"', '"5": ">25°"\n      "99": 测试')
    path.write_text(text, "utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert codelist("gdpdjb")["99"] == "测试"


def test_czc_rule_naming_an_unknown_group_is_refused(override):
    override(
        "bulletin_groups.yaml",
        edit=lambda t: t.replace("  group: 城镇村及工矿用地", "  group: 城镇用地"),
    )
    with pytest.raises(DomainDataError) as info:
        land_classes()
    assert "bulletin_groups.yaml" in info.value.message and "城镇用地" in info.value.message


def test_wetland_flag_outside_group_00_is_refused(override):
    override(
        "landclass_sandiao.csv",
        edit=lambda t: t.replace(
            "0303,红树林地,2,00,湿地,00,false,农用地,湿地,true",
            "0303,红树林地,2,03,林地,03,false,农用地,湿地,true",
        ),
    )
    with pytest.raises(DomainDataError) as info:
        land_classes()
    assert "landclass_sandiao.csv" in info.value.message and "0303" in info.value.message
    assert "00" in info.value.message
