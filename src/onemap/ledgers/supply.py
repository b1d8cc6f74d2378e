"""批而未供 and 闲置土地 (pure): the supplied part of each batch, and the idle clock of each supply.

- :func:`unsupplied`: per batch the approved area (its geometry on the CGCS2000
  ellipsoid), the supplied area — the union of the supplies' pieces inside it
  (:func:`onemap.analysis.overlay.intersect_pieces`), so overlapping supplies
  count once and a supply straddling two batches is split between them — the
  核减 area, the unsupplied rest and the 供地率; grouped by batch, county or
  approval year; the 近5年 average against the floor of ``supply.yaml``.
- :func:`idle_status`: for one supply and one day, its status (未到期, 正常,
  闲置满一年, 闲置满两年), the days idle and the 闲置费 in 元 (exact cents).

Areas are summed as integer hundredths of m², so groups add up to the cent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from onemap.analysis.overlay import intersect_pieces
from onemap.domain import sources
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.flow import flow_error


class UnsuppliedRule(BaseModel):
    """The 供地率 floor and the 近5年 window."""

    model_config = ConfigDict(extra="forbid")
    floor_rate: float
    recent_years: int
    include_current_year: bool = False


class IdleRule(BaseModel):
    """The 闲置 thresholds of 53号令."""

    model_config = ConfigDict(extra="forbid")
    idle_years: int
    recover_years: int
    fee_rate: float
    developed_share_below: str
    investment_share_below: str
    boundary: Literal["anniversary", "day_after"] = "anniversary"

    @field_validator("developed_share_below", "investment_share_below")
    @classmethod
    def _fraction(cls, v: str) -> str:
        try:
            f = Fraction(str(v))
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"「{v}」不是比例（如 1/3 或 0.25）") from exc
        if not 0 < f <= 1:
            raise ValueError(f"「{v}」应在 0 与 1 之间")
        return str(v)

    def share(self, which: str) -> Fraction:
        """A share threshold as an exact fraction."""
        return Fraction(str(getattr(self, which)))


class DisposalRule(BaseModel):
    """The yearly disposal target and the 增存挂钩 ratios."""

    model_config = ConfigDict(extra="forbid")
    target_rate: float
    quota_ratio_unsupplied: float
    quota_ratio_idle: float


class SupplyConfig(BaseModel):
    """``supply.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    batches_register: str
    supplies_register: str
    idle_register: str
    skip_batch_states: list[str] = []
    skip_supply_states: list[str] = []
    unsupplied: UnsuppliedRule
    idle: IdleRule
    disposal: DisposalRule
    sha256: str = ""


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> SupplyConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return SupplyConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from exc


def load_supply_config(path: str | Path | None = None) -> SupplyConfig:
    """Load ``supply.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "supply.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


# ---------------------------------------------------------------------------- 批而未供
@dataclass
class Batch:
    """A batch as the use case read it: number, name, county, approval date, geometry, 核减 m²."""

    no: str
    name: str
    county: str
    approved_on: date
    geometry: Any
    reduced_m2: float = 0.0


def _cents(m2: float) -> int:
    return int(round(m2 * 100))


def _rate(supplied: int, approved: int) -> float:
    return round(supplied / approved, 4) if approved > 0 else 0.0


def _row(approved: int, supplied: int, reduced: int) -> dict[str, Any]:
    rest = max(approved - supplied - reduced, 0)
    return {"approved_m2": approved / 100, "supplied_m2": supplied / 100, "reduced_m2": reduced / 100,
            "unsupplied_m2": rest / 100, "rate": _rate(supplied, approved)}


def supplied_areas(batch_geoms: Sequence[Any], supply_geoms: Sequence[Any]) -> list[float]:
    """Area (m²) of each batch covered by the union of the supplies (each piece counted once)."""
    left = np.asarray(list(batch_geoms), dtype=object)
    pieces = intersect_pieces(left, np.asarray(list(supply_geoms), dtype=object))
    out = [0.0] * len(left)
    for i in np.unique(pieces.left):
        union = shapely.union_all(pieces.geometry[pieces.left == i])
        out[int(i)] = float(ellipsoidal_area([union])[0])
    return out


def unsupplied(batches: Sequence[Batch], supply_geoms: Sequence[Any], cfg: SupplyConfig, *,
               on: date, by: Literal["batch", "county", "year"] = "batch") -> dict[str, Any]:
    """批而未供 of the batches on a day.

    Parameters
    ----------
    batches : sequence of Batch
        The batches approved by ``on`` (the use case filters them).
    supply_geoms : sequence of geometries
        The supplies signed by ``on`` (EPSG:4490).
    cfg : SupplyConfig
        ``supply.yaml``.
    on : date
        The day the figures are for (sets the 近5年 window).
    by : {"batch", "county", "year"}
        Rows per batch (``batch`` 批准文号), per county or per approval year.

    Returns
    -------
    dict
        ``rows`` (``approved_m2``, ``supplied_m2``, ``reduced_m2``, ``unsupplied_m2``,
        ``rate`` and the group's key), ``total``, ``recent`` (``years``,
        ``approved_m2``, ``supplied_m2``, ``rate``, ``floor``, ``meets``).
    """
    geoms = [b.geometry for b in batches]
    approved = [_cents(a) for a in ellipsoidal_area(np.asarray(geoms, dtype=object))] if geoms else []
    supplied = [min(_cents(a), approved[i]) for i, a in enumerate(supplied_areas(geoms, supply_geoms))] \
        if geoms else []
    reduced = [_cents(b.reduced_m2) for b in batches]
    per_batch = []
    for i, b in enumerate(batches):
        per_batch.append({"batch": b.no, "name": b.name, "county": b.county, "year": b.approved_on.year,
                          "approved_on": b.approved_on.isoformat(), **_row(approved[i], supplied[i], reduced[i])})
    if by == "batch":
        rows = per_batch
    else:
        groups: dict[Any, list[int]] = {}
        for i, b in enumerate(batches):
            key = b.county if by == "county" else b.approved_on.year
            acc = groups.setdefault(key, [0, 0, 0, 0])
            acc[0] += approved[i]
            acc[1] += supplied[i]
            acc[2] += reduced[i]
            acc[3] += 1
        rows = [{by: k, "batches": acc[3], **_row(acc[0], acc[1], acc[2])} for k, acc in sorted(groups.items())]
    rule = cfg.unsupplied
    last = on.year if rule.include_current_year else on.year - 1
    years = list(range(last - rule.recent_years + 1, last + 1))
    inside = [i for i, b in enumerate(batches) if b.approved_on.year in years]
    ra, rs = sum(approved[i] for i in inside), sum(supplied[i] for i in inside)
    recent = {"years": years, "batches": len(inside), "approved_m2": ra / 100, "supplied_m2": rs / 100,
              "rate": _rate(rs, ra), "floor": rule.floor_rate,
              "meets": (rs >= rule.floor_rate * ra) if ra > 0 else None}
    total = {"batches": len(batches), **_row(sum(approved), sum(supplied), sum(reduced))}
    return {"by": by, "rows": rows, "total": total, "recent": recent}


# ---------------------------------------------------------------------------- 闲置
def after_years(start: date, years: int) -> date:
    """The same month and day ``years`` later (28 February when 29 February has no counterpart)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February → the month end of a year without it
        return date(start.year + years, 2, 28)


def _threshold(start: date, years: int, rule: IdleRule) -> date:
    day = after_years(start, years)
    return day + timedelta(days=1) if rule.boundary == "day_after" else day


def _num(v: Any) -> Fraction | None:
    if v is None or v == "":
        return None
    try:
        return Fraction(str(v))
    except (ValueError, ZeroDivisionError):
        return None


def _day(v: Any) -> date | None:
    return date.fromisoformat(str(v)[:10]) if v not in (None, "") else None


def fee_yuan(price_wan: Any, rate: float) -> float | None:
    """闲置费 in 元 (exact cents, half up): 成交价款 (万元) × 10 000 × rate."""
    p = _num(price_wan)
    if p is None:
        return None
    cents = (Decimal(p.numerator) / Decimal(p.denominator) * Decimal(10000) * Decimal(str(rate)))
    return float(cents.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def idle_status(values: dict[str, Any], area_m2: float, state: str, on: date,
                rule: IdleRule) -> dict[str, Any]:
    """The 闲置 status of one supply on one day.

    The clock starts on 约定动工日期 YDDGRQ when the land has not been started by
    ``on`` (no 实际动工日期 SJDGRQ on or before it); for land started, on the 停工日期
    TGRQ when work has stopped (no 复工日期 FGRQ after it, by ``on``) and the
    developed area KFMJ is below its share of the supply's area or the investment
    YTZE below its share of the total ZTZE. 闲置满一年 from the threshold one year
    on (``rule.boundary``), 闲置满两年 from two years on; 未到期 before; 正常 when
    no clock runs (started and working, or 竣工).

    Returns
    -------
    dict
        ``status``, ``idle_since`` (ISO or None), ``idle_days``, ``one_year_on`` and
        ``two_years_on`` (the threshold days), ``fee_yuan`` (闲置满一年 only),
        ``recover`` (闲置满两年: 无偿收回 candidate), ``reason``.
    """
    out: dict[str, Any] = {"status": "正常", "idle_since": None, "idle_days": 0, "one_year_on": None,
                           "two_years_on": None, "fee_yuan": None, "recover": False, "reason": ""}
    started = _day(values.get("SJDGRQ"))
    finished = _day(values.get("SJJGRQ"))
    if state == "completed" or (finished is not None and finished <= on):
        out["reason"] = "已竣工"
        return out
    clock: date | None = None
    if started is None or started > on:
        clock = _day(values.get("YDDGRQ"))
        out["reason"] = "未动工"
    else:
        stopped, resumed = _day(values.get("TGRQ")), _day(values.get("FGRQ"))
        if stopped is None or stopped > on or (resumed is not None and stopped < resumed <= on):
            out["reason"] = "已动工"
            return out
        dev, area = _num(values.get("KFMJ")), _num(area_m2)
        paid, total = _num(values.get("YTZE")), _num(values.get("ZTZE"))
        low_dev = dev is not None and area is not None and area > 0 and dev / area < rule.share(
            "developed_share_below")
        low_pay = paid is not None and total is not None and total > 0 and paid / total < rule.share(
            "investment_share_below")
        if not (low_dev or low_pay):
            known = (dev is not None and area) or (paid is not None and total)
            out["reason"] = ("已动工后停工，开发面积和投资比例均未低于闲置标准" if known
                             else "已动工后停工，未填已开发面积或投资额，无法判定")
            return out
        clock = stopped
        out["reason"] = "已动工后停工，" + "、".join(
            t for t, ok in (("开发面积不足", low_dev), ("投资不足", low_pay)) if ok)
    if clock is None:
        out["reason"] = "未填约定动工日期"
        return out
    one, two = _threshold(clock, rule.idle_years, rule), _threshold(clock, rule.recover_years, rule)
    out.update(idle_since=clock.isoformat(), idle_days=max((on - clock).days, 0),
               one_year_on=one.isoformat(), two_years_on=two.isoformat())
    if on >= two:
        out.update(status="闲置满两年", recover=True)
    elif on >= one:
        out.update(status="闲置满一年", fee_yuan=fee_yuan(values.get("CJJK"), rule.fee_rate))
    else:
        out["status"] = "未到期"
    return out


# ---------------------------------------------------------------------------- 处置率 and 增存挂钩
def disposal_rates(units: dict[str, dict[str, int]], rule: DisposalRule) -> list[dict[str, Any]]:
    """Per county: stock at the start of the year, disposed in it, the rate and the 增存挂钩 quota.

    Parameters
    ----------
    units : dict
        County → cents of ``unsupplied_stock``, ``unsupplied_disposed``, ``idle_stock``,
        ``idle_disposed`` (integer hundredths of m²).
    rule : DisposalRule
        Target and ratios.

    Returns
    -------
    list of dict
        ``county``, the four areas in m², ``stock_m2``, ``disposed_m2``, ``rate``
        (4 decimals; None without stock), ``target``, ``meets``, ``quota_m2``.
    """
    rows = []
    for county in sorted(units):
        u = units[county]
        stock = u["unsupplied_stock"] + u["idle_stock"]
        done = u["unsupplied_disposed"] + u["idle_disposed"]
        quota = round(u["unsupplied_disposed"] * rule.quota_ratio_unsupplied
                      + u["idle_disposed"] * rule.quota_ratio_idle)
        rows.append({"county": county, **{f"{k}_m2": v / 100 for k, v in u.items()},
                     "stock_m2": stock / 100, "disposed_m2": done / 100,
                     "rate": round(done / stock, 4) if stock > 0 else None, "target": rule.target_rate,
                     "meets": (done >= rule.target_rate * stock) if stock > 0 else None,
                     "quota_m2": quota / 100})
    return rows


# ---------------------------------------------------------------------------- 批供用补查
@dataclass
class Supply:
    """A supply as the 批供用补查 view reads it."""

    no: str
    geometry: Any
    started: bool
    completed: bool


def _area(geom: Any) -> float:
    if geom is None or geom.is_empty:
        return 0.0
    return float(ellipsoidal_area([geom])[0])


def _union(geoms: Sequence[Any]) -> Any:
    return shapely.union_all(np.asarray(list(geoms), dtype=object)) if len(geoms) else None


def track(batches: Sequence[Batch], supplies: Sequence[Supply], construction: Sequence[Any] | None,
          occupations: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Follow each batch through 批 → 供 → 用 → 补 → 查.

    Parameters
    ----------
    batches : sequence of Batch
        The approved batches.
    supplies : sequence of Supply
        The supplies (signed by the day), with their 动工/竣工 on that day.
    construction : sequence of geometries or None
        New construction found by change detection (None: no change set, 用/查 from
        the registers only).
    occupations : sequence of (str, geometry)
        耕地占用 records (number, geometry).

    Returns
    -------
    list of dict
        Per batch: ``batch``, ``approved_m2``, ``supplied_m2``, ``rate``, ``supplies``
        (``id``, ``area_in_batch_m2``, ``started``, ``completed``, ``construction_m2``),
        ``started``, ``completed``, ``construction_on_supplied_m2`` (动工 seen),
        ``unsupplied_use_m2`` (未供先用), ``over_use_m2`` (construction touching the batch
        but outside every batch: 少批多占), ``occupations``, ``flags`` (Chinese findings).
    """
    bgeoms = np.asarray([b.geometry for b in batches], dtype=object)
    sgeoms = np.asarray([s.geometry for s in supplies], dtype=object)
    cgeoms = np.asarray(list(construction or []), dtype=object)
    approved = ellipsoidal_area(bgeoms) if len(bgeoms) else np.array([])
    sp = intersect_pieces(bgeoms, sgeoms)
    cp = intersect_pieces(bgeoms, cgeoms)
    every_batch = _union(bgeoms)
    occ = intersect_pieces(bgeoms, np.asarray([g for _, g in occupations], dtype=object))
    out = []
    for i, b in enumerate(batches):
        mine = sp.left == i
        supplied = _union(sp.geometry[mine])
        built = _union(cp.geometry[cp.left == i])
        rows = []
        for j, piece in zip(sp.right[mine], sp.geometry[mine], strict=True):
            s = supplies[int(j)]
            rows.append({"id": s.no, "area_in_batch_m2": round(_area(piece), 2), "started": s.started,
                         "completed": s.completed,
                         "construction_m2": round(_area(built.intersection(piece)), 2) if built is not None else None})
        on_supplied = _area(built.intersection(supplied)) if built is not None and supplied is not None else 0.0
        unsupplied_use = _area(built.difference(supplied) if supplied is not None else built) \
            if built is not None else 0.0
        over = 0.0
        for j in np.unique(cp.right[cp.left == i]):
            over += _area(cgeoms[int(j)].difference(every_batch))
        supplied_m2 = _area(supplied) if supplied is not None else 0.0
        flags = []
        if construction is not None:
            if unsupplied_use > 0.005:
                flags.append(f"未供先用 {unsupplied_use:,.2f} 平方米")
            if over > 0.005:
                flags.append(f"少批多占（批次外建设）{over:,.2f} 平方米")
            for r in rows:
                if not r["started"] and (r["construction_m2"] or 0) > 0.005:
                    flags.append(f"供地 {r['id']} 已见建设但未登记动工")
        out.append({"batch": b.no, "name": b.name, "county": b.county, "approved_on": b.approved_on.isoformat(),
                    "approved_m2": round(float(approved[i]), 2), "supplied_m2": round(supplied_m2, 2),
                    "rate": round(supplied_m2 / float(approved[i]), 4) if approved[i] > 0 else 0.0,
                    "supplies": rows, "started": sum(r["started"] for r in rows),
                    "completed": sum(r["completed"] for r in rows),
                    "construction_on_supplied_m2": round(on_supplied, 2) if construction is not None else None,
                    "unsupplied_use_m2": round(unsupplied_use, 2) if construction is not None else None,
                    "over_use_m2": round(over, 2) if construction is not None else None,
                    "occupations": sorted({occupations[int(j)][0] for j in occ.right[occ.left == i]}),
                    "flags": flags})
    return out
