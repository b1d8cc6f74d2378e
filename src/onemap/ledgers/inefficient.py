"""低效用地 criteria (pure): whether a parcel's measures fall below the floors of its 用途.

The floors are ``inefficient_criteria.yaml`` (local parameters, see its header);
:mod:`onemap.ledgers.computed` fills the register's 低效判定 and 低效依据 from them.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from onemap.domain import sources
from onemap.ledgers.flow import flow_error


class Measure(BaseModel):
    """A measure a floor applies to."""

    model_config = ConfigDict(extra="forbid")
    title: str
    unit: str = ""


class InefficiencyCriteria(BaseModel):
    """``inefficient_criteria.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    measures: dict[str, Measure]
    floors: dict[str, dict[str, float | None]]
    sha256: str = ""


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> InefficiencyCriteria:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        cfg = InefficiencyCriteria.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from exc
    for use, floors in cfg.floors.items():
        bad = [f for f in floors if f not in cfg.measures]
        if bad:
            raise flow_error(path, f"floors.{use}", f"{'、'.join(bad)} 不在 measures 中")
    return cfg


def load_criteria(path: str | Path | None = None) -> InefficiencyCriteria:
    """Load ``inefficient_criteria.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "inefficient_criteria.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


def _number(v: Any) -> float | None:
    try:
        x = float(str(v).strip().replace(",", ""))
    except ValueError:
        return None
    return None if x != x else x


def judge(values: dict[str, Any], cfg: InefficiencyCriteria) -> tuple[str, str]:
    """(低效判定, 低效依据) of one parcel: 低效 when a measure is below its floor.

    Returns ``("低效", "容积率 0.45 < 0.6；…")``, ``("未低于标准", …)`` or, when the
    用途 has no floors or no floored measure is filled, ``("无法判定", why)``.
    """
    use = str(values.get("YT", "")).strip()
    floors = {k: v for k, v in cfg.floors.get(use, {}).items() if v is not None}
    if not floors:
        return "无法判定", f"用途「{use}」没有低效标准"
    below, ok, blank = [], [], []
    for name, floor in floors.items():
        m = cfg.measures[name]
        x = _number(values.get(name))
        label = f"{m.title}{'（' + m.unit + '）' if m.unit else ''}"
        if x is None:
            blank.append(m.title)
        elif x < floor:
            below.append(f"{label} {x:g} < {floor:g}")
        else:
            ok.append(f"{label} {x:g} ≥ {floor:g}")
    note = f"；未填：{'、'.join(blank)}" if blank else ""
    if below:
        return "低效", "；".join(below) + note
    if ok:
        return "未低于标准", "；".join(ok) + note
    return "无法判定", f"未填：{'、'.join(blank)}"
