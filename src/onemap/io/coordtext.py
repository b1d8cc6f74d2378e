r"""Shared engine of the coordinate text readers (报盘 and 矿业权拐点 files).

The two formats differ only in their grammar (:mod:`onemap.io.bopan`,
:mod:`onemap.io.guaidian`). Both hand this module the same things: attribute
entries with their line numbers, and parcels made of point lines. This module

* decodes the bytes (UTF-8 with or without BOM, else GBK) and splits lines as an
  editor counts them (``\r\n``, ``\r`` or ``\n``; blank lines counted);
* reads numbers as people write them (full-width digits and punctuation, spaces,
  units after the number: ``7.7936公顷``, ``4207500.12米``) and angles in decimal
  degrees or 度分秒 (``37°54′12.345″``, ``37度54分12.345秒``, ``37:54:12.345``,
  packed ``375412.345``);
* finds the coordinate frame (CGCS2000 Gauss-Krüger zone, or lon/lat) from the
  header and the points, refusing every contradiction at the line where it is;
* treats the header as a contract (point count, ring closure, ≥ 3 distinct points,
  declared area), so a damaged file is refused instead of read smaller;
* builds the geometry (面 → polygon, 线 → line, 点 → point) in CGCS2000 lon/lat.

Parameters (zone ranges, plausible coordinates, closure and area policies) are in
``io/data/coordinate_files.yaml``.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import yaml
from pyproj import Transformer

from onemap.errors import DomainDataError, InputError, Problem, ReadError, Report
from onemap.geo.area import M2_PER_HECTARE, M2_PER_MU, ellipsoidal_area

__all__ = [
    "CoordinateFile",
    "Entry",
    "ParcelLines",
    "PointLine",
    "build_file",
    "check_declared_area",
    "decode_text",
    "gk_crs",
    "load_settings",
    "normalize_line",
    "parse_angle",
    "parse_quantity",
    "split_lines",
]

DATA_FILE = Path(__file__).resolve().parent / "data" / "coordinate_files.yaml"
#: Environment variable of the bureau's folder of edited domain tables.
ENV_OVERRIDE_DIR = "ONEMAP_DOMAIN_DIR"
#: At most this many problems are listed.
MAX_PROBLEMS = 200

#: Shapes of 图形属性 and the words that mean them.
SHAPES = {"面": ("面", "面状", "多边形", "区", "POLYGON", "AREA"),
          "线": ("线", "线状", "折线", "LINE", "POLYLINE", "LINESTRING"),
          "点": ("点", "点状", "POINT")}

#: Area units (written after a number or in a header) → m².
AREA_UNITS = {
    "平方米": 1.0, "M2": 1.0, "M²": 1.0, "㎡": 1.0,
    "公顷": M2_PER_HECTARE, "HA": M2_PER_HECTARE,
    "亩": M2_PER_MU,
    "平方千米": 1e6, "平方公里": 1e6, "KM2": 1e6, "KM²": 1e6, "㎢": 1e6,
}
_LENGTH_UNITS = ("米", "M")
_DEGREE_UNITS = ("度", "°", "DEG", "DEGREE", "十进制度", "经纬度")
_DMS_UNITS = ("度分秒", "DMS")
_METRE_UNITS = ("米", "M", "METER", "METRE", "公尺")
_LEGACY_DATUMS = (("西安", "1980西安坐标系"), ("XIAN", "1980西安坐标系"), ("80", "1980西安坐标系"),
                  ("北京", "1954北京坐标系"), ("BEIJING", "1954北京坐标系"),
                  ("54", "1954北京坐标系"))
_CGCS2000_WORDS = ("2000", "CGCS")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DMS = re.compile(
    r"^\s*([+-]?\d+(?:\.\d+)?)\s*(?:°|度|:)\s*(?:(\d+(?:\.\d+)?)\s*(?:'|分|:)?\s*)?"
    r"(?:(\d+(?:\.\d+)?)\s*(?:\"|''|秒)?)?\s*([NSEW北南东西]?)\s*$")


# ---------------------------------------------------------------------------
# settings


@dataclass(frozen=True)
class FormatPolicy:
    """Contract rules of one format (a section of ``coordinate_files.yaml``)."""

    ring_closure: str
    declared_area_unit: str
    declared_area_larger: str
    relative: float
    absolute_m2: float


@dataclass(frozen=True)
class Settings:
    """Parameters of the readers (``coordinate_files.yaml``)."""

    zones: dict[int, tuple[int, int]]
    northing_m: tuple[float, float]
    easting_m: tuple[float, float]
    longitude: tuple[float, float]
    latitude: tuple[float, float]
    formats: dict[str, FormatPolicy]


def _settings_path() -> Path:
    folder = os.environ.get(ENV_OVERRIDE_DIR, "").strip()
    if folder and (Path(folder) / DATA_FILE.name).is_file():
        return Path(folder) / DATA_FILE.name
    return DATA_FILE


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Settings:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        zones = {int(k): (int(v[0]), int(v[1])) for k, v in raw["zones"].items()}
        formats = {}
        for name in ("bopan", "guaidian"):
            f = raw[name]
            if f["ring_closure"] not in ("required", "optional"):
                raise ValueError(f"{name}.ring_closure 须为 required 或 optional")
            if f["declared_area_larger"] not in ("refuse", "warn"):
                raise ValueError(f"{name}.declared_area_larger 须为 refuse 或 warn")
            if f["declared_area_unit"] not in AREA_UNITS:
                raise ValueError(f"{name}.declared_area_unit 不是已知面积单位")
            tol = f["area_tolerance"]
            formats[name] = FormatPolicy(f["ring_closure"], f["declared_area_unit"],
                                         f["declared_area_larger"], float(tol["relative"]),
                                         float(tol["absolute_m2"]))

        def pair(key: str) -> tuple[float, float]:
            return float(raw[key][0]), float(raw[key][1])

        return Settings(zones, pair("northing_m"), pair("easting_m"), pair("longitude"),
                        pair("latitude"), formats)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise DomainDataError(f"坐标文件参数表 {path} 无效：{exc}") from exc


def load_settings() -> Settings:
    """The reader parameters (the bureau's copy when ``ONEMAP_DOMAIN_DIR`` has one)."""
    path = _settings_path()
    return _load(str(path), path.stat().st_mtime)


def gk_crs(zone: int, zone_width: int = 3, *, prefixed: bool = True) -> str:
    """Return the CGCS2000 Gauss-Krüger CRS of a zone.

    Parameters
    ----------
    zone : int
        Zone number: 25–45 for 3° zones, 13–23 for 6° zones (China).
    zone_width : {3, 6}
        Zone width in degrees.
    prefixed : bool
        True when eastings carry the zone number in front (``36512345.678``).

    Returns
    -------
    str
        ``"EPSG:nnnn"``.

    Raises
    ------
    ValueError
        If the zone is outside China's zones for that width.

    Examples
    --------
    >>> gk_crs(36), gk_crs(36, prefixed=False), gk_crs(18, 6)
    ('EPSG:4524', 'EPSG:4545', 'EPSG:4496')
    """
    zones = load_settings().zones
    if zone_width not in zones:
        raise ValueError(f"分带宽度须为 3 或 6，而不是 {zone_width}")
    lo, hi = zones[zone_width]
    if not lo <= zone <= hi:
        raise ValueError(f"{zone_width} 度带带号 {zone} 不在我国范围（{lo}–{hi}）内")
    if zone_width == 3:
        return f"EPSG:{(4513 if prefixed else 4534) + zone - 25}"
    return f"EPSG:{(4491 if prefixed else 4502) + zone - 13}"


def _width_of_zone(zone: int) -> int | None:
    for width, (lo, hi) in load_settings().zones.items():
        if lo <= zone <= hi:
            return width
    return None


def _central_meridian(zone: int, width: int) -> float:
    return 3.0 * zone if width == 3 else 6.0 * zone - 3.0


# ---------------------------------------------------------------------------
# text


def decode_text(raw: bytes, file_name: str, encoding: str | None,
                what: str = "坐标文件") -> tuple[str, str]:
    """Decode bytes: a given encoding, else UTF-8 (BOM or not), else GBK (GB18030).

    Returns
    -------
    (str, str)
        The text and the encoding used (``"UTF-8"``, ``"UTF-8-BOM"``, ``"GBK"`` …).
    """
    if encoding:
        try:
            return raw.decode(encoding), encoding.upper()
        except (UnicodeDecodeError, LookupError) as exc:
            msg = f"{what} {file_name} 不能按 {encoding} 解码（{exc}）"
            raise ReadError(msg, [Problem("coord_encoding", msg, file=file_name)]) from exc
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8):].decode("utf-8"), "UTF-8-BOM"
        except UnicodeDecodeError as exc:
            msg = f"{what} {file_name} 以 UTF-8 BOM 开头，但内容不是有效的 UTF-8（{exc}）"
            raise ReadError(msg, [Problem("coord_encoding", msg, file=file_name)]) from exc
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "UTF-16"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "GBK"
    except UnicodeDecodeError as exc:
        msg = f"{what} {file_name} 既不是 GBK 也不是 UTF-8 编码（{exc}）"
        raise ReadError(msg, [Problem("coord_encoding", msg, file=file_name)]) from exc


def split_lines(text: str) -> list[str]:
    r"""Lines as an editor numbers them (``\r\n``, ``\r`` or ``\n`` end a line).

    Examples
    --------
    >>> split_lines("a\r\n\r\nb\rc\n")
    ['a', '', 'b', 'c']
    """
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def normalize_line(line: str) -> str:
    """Full-width characters to ASCII, primes to quotes, ideographic spaces to spaces.

    Examples
    --------
    >>> normalize_line("４２０７５００．１２，Ｊ１＠　")
    '4207500.12,J1@'
    """
    text = unicodedata.normalize("NFKC", line)
    text = (text.replace("′′", '"').replace("″", '"').replace("′", "'").replace("’", "'")
            .replace("‘", "'").replace("“", '"').replace("”", '"').replace("、", ","))
    return text.strip()


def parse_quantity(text: str) -> tuple[float, str] | None:
    """A number with an optional unit after it (``"7.7936公顷"`` → ``(7.7936, "公顷")``).

    Returns ``None`` when the text is not a finite number followed only by a unit
    word (letters, CJK characters, ², ㎡).

    Examples
    --------
    >>> parse_quantity(" 7.7936 公顷"), parse_quantity("12"), parse_quantity("1.2.3")
    ((7.7936, '公顷'), (12.0, ''), None)
    """
    s = normalize_line(text).replace(" ", "")
    m = _NUMBER.match(s)
    if not m:
        return None
    unit = s[m.end():]
    if unit and not re.fullmatch(r"[A-Za-z²\u3000-\u9fff㎡㎢]+", unit):
        return None
    value = float(m.group(0))
    if not math.isfinite(value):
        return None
    return value, unit.upper() if unit.isascii() else unit


def _dms_value(deg: float, minutes: float, seconds: float, sign: float) -> float | None:
    if minutes >= 60 or seconds >= 60 or minutes < 0 or seconds < 0:
        return None
    return sign * (abs(deg) + minutes / 60.0 + seconds / 3600.0)


def parse_angle(text: str, *, packed_dms: bool = False) -> tuple[float, bool] | None:
    """An angle in degrees: decimal, 度分秒 with marks, or packed ``DDDMMSS.sss``.

    Parameters
    ----------
    text : str
        ``"106.2034"``, ``"106°12′34.567″"``, ``"106度12分34.567秒"``,
        ``"106:12:34.567"``, ``"1061234.567"`` (packed, any value above 360) or,
        with ``packed_dms``, ``"106.1234567"`` (度.分分秒秒…, 计量单位=度分秒).
    packed_dms : bool
        Read plain numbers as 度.分秒 (``DD.MMSSsss``).

    Returns
    -------
    (float, bool) or None
        Decimal degrees and whether the text was 度分秒; ``None`` if the text is
        no angle or its minutes/seconds are 60 or more.

    Examples
    --------
    >>> round(parse_angle("37°54′36″")[0], 6), round(parse_angle("375436.000")[0], 6)
    (37.91, 37.91)
    """
    s = normalize_line(text)
    if s.endswith(("度", "°")) and _NUMBER.fullmatch(s[:-1].strip() or "x"):
        return float(s[:-1]), False
    m = _DMS.match(s)
    if m and any(c in s for c in "°度:'\"分秒"):
        deg = float(m.group(1))
        minutes = float(m.group(2) or 0.0)
        seconds = float(m.group(3) or 0.0)
        if m.group(2) and "." in m.group(2) and m.group(3):
            return None
        sign = -1.0 if deg < 0 or m.group(4) in ("S", "W", "南", "西") else 1.0
        value = _dms_value(deg, minutes, seconds, sign)
        return None if value is None else (value, True)
    q = parse_quantity(s)
    if q is None or q[1] not in ("", "度", "°"):
        return None
    value = q[0]
    sign = -1.0 if value < 0 else 1.0
    if abs(value) > 360:  # packed DDDMMSS.sss
        whole = abs(value)
        deg = math.floor(whole / 10000)
        minutes = math.floor((whole - deg * 10000) / 100)
        seconds = whole - deg * 10000 - minutes * 100
        v = _dms_value(deg, minutes, seconds, sign)
        return None if v is None else (v, True)
    if packed_dms:
        digits = s.lstrip("+-").split(".")
        deg = int(digits[0])
        frac = (digits[1] if len(digits) > 1 else "").ljust(4, "0")
        minutes = int(frac[:2])
        seconds = float(frac[2:4] + "." + frac[4:]) if len(frac) > 4 else float(frac[2:4])
        v = _dms_value(deg, minutes, seconds, sign)
        return None if v is None else (v, True)
    return value, False


# ---------------------------------------------------------------------------
# what the grammars hand over


@dataclass
class Entry:
    """A ``名称=值`` entry and the line it is on."""

    value: str
    line: int


@dataclass
class PointLine:
    """One point as written: its name, ring (圈号/块段) and coordinate texts."""

    line: int
    name: str
    ring: int
    x_text: str
    y_text: str


@dataclass
class ParcelLines:
    """A parcel as written.

    Attributes
    ----------
    line : int
        Line of its header (or of its first point when the format has no header).
    label : str
        Parcel id for messages (地块号, 地块名称 or a sequence number).
    shape : str
        ``"面"``, ``"线"`` or ``"点"``.
    points : list of PointLine
        In file order.
    declared_points : int or None
        界址点数 / 拐点数 of the header.
    declared_area : (float, str, int) or None
        Declared area value, its unit (empty: the format's default) and decimals.
    header : dict
        Header values kept as columns of the result.
    """

    line: int
    label: str
    shape: str = "面"
    points: list[PointLine] = field(default_factory=list)
    declared_points: int | None = None
    declared_area: tuple[float, str, int] | None = None
    header: dict[str, Any] = field(default_factory=dict)


@dataclass
class CoordinateFile:
    """A coordinate text file read into parcels.

    Attributes
    ----------
    gdf : geopandas.GeoDataFrame
        One row per parcel in EPSG:4490: the header columns of the format, plus
        ``shape`` (面/线/点), ``line`` (header line), ``area_m2`` (ellipsoidal,
        面 only, else NaN), ``planar_area_m2`` (Gauss plane, NaN for lon/lat
        files) and ``length_m`` (geodesic, 线 only, else NaN).
    attributes : dict
        Header entries as written (``[属性描述]`` or ``[登记项目]``).
    attribute_lines : dict
        Line of each attribute.
    sections : dict
        Other sections kept as metadata: section name → {名称: 值}.
    name : str or None
        Project name (项目名称 / 矿山名称 …) when the file gives one.
    source_crs : str
        CRS of the coordinates as written (``"EPSG:4524"``, ``"EPSG:4490"``).
    zone, zone_width : int or None
        Gauss-Krüger zone and width (None for lon/lat files).
    geographic : bool
        True when the coordinates are lon/lat (计量单位=度).
    file_name, encoding : str
        For messages; the decoding used.
    format : str
        ``"报盘"`` or ``"拐点"``.
    report : onemap.errors.Report
        Non-fatal remarks (assumptions, declared area smaller than drawn …).
    """

    gdf: gpd.GeoDataFrame
    attributes: dict[str, str]
    attribute_lines: dict[str, int]
    sections: dict[str, dict[str, str]]
    name: str | None
    source_crs: str
    zone: int | None
    zone_width: int | None
    geographic: bool
    file_name: str
    encoding: str
    format: str
    report: Report = field(default_factory=Report)


class Problems:
    """Problems of one file, each at a line."""

    def __init__(self, file_name: str):
        self.file = file_name
        self.items: list[Problem] = []

    def add(self, rule: str, line: int | None, message: str, fld: str | None = None) -> None:
        """Add a problem at a 1-based line (None: the whole file)."""
        if len(self.items) >= MAX_PROBLEMS:
            return
        text = f"第 {line} 行：{message}" if line is not None else message
        self.items.append(Problem(rule, text, file=self.file,
                                  row=str(line) if line is not None else None, field=fld))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, what: str) -> None:
        """Raise :class:`InputError` with every problem, in line order."""
        if self.items:
            items = sorted(self.items, key=lambda p: int(p.row) if p.row else 0)
            raise InputError(f"{what} {self.file} 有 {len(items)} 处错误，未读取", items)


def shape_of(text: str) -> str | None:
    """面/线/点 for a 图形属性 value (empty → 面), None when unknown."""
    t = text.strip().upper()
    if not t:
        return "面"
    for shape, words in SHAPES.items():
        if t in words:
            return shape
    return None


# ---------------------------------------------------------------------------
# frame


@dataclass
class _Frame:
    geographic: bool
    zone: int | None = None
    width: int | None = None
    prefixed: bool = False
    crs: str = "EPSG:4490"


def _first_int(pattern: str, text: str) -> int | None:
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def _check_datum(attrs: dict[str, Entry], probs: Problems, what: str) -> bool:
    datum = attrs.get("坐标系")
    if datum is None or not datum.value:
        return True
    upper = datum.value.upper()
    if any(w in upper for w in _CGCS2000_WORDS) and "WGS" not in upper:
        return True
    legacy = next((name for w, name in _LEGACY_DATUMS if w in upper), None)
    if legacy:
        params = attrs.get("转换参数")
        given = params is not None and params.value.replace(",", "").strip()
        extra = (f"；第 {params.line} 行给出了转换参数，但平台尚未提供{legacy[4:]}到 CGCS2000 的转换"
                 if given else "")
        probs.add("coord_legacy_datum", datum.line,
                  f"{what}的坐标系为“{datum.value}”（{legacy}）：需要本局的坐标转换参数才能转换为 "
                  f"2000 国家大地坐标系（CGCS2000），平台不猜测转换参数{extra}；请先用本局转换参数"
                  "转换为 CGCS2000 后再提交", "坐标系")
        return False
    probs.add("coord_crs", datum.line,
              f"坐标系为“{datum.value}”：只接受 2000 国家大地坐标系（CGCS2000）", "坐标系")
    return False


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
        zone_width = _width_of_zone(zone)
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
            expected = _central_meridian(zone, width or 3)
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


def _resolve_points(parcels: list[ParcelLines], attrs: dict[str, Entry], probs: Problems,
                    report: Report, dms_marks_mean_degrees: bool = False,
                    ) -> tuple[_Frame, dict[int, tuple[float, float]]] | None:
    """The frame and every point as (easting|lon, northing|lat) in the source CRS, by line."""
    s = load_settings()
    unit = _unit_kind(attrs, probs)
    if unit == "" and dms_marks_mean_degrees and any(
            any(c in normalize_line(pt.x_text + pt.y_text) for c in "°度'\"分秒")
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
                                                for c in "°度'\"分秒:")), None)
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
        return (_Frame(True) if not probs else None), out
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
        if prefix is not None and _width_of_zone(prefix) is None:
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
    width = h_width or _width_of_zone(zone)
    if prefixed and h_width is not None and h_width != _width_of_zone(zone):
        width_e = attrs.get("几度分带")
        probs.add("coord_zone", width_e.line if width_e else ref[0].line,
                  f"几度分带={h_width}，但 Y 坐标的带号前缀 {zone}（第 {ref[0].line} 行）是 "
                  f"{_width_of_zone(zone)} 度带带号", "几度分带")
        return None
    if h_width is None:
        report.add("coord_assumed_width", f"未写几度分带，按带号 {zone} 推断为 {width} 度带",
                   file=probs.file, field="几度分带")
    crs = gk_crs(zone, width or 3, prefixed=False)
    for line, (e, n, _) in values.items():
        out[line] = (e, n)
    return _Frame(False, zone, width, prefixed, crs), out


# ---------------------------------------------------------------------------
# geometry and the contract


def _distinct(xy: list[tuple[float, float]]) -> int:
    return len(set(xy))


def _gap(points: list[PointLine]) -> tuple[PointLine, PointLine, str] | None:
    """Two successive points whose numbered names skip a number (J2 then J4)."""
    for a, b in zip(points, points[1:], strict=False):
        ma = re.fullmatch(r"([^\d]*)(\d+)", a.name)
        mb = re.fullmatch(r"([^\d]*)(\d+)", b.name)
        if ma and mb and ma.group(1) == mb.group(1) and a.ring == b.ring:
            na, nb = int(ma.group(2)), int(mb.group(2))
            if nb > na + 1:
                missing = f"{ma.group(1)}{na + 1}" + (f"–{ma.group(1)}{nb - 1}" if nb > na + 2 else "")
                return a, b, missing
    return None


def _rings(p: ParcelLines) -> list[tuple[int, list[PointLine]]]:
    rings: list[tuple[int, list[PointLine]]] = []
    for pt in p.points:
        if rings and rings[-1][0] == pt.ring:
            rings[-1][1].append(pt)
        else:
            rings.append((pt.ring, [pt]))
    return rings


def _geometry(p: ParcelLines, xy: dict[int, tuple[float, float]], closure: str,
              probs: Problems, report: Report) -> shapely.Geometry | None:
    """Geometry of a parcel in the source CRS, checking closure and distinct points."""
    rings = _rings(p)
    if not rings:
        probs.add("coord_ring", p.line, f"地块 {p.label} 没有界址点")
        return None
    if p.shape == "点":
        return shapely.MultiPoint([xy[pt.line] for pt in p.points]) if len(p.points) > 1 \
            else shapely.Point(xy[p.points[0].line])
    parts = []
    for no, pts in rings:
        coords = [xy[pt.line] for pt in pts]
        if p.shape == "线":
            dedup = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
            if len(dedup) < 2:
                probs.add("coord_ring", pts[0].line,
                          f"地块 {p.label}（线）第 {no} 段只有 {len(dedup)} 个不同的点，至少需要 2 个", "圈号")
                continue
            parts.append(shapely.LineString(dedup))
            continue
        closed = len(coords) > 1 and coords[0] == coords[-1]
        if not closed and closure == "required":
            probs.add("coord_ring_open", pts[-1].line,
                      f"地块 {p.label} 第 {no} 圈到此结束但没有闭合：末点应与第 {pts[0].line} 行的首点"
                      f" {pts[0].name} 相同（报盘每圈以首点收尾）；文件可能被截断或缺行", "圈号")
            continue
        open_coords = coords[:-1] if closed else coords
        n = _distinct(open_coords)
        if n < 3:
            probs.add("coord_ring", pts[-1].line,
                      f"地块 {p.label} 第 {no} 圈只有 {n} 个不同的界址点，至少需要 3 个", "圈号")
            continue
        parts.append((no, pts[0].line, open_coords + [open_coords[0]]))
    if probs:
        return None
    if p.shape == "线":
        return parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)
    if parts[0][0] != 1:
        report.add("coord_ring_order", f"地块 {p.label} 的第一圈圈号为 {parts[0][0]}，按外圈处理",
                   file=probs.file, row=str(parts[0][1]), field="圈号")
    shells: list[tuple[list, list]] = [(parts[0][2], [])]
    for no, line, ring in parts[1:]:
        ring_poly = shapely.Polygon(ring)
        for shell, holes in shells:
            if shapely.Polygon(shell).contains(ring_poly.representative_point()):
                holes.append(ring)
                break
        else:
            shells.append((ring, []))
            report.add("coord_ring_part",
                       f"地块 {p.label} 第 {no} 圈在外圈之外，按独立的一块处理（多部件地块）",
                       file=probs.file, row=str(line), field="圈号")
    polys = [shapely.Polygon(shell, holes) for shell, holes in shells]
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _check_count(p: ParcelLines, xy: dict[int, tuple[float, float]], probs: Problems) -> None:
    """界址点数 against the points found (lines, distinct, or distinct + one closure per ring)."""
    if p.declared_points is None:
        return
    rings = _rings(p)
    n_lines = len(p.points)
    n_distinct = sum(_distinct([xy[pt.line] for pt in pts if pt.line in xy]) for _, pts in rings)
    accepted = {n_lines, n_distinct, n_distinct + len(rings)}
    if p.declared_points in accepted:
        return
    last = p.points[-1].line if p.points else p.line
    first = p.points[0].line if p.points else p.line
    gap = _gap(p.points)
    if gap is not None and p.declared_points > n_lines:
        a, b, missing = gap
        probs.add("coord_point_missing", b.line,
                  f"地块 {p.label} 缺少界址点 {missing}（第 {a.line} 行 {a.name} 之后是 {b.name}）；"
                  f"头行（第 {p.line} 行）界址点数为 {p.declared_points}，实际只有 {n_lines} 行", "界址点数")
        return
    probs.add("coord_point_count", p.line,
              f"地块 {p.label} 头行界址点数为 {p.declared_points}，但第 {first}–{last} 行只有 {n_lines} "
              "个界址点行；文件可能被截断或缺行", "界址点数")


def check_declared_area(p: ParcelLines, planar: float, ellipsoidal: float,
                        policy: FormatPolicy, probs: Problems, report: Report) -> None:
    """Compare a declared area with the drawn one (Gauss plane or ellipsoidal, m²).

    The declared value matches when it equals either area in its written unit (or,
    unit not written, in the format's default unit, 公顷, 平方米, 亩 or 平方千米, said in
    the report) within the policy's tolerance. A declared area larger than drawn is
    refused (policy ``refuse``): points are missing. Smaller is only reported.
    """
    if p.declared_area is None or p.shape != "面":
        return
    value, unit, decimals = p.declared_area
    drawn = [a for a in (planar, ellipsoidal) if math.isfinite(a) and a > 0]
    if value <= 0 or not drawn:
        return
    default_unit = policy.declared_area_unit

    def matches(u: str) -> bool:
        m2 = value * AREA_UNITS[u]
        slack = AREA_UNITS[u] * 0.5 * 10.0 ** -decimals + policy.absolute_m2
        return any(abs(m2 - a) <= slack + policy.relative * a for a in drawn)

    if unit:
        candidates = [unit]
    else:
        candidates = [default_unit] + [u for u in ("公顷", "平方米", "亩", "平方千米") if u != default_unit]
    hit = next((u for u in candidates if matches(u)), None)
    shown_unit = unit or default_unit
    if hit is not None:
        if hit != shown_unit:
            report.add("coord_declared_unit",
                       f"地块 {p.label} 所写面积 {value:g} 按{hit}计与坐标相符（未写单位，格式默认为"
                       f"{default_unit}）", file=probs.file, row=str(p.line), field="地块面积")
        return
    declared_m2 = value * AREA_UNITS[shown_unit]
    best = min(drawn, key=lambda a: abs(a - declared_m2))
    text = (f"地块 {p.label} 所写面积 {value:g} {shown_unit}（{declared_m2:.2f} 平方米）"
            f"{'大于' if declared_m2 > best else '小于'}坐标围成的面积 {best:.2f} 平方米")
    if declared_m2 > best and policy.declared_area_larger == "refuse":
        probs.add("coord_declared_area", p.line,
                  text + "：界址点可能缺失或文件被截断，不能按较小的范围读取", "地块面积")
    else:
        report.add("coord_declared_area", text + "（以坐标为准）", file=probs.file,
                   row=str(p.line), field="地块面积")


def _line_lengths(geoms: list[shapely.Geometry]) -> list[float]:
    from pyproj import Geod

    geod = Geod(ellps="GRS80")  # CGCS2000 and GRS80 share a and differ in f by 1e-10
    out = []
    for g in geoms:
        if shapely.get_type_id(g) in (1, 5):
            out.append(sum(geod.geometry_length(part) for part in shapely.get_parts(g)))
        else:
            out.append(float("nan"))
    return out


def build_file(
    parcels: list[ParcelLines],
    attrs: dict[str, Entry],
    *,
    sections: dict[str, dict[str, str]],
    name: str | None,
    fmt: str,
    policy_name: str,
    problems: Problems,
    report: Report,
    columns: list[str],
    encoding: str,
    what: str,
    dms_marks_mean_degrees: bool = False,
) -> CoordinateFile:
    """Resolve the frame, check the contract and build the parcels; raise on any problem.

    Parameters
    ----------
    parcels : list of ParcelLines
        Parcels as parsed by a grammar.
    attrs : dict
        Header entries (名称 → :class:`Entry`).
    sections : dict
        Other sections (metadata).
    name : str or None
        Project name.
    fmt : str
        ``"报盘"`` or ``"拐点"``.
    policy_name : str
        Section of the settings (``"bopan"``, ``"guaidian"``).
    problems : Problems
        Problems found by the grammar (line-level), extended here.
    report : Report
        Notes, extended here.
    columns : list of str
        Header columns of the result, in order.
    encoding : str
        Encoding used.
    what : str
        Name of the file kind in messages (``"报盘文件"``).
    dms_marks_mean_degrees : bool
        Without 计量单位, coordinates written with 度分秒 marks are lon/lat (拐点
        files); otherwise the unit must say so.

    Raises
    ------
    onemap.errors.InputError
        With every problem found, each at its line; nothing is read.
    """
    policy = load_settings().formats[policy_name]
    if not problems and not parcels:
        problems.add("coord_empty", None, f"{what}中没有地块（或拐点）")
    for p in parcels:
        if not p.points:
            problems.add("coord_ring", p.line, f"地块 {p.label} 没有界址点；文件可能被截断")
    frame = None
    xy: dict[int, tuple[float, float]] = {}
    if parcels and _check_datum(attrs, problems, what):  # also after grammar problems: all at once
        resolved = _resolve_points(parcels, attrs, problems, report, dms_marks_mean_degrees)
        if resolved is not None:
            frame, xy = resolved
    geoms: list[shapely.Geometry | None] = []
    if frame is not None and not problems:
        for p in parcels:
            _check_count(p, xy, problems)
        for p in parcels:
            local = Problems(problems.file)
            geoms.append(_geometry(p, xy, policy.ring_closure if p.shape == "面" else "optional",
                                   local, report))
            problems.items.extend(local.items)
    problems.raise_if_any(what)
    assert frame is not None
    arr = np.asarray(geoms, dtype=object)
    planar = np.full(len(arr), np.nan)
    if frame.geographic:
        lonlat = arr
    else:
        poly = np.isin(shapely.get_type_id(arr), (3, 6))
        planar[poly] = shapely.area(arr[poly])
        t = Transformer.from_crs(frame.crs, "EPSG:4490", always_xy=True)
        lonlat = shapely.transform(arr, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
    is_poly = np.isin(shapely.get_type_id(lonlat), (3, 6))
    ell = np.full(len(lonlat), np.nan)
    if is_poly.any():
        ell[is_poly] = ellipsoidal_area(lonlat[is_poly])
    for p, a_plane, a_ell in zip(parcels, planar, ell, strict=True):
        check_declared_area(p, float(a_plane), float(a_ell), policy, problems, report)
    problems.raise_if_any(what)
    rows = []
    for p, a_plane, a_ell, length in zip(parcels, planar, ell, _line_lengths(list(lonlat)),
                                         strict=True):
        row = {c: p.header.get(c) for c in columns}
        row.update(shape=p.shape, line=p.line, area_m2=float(a_ell),
                   planar_area_m2=float(a_plane), length_m=float(length))
        rows.append(row)
    cols = columns + ["shape", "line", "area_m2", "planar_area_m2", "length_m"]
    gdf = gpd.GeoDataFrame(rows, columns=cols, geometry=list(lonlat), crs="EPSG:4490")
    source = frame.crs
    if not frame.geographic and frame.prefixed:
        source = gk_crs(frame.zone or 0, frame.width or 3, prefixed=True)
    return CoordinateFile(
        gdf=gdf, attributes={k: e.value for k, e in attrs.items()},
        attribute_lines={k: e.line for k, e in attrs.items()}, sections=sections, name=name,
        source_crs=source, zone=frame.zone, zone_width=frame.width, geographic=frame.geographic,
        file_name=problems.file, encoding=encoding, format=fmt, report=report)
