"""Map legends: the colours the web map and printed maps use by default.

The DLTB colours follow the usual 三调 land-use map scheme by 一级 class
(耕地 yellow, 园地 orange, 林地 green, 草地 light green, 建设用地 reds and
browns, 交通 grey, 水域 blue, 其他土地 pale brown). The RGB values are the
common ones seen in bureau maps, *to confirm against the official 图式*; a
bureau may change them without touching the code by listing ``code: "#rrggbb"``
pairs in the workspace setting ``legend_colors`` (JSON).
"""

from __future__ import annotations

import json
from typing import Any

#: Colour of each 三调 一级 class (first two digits of DLBM).
DLTB_LEVEL1 = {
    "00": "#7fd4c8",  # 湿地
    "01": "#f5e98c",  # 耕地
    "02": "#f2b76b",  # 园地
    "03": "#5aa05a",  # 林地
    "04": "#b6dc82",  # 草地
    "05": "#e8747c",  # 商业服务业用地
    "06": "#b9926b",  # 工矿用地
    "07": "#e8a07c",  # 住宅用地
    "08": "#f08ca0",  # 公共管理与公共服务用地
    "09": "#9b7db4",  # 特殊用地
    "10": "#a9a9a9",  # 交通运输用地
    "11": "#7db4e6",  # 水域及水利设施用地
    "12": "#d9cbb0",  # 其他土地
}

#: Fixed colours of the control lines and other layers (outline, fill).
LAYER_COLORS = {
    "XZQ": "#5a5a5a",
    "CJDCQ": "#8c8c8c",
    "YJJBNTTB": "#f0c800",
    "STBHHX": "#2e9d3a",
    "CZKFBJ": "#d7301f",
    "ZRBHD": "#1b7837",
}


def dltb_legend(overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """Legend of DLTB: one item per 三调 二级 class, coloured by its 一级 class."""
    from onemap.domain import land_classes

    table = land_classes()
    frame = table.frame
    overrides = overrides or {}
    items = []
    for code, name in zip(frame["code"], frame["name"], strict=True):
        code = str(code)
        color = overrides.get(code) or overrides.get(code[:2]) or DLTB_LEVEL1.get(code[:2],
                                                                                   "#cccccc")
        items.append({"code": code, "name": str(name), "color": color})
    return {"field": "DLBM", "items": items}


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
    color = overrides.get(dataset) or LAYER_COLORS.get(dataset, "#3388ff")
    return {"field": None, "items": [{"code": dataset, "name": dataset, "color": color}]}
