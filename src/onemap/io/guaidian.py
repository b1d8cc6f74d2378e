"""矿业权拐点 coordinate files (mining-right corner points), the second text format.

Mining-right applications and registers give the area of a right as corner points
(拐点) in a key/value text file::

    [登记项目]
    项目名称=某某石灰岩矿
    许可证号=C6403002020127130150001
    坐标系=2000国家大地坐标系
    面积=0.1234
    拐点数=4
    XY001=1,4201234.56,36512345.67
    XY002=2,4201234.56,36512845.67
    XY003=3,4200834.56,36512845.67
    XY004=4,4200834.56,36512345.67
    标高=+1250,+1100

* ``XYnnn=点号,X,Y`` (or ``XYnnn=X,Y``): X northing, Y easting with or without
  the zone prefix, to 2 decimals; or latitude/longitude in 度分秒 with seconds to 3
  decimals (``37°54′12.345″``; the 2022 notice of the Ministry on mining-right
  areas). The ``nnn`` run from 001 without a gap: a missing line is refused.
* A ``标高=上限,下限`` (or ``开采标高``) line closes a block (块段) and gives its
  elevation range; points after it start the next block. Points after the last
  标高 line form a last block without elevations.
* ``面积`` (平方千米 unless a unit is written) and ``拐点数`` are a contract: a
  file describing more than its points draw is refused.
* Corner points are listed once; a repeated first point is allowed.

:func:`read_guaidian` returns a :class:`~onemap.io.coordtext.CoordinateFile`:
one polygon per block in EPSG:4490 (columns ``parcel_no``, ``parcel_name``,
``elevation_top_m``, ``elevation_bottom_m``) and the header entries as metadata,
ready for the site check and the mining-rights register.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import shapely

from onemap.errors import Problem, ReadError, Report
from onemap.geo.area import ellipsoidal_area
from onemap.geo.transform import Transformation
from onemap.io.coordparcels import build_file, check_declared_area
from onemap.io.coordtext import (
    AREA_UNITS,
    CoordinateFile,
    Entry,
    ParcelLines,
    PointLine,
    Problems,
    decode_text,
    load_settings,
    normalize_line,
    parse_quantity,
    split_lines,
)

__all__ = ["looks_like_guaidian", "parse_guaidian", "read_guaidian"]

#: The section of a mining-right file.
SECTION = "登记项目"
#: Header columns of the result.
COLUMNS = ["parcel_no", "parcel_name", "elevation_top_m", "elevation_bottom_m"]
#: Keys naming the project, in order of preference.
NAME_KEYS = ("项目名称", "矿山名称", "矿业权名称", "勘查项目名称")
#: Keys of the declared area and point count.
AREA_KEYS = ("面积", "矿区面积", "勘查面积", "区域面积")
COUNT_KEYS = ("拐点数", "拐点个数", "拐点总数")
#: Keys of an elevation line (closes a block).
ELEVATION_KEYS = ("标高", "开采标高", "标高范围")
_POINT_KEY = re.compile(r"^XY(\d+)$", re.IGNORECASE)
_SECTION = re.compile(r"^[\[【](.+?)[\]】]$")
_SEP = re.compile(r"\s*[,\t]\s*")


def looks_like_guaidian(path: str | Path) -> bool:
    """Return whether a file looks like a 矿业权拐点 file (sniffs the first 64 KiB)."""
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError:
        return False
    for enc in ("utf-8-sig", "gb18030"):
        text = head.decode(enc, errors="ignore")
        if f"[{SECTION}]" in text or re.search(r"(?mi)^\s*XY\d+\s*[=＝]", text):
            return True
    return False


def read_guaidian(
    path: str | Path, *, encoding: str | None = None, file_name: str | None = None,
    transforms: Sequence[Transformation] = (),
) -> CoordinateFile:
    """Read a 矿业权拐点 file: its blocks as polygons and its header as metadata.

    Parameters
    ----------
    path : str or Path
        The text file.
    encoding : str, optional
        Force an encoding (default: UTF-8 when valid, else GBK).
    file_name : str, optional
        Name for messages.
    transforms : sequence of Transformation, optional
        The workspace's transformations offered for a 西安80 / 北京54 file.

    Returns
    -------
    CoordinateFile
        ``format == "拐点"``; :attr:`~CoordinateFile.attributes` holds 许可证号,
        矿业权人 … as written; :attr:`~CoordinateFile.name` the 项目名称/矿山名称.

    Raises
    ------
    onemap.errors.ReadError
        Missing or undecodable file.
    onemap.errors.InputError
        Every problem at its line (1-based, blank lines counted); nothing read.
    """
    p = Path(path)
    shown = file_name or p.name
    if not p.is_file():
        msg = f"文件不存在：{path}"
        raise ReadError(msg, [Problem("file_not_found", msg, file=shown)])
    text, used = decode_text(p.read_bytes(), shown, encoding, "拐点文件")
    return parse_guaidian(text, file_name=shown, encoding=used, transforms=transforms)


def _elevations(value: str, n: int, probs: Problems) -> tuple[float, float] | None:
    parts = [x for x in re.split(r"\s*(?:[,~～]|至|到|—|--)\s*", normalize_line(value)) if x]
    numbers = [parse_quantity(x) for x in parts]
    if len(numbers) != 2 or any(q is None or q[1] not in ("", "米", "M") for q in numbers):
        probs.add("guaidian_elevation", n, f"标高应为“上限,下限”两个数（米），而不是“{value}”", "标高")
        return None
    top, bottom = (q[0] for q in numbers if q is not None)
    if top < bottom:
        probs.add("guaidian_elevation", n, f"标高上限 {top:g} 低于下限 {bottom:g}", "标高")
        return None
    return top, bottom


def _parse(text: str, probs: Problems) -> tuple[dict[str, Entry], list[ParcelLines],
                                                 dict[str, dict[str, str]]]:
    attrs: dict[str, Entry] = {}
    sections: dict[str, dict[str, str]] = {}
    blocks: list[ParcelLines] = []
    current: ParcelLines | None = None
    section: str | None = None
    last: tuple[int, int] | None = None  # (sequence number, line) of the previous XY line
    for n, raw in enumerate(split_lines(text), start=1):
        line = normalize_line(raw)
        if not line:
            continue
        m = _SECTION.match(line)
        if m:
            section = m.group(1).strip()
            if section != SECTION:
                sections.setdefault(section, {})
            continue
        if section is None:
            probs.add("guaidian_section", n, f"内容出现在任何节之前（应先有 [{SECTION}]）")
            continue
        key, found, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not found or not key:
            probs.add("guaidian_line", n, f"应为“名称=值”，而不是“{line}”")
            continue
        if section != SECTION:
            sections[section][key] = value
            continue
        pm = _POINT_KEY.match(key)
        if pm:
            seq = int(pm.group(1))
            expected = 1 if last is None else last[0] + 1
            if seq != expected:
                width = len(pm.group(1))
                if seq > expected:
                    gap = f"XY{expected:0{width}d}" + (f"–XY{seq - 1:0{width}d}" if seq > expected + 1
                                                       else "")
                    after = f"第 {last[1]} 行 XY{last[0]:0{width}d} 之后是 {key}" if last else \
                        f"第一个拐点是 {key}"
                    probs.add("guaidian_point_missing", n, f"缺少拐点 {gap}（{after}）", key)
                else:
                    probs.add("guaidian_point_order", n,
                              f"拐点编号 {key} 重复或倒序（应为 XY{expected:0{width}d}）", key)
            last = (seq, n)
            parts = _SEP.split(value)
            while parts and parts[-1] == "":
                parts.pop()
            if len(parts) not in (2, 3):
                probs.add("guaidian_point", n, f"拐点行应为“XYnnn=点号,X,Y”，而不是“{line}”", key)
                continue
            name = parts[0] if len(parts) == 3 else str(seq)
            if current is None:
                current = ParcelLines(line=n, label=f"块段{len(blocks) + 1}")
                blocks.append(current)
            current.points.append(PointLine(n, name, 1, parts[-2], parts[-1]))
            continue
        if key in ELEVATION_KEYS:
            if current is None:
                probs.add("guaidian_elevation", n, "标高行前没有拐点（标高结束一个块段）", key)
                continue
            elev = _elevations(value, n, probs)
            if elev is not None:
                current.header["elevation_top_m"], current.header["elevation_bottom_m"] = elev
            current = None
            continue
        attrs[key] = Entry(value, n)
    if not blocks and not probs:
        probs.add("guaidian_empty", None, "文件中没有拐点（XYnnn=…行）")
    return attrs, blocks, sections


def _declared(attrs: dict[str, Entry], keys: tuple[str, ...]) -> tuple[str, Entry] | None:
    return next(((k, attrs[k]) for k in keys if k in attrs and attrs[k].value), None)


def parse_guaidian(text: str, *, file_name: str = "<拐点>", encoding: str = "UTF-8",
                   transforms: Sequence[Transformation] = ()) -> CoordinateFile:
    """Parse the text of a 矿业权拐点 file (see :func:`read_guaidian`).

    Parameters
    ----------
    text : str
        Decoded content.
    file_name : str
        Name for messages.
    encoding : str
        Encoding used (recorded).
    transforms : sequence of Transformation, optional
        See :func:`read_guaidian`.

    Returns
    -------
    CoordinateFile
    """
    probs = Problems(file_name)
    report = Report()
    attrs, blocks, sections = _parse(text, probs)
    name = next((attrs[k].value for k in NAME_KEYS if k in attrs and attrs[k].value), None)
    for k, b in enumerate(blocks, start=1):
        b.header["parcel_no"] = str(k)
        b.header["parcel_name"] = f"{name}（块段{k}）" if name and len(blocks) > 1 else (
            name or f"块段{k}")
    area = _declared(attrs, AREA_KEYS)
    declared: tuple[float, str, int] | None = None
    if area is not None:
        q = parse_quantity(area[1].value)
        if q is None or (q[1] and q[1] not in AREA_UNITS):
            probs.add("guaidian_area", area[1].line,
                      f"{area[0]}应为数字（默认平方千米，可带单位），而不是“{area[1].value}”", area[0])
        else:
            digits = re.match(r"[+-]?\d*\.?(\d*)", normalize_line(area[1].value).replace(" ", ""))
            declared = (q[0], q[1], len(digits.group(1)) if digits else 0)
    count = _declared(attrs, COUNT_KEYS)
    if count is not None:
        q = parse_quantity(count[1].value)
        if q is None or q[0] != int(q[0]) or q[1] not in ("", "个"):
            probs.add("guaidian_count", count[1].line, f"{count[0]}应为整数，而不是“{count[1].value}”",
                      count[0])
        else:
            n_lines = sum(len(b.points) for b in blocks)
            firsts = sum(1 for b in blocks if len(b.points) > 1 and
                         (b.points[0].x_text, b.points[0].y_text) ==
                         (b.points[-1].x_text, b.points[-1].y_text))
            if int(q[0]) not in (n_lines, n_lines - firsts) and not probs:
                last_line = blocks[-1].points[-1].line if blocks and blocks[-1].points else None
                probs.add("guaidian_count", count[1].line,
                          f"{count[0]}为 {int(q[0])}，但文件只有 {n_lines} 个拐点行（最后一个在第 "
                          f"{last_line} 行）；文件可能被截断", count[0])
    data = build_file(blocks, attrs, sections=sections, name=name, fmt="拐点",
                      policy_name="guaidian", problems=probs, report=report, columns=COLUMNS,
                      encoding=encoding, what="拐点文件", dms_marks_mean_degrees=True,
                      transforms=transforms)
    if declared is not None and area is not None:  # the declared area covers every block
        label = "（全部块段）" if len(blocks) > 1 else blocks[0].label
        whole = ParcelLines(line=area[1].line, label=label, declared_area=declared)
        union = shapely.union_all(data.gdf.geometry.values)
        planar = float(data.gdf["planar_area_m2"].sum()) if len(blocks) == 1 else float("nan")
        check_declared_area(whole, planar, float(ellipsoidal_area([union])[0]),
                            load_settings().formats["guaidian"], probs, report)
        probs.raise_if_any("拐点文件")
        data.report = report
    return data
