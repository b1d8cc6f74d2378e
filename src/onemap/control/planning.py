"""规划用途符合性 and 节约集约 of a checked site, judged with ``control/data/planning.yaml``.

The site check already measures the area of the site in each value of the
规划分区 layer (a check layer with ``group_field`` = zone name). This module
judges those areas for the intended use: zones listed as ``fit`` are 符合,
``review`` 需论证, any other 不符合; ground of the site in no zone is 需论证.
It also looks up the 用地标准 that governs the use (and a bureau's maximum
area where it filled one in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from onemap.control.check import CHECKED, CheckResult
from onemap.errors import OneMapError

__all__ = ["Conformity", "LandStandard", "land_standard", "load_planning", "zone_conformity"]

PLANNING_FILE = Path(__file__).parent / "data" / "planning.yaml"
#: Ground of the site in no zone smaller than this (m²) is an edge sliver, not reported.
SLIVER_M2 = 0.5
_RANK = {"符合": 0, "需论证": 1, "不符合": 2}


@lru_cache(maxsize=4)
def _read(path: str) -> dict[str, Any]:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OneMapError(f"无法读取规划符合性配置 {p}：{exc}") from exc
    for key in ("zones", "standards"):
        if not isinstance(data, dict) or not isinstance(data.get(key), dict):
            raise OneMapError(f"规划符合性配置 {p} 缺少“{key}”部分")
    if "dataset" not in data["zones"] or not isinstance(data["zones"].get("by_use"), dict):
        raise OneMapError(f"规划符合性配置 {p} 的 zones 须有 dataset 和 by_use")
    return data


def load_planning(path: str | Path | None = None) -> dict[str, Any]:
    """The planning configuration (default: the shipped ``planning.yaml``)."""
    return _read(str(Path(path or PLANNING_FILE).resolve()))


@dataclass
class Conformity:
    """The site against the 规划分区 layer.

    Attributes
    ----------
    status : str
        ``"已检查"`` or ``"未入库，未检查"``.
    rows : list of (zone, area_m2, verdict)
        One per zone the site lies in (largest first), then "未划定规划分区" if any.
    overall : str
        Worst verdict of the rows ("未检查" when the layer is missing).
    source : str
        Where the zone scheme comes from.
    """

    status: str
    rows: list[tuple[str, float, str]] = field(default_factory=list)
    overall: str = "未检查"
    source: str = ""


def zone_conformity(result: CheckResult, config: dict[str, Any] | None = None) -> Conformity:
    """Judge the site's area in each planned use zone for its intended use.

    Parameters
    ----------
    result : CheckResult
        A site check (its layer result of the zone layer carries the area per zone).
    config : dict, optional
        :func:`load_planning` (default: the shipped file).

    Returns
    -------
    Conformity
    """
    cfg = (config or load_planning())["zones"]
    lr = result.layers.get(cfg["dataset"])
    if lr is None or lr.status != CHECKED:
        return Conformity("未入库，未检查", source=cfg.get("source", ""))
    table = cfg["by_use"].get(result.use) or {}
    fit, review = set(table.get("fit") or []), set(table.get("review") or [])
    rows = []
    for zone, m2 in sorted(lr.by_group.items(), key=lambda kv: -kv[1]):
        verdict = "符合" if zone in fit else "需论证" if zone in review else "不符合"
        rows.append((zone, m2, verdict))
    outside = result.area_m2 - lr.area_m2
    if outside > SLIVER_M2:
        rows.append(("未划定规划分区", outside, "需论证"))
    overall = max((r[2] for r in rows), key=_RANK.__getitem__, default="需论证")
    return Conformity(CHECKED, rows, overall, cfg.get("source", ""))


@dataclass
class LandStandard:
    """The 用地标准 of a use and, where the bureau set one, the area limit."""

    standard: str
    measures: str
    max_ha: float | None = None

    def over_ha(self, area_m2: float) -> float | None:
        """公顷 above the limit (negative: below), None without a limit."""
        return None if self.max_ha is None else area_m2 / 10_000 - self.max_ha


def land_standard(use: str, config: dict[str, Any] | None = None) -> LandStandard | None:
    """The land-use standard of an intended use (None when the file names none)."""
    entry = (config or load_planning())["standards"].get("by_use", {}).get(use)
    if not entry:
        return None
    max_ha = entry.get("max_ha")
    return LandStandard(str(entry["standard"]), str(entry.get("measures", "")),
                        None if max_ha is None else float(max_ha))
