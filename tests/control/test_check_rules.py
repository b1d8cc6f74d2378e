"""Use-control rules: the shipped file, the condition language, flags, uses, missing layers."""

from __future__ import annotations

import copy

import geopandas as gpd
import pytest
import shapely
import yaml

from onemap.control import SiteChecker, load_check_layers, load_rules
from onemap.control.rules import (
    DEFAULT_RULES,
    Facts,
    apply_rule,
    evaluate_condition,
    render_reason,
    worst,
)
from onemap.errors import DomainDataError, InputError
from onemap.store import VersionMeta

# a site across the 城镇开发边界 edge, over 水田 (YN2) and 林地: see cases.yaml
SITE = shapely.box(106.497, 37.996, 106.503, 38.002)
IN_REDLINE = shapely.box(106.491, 38.006, 106.494, 38.009)


def _raw():
    return yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))


def _write(tmp_path, raw) -> str:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_shipped_rules_load_and_cover_the_required_rules():
    rules = load_rules()
    ids = [r.id for r in rules.rules]
    assert {"STBHHX", "YJJBNT", "CZKFBJ", "ZBPH", "ZRBHD", "SHUITIAN", "PODU25",
            "EXTENT"} <= set(ids)
    assert len(ids) == len(set(ids))
    for r in rules.rules:
        assert r.outcomes[-1].when is None
        assert r.basis
    assert "城镇建设" in rules.uses and rules.default_use == "城镇建设"
    assert "国家重大项目" in rules.flags


def test_shipped_check_layers():
    specs = {s.dataset: s for s in load_check_layers()}
    assert {"YJJBNTTB", "STBHHX", "CZKFBJ", "ZRBHD"} <= {d for d, s in specs.items() if s.standard}
    assert specs["CZKFBJ"].kind == "boundary"
    assert specs["ZRBHD"].group_field == "GNFQ"
    assert {"DZYFQ", "KYQ", "YFKC", "LSWHBHX"} <= set(specs)


def test_condition_language():
    f = Facts({"layer.STBHHX.area_m2": 12.0, "cultivated.area_m2": 0.4}, {}, "工业",
              {"国家重大项目"}, {})
    assert evaluate_condition({"fact": "layer.STBHHX.area_m2", "gt": 0}, f)
    assert not evaluate_condition({"fact": "layer.STBHHX.area_m2", "ge": 12.5}, f)
    assert evaluate_condition({"fact": "layer.STBHHX.area_ha", "lt": 0.01}, f)
    # areas under the tolerance (1 m²) are edge slivers: they count as 0 in conditions
    assert not evaluate_condition({"fact": "cultivated.area_m2", "gt": 0}, f)
    assert evaluate_condition({"fact": "layer.ZRBHD.area_m2", "eq": 0}, f)  # absent fact: 0
    assert evaluate_condition({"use": ["工业", "商业"]}, f)
    assert evaluate_condition({"use": "工业"}, f)
    assert evaluate_condition({"flag": "国家重大项目"}, f)
    assert evaluate_condition({"all": [{"use": ["工业"]}, {"not": {"flag": "已落实占补平衡"}}]}, f)
    assert evaluate_condition({"any": [{"use": ["交通"]}, {"fact": "site.area_m2", "eq": 0}]}, f)
    assert evaluate_condition(None, f)


def test_reason_templates():
    f = Facts({"layer.STBHHX.area_m2": 12345.678}, {"layer.STBHHX.ids": "H1、H2"}, "工业",
              set(), {})
    text = render_reason("{use}占用 {layer.STBHHX.area_m2:.2f} 平方米（{layer.STBHHX.area_ha:.4f}"
                         " 公顷，{layer.STBHHX.area_mu:.1f} 亩，图斑 {layer.STBHHX.ids}）", f)
    assert text == "工业占用 12345.68 平方米（1.2346 公顷，18.5 亩，图斑 H1、H2）"
    assert render_reason("图斑 {layer.ZRBHD.ids}", f) == "图斑 无"


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda r: r["rules"][1]["outcomes"][0].update(when={"fact": "os.system('x')", "gt": 0}),
         "未知的事实名"),
        (lambda r: r["rules"][1]["outcomes"][0].update(
            when={"fact": "site.area_m2", "gt": 0, "lt": 5}), "只有一个比较"),
        (lambda r: r["rules"][1]["outcomes"][0].update(when={"use": ["火星基地"]}), "未知的拟用途"),
        (lambda r: r["rules"][1]["outcomes"][0].update(when={"flag": "没有这个"}), "未知的项目标记"),
        (lambda r: r["rules"][1]["outcomes"][0].update(when={"eval": "1"}), "条件须且只能含"),
        (lambda r: r["rules"][1]["outcomes"][-1].update(when={"flag": "国家重大项目"}), "默认结论"),
        (lambda r: r["rules"][1]["outcomes"][0].update(reason="{__class__}"), "未知事实"),
        (lambda r: r["rules"][1]["outcomes"][0].update(verdict="通过"), "verdict"),
        (lambda r: r["rules"].append(copy.deepcopy(r["rules"][1])), "id 重复"),
    ],
)
def test_malformed_rule_files_are_refused_naming_the_place(tmp_path, mutate, words):
    raw = _raw()
    mutate(raw)
    with pytest.raises(DomainDataError) as info:
        load_rules(_write(tmp_path, raw))
    text = str(info.value) + " ".join(p.message for p in info.value.problems)
    assert words in text, text
    assert "rules.yaml" in text


def test_a_bureau_rule_file_replaces_the_shipped_one(tmp_path, workspace):
    raw = _raw()
    raw["rules"] = [{
        "id": "BIG", "title": "单宗用地不得超过 30 公顷", "basis": "本局规定",
        "outcomes": [
            {"when": {"fact": "site.area_ha", "gt": 30}, "verdict": "需论证",
             "reason": "用地 {site.area_ha:.2f} 公顷，超过 30 公顷"},
            {"verdict": "符合", "reason": "用地 {site.area_ha:.2f} 公顷"},
        ],
    }]
    checker = SiteChecker(workspace, rules=_write(tmp_path, raw))
    result = checker.check(SITE)
    assert [r.id for r in result.rules] == ["BIG"]
    assert result.rules[0].verdict == "需论证"
    assert result.rules[0].reason == "用地 35.10 公顷，超过 30 公顷"


def test_use_and_flags_change_verdicts(checker):
    by = lambda res: {r.id: r for r in res.rules}  # noqa: E731
    town = by(checker.check(IN_REDLINE, use="城镇建设"))
    assert town["STBHHX"].verdict == "不符合" and "HX1" in town["STBHHX"].reason
    major = by(checker.check(IN_REDLINE, use="城镇建设", flags=["国家重大项目"]))
    assert major["STBHHX"].verdict == "需论证"
    road = by(checker.check(IN_REDLINE, use="交通"))
    assert road["STBHHX"].verdict == "需论证"
    assert road["CZKFBJ"].verdict == "符合" and "不适用" in road["CZKFBJ"].reason
    farm = by(checker.check(SITE, use="城镇建设"))
    assert farm["ZBPH"].verdict == "需论证"
    done = by(checker.check(SITE, use="城镇建设", flags=["已落实占补平衡"]))
    assert done["ZBPH"].verdict == "符合"


def test_unknown_use_or_flag_is_refused(checker):
    with pytest.raises(InputError, match="未知的拟用途"):
        checker.check(SITE, use="火星基地")
    with pytest.raises(InputError, match="未知的项目标记"):
        checker.check(SITE, flags=["随便"])


def test_missing_layers_are_listed_and_their_rules_need_review(checker):
    result = checker.check(SITE)
    for ds in ("DZYFQ", "KYQ", "YFKC", "LSWHBHX"):
        assert result.layers[ds].status == "未入库，未检查"
        assert result.to_dict()["layers"][ds]["area_m2"] is None
        assert any(ds in m and "未入库，未检查" in m for m in result.messages)
    rules = {r.id: r for r in result.rules}
    assert rules["DZYFQ"].verdict == "需论证" and "未入库" in rules["DZYFQ"].reason
    assert result.overall == "不符合"
    assert worst(["符合", "需论证"]) == "需论证" and worst([]) == "符合"


def test_catalog_marked_check_layer_is_checked(tmp_path):
    from control_helpers import build_workspace, load_cases

    store = build_workspace(tmp_path / "ws.gpkg", load_cases()["workspace"])
    gdf = gpd.GeoDataFrame({"BSM": ["GD1"]}, geometry=[shapely.box(106.49, 37.99, 106.5, 38.0)],
                           crs="EPSG:4490")
    store.write_version("GDSB", "2024", gdf, VersionMeta(), title="灌溉设施保护区", kind="check")
    dz = gpd.GeoDataFrame({"BSM": ["DZ1"], "YFCD": ["高易发"]},
                          geometry=[shapely.box(106.49, 37.99, 106.51, 38.01)], crs="EPSG:4490")
    store.write_version("DZYFQ", "2024", dz, VersionMeta(), title="地质灾害易发区")
    checker = SiteChecker(store)
    result = checker.check(SITE)
    assert result.layers["GDSB"].status == "已检查"
    assert result.layers["GDSB"].ids == ["GD1"]
    assert result.layers["GDSB"].title == "灌溉设施保护区"
    dzr = result.layers["DZYFQ"]
    assert dzr.ids == ["DZ1"] and dzr.by_group == pytest.approx({"高易发": result.area_m2})
    assert {r.id: r.verdict for r in result.rules}["DZYFQ"] == "需论证"
    # explicit list: the standard layers plus the ones named
    only = SiteChecker(store, check_layers=["GDSB"])
    assert set(only.check(SITE).layers) == {"YJJBNTTB", "STBHHX", "CZKFBJ", "ZRBHD", "GDSB"}


def test_apply_rule_uses_filter_comes_before_missing_layer():
    rules = load_rules()
    czk = next(r for r in rules.rules if r.id == "CZKFBJ")
    f = Facts({}, {}, "交通", set(), {"CZKFBJ": "城镇开发边界"})
    assert apply_rule(czk, f).verdict == "符合"
    f = Facts({}, {}, "工业", set(), {"CZKFBJ": "城镇开发边界"})
    assert apply_rule(czk, f).verdict == "需论证"


def test_bureau_copies_in_onemap_domain_dir_replace_the_shipped_tables(tmp_path, monkeypatch):
    raw = _raw()
    raw["rules"] = raw["rules"][:2]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True),
                                         encoding="utf-8")
    layers = yaml.safe_load((DEFAULT_RULES.parent / "check_layers.yaml").read_text("utf-8"))
    layers["layers"] = layers["layers"][:4]
    (tmp_path / "check_layers.yaml").write_text(yaml.safe_dump(layers, allow_unicode=True),
                                                encoding="utf-8")
    monkeypatch.setenv("ONEMAP_DOMAIN_DIR", str(tmp_path))
    assert [r.id for r in load_rules().rules] == ["EXTENT", "STBHHX"]
    assert len(load_check_layers()) == 4
    monkeypatch.delenv("ONEMAP_DOMAIN_DIR")
    assert len(load_rules().rules) > 2
