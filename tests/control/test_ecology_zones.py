"""自然保护地功能分区 and 生态保护红线 by declared activity (ecology.yaml) in the site check.

The workspace of cases.yaml holds ZR1 (核心保护区, 106.505–106.51 E × 38.005–38.01 N), ZR2
(一般控制区, the cell south of it) and HX1 (生态保护红线, 106.49–106.495 E × 38.005–38.01 N, no reserve).
"""

from __future__ import annotations

import shutil

import pytest
import shapely

from onemap.domain import _files
from onemap.domain.ecology import ecology_rules
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area

CORE = shapely.box(106.506, 38.006, 106.509, 38.009)
GENERAL = shapely.box(106.506, 38.001, 106.509, 38.004)
REDLINE = shapely.box(106.491, 38.006, 106.494, 38.009)


def _rules(checker, site, **kw):
    return {r.id: r for r in checker.check(site, **kw).rules}


def test_the_table_gives_a_verdict_per_zone_and_activity():
    eco = ecology_rules()
    assert eco.verdict("核心保护区", "生态修复") == "需论证"
    assert eco.verdict("核心保护区", "线性基础设施") == "不符合"
    assert eco.verdict("一般控制区", "线性基础设施") == "需论证"
    assert eco.verdict("生态保护红线", "适度旅游与科普") == "需论证"
    assert eco.verdict("一般控制区", "开发性生产性建设") == "不符合"
    assert eco.verdict("生态保护红线", None) == "不符合"
    assert eco.by_dlbm()["1003"] == "线性基础设施" and eco.by_dlbm()["0305"] == "生态修复"
    assert "0601" not in eco.by_dlbm()


def test_core_zone_allows_only_its_list(checker):
    area_ha = ellipsoidal_area([CORE])[0] / 1e4
    road = _rules(checker, CORE, use="交通", activity="线性基础设施")["ZRBHD"]
    assert road.verdict == "不符合"
    assert road.reason.startswith(f"占用自然保护地核心保护区 {area_ha:,.2f} 公顷（保护地 ZR1）")
    assert "“线性基础设施”不属于核心保护区内允许的活动" in road.reason
    restore = _rules(checker, CORE, use="其他", activity="生态修复")["ZRBHD"]
    assert restore.verdict == "需论证" and "属于核心保护区内允许的活动" in restore.reason
    undeclared = _rules(checker, CORE, use="交通")["ZRBHD"]
    assert undeclared.verdict == "不符合" and "“未申报”" in undeclared.reason


def test_general_zone_by_activity_and_use(checker):
    area_ha = ellipsoidal_area([GENERAL])[0] / 1e4
    road = _rules(checker, GENERAL, use="交通", activity="线性基础设施")["ZRBHD"]
    assert road.verdict == "需论证"
    assert road.reason == (f"占用自然保护地一般控制区 {area_ha:,.2f} 公顷（保护地 ZR2）；申报活动"
                           "“线性基础设施”属于有限人为活动清单，须征求保护地管理机构意见并论证。")
    build = _rules(checker, GENERAL, use="交通", activity="开发性生产性建设")["ZRBHD"]
    assert build.verdict == "不符合" and "不在有限人为活动清单内" in build.reason
    factory = _rules(checker, GENERAL, use="工业")["ZRBHD"]
    assert factory.verdict == "不符合" and "禁止开发性、生产性建设活动" in factory.reason
    other = _rules(checker, GENERAL, use="交通")["ZRBHD"]
    assert other.verdict == "需论证" and "未申报活动类型" in other.reason
    # outside every reserve and red line the activity changes nothing
    assert _rules(checker, GENERAL, use="交通", activity="线性基础设施")["STBHHX"].verdict == "符合"


def test_rest_of_the_red_line_by_activity(checker):
    rules = _rules(checker, REDLINE, use="交通", activity="线性基础设施")
    assert rules["STBHHX"].verdict == "需论证" and "属于有限人为活动清单" in rules["STBHHX"].reason
    assert rules["ZRBHD"].verdict == "符合"
    mine = _rules(checker, REDLINE, use="其他", activity="开发性生产性建设")["STBHHX"]
    assert mine.verdict == "不符合" and "HX1" in mine.reason
    # a national major project keeps its own outcome, whatever the activity
    major = _rules(checker, REDLINE, use="城镇建设", flags=["国家重大项目"],
                   activity="开发性生产性建设")["STBHHX"]
    assert major.verdict == "需论证" and "国家重大项目" in major.reason


def test_unknown_activity_is_refused_and_the_result_names_the_activity(checker):
    with pytest.raises(InputError, match="未知的活动类型“修路”"):
        checker.check(CORE, activity="修路")
    assert checker.check(CORE, activity="生态修复").to_dict()["activity"] == "生态修复"


def test_the_lists_are_the_bureaus_to_edit(tmp_path, monkeypatch, checker):
    text = _files.SHIPPED_DIR.joinpath("ecology.yaml").read_text(encoding="utf-8")
    marker = "  - name: 线性基础设施\n"
    head, tail = text.split(marker)
    edited = head + marker + tail.replace("    limited: true\n", "    limited: false\n", 1)
    (tmp_path / "ecology.yaml").write_text(edited, encoding="utf-8")
    monkeypatch.setenv("ONEMAP_DOMAIN_DIR", str(tmp_path))
    assert ecology_rules().verdict("一般控制区", "线性基础设施") == "不符合"
    road = _rules(checker, GENERAL, use="交通", activity="线性基础设施")["ZRBHD"]
    assert road.verdict == "不符合"
    monkeypatch.delenv("ONEMAP_DOMAIN_DIR")
    shutil.rmtree(tmp_path)
    assert _rules(checker, GENERAL, use="交通", activity="线性基础设施")["ZRBHD"].verdict == "需论证"
