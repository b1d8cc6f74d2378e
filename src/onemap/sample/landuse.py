"""Land-class placement and the DLTB attribute rules.

Every class has a score ``bias + Σ weight·feature + sigma·noise`` where the
features are smooth location features (irrigated plain, towns, sand, hills,
wetlands, mines, reserves, …) and the noise is a smooth random field of the
class's own correlation length. A parcel takes the class with the highest
score, and the per-county biases are calibrated so that the class areas
follow the county's profile. The result is spatially coherent land use that
still hits the target shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from onemap.sample.config import County, RegionConfig
from onemap.sample.fields import FeatureRaster, FractalNoise, child_rng

Array = NDArray[np.float64]

#: Feature names the raster provides.
FEATURES = (
    "irrigation",
    "river",
    "town",
    "core",
    "sand",
    "hill",
    "wet",
    "mine",
    "industry",
    "road",
    "reserve",
)

#: Calibration works on at most this many parcels per county.
CALIBRATION_SAMPLE = 250_000


def _logistic_cdf(z: Array) -> Array:
    """Approximation of the standard normal CDF (no scipy needed)."""
    return 1.0 / (1.0 + np.exp(-1.702 * z))


@dataclass
class Assignment:
    """Classes of one county's parcels and how well they match the profile."""

    codes: NDArray[np.str_]
    target: dict[str, float]
    achieved: dict[str, float]


class LandUseModel:
    """Class scores from location features and smooth random fields.

    Parameters
    ----------
    cfg : RegionConfig
    raster : FeatureRaster
        Location features on a km grid.
    bounds_km : sequence of float
        Area the noise fields must cover (km).
    seed : int
    """

    def __init__(self, cfg: RegionConfig, raster: FeatureRaster, bounds_km, seed: int):
        self.cfg = cfg
        self.raster = raster
        self.codes = [c for c, spec in cfg.classes.items() if not spec.carved]
        self.features = [f for f in FEATURES if f in raster.layers]
        w = np.zeros((len(self.codes), len(self.features)), dtype=np.float32)
        for i, code in enumerate(self.codes):
            for name, value in cfg.classes[code].w.items():
                if name in self.features:
                    w[i, self.features.index(name)] = value
        self.weights = w
        self.noise = {
            code: FractalNoise(child_rng(seed, "class-noise", code), bounds_km, cfg.classes[code].noise_km)
            for code in self.codes
        }
        self.sigma = {code: cfg.classes[code].sigma for code in self.codes}

    def features_at(self, x: Array, y: Array) -> NDArray[np.float32]:
        """Feature matrix (n, F) at km points."""
        out = np.empty((len(x), len(self.features)), dtype=np.float32)
        for j, name in enumerate(self.features):
            out[:, j] = self.raster.sample(name, x, y)
        return out

    def scores(self, x: Array, y: Array, codes: list[str]) -> NDArray[np.float32]:
        """Scores (n, len(codes)) without the biases."""
        feats = self.features_at(x, y)
        idx = [self.codes.index(c) for c in codes]
        s = feats @ self.weights[idx].T
        lattices: dict[tuple, object] = {}  # noise octaves of equal scale share a lattice
        for j, code in enumerate(codes):
            field = self.noise[code]
            val = np.zeros(len(x), dtype=np.float32)
            for amp, layer in field.layers:
                key = (layer.x0, layer.y0, layer.scale, layer.shape)
                lat = lattices.get(key)
                if lat is None:
                    lat = lattices[key] = layer.lattice(x, y)
                val += np.float32(amp) * lat.blend(layer.flat)
            s[:, j] += np.float32(self.sigma[code] * field.norm) * val
        return s

    def assign(
        self,
        county: County,
        x: Array,
        y: Array,
        area: Array,
        rng: np.random.Generator,
        iterations: int = 60,
    ) -> Assignment:
        """Classes of a county's parcels, calibrated to the county profile.

        Parameters
        ----------
        county : County
            County whose ``profile`` gives the target shares.
        x, y : numpy.ndarray
            A point inside every parcel (km).
        area : numpy.ndarray
            Parcel areas (any unit).
        rng : numpy.random.Generator
            Draws the calibration subsample.
        iterations : int
            Maximum bias updates.

        Returns
        -------
        Assignment
        """
        codes = [c for c in self.codes if county.profile.get(c, 0.0) > 0.0]
        t = np.array([county.profile[c] for c in codes], dtype=np.float64)
        t /= t.sum()
        n = len(x)
        if n == 0:
            return Assignment(np.array([], dtype="<U4"), dict(zip(codes, t, strict=True)), {})
        if n > CALIBRATION_SAMPLE:
            sub = np.sort(rng.choice(n, CALIBRATION_SAMPLE, replace=False))
        else:
            sub = np.arange(n)
        s_sub = self.scores(x[sub], y[sub], codes)
        a_sub = area[sub]
        bias = np.log(t).astype(np.float32)
        logt = np.log(t)
        best, best_err = bias.copy(), np.inf
        total = a_sub.sum()
        for _ in range(iterations):
            lab = np.argmax(s_sub + bias, axis=1)
            got = np.bincount(lab, weights=a_sub, minlength=len(codes)) / total
            err = np.abs(got - t).sum()
            if err < best_err:
                best, best_err = bias.copy(), err
            if err < 0.004:
                break
            step = np.clip(logt - np.log(np.maximum(got, 1e-7)), -1.5, 1.5)
            bias = bias + np.float32(0.7) * step.astype(np.float32)
        del s_sub
        labels = np.empty(n, dtype=np.int64)
        for c0 in range(0, n, 200_000):
            s = self.scores(x[c0 : c0 + 200_000], y[c0 : c0 + 200_000], codes)
            labels[c0 : c0 + 200_000] = np.argmax(s + best, axis=1)
        got = np.bincount(labels, weights=area, minlength=len(codes)) / area.sum()
        arr = np.array(codes)[labels]
        return Assignment(
            codes=arr,
            target={c: float(v) for c, v in zip(codes, t, strict=True)},
            achieved={c: float(v) for c, v in zip(codes, got, strict=True)},
        )


@dataclass
class TownIndex:
    """Town seats of the whole region with their kernel radii and CZCSXM."""

    xy: Array
    town_km: Array
    czcsxm: NDArray[np.str_]

    def czcsxm_at(self, x: Array, y: Array) -> NDArray[np.str_]:
        """CZCSXM of construction land at km points.

        The nearest town's code within 1.6 town radii, else 203 (村庄).
        """
        out = np.full(len(x), "203", dtype="<U4")
        if len(self.xy) == 0 or len(x) == 0:
            return out
        best = np.full(len(x), np.inf)
        which = np.zeros(len(x), dtype=np.int64)
        for i, ((tx, ty), r) in enumerate(zip(self.xy, self.town_km, strict=True)):
            d = np.hypot(x - tx, y - ty) / r
            better = d < best
            best[better] = d[better]
            which[better] = i
        near = best < 1.6
        out[near] = self.czcsxm[which[near]]
        return out


def cultivated_attributes(
    cfg: RegionConfig,
    county: County,
    codes: NDArray[np.str_],
    hill: Array,
    river: Array,
    slope_noise: Array,
    gddb_noise: Array,
    zzsx_noise: Array,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """耕地 attributes of the parcels of one county (blank for other classes).

    Returns
    -------
    dict
        ``GDPDJB, GDLX, KCXS, KCDLBM, ZZSXDM, ZZSXMC, GDDB, TBXHDM, TBXHMC``.
    """
    cult = cfg.cultivated
    n = len(codes)
    is_c = np.isin(codes, cult.codes)
    slope = 0.7 * hill + county.slope + 0.35 * slope_noise
    grade = 1 + (slope[:, None] > np.asarray(cult.grade_cuts)[None, :]).sum(axis=1)
    gmax = np.array([cult.grade_max.get(c, 5) for c in codes]) if n else np.zeros(0, int)
    grade = np.minimum(grade, gmax)
    u_tt = rng.uniform(size=n)
    u_z = rng.standard_normal(n)
    u_g = rng.standard_normal(n)
    p_tt = county.terrace * np.where(grade >= 3, 1.0, 0.5)
    tt = u_tt < p_tt
    gdlx = np.where(is_c & (grade >= 2), np.where(tt, "TT", "PD"), "")
    kcxs = np.zeros(n)
    for code, v in cult.kcxs_flat.items():
        kcxs[(codes == code) & (grade == 1)] = v
    for lx, table in cult.kcxs.items():
        tab = np.asarray(table)
        sel = is_c & (grade >= 2) & (gdlx == lx)
        kcxs[sel] = tab[grade[sel] - 1]
    kcxs[~is_c] = 0.0
    gdpdjb = np.where(is_c, grade.astype(str), "")
    kcdlbm = np.where(kcxs > 0, "1203", "")
    # 种植属性: spatially correlated categorical draw
    u = _logistic_cdf(0.8 * zzsx_noise + 0.6 * u_z)
    zzsx = np.full(n, "", dtype="<U6")
    for code, probs in cult.zzsx.items():
        sel = codes == code
        if not sel.any():
            continue
        keys = list(probs)
        cum = np.cumsum([probs[k] for k in keys])
        cum /= cum[-1]
        k = np.searchsorted(cum, u[sel], side="right").clip(0, len(keys) - 1)
        zzsx[sel] = np.array(keys)[k]
    zzsxmc = np.array([cult.zzsx_names.get(z, "") for z in zzsx], dtype=object) if n else []
    base = np.array([county.gddb.get(c, 12.0) for c in codes]) if n else np.zeros(0)
    gddb = np.rint(base + 0.8 * (grade - 1) + 0.8 * gddb_noise + 0.3 * u_g).clip(1, 15)
    gddb = np.where(is_c, gddb, 0).astype(np.int64)
    tbxh = cult.river_tbxh
    hd = is_c & (river >= float(tbxh.get("river_min", 2.0))) if tbxh else np.zeros(n, bool)
    return {
        "GDPDJB": gdpdjb.astype(object),
        "GDLX": gdlx.astype(object),
        "KCXS": kcxs,
        "KCDLBM": kcdlbm.astype(object),
        "ZZSXDM": zzsx.astype(object),
        "ZZSXMC": np.asarray(zzsxmc, dtype=object),
        "GDDB": gddb,
        "TBXHDM": np.where(hd, str(tbxh.get("code", "")), "").astype(object),
        "TBXHMC": np.where(hd, str(tbxh.get("name", "")), "").astype(object),
    }
