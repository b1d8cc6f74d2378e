"""The resources inside 自然资源登记单元 and the layers they touch (pure).

Each unit is cut by the land-use patches (:func:`onemap.analysis.overlay.intersect_pieces`,
official ellipsoidal areas); every piece counts under the patch's 一级类 and its
ownership (国有 / 集体 / 争议 by ``registration.yaml``). The layers of the file give the
area of each unit inside them and the ids met.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onemap.analysis.overlay import intersect_pieces
from onemap.domain import land_classes, sources
from onemap.errors import InputError, Problem
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.flow import flow_error


class UnitLayer(BaseModel):
    """A layer a unit is checked against (a dataset, or a register's records)."""

    model_config = ConfigDict(extra="forbid")
    dataset: str
    title: str
    from_register: bool = False


class RegistrationConfig(BaseModel):
    """``registration.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    units_register: str
    ownership_field: str = "QSXZ"
    ownership: dict[str, list[str]] = Field(min_length=1)
    layers: list[UnitLayer] = Field(default_factory=list)
    sha256: str = ""


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> RegistrationConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return RegistrationConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from exc


def load_registration(path: str | Path | None = None) -> RegistrationConfig:
    """Load ``registration.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "registration.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    s = frame[col]
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def unit_resources(units: Sequence[str], geoms: Sequence[Any], dltb: pd.DataFrame,
                   cfg: RegistrationConfig, *, what: str = "DLTB") -> list[dict[str, Any]]:
    """Area of every unit by 一级类 × ownership.

    Parameters
    ----------
    units : sequence of str
        登记单元号, one per geometry.
    geoms : sequence of shapely polygons
        Unit outlines (EPSG:4490).
    dltb : GeoDataFrame
        The land-use version (``DLBM``, the ownership field, ``BSM`` for messages).
    cfg : RegistrationConfig
        The ownership split.
    what : str
        The dataset and version, for messages.

    Returns
    -------
    list of dict
        ``unit``, ``class`` (一级类 code), ``class_name``, ``ownership``, ``area_m2``, sorted.

    Raises
    ------
    onemap.errors.InputError
        A patch met by a unit has a 权属性质 in no list (BSM named).
    """
    if not len(geoms) or not len(dltb):
        return []
    pieces = intersect_pieces(np.asarray(list(geoms), dtype=object), dltb.geometry.values)
    if not len(pieces.left):
        return []
    code = _text(dltb, cfg.ownership_field).to_numpy(dtype=object)[pieces.right]
    side_of = {c: side for side, codes in cfg.ownership.items() for c in codes}
    side = np.array([side_of.get(c) for c in code], dtype=object)
    bad = np.flatnonzero(side == None)  # noqa: E711  (element-wise)
    if len(bad):
        bsm = _text(dltb, "BSM").to_numpy(dtype=object)[pieces.right[bad]]
        values = "、".join(sorted({c or "空" for c in code[bad]}))
        raise InputError(
            f"{what}中登记单元内有图斑的权属性质 {cfg.ownership_field} 为 {values}，不在 "
            + "、".join(f"{k}（{'、'.join(v) or '无'}）" for k, v in cfg.ownership.items())
            + f" 之列（BSM {'、'.join(sorted(set(bsm))[:10])}）",
            [Problem("ownership", f"权属性质“{c}”无法判定", row=b, field=cfg.ownership_field)
             for c, b in zip(code[bad][:10], bsm[:10], strict=True)])
    lc = land_classes()
    level1 = np.array([str(c)[:2] for c in _text(dltb, "DLBM").to_numpy(dtype=object)[pieces.right]],
                      dtype=object)
    frame = pd.DataFrame({"unit": np.asarray(list(units), dtype=object)[pieces.left], "class": level1,
                          "ownership": side, "area": pieces.area_m2})
    out = []
    for (unit, cls, own), g in frame.groupby(["unit", "class", "ownership"], sort=True):
        try:
            name = lc.name(cls)
        except KeyError:
            name = ""
        out.append({"unit": unit, "class": cls, "class_name": name, "ownership": own,
                    "area_m2": round(float(g["area"].sum()), 2)})
    return out


def touching(units: Sequence[str], geoms: Sequence[Any], layer_geoms: Sequence[Any],
             ids: Sequence[str], *, min_area_m2: float = 1.0) -> list[dict[str, Any]]:
    """Area of every unit inside one layer (overlaps counted once) and the ids it meets.

    Returns
    -------
    list of dict
        ``unit``, ``area_m2``, ``ids`` for units with at least ``min_area_m2`` inside.
    """
    if not len(geoms) or not len(layer_geoms):
        return []
    pieces = intersect_pieces(np.asarray(list(geoms), dtype=object), np.asarray(list(layer_geoms), dtype=object))
    out = []
    for i, unit in enumerate(units):
        sel = pieces.left == i
        if not sel.any():
            continue
        area = float(ellipsoidal_area([shapely.union_all(pieces.geometry[sel])])[0])
        if area < min_area_m2:
            continue
        out.append({"unit": unit, "area_m2": round(area, 2),
                    "ids": sorted({str(ids[j]) for j in pieces.right[sel]})})
    return out
