"""Map legends: the colours the web map, printed maps and the API share.

The colours come from one file, ``onemap/domain/data/symbology.json`` (one fill per
三调 二级 DLBM code, fixed colours for boundaries and control lines); the web UI
bundles the same file. A bureau may change colours without touching the code by
listing ``code: "#rrggbb"`` pairs (a DLBM code, a 一级 prefix or a layer name) in the
workspace setting ``legend_colors`` (JSON).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any


@lru_cache(maxsize=1)
def symbology() -> dict[str, Any]:
    """The shipped symbology (``domain/data/symbology.json``)."""
    return json.loads(files("onemap.domain").joinpath("data/symbology.json").read_text(encoding="utf-8"))


def dltb_legend(overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """Legend of DLTB: one item per 三调 二级 class with its standard colour."""
    from onemap.domain import land_classes

    sym = symbology()["DLTB"]
    frame = land_classes().frame
    overrides = overrides or {}
    items = []
    for code, name in zip(frame["code"], frame["name"], strict=True):
        code = str(code)
        color = overrides.get(code) or overrides.get(code[:2]) or sym["colors"].get(code, sym["default"])
        items.append({"code": code, "name": str(name), "color": color})
    return {"field": sym["field"], "items": items}


def legend(dataset: str, settings: dict[str, str] | None = None) -> dict[str, Any]:
    """Legend of a dataset (``{"field", "items": [{"code", "name", "color"}]}``)."""
    overrides: dict[str, str] = {}
    raw = (settings or {}).get("legend_colors")
    if raw:
        try:
            overrides = {str(k): str(v) for k, v in json.loads(raw).items()}
        except (ValueError, AttributeError):
            overrides = {}
    if dataset == "DLTB":
        return dltb_legend(overrides)
    layers = symbology()["layers"]
    style = layers.get(dataset, layers["_default"])
    color = overrides.get(dataset) or style.get("fill") or style["line"]
    return {"field": None, "items": [{"code": dataset, "name": dataset, "color": color}]}
