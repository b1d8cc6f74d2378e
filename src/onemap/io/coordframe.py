"""Which coordinate frame a coordinate text file is in, checked line by line.

The header (坐标系, 计量单位, 带号, 几度分带, 中央子午线, and a zone written inside the
坐标系 text) and the points must agree: a 西安80 / 北京54 file is read only through
a workspace transformation the caller offers that starts from its datum and zone
(the bureau's parameters; never guessed), else refused at its 坐标系 line; a 带号 that
contradicts the central meridian, the 坐标系 text, the zone width or the zone prefix
of the points is refused at its line; every point is checked on its own (X/Y
swapped, digits lost in a cut, a prefix that differs from the first point's, lon/lat
in a file labelled 米). The result is the CGCS2000 CRS and every point as
(easting, northing) without the zone prefix, or (lon, lat).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from onemap.errors import Report
from onemap.geo.transform import Transformation, is_local, parse_crs, tm_origin
from onemap.io.coordtext import (
    Entry,
    ParcelLines,
    PointLine,
    Problems,
    central_meridian,
    gk_crs,
    load_settings,
    normalize_line,
    parse_angle,
    parse_quantity,
    width_of_zone,
)

__all__ = ["Frame", "check_datum", "legacy_transform", "resolve_points"]

_LENGTH_UNITS = ("米", "M")
_DEGREE_UNITS = ("度", "°", "DEG", "DEGREE", "十进制度", "经纬度")
_DMS_UNITS = ("度分秒", "DMS")
_METRE_UNITS = ("米", "M", "METER", "METRE", "公尺")
_LEGACY_DATUMS = (("西安", "1980西安坐标系"), ("XIAN", "1980西安坐标系"), ("80", "1980西安坐标系"),
                  ("北京", "1954北京坐标系"), ("BEIJING", "1954北京坐标系"),
                  ("54", "1954北京坐标系"))
_CGCS2000_WORDS = ("2000", "CGCS")
#: Geodetic CRS of each legacy datum in the EPSG register (4610 Xian 1980, 4214 Beijing 1954):
#: a transformation serves a file when its source CRS is on that datum.
_LEGACY_GEODETIC = {"1980西安坐标系": 4610, "1954北京坐标系": 4214}
_DMS_MARKS = "°度'\"分秒:"


@dataclass
class Frame:
    """The frame of a file: lon/lat, or a Gauss-Krüger zone (CRS without prefix)."""

    geographic: bool
    zone: int | None = None
    width: int | None = None
    prefixed: bool = False
    crs: str = "EPSG:4490"


def _first_int(pattern: str, text: str) -> int | None:
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def _legacy(attrs: dict[str, Entry]) -> str | None:
    datum = attrs.get("坐标系")
    if datum is None or not datum.value:
        return None
    upper = datum.value.upper()
    if any(w in upper for w in _CGCS2000_WORDS) and "WGS" not in upper:
        return None
    return next((name for w, name in _LEGACY_DATUMS if w in upper), None)


def _on_datum(t: Transformation, legacy: str) -> bool:
    """Whether ``t`` starts from the legacy datum (a plane or lon/lat CRS on it)."""
    if is_local(t.source_crs):
        return False
    geodetic = parse_crs(t.source_crs).geodetic_crs
    return geodetic is not None and geodetic.to_epsg() == _LEGACY_GEODETIC[legacy]


def check_datum(attrs: dict[str, Entry], probs: Problems, what: str,
                transforms: Sequence[Transformation] = ()) -> bool:
    """Whether 坐标系 is CGCS2000 (or not written), or a legacy datum a transformation serves.

    Parameters
    ----------
    attrs : dict
        Header entries.
    probs : Problems
        Where the refusal goes (at the 坐标系 line).
    what : str
        File kind for messages.
    transforms : sequence of Transformation
        The workspace's transformations the caller offers (named with
        ``--transform`` or the defaults); a 西安80 / 北京54 file is read when one
        starts from its datum (the zone is matched by :func:`legacy_transform`).
    """
    datum = attrs.get("坐标系")
    if datum is None or not datum.value:
        return True
    upper = datum.value.upper()
    if any(w in upper for w in _CGCS2000_WORDS) and "WGS" not in upper:
        return True
    legacy = _legacy(attrs)
    if legacy:
        if any(_on_datum(t, legacy) for t in transforms):
            return True
        params = attrs.get("转换参数")
        given = params is not None and params.value.replace(",", "").strip()
        extra = (f"；第 {params.line} 行给出的转换参数不被采用（转换参数须经本局登记）" if given else "")
        offered = "、".join(f"“{t.label}”（{t.source_crs}）" for t in transforms)
        have = (f"；提供的坐标转换 {offered} 都不是从{legacy}出发" if offered else
                f"；工作空间没有从{legacy}出发的坐标转换")
        probs.add("coord_legacy_datum", datum.line,
                  f"{what}的坐标系为“{datum.value}”（{legacy}）：需要本局的坐标转换参数才能转换为 "
                  f"2000 国家大地坐标系（CGCS2000），平台不猜测转换参数{extra}{have}；请用 onemap crs fit"
                  " 或 onemap crs add 登记本局转换参数，再用 --transform 指定或设为默认", "坐标系")
        return False
    probs.add("coord_crs", datum.line,
              f"坐标系为“{datum.value}”：只接受 2000 国家大地坐标系（CGCS2000）", "坐标系")
    return False


def legacy_transform(attrs: dict[str, Entry], frame: Frame, probs: Problems, what: str,
                     transforms: Sequence[Transformation]) -> tuple[Transformation, float] | None:
    """The transformation serving a legacy-datum file's zone, and the easting offset to add back.

    Returns None for a CGCS2000 file; adds a problem at the 坐标系 line (and returns
    None) when no offered transformation starts from the file's datum and zone.
    The frame's eastings have the zone prefix removed; the offset puts it back when
    the transformation's source CRS has prefixed eastings.
    """
    legacy = _legacy(attrs)
    if legacy is None:
        return None
    datum = attrs["坐标系"]
    for t in transforms:
        if not _on_datum(t, legacy):
            continue
        source = parse_crs(t.source_crs)
        if frame.geographic:
            if source.is_geographic:
                return t, 0.0
            continue
        origin = tm_origin(t.source_crs)
        cm = central_meridian(frame.zone or 0, frame.width or 3)
        if origin is None or abs(origin[0] - cm) > 1e-9:
            continue
        if origin[1] == 500000:
            return t, 0.0
        if origin[1] == (frame.zone or 0) * 1_000_000 + 500000:
            return t, (frame.zone or 0) * 1_000_000.0
    cm = central_meridian(frame.zone or 0, frame.width or 3)
    where = ("经纬度" if frame.geographic else
             f"第 {frame.zone} 带（{frame.width} 度带，中央子午线 {cm:g}°）")
    offered = "、".join(f"“{t.label}”（{t.source_crs}）" for t in transforms if _on_datum(t, legacy))
    probs.add("coord_legacy_datum", datum.line,
              f"{what}的坐标为{legacy}{where}，提供的坐标转换 {offered} 的源坐标系不是这一带"
              "；请登记该带的转换参数", "坐标系")
    return None


def _header_zone(attrs: dict[str, Entry], probs: Problems) -> tuple[
        int | None, int | None, float | None, int] | None:
    """带号, 几度分带 and central meridian from the header, checked against each other.

    Returns (zone, width, central meridian, line of 带号 or 0) or None on a contradiction.
    """
    zone_e, width_e = attrs.get("带号"), attrs.get("几度分带")
    cm_e = attrs.get("中央子午线") or attrs.get("中央经线")
    datum = attrs.get("坐标系")
    zone = width = None
    cm: float | None = None
    zone_line = zone_e.line if zone_e else 0
    ok = True
    if zone_e is not None and zone_e.value:
        z = parse_quantity(zone_e.value)
        if z is None or z[0] != int(z[0]) or z[1] not in ("", "带"):
            probs.add("coord_zone", zone_e.line, f"带号“{zone_e.value}”不是整数", "带号")
            return None
        zone = int(z[0])
    if width_e is not None and width_e.value:
        w = parse_quantity(width_e.value)
        if w is None or w[0] not in (3, 6) or w[1] not in ("", "度", "°", "度带"):
            probs.add("coord_zone", width_e.line, f"几度分带为“{width_e.value}”：只能是 3 或 6",
                      "几度分带")
            return None
        width = int(w[0])
    if cm_e is not None and cm_e.value:
        a = parse_angle(cm_e.value.rstrip("EＥ东"))
        if a is None or not 70 <= a[0] <= 140:
            probs.add("coord_zone", cm_e.line, f"中央子午线“{cm_e.value}”不是我国范围内的经度",
                      "中央子午线")
            return None
        cm = a[0]
    if datum is not None and datum.value:  # "CGCS2000 3度带 36带", "..._CM_108E"
        text = normalize_line(datum.value).upper()
        d_width = _first_int(r"(\d)\s*(?:度带|度分带|DEGREE)", text)
        d_zone = _first_int(r"(?<![\d.])(\d{2})\s*(?:带|号带|ZONE)", text) or _first_int(
            r"ZONE[_ ]?(\d{2})", text)
        d_cm = _first_int(r"(?:CM|中央经线|中央子午线)[_ ]?(\d{2,3})", text)
        for got, mine, what in ((d_width, width, "几度分带"), (d_zone, zone, "带号")):
            if got is not None and mine is not None and got != mine:
                line = (width_e if what == "几度分带" else zone_e)
                probs.add("coord_zone", line.line if line else datum.line,
                          f"{what}为 {mine}，与第 {datum.line} 行坐标系“{datum.value}”中的 {got} 矛盾",
                          what)
                ok = False
        width = width if width is not None else d_width
        zone = zone if zone is not None else d_zone
        if d_cm is not None:
            if cm is not None and abs(cm - d_cm) > 1e-9:
                probs.add("coord_zone", cm_e.line if cm_e else datum.line,
                          f"中央子午线 {cm:g} 与第 {datum.line} 行坐标系中的中央经线 {d_cm} 矛盾",
                          "中央子午线")
                ok = False
            cm = cm if cm is not None else float(d_cm)
    if not ok:
        return None
    zones = load_settings().zones
    if zone is not None:
        zone_width = width_of_zone(zone)
        if zone_width is None:
            probs.add("coord_zone", zone_line or None,
                      f"带号 {zone} 不是我国的 3 度带（{zones[3][0]}–{zones[3][1]}）或 6 度带"
                      f"（{zones[6][0]}–{zones[6][1]}）带号", "带号")
            return None
        if width is not None and width != zone_width:
            probs.add("coord_zone", zone_line or None,
                      f"带号 {zone} 是 {zone_width} 度带带号，与第 {width_e.line if width_e else '?'} "
                      f"行几度分带={width} 矛盾", "带号")
            return None
        width = zone_width
    if cm is not None:
        if zone is not None:
            expected = central_meridian(zone, width or 3)
            if abs(expected - cm) > 1e-9:
                probs.add("coord_zone", zone_line or None,
                          f"带号 {zone}（{width} 度带）的中央子午线应为 {expected:g}°，与第 "
                          f"{cm_e.line if cm_e else datum.line} 行的中央子午线 {cm:g}° 矛盾", "带号")
                return None
        else:
            w = width or 3
            z = cm / 3 if w == 3 else (cm + 3) / 6
            if z != int(z):
                where = cm_e.line if cm_e else (datum.line if datum else None)
                probs.add("coord_zone", where, f"中央子午线 {cm:g}° 不是 {w} 度带的中央子午线",
                          "中央子午线")
                return None
            zone, width = int(z), w
    return zone, width, cm, zone_line


def _unit_kind(attrs: dict[str, Entry], probs: Problems) -> str | None:
    """'m', 'deg', 'dms', '' (not written) or None (refused)."""
    unit = attrs.get("计量单位")
    if unit is None or not unit.value:
        return ""
    u = normalize_line(unit.value).upper()
    if u in _DMS_UNITS:
        return "dms"
    if u in _DEGREE_UNITS:
        return "deg"
    if u in _METRE_UNITS:
        return "m"
    probs.add("coord_unit", unit.line, f"计量单位为“{unit.value}”：只接受 米、度 或 度分秒", "计量单位")
    return None


def _looks_like_degrees(x: float, y: float) -> bool:
    return abs(x) <= 180 and abs(y) <= 180


def _metric(text: str) -> float | None:
    q = parse_quantity(text)
    if q is None or q[1] not in ("",) + _LENGTH_UNITS:
        return None
    return q[0]


def resolve_points(parcels: list[ParcelLines], attrs: dict[str, Entry], probs: Problems,
                   report: Report, dms_marks_mean_degrees: bool = False,
                   ) -> tuple[Frame | None, dict[int, tuple[float, float]]] | None:
    """Find the frame and read every point.

    Parameters
    ----------
    parcels : list of ParcelLines
        Parcels with their point lines.
    attrs : dict
        Header entries.
    probs : Problems
        Where problems go, each at its line.
    report : onemap.errors.Report
        Where assumptions go (zone width inferred, 带号 ignored for lon/lat).
    dms_marks_mean_degrees : bool
        Without 计量单位, coordinates written with 度分秒 marks are lon/lat.

    Returns
    -------
    (Frame, dict) or None
        The frame (None when a problem was found) and each point line's
        (easting without prefix, northing) or (lon, lat).
    """
    s = load_settings()
    unit = _unit_kind(attrs, probs)
    if unit == "" and dms_marks_mean_degrees and any(
            any(c in normalize_line(pt.x_text + pt.y_text) for c in _DMS_MARKS)
            for p in parcels for pt in p.points):
        unit = "deg"
    header = _header_zone(attrs, probs)
    if unit is None or header is None:
        return None
    h_zone, h_width, _, zone_line = header
    unit_e = attrs.get("计量单位")
    points = [pt for p in parcels for pt in p.points]
    if not points:
        return None
    # geographic or metric: the unit, else what the first point looks like
    first = points[0]
    dms_seen = next((pt for pt in points if any(c in normalize_line(pt.x_text + pt.y_text)
                                                for c in _DMS_MARKS)), None)
    geographic = unit in ("deg", "dms")
    if not geographic:
        if dms_seen is not None:
            if unit == "m":
                probs.add("coord_unit", dms_seen.line,
                          f"坐标写成度分秒（“{dms_seen.x_text}”），但第 {unit_e.line} 行计量单位为米",
                          "计量单位")
            else:
                probs.add("coord_unit", dms_seen.line,
                          f"坐标写成度分秒（“{dms_seen.x_text}”）；请在属性中写明 计量单位=度",
                          "计量单位")
            return None
        fx, fy = _metric(first.x_text), _metric(first.y_text)
        if fx is not None and fy is not None and _looks_like_degrees(fx, fy):
            if unit == "m":
                probs.add("coord_unit", first.line,
                          f"坐标 X={first.x_text}、Y={first.y_text} 看起来是经纬度（度），但第 "
                          f"{unit_e.line} 行计量单位为米；若是经纬度，请写 计量单位=度", "计量单位")
            else:
                probs.add("coord_unit", first.line,
                          f"坐标 X={first.x_text}、Y={first.y_text} 看起来是经纬度（度），文件没有写"
                          "计量单位，无法确定带号；若是经纬度，请在属性中写 计量单位=度", "计量单位")
            return None
    out: dict[int, tuple[float, float]] = {}
    if geographic:
        lo_lon, hi_lon = s.longitude
        lo_lat, hi_lat = s.latitude
        for pt in points:
            lat = parse_angle(pt.x_text, packed_dms=unit == "dms")
            lon = parse_angle(pt.y_text, packed_dms=unit == "dms")
            if lat is None or lon is None:
                bad, txt = ("X", pt.x_text) if lat is None else ("Y", pt.y_text)
                probs.add("coord_value", pt.line,
                          f"{bad} 坐标“{txt}”不是有效的经纬度（十进制度或度分秒，分、秒须小于 60）", bad)
                continue
            la, lo = lat[0], lon[0]
            if lo_lon <= la <= hi_lon and lo_lat <= lo <= hi_lat:
                probs.add("coord_xy_swapped", pt.line,
                          f"X={pt.x_text} 像经度、Y={pt.y_text} 像纬度，X/Y 可能颠倒（X 为纬度，Y 为经度）",
                          "X")
                continue
            if not (lo_lat <= la <= hi_lat and lo_lon <= lo <= hi_lon):
                probs.add("coord_value", pt.line,
                          f"经纬度（纬度 {la:.6f}，经度 {lo:.6f}）不在我国范围内（纬度 {lo_lat:g}–{hi_lat:g}，"
                          f"经度 {lo_lon:g}–{hi_lon:g}）", "X")
                continue
            out[pt.line] = (lo, la)
        if h_zone is not None:
            report.add("coord_zone_ignored",
                       f"坐标为经纬度，属性中的带号 {h_zone} 不参与计算", file=probs.file,
                       row=str(zone_line) if zone_line else None, field="带号")
        return (Frame(True) if not probs else None), out
    # metric: classify every point
    lo_n, hi_n = s.northing_m
    lo_e, hi_e = s.easting_m
    ref: tuple[PointLine, int | None] | None = None  # first point and its prefix
    values: dict[int, tuple[float, float, int | None]] = {}
    for pt in points:
        x, y = _metric(pt.x_text), _metric(pt.y_text)
        if x is None or y is None:
            bad, txt = ("X", pt.x_text) if x is None else ("Y", pt.y_text)
            probs.add("coord_value", pt.line, f"{bad} 坐标不是数字：“{txt}”", bad)
            continue
        if x >= 1e7 and y < 1e7:
            probs.add("coord_xy_swapped", pt.line,
                      f"X={pt.x_text} 像带带号的横坐标、Y={pt.y_text} 像纵坐标，X/Y 可能颠倒"
                      "（X 为北向纵坐标，Y 为东向横坐标，带号在 Y 前）", "X")
            continue
        if 1e6 <= y < 1e7 and lo_e <= x <= hi_e:
            probs.add("coord_xy_swapped", pt.line,
                      f"X={pt.x_text} 像横坐标、Y={pt.y_text} 像纵坐标，X/Y 可能颠倒"
                      "（X 为北向纵坐标，Y 为东向横坐标）", "X")
            continue
        if not lo_n <= x <= hi_n:
            probs.add("coord_value", pt.line,
                      f"X 坐标 {pt.x_text} 不在我国纵坐标范围（{lo_n:.0f}–{hi_n:.0f} 米）内，"
                      "数字可能残缺", "X")
            continue
        prefix: int | None = None
        easting = y
        if y >= 1e7:
            prefix = int(y // 1e6)
            easting = y - prefix * 1e6
        elif y >= 1e6:
            probs.add("coord_value", pt.line,
                      f"Y 坐标 {pt.y_text} 的位数不对：带带号的 Y 为 8 位整数（如 36512345.678），"
                      "不带带号的为 6 位", "Y")
            continue
        if not lo_e <= easting <= hi_e:
            probs.add("coord_value", pt.line,
                      f"Y 坐标 {pt.y_text} 去掉带号后的横坐标 {easting:.3f} 不在 {lo_e:.0f}–{hi_e:.0f} "
                      "米内，数字可能残缺", "Y")
            continue
        if prefix is not None and width_of_zone(prefix) is None:
            probs.add("coord_zone", pt.line,
                      f"Y 坐标 {pt.y_text} 的带号前缀 {prefix} 不是我国的带号", "Y")
            continue
        if ref is None:
            ref = (pt, prefix)
        elif (prefix is None) != (ref[1] is None):
            has = "带" if ref[1] is not None else "不带"
            probs.add("coord_zone", pt.line,
                      f"Y 坐标 {pt.y_text} {'不带' if prefix is None else '带'}带号前缀，而第 "
                      f"{ref[0].line} 行起的 Y 坐标{has}带号；数字可能残缺或混入了别的坐标", "Y")
            continue
        elif prefix is not None and prefix != ref[1]:
            probs.add("coord_zone", pt.line,
                      f"Y 坐标 {pt.y_text} 的带号前缀为 {prefix}，与第 {ref[0].line} 行的带号 {ref[1]} "
                      "不一致；一个文件只能有一个带号", "Y")
            continue
        if prefix is not None and h_zone is not None and prefix != h_zone:
            probs.add("coord_zone", pt.line,
                      f"Y 坐标 {pt.y_text} 的带号前缀为 {prefix}，与第 {zone_line} 行的带号={h_zone} 不一致",
                      "Y")
            continue
        values[pt.line] = (easting, x, prefix)
    if probs or ref is None:
        return None
    prefixed = ref[1] is not None
    zone = ref[1] if prefixed else h_zone
    if zone is None:
        probs.add("coord_zone", ref[0].line,
                  "无法确定带号：Y 坐标没有带号前缀，属性中也没有带号或中央子午线", "带号")
        return None
    width = h_width or width_of_zone(zone)
    if prefixed and h_width is not None and h_width != width_of_zone(zone):
        width_e = attrs.get("几度分带")
        probs.add("coord_zone", width_e.line if width_e else ref[0].line,
                  f"几度分带={h_width}，但 Y 坐标的带号前缀 {zone}（第 {ref[0].line} 行）是 "
                  f"{width_of_zone(zone)} 度带带号", "几度分带")
        return None
    if h_width is None:
        report.add("coord_assumed_width", f"未写几度分带，按带号 {zone} 推断为 {width} 度带",
                   file=probs.file, field="几度分带")
    crs = gk_crs(zone, width or 3, prefixed=False)
    for line, (e, n, _) in values.items():
        out[line] = (e, n)
    return Frame(False, zone, width, prefixed, crs), out
