"""Sites from 报盘 and 拐点 files: project name, lines and points in the check (never an area)."""

from __future__ import annotations

import pytest
import shapely
from control_helpers import load_cases, workspace_layers
from pyproj import Geod, Transformer

from onemap.control import read_site
from onemap.errors import InputError

GEOD = Geod(ellps="GRS80")
TO_GK = Transformer.from_crs("EPSG:4490", "EPSG:4523", always_xy=True)  # zone 35, prefixed
HEAD = ["[属性描述]", "坐标系=2000国家大地坐标系", "几度分带=3", "投影类型=高斯克吕格", "计量单位=米",
        "带号=35"]
ROAD = [(106.492, 37.9975), (106.508, 37.9975)]
WELLS = [(106.4975, 37.9975), (106.5075, 38.0075)]
BLOCK = [(106.496, 37.996), (106.499, 37.996), (106.499, 37.999), (106.496, 37.999)]


def _points(lonlat, ring=1, start=1, close=False):
    pts = list(lonlat) + ([lonlat[0]] if close else [])
    out = []
    for i, (lon, lat) in enumerate(pts):
        e, n = TO_GK.transform(lon, lat)
        k = start if close and i == len(pts) - 1 else start + i
        out.append(f"J{k},{ring},{n:.3f},{e:.3f}")
    return out


def _write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def _length(g) -> float:
    return sum(GEOD.geometry_length(p) for p in shapely.get_parts(g))


def test_project_name_and_sections_are_on_the_site(tmp_path):
    lines = ["[项目信息]", "项目名称=吴忠市某某污水处理厂", *HEAD, "[地块坐标]", "5,,1,厂区,面,,,,@",
             *_points(BLOCK, close=True)]
    site = read_site(_write(tmp_path, "厂区.txt", lines))
    assert site.name == "吴忠市某某污水处理厂"
    assert site.metadata["format"] == "报盘"
    assert site.metadata["sections"] == {"项目信息": {"项目名称": "吴忠市某某污水处理厂"}}
    assert site.names == ["厂区"] and site.shapes == ["面"]


def test_mining_corner_file_is_a_site(tmp_path):
    lines = ["[登记项目]", "项目名称=某某砂石矿", "坐标系=2000国家大地坐标系"]
    for k, (lon, lat) in enumerate(BLOCK, start=1):
        e, n = TO_GK.transform(lon, lat)
        lines.append(f"XY{k:03d}={k},{n:.2f},{e:.2f}")
    lines.append("标高=1300,1200")
    site = read_site(_write(tmp_path, "拐点.txt", lines))
    assert site.name == "某某砂石矿" and site.metadata["format"] == "拐点"
    assert site.names == ["某某砂石矿"] and site.source_crs == "EPSG:4523"


def test_line_site_reports_length_and_what_it_crosses_never_an_area(checker, tmp_path):
    lines = [*HEAD, "[地块坐标]", "2,,1,道路中线,线,,交通,,@", *_points(ROAD)]
    site = read_site(_write(tmp_path, "道路.txt", lines))
    assert site.shapes == ["线"] and site.gdf.geometry.iloc[0].geom_type == "LineString"
    result = checker.check(site, use="交通")
    line = shapely.LineString(ROAD)
    assert result.kind == "线" and result.length_m == pytest.approx(_length(line), abs=0.01)
    # the oracle: each DLTB cell and control polygon cut by plain shapely, measured with Geod
    layers = workspace_layers(load_cases()["workspace"])
    dltb = layers["DLTB"][1]
    expected: dict[str, float] = {}
    for code, g in zip(dltb["DLBM"], dltb.geometry, strict=True):
        piece = _length(shapely.intersection(line, g))
        if piece > 0:
            expected[code] = expected.get(code, 0.0) + piece
    got = {c["dlbm"]: c["length_m"] for c in result.crossed["classes"]}
    assert got.keys() == expected.keys() == {"0103", "0101", "0301", "1003"}
    for code, value in expected.items():
        assert got[code] == pytest.approx(value, abs=0.01)
    crossed = result.crossed["layers"]
    assert crossed["YJJBNTTB"]["ids"] == ["YN2"] and crossed["STBHHX"]["ids"] == []
    yn2 = shapely.box(106.495, 37.99, 106.5, 38.0)
    assert crossed["YJJBNTTB"]["length_m"] == pytest.approx(
        _length(shapely.intersection(line, yn2)), abs=0.01)
    cz = shapely.box(106.5, 37.99, 106.51, 38.01)
    assert crossed["CZKFBJ"]["length_m"] == pytest.approx(
        _length(shapely.intersection(line, cz)), abs=0.01)
    assert result.crossed["extent"]["outside_m"] == 0.0
    d = result.to_dict()
    assert d["site_area_m2"] is None and d["kind"] == "线" and d["rules"] == []
    assert d["overall"] == "需论证"
    assert "不计面积" in d["messages"][0]


def test_point_site_reports_what_each_point_falls_in(checker, tmp_path):
    lines = [*HEAD, "[地块坐标]", "2,,1,机井,点,,水利,,@", *_points(WELLS)]
    site = read_site(_write(tmp_path, "机井.txt", lines))
    result = checker.check(site, use="水利")
    assert result.kind == "点" and result.length_m is None
    assert {c["dlbm"]: c["bsm"] for c in result.crossed["classes"]} == {"0101": ["6"],
                                                                         "1101": ["16"]}
    ids = {ds: v["ids"] for ds, v in result.crossed["layers"].items()}
    assert ids["YJJBNTTB"] == ["YN2"] and ids["CZKFBJ"] == ["CZ1"] and ids["ZRBHD"] == ["ZR1"]
    assert ids["STBHHX"] == []
    assert result.crossed["extent"]["outside_points"] == 0


def test_polygon_and_line_parcels_together(checker, tmp_path):
    lines = ["[属性描述]", "项目名称=某某园区", *HEAD[1:], "[地块坐标]",
             "5,,1,厂区,面,,工业,,@", *_points(BLOCK, close=True),
             "2,,2,进场道路,线,,交通,,@", *_points(ROAD, start=6)]
    site = read_site(_write(tmp_path, "园区.txt", lines))
    result = checker.check(site, use="工业")
    assert result.name == "某某园区（2 个地块合计）" and result.project_name == "某某园区"
    assert [p.kind for p in result.parcels] == ["面", "线"]
    block_area = result.parcels[0].area_m2
    assert result.area_m2 == pytest.approx(block_area, rel=1e-12)  # the line adds no area
    assert result.overall in ("需论证", "不符合")
    assert any("进场道路" in m and "不计面积" in m for m in result.messages)
    d = result.to_dict()
    assert d["parcels"][1]["site_area_m2"] is None and d["project_name"] == "某某园区"


def test_damaged_site_file_is_refused_before_any_check(tmp_path):
    lines = [*HEAD, "[地块坐标]", "6,,1,厂区,面,,,,@", *_points(BLOCK, close=True)]
    with pytest.raises(InputError) as info:
        read_site(_write(tmp_path, "缺点.txt", lines))
    assert [(p.rule, p.row) for p in info.value.problems] == [("coord_point_count", "8")]


def test_cli_prints_a_line_site_and_names_the_line_of_a_damaged_file(workspace, tmp_path):
    from typer.testing import CliRunner

    from onemap.cli import app

    runner = CliRunner()
    road = _write(tmp_path, "道路.txt", [*HEAD, "[地块坐标]", "2,,1,道路中线,线,,交通,,@",
                                         *_points(ROAD)])
    r = runner.invoke(app, ["check", str(workspace.location), str(road), "--use", "交通"])
    assert r.exit_code == 0, r.output
    assert "线状地块：长度 1,405." in r.stdout and "YN2" in r.stdout
    bad = _write(tmp_path, "缺点.txt", [*HEAD, "[地块坐标]", "6,,1,厂区,面,,,,@",
                                        *_points(BLOCK, close=True)])
    r = runner.invoke(app, ["check", str(workspace.location), str(bad)])
    assert r.exit_code == 2
    assert "第 8 行" in r.output and "界址点数为 6" in r.output
