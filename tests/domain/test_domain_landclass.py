"""三调 work classification: codes, names, 三大类, bulletin groups, flags."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from onemap.domain import land_classes
from onemap.domain._files import SHIPPED_DIR

# standards.md §3.3, table "三调 work classification (工作分类)", code by code.
STANDARD_TABLE = {
    "0303": "红树林地", "0304": "森林沼泽", "0306": "灌丛沼泽", "0402": "沼泽草地",
    "0603": "盐田", "1105": "沿海滩涂", "1106": "内陆滩涂", "1108": "沼泽地",
    "0101": "水田", "0102": "水浇地", "0103": "旱地",
    "0201": "果园", "0202": "茶园", "0203": "橡胶园", "0204": "其他园地",
    "0301": "乔木林地", "0302": "竹林地", "0305": "灌木林地", "0307": "其他林地",
    "0401": "天然牧草地", "0403": "人工牧草地", "0404": "其他草地",
    "05H1": "商业服务业设施用地", "0508": "物流仓储用地",
    "0601": "工业用地", "0602": "采矿用地",
    "0701": "城镇住宅用地", "0702": "农村宅基地",
    "08H1": "机关团体新闻出版用地", "08H2": "科教文卫用地", "08H2A": "高教用地",
    "0809": "公用设施用地", "0810": "公园与绿地", "0810A": "广场用地",
    "09": "特殊用地",
    "1001": "铁路用地", "1002": "轨道交通用地", "1003": "公路用地", "1004": "城镇村道路用地",
    "1005": "交通服务场站用地", "1006": "农村道路", "1007": "机场用地", "1008": "港口码头用地",
    "1009": "管道运输用地",
    "1101": "河流水面", "1102": "湖泊水面", "1103": "水库水面", "1104": "坑塘水面",
    "1104A": "养殖坑塘", "1107": "沟渠", "1107A": "干渠", "1109": "水工建筑用地",
    "1110": "冰川及永久积雪",
    "1201": "空闲地", "1202": "设施农用地", "1203": "田坎", "1204": "盐碱地", "1205": "沙地",
    "1206": "裸土地", "1207": "裸岩石砾地",
}  # fmt: skip
K_CODES = {"0201K", "0202K", "0203K", "0204K", "0301K", "0302K", "0307K", "0403K", "1104K"}
LEVEL1 = {
    "00": "湿地", "01": "耕地", "02": "种植园用地", "03": "林地", "04": "草地",
    "05": "商业服务业用地", "06": "工矿用地", "07": "住宅用地", "08": "公共管理与公共服务用地",
    "09": "特殊用地", "10": "交通运输用地", "11": "水域及水利设施用地", "12": "其他土地",
}  # fmt: skip
WETLAND = {"0303", "0304", "0306", "0402", "0603", "1105", "1106", "1108"}
LINEAR = {"1001", "1002", "1003", "1004", "1006", "1009", "1101", "1107", "1107A"}
GROUP_ORDER = [
    "湿地", "耕地", "种植园用地", "林地", "草地",
    "城镇村及工矿用地", "交通运输用地", "水域及水利设施用地", "其他土地",
]  # fmt: skip


def expected_three_class(code: str) -> str:
    """三大类 as written in standards.md §3.3 (K codes are 农用地)."""
    if code.endswith("K"):
        return "农用地"
    agri = {"1006", "1103", "1104", "1104A", "1107", "1107A", "1202", "1203"}
    if code[:2] in ("01", "02", "03") or code in ("0401", "0402", "0403") or code in agri:
        return "农用地"
    unused = {"0404", "1101", "1102", "1105", "1106", "1108", "1110"}
    if code in unused or code in ("1204", "1205", "1206", "1207"):
        return "未利用地"
    construction_prefixes = ("05", "06", "07", "08", "09")
    if code.startswith(construction_prefixes) or code in (
        "1001", "1002", "1003", "1004", "1005", "1007", "1008", "1009", "1109", "1201",
    ):  # fmt: skip
        return "建设用地"
    raise AssertionError(f"§3.3 does not classify {code}")


@pytest.fixture
def lc():
    return land_classes()


def test_every_code_of_the_standard_table_is_valid_with_its_name(lc):
    for code, name in STANDARD_TABLE.items():
        assert lc.is_valid(code), code
        assert lc.name(code) == name


def test_k_codes_are_valid_adjustable_and_follow_their_parent(lc):
    for code in K_CODES:
        assert lc.is_valid(code)
        assert lc.is_adjustable(code)
        assert lc.parent(code) == code[:-1]
        assert lc.bulletin_group(code) == lc.bulletin_group(code[:-1])
        assert lc.three_class(code) == "农用地"
    assert lc.code_set("adjustable") == frozenset(K_CODES)


def test_codes_are_exactly_the_standard_plus_k(lc):
    assert lc.codes == frozenset(STANDARD_TABLE) | K_CODES
    assert len(lc.codes) == 69


def test_level1_names_resolve(lc):
    for code, name in LEVEL1.items():
        assert lc.name(code) == name
    assert not lc.is_valid("01")  # a group, not a DLBM
    assert lc.is_valid("09")  # 特殊用地 is both


def test_invalid_codes(lc):
    assert not lc.is_valid("101")
    assert not lc.is_valid("0101K")
    assert not lc.is_valid("1301")  # local non-standard code
    assert not lc.is_valid(101)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        lc.name("9999")
    with pytest.raises(KeyError):
        lc.bulletin_group("101")
    assert lc.is_cultivated("101") is False


@pytest.mark.parametrize(
    ("code", "three"),
    [
        ("0603", "建设用地"), ("1006", "农用地"), ("0404", "未利用地"), ("0201K", "农用地"),
        ("1104K", "农用地"), ("0101", "农用地"), ("1201", "建设用地"), ("1202", "农用地"),
        ("1203", "农用地"), ("1109", "建设用地"), ("1110", "未利用地"), ("0402", "农用地"),
        ("1103", "农用地"), ("1102", "未利用地"), ("09", "建设用地"), ("05H1", "建设用地"),
    ],
)  # fmt: skip
def test_three_class_samples(lc, code, three):
    assert lc.three_class(code) == three


def test_three_class_of_every_code_follows_the_standard(lc):
    for code in lc.codes:
        assert lc.three_class(code) == expected_three_class(code), code
    assert lc.is_construction("0603")
    assert not lc.is_construction("1006")


def test_flags(lc):
    assert lc.code_set("wetland") == frozenset(WETLAND)
    assert lc.code_set("linear") == frozenset(LINEAR)
    assert lc.code_set("cultivated") == frozenset({"0101", "0102", "0103"})
    assert lc.is_wetland("0603") and lc.is_linear("1107A") and lc.is_cultivated("0102")
    assert not lc.is_linear("1005")
    # 工作分类 00 湿地 (official-tables.md §1): the 8 wetland classes belong to group 00
    frame = lc.frame.set_index("code")
    for code in WETLAND:
        assert frame.loc[code, "level1_code"] == "00", code
        assert frame.loc[code, "level1_name"] == "湿地"
        assert lc.parent(code) == "00"
    assert frame.loc["0301", "level1_code"] == "03"
    assert frame.loc["0601", "level1_code"] == "06"
    assert frame.loc["1107", "level1_code"] == "11"
    assert set(frame.index[frame["level1_code"] == "00"]) == WETLAND


def test_bulletin_groups_in_order(lc):
    assert lc.bulletin_groups() == GROUP_ORDER
    assert lc.bulletin_group_codes("园地") == lc.bulletin_group_codes("种植园用地")


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("0101", "耕地"), ("0201K", "种植园用地"), ("0603", "城镇村及工矿用地"), ("0303", "湿地"),
        ("0402", "湿地"), ("1108", "湿地"), ("0601", "城镇村及工矿用地"),
        ("09", "城镇村及工矿用地"), ("0810A", "城镇村及工矿用地"), ("1006", "交通运输用地"),
        ("1109", "水域及水利设施用地"), ("1104K", "水域及水利设施用地"), ("1201", "其他土地"),
        ("1202", "其他土地"), ("1203", "其他土地"), ("0301K", "林地"), ("0403K", "草地"),
    ],
)  # fmt: skip
def test_bulletin_group_samples(lc, code, group):
    assert lc.bulletin_group(code) == group


def test_bulletin_wetland_has_seven_classes_without_salt_pan(lc):
    # official-tables.md §2: the bulletin's 湿地 has 7 二级 classes; 0603 盐田 is not among them
    assert set(lc.bulletin_group_codes("湿地")) == WETLAND - {"0603"}
    assert len(lc.bulletin_group_codes("湿地")) == 7
    assert lc.is_wetland("0603")  # still 工作分类 00 湿地
    assert lc.bulletin_group("1203") == "其他土地"


def test_czc_rule_codes_and_base_codes(lc):
    # official-tables.md §2: 201 城市, 202 建制镇, 203 村庄, 204 盐田及采矿, 205 风景名胜及特殊用地
    assert [c for c, _ in lc.czc_classes()] == ["201", "202", "203", "204", "205"]
    assert dict(lc.czc_classes())["204"] == "盐田及采矿用地"
    assert lc.czc_group == "城镇村及工矿用地"
    assert lc.czc_codes == frozenset(
        {"201", "202", "203", "204", "205", "201A", "202A", "203A", "204A", "205A"}
    )
    assert lc.czc_code("201A") == "201"
    assert lc.czc_code(" 203 ") == "203"
    assert lc.czc_code("205") == "205"
    for nothing in ("", "206", "20", "A", None, float("nan"), 201):
        assert lc.czc_code(nothing) is None


def test_bulletin_groups_yaml_maps_each_code_exactly_once(lc):
    doc = yaml.safe_load((SHIPPED_DIR / "bulletin_groups.yaml").read_text("utf-8"))
    listed = [code for g in doc["groups"] for code in g["codes"]]
    assert all(isinstance(c, str) for c in listed)
    assert sorted(listed) == sorted(lc.codes)
    assert len(listed) == len(set(listed))
    assert [g["name"] for g in doc["groups"]] == GROUP_ORDER
    for g in doc["groups"]:
        for code in g["codes"]:
            assert lc.bulletin_group(code) == g["name"]


def test_frame_has_csv_columns_and_one_row_per_code(lc):
    frame = lc.frame
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == len(lc.codes) == frame["code"].nunique()
    for col in (
        "code", "name", "level1_code", "level1_name", "parent", "is_k", "three_class",
        "bulletin_group", "wetland", "linear", "cultivated",
    ):  # fmt: skip
        assert col in frame.columns
    assert frame["is_k"].dtype == bool
    frame.loc[0, "name"] = "changed"  # a copy: the table is unaffected
    assert lc.frame.loc[0, "name"] != "changed"
    assert set(lc.level1["code"]) == set(LEVEL1)
