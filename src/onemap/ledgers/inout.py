"""耕地进出平衡 per county and year (自然资发〔2021〕166号) as a view over change detection.

流出 = 耕地 → other 农用地, 流入 = other 农用地 → 耕地, both net of 田坎 with the KCXS of the version
where the piece is 耕地, summed in integer hundredths of m². The county's annual plan (planned 流出
and 流入, read from a table with Chinese headers configured in ``inout.yaml``) is compared: a
shortfall is 流出 above 流入, 超计划 is 流出 above the planned 流出, 未完成 is 流入 below the planned 流入.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from onemap.domain import sources
from onemap.errors import InputError, Problem
from onemap.ledgers.balance import _net
from onemap.ledgers.flow import flow_error


class InOutConfig(BaseModel):
    """``inout.yaml``: the plan file's headers."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    sha256: str = ""
    plan_headers: dict[str, list[str]]


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> InOutConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return InOutConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, None, ".".join(str(x) for x in err["loc"]) + "：" + err["msg"]) from exc


def load_config(path: str | Path | None = None) -> InOutConfig:
    """Load ``inout.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "inout.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


_TITLES = {"county": "行政区代码", "plan_out": "计划流出面积", "plan_in": "计划流入面积"}


def _fold(text: Any) -> str:
    return re.sub(r"\s+", "", str(text)).casefold()


def parse_plan(cfg: InOutConfig, columns: list[str], rows: list[dict[str, Any]], labels: list[str],
               file_name: str) -> dict[str, dict[str, int]]:
    """Per county the planned 流出 and 流入 in cents of m².

    Raises
    ------
    onemap.errors.InputError
        A column is missing, or a row has no county, a repeated county or an area that is not a
        number ≥ 0 (file, row and field named).
    """
    found: dict[str, str] = {}
    for col in columns:
        for role, heads in cfg.plan_headers.items():
            if _fold(col) in {_fold(h) for h in heads}:
                found.setdefault(role, col)
    missing = [_TITLES[r] for r in ("county", "plan_out", "plan_in") if r not in found]
    if missing:
        raise InputError(f"{file_name} 缺少列：" + "、".join(missing) + "（进出平衡年度计划须有行政区代码、"
                         "计划流出面积、计划流入面积）",
                         [Problem("missing_column", m, file=file_name) for m in missing])
    out: dict[str, dict[str, int]] = {}
    problems: list[Problem] = []
    for row, label in zip(rows, labels, strict=True):
        county = str(row.get(found["county"]) or "").strip()
        if county.endswith(".0"):
            county = county[:-2]
        if not re.fullmatch(r"\d{6}", county):
            problems.append(Problem("bad_county", f"{label}：行政区代码「{county}」应为 6 位数字",
                                    file=file_name, row=label, field="行政区代码"))
            continue
        if county in out:
            problems.append(Problem("duplicate", f"{label}：行政区 {county} 重复", file=file_name, row=label,
                                    field="行政区代码"))
            continue
        got = {}
        for role in ("plan_out", "plan_in"):
            cell = row.get(found[role])
            try:
                value = float(cell)
            except (TypeError, ValueError):
                value = -1.0
            if not value >= 0:
                problems.append(Problem("bad_number", f"{label}：{_TITLES[role]}「{cell}」应为不小于 0 的数（平方米）",
                                        file=file_name, row=label, field=_TITLES[role]))
                continue
            got[role] = int(round(value * 100))
        out[county] = got
    if problems:
        raise InputError(f"{file_name} 不能作为进出平衡年度计划（{len(problems)} 处）："
                         + "；".join(p.message for p in problems[:20]), problems)
    return out


def in_out(pieces: list[dict[str, Any]], plan: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    """流出 and 流入 per unit, the shortfall and the plan comparison.

    Parameters
    ----------
    pieces : list of dict
        Change pieces: ``unit``, ``area_m2``, ``before_cultivated``, ``after_cultivated``,
        ``before_other_agri``, ``after_other_agri`` (农用地 but not 耕地), ``kcxs_before``,
        ``kcxs_after``.
    plan : dict, optional
        Per unit ``plan_out`` and ``plan_in`` in cents (:func:`parse_plan`); units of the plan
        without any change are listed too.

    Returns
    -------
    dict
        ``units`` (``unit``, ``outflow_m2``, ``inflow_m2``, ``net_m2`` = 流入 − 流出,
        ``shortfall_m2``, ``plan_out_m2``, ``plan_in_m2``, ``over_plan_m2``, ``plan_gap_m2``,
        ``status`` 平衡/缺口) and ``findings`` (``unit``, ``rule``, ``message``, ``area_m2``).
    """
    plan = plan or {}
    sums: dict[str, list[int]] = {u: [0, 0] for u in plan}
    for p in pieces:
        if p["before_cultivated"] and not p["after_cultivated"] and p["after_other_agri"]:
            sums.setdefault(p["unit"], [0, 0])[0] += _net(p["area_m2"], p["kcxs_before"])
        elif p["after_cultivated"] and not p["before_cultivated"] and p["before_other_agri"]:
            sums.setdefault(p["unit"], [0, 0])[1] += _net(p["area_m2"], p["kcxs_after"])
    units, findings = [], []
    for unit in sorted(sums):
        out_c, in_c = sums[unit]
        short = max(out_c - in_c, 0)
        pl = plan.get(unit)
        over = max(out_c - pl["plan_out"], 0) if pl else 0
        gap = max(pl["plan_in"] - in_c, 0) if pl else 0
        units.append({"unit": unit, "outflow_m2": out_c / 100, "inflow_m2": in_c / 100,
                      "net_m2": (in_c - out_c) / 100, "shortfall_m2": short / 100,
                      "plan_out_m2": pl["plan_out"] / 100 if pl else None,
                      "plan_in_m2": pl["plan_in"] / 100 if pl else None,
                      "over_plan_m2": over / 100, "plan_gap_m2": gap / 100,
                      "status": "缺口" if short else "平衡"})
        if short:
            findings.append({"unit": unit, "rule": "shortfall", "area_m2": short / 100,
                             "message": f"{unit} 耕地流出 {out_c / 100:,.2f} 平方米，流入 {in_c / 100:,.2f} 平方米，"
                                        f"缺口 {short / 100:,.2f} 平方米"})
        if over:
            findings.append({"unit": unit, "rule": "over_plan", "area_m2": over / 100,
                             "message": f"{unit} 耕地流出超出年度计划 {over / 100:,.2f} 平方米"})
        if gap:
            findings.append({"unit": unit, "rule": "plan_not_met", "area_m2": gap / 100,
                             "message": f"{unit} 耕地流入未完成年度计划，差 {gap / 100:,.2f} 平方米"})
    return {"units": units, "findings": findings}
