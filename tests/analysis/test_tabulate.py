"""Tabulation inside/outside zone layers, and control-line conflicts.

The engine is checked against an independent computation: every patch is
intersected pair by pair with every zone polygon of a layer using plain
Shapely, the pieces of a patch are united (overlapping zone polygons count
once) and measured with the official area; the reconciliation rule of the
module (whole patches keep their TBDLMJ, cut pieces get area × (1 − KCXS)) is
applied patch by patch. Reference cases with hand-derived pieces live in
``tests/analysis/data/tabulate_*.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from shapely import Polygon, box

from onemap.analysis.stats import bulletin_table
from onemap.analysis.tabulate import (
    CONFLICT_PAIRS,
    WHOLE_TOLERANCE_M2,
    WHOLE_TOLERANCE_REL,
    TabulationResult,
    control_line_conflicts,
    tabulate,
)
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area

DATA = Path(__file__).parent / "data"
A = "640302"  # 利通区
B = "640381"  # 青铜峡市
X0, Y0, D = 106.20, 37.90, 0.01  # patch grid origin and cell size (degrees)


def _cell(i: int, j: int) -> Polygon:
    """Grid cell (i, j) with an extra vertex on every edge (shared by neighbours)."""
    x0, y0 = X0 + i * D, Y0 + j * D
    x1, y1 = x0 + D, y0 + D
    return Polygon([(x0, y0), ((x0 + x1) / 2, y0), (x1, y0), (x1, (y0 + y1) / 2), (x1, y1),
                    ((x0 + x1) / 2, y1), (x0, y1), (x0, (y0 + y1) / 2)])


@pytest.fixture(scope="module")
def dataset() -> tuple[gpd.GeoDataFrame, dict[str, gpd.GeoDataFrame]]:
    """4 × 3 patches over two counties and three zone layers with the awkward cases."""
    geoms, rows = [], []
    classes = ["0101", "0103", "0301", "0702", "1101", "0101"]
    for j in range(3):
        for i in range(4):
            county = A if i < 2 else B
            dlbm = classes[(i + 2 * j) % len(classes)]
            kcxs = 0.08 if dlbm == "0101" else (0.121 if dlbm == "0103" else 0.0)
            geoms.append(_cell(i, j))
            rows.append({"BSM": f"T{i}{j}", "DLBM": dlbm, "KCXS": kcxs,
                         "ZLDWDM": f"{county}{100 + j:03d}0010000000"})
    dltb = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490")
    area = ellipsoidal_area(dltb.geometry.values)
    tbdlmj = np.round(area * (1 - dltb["KCXS"].to_numpy()), 2)
    # Delivered figures are not always our own area × (1 − KCXS) (e.g. after 平差):
    tbdlmj[[1, 5, 6]] += [3.21, -1.07, 0.5]
    dltb["TBDLMJ"] = tbdlmj

    c = lambda i, j: (X0 + i * D, Y0 + j * D)  # noqa: E731 - grid corner
    # 永久基本农田: a polygon with a hole; two overlapping polygons; one equal to patch (3,0)
    # (a patch on the zone edge from the inside); one crossing the county border.
    outer = [c(0, 0), c(1.6, 0), c(1.6, 1.7), c(0, 1.7)]
    hole = [(X0 + 0.002, Y0 + 0.002), (X0 + 0.008, Y0 + 0.002), (X0 + 0.008, Y0 + 0.008),
            (X0 + 0.002, Y0 + 0.008)]
    yj = [
        Polygon(outer, [hole]),
        box(*c(0.2, 2.1), *c(1.5, 2.9)),
        box(*c(0.9, 2.05), *c(2.3, 2.95)),      # overlaps the previous one
        _cell(3, 0),
        Polygon([c(1.8, 1.2), c(2.7, 1.05), c(2.6, 1.9), c(1.9, 1.8)]),
    ]
    st = [Polygon([c(1.2, 0.4), c(3.4, 0.3), c(3.3, 1.6), c(1.3, 1.5)]),
          box(*c(3.5, 2.5), *c(4.5, 3.5))]
    cz = [box(*c(2.9, 0.9), *c(3.8, 2.8))]
    zones = {
        "YJJBNTTB": gpd.GeoDataFrame({"BSM": [f"Y{k}" for k in range(len(yj))]},
                                     geometry=yj, crs="EPSG:4490"),
        "STBHHX": gpd.GeoDataFrame({"BSM": ["S0", "S1"]}, geometry=st, crs="EPSG:4490"),
        "CZKFBJ": gpd.GeoDataFrame({"BSM": ["C0"]}, geometry=cz, crs="EPSG:4490"),
    }
    return dltb, zones


def _share_cents(inside_m2: float, area_m2: float, tbdlmj: float, kcxs: float) -> int:
    total = int(round(tbdlmj * 100))
    if inside_m2 <= 0:
        return 0
    if inside_m2 >= area_m2 - max(WHOLE_TOLERANCE_M2, WHOLE_TOLERANCE_REL * area_m2):
        return total
    return min(max(int(round(inside_m2 * (1 - kcxs) * 100)), 0), total)


def reference(dltb: gpd.GeoDataFrame, zones: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Independent tabulation: plain Shapely pair by pair, patch by patch, in Python loops."""
    out = []
    for name, zone in zones.items():
        for _, patch in dltb.iterrows():
            g = patch.geometry
            pieces = [g.intersection(z) for z in zone.geometry if g.intersects(z)]
            piece = shapely.union_all(pieces) if pieces else Polygon()
            inside = float(ellipsoidal_area([piece])[0])
            whole = float(ellipsoidal_area([g])[0])
            cents = _share_cents(inside, whole, patch.TBDLMJ, patch.KCXS)
            total = int(round(patch.TBDLMJ * 100))
            for flag, m2, ct in ((True, inside, cents), (False, whole - inside, total - cents)):
                out.append({"county": patch.ZLDWDM[:6], "zone": name, "inside": flag,
                            "dlbm": patch.DLBM, "area_m2": m2, "cents": ct})
    frame = pd.DataFrame(out)
    return frame.groupby(["county", "zone", "inside", "dlbm"], as_index=False)[
        ["area_m2", "cents"]].sum()


def _compare(result: TabulationResult, expected: pd.DataFrame, tol: float = 0.01) -> None:
    got = result.rows
    m = expected.merge(got, on=["county", "zone", "inside", "dlbm"], how="outer",
                       suffixes=("_ref", ""), indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    assert np.abs(m["area_m2"] - m["area_m2_ref"]).max() <= tol
    assert np.abs(m["cents"] - m["cents_ref"]).max() <= tol * 100


def test_equals_independent_computation(dataset):
    dltb, zones = dataset
    result = tabulate(dltb, zones)
    assert list(result.rows.columns[:6]) == ["county", "zone", "inside", "dlbm", "area_m2",
                                            "tbdlmj_m2"]
    _compare(result, reference(dltb, zones))
    # every (county, zone, class) has an inside and an outside row
    assert len(result.rows) == 2 * 3 * dltb.assign(c=dltb.ZLDWDM.str[:6]).groupby(
        ["c", "DLBM"]).ngroups


def test_inside_plus_outside_is_the_foundation_table(dataset):
    dltb, zones = dataset
    result = tabulate(dltb, zones)
    foundation = bulletin_table(dltb, level="county").rows.set_index(["unit", "dlbm"])["cents"]
    for zone in zones:
        rows = result.rows[result.rows["zone"] == zone]
        both = rows.groupby(["county", "dlbm"])["cents"].sum()
        both.index.names = ["unit", "dlbm"]
        pd.testing.assert_series_equal(both.sort_index(), foundation.sort_index(),
                                       check_names=False)
        assert rows["tbdlmj_m2"].sum() == pytest.approx(dltb["TBDLMJ"].sum(), abs=1e-6)


def _cell_row(result, zone, bsm, dltb, inside=True):
    patch = dltb[dltb["BSM"] == bsm].iloc[0]
    rows = result.rows
    sel = rows[(rows.zone == zone) & (rows.county == patch.ZLDWDM[:6])
               & (rows.dlbm == patch.DLBM) & (rows.inside == inside)]
    assert len(sel) == 1
    return sel.iloc[0], patch


def test_overlapping_zone_polygons_count_once(dataset):
    dltb, zones = dataset
    # only patch T12 (under the two overlapping boxes) in its own dataset
    one = dltb[dltb["BSM"] == "T12"]
    result = tabulate(one, {"YJJBNTTB": zones["YJJBNTTB"]})
    row, patch = _cell_row(result, "YJJBNTTB", "T12", one)
    union = shapely.union_all(zones["YJJBNTTB"].geometry.values)
    expected = ellipsoidal_area([patch.geometry.intersection(union)])[0]
    assert row.area_m2 == pytest.approx(expected, abs=0.01)
    naive = sum(ellipsoidal_area([patch.geometry.intersection(z)])[0]
                for z in zones["YJJBNTTB"].geometry)
    assert naive > expected + 1000  # the overlap would have been counted twice
    info = result.sources["zones"]["YJJBNTTB"]
    assert info["patches_in_overlaps"] == 1
    assert info["features"] == 5


def test_patch_wholly_inside_one_of_two_overlapping_polygons(dataset):
    dltb, zones = dataset
    one = dltb[dltb["BSM"] == "T12"]
    big = box(*one.total_bounds).buffer(0.001)
    layer = gpd.GeoDataFrame(geometry=[big, big.buffer(-0.0015), big.buffer(0.002)],
                             crs="EPSG:4490")
    result = tabulate(one, {"YJJBNTTB": layer})
    row, patch = _cell_row(result, "YJJBNTTB", "T12", one)
    assert row.cents == round(patch.TBDLMJ * 100)
    assert row.area_m2 == pytest.approx(ellipsoidal_area([patch.geometry])[0], abs=1e-6)


def test_patch_in_the_hole_is_outside(dataset):
    dltb, zones = dataset
    one = dltb[dltb["BSM"] == "T00"]
    result = tabulate(one, {"YJJBNTTB": zones["YJJBNTTB"]})
    row, patch = _cell_row(result, "YJJBNTTB", "T00", one, inside=False)
    hole = Polygon(zones["YJJBNTTB"].geometry[0].interiors[0])
    assert row.area_m2 == pytest.approx(ellipsoidal_area([hole])[0], abs=0.01)


def test_patch_on_the_zone_edge_keeps_its_tbdlmj(dataset):
    dltb, zones = dataset
    # T30 equals zone polygon Y3: touches the zone boundary from inside, nothing outside.
    one = dltb[dltb["BSM"] == "T30"].copy()
    one["TBDLMJ"] = one["TBDLMJ"] + 0.37  # delivered figure differs from area × (1 − KCXS)
    result = tabulate(one, {"YJJBNTTB": zones["YJJBNTTB"]})
    row, patch = _cell_row(result, "YJJBNTTB", "T30", one)
    assert row.cents == round(patch.TBDLMJ * 100)
    out, _ = _cell_row(result, "YJJBNTTB", "T30", one, inside=False)
    assert out.cents == 0
    assert out.area_m2 == pytest.approx(0.0, abs=WHOLE_TOLERANCE_M2)


def test_zone_polygon_copied_from_a_patch(dataset):
    """A zone polygon that is a patch (other start vertex and orientation): that patch only."""
    dltb, _ = dataset
    ring = list(_cell(1, 1).exterior.coords)[:-1]
    ring = ring[3:] + ring[:3]
    twin = Polygon(ring[::-1])
    zones = {"YJJBNTTB": gpd.GeoDataFrame(geometry=[twin], crs="EPSG:4490")}
    result = tabulate(dltb, zones)
    _compare(result, reference(dltb, zones))
    inside = result.rows[result.rows.inside & (result.rows.cents > 0)]
    assert len(inside) == 1
    assert inside["cents"].iloc[0] == round(dltb.loc[dltb.BSM == "T11", "TBDLMJ"].iloc[0] * 100)
    assert result.sources["zones"]["YJJBNTTB"]["patches_touched"] == 1


def test_cut_piece_gets_area_times_one_minus_kcxs(dataset):
    dltb, zones = dataset
    one = dltb[dltb["BSM"] == "T10"]  # 0103 with KCXS 0.121, cut by the zone edge at x=1.6
    assert one["KCXS"].iloc[0] > 0
    result = tabulate(one, {"YJJBNTTB": zones["YJJBNTTB"]})
    row, patch = _cell_row(result, "YJJBNTTB", "T10", one)
    piece = patch.geometry.intersection(zones["YJJBNTTB"].geometry[0])
    area = ellipsoidal_area([piece])[0]
    assert row.area_m2 == pytest.approx(area, abs=1e-6)
    assert row.cents == round(area * (1 - patch.KCXS) * 100)


def test_threads_chunks_and_subdivision_do_not_change_the_figures(dataset):
    dltb, zones = dataset
    base = tabulate(dltb, zones, workers=1)
    calls = []
    other = tabulate(dltb, zones, workers=2, chunk_size=3, max_vertices=5,
                     progress=lambda *a: calls.append(a))
    assert {(z, t) for z, d, t in calls if d == t} == {(z, 4) for z in zones}
    assert other.sources["zones"]["YJJBNTTB"]["parts"] > base.sources["zones"]["YJJBNTTB"][
        "parts"]
    pd.testing.assert_series_equal(base.rows["cents"], other.rows["cents"])
    np.testing.assert_allclose(base.rows["area_m2"], other.rows["area_m2"], atol=1e-6)


def test_subdivision_lines_do_not_move_areas_of_slanted_patches():
    """Long slanted patch edges crossing the zone's subdivision lines (cf. the conflict test)."""
    patches, rows = [], []
    for k in range(6):
        x = X0 + k * 0.004
        patches.append(Polygon([(x, Y0), (x + 0.004, Y0), (x + 0.016, Y0 + 0.02),
                                (x + 0.012, Y0 + 0.02)]))
        rows.append({"DLBM": "0103", "ZLDWDM": f"{A}1000010000000", "KCXS": 0.05})
    dltb = gpd.GeoDataFrame(rows, geometry=patches, crs="EPSG:4490")
    dltb["TBDLMJ"] = np.round(ellipsoidal_area(dltb.geometry.values) * 0.95, 2)
    circle = shapely.Point(X0 + 0.02, Y0 + 0.01).buffer(0.009, quad_segs=64)
    zones = {"STBHHX": gpd.GeoDataFrame(geometry=[circle], crs="EPSG:4490")}
    result = tabulate(dltb, zones, max_vertices=12)
    assert result.sources["zones"]["STBHHX"]["parts"] > 10
    _compare(result, reference(dltb, zones))


def test_grid_size_keeps_figures_within_tolerance(dataset):
    dltb, zones = dataset
    _compare(tabulate(dltb, zones, grid_size=1e-9), reference(dltb, zones), tol=0.05)


def test_conflicts_found_with_their_areas(dataset):
    dltb, zones = dataset
    conflicts = control_line_conflicts(zones)
    assert list(conflicts.columns) == ["zone_a", "zone_b", "id_a", "id_b", "area_m2",
                                       "geometry"]
    assert conflicts.crs.equals("EPSG:4490")
    for a, b in CONFLICT_PAIRS:
        za = shapely.union_all(zones[a].geometry.values)
        zb = shapely.union_all(zones[b].geometry.values)
        expected = ellipsoidal_area([za.intersection(zb)])[0]
        got = conflicts[(conflicts.zone_a == a) & (conflicts.zone_b == b)]
        assert got["area_m2"].sum() == pytest.approx(expected, abs=0.01), (a, b)
        assert ellipsoidal_area(got.geometry.values).sum() == pytest.approx(expected, abs=0.01)
    pair = conflicts[(conflicts.zone_a == "YJJBNTTB") & (conflicts.zone_b == "STBHHX")]
    assert set(pair["id_b"]) == {"S0"}
    assert set(pair["id_a"]) == {"Y0", "Y3", "Y4"}


def test_conflicts_per_county(dataset):
    dltb, zones = dataset
    result = tabulate(dltb, zones)
    conflicts = result.conflicts
    assert list(conflicts.columns) == ["zone_a", "zone_b", "county", "id_a", "id_b", "area_m2",
                                       "geometry"]
    plain = control_line_conflicts(zones)
    # S0 crosses the county border at x = 2: the Y0 ∩ S0 overlap lies in A only,
    # Y4 ∩ S0 straddles the border and is split, with the parts adding up.
    y4 = conflicts[(conflicts.id_a == "Y4") & (conflicts.id_b == "S0")]
    assert set(y4["county"]) == {A, B}
    whole = plain[(plain.id_a == "Y4") & (plain.id_b == "S0")]["area_m2"].sum()
    # The official area treats edges as straight in (B, L): a vertex added on a long slanted
    # edge (here where the border cuts it) moves it by ~0.1 m², so parts add up only closely.
    assert y4["area_m2"].sum() == pytest.approx(whole, rel=1e-6)
    np.testing.assert_allclose(y4["area_m2"], ellipsoidal_area(y4.geometry.values))
    border = box(X0 + 2 * D, Y0 - 1, X0 + 10, Y0 + 1)
    in_b = ellipsoidal_area([whole_geom.intersection(border) for whole_geom in
                             plain[(plain.id_a == "Y4") & (plain.id_b == "S0")].geometry])
    assert y4.loc[y4.county == B, "area_m2"].sum() == pytest.approx(in_b.sum(), abs=0.01)
    assert set(conflicts[(conflicts.id_a == "Y0")]["county"]) == {A}
    # S1 sticks out of the surveyed area: its overlap with C0 still has its full area
    c = conflicts[(conflicts.zone_a == "STBHHX") & (conflicts.id_a == "S1")]
    assert len(c) == 1 and c["county"].iloc[0] == B


def test_levels_names_and_records(dataset):
    dltb, zones = dataset
    result = tabulate(dltb, {"CZKFBJ": zones["CZKFBJ"]}, level="town",
                      unit_names={f"{B}100": "某镇"},
                      source={"DLTB": {"dataset": "DLTB", "version": "2023"},
                              "CZKFBJ": {"dataset": "CZKFBJ", "version": "2022"}})
    assert result.sources["DLTB"]["source"]["version"] == "2023"
    assert result.sources["zones"]["CZKFBJ"]["source"]["version"] == "2022"
    assert result.sources["DLTB"]["features"] == len(dltb)
    assert result.level == "town"
    assert set(result.rows["county"]) == {f"{c}{t}" for c in (A, B) for t in (100, 101, 102)}
    assert list(result.rows.columns[:2]) == ["county", "unit_name"]
    assert set(result.rows.loc[result.rows.county == f"{B}100", "unit_name"]) == {"某镇"}
    rec = result.to_records()[0]
    assert {"county", "zone", "inside", "dlbm", "area_m2", "tbdlmj_m2"} <= set(rec)
    assert isinstance(rec["inside"], bool) and "cents" not in rec


def test_invalid_zone_polygon_is_repaired_and_reported(dataset):
    dltb, _ = dataset
    bowtie = Polygon([(X0, Y0), (X0 + 2 * D, Y0 + 2 * D), (X0 + 2 * D, Y0), (X0, Y0 + 2 * D)])
    assert not bowtie.is_valid
    zones = {"YJJBNTTB": gpd.GeoDataFrame(geometry=[bowtie], crs="EPSG:4490")}
    result = tabulate(dltb, zones)
    assert result.sources["zones"]["YJJBNTTB"]["repaired"] == 1
    inside = result.rows[result.rows.inside]["area_m2"].sum()
    assert inside == pytest.approx(ellipsoidal_area([shapely.make_valid(bowtie)])[0], abs=0.01)


def test_refuses_bad_input(dataset):
    dltb, zones = dataset
    with pytest.raises(InputError, match="TBDLMJ"):
        tabulate(dltb.drop(columns="TBDLMJ"), zones)
    planar = dltb.set_crs(None, allow_override=True).copy()
    planar.geometry = planar.geometry.translate(36_000_000, 4_000_000)
    with pytest.raises(InputError, match="经纬度"):
        tabulate(planar, zones)
    empty = dltb.copy()
    empty.loc[0, "TBDLMJ"] = np.nan
    with pytest.raises(InputError, match="空值"):
        tabulate(empty, zones)


def test_projected_input_is_brought_to_cgcs2000(dataset):
    dltb, zones = dataset
    gk = {k: v.to_crs(4545) for k, v in zones.items()}
    a = tabulate(dltb, zones).rows
    b = tabulate(dltb, gk).rows
    # reprojection round trip moves vertices by ~1e-9°, areas agree to far below a m²
    np.testing.assert_allclose(a["area_m2"], b["area_m2"], atol=0.05)


def test_empty_zone_layer_and_no_zones(dataset):
    dltb, _ = dataset
    empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:4490")
    result = tabulate(dltb, {"CZKFBJ": empty})
    assert result.rows[result.rows.inside]["cents"].sum() == 0
    assert len(result.conflicts) == 0
    assert tabulate(dltb, {}).rows.empty


# --------------------------------------------------------------------------- YAML cases


def _cases() -> list[Path]:
    return sorted(DATA.glob("tabulate_*.yaml"))


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.stem)
def test_reference_case(path: Path):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    patches = case["dltb"]
    dltb = gpd.GeoDataFrame(
        [{k: v for k, v in p.items() if k != "wkt"} for p in patches],
        geometry=shapely.from_wkt([p["wkt"] for p in patches]), crs="EPSG:4490",
    )
    if "KCXS" not in dltb.columns:
        dltb["KCXS"] = 0.0
    zones = {name: gpd.GeoDataFrame({"BSM": [f"{name}{k}" for k in range(len(wkts))]},
                                    geometry=shapely.from_wkt(wkts), crs="EPSG:4490")
             for name, wkts in case["zones"].items()}
    tol = float(case.get("tolerance_m2", 0.01))
    result = tabulate(dltb, zones)
    rows = result.rows
    for exp in case.get("expected", []):
        sel = rows[(rows.county == exp["county"]) & (rows.zone == exp["zone"])
                   & (rows.inside == exp["inside"]) & (rows.dlbm == exp["dlbm"])]
        assert len(sel) == 1, exp
        assert sel["area_m2"].iloc[0] == pytest.approx(exp["area_m2"], abs=tol), exp
        if "tbdlmj_m2" in exp:
            assert sel["tbdlmj_m2"].iloc[0] == pytest.approx(exp["tbdlmj_m2"], abs=1e-9), exp
        if "tiankan_m2" in exp:
            assert sel["tiankan_m2"].iloc[0] == pytest.approx(exp["tiankan_m2"], abs=1e-9), exp
    for exp in case.get("conflicts", []):
        sel = result.conflicts[(result.conflicts.zone_a == exp["zone_a"])
                               & (result.conflicts.zone_b == exp["zone_b"])]
        if "county" in exp:
            sel = sel[sel.county == exp["county"]]
        assert sel["area_m2"].sum() == pytest.approx(exp["area_m2"], abs=tol), exp
    # and always: inside + outside = the foundation table, to the hundredth
    foundation = bulletin_table(dltb).rows.set_index(["unit", "dlbm"])["cents"]
    for zone in zones:
        both = rows[rows.zone == zone].groupby(["county", "dlbm"])["cents"].sum()
        assert both.to_dict() == foundation.to_dict()
    if "KCMJ" in dltb.columns:  # and inside + outside 田坎 = the patches' KCMJ, to the hundredth
        units = dltb["ZLDWDM"].str.slice(0, 6)
        kcmj = (dltb["KCMJ"] * 100).round().astype(int).groupby([units, dltb["DLBM"]]).sum()
        for zone in zones:
            tk = (rows[rows.zone == zone]["tiankan_m2"] * 100).round().astype(int)
            both = tk.groupby([rows["county"], rows["dlbm"]]).sum()
            assert both.to_dict() == kcmj.to_dict()
