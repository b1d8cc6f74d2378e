"""报盘 coordinate text files (用地报批 / 勘测定界 / 预审 parcel boundaries).

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
    J1,1,4201234.567,36512345.678

Each parcel starts with a header line ending in ``@``::

    界址点数,地块面积,地块号,地块名称,图形属性,图幅号,地块用途,地类编码,@

followed by its points ``点号,圈号,X,Y``: ``X`` is the northing and ``Y`` the
Gauss-Krüger easting, with the zone number in front or not (``36512345.678`` is
zone 36, easting 512345.678). 圈号 1 is the outer ring, 2 and up are holes (a ring
outside the outer ring is a separate part, and said so). Each ring of a 面 parcel
ends with its first point again.

The header is a contract: a 界址点数 that disagrees with the points, a ring that
does not close, a ring of fewer than 3 distinct points, a zone prefix or 带号 that
contradicts the header or the other points, a 地块面积 larger than the points
enclose → the file is refused, every problem at its line; nothing is read.

Honest variants are read: units after numbers (``7.7936公顷``), other sections
(``[项目信息]`` …, kept in :attr:`CoordinateFile.sections`; 项目名称 becomes
:attr:`CoordinateFile.name`), missing optional fields, spaces, full-width
punctuation, lon/lat in decimal degrees or 度分秒 (计量单位=度 or 度分秒, X = 纬度,
Y = 经度). 图形属性 面 gives a polygon, 线 a line (圈号 numbers its parts), 点 points.
西安80 / 北京54 files are read through a workspace transformation the caller offers
(``transforms``) and refused without one: the platform never guesses the parameters.

:func:`read_bopan` returns one row per parcel in CGCS2000 lon/lat (EPSG:4490);
:func:`write_bopan` writes the format (GBK bytes), for exports and test data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from onemap.errors import Problem, ReadError, Report
from onemap.geo.transform import Transformation
from onemap.io.coordparcels import build_file
from onemap.io.coordtext import (
    AREA_UNITS,
    CoordinateFile,
    Entry,
    ParcelLines,
    PointLine,
    Problems,
    decode_text,
    gk_crs,
    normalize_line,
    parse_quantity,
    shape_of,
    split_lines,
)

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

#: Header columns of the GeoDataFrame :func:`read_bopan` returns (then ``shape``,
#: ``line``, ``area_m2``, ``planar_area_m2``, ``length_m``).
COLUMNS = ["point_count", "declared_area_ha", "parcel_no", "parcel_name", "sheet", "use",
           "dlbm"]

#: Keys that name the project, in order of preference.
NAME_KEYS = ("项目名称", "工程名称", "建设项目名称", "项目")

#: A 报盘 file read (the shared result of the coordinate readers).
BopanData = CoordinateFile

bopan_crs = gk_crs
_SEP = re.compile(r"\s*[,\t]\s*")
_SECTION = re.compile(r"^[\[【](.+?)[\]】]$")


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
        text = head.decode(enc, errors="ignore")
        if SECTION_COORDINATES in text or SECTION_ATTRIBUTES in text:
            return True
    return False


def read_bopan(
    path: str | Path, *, encoding: str | None = None, file_name: str | None = None,
    transforms: Sequence[Transformation] = (),
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
    transforms : sequence of Transformation, optional
        The workspace's transformations offered for a 西安80 / 北京54 file (see
        :func:`onemap.io.coordparcels.build_file`); without one it is refused.

    Returns
    -------
    BopanData
        Parcels in EPSG:4490 with their header attributes.

    Raises
    ------
    onemap.errors.ReadError
        If the file is missing or cannot be decoded.
    onemap.errors.InputError
        If the content is malformed or contradicts itself; every problem names
        the file, the line (1-based, blank lines counted) and the rule broken.
    """
    p = Path(path)
    shown = file_name or p.name
    if not p.is_file():
        msg = f"文件不存在：{path}"
        raise ReadError(msg, [Problem("file_not_found", msg, file=shown)])
    text, used = decode_text(p.read_bytes(), shown, encoding, "报盘文件")
    return parse_bopan(text, file_name=shown, encoding=used, transforms=transforms)


def _key_value(line: str) -> tuple[str, str] | None:
    for sep in ("=", ":"):
        key, found, value = line.partition(sep)
        if found and key.strip():
            return key.strip(), value.strip()
    return None


def _header(parts: list[str], n: int, count: int, probs: Problems) -> ParcelLines:
    values = [p.strip() for p in parts] + [""] * len(HEADER_FIELDS)
    header: dict[str, Any] = {}
    p = ParcelLines(line=n, label="")
    for i, (key, title) in enumerate(HEADER_FIELDS):
        raw = values[i]
        if key == "point_count":
            q = parse_quantity(raw) if raw else None
            if raw and (q is None or q[0] != int(q[0]) or q[0] < 0 or q[1] not in ("", "个")):
                probs.add("bopan_header", n, f"界址点数应为整数，而不是“{raw}”", title)
            elif q is not None:
                p.declared_points = int(q[0])
            header[key] = p.declared_points
        elif key == "declared_area_ha":
            q = parse_quantity(raw) if raw else None
            header[key] = float("nan")
            if raw and (q is None or (q[1] and q[1] not in AREA_UNITS)):
                probs.add("bopan_header", n, f"地块面积应为数字（可带单位 公顷、平方米、亩），"
                          f"而不是“{raw}”", title)
            elif q is not None:
                number = normalize_line(raw).replace(" ", "")
                digits = re.match(r"[+-]?\d*\.?(\d*)", number)
                decimals = len(digits.group(1)) if digits else 0
                p.declared_area = (q[0], q[1], decimals)
                header[key] = q[0] * AREA_UNITS[q[1] or "公顷"] / 1e4
        elif key == "shape":
            shape = shape_of(raw)
            if shape is None:
                probs.add("bopan_header", n, f"图形属性应为 面、线 或 点，而不是“{raw}”", title)
                shape = "面"
            p.shape = shape
        else:
            header[key] = raw
    p.header = header
    p.label = header.get("parcel_no") or header.get("parcel_name") or f"第{count}块"
    return p


def _parse(text: str, probs: Problems) -> tuple[dict[str, Entry], list[ParcelLines],
                                                 dict[str, dict[str, str]]]:
    attrs: dict[str, Entry] = {}
    parcels: list[ParcelLines] = []
    sections: dict[str, dict[str, str]] = {}
    section: str | None = None
    seen: set[str] = set()
    for n, raw in enumerate(split_lines(text), start=1):
        line = normalize_line(raw)
        if not line:
            continue
        m = _SECTION.match(line)
        if m:
            section = m.group(1).strip()
            seen.add(section)
            if section not in (SECTION_ATTRIBUTES, SECTION_COORDINATES):
                sections.setdefault(section, {})
            continue
        if section is None:
            probs.add("bopan_section", n, f"内容出现在任何节之前（应先有 [{SECTION_ATTRIBUTES}] 或"
                      f" [{SECTION_COORDINATES}]）")
            continue
        if section != SECTION_COORDINATES:
            kv = _key_value(line)
            if section == SECTION_ATTRIBUTES:
                if kv is None:
                    probs.add("bopan_attribute", n, f"属性描述行应为“名称=值”，而不是“{line}”")
                    continue
                attrs[kv[0]] = Entry(kv[1], n)
            else:  # another section: metadata, as written
                key, value = kv if kv is not None else (f"第{n}行", line)
                sections[section][key] = value
            continue
        if line.endswith("@"):
            parts = _SEP.split(line[:-1].strip())
            parcels.append(_header(parts, n, len(parcels) + 1, probs))
            continue
        parts = _SEP.split(line)
        while parts and parts[-1] == "":
            parts.pop()
        if len(parts) != 4:
            probs.add("bopan_point", n, "界址点行应为“点号,圈号,X,Y”四项（地块头行须以 @ 结尾），"
                      f"而不是“{line}”")
            continue
        if not parcels:
            probs.add("bopan_point", n, "界址点出现在第一个地块头行（以 @ 结尾）之前")
            continue
        ring_text = parts[1]
        if not ring_text.isdigit() or int(ring_text) < 1:
            probs.add("bopan_point", n, f"圈号应为从 1 开始的整数，而不是“{ring_text}”", "圈号")
            continue
        parcel = parcels[-1]
        ring = int(ring_text)
        if parcel.points and parcel.points[-1].ring != ring and any(
                pt.ring == ring for pt in parcel.points):
            probs.add("bopan_ring", n, f"地块 {parcel.label} 圈号 {ring} 的界址点不连续（该圈已在前面结束）",
                      "圈号")
            continue
        parcel.points.append(PointLine(n, parts[0], ring, parts[2], parts[3]))
    if SECTION_COORDINATES not in seen and not probs:
        probs.add("bopan_section", None, f"缺少 [{SECTION_COORDINATES}] 节，不是报盘文件")
    return attrs, parcels, sections


def _project_name(attrs: dict[str, Entry], sections: dict[str, dict[str, str]]) -> str | None:
    for key in NAME_KEYS:
        if key in attrs and attrs[key].value:
            return attrs[key].value
        for values in sections.values():
            if values.get(key):
                return values[key]
    return None


def parse_bopan(text: str, *, file_name: str = "<报盘>", encoding: str = "UTF-8",
                transforms: Sequence[Transformation] = ()) -> BopanData:
    """Parse the text of a 报盘 file.

    Parameters
    ----------
    text : str
        Decoded file content.
    file_name : str
        Name used in messages.
    encoding : str
        Encoding the text was decoded from (recorded only).
    transforms : sequence of Transformation, optional
        See :func:`read_bopan`.

    Returns
    -------
    BopanData

    Raises
    ------
    onemap.errors.InputError
        With one :class:`~onemap.errors.Problem` per problem, each at its line
        (rules ``bopan_section``, ``bopan_attribute``, ``bopan_header``,
        ``bopan_point``, ``bopan_ring`` and the shared ``coord_*`` rules of
        :mod:`onemap.io.coordtext`).
    """
    probs = Problems(file_name)
    report = Report()
    attrs, parcels, sections = _parse(text, probs)
    if not probs and not parcels:
        probs.add("bopan_empty", None, f"[{SECTION_COORDINATES}] 节没有地块（地块头行以 @ 结尾）")
    projection = attrs.get("投影类型")
    if projection is not None and projection.value and not any(
            w in projection.value.upper() for w in ("高斯", "GAUSS", "GK", "TM", "横轴墨卡托")):
        probs.add("coord_crs", projection.line,
                  f"投影类型为“{projection.value}”：只接受高斯-克吕格投影", "投影类型")
    if "坐标系" not in attrs:
        report.add("coord_assumed_crs", "属性描述未写坐标系，按 2000 国家大地坐标系处理",
                   file=file_name, field="坐标系")
    return build_file(parcels, attrs, sections=sections, name=_project_name(attrs, sections),
                      fmt="报盘", policy_name="bopan", problems=probs, report=report,
                      columns=COLUMNS, encoding=encoding, what="报盘文件", transforms=transforms)


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
