r"""Text level of the coordinate readers (报盘 and 矿业权拐点 files): lines, numbers, angles.

The two formats differ only in their grammar (:mod:`onemap.io.bopan`,
:mod:`onemap.io.guaidian`). Both hand the same things to
:mod:`onemap.io.coordframe` (which coordinate frame) and
:mod:`onemap.io.coordparcels` (the header contract and the geometry): attribute
entries with their line numbers, and parcels made of point lines. Together they

* decode the bytes (UTF-8 with or without BOM, else GBK) and splits lines as an
  editor counts them (``\r\n``, ``\r`` or ``\n``; blank lines counted);
* read numbers as people write them (full-width digits and punctuation, spaces,
  units after the number: ``7.7936公顷``, ``4207500.12米``) and angles in decimal
  degrees or 度分秒 (``37°54′12.345″``, ``37度54分12.345秒``, ``37:54:12.345``,
  packed ``375412.345``);
* find the coordinate frame (CGCS2000 Gauss-Krüger zone, or lon/lat) from the
  header and the points, refusing every contradiction at the line where it is;
* treat the header as a contract (point count, ring closure, ≥ 3 distinct points,
  declared area), so a damaged file is refused instead of read smaller;
* build the geometry (面 → polygon, 线 → line, 点 → point) in CGCS2000 lon/lat.

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
import yaml

from onemap.errors import DomainDataError, InputError, Problem, ReadError, Report
from onemap.geo.area import M2_PER_HECTARE, M2_PER_MU

__all__ = [
    "AREA_UNITS",
    "CoordinateFile",
    "Entry",
    "FormatPolicy",
    "ParcelLines",
    "PointLine",
    "Problems",
    "Settings",
    "central_meridian",
    "decode_text",
    "gk_crs",
    "load_settings",
    "normalize_line",
    "parse_angle",
    "parse_quantity",
    "shape_of",
    "split_lines",
    "width_of_zone",
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


def width_of_zone(zone: int) -> int | None:
    """3 or 6 for a zone number of China's 3° or 6° zones, else None."""
    for width, (lo, hi) in load_settings().zones.items():
        if lo <= zone <= hi:
            return width
    return None


def central_meridian(zone: int, width: int) -> float:
    """Central meridian (°E) of a Gauss-Krüger zone."""
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
    if unit and not re.fullmatch(r"[A-Za-z\u3000-\u9fff㎡㎢][A-Za-z0-9²\u3000-\u9fff㎡㎢]*", unit):
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
    transformation: dict[str, Any] | None = None


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
