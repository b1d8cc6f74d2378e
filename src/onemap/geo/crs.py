"""Find the CRS coordinates are really in and bring them to CGCS2000 lon/lat.

Deliveries come in CGCS2000 geographic coordinates (EPSG:4490) or in the
CGCS2000 3-degree Gauss-Krüger zones 25–45 (central meridians 75°E…135°E):

* EPSG:4513–4533: eastings carry the zone number as prefix
  (``35 512 345 m`` is zone 35, false easting 35 500 000 m);
* EPSG:4534–4554: the same zones without prefix (false easting 500 000 m).

A ``.prj`` often declares one variant while the coordinates are in the other;
:func:`detect_crs` notices this from the coordinates and says so. A file that
declares no CRS is refused: guessing would silently shift data by hundreds of
kilometres when the guess is wrong.

Axis order is always x = easting/longitude, y = northing/latitude, whatever
the EPSG definition says (transforms use ``always_xy``).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError

from onemap.errors import InputError, Problem
from onemap.geo.clean import row_labels

__all__ = [
    "CHINA_LAT",
    "CHINA_LON",
    "STORAGE_EPSG",
    "check_china_lonlat",
    "datum_differs",
    "detect_crs",
    "gk_code",
    "gk_zone_crs",
    "gk_zone_of",
    "to_storage",
]

#: EPSG code of the storage CRS (CGCS2000 geographic).
STORAGE_EPSG = 4490
#: Longitude range (°E) accepted as inside China.
CHINA_LON = (73.0, 136.0)
#: Latitude range (°N) accepted as inside China.
CHINA_LAT = (3.0, 54.0)

_ZONES = range(25, 46)
_PREFIXED_FIRST = 4513  # zone 25, zone-prefixed eastings
_PLAIN_FIRST = 4534  # zone 25, no prefix
_CGCS2000_A = 6378137.0
_CGCS2000_INV_F = 298.257222101
_RANGE_TEXT = f"{CHINA_LON[0]:g}–{CHINA_LON[1]:g}°，纬度 {CHINA_LAT[0]:g}–{CHINA_LAT[1]:g}°"
#: Most problems attached to one error; the rest are counted in the message.
_MAX_PROBLEMS = 1000


def gk_code(zone: int, *, zone_prefix: bool) -> int:
    """EPSG code of a CGCS2000 3-degree Gauss-Krüger zone.

    Parameters
    ----------
    zone : int
        Zone number 25–45 (central meridian ``3 * zone`` °E).
    zone_prefix : bool
        True for eastings carrying the zone number (EPSG:4513–4533), False
        for plain eastings (EPSG:4534–4554).

    Returns
    -------
    int
        The EPSG code.

    Raises
    ------
    ValueError
        If ``zone`` is outside 25–45.

    Examples
    --------
    >>> gk_code(35, zone_prefix=True), gk_code(35, zone_prefix=False)
    (4523, 4544)
    """
    if zone not in _ZONES:
        raise ValueError(f"zone {zone} outside 25–45")
    return (_PREFIXED_FIRST if zone_prefix else _PLAIN_FIRST) + zone - _ZONES.start


def gk_zone_crs(lon: float, *, zone_prefix: bool = False) -> pyproj.CRS:
    """Return the CGCS2000 3-degree Gauss-Krüger CRS of the zone containing ``lon``.

    Parameters
    ----------
    lon : float
        Longitude in degrees east.
    zone_prefix : bool, default False
        Whether eastings carry the zone number (EPSG:4513–4533) or not
        (EPSG:4534–4554).

    Returns
    -------
    pyproj.CRS
        The zone's CRS; the zone is ``floor(lon / 3 + 0.5)``, so a zone spans
        its central meridian ±1.5°.

    Raises
    ------
    onemap.errors.InputError
        Rule ``outside_china`` when no CGCS2000 3-degree zone covers ``lon``.

    Examples
    --------
    >>> gk_zone_crs(106.2).to_epsg(), gk_zone_crs(107.6, zone_prefix=True).to_epsg()
    (4544, 4524)
    """
    zone = math.floor(lon / 3.0 + 0.5) if math.isfinite(lon) else -1
    if zone not in _ZONES:
        msg = f"经度 {lon} 不在 CGCS2000 3 度带（第 25–45 带，73.5°E–136.5°E）范围内"
        raise InputError(msg, [Problem(rule="outside_china", message=msg)])
    return pyproj.CRS.from_epsg(gk_code(zone, zone_prefix=zone_prefix))


def _gk_params(crs: pyproj.CRS) -> tuple[int, bool] | None:
    """Match a projected CRS to the CGCS2000 3° GK family by its parameters."""
    if not crs.is_projected:
        return None
    ell = crs.ellipsoid
    if ell is None or abs(ell.semi_major_metre - _CGCS2000_A) > 0.01:
        return None
    if abs(ell.inverse_flattening - _CGCS2000_INV_F) > 1e-7:
        return None
    op = crs.coordinate_operation
    if op is None:
        return None
    method = op.method_name.lower()
    if "transverse mercator" not in method and "gauss" not in method:
        return None
    if any(abs(a.unit_conversion_factor - 1.0) > 1e-12 for a in crs.axis_info):
        return None
    params = {p.code: p.value for p in op.params}
    by_name = {p.name.lower(): p.value for p in op.params}
    lat0 = params.get("8801", by_name.get("latitude of natural origin", 0.0))
    lon0 = params.get("8802", by_name.get("longitude of natural origin"))
    k0 = params.get("8805", by_name.get("scale factor at natural origin", 1.0))
    fe = params.get("8806", by_name.get("false easting"))
    fn = params.get("8807", by_name.get("false northing", 0.0))
    if lon0 is None or fe is None or lat0 != 0 or k0 != 1 or fn != 0:
        return None
    zone = round(lon0 / 3.0)
    if zone not in _ZONES or abs(lon0 - 3 * zone) > 1e-9:
        return None
    if fe == 500000:
        return zone, False
    if fe == zone * 1_000_000 + 500000:
        return zone, True
    return None


def gk_zone_of(crs: pyproj.CRS) -> tuple[int, bool] | None:
    """Tell whether a CRS is a CGCS2000 3-degree Gauss-Krüger zone.

    Parameters
    ----------
    crs : pyproj.CRS
        Any CRS.

    Returns
    -------
    tuple of (int, bool) or None
        ``(zone, zone_prefix)``, or None when ``crs`` is not of that family.
        Recognised by EPSG code, else by ellipsoid and projection parameters.

    Examples
    --------
    >>> gk_zone_of(pyproj.CRS.from_epsg(4523))
    (35, True)
    """
    code = crs.to_epsg()
    if code is not None and _PREFIXED_FIRST <= code < _PREFIXED_FIRST + len(_ZONES):
        return code - _PREFIXED_FIRST + _ZONES.start, True
    if code is not None and _PLAIN_FIRST <= code < _PLAIN_FIRST + len(_ZONES):
        return code - _PLAIN_FIRST + _ZONES.start, False
    return _gk_params(crs)


def _label(crs: pyproj.CRS) -> str:
    """Short text naming a CRS for messages."""
    code = crs.to_epsg()
    return f"EPSG:{code}（{crs.name}）" if code else f"“{crs.name}”"


def _bounds(gdf: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    """Bounds of all non-empty geometries, None if there are none (or not finite)."""
    if len(gdf) == 0:
        return None
    b = shapely.total_bounds(gdf.geometry.to_numpy())
    if not np.isfinite(b).all():
        return None
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def _prefix_zone(b: tuple[float, float, float, float]) -> int | None:
    """Zone number carried by 8-digit eastings, if all share one."""
    minx, _miny, maxx, _maxy = b
    z1, z2 = math.floor(minx / 1e6), math.floor(maxx / 1e6)
    return z1 if z1 == z2 and z1 in _ZONES else None


def _plain_eastings(b: tuple[float, float, float, float]) -> bool:
    """True for 6-digit GK eastings (no zone prefix) with plausible northings."""
    minx, miny, maxx, maxy = b
    return 100_000 < minx and maxx < 900_000 and 100_000 < miny and maxy < 1e7


def _looks_lonlat(b: tuple[float, float, float, float]) -> bool:
    """True when all coordinates are within degree ranges."""
    minx, miny, maxx, maxy = b
    return -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90


def _in_china(b: tuple[float, float, float, float], *, swapped: bool = False) -> bool:
    """Whether lon/lat bounds (or lat/lon if ``swapped``) lie in China."""
    minx, miny, maxx, maxy = (b[1], b[0], b[3], b[2]) if swapped else b
    return (
        CHINA_LON[0] <= minx
        and maxx <= CHINA_LON[1]
        and CHINA_LAT[0] <= miny
        and maxy <= CHINA_LAT[1]
    )


def _suggest(b: tuple[float, float, float, float] | None) -> str:
    """Chinese hint at the likely CRS of coordinates with these bounds."""
    if b is None:
        return ""
    zone = _prefix_zone(b)
    if zone is not None and 0 < b[1] and b[3] < 1e7:
        return (
            f"根据坐标判断可能是 EPSG:{gk_code(zone, zone_prefix=True)}"
            f"（CGCS2000 3 度带第 {zone} 带，中央经线 {3 * zone}°E，东坐标带带号）"
        )
    if _looks_lonlat(b) and _in_china(b):
        return "坐标像经纬度，可能是 EPSG:4490（CGCS2000 地理坐标）"
    if _looks_lonlat(b) and _in_china(b, swapped=True):
        return "坐标像纬度、经度顺序颠倒的经纬度"
    if _plain_eastings(b):
        return (
            "坐标像不带带号的 CGCS2000 3 度带投影坐标，需确认中央经线：EPSG:4534–4554"
            "（如中央经线 105°E 为 EPSG:4544，108°E 为 EPSG:4545）"
        )
    return ""


def _crs_error(rule: str, message: str, file_name: str) -> InputError:
    """InputError with one problem about the CRS."""
    return InputError(message, [Problem(rule=rule, message=message, file=file_name or None)])


def _parse_override(override: str | int, file_name: str) -> pyproj.CRS:
    """CRS from a ``--crs`` value such as ``4523``, ``"4523"`` or ``"EPSG:4523"``."""
    text = str(override).strip()
    try:
        if text.isdigit():
            return pyproj.CRS.from_epsg(int(text))
        return pyproj.CRS.from_user_input(text)
    except CRSError as exc:
        raise _crs_error(
            "invalid_crs",
            f"无法识别指定的坐标系 {override}（{file_name or '未命名文件'}），"
            "请使用 EPSG 代码，如 --crs EPSG:4523",
            file_name,
        ) from exc


def _resolve(declared: pyproj.CRS) -> tuple[pyproj.CRS, list[str]]:
    """Replace a declared CRS by its EPSG equivalent where one can be found."""
    code = declared.to_epsg(min_confidence=70)
    if code is None and declared.to_authority() == ("OGC", "CRS84"):
        code = 4326
    if code is not None:
        return pyproj.CRS.from_epsg(code), []
    gk = _gk_params(declared)
    if gk is not None:
        code = gk_code(gk[0], zone_prefix=gk[1])
        return pyproj.CRS.from_epsg(code), [
            f"文件声明的坐标系“{declared.name}”没有 EPSG 代码，按投影参数识别为 EPSG:{code}"
        ]
    return declared, [f"文件声明的坐标系“{declared.name}”无对应 EPSG 代码，按其定义转换"]


def datum_differs(crs: pyproj.CRS) -> bool:
    """Whether a CRS's datum is neither CGCS2000 nor WGS84 (西安80, 北京54, …).

    Such coordinates need the bureau's transformation to reach CGCS2000;
    without one, PROJ's ballpark conversion is off by metres to a hundred metres.

    Examples
    --------
    >>> datum_differs(pyproj.CRS.from_epsg(2380)), datum_differs(pyproj.CRS.from_epsg(4544))
    (True, False)
    """
    geodetic = crs.geodetic_crs
    code = geodetic.to_epsg() if geodetic is not None else None
    if code in (4490, 4326):
        return False
    ell = crs.ellipsoid
    return not (
        code is None
        and ell is not None
        and abs(ell.semi_major_metre - _CGCS2000_A) < 0.01
        and abs(ell.inverse_flattening - _CGCS2000_INV_F) < 1e-7
    )


def _datum_note(crs: pyproj.CRS) -> list[str]:
    """Warn when the datum is neither CGCS2000 nor WGS84."""
    if not datum_differs(crs):
        return []
    geodetic = crs.geodetic_crs
    name = geodetic.name if geodetic is not None else crs.name
    return [
        f"坐标系基准为“{name}”而不是 CGCS2000；转换到 CGCS2000 时未使用转换参数，"
        "可能存在数米至上百米的偏差"
    ]


def _check_consistent(
    crs: pyproj.CRS, b: tuple[float, float, float, float] | None, file_name: str, source: str
) -> None:
    """Refuse a CRS the coordinate values cannot be in."""
    if b is None:
        return
    where = file_name or "数据"
    sample = f"x={b[0]:.6g}, y={b[1]:.6g}"
    hint = _suggest(b)
    hint = f"；{hint}" if hint else ""
    if crs.is_geographic and _in_china(b, swapped=True):
        return  # latitude/longitude swapped: check_china_lonlat names the row (swapped_axes)
    if crs.is_geographic and (max(abs(b[0]), abs(b[2])) > 360 or max(abs(b[1]), abs(b[3])) > 90):
        raise _crs_error(
            "crs_mismatch",
            f"{where} 的坐标是以米为单位的投影坐标（{sample}），"
            f"但{source}坐标系 {_label(crs)} 是经纬度{hint}",
            file_name,
        )
    if crs.is_projected and _looks_lonlat(b):
        raise _crs_error(
            "crs_mismatch",
            f"{where} 的坐标像经纬度（{sample}），但{source}坐标系 {_label(crs)} 是投影坐标{hint}",
            file_name,
        )
    gk = gk_zone_of(crs)
    if gk is None:
        return
    zone, prefixed = gk
    pz = _prefix_zone(b)
    if prefixed and pz != zone:
        raise _crs_error(
            "crs_mismatch",
            f"{where} 的东坐标（{sample}）与{source}坐标系 {_label(crs)} 不符："
            f"该坐标系的东坐标应以带号 {zone} 开头{hint}",
            file_name,
        )
    if not prefixed and pz is not None:
        raise _crs_error(
            "crs_mismatch",
            f"{where} 的东坐标（{sample}）带有带号 {pz}，但{source}坐标系 {_label(crs)} "
            f"的东坐标不带带号{hint}",
            file_name,
        )


def detect_crs(
    gdf: gpd.GeoDataFrame,
    declared: pyproj.CRS | None,
    *,
    override: str | int | None = None,
    file_name: str = "",
) -> tuple[pyproj.CRS, list[str]]:
    """Decide which CRS the coordinates of ``gdf`` are really in.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Rows as read (coordinates untouched).
    declared : pyproj.CRS or None
        CRS the file declares (``.prj``, layer metadata), None if none.
    override : str or int, optional
        CRS given by the user (``--crs``): ``4523``, ``"4523"`` or
        ``"EPSG:4523"``. Wins over ``declared``, but is still checked against
        the coordinates.
    file_name : str, optional
        Name used in messages.

    Returns
    -------
    crs : pyproj.CRS
        The CRS the coordinates are in (an EPSG CRS where one matches).
    notes : list of str
        Chinese notes on what was inferred (to show the user / keep in logs).

    Raises
    ------
    onemap.errors.InputError
        Rule ``unknown_crs`` when nothing is declared and no override given
        (the message suggests a likely code); ``crs_mismatch`` when the
        coordinates cannot be in the CRS (metres under a geographic CRS,
        degrees under a projected one, zone prefix contradicting an
        override); ``invalid_crs`` for an override that is not a CRS.

    Notes
    -----
    A declared CGCS2000 3° GK zone is corrected from the coordinates: 8-digit
    eastings under a no-prefix zone (EPSG:4534–4554) mean the zone-prefixed
    code of the zone in the prefix (EPSG:4513–4533), and 6-digit eastings
    under a prefixed zone mean the no-prefix code; each correction is noted.
    A GeoJSON without a ``crs`` member is declared WGS84 by GDAL
    (EPSG:4326), which is taken as such.
    """
    b = _bounds(gdf)
    notes: list[str] = []
    if override is not None:
        crs = _parse_override(override, file_name)
        _check_consistent(crs, b, file_name, "指定的")
        said = ""
        if declared is not None and not declared.equals(crs, ignore_axis_order=True):
            said = f"（文件声明的是 {_label(declared)}）"
        notes.append(f"坐标系按指定的 {_label(crs)} 处理{said}")
        return crs, notes + _datum_note(crs)
    if declared is None:
        hint = _suggest(b)
        raise _crs_error(
            "unknown_crs",
            f"{file_name or '数据'} 没有坐标系信息（缺少 .prj 或未声明坐标系），无法确定坐标含义；"
            f"请用 --crs EPSG:xxxx 指定坐标系{'。' + hint if hint else ''}",
            file_name,
        )
    crs, notes = _resolve(declared)
    gk = gk_zone_of(crs)
    if gk is not None and b is not None:
        zone, prefixed = gk
        pz = _prefix_zone(b)
        if pz is not None and (not prefixed or pz != zone):
            fixed = pyproj.CRS.from_epsg(gk_code(pz, zone_prefix=True))
            notes.append(
                f"文件声明的坐标系为 {_label(crs)}，但东坐标带有带号 {pz}"
                f"（如 {b[0]:.0f}），已按 {_label(fixed)} 处理"
            )
            crs = fixed
        elif prefixed and pz is None and _plain_eastings(b):
            fixed = pyproj.CRS.from_epsg(gk_code(zone, zone_prefix=False))
            notes.append(
                f"文件声明的坐标系为 {_label(crs)}，但东坐标不带带号"
                f"（如 {b[0]:.0f}），已按 {_label(fixed)} 处理"
            )
            crs = fixed
    _check_consistent(crs, b, file_name, "文件声明的")
    return crs, notes + _datum_note(crs)


def check_china_lonlat(gdf: gpd.GeoDataFrame, file_name: str = "") -> None:
    """Refuse lon/lat data with coordinates outside China or with swapped axes.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Geometries in degrees, x = longitude, y = latitude.
    file_name : str, optional
        Name used in messages.

    Raises
    ------
    onemap.errors.InputError
        One problem per offending row (BSM if the layer has one, else the
        1-based row number): rule ``swapped_axes`` when the row's x lies in
        3–54 and y in 73–136, else ``outside_china`` when it leaves lon
        73–136°, lat 3–54° (non-finite coordinates included). The message
        names the file and the first offending row. Missing or empty
        geometries are not checked here.
    """
    if len(gdf) == 0:
        return
    geoms = gdf.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    b = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        inside = (
            (b[:, 0] >= CHINA_LON[0])
            & (b[:, 2] <= CHINA_LON[1])
            & (b[:, 1] >= CHINA_LAT[0])
            & (b[:, 3] <= CHINA_LAT[1])
        )
        swapped = (
            (b[:, 0] >= CHINA_LAT[0])
            & (b[:, 2] <= CHINA_LAT[1])
            & (b[:, 1] >= CHINA_LON[0])
            & (b[:, 3] <= CHINA_LON[1])
        )
    bad = np.flatnonzero(present & ~inside)
    if bad.size == 0:
        return
    labels, texts = row_labels(gdf, bad[:_MAX_PROBLEMS])
    where = file_name or "数据"
    problems = []
    for pos, label, text in zip(bad, labels, texts, strict=False):
        x, y = b[pos, 0], b[pos, 1]
        if swapped[pos]:
            problems.append(
                Problem(
                    rule="swapped_axes",
                    message=f"{text}的坐标（x={x:.6g}, y={y:.6g}）像是纬度、经度顺序颠倒",
                    file=file_name or None,
                    row=label,
                )
            )
        else:
            problems.append(
                Problem(
                    rule="outside_china",
                    message=f"{text}的坐标（x={x:.6g}, y={y:.6g}）超出中国范围"
                    f"（经度 {_RANGE_TEXT}）",
                    file=file_name or None,
                    row=label,
                )
            )
    first = problems[0]
    if first.rule == "swapped_axes":
        head = (
            f"{where} 的经纬度顺序颠倒（{texts[0]}：x={b[bad[0], 0]:.6g}, y={b[bad[0], 1]:.6g}），"
            "请检查数据或坐标系设置"
        )
    else:
        head = (
            f"{where} 有坐标超出中国范围（{texts[0]}：x={b[bad[0], 0]:.6g}, "
            f"y={b[bad[0], 1]:.6g}），坐标系可能设置错误"
        )
    if bad.size > 1:
        head += f"；共 {bad.size} 个要素有此问题"
    raise InputError(head, problems)


def to_storage(
    gdf: gpd.GeoDataFrame, crs: pyproj.CRS | str | int, *, file_name: str = ""
) -> gpd.GeoDataFrame:
    """Reproject to the storage CRS (EPSG:4490) and check the result lies in China.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Rows whose coordinates are in ``crs`` (whatever ``gdf.crs`` says).
    crs : pyproj.CRS, str or int
        The CRS the coordinates are really in, normally from :func:`detect_crs`.
    file_name : str, optional
        Name used in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4490, x = longitude, y = latitude.

    Raises
    ------
    onemap.errors.InputError
        From :func:`check_china_lonlat` (``outside_china``, ``swapped_axes``).
    """
    src = pyproj.CRS.from_user_input(crs)
    storage = pyproj.CRS.from_epsg(STORAGE_EPSG)
    out = gdf.set_crs(src, allow_override=True)
    if src.to_epsg() == STORAGE_EPSG:
        out = out.set_crs(storage, allow_override=True)
    else:
        out = out.to_crs(storage)  # geopandas transforms with always_xy=True
    check_china_lonlat(out, file_name)
    return out
