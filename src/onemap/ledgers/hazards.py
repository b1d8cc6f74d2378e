"""地质灾害隐患点 (pure): the 险情等级 of a point and the yearly report's counts.

- :func:`threat_grade`: the grade of 威胁人数 and 威胁财产 (万元) by the thresholds of
  ``hazards.yaml`` (the higher of the two grades);
- :func:`assessment_grade`: the 危险性评估 grade a project needs (GB/T 40112-2021);
- :func:`summarize`: points 在册 by county, type and 险情等级, inspections due
  and overdue, points 销号 in a year, from the records the use case lists.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from onemap.domain import sources
from onemap.errors import InputError, Problem
from onemap.ledgers.flow import flow_error


class Grade(BaseModel):
    """One 险情 grade and its lower bounds."""

    model_config = ConfigDict(extra="forbid")
    grade: str
    level: str
    min_people: float
    min_property_wan: float


class Assessment(BaseModel):
    """The 危险性评估 grade table: importance → one grade per complexity."""

    model_config = ConfigDict(extra="forbid")
    complexities: list[str]
    grades: dict[str, list[str]]
    default_complexity: str = "复杂"

    @model_validator(mode="after")
    def _square(self) -> Assessment:
        if self.default_complexity not in self.complexities:
            raise ValueError(f"default_complexity「{self.default_complexity}」不在 complexities 中")
        for importance, row in self.grades.items():
            if len(row) != len(self.complexities):
                raise ValueError(f"{importance} 应有 {len(self.complexities)} 个等级（{'、'.join(self.complexities)}）")
        return self


class HazardsConfig(BaseModel):
    """``hazards.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    points_register: str
    lower_bound_inclusive: bool = True
    grades: list[Grade]
    assessment: Assessment
    sha256: str = ""


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> HazardsConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        cfg = HazardsConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from exc
    bounds = [(g.min_people, g.min_property_wan) for g in cfg.grades]
    if not bounds or bounds != sorted(bounds, reverse=True) or bounds[-1] != (0, 0):
        raise flow_error(path, "grades", "等级应从高到低排列，下限递减，最后一级下限为 0")
    return cfg


def load_hazards(path: str | Path | None = None) -> HazardsConfig:
    """Load ``hazards.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "hazards.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


def threat_grade(people: float, property_wan: float, cfg: HazardsConfig | None = None) -> str:
    """险情等级 of a point: the highest grade whose people or property bound is reached.

    Parameters
    ----------
    people : float
        威胁人数 (people needing relocation).
    property_wan : float
        威胁财产, potential loss in 万元.
    cfg : HazardsConfig, optional
        Thresholds (default: ``hazards.yaml``).
    """
    cfg = cfg or load_hazards()
    for g in cfg.grades:
        if cfg.lower_bound_inclusive:
            hit = people >= g.min_people or property_wan >= g.min_property_wan
        else:
            hit = people > g.min_people or property_wan > g.min_property_wan
        if hit:
            return g.grade
    return cfg.grades[-1].grade


def assessment_grade(complexity: str, importance: str, cfg: HazardsConfig | None = None) -> str:
    """The 地质灾害危险性评估 grade (一级/二级/三级) a project needs (GB/T 40112-2021 table).

    Parameters
    ----------
    complexity : str
        地质环境条件复杂程度: 复杂, 中等 or 简单.
    importance : str
        建设项目重要性: 重要建设项目, 较重要建设项目 or 一般建设项目 (``重要``, ``较重要``,
        ``一般`` also accepted).
    cfg : HazardsConfig, optional
        The table (default: ``hazards.yaml``).

    Raises
    ------
    onemap.errors.InputError
        A value outside the table (the message lists the allowed ones).
    """
    table = (cfg or load_hazards()).assessment
    rows = {**{k.removesuffix("建设项目"): k for k in table.grades}, **{k: k for k in table.grades}}
    problems = []
    if importance not in rows:
        problems.append(Problem("bad_choice", f"建设项目重要性「{importance}」不在（{'、'.join(table.grades)}）中",
                                field="importance"))
    if complexity not in table.complexities:
        problems.append(Problem("bad_choice", f"地质环境条件复杂程度「{complexity}」不在"
                                f"（{'、'.join(table.complexities)}）中", field="complexity"))
    if problems:
        raise InputError("不能确定地质灾害危险性评估级别：" + "；".join(p.message for p in problems), problems)
    return table.grades[rows[importance]][table.complexities.index(complexity)]


def assess_project(importance: str, complexity: str | None = None,
                   cfg: HazardsConfig | None = None) -> dict[str, Any]:
    """The 危险性评估 a project needs, for the site check's ``--importance``.

    Parameters
    ----------
    importance : str
        建设项目重要性 (full or short name, as :func:`assessment_grade`).
    complexity : str, optional
        地质环境条件复杂程度; when not given, the table's ``default_complexity`` (复杂 as
        shipped: the strictest, until the assessment unit determines it).
    cfg : HazardsConfig, optional
        The table (default: ``hazards.yaml``).

    Returns
    -------
    dict
        ``importance`` (full name), ``complexity``, ``complexity_given``, ``grade``
        (一级/二级/三级), ``standard``.

    Raises
    ------
    onemap.errors.InputError
        A value outside the table.
    """
    cfg = cfg or load_hazards()
    comp = complexity if complexity is not None else cfg.assessment.default_complexity
    grade = assessment_grade(comp, importance, cfg)
    full = importance if importance in cfg.assessment.grades else importance + "建设项目"
    return {"importance": full, "complexity": comp, "complexity_given": complexity is not None,
            "grade": grade, "standard": "GB/T 40112-2021"}


def summarize(records: list[dict[str, Any]], year: int, *, active: str, closed: str) -> dict[str, Any]:
    """Counts of the yearly 地质灾害隐患点 report.

    Parameters
    ----------
    records : list of dict
        Records as :func:`onemap.app.ledgers.list_records` gives them (``state``,
        ``county``, ``values``, ``deadline``, ``due_at``, ``record_no``).
    year : int
        The year of the 销号 count.
    active, closed : str
        The flow's state of a point 在册 and 已销号.

    Returns
    -------
    dict
        ``active`` (count), ``rows`` (``county``, ``type``, ``grade``, ``count``),
        ``by_county``, ``by_type``, ``by_grade`` (name → count), ``due``, ``overdue``
        (points whose inspection is 即将到期 / 已逾期: ``no``, ``name``, ``county``,
        ``due_at``), ``closed_in_year`` (``no``, ``name``, ``county``, ``date``,
        ``reason``), ``closed_count``.
    """
    live = [r for r in records if r["state"] == active]
    key = Counter((r["county"], r["values"].get("ZHLX", ""), r["values"].get("XQDJ", "")) for r in live)
    rows = [{"county": c, "type": t, "grade": g, "count": n} for (c, t, g), n in sorted(key.items())]

    def brief(r: dict[str, Any]) -> dict[str, Any]:
        return {"no": r["record_no"], "name": r["values"].get("MC", ""), "county": r["county"],
                "due_at": r["due_at"]}

    closed_rows = [{"no": r["record_no"], "name": r["values"].get("MC", ""), "county": r["county"],
                    "date": r["values"].get("XHRQ"), "reason": r["values"].get("XHYY")}
                   for r in records if r["state"] == closed
                   and str(r["values"].get("XHRQ") or "").startswith(f"{year:04d}-")]
    return {
        "active": len(live), "rows": rows,
        "by_county": dict(sorted(Counter(r["county"] for r in live).items())),
        "by_type": dict(sorted(Counter(r["values"].get("ZHLX", "") for r in live).items())),
        "by_grade": dict(sorted(Counter(r["values"].get("XQDJ", "") for r in live).items())),
        "due": [brief(r) for r in live if r["deadline"] == "即将到期"],
        "overdue": [brief(r) for r in live if r["deadline"] == "已逾期"],
        "closed_in_year": sorted(closed_rows, key=lambda x: (x["date"], x["no"])),
        "closed_count": len(closed_rows),
    }
