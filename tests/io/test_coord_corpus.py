"""The corpus of 报盘 / 拐点 files: honest variants read right, damaged files refused at their line."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from coord_corpus import (
    PENTAGON,
    QUAD,
    STANDARD_AREA,
    Case,
    damaged,
    guaidian_lines,
    honest,
    plane_area,
    standard,
)

from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.io.bopan import read_bopan
from onemap.io.guaidian import read_guaidian

HONEST = honest()
DAMAGED = damaged()


def _read(case: Case, folder):
    path = folder / f"{case.name}.txt"
    path.write_bytes(case.data())
    return (read_guaidian if case.kind == "拐点" else read_bopan)(path)


def _total_area(gdf) -> float:
    polys = gdf.geometry.values[np.isin(shapely.get_type_id(gdf.geometry.values), (3, 6))]
    return float(ellipsoidal_area(polys).sum()) if len(polys) else 0.0


def test_the_corpus_is_large_and_every_file_distinct():
    assert len(HONEST) >= 30 and len(DAMAGED) >= 20
    names = [c.name for c in HONEST + DAMAGED]
    assert len(set(names)) == len(names)
    assert len({c.data() for c in HONEST + DAMAGED}) == len(names)


@pytest.mark.parametrize("case", HONEST, ids=lambda c: c.name)
def test_honest_variant_reads_with_the_independent_area(case, tmp_path):
    data = _read(case, tmp_path)
    gdf = data.gdf
    assert len(gdf) == case.parcels
    assert gdf.crs.to_epsg() == 4490
    if case.area_m2 is not None:
        got = _total_area(gdf)
        assert abs(got - case.area_m2) <= 1.0, (got, case.area_m2)
        assert float(np.nansum(gdf["area_m2"])) == pytest.approx(got, abs=1e-6)
    if case.length_m is not None:
        assert list(gdf["shape"]) == ["线"]
        parts = len(shapely.get_parts(gdf.geometry.iloc[0]))
        assert gdf.geometry.iloc[0].geom_type == ("LineString" if parts == 1 else "MultiLineString")
        assert abs(float(gdf["length_m"].iloc[0]) - case.length_m) <= 0.01
        assert np.isnan(gdf["area_m2"].iloc[0])  # a line has no area
    if case.points is not None:
        assert list(gdf["shape"]) == ["点"]
        assert len(shapely.get_parts(gdf.geometry.iloc[0])) == case.points
    if case.project is not None:
        assert data.name == case.project
    assert data.format == case.kind


@pytest.mark.parametrize("case", DAMAGED, ids=lambda c: c.name)
def test_damaged_file_is_refused_at_the_right_line(case, tmp_path):
    with pytest.raises(InputError) as info:
        _read(case, tmp_path)
    err = info.value
    rule, line = case.refuse
    found = [(p.rule, p.row) for p in err.problems]
    assert (rule, str(line)) in found, (found, str(err))
    text = str(err)
    assert f"{case.name}.txt" in text and f"第 {line} 行" in text
    for word in case.words:
        assert word in text, (word, text)
    assert all(p.row is not None and p.file == f"{case.name}.txt" for p in err.problems), text


def test_named_lines_count_blank_lines_as_an_editor_does(tmp_path):
    lines = [x for line in standard() for x in (line, "")]  # a blank line after every line
    k = lines.index(next(x for x in lines if x.startswith("J2,")))
    n, r, x, y = lines[k].split(",")
    lines[k] = ",".join([n, r, y, x])
    with pytest.raises(InputError) as info:
        _read(Case("blank", lines), tmp_path)
    assert [(p.rule, p.row) for p in info.value.problems] == [("coord_xy_swapped", str(k + 1))]


def test_no_cut_on_a_line_boundary_reads_a_smaller_site(tmp_path):
    full = standard()
    areas = [plane_area([PENTAGON, [(4206100.0, 605100.0), (4206200.0, 605100.0),
                                    (4206200.0, 605200.0), (4206100.0, 605200.0)]]),
             plane_area([QUAD])]
    ends = [i + 1 for i, x in enumerate(full) if x.endswith("@")][1:] + [len(full) + 1]
    for k in range(1, len(full) + 1):
        case = Case(f"cut{k}", full[:k])
        complete = [a for a, end in zip(areas, ends, strict=True) if end - 1 <= k]
        at_boundary = k + 1 in ends
        try:
            data = _read(case, tmp_path)
        except InputError:
            assert not (at_boundary and complete), f"第 {k} 行后截断：完整地块却被拒绝"
            continue
        assert at_boundary, f"第 {k} 行后截断（地块中间）却被读取"
        assert abs(_total_area(data.gdf) - sum(complete)) <= 1.0


def test_no_cut_inside_the_last_line_reads_a_smaller_site(tmp_path):
    full = standard()
    head, last = full[:-1], full[-1]
    for j in range(1, len(last)):
        case = Case(f"byte{j}", head + [last[:j]])
        try:
            data = _read(case, tmp_path)
        except InputError:
            continue
        assert _total_area(data.gdf) >= STANDARD_AREA - 1.0, last[:j]


def test_no_cut_of_a_mining_file_with_its_counts_reads_smaller(tmp_path):
    full = guaidian_lines([(PENTAGON, ("1250", "1100"))],
                          head=["坐标系=2000国家大地坐标系", "拐点数=5",
                                f"面积={plane_area([PENTAGON]) / 1e6:.4f}"])
    last_xy = max(i for i, x in enumerate(full) if x.startswith("XY"))
    data = _read(Case("gcut_elevation", full[:last_xy + 1], kind="拐点"), tmp_path)
    assert abs(_total_area(data.gdf) - plane_area([PENTAGON])) <= 1.0  # only 标高 lost
    for k in range(1, last_xy + 1):  # every cut that loses a corner
        with pytest.raises(InputError):
            _read(Case(f"gcut{k}", full[:k], kind="拐点"), tmp_path)


def test_project_metadata_and_extra_sections_are_kept(tmp_path):
    case = next(c for c in HONEST if c.name == "12_project_section_first")
    data = _read(case, tmp_path)
    assert data.sections == {"项目信息": {"项目名称": "吴忠市某某产业园区道路工程",
                                       "建设单位": "某某公司"}}
    assert data.attributes["带号"] == "35" and data.attribute_lines["带号"] == 12


def test_mining_file_gives_blocks_with_elevations_and_metadata(tmp_path):
    case = next(c for c in HONEST if c.name == "32_guaidian_two_blocks")
    data = _read(case, tmp_path)
    assert list(data.gdf["elevation_top_m"]) == [1250.0, 1200.0]
    assert list(data.gdf["elevation_bottom_m"]) == [1100.0, 1000.0]
    assert list(data.gdf["parcel_name"]) == ["宁夏某某石灰岩矿（块段1）", "宁夏某某石灰岩矿（块段2）"]
    assert data.attributes["许可证号"] == "C6403002020127130150001"
    assert data.source_crs == "EPSG:4523" and data.zone == 35 and data.zone_width == 3


def test_declared_area_without_unit_in_mu_is_read_and_said(tmp_path):
    case = next(c for c in HONEST if c.name == "27_area_in_mu_without_unit")
    data = _read(case, tmp_path)
    notes = data.report.by_rule("coord_declared_unit")
    assert len(notes) == 2 and all("按亩计" in n.message for n in notes)
