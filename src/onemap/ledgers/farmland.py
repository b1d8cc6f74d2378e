"""占补平衡 accounts on three measures (pure).

Each 补充耕地项目 that reaches 入库 supplies, on each measure, its recorded area
(数量: 新增耕地, 水田: 新增水田, 产能: 新增耕地 × the 等别 coefficient); each
耕地占用 demands the same three quantities. :func:`allocate` 挂钩 an occupation to
projects in the order given, drawing on each project's remaining amount, and
refuses — naming the measure and the amounts — when the projects together
cannot cover any of the three, or when a project is not 入库 (先补后占) and the
occupation carries no exception flag that allows it. Amounts are integer
hundredths (of m² or of m² 标准耕地) so balances add up exactly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from onemap.domain import sources
from onemap.errors import InputError, Problem
from onemap.ledgers.flow import flow_error

#: The journal's entry kinds.
KINDS = ("入库", "核销", "调剂", "撤销")


class CoverRefused(InputError):
    """An occupation that the projects cannot cover."""

    exit_code = 6


class MeasureSpec(BaseModel):
    """Where a measure's supply and demand come from."""

    model_config = ConfigDict(extra="forbid")
    unit: str
    supply: str
    demand: str
    grade_supply: str | None = None
    grade_demand: str | None = None


class AccountsConfig(BaseModel):
    """``farmland_accounts.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    supply_register: str
    demand_register: str
    stored_state: str
    closed_states: list[str]
    measures: dict[str, MeasureSpec]
    area_measure: str
    grade_coefficients: dict[int, float]
    exception_field: str
    exceptions: dict[str, Literal["unstored", "exempt"]]
    sha256: str = ""

    @model_validator(mode="after")
    def _known_area_measure(self) -> AccountsConfig:
        if self.area_measure not in self.measures:
            raise ValueError(f"area_measure {self.area_measure} 不在 measures 中")
        return self

    def coefficient(self, grade: Any, where: str, field: str = "") -> float:
        """The coefficient of a 等别; refuses a missing grade or one the table lacks."""
        if grade is None or str(grade).strip() == "":
            raise InputError(f"{where} 未填写等别 {field}，不能计算产能（可在流转时用 -f {field}=等别 补填）",
                             [Problem("missing_grade", "未填写等别", row=where, field=field)])
        try:
            return self.grade_coefficients[int(grade)]
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where} 的等别「{grade}」不在等别系数表中（farmland_accounts.yaml）",
                             [Problem("bad_grade", str(grade), row=where)]) from exc


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> AccountsConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return AccountsConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        raise flow_error(path, None, str(exc.errors()[0]["loc"]) + "：" + exc.errors()[0]["msg"]) from exc


def load_accounts(path: str | Path | None = None) -> AccountsConfig:
    """Load ``farmland_accounts.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "farmland_accounts.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


def cents(x: float) -> int:
    """Hundredths of a unit, rounded half away from zero."""
    return int(round(float(x) * 100))


def amounts(cfg: AccountsConfig, values: dict[str, Any], side: Literal["supply", "demand"],
            where: str) -> dict[str, int]:
    """The three measures of a project (``supply``) or an occupation (``demand``), in cents."""
    out = {}
    for name, m in cfg.measures.items():
        area = float(values.get(getattr(m, side)) or 0)
        grade_field = m.grade_supply if side == "supply" else m.grade_demand
        factor = cfg.coefficient(values.get(grade_field), where, grade_field) if grade_field else 1.0
        out[name] = cents(area * factor)
    return out


@dataclass
class Source:
    """A project offered to cover an occupation."""

    project_no: str
    county: str
    state: str
    state_title: str
    available: dict[str, int]


@dataclass
class Draw:
    """What one project gives to an occupation on one measure."""

    project_no: str
    county: str
    measure: str
    amount: int


def allocate(cfg: AccountsConfig, occupation_no: str, demand: dict[str, int], exception: str,
             projects: list[Source]) -> list[Draw]:
    """Cover ``demand`` from ``projects`` in order, or refuse.

    Parameters
    ----------
    cfg : AccountsConfig
        The accounts' configuration.
    occupation_no : str
        The occupation, for messages.
    demand : dict
        Measure → cents demanded.
    exception : str
        The occupation's exception flag (``无`` when none).
    projects : list of Source
        The projects, each with what it still has on each measure.

    Returns
    -------
    list of Draw
        Non-zero draws; an exempt occupation needs none and gets an empty list.

    Raises
    ------
    CoverRefused
        A project not 入库 without an allowing flag (先补后占); a measure the
        projects cannot cover (the message names it with demand and supply).
    """
    effect = cfg.exceptions.get(exception)
    if effect == "exempt":
        return []
    problems = []
    for p in projects:
        if p.state != cfg.stored_state and effect != "unstored":
            problems.append(Problem("not_stored", f"补充耕地项目 {p.project_no} 状态为「{p.state_title}」，"
                                    "尚未入库，不能挂钩（先补后占）", row=p.project_no))
    if problems:
        allowed = "、".join(k for k, v in cfg.exceptions.items() if v == "unstored")
        raise CoverRefused("；".join(x.message for x in problems)
                           + f"。占用 {occupation_no} 无允许的例外情形（{allowed}）", problems)
    for measure, need in demand.items():
        have = sum(max(p.available.get(measure, 0), 0) for p in projects)
        if have < need:
            unit = cfg.measures[measure].unit
            problems.append(Problem(
                "insufficient", f"{measure}指标不足：占用 {occupation_no} 需 {need / 100:,.2f} {unit}，"
                f"所选项目余额合计 {have / 100:,.2f} {unit}，缺 {(need - have) / 100:,.2f} {unit}",
                row=occupation_no, field=measure))
    if problems:
        raise CoverRefused("不能挂钩，余额将为负：" + "；".join(x.message for x in problems), problems)
    draws: list[Draw] = []
    for measure, need in demand.items():
        left = need
        for p in projects:
            take = min(left, max(p.available.get(measure, 0), 0))
            if take > 0:
                draws.append(Draw(p.project_no, p.county, measure, take))
                left -= take
    return draws
