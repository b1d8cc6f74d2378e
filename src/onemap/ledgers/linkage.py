"""城乡建设用地增减挂钩 rules as pure functions (shared/domain/ledgers.md §2).

Four registers (``ZJXMQ`` 项目区, ``CJDK`` 拆旧地块, ``JXDK`` 建新地块, ``ZBJY`` 指标交易) hold the
records; this module checks them:

- :func:`class_shares` and :func:`check_old_plots`: a 拆旧 plot must be 建设用地 in the base DLTB and,
  once accepted, 耕地 (01xx) in a later version (shares of the plot's official area, through the
  overlay primitive :func:`onemap.analysis.overlay.intersect_pieces`);
- :func:`check_overlaps`: 建新 outside YJJBNTTB, 拆旧 and 建新 disjoint;
- :func:`area_balances`: per 项目区, 节余 = accepted 拆旧 − 建新, trades not above 节余, 周转指标 in use
  not above the quota and returned by its 归还期限 (warned ``warn_days`` before).

Records come in as :class:`Record` (values as imported, geometry as shapely); areas are summed in
integer hundredths of m² so 节余 adds up exactly. Thresholds are parameters in ``linkage.yaml``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from onemap.analysis.overlay import intersect_pieces
from onemap.domain import land_classes, sources
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.flow import flow_error


class LinkageConfig(BaseModel):
    """``linkage.yaml``: register names, thresholds, states and area fields."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    sha256: str = ""
    registers: dict[str, str]
    min_construction_share: float
    min_cultivated_share: float
    overlap_tolerance_m2: float
    warn_days: int
    accepted_old_states: list[str]
    void_states: list[str]
    closed_area_states: list[str]
    fields: dict[str, str]


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> LinkageConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return LinkageConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, None, ".".join(str(x) for x in err["loc"]) + "：" + err["msg"]) from exc


def load_config(path: str | Path | None = None) -> LinkageConfig:
    """Load ``linkage.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "linkage.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


@dataclass
class Record:
    """One record of a 增减挂钩 register as the rules need it."""

    no: str
    state: str
    county: str
    values: dict[str, Any]
    geometry: Any = None


def _cents(value: Any) -> int:
    return int(round(float(value or 0) * 100))


def oversold_trades(cfg: LinkageConfig, areas: list[Record], olds: list[Record], news: list[Record],
                    trades: list[Record], incoming: list[Record]) -> list[tuple[Record, str]]:
    """The trades of ``incoming`` that would sell more than their 项目区 has left, with the reason.

    What a 项目区 has left = max(节余, 0) − the area of the registered trades (``trades``, void
    ones left out), 节余 as :func:`area_balances`. ``incoming`` is taken in order: each accepted
    trade uses up what it sells. A trade naming a 项目区 that is not registered has nothing to
    sell. Void incoming trades are not checked.
    """
    got = area_balances(cfg, areas, olds, news, trades, date.today())
    left = {r["project_area"]: max(_cents(r["surplus_m2"]), 0) - _cents(r["sold_m2"]) for r in got["rows"]}
    f = cfg.fields
    out: list[tuple[Record, str]] = []
    for t in incoming:
        if t.state in cfg.void_states:
            continue
        no = str(t.values.get(f["area_ref"], ""))
        need = _cents(t.values.get(f["trade_area"]))
        if no not in left:
            out.append((t, f"项目区 {no} 不在增减挂钩项目区台账中，没有节余指标可交易"))
        elif need > left[no]:
            out.append((t, f"交易面积 {need / 100:,.2f} 平方米超过项目区 {no} 尚可交易的节余指标 "
                           f"{max(left[no], 0) / 100:,.2f} 平方米（节余 = 已验收拆旧 − 建新，再减去已登记的交易）；"
                           "交易不得超过节余指标"))
        else:
            left[no] -= need
    return out


def class_shares(plots: list[Any], patches: Any, codes: Any, code_set: frozenset[str]) -> np.ndarray:
    """Share of each plot's official area covered by patches whose code is in ``code_set``.

    Parameters
    ----------
    plots : list of shapely polygons
        The plots (EPSG:4490).
    patches, codes : array_like
        DLTB geometries (EPSG:4490) and their DLBM codes.
    code_set : frozenset of str
        The codes that count (e.g. the 建设用地 or 耕地 codes of the land-class table).

    Returns
    -------
    numpy.ndarray
        One share in [0, 1] per plot (0 for a plot without area).
    """
    plots_arr = np.asarray(plots, dtype=object)
    total = ellipsoidal_area(plots_arr) if len(plots_arr) else np.zeros(0)
    hit = np.asarray([str(c).strip() in code_set for c in np.asarray(codes, dtype=object)], dtype=bool)
    pieces = intersect_pieces(plots_arr, np.asarray(patches, dtype=object))
    covered = np.zeros(len(plots_arr))
    keep = hit[pieces.right] if len(pieces) else np.zeros(0, dtype=bool)
    np.add.at(covered, pieces.left[keep], pieces.area_m2[keep])
    return np.divide(covered, total, out=np.zeros(len(plots_arr)), where=total > 0).clip(0.0, 1.0)


def _finding(rule: str, title: str, register: str, rec: Record, message: str, **extra: Any) -> dict[str, Any]:
    return {"rule": rule, "rule_title": title, "register": register, "record": rec.no,
            "project_area": str(rec.values.get("XMQBH", "")), "county": rec.county,
            "level": extra.pop("level", "违规"), "message": message, **extra}


def check_old_plots(cfg: LinkageConfig, olds: list[Record], base_patches: Any, base_codes: Any,
                    later_patches: Any | None = None, later_codes: Any | None = None,
                    *, base_label: str = "基期", later_label: str = "后期") -> list[dict[str, Any]]:
    """拆旧 is 建设用地 in the base DLTB; an accepted 拆旧 is 耕地 (01xx) in the later DLTB.

    Plots without geometry are reported once (the spatial rules cannot be checked). The later
    check runs only when ``later_patches`` is given, and only on plots in an accepted state.
    """
    table = land_classes()
    reg = cfg.registers["old"]
    out: list[dict[str, Any]] = []
    spatial = [r for r in olds if r.geometry is not None and not r.geometry.is_empty]
    for r in olds:
        if r not in spatial:
            out.append(_finding("no_geometry", "缺少图形", reg, r, f"拆旧地块 {r.no} 没有图形，不能做空间检查"))
    if not spatial:
        return out
    shares = class_shares([r.geometry for r in spatial], base_patches, base_codes, table.code_set("construction"))
    for r, s in zip(spatial, shares, strict=True):
        if s < cfg.min_construction_share:
            out.append(_finding(
                "old_not_construction", "拆旧地块须为建设用地", reg, r,
                f"拆旧地块 {r.no} 在{base_label}地类图斑中建设用地仅占 {s:.1%}"
                f"（应不低于 {cfg.min_construction_share:.0%}）", share=round(float(s), 4)))
    if later_patches is None:
        return out
    accepted = [r for r in spatial if r.state in cfg.accepted_old_states]
    if accepted:
        shares = class_shares([r.geometry for r in accepted], later_patches, later_codes,
                              table.code_set("cultivated"))
        for r, s in zip(accepted, shares, strict=True):
            if s < cfg.min_cultivated_share:
                out.append(_finding(
                    "old_not_cultivated", "验收后须为耕地", reg, r,
                    f"已验收拆旧地块 {r.no} 在{later_label}地类图斑中耕地（01）仅占 {s:.1%}"
                    f"（应不低于 {cfg.min_cultivated_share:.0%}）", share=round(float(s), 4)))
    return out


def check_overlaps(cfg: LinkageConfig, news: list[Record], olds: list[Record],
                   protected: Any | None = None) -> list[dict[str, Any]]:
    """建新 ∩ YJJBNTTB = ∅ (when ``protected`` is given) and 拆旧 ∩ 建新 = ∅, beyond the tolerance."""
    out: list[dict[str, Any]] = []
    tol = cfg.overlap_tolerance_m2
    live_new = [r for r in news if r.geometry is not None and not r.geometry.is_empty
                and r.state not in cfg.void_states]
    live_old = [r for r in olds if r.geometry is not None and not r.geometry.is_empty
                and r.state not in cfg.void_states]
    if protected is not None and live_new:
        p = intersect_pieces(np.asarray([r.geometry for r in live_new], dtype=object),
                             np.asarray(protected, dtype=object))
        sums = np.zeros(len(live_new))
        np.add.at(sums, p.left, p.area_m2)
        for r, a in zip(live_new, sums, strict=True):
            if a > tol:
                out.append(_finding("new_in_farmland", "建新地块不得占用永久基本农田", cfg.registers["new"], r,
                                    f"建新地块 {r.no} 占用永久基本农田 {a:,.2f} 平方米", area_m2=round(float(a), 2)))
    if live_new and live_old:
        p = intersect_pieces(np.asarray([r.geometry for r in live_old], dtype=object),
                             np.asarray([r.geometry for r in live_new], dtype=object))
        for i, j, a in zip(p.left, p.right, p.area_m2, strict=True):
            if a > tol:
                o, n = live_old[i], live_new[j]
                out.append(_finding("old_new_overlap", "拆旧与建新地块不得重叠", cfg.registers["new"], n,
                                    f"建新地块 {n.no} 与拆旧地块 {o.no} 重叠 {a:,.2f} 平方米",
                                    other=o.no, area_m2=round(float(a), 2)))
    return out


def _as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def area_balances(cfg: LinkageConfig, areas: list[Record], olds: list[Record], news: list[Record],
                  trades: list[Record], today: date) -> dict[str, Any]:
    """Per 项目区: accepted 拆旧, 建新, 节余, sold, 周转指标 in use, and the findings.

    - 节余 = accepted 拆旧 area − 建新 area (cancelled plots left out);
    - trades (not cancelled) may not sell more than 节余 (a negative 节余 allows none);
    - 周转指标 in use = 建新 − accepted 拆旧 when positive; above ``ZZZB`` is 超用; while any is in
      use and the 项目区 is not closed, 归还期限 passed is 已逾期 and within ``warn_days`` 即将到期;
    - plots and trades naming an unknown 项目区 are reported.

    Returns
    -------
    dict
        ``rows`` (one per 项目区: ``project_area``, ``county``, ``state``, ``quota_m2``,
        ``old_accepted_m2``, ``old_pending_m2``, ``new_m2``, ``surplus_m2``, ``sold_m2``,
        ``available_m2``, ``quota_used_m2``, ``due``, ``deadline``) and ``findings``.
    """
    f = cfg.fields
    ref = f["area_ref"]
    reg = cfg.registers
    known = {a.no: a for a in areas}
    sums = {a.no: {"old_accepted": 0, "old_pending": 0, "new": 0, "sold": 0} for a in areas}
    findings: list[dict[str, Any]] = []
    for kind, records, field, register in (("old", olds, f["old_area"], reg["old"]),
                                           ("new", news, f["new_area"], reg["new"]),
                                           ("sold", trades, f["trade_area"], reg["trade"])):
        for r in records:
            if r.state in cfg.void_states:
                continue
            area_no = str(r.values.get(ref, ""))
            if area_no not in known:
                findings.append(_finding("unknown_area", "项目区不存在", register, r,
                                         f"{r.no} 所属项目区 {area_no} 不在增减挂钩项目区台账中"))
                continue
            key = kind if kind != "old" else ("old_accepted" if r.state in cfg.accepted_old_states
                                              else "old_pending")
            sums[area_no][key] += _cents(r.values.get(field))
    rows = []
    for a in areas:
        s = sums[a.no]
        surplus = s["old_accepted"] - s["new"]
        used = max(s["new"] - s["old_accepted"], 0)
        quota = _cents(a.values.get(f["quota"]))
        due = _as_date(a.values.get(f["due"]))
        deadline = "正常"
        if used and a.state not in cfg.closed_area_states and due is not None:
            days = (due - today).days
            deadline = "已逾期" if days < 0 else ("即将到期" if days <= cfg.warn_days else "正常")
        row = {"project_area": a.no, "county": a.county, "state": a.state, "quota_m2": quota / 100,
               "old_accepted_m2": s["old_accepted"] / 100, "old_pending_m2": s["old_pending"] / 100,
               "new_m2": s["new"] / 100, "surplus_m2": surplus / 100, "sold_m2": s["sold"] / 100,
               "available_m2": (surplus - s["sold"]) / 100, "quota_used_m2": used / 100,
               "due": due.isoformat() if due else None, "deadline": deadline}
        rows.append(row)
        if s["sold"] > max(surplus, 0):
            findings.append(_finding("oversold", "交易不得超过节余指标", reg["area"], a,
                                     f"项目区 {a.no} 已交易 {s['sold'] / 100:,.2f} 平方米，"
                                     f"超过节余 {max(surplus, 0) / 100:,.2f} 平方米",
                                     area_m2=(s["sold"] - max(surplus, 0)) / 100))
        if used > quota:
            findings.append(_finding("quota_exceeded", "周转指标超用", reg["area"], a,
                                     f"项目区 {a.no} 建新先于拆旧验收占用周转指标 {used / 100:,.2f} 平方米，"
                                     f"超过下达的 {quota / 100:,.2f} 平方米", area_m2=(used - quota) / 100))
        if deadline != "正常":
            level = "违规" if deadline == "已逾期" else "预警"
            findings.append(_finding("quota_due", "周转指标归还期限", reg["area"], a,
                                     f"项目区 {a.no} 尚有周转指标 {used / 100:,.2f} 平方米未归还，"
                                     f"归还期限 {row['due']}（{deadline}）", level=level,
                                     area_m2=used / 100))
    return {"rows": rows, "findings": findings}
