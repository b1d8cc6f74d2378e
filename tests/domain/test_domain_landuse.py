"""用地用海 2023 table and the 三调 → 用地用海 mapping."""

from __future__ import annotations

import pytest

from onemap.domain import (
    forbidden_landuse_pairs,
    land_classes,
    landuse_classes,
    landuse_name,
    map_to_landuse,
    sandiao_to_landuse,
)

TOP_LEVEL = {
    "01": "耕地", "02": "园地", "03": "林地", "04": "草地", "05": "湿地",
    "06": "农业设施建设用地", "07": "居住用地", "08": "公共管理与公共服务用地",
    "09": "商业服务业用地", "10": "工矿用地", "11": "仓储用地", "12": "交通运输用地",
    "13": "公用设施用地", "14": "绿地与开敞空间用地", "15": "特殊用地", "16": "留白用地",
    "17": "陆地水域", "18": "渔业用海", "19": "工矿通信用海", "20": "交通运输用海",
    "21": "游憩用海", "22": "特殊用海", "23": "其他土地", "24": "其他海域",
}  # fmt: skip

# standards.md §3.5 "Selected second-level codes" (names as far as the table spells them).
LISTED_LEVEL2 = {
    "0201": "果园", "0202": "茶园", "0203": "橡胶园地", "0204": "油料园地", "0205": "其他园地",
    "0301": "乔木林地", "0302": "竹林地", "0303": "灌木林地", "0304": "其他林地",
    "0401": "天然牧草地", "0402": "人工牧草地", "0403": "其他草地",
    "0501": "森林沼泽", "0502": "灌丛沼泽", "0503": "沼泽草地", "0504": "其他沼泽地",
    "0505": "沿海滩涂", "0506": "内陆滩涂", "0507": "红树林地",
    "0601": "农村道路", "0602": "设施农用地",
    "0701": "城镇住宅用地", "0702": "城镇社区服务设施用地", "0703": "农村宅基地",
    "0704": "农村社区服务设施用地",
    "0801": "机关团体", "0802": "科研", "0803": "文化", "0804": "教育", "0805": "体育",
    "0806": "医疗卫生", "0807": "社会福利",
    "0901": "商业", "0902": "商务金融", "0903": "娱乐", "0904": "其他商业服务业",
    "1001": "工业", "1002": "采矿", "1003": "盐田",
    "1101": "物流仓储", "1102": "储备库",
    "1201": "铁路", "1202": "公路", "1203": "机场", "1204": "港口码头", "1205": "管道运输",
    "1206": "城市轨道交通", "1207": "城镇村道路", "1208": "交通场站", "1209": "其他交通设施",
    "1301": "供水", "1302": "排水", "1303": "供电", "1304": "供燃气", "1305": "供热",
    "1306": "通信", "1307": "邮政", "1308": "广播电视", "1309": "环卫", "1310": "消防",
    "1311": "水工设施", "1312": "其他公用设施",
    "1401": "公园绿地", "1402": "防护绿地", "1403": "广场用地",
    "1701": "河流水面", "1706": "冰川及常年积雪",
    "2301": "空闲地", "2302": "后备耕地", "2303": "田坎", "2304": "盐碱地", "2305": "沙地",
    "2306": "裸土地", "2307": "裸岩石砾地",
}  # fmt: skip
LISTED_LEVEL3 = {
    "060101", "060102", "060201", "060202", "060203", "070101", "070102", "070103",
    "070301", "070302", "100101", "100102", "100103", "110101", "110102", "110103",
    "120801", "120802", "120803",
}  # fmt: skip
RANGES = [f"15{i:02d}" for i in range(1, 8)] + [f"17{i:02d}" for i in range(1, 7)]

# standards.md §3.5 same-name table, expanded to level-2 codes.
SAME_NAME = {
    "0303": "0507", "0304": "0501", "0306": "0502", "0402": "0503", "0603": "1003",
    "1105": "0505", "1106": "0506", "0101": "0101", "0102": "0102", "0103": "0103",
    "0204": "0205", "0305": "0303", "0307": "0304", "0403": "0402", "0404": "0403",
    "05H1": "09", "0508": "1101", "0601": "1001", "0602": "1002", "0701": "0701",
    "0702": "0703", "0809": "13", "09": "15", "1001": "1201", "1003": "1202", "1004": "1207",
    "1006": "0601", "1007": "1203", "1008": "1204", "1009": "1205", "1101": "1701",
    "1102": "1702", "1103": "1703", "1104": "1704", "1107": "1705", "1202": "0602",
    "1201": "2301", "1203": "2303", "1204": "2304", "1205": "2305", "1206": "2306",
    "1207": "2307",
}  # fmt: skip
# official-tables.md §6: the former "forbidden" 1002→1206 and 1110→1706 are the correct targets.
CORRECTED = {"1002": "1206", "1110": "1706"}
FORBIDDEN = {("0404", "2302")}


def test_top_level_24():
    frame = landuse_classes()
    top = frame[frame["level"] == 1]
    assert dict(zip(top["code"], top["name"], strict=True)) == TOP_LEVEL


def test_listed_level2_and_level3_codes_present():
    frame = landuse_classes().set_index("code")
    for code, short in LISTED_LEVEL2.items():
        assert code in frame.index, code
        assert frame.loc[code, "level"] == 2
        assert frame.loc[code, "name"].startswith(short), (code, frame.loc[code, "name"])
        assert frame.loc[code, "parent"] == code[:2]
    for code in LISTED_LEVEL3 | set(RANGES):
        assert code in frame.index, code
    for code in LISTED_LEVEL3:
        assert frame.loc[code, "level"] == 3
        assert frame.loc[code, "parent"] == code[:4]
    assert landuse_name("0303") == "灌木林地"
    with pytest.raises(KeyError):
        landuse_name("9999")


def test_mapping_has_one_row_per_sandiao_code():
    mapping = sandiao_to_landuse()
    assert list(mapping.columns) == ["sandiao_code", "landuse_code", "kind", "note"]
    assert sorted(mapping["sandiao_code"]) == sorted(land_classes().codes)
    assert mapping["sandiao_code"].is_unique
    assert set(mapping["kind"]) <= {"same_name", "needs_czcsxm", "needs_check"}


def test_same_name_pairs_present_and_automatic():
    for sandiao, landuse in SAME_NAME.items():
        assert map_to_landuse(sandiao) == (landuse, "same_name"), sandiao


def test_forbidden_pairs_absent():
    assert forbidden_landuse_pairs() == frozenset(FORBIDDEN)
    mapping = sandiao_to_landuse()
    pairs = set(zip(mapping["sandiao_code"], mapping["landuse_code"], strict=True))
    assert not pairs & FORBIDDEN
    assert map_to_landuse("0404") == ("0403", "same_name")


def test_corrected_pairs_map_to_their_second_level_class():
    # official-tables.md §6: 1002 → 1206 and 1110 → 1706, not only their 一级 class
    assert map_to_landuse("1002") == ("1206", "same_name")
    assert map_to_landuse("1110") == ("1706", "same_name")
    assert landuse_name("1206") == "城市轨道交通用地"
    assert landuse_name("1706") == "冰川及常年积雪"


def test_0903_is_entertainment_land():
    # official-tables.md §6: 0903 is 娱乐用地 (娱乐康体 is GB 50137's B3)
    assert landuse_name("0903") == "娱乐用地"


def test_every_target_exists_in_landuse_2023():
    codes = set(landuse_classes()["code"])
    targets = sandiao_to_landuse()["landuse_code"].dropna()
    assert set(targets) <= codes


def test_k_codes_map_like_their_parent():
    lc = land_classes()
    for code in lc.code_set("adjustable"):
        assert map_to_landuse(code)[0] == map_to_landuse(lc.parent(code))[0]


def test_only_table_pairs_and_identical_names_are_same_name():
    lc = land_classes()
    mapping = sandiao_to_landuse()
    same = mapping[mapping["kind"] == "same_name"]
    for row in same.itertuples():
        code = row.sandiao_code
        candidates = [code, lc.parent(code)] if code[-1] in "AK" else [code]
        target = landuse_name(row.landuse_code)
        explained = any(
            SAME_NAME.get(c) == row.landuse_code
            or CORRECTED.get(c) == row.landuse_code
            or target.startswith(lc.name(c))
            for c in candidates
        )
        assert explained, row


def test_map_to_landuse_unknown_code():
    assert map_to_landuse("101") == (None, "unknown")
    assert map_to_landuse(" 0305 ") == ("0303", "same_name")
