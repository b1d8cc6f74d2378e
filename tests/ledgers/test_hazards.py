"""地质灾害隐患点: 险情等级 at each threshold, the lifecycle (巡查, 销号 needs evidence), the report."""

import geopandas as gpd
import openpyxl
import pytest
import shapely

from onemap.app.hazards import hazard_report
from onemap.app.ledgers import act, get_record, import_records, list_records
from onemap.domain import sources
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.hazards import assessment_grade, load_hazards, threat_grade


@pytest.mark.parametrize(("people", "wan", "grade"), [
    (0, 0, "小型"), (99, 499.99, "小型"),
    (100, 0, "中型"), (0, 500, "中型"), (499, 4999.99, "中型"),
    (500, 0, "大型"), (0, 5000, "大型"), (999, 9999.99, "大型"),
    (1000, 0, "特大型"), (0, 10000, "特大型"),
    (120, 6000, "大型"),   # the higher of the two grades: 中型 by people, 大型 by property
])
def test_threat_grade_at_each_threshold(people, wan, grade):
    assert threat_grade(people, wan) == grade


def test_bound_to_the_lower_grade_when_the_bureau_says_so(tmp_path):
    src = tmp_path / "hazards.yaml"
    shipped = sources.resolve("ledgers", "hazards.yaml").read_text("utf-8")
    src.write_text(shipped.replace("lower_bound_inclusive: true", "lower_bound_inclusive: false"), "utf-8")
    cfg = load_hazards(src)
    assert [threat_grade(p, 0, cfg) for p in (100, 101, 500, 1000, 1001)] == ["小型", "中型", "中型", "大型", "特大型"]


def _points(tmp_path, rows):
    gdf = gpd.GeoDataFrame(rows, geometry=[shapely.Point(106.2 + i * 0.01, 37.9) for i in range(len(rows))],
                           crs="EPSG:4490")
    path = tmp_path / "yhd.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


BASE = {"类型": "滑坡", "行政区": "640303", "威胁户数": 5, "监测员": "李四", "防治措施": "群测群防"}


@pytest.fixture
def points(workspace, tmp_path):
    rows = [{**BASE, "统一编号": "H1", "名称": "甲村滑坡", "威胁人数": 120, "威胁财产": 300, "险情等级": "小型"},
            {**BASE, "统一编号": "H2", "名称": "乙沟泥石流", "类型": "泥石流", "威胁人数": 20, "威胁财产": 5000},
            {**BASE, "统一编号": "H3", "名称": "丙村崩塌", "类型": "崩塌", "行政区": "640381", "威胁人数": 5,
             "威胁财产": 10}]
    got = import_records(workspace, "地质灾害隐患点", _points(tmp_path, rows), actor="张三", now="2025-01-01")
    assert got["records"] == ["H1", "H2", "H3"]
    return workspace


def test_grade_is_computed_on_import_and_replaces_the_file_value(points):
    grades = {r["record_no"]: r["values"]["XQDJ"] for r in list_records(points, "DZZHYHD")["records"]}
    assert grades == {"H1": "中型", "H2": "大型", "H3": "小型"}


def test_close_is_refused_without_evidence_and_nothing_changes(points):
    with pytest.raises(InputError, match="「销号」须填写 XHZM"):
        act(points, "DZZHYHD", "H1", "close", actor="王五",
            fields={"XHRQ": "2025-06-01", "XHYY": "工程治理验收"})
    rec = get_record(points, "DZZHYHD", "H1")
    assert rec["state_title"] == "在册" and "XHRQ" not in rec["values"]
    assert [e["action"] for e in rec["events"]] == ["import"]
    got = act(points, "DZZHYHD", "H1", "close", actor="王五", now="2025-06-02",
              fields={"XHRQ": "2025-06-01", "XHYY": "工程治理验收", "XHZM": "甲村滑坡治理工程竣工验收意见"})
    assert got["state_title"] == "已销号"


def test_inspection_needs_its_period_and_sets_the_next_due_date(points):
    with pytest.raises(InputError, match="period 的取值 汛期 不在允许范围"):
        act(points, "DZZHYHD", "H2", "inspect", actor="李四", fields={"period": "汛期", "inspector": "李四"})
    got = act(points, "DZZHYHD", "H2", "inspect", actor="李四", now="2025-05-01",
              fields={"period": "汛前", "inspector": "李四", "photos": ["h2-0501.jpg"]})
    assert got["state_title"] == "在册" and got["due_at"][:10] == "2025-08-29"  # 2025-05-01 + 120 days


def test_report_counts_by_county_type_grade_due_and_closed(points, tmp_path):
    act(points, "DZZHYHD", "H2", "inspect", actor="李四", now="2025-04-20",
        fields={"period": "汛前", "inspector": "李四"})  # due 2025-08-18
    act(points, "DZZHYHD", "H3", "close", actor="王五", now="2025-03-01",
        fields={"XHRQ": "2025-02-28", "XHYY": "搬迁避让完成", "XHZM": "搬迁安置验收表"})
    # judged on 2025-08-10: H1 imported 2025-01-01 is due 2025-05-01 → overdue; H2 within 15 days → due
    got = hazard_report(points, now="2025-08-10", xlsx=tmp_path / "h.xlsx")
    assert got["year"] == 2025 and got["active"] == 2
    assert got["rows"] == [{"county": "640303", "type": "泥石流", "grade": "大型", "count": 1},
                           {"county": "640303", "type": "滑坡", "grade": "中型", "count": 1}]
    assert (got["by_county"], got["by_grade"]) == ({"640303": 2}, {"中型": 1, "大型": 1})
    assert [d["no"] for d in got["due"]] == ["H2"] and [d["no"] for d in got["overdue"]] == ["H1"]
    assert got["closed_count"] == 1 and got["closed_in_year"][0]["reason"] == "搬迁避让完成"
    assert hazard_report(points, year=2024, now="2025-08-10")["closed_count"] == 0
    assert openpyxl.load_workbook(tmp_path / "h.xlsx").sheetnames == ["在册隐患点", "巡查到期", "年度销号"]


def test_a_move_that_changes_the_people_regrades_the_point(points):
    got = act(points, "DZZHYHD", "H3", "inspect", actor="李四", now="2025-05-01",
              fields={"period": "汛中", "inspector": "李四", "WXRS": 500})
    assert (got["values"]["WXRS"], got["values"]["XQDJ"]) == (500, "大型")


@pytest.mark.parametrize(("importance", "grades"), [
    ("重要建设项目", ["一级", "一级", "一级"]),
    ("较重要", ["一级", "二级", "三级"]),
    ("一般建设项目", ["二级", "三级", "三级"]),
])
def test_assessment_grade_table(importance, grades):
    assert [assessment_grade(c, importance) for c in ("复杂", "中等", "简单")] == grades


def test_assessment_grade_names_the_bad_value():
    with pytest.raises(InputError, match="建设项目重要性「特别重要」不在（重要建设项目、较重要建设项目、"
                                         "一般建设项目）中"):
        assessment_grade("复杂", "特别重要")


def test_risk_zone_area_is_computed_on_the_ellipsoid(workspace, tmp_path):
    zone = shapely.box(106.20, 37.90, 106.21, 37.91)
    gpd.GeoDataFrame({"编号": ["F1"], "名称": ["甲村风险区"], "风险等级": ["高"], "行政区": ["640303"],
                      "巡查员": ["李四"], "面积": [1]}, geometry=[zone], crs="EPSG:4490"
                     ).to_file(tmp_path / "fxq.geojson", driver="GeoJSON")
    import_records(workspace, "地质灾害风险区", tmp_path / "fxq.geojson", actor="张三")
    [rec] = list_records(workspace, "FXQ")["records"]
    # 0.01° × 0.01° at 37.905°N: ≈ 878.6 m × 1 110.0 m ≈ 0.975 km²
    assert rec["values"]["MJ"] == round(float(ellipsoidal_area([zone])[0]), 2)
    assert 0.97e6 < rec["values"]["MJ"] < 0.98e6
