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
    blocks_register: str | None = None
    block_skip_states: list[str] = []
    min_block_share: float = 0.99
    mineral_synonyms: dict[str, str] = {}
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


def block_findings(cfg: MineralsConfig, rights: Sequence[tuple[str, str, Any]],
                   blocks: Sequence[tuple[str, str, Any]]) -> list[dict[str, Any]]:
    """Rights outside any planning block, or in blocks of another 矿种.

    Parameters
    ----------
    cfg : MineralsConfig
        ``min_block_share`` and ``mineral_synonyms``.
    rights : sequence of (许可证号, 矿种, geometry)
        The rights.
    blocks : sequence of (区块编号, 矿种, geometry)
        The planning blocks.

    Returns
    -------
    list of dict
        One row per finding: ``right``, ``layer`` (``GHQK``), ``title``, ``finding``
        (``outside_block`` 不在规划区块内 / ``other_mineral`` 矿种与规划区块不符), ``area_m2``
        (the right's area inside the blocks), ``share``, ``right_area_m2``, ``blocks`` (the
        blocks it meets with their 矿种) and ``message``.
    """
    def norm(kz: Any) -> str:
        text = str(kz or "").strip()
        return cfg.mineral_synonyms.get(text, text)

    geoms = np.asarray([g for *_, g in rights], dtype=object)
    own = ellipsoidal_area(geoms) if len(geoms) else np.zeros(0)
    bgeoms = np.asarray([g for *_, g in blocks], dtype=object)
    pieces = intersect_pieces(geoms, bgeoms)
    out: list[dict[str, Any]] = []
    for i, (no, kz, _) in enumerate(rights):
        sel = pieces.left == i
        area = _union_area(list(pieces.geometry[sel]))
        share = area / own[i] if own[i] > 0 else 0.0
        met = sorted({(blocks[j][0], norm(blocks[j][1])) for j in pieces.right[sel]})
        base = {"right": str(no), "layer": cfg.blocks_register or "GHQK", "title": "规划区块",
                "area_m2": round(area, 2), "share": round(share, 4), "right_area_m2": round(float(own[i]), 2),
                "blocks": [{"block": b, "mineral": m} for b, m in met]}
        if share < cfg.min_block_share:
            out.append({**base, "finding": "outside_block",
                        "message": f"矿业权 {no} 仅 {share:.1%} 位于规划区块内（应不低于 {cfg.min_block_share:.0%}）"})
        if met and norm(kz) not in {m for _, m in met}:
            out.append({**base, "finding": "other_mineral",
                        "message": f"矿业权 {no} 的矿种“{norm(kz)}”与所在规划区块（"
                                   + "、".join(f"{b} {m}" for b, m in met) + "）不符"})
    return out
