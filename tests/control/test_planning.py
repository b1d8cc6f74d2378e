"""规划用途符合性 against a 规划分区 layer, and the 用地标准 of a use (planning.yaml)."""

from __future__ import annotations

import docx
import geopandas as gpd
import pytest
import shapely

from builders import dltb_frame
from onemap.control import SiteChecker
from onemap.control.planning import land_standard, zone_conformity
from onemap.control.report import CheckContext, write_check_docx
from onemap.geo.area import ellipsoidal_area
from onemap.store import init_workspace
from onemap.store.base import VersionMeta

TOWN = shapely.box(106.200, 37.950, 106.206, 37.952)
FARM = shapely.box(106.206, 37.950, 106.212, 37.952)
SITE = shapely.box(106.204, 37.9505, 106.208, 37.9515)


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    store = init_workspace(tmp_path_factory.mktemp("plan") / "ws.gpkg", name="测试", region="640302")
    store.write_version("DLTB", "2024", dltb_frame(), VersionMeta())
    zones = gpd.GeoDataFrame({"BSM": ["Z1", "Z2"], "GHFQMC": ["城镇集中建设区", "一般农业区"]},
                             geometry=[TOWN, FARM], crs="EPSG:4490")
    store.write_version("GHFQ", "2024", zones, VersionMeta(), title="国土空间规划分区")
    return SiteChecker(store)


def test_zone_areas_and_verdicts_for_industry(checker):
    result = checker.check(SITE, use="工业")
    c = zone_conformity(result)
    # the site is split by the zone boundary at 106.206: its two halves, measured on their own
    west, east = ellipsoidal_area([shapely.box(106.204, 37.9505, 106.206, 37.9515),
                                   shapely.box(106.206, 37.9505, 106.208, 37.9515)])
    assert c.status == "已检查"
    got = {z: (round(a, 2), v) for z, a, v in c.rows}
    assert got == {"城镇集中建设区": (round(west, 2), "符合"), "一般农业区": (round(east, 2), "不符合")}
    assert c.overall == "不符合"


def test_zone_verdicts_follow_the_use(checker):
    assert zone_conformity(checker.check(SITE, use="交通")).overall == "符合"
    assert zone_conformity(checker.check(SITE, use="农业设施")).overall == "不符合"   # 城镇集中建设区
    rows = zone_conformity(checker.check(SITE, use="乡村建设")).rows
    assert {z: v for z, _, v in rows} == {"城镇集中建设区": "不符合", "一般农业区": "需论证"}


def test_site_partly_outside_every_zone_is_reviewed(checker):
    site = shapely.box(106.210, 37.9505, 106.214, 37.9515)     # half beyond the zones' east edge
    c = zone_conformity(checker.check(site, use="交通"))
    assert [z for z, _, _ in c.rows] == ["一般农业区", "未划定规划分区"]
    assert c.rows[1][2] == "需论证" and c.overall == "需论证"


def test_missing_zone_layer_is_not_checked(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg", name="测试", region="640302")
    store.write_version("DLTB", "2024", dltb_frame(), VersionMeta())
    c = zone_conformity(SiteChecker(store).check(SITE, use="工业"))
    assert (c.status, c.rows, c.overall) == ("未入库，未检查", [], "未检查")


def test_land_standard_of_a_use_and_a_bureau_limit():
    std = land_standard("工业")
    assert "国土资发〔2008〕24号" in std.standard and std.max_ha is None
    assert std.over_ha(50_000.0) is None
    assert land_standard("军事") is None
    cfg = {"zones": {"dataset": "GHFQ", "by_use": {}},
           "standards": {"by_use": {"工业": {"standard": "某标准", "max_ha": 3}}}}
    assert land_standard("工业", cfg).over_ha(50_000.0) == pytest.approx(2.0)


def test_report_section_lists_the_zones(checker, tmp_path):
    result = checker.check(SITE, use="工业")
    out = write_check_docx(result, tmp_path / "r.docx", context=CheckContext(project="测试项目"))
    d = docx.Document(str(out))
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "规划分区")
    assert {r.cells[0].text: r.cells[2].text for r in table.rows[1:]} == {
        "城镇集中建设区": "符合", "一般农业区": "不符合"}
    assert any("规划用途符合性结论：不符合" in p.text for p in d.paragraphs)
