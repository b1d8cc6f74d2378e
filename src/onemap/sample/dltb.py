"""DLTB rows: the parcel table and the attribute rules of the 三调 fields."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from onemap.geo.area import ellipsoidal_area
from onemap.sample.config import RegionConfig
from onemap.sample.fields import FeatureRaster, FractalNoise, LocalFrame, child_rng
from onemap.sample.landuse import TownIndex, cultivated_attributes

#: DLTB columns in output order (geometry last).
DLTB_COLUMNS = [
    "BSM",
    "YSDM",
    "TBBH",
    "DLBM",
    "DLMC",
    "QSXZ",
    "QSDWDM",
    "QSDWMC",
    "ZLDWDM",
    "ZLDWMC",
    "TBMJ",
    "KCDLBM",
    "KCXS",
    "KCMJ",
    "TBDLMJ",
    "GDLX",
    "GDPDJB",
    "XZDWKD",
    "TBXHDM",
    "TBXHMC",
    "ZZSXDM",
    "ZZSXMC",
    "GDDB",
    "FRDBS",
    "CZCSXM",
    "SJNF",
    "BZ",
]

#: Ribbon kinds (index stored per parcel; −1 = ordinary parcel).
RIBBON_KINDS = ("water", "road", "canal")


@dataclass
class ParcelTable:
    """Column arrays of DLTB parcels plus internal helper columns.

    Internal columns (dropped on output) start with an underscore:
    ``_county`` (county index), ``_village`` (global village index),
    ``_x``/``_y`` (a point inside the parcel, km) and ``_ribbon`` (ribbon kind
    index or −1).
    """

    geom: np.ndarray
    cols: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.geom)

    def take(self, idx) -> ParcelTable:
        """Rows ``idx`` (indices or mask)."""
        return ParcelTable(self.geom[idx], {k: v[idx] for k, v in self.cols.items()})

    @staticmethod
    def concat(tables: list[ParcelTable]) -> ParcelTable:
        """Rows of all tables (same columns)."""
        tables = [t for t in tables if len(t)]
        if not tables:
            raise ValueError("nothing to concatenate")
        keys = list(tables[0].cols)
        return ParcelTable(
            np.concatenate([t.geom for t in tables]),
            {k: np.concatenate([t.cols[k] for t in tables]) for k in keys},
        )


@dataclass
class Villages:
    """All villages of the region (global index)."""

    code12: list[str]
    name: list[str]
    county: NDArray[np.int64]
    town_name: list[str]


class AttributeRules:
    """Computes every DLTB attribute except BSM, TBBH and the areas.

    Parameters
    ----------
    cfg : RegionConfig
    frame : LocalFrame
    raster : FeatureRaster
    bounds_km : sequence of float
    towns : TownIndex
    villages : Villages
    seed : int
    """

    def __init__(
        self,
        cfg: RegionConfig,
        frame: LocalFrame,
        raster: FeatureRaster,
        bounds_km,
        towns: TownIndex,
        villages: Villages,
        seed: int,
    ):
        self.cfg = cfg
        self.frame = frame
        self.raster = raster
        self.towns = towns
        self.villages = villages
        self.slope_noise = FractalNoise(child_rng(seed, "slope"), bounds_km, 3.0)
        self.gddb_noise = FractalNoise(child_rng(seed, "gddb"), bounds_km, 5.0)
        self.zzsx_noise = FractalNoise(child_rng(seed, "zzsx"), bounds_km, 1.5)
        self.names = {c: s.name for c, s in cfg.classes.items()}
        self.class_qsxz = {c: s.qsxz for c, s in cfg.classes.items() if s.qsxz}
        self.czc = {c for c, s in cfg.classes.items() if s.czc}
        self.fixed_czcsxm = {c: s.czcsxm for c, s in cfg.classes.items() if s.czcsxm}
        self.czc_far = {c: s.czc_far for c, s in cfg.classes.items() if s.czc and s.czc_far}
        self.village_code = np.array([c + "0000000" for c in villages.code12], dtype=object)
        self.village_name = np.array(villages.name, dtype=object)
        self.state_code = np.array([c.code + "0" * 13 for c in cfg.counties], dtype=object)
        self.state_name = np.array([c.name + "国有土地" for c in cfg.counties], dtype=object)

    def compute(
        self,
        codes: NDArray,
        county: NDArray[np.int64],
        village: NDArray[np.int64],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        ribbon: NDArray[np.int64],
        rng: np.random.Generator,
    ) -> dict[str, np.ndarray]:
        """Attribute columns of parcels.

        Parameters
        ----------
        codes : numpy.ndarray of str
            DLBM of every parcel.
        county, village : numpy.ndarray of int
            County index and global village index.
        x, y : numpy.ndarray
            A point inside every parcel (km).
        ribbon : numpy.ndarray of int
            Ribbon kind index (−1 for ordinary parcels).
        rng : numpy.random.Generator
            Stream for the per-parcel draws.

        Returns
        -------
        dict
            Columns ``DLBM … BZ`` except BSM, TBBH and the area columns, plus
            ``KCXS`` (used for the areas).
        """
        n = len(codes)
        codes = np.asarray(codes).astype("<U4")
        out: dict[str, np.ndarray] = {}
        out["DLBM"] = codes.astype(object)
        out["DLMC"] = np.array([self.names[c] for c in codes], dtype=object)
        hill = self.raster.sample("hill", x, y)
        river = self.raster.sample("river", x, y)
        reserve = self.raster.sample("reserve", x, y) if "reserve" in self.raster.layers else 0
        cult_cols = None
        for ci, county_cfg in enumerate(self.cfg.counties):
            sel = np.flatnonzero(county == ci)
            if len(sel) == 0:
                continue
            part = cultivated_attributes(
                self.cfg,
                county_cfg,
                codes[sel],
                hill[sel],
                river[sel],
                self.slope_noise(x[sel], y[sel]),
                self.gddb_noise(x[sel], y[sel]),
                self.zzsx_noise(x[sel], y[sel]),
                rng,
            )
            if cult_cols is None:
                cult_cols = {k: np.empty(n, dtype=v.dtype) for k, v in part.items()}
            for k, v in part.items():
                cult_cols[k][sel] = v
        assert cult_cols is not None
        # 城镇村属性码
        czcsxm = np.full(n, "", dtype="<U4")
        is_czc = np.isin(codes, list(self.czc))
        if is_czc.any():
            czcsxm[is_czc] = self.towns.czcsxm_at(x[is_czc], y[is_czc])
        for code, value in self.czc_far.items():  # e.g. 独立工业用地 away from every town
            czcsxm[(codes == code) & (czcsxm == "203")] = value
        for code, value in self.fixed_czcsxm.items():
            czcsxm[codes == code] = value
        # 权属性质
        qsxz = np.full(n, "30", dtype="<U2")
        natural = ~is_czc & ~np.isin(codes, list(self.fixed_czcsxm))
        qsxz[natural & (np.asarray(reserve) >= 0.999)] = "10"
        qsxz[is_czc & np.isin(czcsxm, ["201", "202"])] = "20"
        for code, value in self.class_qsxz.items():
            qsxz[codes == code] = value
        qsxz[ribbon == RIBBON_KINDS.index("water")] = "10"
        qsxz[(ribbon == RIBBON_KINDS.index("road")) | (ribbon == RIBBON_KINDS.index("canal"))] = "20"
        state = qsxz != "30"
        out["QSXZ"] = qsxz.astype(object)
        out["QSDWDM"] = np.where(state, self.state_code[county], self.village_code[village])
        out["QSDWMC"] = np.where(state, self.state_name[county], self.village_name[village])
        out["ZLDWDM"] = self.village_code[village]
        out["ZLDWMC"] = self.village_name[village]
        out["KCDLBM"] = cult_cols["KCDLBM"]
        out["KCXS"] = cult_cols["KCXS"]
        out["GDLX"] = cult_cols["GDLX"]
        out["GDPDJB"] = cult_cols["GDPDJB"]
        out["XZDWKD"] = np.zeros(n)
        out["TBXHDM"] = cult_cols["TBXHDM"]
        out["TBXHMC"] = cult_cols["TBXHMC"]
        out["ZZSXDM"] = cult_cols["ZZSXDM"]
        out["ZZSXMC"] = cult_cols["ZZSXMC"]
        out["GDDB"] = cult_cols["GDDB"]
        out["FRDBS"] = np.full(n, "0", dtype=object)
        out["CZCSXM"] = czcsxm.astype(object)
        out["BZ"] = np.full(n, "", dtype=object)
        return out


def set_areas(table: ParcelTable, tbmj: NDArray[np.float64] | None = None) -> None:
    """(Re)compute TBMJ, KCMJ and TBDLMJ from the geometry (or given TBMJ) and KCXS."""
    if tbmj is None:
        tbmj = ellipsoidal_area(table.geom)
    tbmj = np.round(tbmj, 2)
    kcmj = np.round(tbmj * table.cols["KCXS"], 2)
    table.cols["TBMJ"] = tbmj
    table.cols["KCMJ"] = kcmj
    table.cols["TBDLMJ"] = np.round(tbmj - kcmj, 2)


def morton_key(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.uint64]:
    """Z-order key of points (16 bits per axis over their bounding box)."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.uint64)

    def _q(v):
        lo, hi = float(v.min()), float(v.max())
        span = hi - lo if hi > lo else 1.0
        return np.minimum(((v - lo) / span * 65535.0).astype(np.uint64), np.uint64(65535))

    def _spread(v):
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
        return v

    # north first, like the usual 从上到下 numbering
    return _spread(_q(x)) | (_spread(_q(-y)) << np.uint64(1))


def to_geodataframe(table: ParcelTable, columns: list[str], crs: str = "EPSG:4490") -> gpd.GeoDataFrame:
    """GeoDataFrame of the given columns (geometry last)."""
    data = {c: table.cols[c] for c in columns}
    frame = pd.DataFrame(data)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(table.geom, crs=crs), crs=crs)


def assert_polygonal(geoms: np.ndarray) -> None:
    """Raise if a geometry is not a valid (multi)polygon."""
    tid = shapely.get_type_id(geoms)
    if not np.isin(tid, (3, 6)).all():
        raise AssertionError("non-polygonal geometry in a layer")
