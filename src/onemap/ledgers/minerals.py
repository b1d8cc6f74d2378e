"""Mining rights against the control lines (pure): area and share of each right in each layer.

The use case (:mod:`onemap.app.minerals`) hands over the rights (number and
lon/lat geometry) and, per layer of ``minerals.yaml``, its polygons (and the
value of the layer's ``group_field``, e.g. the 自然保护地 功能分区). For each
right and layer the pieces of :func:`onemap.analysis.overlay.intersect_pieces`
are unioned (overlapping polygons of one layer are counted once) and measured
on the CGCS2000 ellipsoid; ``share`` is that area over the right's own area.
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
from pydantic import BaseModel, ConfigDict, ValidationError

from onemap.analysis.overlay import intersect_pieces
from onemap.domain import sources
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.flow import flow_error


class ConflictLayer(BaseModel):
    """A layer the rights are overlaid with."""

    model_config = ConfigDict(extra="forbid")
    dataset: str
    title: str
    group_field: str | None = None


class MineralsConfig(BaseModel):
    """``minerals.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    rights_register: str
    skip_states: list[str] = []
    layers: list[ConflictLayer]
    sha256: str = ""


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> MineralsConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return MineralsConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from exc


def load_minerals(path: str | Path | None = None) -> MineralsConfig:
    """Load ``minerals.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "minerals.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


@dataclass
class LayerPolygons:
    """One conflict layer as the use case read it (``geometry`` None: not in the workspace)."""

    layer: ConflictLayer
    geometry: Sequence[Any] | None
    groups: Sequence[Any] | None = None


def _union_area(geoms: list[Any]) -> float:
    if not geoms:
        return 0.0
    return float(ellipsoidal_area([shapely.union_all(np.asarray(geoms, dtype=object))])[0])


def conflicts(rights: Sequence[str], geometry: Sequence[Any],
              layers: Sequence[LayerPolygons]) -> dict[str, Any]:
    """Area and share of every right inside every layer.

    Parameters
    ----------
    rights : sequence of str
        The rights' numbers (许可证号).
    geometry : sequence of shapely geometries
        Each right's polygon (EPSG:4490).
    layers : sequence of LayerPolygons
        The conflict layers, in the order of ``minerals.yaml``.

    Returns
    -------
    dict
        ``rows``: one per right and layer it meets — ``right``, ``layer``
        (dataset code), ``title``, ``area_m2``, ``share`` (0–1, 4 decimals),
        ``right_area_m2`` and, for a layer with a group field, ``zones``
        (group value → area_m2); ``missing``: layers not in the workspace.
    """
    geoms = np.asarray(list(geometry), dtype=object)
    own = ellipsoidal_area(geoms) if len(geoms) else np.array([], dtype=float)
    rows: list[dict[str, Any]] = []
    missing: list[dict[str, str]] = []
    for lp in layers:
        if lp.geometry is None:
            missing.append({"layer": lp.layer.dataset, "title": lp.layer.title})
            continue
        pieces = intersect_pieces(geoms, np.asarray(list(lp.geometry), dtype=object))
        for i in np.unique(pieces.left):
            sel = pieces.left == i
            area = _union_area(list(pieces.geometry[sel]))
            row: dict[str, Any] = {
                "right": str(rights[i]), "layer": lp.layer.dataset, "title": lp.layer.title,
                "area_m2": round(area, 2), "share": round(area / own[i], 4) if own[i] > 0 else 0.0,
                "right_area_m2": round(float(own[i]), 2)}
            if lp.layer.group_field and lp.groups is not None:
                values = np.asarray([str(g) for g in lp.groups], dtype=object)[pieces.right[sel]]
                part = pieces.geometry[sel]
                row["zones"] = {str(v): round(_union_area(list(part[values == v])), 2)
                                for v in sorted(set(values))}
            if row["area_m2"] > 0:
                rows.append(row)
    rows.sort(key=lambda r: (r["right"], [lp.layer.dataset for lp in layers].index(r["layer"])))
    return {"rows": rows, "missing": missing}
