"""Checks of accepted 生态修复项目 against land-use versions (pure).

``restoration_checks.yaml`` says, per project type, what the land must have become:
``share`` checks (国土绿化 → at least ``min_share`` of the project in 林地/草地) and
``new_cultivated`` checks (全域土地综合整治 → the 耕地 inside, minus the 耕地 inside
in the base version, at least ``min_ratio`` × the declared 新增耕地面积). Project
polygons are cut by the DLTB patches with :func:`onemap.analysis.overlay.intersect_pieces`
(official ellipsoidal areas); 耕地 counts its 地类面积 (piece × (1 − KCXS)).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onemap.analysis.overlay import intersect_pieces
from onemap.domain import sources
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.flow import flow_error


class CheckSpec(BaseModel):
    """One check of a project type."""

    model_config = ConfigDict(extra="forbid")
    type: str
    kind: Literal["share", "new_cultivated"]
    classes: list[str] = Field(min_length=1)
    title: str
    min_share: float = Field(0.9, ge=0, le=1)
    min_ratio: float = Field(0.95, ge=0)


class RestorationChecks(BaseModel):
    """``restoration_checks.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    states: list[str] = Field(min_length=1)
    checks: list[CheckSpec]
    sha256: str = ""


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> RestorationChecks:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return RestorationChecks.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from exc


def load_restoration_checks(path: str | Path | None = None) -> RestorationChecks:
    """Load ``restoration_checks.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "restoration_checks.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


@dataclass
class Project:
    """One project as the check sees it: number, type, declared 新增耕地 (m²), geometry."""

    no: str
    type: str
    new_cultivated_m2: float | None
    geometry: Any


def _in(code: str, classes: Sequence[str]) -> bool:
    return any(code == c or (len(c) == 2 and code.startswith(c)) for c in classes)


def class_areas(geoms: Sequence[Any], dltb: pd.DataFrame | None, classes: Sequence[str]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Area (m²) of each project in ``classes``, and the same as 地类面积 (× (1 − KCXS)).

    Parameters
    ----------
    geoms : sequence of shapely polygons
        Project outlines (EPSG:4490).
    dltb : GeoDataFrame or None
        The land-use version (``DLBM``, ``KCXS`` when present); None gives zeros.
    classes : sequence of str
        Class codes or 一级类 prefixes (two digits).
    """
    n = len(geoms)
    if dltb is None or not n or not len(dltb):
        return np.zeros(n), np.zeros(n)
    dlbm = dltb["DLBM"].astype(object).where(dltb["DLBM"].notna(), "").astype(str).str.strip()
    keep = dlbm.map(lambda c: _in(c, classes)).to_numpy(dtype=bool)
    if not keep.any():
        return np.zeros(n), np.zeros(n)
    sub = dltb[keep]
    kcxs = (pd.to_numeric(sub["KCXS"], errors="coerce").fillna(0.0).to_numpy("float64")
            if "KCXS" in sub.columns else np.zeros(len(sub)))
    pieces = intersect_pieces(np.asarray(list(geoms), dtype=object), sub.geometry.values)
    gross = np.bincount(pieces.left, weights=pieces.area_m2, minlength=n)
    net = np.bincount(pieces.left, weights=pieces.area_m2 * (1.0 - kcxs[pieces.right]), minlength=n)
    return gross, net


def check_projects(projects: Sequence[Project], dltb: pd.DataFrame, cfg: RestorationChecks, *,
                   base: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """Check every project whose type has a check.

    Parameters
    ----------
    projects : sequence of Project
        The accepted projects.
    dltb : GeoDataFrame
        The land-use version after acceptance.
    cfg : RestorationChecks
        The checks.
    base : GeoDataFrame, optional
        The land-use version before the project (for ``new_cultivated``: its 耕地 inside is
        subtracted).

    Returns
    -------
    list of dict
        One per project checked: ``project``, ``type``, ``check`` (title), ``area_m2`` (project),
        ``target_m2`` (in the target classes; for ``new_cultivated`` the 耕地 地类面积, after
        minus base), ``share`` (``share`` checks), ``declared_m2`` and ``ratio``
        (``new_cultivated``), ``required`` (the threshold), ``passed`` and ``reason`` (Chinese).
        Projects whose type has no check are not listed.
    """
    out: list[dict[str, Any]] = []
    for spec in cfg.checks:
        sel = [p for p in projects if p.type == spec.type]
        if not sel:
            continue
        geoms = [p.geometry for p in sel]
        area = ellipsoidal_area(geoms)
        gross, net = class_areas(geoms, dltb, spec.classes)
        names = "、".join(spec.classes)
        if spec.kind == "share":
            for p, a, g in zip(sel, area, gross, strict=True):
                share = float(min(g / a, 1.0)) if a > 0 else 0.0
                passed = share >= spec.min_share
                out.append({"project": p.no, "type": p.type, "check": spec.title,
                            "area_m2": round(float(a), 2), "target_m2": round(float(g), 2),
                            "share": round(share, 4), "required": spec.min_share, "passed": passed,
                            "reason": (f"地类 {names} 占项目面积 {share:.2%}，"
                                       f"{'达到' if passed else '低于'}要求的 {spec.min_share:.0%}")})
        else:
            before = class_areas(geoms, base, spec.classes)[1] if base is not None else np.zeros(len(sel))
            for p, a, after, b in zip(sel, area, net, before, strict=True):
                gain = float(after - b)
                declared = p.new_cultivated_m2
                if not declared:
                    out.append({"project": p.no, "type": p.type, "check": spec.title,
                                "area_m2": round(float(a), 2), "target_m2": round(gain, 2),
                                "declared_m2": declared, "ratio": None, "required": spec.min_ratio,
                                "passed": None, "reason": "项目未申报新增耕地面积，未检查"})
                    continue
                ratio = gain / declared
                passed = ratio >= spec.min_ratio
                what = "新增耕地（扣除基期耕地）" if base is not None else "项目内耕地"
                out.append({"project": p.no, "type": p.type, "check": spec.title,
                            "area_m2": round(float(a), 2), "target_m2": round(gain, 2),
                            "declared_m2": declared, "ratio": round(ratio, 4),
                            "required": spec.min_ratio, "passed": passed,
                            "reason": (f"{what} {gain:,.2f} 平方米，为申报新增耕地 {declared:,.2f} 平方米的 "
                                       f"{ratio:.2%}，{'达到' if passed else '低于'}要求的 "
                                       f"{spec.min_ratio:.0%}")})
    return out
