"""Helpers shared by the API tests (a uniquely named module, unlike ``conftest``)."""

from __future__ import annotations

import socket

import numpy as np
import shapely
from geopandas import GeoDataFrame

CLASSES = [("0101", "水田"), ("0103", "旱地"), ("0301", "乔木林地"), ("0702", "农村宅基地")]
PASSWORD = "correct-horse-9"


def make_dltb(n_side: int = 6) -> GeoDataFrame:
    """``n_side``² square patches near 106.2E 37.9N; the west half in 640302, the east in 640324."""
    step = 0.002
    rows = []
    for i in range(n_side):
        for j in range(n_side):
            x0, y0 = 106.2 + j * step, 37.9 + i * step
            code, name = CLASSES[(i + j) % len(CLASSES)]
            county = "640302" if j < n_side // 2 else "640324"
            rows.append((shapely.box(x0, y0, x0 + step, y0 + step), code, name,
                         f"{county}1010010000000", f"64030{i:02d}{j:02d}"))
    geoms = [r[0] for r in rows]
    from onemap.geo.area import ellipsoidal_area

    area = np.round(ellipsoidal_area(np.array(geoms, dtype=object)), 2)
    return GeoDataFrame(
        {"BSM": [r[4] for r in rows], "DLBM": [r[1] for r in rows], "DLMC": [r[2] for r in rows],
         "ZLDWDM": [r[3] for r in rows], "TBMJ": area, "TBDLMJ": area},
        geometry=geoms, crs=4490,
    )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
