"""The registry as data: shipped content, validation errors, overrides, units, status rules."""

from __future__ import annotations

import pytest
import yaml

from onemap.errors import DomainDataError
from onemap.indicators import formula as fm
from onemap.indicators import import_registry, load_registry
from onemap.indicators.assess import judge
from onemap.indicators.quantities import UnitError, convert, parse_unit
from onemap.store import audit

REQUIRED = [
    "耕地保有量", "永久基本农田保护面积", "生态保护红线面积", "城镇开发边界面积", "建设用地总面积",
    "城乡建设用地面积", "生态保护红线范围内城乡建设用地面积", "城镇开发边界范围内城乡建设用地面积",
    "林地保有量", "森林覆盖率", "草地面积", "草原综合植被盖度", "湿地面积", "湿地保护率",
    "每万元GDP地耗", "单位GDP建设用地使用面积下降率", "人均城镇建设用地面积", "人均村庄建设用地面积",
    "批而未供土地处置率", "闲置土地处置率", "新增建设用地面积", "1:2000地理信息覆盖率",
    "违法占用耕地面积比例", "耕地占补平衡状况", "耕地进出平衡状况",
]


def shipped_text() -> str:
    from onemap.indicators._files import SHIPPED_DIR

    return (SHIPPED_DIR / "indicators.yaml").read_text(encoding="utf-8")


def edited(tmp_path, change) -> str:
    """Write a copy of the shipped registry changed by ``change(doc)``; return its path."""
    doc = yaml.safe_load(shipped_text())
    change(doc)
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def ind(doc, code):
    return next(i for i in doc["indicators"] if i["code"] == code)


def test_shipped_registry_has_every_required_indicator():
    reg = load_registry()
    names = [i.name for i in reg.indicators]
    assert sorted(names) == sorted(REQUIRED)
    assert reg.source["kind"] == "shipped" and len(reg.source["sha256"]) == 64
    assert {i.dimension for i in reg.indicators} <= {"安全", "创新", "协调", "绿色", "开放", "共享"}
    assert all(i.level in ("基本", "推荐") for i in reg.indicators)
    # the plan's targets
    assert reg.get("forest_cover").targets == {2025: 20.46}
    assert reg.get("grass_cover").targets == {2025: 55.3}
    assert reg.get("wetland_protection").targets == {2025: 61.0}
    assert reg.get("land_per_gdp_decline").targets == {2025: 15.0}
    assert reg.get("land_per_gdp_decline").base.year == 2020
    assert reg.get("unsupplied_disposal").annual_target == 20
    assert reg.get("idle_disposal").annual_target == 20
    assert reg.get("mapping_2000_coverage").targets == {2025: 100.0}
    assert reg.get("new_construction").target_input == "new_construction_quota"
    # dependencies come first
    order = reg.order()
    assert order.index("construction_total") < order.index("land_per_gdp") < order.index(
        "land_per_gdp_decline")
    # folded YAML leaves no spaces between Chinese characters
    assert "， " not in reg.get("illegal_farmland_ratio").definition


def test_selections_resolve_to_the_standard_codes():
    reg = load_registry()
    codes, czc = reg.resolve_classes("urban_rural_construction")
    assert czc == {"201", "201A", "202", "202A", "203", "203A"}
    assert {"0701", "0702", "0601", "1003", "0603"} <= codes and "0101" not in codes
    assert reg.resolve_classes("village_construction")[1] == {"203", "203A"}
    # 湿地 口径 default: the bulletin's 7 classes, 0603 盐田 out (official-tables.md §2, §6)
    assert reg.resolve_classes("wetland")[0] == {"0303", "0304", "0306", "0402", "1105",
                                                 "1106", "1108"}
    assert "0603" in reg.resolve_classes(["wetland"])[0]  # the 工作分类 00 set, as an option
    assert reg.get("wetland").formula.classes == "wetland"
    assert reg.get("wetland_protection").formula.numerator.zone == "ZRBHD"
    assert reg.resolve_classes("forest")[0] == {"0301", "0301K", "0302", "0302K"}
    assert reg.resolve_classes("grassland")[0] == {"0401", "0403", "0403K", "0404"}
    assert reg.resolve_classes(["group:耕地", "0301"])[0] == {"0101", "0102", "0103", "0301"}


def test_formula_text_and_datasets():
    reg = load_registry()
    assert reg.formula_text("land_per_gdp") == "建设用地总面积 ÷ 地区生产总值（可比价）"
    assert "2020年每万元GDP地耗" in reg.formula_text("land_per_gdp_decline")
    assert reg.datasets_of("wetland_protection") == ["DLTB", "ZRBHD"]
    assert "gdp" in reg.inputs_of("land_per_gdp_decline")
    assert reg.inputs_of("farmland") == ["farmland_target"]
    assert fm.datasets(reg.get("new_construction").formula) == ["DLTB"]


@pytest.mark.parametrize(("change", "needle"), [
    (lambda d: ind(d, "land_per_gdp")["formula"].update(denominator="no_such_thing"),
     "no_such_thing"),
    (lambda d: ind(d, "farmland").update(unit="%"), "单位"),
    (lambda d: ind(d, "construction_total").update(formula={"kind": "ratio",
                                                             "numerator": "land_per_gdp",
                                                             "denominator": "gdp"}),
     "循环引用"),
    (lambda d: ind(d, "wetland").update(formula={"kind": "class_area", "classes": ["9999"]}),
     "9999"),
    (lambda d: ind(d, "urban_land_per_capita").update(polarity="区间", targets={2025: 100}),
     "区间"),
    (lambda d: d["status"]["colours"].pop("预警"), "预警"),
    (lambda d: ind(d, "wetland").update(formula={"kind": "class_area"}), "classes"),
    (lambda d: ind(d, "wetland").update(dimension="经济"), "dimension"),
    (lambda d: d["indicators"].append(dict(ind(d, "wetland"))), "重复"),
    (lambda d: ind(d, "wetland").update(code="gdp"), "重名"),
    (lambda d: ind(d, "farmland").update(target_input="gdp"), "单位"),
])
def test_invalid_registries_are_refused_naming_the_indicator(tmp_path, change, needle):
    path = edited(tmp_path, change)
    with pytest.raises(DomainDataError) as exc:
        load_registry(path)
    text = str(exc.value)
    assert needle in text
    assert "indicators.yaml" in text


def test_override_directory_replaces_the_shipped_registry(tmp_path, monkeypatch):
    edited(tmp_path, lambda d: ind(d, "forest_cover").update(targets={2025: 25.0}))
    monkeypatch.setenv("ONEMAP_DOMAIN_DIR", str(tmp_path))
    reg = load_registry()
    assert reg.source["kind"] == "override"
    assert reg.get("forest_cover").targets == {2025: 25.0}


def test_workspace_copy_wins_and_is_audit_logged(ws, tmp_path):
    path = edited(tmp_path, lambda d: (ind(d, "grass_cover").update(targets={2025: 60.0}),
                                       d["status"].update(band=0.1)))
    info = import_registry(ws, path, actor="规划科")
    assert info["changed"] == ["grass_cover"]
    reg = load_registry(store=ws)
    assert reg.source["kind"] == "workspace" and reg.source["import_id"] == info["import_id"]
    assert reg.get("grass_cover").targets == {2025: 60.0}
    rows = [e for e in audit.entries(ws.sql_engine()) if e.action == "indicator.registry.import"]
    assert len(rows) == 1 and rows[0].actor == "规划科"
    assert rows[0].before["grass_cover"]["targets"] == {"2025": 55.3}
    assert rows[0].after["grass_cover"]["targets"] == {"2025": 60.0}
    # a bad file is refused and changes nothing
    bad = edited(tmp_path, lambda d: ind(d, "farmland").update(unit="%"))
    with pytest.raises(DomainDataError):
        import_registry(ws, bad, actor="规划科")
    assert load_registry(store=ws).source["import_id"] == info["import_id"]


def test_units_convert_and_refuse_mismatches():
    assert convert(1.0, parse_unit("公顷"), parse_unit("平方米")) == 10000.0
    assert convert(15.0, parse_unit("亩"), parse_unit("公顷")) == pytest.approx(1.0)
    assert convert(1.0, parse_unit("万亩"), parse_unit("公顷")) == pytest.approx(10000 / 15)
    assert convert(0.25, parse_unit("1"), parse_unit("%")) == pytest.approx(25.0)
    q = parse_unit("平方千米") / parse_unit("万元")
    assert convert(1e-6, q, parse_unit("平方米/万元")) == pytest.approx(1.0)
    assert convert(1.0, parse_unit("平方米") / parse_unit("万人"), parse_unit("平方米/人")) == 1e-4
    assert (parse_unit("公顷") / parse_unit("平方千米")).dimensionless
    with pytest.raises(UnitError):
        convert(1.0, parse_unit("公顷"), parse_unit("%"))
    with pytest.raises(UnitError):
        parse_unit("英亩")
    with pytest.raises(UnitError):
        parse_unit("平方米/人/年")


@pytest.mark.parametrize(("value", "target", "polarity", "margin", "side", "status"), [
    (21.0, 20.46, "正向", 1.0, "unsafe", "达标"),
    (20.0, 20.46, "正向", 1.0, "unsafe", "预警"),
    (19.0, 20.46, "正向", 1.0, "unsafe", "未达标"),
    (1.20, 1.20, "正向", 0.024, "safe", "预警"),     # at a bottom line: warn
    (1.30, 1.20, "正向", 0.024, "safe", "达标"),
    (1.19, 1.20, "正向", 0.024, "safe", "未达标"),   # below a bottom line: fail, however close
    (12.5, 15.0, "逆向", 3.0, "safe", "预警"),
    (12.0, 15.0, "逆向", 3.0, "safe", "达标"),     # a margin of exactly the band is enough
    (10.0, 15.0, "逆向", 3.0, "safe", "达标"),
    (15.5, 15.0, "逆向", 3.0, "safe", "未达标"),
    (15.5, 15.0, "逆向", 0.75, "unsafe", "预警"),
    (16.0, 15.0, "逆向", 0.75, "unsafe", "未达标"),
    (110.0, (100.0, 120.0), "区间", 5.0, "unsafe", "达标"),
    (123.0, (100.0, 120.0), "区间", 5.0, "unsafe", "预警"),
    (130.0, (100.0, 120.0), "区间", 5.0, "unsafe", "未达标"),
    (118.0, (100.0, 120.0), "区间", 5.0, "safe", "预警"),
])
def test_judge(value, target, polarity, margin, side, status):
    assert judge(value, target, polarity, margin, side)[0] == status


def test_judge_gap_is_value_minus_target():
    assert judge(18.0, 20.0, "正向", 1.0)[1] == pytest.approx(-2.0)
    assert judge(95.0, (100.0, 120.0), "区间", 1.0)[1] == pytest.approx(-5.0)
    assert judge(110.0, (100.0, 120.0), "区间", 1.0)[1] == 0.0
