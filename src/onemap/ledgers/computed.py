"""Fields a register computes instead of taking them from the user (pure).

Filled on import and again on every move (a move may change 威胁人数).

A register file lists them under ``computed`` (field → computation name):

- ``ellipsoidal_area_m2``: the record's geometry area on the CGCS2000 ellipsoid
  (:func:`onemap.geo.area.ellipsoidal_area`), m² to 2 decimals; the file's
  own value is replaced (a 矿业权 area is computed, never typed);
- ``price_yuan_m2_from_mu``: a 清查价格 in 元/平方米 from the file's 元/亩 price ``QCJGM``
  (× 15 ÷ 10000, 1 亩 = 10000/15 m², to 6 decimals) when the file gives none in 元/平方米;
- ``repair_rate``: 修复率 of a 历史遗留矿山 project = 已修复 YXFMJ ÷ (损毁 SHMJ + 已修复), to 4
  decimals (shared/domain/ledgers.md §6 [AA]); left blank when either is blank or both are 0;
- ``rate_fraction``: a rate given as ``0.06``, ``6%``, ``6％`` or ``6`` (a number
  above 1 is a percentage) as the fraction 0.06; left to the row check when
  it is not a number;
- ``inefficiency_verdict`` / ``inefficiency_reasons``: the 低效判定 and its
  reasons by :func:`onemap.ledgers.inefficient.judge` (floors per 用途 in
  ``inefficient_criteria.yaml``);
- ``hazard_threat_grade``: the 险情等级 of 威胁人数 ``WXRS`` and 威胁财产 ``WXCC``
  (万元) by :func:`onemap.ledgers.hazards.threat_grade`; left to the row
  check when either is blank or not a number.

A computation reads the raw row (field name → cell), the row's geometry and
the name of the field it fills, and returns the value, or None to leave the field as the file gave it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shapely.geometry.base import BaseGeometry

from onemap.errors import DomainDataError, Problem
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.hazards import threat_grade
from onemap.ledgers.inefficient import judge, load_criteria
from onemap.ledgers.schema import Register

Computation = Callable[[dict[str, Any], BaseGeometry | None, str], Any]


def _area(row: dict[str, Any], geom: BaseGeometry | None, name: str) -> float | None:
    if geom is None or geom.is_empty:
        return None
    return round(float(ellipsoidal_area([geom])[0]), 2)


def _number(v: Any) -> float | None:
    try:
        return float(str(v).strip().replace(",", ""))
    except ValueError:
        return None


def _threat(row: dict[str, Any], geom: BaseGeometry | None, name: str) -> str | None:
    people, money = _number(row.get("WXRS")), _number(row.get("WXCC"))
    if people is None or money is None or people != people or money != money:  # blank, text or NaN
        return None
    return threat_grade(people, money)


def _price_m2(row: dict[str, Any], geom: BaseGeometry | None, name: str) -> float | None:
    own = row.get("QCJG")
    if own is not None and str(own).strip() not in ("", "nan", "None"):
        return None
    per_mu = _number(row.get("QCJGM")) if row.get("QCJGM") is not None else None
    if per_mu is None or per_mu != per_mu:
        return None
    return round(per_mu * 15.0 / 10000.0, 6)


def _repair_rate(row: dict[str, Any], geom: BaseGeometry | None, name: str) -> float | None:
    done, damaged = _number(row.get("YXFMJ")), _number(row.get("SHMJ"))
    if done is None or damaged is None or done != done or damaged != damaged or done + damaged <= 0:
        return None
    return round(done / (done + damaged), 4)
def _rate(row: dict[str, Any], geom: BaseGeometry | None, name: str) -> float | None:
    text = str(row.get(name, "")).strip()
    percent = text.endswith(("%", "％"))
    value = _number(text.rstrip("%％").strip())
    if value is None or value != value:
        return None
    return round(value / 100 if percent or value > 1 else value, 8)


def _verdict(row: dict[str, Any], geom: BaseGeometry | None, name: str) -> str:
    return judge(row, load_criteria())[0]


def _reasons(row: dict[str, Any], geom: BaseGeometry | None, name: str) -> str:
    return judge(row, load_criteria())[1]


#: Computation name → function.
COMPUTATIONS: dict[str, Computation] = {"ellipsoidal_area_m2": _area, "hazard_threat_grade": _threat,
                                        "price_yuan_m2_from_mu": _price_m2, "repair_rate": _repair_rate,
                                        "rate_fraction": _rate, "inefficiency_verdict": _verdict,
                                        "inefficiency_reasons": _reasons}


def fill(reg: Register, rows: list[dict[str, Any]],
         geometries: Sequence[BaseGeometry | None] | None) -> list[dict[str, Any]]:
    """Rows with the register's computed fields filled.

    Parameters
    ----------
    reg : Register
        The register (its ``computed`` mapping).
    rows : list of dict
        Field name → raw cell, one per imported row.
    geometries : sequence of geometry or None, optional
        The geometry of each row (None when the file has none).

    Raises
    ------
    onemap.errors.DomainDataError
        The register names a computation that does not exist.
    """
    if not reg.computed:
        return rows
    for name, how in reg.computed.items():
        if how not in COMPUTATIONS:
            raise DomainDataError(
                f"数据文件 {reg.name}.yaml 中 computed.{name} 有误：不认识的计算「{how}」"
                f"（可用：{'、'.join(COMPUTATIONS)}）（文件：{reg.path}）",
                [Problem("domain_data", how, file=reg.path, field=name)])
    out = []
    for i, row in enumerate(rows):
        geom = geometries[i] if geometries is not None else None
        new = dict(row)
        for name, how in reg.computed.items():
            value = COMPUTATIONS[how](new, geom, name)
            if value is not None:
                new[name] = value
        out.append(new)
    return out
