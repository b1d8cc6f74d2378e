"""The sample's register records (台账样例): where they lie, what they say, deterministic, imported as synthetic."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest
import shapely

from onemap.app import ledgers as uc
from onemap.app.sample_registers import add_sample_registers
from onemap.sample import build_sample, load_region
from onemap.sample.registers import register_records
from onemap.store import init_workspace

PATCHES = 3000
SEED = 2024
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample():
    return build_sample(patches=PATCHES, seed=SEED)


@pytest.fixture(scope="module")
def cfg():
    return load_region()


@pytest.fixture(scope="module")
def tables(sample, cfg):
    """All records of each register in one table (batches concatenated), with the batch's age."""
    out: dict[str, list] = {}
    for b in register_records(sample.layers, cfg, SEED):
        out.setdefault(b.register, []).append(b.table.assign(_age=b.age_days))
    return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance on the local plane (km), good to < 0.5 % at these sizes."""
    dx = (a[0] - b[0]) * 111.32 * math.cos(math.radians(b[1]))
    return math.hypot(dx, (a[1] - b[1]) * 111.32)


def test_same_seed_same_records_other_seed_other(sample, cfg):
    first = {b.register: b.table for b in register_records(sample.layers, cfg, SEED)}
    again = {b.register: b.table for b in register_records(sample.layers, cfg, SEED)}
    other = {b.register: b.table for b in register_records(sample.layers, cfg, SEED + 1)}
    for name in first:
        pd.testing.assert_frame_equal(pd.DataFrame(first[name]), pd.DataFrame(again[name]))
    assert not pd.DataFrame(first["KYQ"]).drop(columns="geometry").equals(
        pd.DataFrame(other["KYQ"]).drop(columns="geometry"))


def test_counts_follow_the_region_file(sample, cfg, tables):
    counties = list(sample.layers["XZQ"]["2023"]["XZQDM"])
    assert len(tables["ZJXMQ"]) == len(counties)  # one 项目区 per county
    assert len(tables["BCGDXM"]) == 3 * len(counties) and len(tables["GDZY"]) == 2 * len(counties)
    assert len(tables["KYQ"]) == sum(a.rights for a in cfg.registers.mining_areas) == 16
    assert len(tables["DZZHYHD"]) == sum(h.points for h in cfg.registers.hills) == 17
    assert len(tables["FXQ"]) == len(cfg.registers.hills) == 4
    assert sorted(set(tables["BCGDXM"]["XZQDM"])) == sorted(counties)


def test_linkage_plots_sit_on_homesteads_and_cultivated_land_outside_farmland(sample, tables):
    dltb = sample.layers["DLTB"]["2023"]
    yj = shapely.union_all(sample.layers["YJJBNTTB"]["2023"].geometry.values)
    for _, r in tables["CJDK"].iterrows():
        hit = dltb[shapely.equals(dltb.geometry.values, r.geometry)]
        assert len(hit) == 1 and hit["DLBM"].iloc[0] == "0702" == r["FKQDL"]
        assert hit["ZLDWDM"].iloc[0][:6] == r["XZQDM"]
    for _, r in tables["JXDK"].iterrows():
        hit = dltb[shapely.equals(dltb.geometry.values, r.geometry)]
        assert len(hit) == 1 and hit["DLBM"].iloc[0] in ("0102", "0103")
        assert not yj.contains(r.geometry.representative_point())
        assert r["ZYGDMJ"] == r["JXMJ"]
    assert not set(map(shapely.to_wkb, tables["CJDK"].geometry)) & set(map(shapely.to_wkb, tables["JXDK"].geometry))
    # a trade sells half of its 项目区's 节余 (accepted 拆旧 − 建新), at most 2 000 m²; none without 节余
    for q in tables["ZJXMQ"]["XMQBH"]:
        old = tables["CJDK"][tables["CJDK"]["XMQBH"] == q]
        new = tables["JXDK"][tables["JXDK"]["XMQBH"] == q]
        surplus = old[old["状态"] == "已验收"]["CJMJ"].sum() - new["JXMJ"].sum()
        sold = tables["ZBJY"][tables["ZBJY"]["XMQBH"] == q]["JYMJ"] if "ZBJY" in tables else pd.Series([])
        assert list(sold) == ([round(min(surplus * 0.5, 2000.0), 2)] if surplus > 0 else [])


def test_rights_and_hazards_lie_around_their_areas(sample, cfg, tables):
    xzq = sample.layers["XZQ"]["2023"]
    areas = {a.mineral: [] for a in cfg.registers.mining_areas}
    for a in cfg.registers.mining_areas:
        areas[a.mineral].append(a)
    for _, r in tables["KYQ"].iterrows():
        c = r.geometry.centroid
        near = [a for a in areas[r["KZ"]] if _km((c.x, c.y), a.center) <= a.radius_km * 1.01]
        assert near, r["XKZH"]
        inside = xzq[xzq.contains(c)]
        if len(inside):
            assert inside["XZQDM"].iloc[0] == r["XZQDM"]
        assert r["XKZH"][0] == ("T" if r["KQLX"] == "探矿权" else "C") and r["XKZH"][1:7] == r["XZQDM"]
    for _, r in tables["DZZHYHD"].iterrows():
        p = r.geometry
        assert any(_km((p.x, p.y), h.center) <= h.radius_km * 1.01 and r["ZHLX"] in h.types
                   for h in cfg.registers.hills)
        assert r["TYBH"][:6] == r["XZQDM"] and len(r["TYBH"]) == 12


def test_imported_as_synthetic_with_every_deadline_status(sample, cfg, tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg", name="样例")
    counts = add_sample_registers(store, sample.layers, cfg, SEED, now=NOW)
    cat = {r["name"]: r for r in uc.register_catalog(store, now=NOW)["registers"]}
    for name, n in counts.items():
        assert cat[name]["count"] == n and cat[name]["synthetic"] is True
        assert cat[name]["display_title"].endswith("（模拟数据）")
    # 拆旧: 待核验 entered 50 days ago (60-day deadline, warned 10 days before) → 即将到期 with 10 days left;
    # 复垦中 entered 400 days ago (365 days) → 已逾期 by 35 days; 已验收 is final
    got = {r["state_title"]: r for r in uc.list_records(store, "CJDK", now=NOW)["records"]}
    assert (got["待核验"]["deadline"], got["待核验"]["days_left"]) == ("即将到期", 10)
    assert (got["复垦中"]["deadline"], got["复垦中"]["overdue_days"]) == ("已逾期", 35)
    assert got["已验收"]["deadline"] == "无期限"
    # each 入库 补充耕地项目 posted its 入库 entries (数量, 水田 when it has some, 产能)
    stored = [r for r in uc.list_records(store, "BCGDXM", now=NOW)["records"] if r["state_title"] == "入库"]
    journal = uc.accounts(store)["journal"]
    assert {e["project_no"] for e in journal if e["kind"] == "入库"} == {r["record_no"] for r in stored}
    area = {e["project_no"]: e["amount"] for e in journal if e["measure"] == "数量"}
    assert all(area[r["record_no"]] == r["values"]["XZGDMJ"] for r in stored)
