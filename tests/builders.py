"""Builders of small test datasets shared by the test modules."""


import hashlib
import math
from pathlib import Path

import geopandas as gpd
import shapely


def dltb_frame(n: int = 6, *, lon0: float = 106.20, lat0: float = 37.95) -> gpd.GeoDataFrame:
    """A small, valid DLTB delivery in EPSG:4490 (a row of 200 m × 200 m patches)."""
    step = 0.002
    geoms = [
        shapely.box(lon0 + i * step, lat0, lon0 + (i + 1) * step, lat0 + step) for i in range(n)
    ]
    codes = ["0101", "0102", "0103", "0301", "0702", "1205"]
    names = {"0101": "水田", "0102": "水浇地", "0103": "旱地", "0301": "乔木林地",
             "0702": "农村宅基地", "1205": "沙地"}
    dlbm = [codes[i % len(codes)] for i in range(n)]
    cultivated = [c.startswith("01") for c in dlbm]
    return gpd.GeoDataFrame(
        {
            "BSM": [f"64030200{i:04d}" for i in range(n)],
            "YSDM": ["2001010100"] * n,
            "TBBH": [f"{i + 1:04d}" for i in range(n)],
            "DLBM": dlbm,
            "DLMC": [names[c] for c in dlbm],
            "QSXZ": ["30"] * n,
            "QSDWDM": ["6403020010010000000"] * n,
            "QSDWMC": ["金积镇金积村"] * n,
            "ZLDWDM": ["6403020010010000000"] * n,
            "ZLDWMC": ["金积镇金积村"] * n,
            "KCDLBM": ["1203" if c else "" for c in cultivated],
            "KCXS": [0.05 if c else 0.0 for c in cultivated],
            "GDLX": ["PD" if c else "" for c in cultivated],
            "GDPDJB": ["2" if c else "" for c in cultivated],
            "ZZSXDM": ["LS" if c else "" for c in cultivated],
            "ZZSXMC": ["种植粮食作物" if c else "" for c in cultivated],
            "CZCSXM": ["203" if c == "0702" else "" for c in dlbm],
        },
        geometry=geoms,
        crs="EPSG:4490",
    )




def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def four_param(north, east, p):
    """The 4-parameter similarity written out (X north, Y east), for expectations.

    X2 = ΔX + k(X cos α − Y sin α), Y2 = ΔY + k(X sin α + Y cos α), k = 1 + m.
    """
    import math

    k = 1 + p["scale_ppm"] * 1e-6
    a = p["rotation_arcsec"] * math.pi / 180 / 3600
    n2 = p["dx_m"] + k * (north * math.cos(a) - east * math.sin(a))
    e2 = p["dy_m"] + k * (north * math.sin(a) + east * math.cos(a))
    return n2, e2


def write_common_points(path: Path, north, east, p, *, encoding: str = "utf-8") -> Path:
    """A CSV of common points whose targets are the 4-parameter image of the sources."""
    n2, e2 = four_param(north, east, p)
    lines = ["点名,原X,原Y,目标X,目标Y"]
    lines += [f"G{i + 1},{float(north[i])!r},{float(east[i])!r},{float(n2[i])!r},{float(e2[i])!r}"
              for i in range(len(north))]
    Path(path).write_text("\n".join(lines) + "\n", encoding=encoding)
    return Path(path)


def box_area(lat1: float, lat2: float, dlon: float) -> float:
    """Area (m²) of a latitude–longitude box on the CGCS2000 ellipsoid, by the closed form
    ``S = b²/2 · Δλ · [q(φ₂) − q(φ₁)]``, ``q(φ) = sinφ/(1 − e²sin²φ) + ln((1 + e sinφ)/(1 − e sinφ))/(2e)``."""
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return a * a * (1 - e2) / 2 * math.radians(dlon) * (q(lat2) - q(lat1))
