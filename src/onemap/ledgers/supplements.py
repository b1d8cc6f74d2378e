"""Checks of the supplemented 耕地 of the 补充耕地项目 register (pure).

For each project in an accepted state with a geometry (``supplements.yaml``):

- in every later DLTB version it must still be 耕地 (01xx) on at least ``min_cultivated_share``
  of its area, else it is flagged 耕地已流失 with the version and the share;
- it must lie outside the 生态保护红线 and outside 河湖 (the ``water_codes`` of the DLTB version
  given as base, and the ``water_layer`` when named): the overlap area is reported;
- its 耕地 in the latest version must not be steeper than ``max_slope_level`` (GDPDJB).

The use case (:mod:`onemap.app.ledgers`) reads the records and the layers; areas are
ellipsoidal (:func:`onemap.analysis.overlay.intersect_pieces`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onemap.analysis.overlay import intersect_pieces
from onemap.domain import land_classes, sources
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.flow import flow_error
from onemap.ledgers.linkage import class_shares

__all__ = ["LandVersion", "SupplementsConfig", "check_supplements", "load_supplements"]


class SupplementsConfig(BaseModel):
    """``supplements.yaml``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    version: str = ""
    register_name: str = Field(alias="register")
    states: list[str] = Field(min_length=1)
    min_cultivated_share: float = Field(ge=0, le=1)
    water_codes: list[str] = Field(default_factory=list)
    water_layer: str | None = None
    protected_layer: str | None = None
    tolerance_m2: float = Field(default=1.0, ge=0)
    max_slope_level: int = Field(ge=1, le=5)
    sha256: str = ""


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> SupplementsConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return SupplementsConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from exc


def load_supplements(path: str | Path | None = None) -> SupplementsConfig:
    """Load ``supplements.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "supplements.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


@dataclass
class LandVersion:
    """One DLTB version as the check needs it (patches clipped to the projects' bounds)."""

    label: str
    geometry: Sequence[Any]
    dlbm: Sequence[str]
    gdpdjb: Sequence[str] | None = None


def _overlap(plots: np.ndarray, polys: Sequence[Any]) -> np.ndarray:
    """Area of each plot inside the union of ``polys`` (overlapping polygons counted once)."""
    out = np.zeros(len(plots))
    pieces = intersect_pieces(plots, np.asarray(polys, dtype=object))
    for i in np.unique(pieces.left):
        m = pieces.left == i
        out[i] = (float(pieces.area_m2[m][0]) if m.sum() == 1
                  else float(ellipsoidal_area([shapely.union_all(pieces.geometry[m])])[0]))
    return out


def check_supplements(cfg: SupplementsConfig, projects: list[tuple[str, str, Any]],
                      later: list[LandVersion], *, base: LandVersion | None = None,
                      protected: Sequence[Any] | None = None,
                      water: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """Every finding on the supplemented 耕地.

    Parameters
    ----------
    cfg : SupplementsConfig
        Thresholds and codes.
    projects : list of (number, county, geometry)
        The projects to check (accepted, with a geometry).
    later : list of LandVersion
        The DLTB versions after acceptance, oldest first (the last one gives the slope).
    base : LandVersion, optional
        The version whose 河湖 classes the new 耕地 must not lie on.
    protected, water : sequences of polygons, optional
        生态保护红线 and a 河湖 layer (None: not in the workspace, not checked).

    Returns
    -------
    list of dict
        ``rule`` (lost, in_redline, in_water, too_steep), ``rule_title``, ``record``, ``county``,
        ``message`` and the figures (``share`` and ``version``, or ``area_m2``).
    """
    out: list[dict[str, Any]] = []
    if not projects:
        return out
    plots = np.asarray([g for _, _, g in projects], dtype=object)
    total = ellipsoidal_area(plots)
    cultivated = land_classes().code_set("cultivated")

    def add(rule: str, title: str, k: int, message: str, **figures: Any) -> None:
        out.append({"rule": rule, "rule_title": title, "record": projects[k][0], "county": projects[k][1],
                    "message": message, **figures})

    for v in later:
        shares = class_shares(list(plots), v.geometry, v.dlbm, cultivated)
        for k, s in enumerate(shares):
            if s < cfg.min_cultivated_share:
                add("lost", "补充耕地已流失", k,
                    f"补充耕地项目 {projects[k][0]} 在 DLTB {v.label} 中耕地（01）仅占 {s:.1%}（应不低于 "
                    f"{cfg.min_cultivated_share:.0%}），补充的耕地已流失", share=round(float(s), 4),
                    version=v.label)
    checks: list[tuple[str, str, str, np.ndarray]] = []
    if protected is not None:
        checks.append(("in_redline", "补充耕地不得位于生态保护红线内", "生态保护红线", _overlap(plots, protected)))
    if base is not None and cfg.water_codes:
        codes = np.asarray([str(c).strip() for c in base.dlbm], dtype=object)
        keep = np.isin(codes, cfg.water_codes)
        checks.append(("in_water", "补充耕地不得位于河湖范围内", f"DLTB {base.label} 河湖水面和内陆滩涂",
                       _overlap(plots, np.asarray(base.geometry, dtype=object)[keep])))
    if water is not None:
        checks.append(("in_water", "补充耕地不得位于河湖范围内", "河湖管理范围", _overlap(plots, water)))
    for rule, title, where, area in checks:
        for k, a in enumerate(area):
            if a >= max(cfg.tolerance_m2, 1e-9):
                add(rule, title, k, f"补充耕地项目 {projects[k][0]} 有 {a:,.2f} 平方米位于{where}内"
                    f"（占项目面积 {a / total[k]:.1%}）", area_m2=round(float(a), 2))
    if later and later[-1].gdpdjb is not None:
        v = later[-1]
        codes = np.asarray([str(c).strip() for c in v.dlbm], dtype=object)
        levels = np.asarray([int(x) if str(x).strip().isdigit() else 0 for x in v.gdpdjb])
        steep = np.isin(codes, list(cultivated)) & (levels > cfg.max_slope_level)
        area = _overlap(plots, np.asarray(v.geometry, dtype=object)[steep])
        for k, a in enumerate(area):
            if a >= max(cfg.tolerance_m2, 1e-9):
                add("too_steep", "新增耕地坡度超限", k,
                    f"补充耕地项目 {projects[k][0]} 在 DLTB {v.label} 中有 {a:,.2f} 平方米耕地坡度级别高于 "
                    f"{cfg.max_slope_level} 级", area_m2=round(float(a), 2), version=v.label)
    return out
