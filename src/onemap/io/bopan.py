"""报盘 coordinate text files (用地报批 / 预审 parcel boundaries).

A 报盘 file is plain text, usually GBK encoded, in two sections::

    [属性描述]
    格式版本号=1.01版本
    坐标系=2000国家大地坐标系
    几度分带=3
    投影类型=高斯克吕格
    计量单位=米
    带号=36
    精度=0.001
    [地块坐标]
    5,1.2345,1,东区地块,面,,城镇建设,,@
    J1,1,4201234.567,36512345.678
    J2,1,4201334.567,36512345.678
    ...

Each parcel starts with a header line ending in ``@``::

    界址点数,地块面积,地块号,地块名称,图形属性,图幅号,地块用途,地类编码,@

followed by its boundary points ``点号,圈号,X,Y``: ``X`` is the northing and
``Y`` the Gauss-Krüger easting with the zone number in front (``36512345.678``
is zone 36, easting 512345.678). 圈号 1 is the outer ring, 2 and up are holes
(a ring lying outside the outer ring is taken as a separate part, and said
so). Rings close themselves; repeating the first point is allowed.

:func:`read_bopan` returns one row per parcel in CGCS2000 lon/lat (EPSG:4490);
:func:`write_bopan` writes the format (GBK bytes), for exports and test data.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from onemap.errors import InputError, Problem, ReadError, Report

__all__ = [
    "BopanData",
    "bopan_crs",
    "looks_like_bopan",
    "parse_bopan",
    "read_bopan",
    "write_bopan",
]

#: Section names.
SECTION_ATTRIBUTES = "属性描述"
SECTION_COORDINATES = "地块坐标"

#: Header fields of a parcel line, in file order (before the closing ``@``).
HEADER_FIELDS = (
    ("point_count", "界址点数"),
    ("declared_area_ha", "地块面积"),
    ("parcel_no", "地块号"),
    ("parcel_name", "地块名称"),
    ("shape", "图形属性"),
    ("sheet", "图幅号"),
    ("use", "地块用途"),
    ("dlbm", "地类编码"),
)

#: Columns of the GeoDataFrame :func:`read_bopan` returns (besides geometry).
COLUMNS = [name for name, _ in HEADER_FIELDS] + ["line", "planar_area_m2"]

_CGCS2000_WORDS = ("2000", "CGCS")
_OTHER_DATUMS = {
    "80": "1980西安坐标系",
    "西安": "1980西安坐标系",
    "54": "1954北京坐标系",
    "北京": "1954北京坐标系",
    "WGS": "WGS84",
}
_MAX_PROBLEMS = 200
_SEP = re.compile(r"[,，]")


@dataclass
class BopanData:
    """A parsed 报盘 file.

    Attributes
    ----------
    gdf : geopandas.GeoDataFrame
        One row per parcel in EPSG:4490, columns :data:`COLUMNS` (``line`` is
        the 1-based line number of the parcel header; ``declared_area_ha`` is
        the 地块面积 of the header, NaN if empty; ``planar_area_m2`` the
        Gauss-plane area computed from the coordinates).
    attributes : dict
        The ``[属性描述]`` key/value pairs as written.
    source_crs : str
        The projected CRS of the coordinates, e.g. ``"EPSG:4524"``.
    zone : int
        Zone number (带号).
    zone_width : int
        3 or 6 (几度分带).
    file_name : str
        Name used in messages.
    encoding : str
        ``"GBK"``, ``"UTF-8"`` or ``"UTF-8-BOM"``.
    report : onemap.errors.Report
        Non-fatal remarks (ring closed, point count or declared area differs,
        assumptions made).
    """

    gdf: gpd.GeoDataFrame
    attributes: dict[str, str]
    source_crs: str
    zone: int
    zone_width: int
    file_name: str
    encoding: str
    report: Report = field(default_factory=Report)


# ---------------------------------------------------------------------------
# CRS


def bopan_crs(zone: int, zone_width: int = 3, *, prefixed: bool = True) -> str:
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
    >>> bopan_crs(36), bopan_crs(36, prefixed=False), bopan_crs(18, 6)
    ('EPSG:4524', 'EPSG:4545', 'EPSG:4496')
    """
    if zone_width == 3:
        if not 25 <= zone <= 45:
            raise ValueError(f"3 度带带号 {zone} 不在我国范围（25–45）内")
        return f"EPSG:{(4513 if prefixed else 4534) + zone - 25}"
    if zone_width == 6:
        if not 13 <= zone <= 23:
            raise ValueError(f"6 度带带号 {zone} 不在我国范围（13–23）内")
        return f"EPSG:{(4491 if prefixed else 4502) + zone - 13}"
    raise ValueError(f"分带宽度须为 3 或 6，而不是 {zone_width}")


# ---------------------------------------------------------------------------
# reading


def looks_like_bopan(path: str | Path) -> bool:
    """Return whether a file looks like a 报盘 text file (sniffs the first 64 KiB).

    Parameters
    ----------
    path : str or Path
        Any file.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError:
        return False
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(enc, errors="ignore")
        except LookupError:  # pragma: no cover - both codecs exist
            continue
        if SECTION_COORDINATES in text or SECTION_ATTRIBUTES in text:
            return True
    return False


def _decode(raw: bytes, file_name: str, encoding: str | None) -> tuple[str, str]:
    """Decode the bytes: a given encoding, else UTF-8 (BOM or not), else GBK (GB18030)."""
    if encoding:
        try:
            return raw.decode(encoding), encoding.upper()
        except (UnicodeDecodeError, LookupError) as exc:
            msg = f"报盘文件 {file_name} 不能按 {encoding} 解码（{exc}）"
            raise ReadError(msg, [Problem("bopan_encoding", msg, file=file_name)]) from exc
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8):].decode("utf-8"), "UTF-8-BOM"
        except UnicodeDecodeError as exc:
            msg = f"报盘文件 {file_name} 以 UTF-8 BOM 开头，但内容不是有效的 UTF-8（{exc}）"
            raise ReadError(msg, [Problem("bopan_encoding", msg, file=file_name)]) from exc
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "UTF-16"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "GBK"
    except UnicodeDecodeError as exc:
        msg = f"报盘文件 {file_name} 既不是 GBK 也不是 UTF-8 编码（{exc}）"
        raise ReadError(msg, [Problem("bopan_encoding", msg, file=file_name)]) from exc


def read_bopan(
    path: str | Path, *, encoding: str | None = None, file_name: str | None = None
) -> BopanData:
    """Read a 报盘 coordinate file.

    Parameters
    ----------
    path : str or Path
        The ``.txt`` file.
    encoding : str, optional
        Force an encoding; by default UTF-8 (with or without BOM) when the
        bytes are valid UTF-8, else GBK.
    file_name : str, optional
        Name for messages (default: the file's name).

    Returns
    -------
    BopanData
        Parcels in EPSG:4490 with their header attributes.

    Raises
    ------
    onemap.errors.ReadError
        If the file is missing or cannot be decoded.
    onemap.errors.InputError
        If the content is malformed; every problem names the file, the line
        and the rule broken.
    """
    p = Path(path)
    shown = file_name or p.name
    if not p.is_file():
        msg = f"文件不存在：{path}"
        raise ReadError(msg, [Problem("file_not_found", msg, file=shown)])
    text, used = _decode(p.read_bytes(), shown, encoding)
    return parse_bopan(text, file_name=shown, encoding=used)


@dataclass
class _Parcel:
    line: int
    header: dict[str, Any]
    rings: list[tuple[int, int, list[tuple[float, float]]]] = field(default_factory=list)
    # (ring number, first line, [(x_northing, y_easting), ...])


def _problem(problems: list[Problem], rule: str, file: str, line: int, msg: str,
             fld: str | None = None) -> None:
    if len(problems) < _MAX_PROBLEMS:
        problems.append(Problem(rule, f"第 {line} 行：{msg}", file=file, row=str(line), field=fld))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _parse_header(parts: list[str], line: int, file: str,
                  problems: list[Problem]) -> dict[str, Any]:
    values = [p.strip() for p in parts]
    header: dict[str, Any] = {}
    for i, (key, title) in enumerate(HEADER_FIELDS):
        raw = values[i] if i < len(values) else ""
        if key == "point_count":
            if raw and not raw.isdigit():
                _problem(problems, "bopan_header", file, line,
                         f"界址点数应为整数，而不是“{raw}”", title)
            header[key] = int(raw) if raw.isdigit() else None
        elif key == "declared_area_ha":
            num = _number(raw) if raw else None
            if raw and num is None:
                _problem(problems, "bopan_header", file, line,
                         f"地块面积应为数字，而不是“{raw}”", title)
            header[key] = num if num is not None else float("nan")
        else:
            header[key] = raw
    return header


def _parse_lines(text: str, file: str) -> tuple[dict[str, str], list[_Parcel],
                                                 list[Problem], list[int]]:
    """First pass: sections, attributes, parcel headers and points (no geometry yet)."""
    attributes: dict[str, str] = {}
    parcels: list[_Parcel] = []
    problems: list[Problem] = []
    section: str | None = None
    seen_sections: list[str] = []
    attribute_lines: list[int] = []
    for n, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip().replace("\u3000", " ")
        if not line:
            continue
        if line.startswith(("[", "【")) and line.endswith(("]", "】")):
            name = line[1:-1].strip()
            if name not in (SECTION_ATTRIBUTES, SECTION_COORDINATES):
                _problem(problems, "bopan_section", file, n,
                         f"未知的节“{line}”（报盘文件只有 [{SECTION_ATTRIBUTES}] 和"
                         f" [{SECTION_COORDINATES}] 两节）")
                section = "?"
                continue
            section = name
            seen_sections.append(name)
            continue
        if section is None:
            _problem(problems, "bopan_section", file, n,
                     f"内容出现在任何节之前（应先有 [{SECTION_ATTRIBUTES}] 或"
                     f" [{SECTION_COORDINATES}]）")
            continue
        if section == "?":
            continue
        if section == SECTION_ATTRIBUTES:
            key, sep, value = line.replace("＝", "=").partition("=")
            if not sep or not key.strip():
                _problem(problems, "bopan_attribute", file, n,
                         f"属性描述行应为“名称=值”，而不是“{line}”")
                continue
            attributes[key.strip()] = value.strip()
            attribute_lines.append(n)
            continue
        # [地块坐标]
        body = line.rstrip()
        if body.endswith(("@", "＠")):
            parts = _SEP.split(body[:-1].rstrip())
            if parts and parts[-1].strip() == "":
                parts = parts[:-1]
            parcels.append(_Parcel(line=n, header=_parse_header(parts, n, file, problems)))
            continue
        parts = [p.strip() for p in _SEP.split(body)]
        if len(parts) < 4:
            _problem(problems, "bopan_point", file, n,
                     "界址点行应为“点号,圈号,X,Y”四项（地块头行须以 @ 结尾），"
                     f"而不是“{line}”")
            continue
        if not parcels:
            _problem(problems, "bopan_point", file, n,
                     "界址点出现在第一个地块头行（以 @ 结尾）之前")
            continue
        ring_text, x_text, y_text = parts[1], parts[2], parts[3]
        if not ring_text.isdigit() or int(ring_text) < 1:
            _problem(problems, "bopan_point", file, n,
                     f"圈号应为从 1 开始的整数，而不是“{ring_text}”", "圈号")
            continue
        x, y = _number(x_text), _number(y_text)
        if x is None or y is None:
            bad = "X" if x is None else "Y"
            _problem(problems, "bopan_coordinate", file, n,
                     f"{bad} 坐标不是数字：“{x_text if x is None else y_text}”", bad)
            continue
        parcel = parcels[-1]
        ring_no = int(ring_text)
        if parcel.rings and parcel.rings[-1][0] == ring_no:
            parcel.rings[-1][2].append((x, y))
        else:
            if any(r[0] == ring_no for r in parcel.rings):
                _problem(problems, "bopan_ring", file, n,
                         f"圈号 {ring_no} 的界址点不连续（该圈已在前面结束）", "圈号")
                continue
            parcel.rings.append((ring_no, n, [(x, y)]))
    if SECTION_COORDINATES not in seen_sections and not problems:
        problems.append(Problem("bopan_section", f"缺少 [{SECTION_COORDINATES}] 节，不是报盘文件",
                                file=file))
    return attributes, parcels, problems, attribute_lines


def _zone_settings(attributes: dict[str, str], parcels: list[_Parcel], file: str,
                   problems: list[Problem], report: Report) -> tuple[int, int, bool] | None:
    """Zone number, width and whether eastings are zone-prefixed."""
    datum = attributes.get("坐标系", "")
    if datum:
        if not any(w in datum.upper() for w in _CGCS2000_WORDS):
            other = next((v for k, v in _OTHER_DATUMS.items() if k in datum.upper()), None)
            what = f"（{other}）" if other else ""
            problems.append(Problem(
                "bopan_crs",
                f"坐标系为“{datum}”{what}：只接受 2000 国家大地坐标系（CGCS2000）；"
                "请先用转换参数转换为 CGCS2000 再报盘",
                file=file, field="坐标系"))
            return None
    else:
        report.add("bopan_assumed_crs", "属性描述未写坐标系，按 2000 国家大地坐标系处理",
                   file=file, field="坐标系")
    unit = attributes.get("计量单位", "")
    if unit and unit not in ("米", "m", "M", "meter", "metre"):
        problems.append(Problem("bopan_unit", f"计量单位为“{unit}”：坐标须以米为单位",
                                file=file, field="计量单位"))
        return None
    projection = attributes.get("投影类型", "")
    if projection and not any(w in projection.upper() for w in ("高斯", "GAUSS", "GK", "TM")):
        problems.append(Problem("bopan_crs", f"投影类型为“{projection}”：只接受高斯-克吕格投影",
                                file=file, field="投影类型"))
        return None

    width_text = attributes.get("几度分带", "").replace("度", "").strip()
    width: int | None = None
    if width_text:
        if width_text not in ("3", "6"):
            problems.append(Problem("bopan_zone", f"几度分带为“{width_text}”：只能是 3 或 6",
                                    file=file, field="几度分带"))
            return None
        width = int(width_text)
    zone_text = attributes.get("带号", "").strip()
    declared: int | None = None
    if zone_text:
        if not zone_text.isdigit():
            problems.append(Problem("bopan_zone", f"带号“{zone_text}”不是整数",
                                    file=file, field="带号"))
            return None
        declared = int(zone_text)

    # Zone from the eastings: the integer part above one million.
    prefixes: set[int] = set()
    first_line: dict[int, int] = {}
    unprefixed = 0
    for parcel in parcels:
        for _, line, pts in parcel.rings:
            for x, y in pts:
                if x >= 1e7 and y < 1e7:
                    problems.append(Problem(
                        "bopan_xy_swapped",
                        f"第 {line} 行起：X={x} 像带带号的横坐标、Y={y} 像纵坐标，X/Y 可能颠倒"
                        "（报盘 X 为北向纵坐标，Y 为带带号的东向横坐标）",
                        file=file, row=str(line), field="X"))
                    return None
                if y >= 1e6:
                    z = int(y // 1e6)
                    prefixes.add(z)
                    first_line.setdefault(z, line)
                else:
                    unprefixed += 1
    if len(prefixes) > 1:
        where = "、".join(f"{z}（第 {first_line[z]} 行起）" for z in sorted(prefixes))
        problems.append(Problem("bopan_zone", f"Y 坐标带号不一致：{where}；一个报盘文件只能有一个带号",
                                file=file, field="Y"))
        return None
    if prefixes and unprefixed:
        problems.append(Problem("bopan_zone", "部分 Y 坐标带带号、部分不带，无法确定投影",
                                file=file, field="Y"))
        return None
    prefixed = bool(prefixes)
    zone = next(iter(prefixes)) if prefixes else declared
    if zone is None:
        problems.append(Problem(
            "bopan_zone",
            "无法确定带号：Y 坐标没有带号前缀，属性描述也没有“带号”", file=file, field="带号"))
        return None
    if declared is not None and prefixed and declared != zone:
        problems.append(Problem(
            "bopan_zone",
            f"属性描述的带号 {declared} 与 Y 坐标的带号前缀 {zone} 不一致", file=file, field="带号"))
        return None
    if width is None:
        width = 6 if 13 <= zone <= 23 else 3
        report.add("bopan_assumed_width", f"属性描述未写几度分带，按带号 {zone} 推断为 {width} 度带",
                   file=file, field="几度分带")
    try:
        bopan_crs(zone, width, prefixed=prefixed)
    except ValueError as exc:
        problems.append(Problem("bopan_zone", f"未知的带号：{exc}", file=file, field="带号"))
        return None
    return zone, width, prefixed


def _ring_array(points: list[tuple[float, float]]) -> np.ndarray:
    """(easting, northing) array of a ring, closed."""
    xy = np.array([(y, x) for x, y in points], dtype=float)
    if len(xy) and not np.array_equal(xy[0], xy[-1]):
        xy = np.vstack([xy, xy[:1]])
    return xy


def _build_geometry(parcel: _Parcel, file: str, problems: list[Problem],
                    report: Report) -> shapely.Geometry | None:
    """Polygon (planar Gauss coordinates) of one parcel: ring 1 outer, others holes or parts."""
    label = parcel.header.get("parcel_no") or parcel.header.get("parcel_name") or str(parcel.line)
    if not parcel.rings:
        _problem(problems, "bopan_ring", file, parcel.line, f"地块 {label} 没有界址点")
        return None
    rings: list[tuple[int, int, np.ndarray]] = []
    ok = True
    for ring_no, line, pts in parcel.rings:
        xy = _ring_array(pts)
        distinct = len(np.unique(xy, axis=0))
        if distinct < 3:
            _problem(problems, "bopan_ring", file, line,
                     f"地块 {label} 第 {ring_no} 圈只有 {distinct} 个不同的界址点，至少需要 3 个",
                     "圈号")
            ok = False
            continue
        rings.append((ring_no, line, xy))
    if not ok or not rings:
        return None
    if rings[0][0] != 1:
        report.add("bopan_ring_order",
                   f"地块 {label} 的第一圈圈号为 {rings[0][0]}，按外圈处理", file=file,
                   row=str(rings[0][1]), field="圈号")
    count = parcel.header.get("point_count")
    n_points = sum(len(pts) for _, _, pts in parcel.rings)
    n_open = sum(len(np.unique(r[2], axis=0)) for r in rings)
    if count is not None and count not in (n_points, n_open, n_open + len(rings)):
        report.add("bopan_point_count",
                   f"地块 {label} 头行界址点数为 {count}，实际有 {n_points} 个界址点行",
                   file=file, row=str(parcel.line), field="界址点数")
    shells: list[tuple[np.ndarray, list[np.ndarray]]] = [(rings[0][2], [])]
    for ring_no, line, xy in rings[1:]:
        ring_poly = shapely.Polygon(xy)
        for shell, holes in shells:
            if shapely.Polygon(shell).contains(ring_poly.representative_point()):
                holes.append(xy)
                break
        else:
            shells.append((xy, []))
            report.add("bopan_ring_part",
                       f"地块 {label} 第 {ring_no} 圈在外圈之外，按独立的一块处理（多部件地块）",
                       file=file, row=str(line), field="圈号")
    polys = [shapely.Polygon(shell, holes) for shell, holes in shells]
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def parse_bopan(text: str, *, file_name: str = "<报盘>", encoding: str = "UTF-8") -> BopanData:
    """Parse the text of a 报盘 file.

    Parameters
    ----------
    text : str
        Decoded file content.
    file_name : str
        Name used in messages.
    encoding : str
        Encoding the text was decoded from (recorded only).

    Returns
    -------
    BopanData

    Raises
    ------
    onemap.errors.InputError
        With one :class:`~onemap.errors.Problem` per malformed line (rules
        ``bopan_section``, ``bopan_attribute``, ``bopan_header``,
        ``bopan_point``, ``bopan_coordinate``, ``bopan_ring``, ``bopan_zone``,
        ``bopan_crs``, ``bopan_unit``, ``bopan_xy_swapped``, ``bopan_empty``).
    """
    report = Report()
    attributes, parcels, problems, _ = _parse_lines(text, file_name)
    if not problems and not parcels:
        problems.append(Problem("bopan_empty",
                                f"[{SECTION_COORDINATES}] 节没有地块（地块头行以 @ 结尾）",
                                file=file_name))
    settings = None
    if not problems:
        settings = _zone_settings(attributes, parcels, file_name, problems, report)
    geoms: list[shapely.Geometry | None] = []
    if settings is not None:
        geoms = [_build_geometry(p, file_name, problems, report) for p in parcels]
    if problems:
        raise InputError(
            f"报盘文件 {file_name} 有 {len(problems)} 处错误，未读取", problems)
    assert settings is not None
    zone, width, prefixed = settings
    crs = bopan_crs(zone, width, prefixed=prefixed)
    planar = shapely.area(np.asarray(geoms, dtype=object))
    to_lonlat = Transformer.from_crs(crs, "EPSG:4490", always_xy=True)
    lonlat = shapely.transform(
        np.asarray(geoms, dtype=object),
        lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])),
    )
    rows = []
    for p, area in zip(parcels, planar, strict=True):
        row = dict(p.header)
        row["line"] = p.line
        row["planar_area_m2"] = float(area)
        rows.append(row)
        declared = row["declared_area_ha"]
        label = row.get("parcel_no") or row.get("parcel_name") or str(p.line)
        if np.isfinite(declared) and area > 0:
            computed_ha = area / 1e4
            if abs(declared - computed_ha) > max(1e-4, 0.005 * computed_ha):
                report.add(
                    "bopan_declared_area",
                    f"地块 {label} 头行面积 {declared:g} 公顷与坐标计算的平面面积 "
                    f"{computed_ha:.4f} 公顷不符（以坐标为准）",
                    file=file_name, row=str(p.line), field="地块面积")
    gdf = gpd.GeoDataFrame(rows, columns=COLUMNS, geometry=list(lonlat), crs="EPSG:4490")
    return BopanData(gdf=gdf, attributes=attributes, source_crs=crs, zone=zone,
                     zone_width=width, file_name=file_name, encoding=encoding, report=report)


# ---------------------------------------------------------------------------
# writing


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not np.isfinite(value):
        return ""
    return str(value).replace(",", "，")


def write_bopan(
    gdf: gpd.GeoDataFrame,
    path: str | Path | None = None,
    *,
    zone: int | None = None,
    zone_width: int = 3,
    attributes: dict[str, str] | None = None,
    encoding: str = "gbk",
    decimals: int = 3,
) -> bytes:
    """Write parcels as a 报盘 file (GBK by default), one parcel per row.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Polygons or multipolygons in any CRS (converted to CGCS2000 Gauss
        plane). Optional columns ``parcel_no``, ``parcel_name``, ``use``,
        ``dlbm``, ``sheet`` fill the header lines.
    path : str or Path, optional
        Where to write; the bytes are returned either way.
    zone : int, optional
        Zone number; by default the zone of the centroid of all parcels.
    zone_width : {3, 6}
        Zone width.
    attributes : dict, optional
        Extra or overriding ``[属性描述]`` entries.
    encoding : str
        Output encoding (``"gbk"``, ``"utf-8"``, ``"utf-8-sig"``).
    decimals : int
        Decimals of the coordinates.

    Returns
    -------
    bytes
        The file content.
    """
    geo = gdf.to_crs("EPSG:4490") if gdf.crs is not None else gdf.set_crs("EPSG:4490")
    if zone is None:
        lon = float(shapely.centroid(shapely.union_all(geo.geometry.values)).x)
        zone = int(round(lon / 3)) if zone_width == 3 else int(lon // 6) + 1
    crs = bopan_crs(zone, zone_width, prefixed=True)
    plane = geo.to_crs(crs)
    head = {
        "格式版本号": "1.01版本",
        "数据产生单位": "OneMap",
        "数据产生日期": "",
        "坐标系": "2000国家大地坐标系",
        "几度分带": str(zone_width),
        "投影类型": "高斯克吕格",
        "计量单位": "米",
        "带号": str(zone),
        "精度": f"{10 ** -decimals:.{decimals}f}",
        "转换参数": ",,,,,,",
    }
    head.update(attributes or {})
    lines = [f"[{SECTION_ATTRIBUTES}]"] + [f"{k}={v}" for k, v in head.items()]
    lines.append(f"[{SECTION_COORDINATES}]")
    for i, (idx, geom) in enumerate(zip(plane.index, plane.geometry.values, strict=True)):
        polys = list(shapely.get_parts(geom))
        rings: list[np.ndarray] = []
        for poly in polys:
            rings.append(np.asarray(poly.exterior.coords))
            rings.extend(np.asarray(r.coords) for r in poly.interiors)
        n_points = sum(len(r) for r in rings)
        row = gdf.loc[idx]
        area_ha = float(shapely.area(geom)) / 1e4
        header = [
            str(n_points), f"{area_ha:.4f}",
            _fmt(row.get("parcel_no", i + 1)), _fmt(row.get("parcel_name", f"地块{i + 1}")),
            "面", _fmt(row.get("sheet", "")), _fmt(row.get("use", "")),
            _fmt(row.get("dlbm", "")),
        ]
        lines.append(",".join(header) + ",@")
        k = 0
        for ring_no, ring in enumerate(rings, start=1):
            first = k + 1
            for j, (x_east, y_north) in enumerate(ring):
                closing = j == len(ring) - 1 and j > 0
                if not closing:
                    k += 1
                name = f"J{first if closing else k}"
                lines.append(f"{name},{ring_no},{y_north:.{decimals}f},{x_east:.{decimals}f}")
    text = "\r\n".join(lines) + "\r\n"
    data = text.encode(encoding)
    if path is not None:
        Path(path).write_bytes(data)
    return data
