"""基准地价系数修正法 (pure): the price of a 宗地 from the 基准地价 级别 it lies in.

``P = P₀ × Kt × Ky × Kv × (1 + ΣKi) + Kf`` for each 级别 the site overlaps
(:func:`onemap.analysis.overlay.intersect_pieces`, areas on the CGCS2000
ellipsoid), then the area-weighted mean over the 级别. The coefficients and
the tables they come from are in ``landprice.yaml`` (see its header); each
coefficient is returned with the table row it was read from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from onemap.analysis.overlay import intersect_pieces
from onemap.domain import sources
from onemap.errors import InputError, Problem
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.flow import flow_error

#: m² per 亩.
MU_M2 = 10000 / 15


class LandPriceConfig(BaseModel):
    """``landprice.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    synthetic: bool = False
    levels_register: str
    max_uncovered_m2: float = 1.0
    far_curves: dict[str, list[tuple[float, float]]] = {}
    date_index: dict[str, dict[str, float]] = {}
    factors: dict[str, dict[str, dict[str, float]]] = {}
    development: dict[str, float] = {}
    sha256: str = ""

    @field_validator("far_curves")
    @classmethod
    def _increasing(cls, v: dict[str, list[tuple[float, float]]]) -> dict[str, list[tuple[float, float]]]:
        for use, points in v.items():
            xs = [p[0] for p in points]
            if len(xs) < 2 or xs != sorted(set(xs)):
                raise ValueError(f"{use} 的容积率修正曲线至少两点，容积率须递增且不重复")
        return v


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> LandPriceConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return LandPriceConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from exc


def load_landprice_config(path: str | Path | None = None) -> LandPriceConfig:
    """Load ``landprice.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "landprice.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


@dataclass
class Level:
    """A 基准地价 级别 polygon as the use case read it (values of the ``base_prices`` record)."""

    no: str
    values: dict[str, Any]
    geometry: Any


@dataclass
class SiteTerms:
    """What the valuation asks: 用途, 容积率, 使用年限, 估价期日, factor grades, 开发程度."""

    use: str
    on: date
    far: float | None = None
    years: float | None = None
    factors: dict[str, str] | None = None
    development: str | None = None


def _refuse(message: str, rule: str, field: str | None = None) -> InputError:
    return InputError(message, [Problem(rule, message, field=field)])


def quarter(day: date) -> str:
    """``2025Q1`` of a day."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def years_factor(r: float, n: float, big_n: float) -> float:
    """Ky = (1 − (1+r)^−n) / (1 − (1+r)^−N)."""
    return (1 - (1 + r) ** -n) / (1 - (1 + r) ** -big_n)


def far_factor(points: Sequence[tuple[float, float]], far: float, use: str) -> float:
    """The curve's coefficient at ``far`` (linear between points); refused outside the curve."""
    xs = [p[0] for p in points]
    if not xs[0] <= far <= xs[-1]:
        raise _refuse(f"{use}容积率 {far:g} 超出容积率修正表的范围（{xs[0]:g}—{xs[-1]:g}）", "far_out_of_range",
                      "--far")
    return float(np.interp(far, xs, [p[1] for p in points]))


def level_price(cfg: LandPriceConfig, level: Level, terms: SiteTerms) -> dict[str, Any]:
    """The price of the site by one 级别: P and each coefficient with its source row.

    Raises
    ------
    onemap.errors.InputError
        A factor or grade not in the tables, a quarter without 地价指数, a 容积率
        outside the curve, a 开发程度 without a cost, 年限 out of range.
    """
    v = level.values
    use = terms.use
    p0 = float(v["JZDJ"])
    r, big_n = float(v["HYL"]), float(v["FDZGNX"])
    name = f"{use}{v.get('JB', '')}（{level.no}）"
    if r <= 0:
        raise _refuse(f"{name} 的土地还原率 {r:g} 应大于 0", "bad_rate", "HYL")
    factors: list[dict[str, Any]] = [{"name": "P0", "title": "基准地价（元/平方米）", "value": p0,
                                      "source": f"base_prices {level.no} JZDJ"}]
    # Kt: 地价指数
    index = cfg.date_index.get(use, {})
    base_on = date.fromisoformat(str(v["JZR"]))
    qa, qb = quarter(terms.on), quarter(base_on)
    for q, what in ((qa, "估价期日"), (qb, "基准日")):
        if q not in index:
            raise _refuse(f"地价指数表没有{use} {q}（{what}所在季度）的指数", "missing_index", "--date")
    kt = index[qa] / index[qb]
    factors.append({"name": "Kt", "title": "期日修正系数", "value": kt,
                    "source": f"landprice.yaml date_index.{use}: {qa} {index[qa]:g} / {qb} {index[qb]:g}"})
    # Ky: 年期修正
    n = big_n if terms.years is None else float(terms.years)
    if not 0 < n <= big_n:
        raise _refuse(f"使用年限 {n:g} 应大于 0 且不超过{name}的法定最高年限 {big_n:g}", "bad_years", "--years")
    ky = years_factor(r, n, big_n)
    factors.append({"name": "Ky", "title": "年期修正系数", "value": ky,
                    "source": f"(1−(1+{r:g})^−{n:g})/(1−(1+{r:g})^−{big_n:g})；base_prices {level.no} HYL, FDZGNX"})
    # Kv: 容积率修正
    curve = cfg.far_curves.get(use)
    set_far = v.get("SDRJL")
    if curve is None or terms.far is None:
        kv, why = 1.0, ("本用途不作容积率修正" if curve is None else "未给出宗地容积率，不修正")
    elif set_far in (None, ""):
        raise _refuse(f"{name} 没有设定容积率，不能作容积率修正", "missing_set_far", "SDRJL")
    else:
        k_site, k_set = far_factor(curve, terms.far, use), far_factor(curve, float(set_far), use)
        kv, why = k_site / k_set, (f"landprice.yaml far_curves.{use}: 容积率 {terms.far:g} → {k_site:g}，"
                                   f"设定容积率 {float(set_far):g} → {k_set:g}")
    factors.append({"name": "Kv", "title": "容积率修正系数", "value": kv, "source": why})
    # ΣKi: 区域/个别因素
    table = cfg.factors.get(use, {})
    total_ki = 0.0
    for fname, grade in (terms.factors or {}).items():
        if fname not in table:
            raise _refuse(f"{use}用地没有修正因素「{fname}」（可用：{'、'.join(table) or '无'}）", "unknown_factor",
                          "--factors")
        if grade not in table[fname]:
            raise _refuse(f"修正因素「{fname}」没有等级「{grade}」（可用：{'、'.join(table[fname])}）", "unknown_grade",
                          "--factors")
        ki = table[fname][grade]
        total_ki += ki
        factors.append({"name": f"K:{fname}", "title": f"{fname}（{grade}）", "value": ki,
                        "source": f"landprice.yaml factors.{use}.{fname}.{grade}"})
    left = [f for f in table if f not in (terms.factors or {})]
    if left:
        factors.append({"name": "K:一般", "title": "未给出的因素按一般", "value": 0.0, "source": "、".join(left)})
    # Kf: 开发程度
    kf = 0.0
    if terms.development:
        base_level = str(v.get("KFCD") or "")
        for lv, who in ((terms.development, "宗地"), (base_level, f"{name}设定")):
            if lv not in cfg.development:
                raise _refuse(f"{who}开发程度「{lv}」没有开发成本（可用：{'、'.join(cfg.development)}）",
                              "unknown_development", "--factors")
        kf = cfg.development[terms.development] - cfg.development[base_level]
        factors.append({"name": "Kf", "title": "开发程度修正（元/平方米）", "value": kf,
                        "source": f"landprice.yaml development: {terms.development} "
                                  f"{cfg.development[terms.development]:g} − {base_level} "
                                  f"{cfg.development[base_level]:g}"})
    price = p0 * kt * ky * kv * (1 + total_ki) + kf
    return {"level": level.no, "grade": str(v.get("JB", "")), "price_yuan_m2": price, "factors": factors,
            "coefficients": {"P0": p0, "Kt": kt, "Ky": ky, "Kv": kv, "sum_Ki": total_ki, "Kf": kf}}


def site_price(cfg: LandPriceConfig, site: Any, levels: Sequence[Level], terms: SiteTerms) -> dict[str, Any]:
    """The site's price: per 级别 piece, then the area-weighted mean.

    Parameters
    ----------
    cfg : LandPriceConfig
        The tables.
    site : shapely geometry
        The 宗地 (EPSG:4490), one polygon or a union of parcels.
    levels : sequence of Level
        The current 级别 of the 用途.
    terms : SiteTerms
        The valuation's terms.

    Returns
    -------
    dict
        ``price_yuan_m2`` (2 decimals), ``total_yuan``, ``area_m2``, ``price_yuan_mu``,
        ``floor_price_yuan_m2`` (when a 容积率 is given), ``parts`` (per 级别: area,
        share, price, factors), ``factors`` (of the largest part).

    Raises
    ------
    onemap.errors.InputError
        The site lies (partly) outside every 级别 of the 用途, or a table lacks a row.
    """
    area = float(ellipsoidal_area([site])[0])
    pieces = intersect_pieces(np.asarray([site], dtype=object),
                              np.asarray([lv.geometry for lv in levels], dtype=object))
    parts = []
    for j in np.unique(pieces.right):
        part_area = float(ellipsoidal_area([shapely.union_all(pieces.geometry[pieces.right == j])])[0])
        parts.append((levels[int(j)], part_area))
    covered = sum(a for _, a in parts)
    if not parts:
        raise _refuse(f"宗地不在任何{terms.use}用地基准地价级别范围内", "outside_levels", "SITE")
    if area - covered > cfg.max_uncovered_m2:
        raise _refuse(f"宗地有 {area - covered:,.2f} 平方米不在任何{terms.use}用地基准地价级别范围内"
                      f"（允许 {cfg.max_uncovered_m2:g} 平方米）", "outside_levels", "SITE")
    rows = []
    for level, part_area in parts:
        got = level_price(cfg, level, terms)
        rows.append({**got, "area_m2": round(part_area, 2), "share": part_area / covered})
    price = sum(r["price_yuan_m2"] * r["share"] for r in rows)
    p = round(price, 2)
    out = {"use": terms.use, "date": terms.on.isoformat(), "area_m2": round(area, 2),
           "price_yuan_m2": p, "total_yuan": round(p * round(area, 2), 2),
           "price_yuan_mu": round(p * MU_M2, 2),
           "floor_price_yuan_m2": round(p / terms.far, 2) if terms.far else None,
           "parts": [{**r, "price_yuan_m2": round(r["price_yuan_m2"], 2), "share": round(r["share"], 6)}
                     for r in rows],
           "factors": max(rows, key=lambda r: r["area_m2"])["factors"]}
    return out
