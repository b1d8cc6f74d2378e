"""Accountability statistics per county and year (违法占用耕地 问责统计).

- 新增建设用地占用耕地面积: 耕地 area (net of 田坎) of change patches from
  non-construction to construction land, whatever their verdict.
- 违法占用耕地面积: 耕地 area of cases an officer determined 违法 (the officer's
  ``illegal_gd_area_m2`` when given at 判定, else the suspected 耕地 area).
- ratio = 违法 ÷ 新增 over one calendar year; a county is flagged when it
  reaches the one threshold of 监察部 人社部 国土资源部令 第15号 第三条 (15 %,
  ``accountability.yaml``). There is no second, "heavier" ratio: heavier
  sanctions depend on circumstances, which the platform does not judge. Suspected patches not yet determined are
  shown separately with the ratio they would give if all were 违法, so a
  county is warned before the figures are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from onemap.geo.area import M2_PER_MU
from onemap.monitor import _data


@dataclass
class Thresholds:
    """The ratio that flags a county (one threshold, 第15号令 第三条)."""

    threshold: float = 0.15
    version: str = ""


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> Thresholds:
    path = Path(key[0])
    data, _ = _data.read_yaml(path)
    unknown = sorted(set(data) - {"version", "source", "threshold"})
    if unknown:
        raise _data.fail(path, unknown[0], "不认识的设置（问责只有一个阈值 threshold）")
    try:
        t = float(data.get("threshold", 0.15))
    except (TypeError, ValueError) as exc:
        raise _data.fail(path, "threshold", "应为 0～1 之间的数") from exc
    if not 0 < t <= 1:
        raise _data.fail(path, "threshold", "应为 0～1 之间的数")
    return Thresholds(t, str(data.get("version", "")))


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    """Load ``accountability.yaml`` (shipped, override, or ``path``)."""
    p = _data.resolve("accountability.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


#: Chinese headers of the accountability table.
HEADERS = {
    "county": "县级代码",
    "county_name": "县级名称",
    "year": "年度",
    "new_construction_gd_m2": "新增建设用地占用耕地面积（平方米）",
    "new_construction_gd_mu": "新增建设用地占用耕地面积（亩）",
    "illegal_gd_m2": "违法占用耕地面积（平方米）",
    "illegal_gd_mu": "违法占用耕地面积（亩）",
    "ratio": "违法占用耕地面积比例",
    "pending_gd_m2": "待判定疑似违法占用耕地面积（平方米）",
    "ratio_if_pending_illegal": "待判定全部违法时比例",
    "threshold": "问责阈值",
    "flagged": "是否达到问责阈值",
    "level": "预警等级",
    "cases": "案件数",
    "cases_illegal": "判定违法案件数",
    "cases_pending": "待判定案件数",
    "cases_overdue": "逾期案件数",
}


def accountability_table(
    judgements: pd.DataFrame,
    cases: pd.DataFrame,
    *,
    year: int,
    thresholds: Thresholds | None = None,
    unit_names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Accountability figures per county for one year.

    Parameters
    ----------
    judgements : pandas.DataFrame
        Judged patches of the year: ``county``, ``new_construction_gd_m2``.
    cases : pandas.DataFrame
        Cases of the year: ``county``, ``state``, ``determination``,
        ``suspect_gd_area_m2``, ``data`` (dict, may hold
        ``illegal_gd_area_m2``), ``overdue``.
    year : int
        The year reported.
    thresholds : Thresholds, optional
        Default from ``accountability.yaml``.
    unit_names : dict, optional
        County code → name.

    Returns
    -------
    pandas.DataFrame
        One row per county (columns :data:`HEADERS`), sorted by ratio.
    """
    th = thresholds or load_thresholds()
    names = unit_names or {}
    j = judgements.copy()
    if j.empty:
        j = pd.DataFrame({"county": pd.Series(dtype=object),
                          "new_construction_gd_m2": pd.Series(dtype=float)})
    newc = j.groupby("county")["new_construction_gd_m2"].sum()
    c = cases.copy()
    if c.empty:
        c = pd.DataFrame({k: pd.Series(dtype=object) for k in
                          ("county", "state", "determination", "suspect_gd_area_m2", "data",
                           "overdue")})
    officer = [
        (d or {}).get("illegal_gd_area_m2") if isinstance(d, dict) else None
        for d in c["data"]
    ]
    gd = pd.to_numeric(c["suspect_gd_area_m2"], errors="coerce").fillna(0.0)
    off = pd.to_numeric(pd.Series(officer, index=c.index, dtype=object), errors="coerce")
    c["illegal_gd"] = np.where(c["determination"] == "违法", off.fillna(gd), 0.0)
    c["pending_gd"] = np.where(c["determination"].isna(), gd, 0.0)
    c["is_illegal"] = c["determination"] == "违法"
    c["is_pending"] = c["determination"].isna()
    c["is_overdue"] = c["overdue"].fillna(False).astype(bool)
    agg = c.groupby("county").agg(
        illegal_gd_m2=("illegal_gd", "sum"), pending_gd_m2=("pending_gd", "sum"),
        cases=("state", "size"), cases_illegal=("is_illegal", "sum"),
        cases_pending=("is_pending", "sum"), cases_overdue=("is_overdue", "sum"))
    counties = sorted(set(newc.index) | set(agg.index))
    rows = []
    for k in counties:
        a = float(newc.get(k, 0.0))
        il = float(agg["illegal_gd_m2"].get(k, 0.0))
        pend = float(agg["pending_gd_m2"].get(k, 0.0))
        ratio = il / a if a > 0 else (None if il == 0 else float("inf"))
        upper = (il + pend) / a if a > 0 else (None if il + pend == 0 else float("inf"))
        flagged = ratio is not None and ratio >= th.threshold
        level = ""
        if flagged:
            level = "问责"
        elif upper is not None and upper >= th.threshold:
            level = "预警（待判定案件可能使比例达到阈值）"
        rows.append({
            "county": k, "county_name": names.get(k, ""), "year": int(year),
            "new_construction_gd_m2": round(a, 2),
            "new_construction_gd_mu": round(a / M2_PER_MU, 2),
            "illegal_gd_m2": round(il, 2), "illegal_gd_mu": round(il / M2_PER_MU, 2),
            "ratio": None if ratio is None else (round(ratio, 4) if np.isfinite(ratio)
                                                 else ratio),
            "pending_gd_m2": round(pend, 2),
            "ratio_if_pending_illegal": None if upper is None else (
                round(upper, 4) if np.isfinite(upper) else upper),
            "threshold": th.threshold, "flagged": bool(flagged), "level": level,
            "cases": int(agg["cases"].get(k, 0)),
            "cases_illegal": int(agg["cases_illegal"].get(k, 0)),
            "cases_pending": int(agg["cases_pending"].get(k, 0)),
            "cases_overdue": int(agg["cases_overdue"].get(k, 0)),
        })
    out = pd.DataFrame(rows, columns=list(HEADERS))
    return out


def rows_to_json(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (an infinite ratio becomes the text "无新增占用耕地")."""
    out = []
    for rec in df.to_dict("records"):
        for k in ("ratio", "ratio_if_pending_illegal"):
            v = rec.get(k)
            if isinstance(v, float) and not np.isfinite(v):
                rec[k] = "无新增占用耕地"
        out.append({k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
    return out
