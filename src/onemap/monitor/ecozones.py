"""Facts of change patches in the ecological zones (自然保护地 分区, 生态保护红线).

The judging (:mod:`onemap.monitor.judge`) applies the same table as the site check
(``domain/data/ecology.yaml``): each patch gets the strictest zone it lies in
(核心保护区, 一般控制区, else the rest of the 生态保护红线), the activity its new class
is read as, and the verdict of that activity in that zone.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from onemap.analysis.overlay import intersect_pieces
from onemap.domain.ecology import ecology_rules
from onemap.monitor.changes import _geoms, _valid

#: Facts this module adds to every patch.
ZONE_FACTS = ("core_area_m2", "general_area_m2", "in_core", "in_general", "eco_zone",
              "zone_text", "after_activity", "eco_verdict")

#: Field of the 功能分区 and of the reserve's name in ZRBHD.
ZONE_FIELD = "GNFQ"
NAME_FIELD = "ZRBHDMC"


def _text(gdf: gpd.GeoDataFrame, name: str) -> NDArray[np.object_]:
    if name not in gdf.columns:
        return np.full(len(gdf), "", dtype=object)
    col = gdf[name]
    return col.astype(object).where(col.notna(), "").astype(str).str.strip().to_numpy(dtype=object)


def zone_facts(
    geoms: NDArray[np.object_],
    area_m2: NDArray[np.float64],
    zones: gpd.GeoDataFrame | None,
    *,
    after: NDArray[np.object_],
    code_system: NDArray[np.object_],
    in_redline: NDArray[np.bool_],
    min_area_m2: float = 1.0,
) -> dict[str, Any]:
    """Zone, activity and verdict of every change patch.

    Parameters
    ----------
    geoms, area_m2 : arrays
        The patches (EPSG:4490) and their ellipsoidal areas (m²).
    zones : GeoDataFrame or None
        The 自然保护地 layer (ZRBHD) with ``GNFQ`` and ``ZRBHDMC``; rows whose GNFQ
        is not the 核心保护区 name count as 一般控制区. None: no reserve layer.
    after, code_system : arrays
        New class and code system (``DLBM`` or ``TBLX``) of each patch; only a
        DLBM class is read as an activity.
    in_redline : array of bool
        Patch lies in the 生态保护红线 (``sfhx`` of the change detection).
    min_area_m2 : float
        Overlap below this (m²) counts as touching only.

    Returns
    -------
    dict
        Column → array, the names of :data:`ZONE_FACTS`: overlap areas (m²), the flags,
        ``eco_zone`` (核心保护区 / 一般控制区 / 生态保护红线 / ""), ``zone_text`` (e.g.
        ``"罗山国家级自然保护区核心保护区"``), ``after_activity`` ("" when the class is on
        no list) and ``eco_verdict`` (需论证 / 不符合, "" outside every zone).
    """
    eco = ecology_rules()
    n = len(geoms)
    core = np.zeros(n)
    general = np.zeros(n)
    names: list[dict[str, list[str]]] = [{} for _ in range(n)]
    if zones is not None and len(zones) and n:
        zg, _ = _valid(_geoms(zones))
        kind = _text(zones, ZONE_FIELD)
        label = _text(zones, NAME_FIELD)
        pieces = intersect_pieces(geoms, zg)
        is_core = kind[pieces.right] == eco.zones.core
        core = np.minimum(np.bincount(pieces.left[is_core], weights=pieces.area_m2[is_core],
                                      minlength=n), area_m2)
        general = np.minimum(np.bincount(pieces.left[~is_core], weights=pieces.area_m2[~is_core],
                                         minlength=n), area_m2)
        for left, right, a, c in zip(pieces.left, pieces.right, pieces.area_m2, is_core,
                                     strict=True):
            if a < min_area_m2:
                continue
            zone = eco.zones.core if c else eco.zones.general
            who = label[right] or "自然保护地"
            if who not in names[left].setdefault(zone, []):
                names[left][zone].append(who)
    in_core = core >= max(min_area_m2, 1e-9)
    in_general = (general >= max(min_area_m2, 1e-9)) & ~in_core
    red = np.asarray(in_redline, dtype=bool)
    zone = np.where(in_core, eco.zones.core,
                    np.where(in_general, eco.zones.general,
                             np.where(red, eco.zones.redline, ""))).astype(object)
    by_dlbm = eco.by_dlbm()
    systems = pd.Series(code_system, dtype=object).fillna("").astype(str).to_numpy(dtype=object)
    codes = pd.Series(after, dtype=object).fillna("").astype(str).to_numpy(dtype=object)
    activity = np.array([by_dlbm.get(c, "") if s in ("DLBM", "") else ""
                         for c, s in zip(codes, systems, strict=True)], dtype=object)
    verdict = np.array([eco.verdict(z, a or None) if z else "" for z, a in
                        zip(zone, activity, strict=True)], dtype=object)
    text = np.array([_zone_text(z, hit, eco.zones.redline) for z, hit in
                     zip(zone, names, strict=True)], dtype=object)
    return {"core_area_m2": np.round(core, 2), "general_area_m2": np.round(general, 2),
            "in_core": in_core, "in_general": in_general, "eco_zone": zone,
            "zone_text": text, "after_activity": activity, "eco_verdict": verdict}


def _zone_text(zone: str, hit: dict[str, list[str]], redline: str) -> str:
    if not zone:
        return ""
    if zone == redline:
        return redline
    return "、".join(f"{who}{zone}" for who in hit.get(zone, [])) or zone
