"""Change detection between versions (BSM first) and monitoring patches."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from monitor_world import (
    VILLAGE_A,
    cell,
    controls,
    dltb_2023,
    dltb_2024,
    dltb_2025,
    frame,
)

from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.monitor.changes import CHANGE_COLUMNS, approx_width_m, detect_changes
from onemap.monitor.monitoring import monitoring_changes


@pytest.fixture(scope="module")
def result():
    return detect_changes(dltb_2023(), dltb_2024(), controls())


def _row(changes, before, after):
    sel = changes[(changes["before"] == before) & (changes["after"] == after)]
    assert len(sel) == 1, changes[["before", "after"]]
    return sel.iloc[0]


def test_real_changes_are_found_with_before_and_after(result):
    ch = result.changes
    assert set(CHANGE_COLUMNS) <= set(ch.columns)
    pairs = sorted(zip(ch["before"], ch["after"], strict=True))
    assert pairs == [("0101", "0702"), ("0103", "0601"), ("0103", "0601"), ("0404", "1202")]
    assert ch["tbbh"].is_unique
    assert ch.crs.to_epsg() == 4490


def test_split_patch_yields_only_the_changed_part(result):
    east = result.changes[result.changes["bsm_after"] == "102"].iloc[0]
    assert east["before"] == "0103" and east["after"] == "0601" and east["kind"] == "piece"
    expected = ellipsoidal_area([cell(0.5, 0, 1, 1)])[0]
    assert east["area_m2"] == pytest.approx(expected, abs=0.01)
    # 耕地 area is net of 田坎 (KCXS 0.05 of the old patch)
    assert east["gd_area_m2"] == pytest.approx(expected * 0.95, abs=0.01)
    assert east["zygd"] and not east["zyst"] and east["new_construction"]
    assert east["county"] == "640302" and east["village"] == VILLAGE_A[:12]


def test_flags_from_control_lines(result):
    yn = _row(result.changes, "0101", "0702")
    assert yn["sfyn"] and yn["zyst"] and not yn["sfhx"]
    assert yn["yn_area_m2"] == pytest.approx(yn["area_m2"], abs=0.01)
    assert not yn["in_czkfbj"] and yn["czkfbj_pos"] == "外"
    approved = result.changes[result.changes["bsm_after"] == "3"].iloc[0]
    assert approved["in_czkfbj"] and approved["czkfbj_pos"] == "内" and not approved["sfyn"]


def test_attribute_edits_redraws_and_renoding_are_not_changes(result):
    s = result.summary
    assert list(result.attribute_edits["bsm"]) == ["4"]
    assert result.attribute_edits.iloc[0]["changes"] == {"BZ": [None, "核实"]}
    assert s["renoded_same_shape"] == 1  # BSM 7: same shape, ring starts elsewhere
    assert "7" not in set(result.changes["bsm_after"])
    # boundary moved between 5 and 6, both 0702: re-draws only
    rd = result.redraws
    assert set(rd["dlbm"]) == {"0103", "0702"}
    assert rd.loc[rd["bsm_before"] == "6", "area_m2"].sum() == pytest.approx(
        ellipsoidal_area([cell(1, 1, 2, 2)])[0], abs=0.01)
    assert s["changes"] == 4 and s["class_changed_in_place"] == 3
    assert s["unmatched_old_area_m2"] == 0 and s["unmatched_new_area_m2"] == 0


def test_sjnf_alone_is_not_an_attribute_edit(result):
    # every patch changed SJNF 2023 → 2024; only BSM 4 (BZ) counts as an edit
    assert result.summary["attribute_edits"] == 1


def test_reclaimed_in_third_version():
    r = detect_changes(dltb_2024(), dltb_2025(), controls())
    assert len(r.changes) == 1
    row = r.changes.iloc[0]
    assert (row["before"], row["after"], row["bsm_after"]) == ("0601", "0103", "102")
    assert not row["zygd"] and not row["new_construction"]


def test_slivers_from_a_nudged_edge_are_dropped():
    old = frame([
        {"BSM": "1", "DLBM": "0103", "geometry": cell(0, 0, 1, 1)},
        {"BSM": "2", "DLBM": "0601", "geometry": cell(1, 0, 2, 1)},
    ])
    # the shared edge moves by 0.1 m (≈ 1e-6°): geometry changed, class did not
    d = 0.001
    new = frame([
        {"BSM": "1", "DLBM": "0103", "geometry": cell(0, 0, 1 + d, 1)},
        {"BSM": "2", "DLBM": "0601", "geometry": cell(1 + d, 0, 2, 1)},
    ])
    r = detect_changes(old, new)
    assert len(r.changes) == 0
    assert r.summary["slivers"] == 1 and 0 < r.summary["sliver_area_m2"] < 20
    # with the width test off, the 0.09 m-wide strip is reported as a change
    r2 = detect_changes(old, new, min_width_m=0.0)
    assert len(r2.changes) == 1


def test_width_estimate_is_metric():
    strip = shapely.box(106.2, 37.9, 106.21, 37.90001)  # ~880 m × ~1.1 m
    w = approx_width_m(np.array([strip]), ellipsoidal_area([strip]))
    assert w[0] == pytest.approx(1.1, rel=0.05)


def test_duplicate_bsm_is_refused():
    g = dltb_2023()
    g.loc[1, "BSM"] = "1"
    with pytest.raises(InputError, match="不唯一"):
        detect_changes(g, dltb_2024())


def test_missing_fields_and_wrong_crs_are_refused():
    with pytest.raises(InputError, match="缺少字段 DLBM"):
        detect_changes(dltb_2023().drop(columns="DLBM"), dltb_2024())
    with pytest.raises(InputError, match="EPSG:4490"):
        detect_changes(dltb_2023().to_crs(4544), dltb_2024())


def test_no_change_at_all():
    r = detect_changes(dltb_2023(), dltb_2023())
    assert len(r.changes) == 0 and len(r.redraws) == 0 and len(r.attribute_edits) == 0
    assert r.summary["unchanged"] == 8


def test_monitoring_patches_cut_by_base_version():
    patches = gpd.GeoDataFrame(
        {"JCBH": ["JC001", "JC002"], "TBLX": ["20", "GF"], "QSX": ["20240301", "20240301"],
         "HSX": ["20241001", "2024-10-02"], "XZQDM": ["640302", "640302"]},
        geometry=[cell(0.5, 0.2, 1.5, 0.8), cell(3.2, 1.2, 3.8, 1.8)], crs=4490)
    ch = monitoring_changes(patches, dltb_2023(), controls())
    # JC001 straddles 旱地 (BSM 1) and 水田 (BSM 2): two pieces with their own before class
    jc1 = ch[ch["jcbh"] == "JC001"].sort_values("before")
    assert list(jc1["before"]) == ["0101", "0103"]
    assert list(jc1["tbbh"]) == ["JC001-2", "JC001-1"]
    assert (jc1["code_system"] == "TBLX").all() and (jc1["after_name"] == "建/构筑物").all()
    assert jc1["after_construction"].all() and jc1["zygd"].all()
    assert jc1.iloc[0]["sfyn"]  # the 水田 piece lies in 永久基本农田
    jc2 = ch[ch["jcbh"] == "JC002"].iloc[0]
    assert jc2["tbbh"] == "JC002" and jc2["before"] == "0404" and jc2["change_date"] == "2024-10-02"
    assert jc2["hsx"] == "2024-10-02" and jc2["qsx"] == "2024-03-01"


def test_monitoring_without_base_uses_dlbm_field():
    patches = gpd.GeoDataFrame({"JCBH": ["J1"], "TBLX": ["YH"], "DLBM": ["0103"],
                                "XZQDM": ["640302"]}, geometry=[cell(0, 0, 1, 1)], crs=4490)
    ch = monitoring_changes(patches)
    assert ch.iloc[0]["before"] == "0103" and ch.iloc[0]["county"] == "640302"
    with pytest.raises(InputError, match="原地类"):
        monitoring_changes(patches.drop(columns="DLBM"))
    with pytest.raises(InputError, match="TBLX"):
        monitoring_changes(patches.drop(columns="TBLX"))


def test_invalid_control_polygon_is_repaired_not_fatal():
    bowtie = shapely.Polygon([(106.2, 37.9), (106.201, 37.901), (106.201, 37.9),
                              (106.2, 37.901), (106.2, 37.9)])
    assert not shapely.is_valid(bowtie)
    yn = gpd.GeoDataFrame({"BSM": ["bad"]}, geometry=[bowtie], crs=4490)
    r = detect_changes(dltb_2023(), dltb_2024(), {"YJJBNTTB": yn})
    east = r.changes[r.changes["bsm_after"] == "102"].iloc[0]
    assert east["sfyn"] and 0 < east["yn_area_m2"] < east["area_m2"]
