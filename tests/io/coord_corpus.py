"""A corpus of 报盘 and 拐点 files as they really come: honest variants and damaged copies.

Every file is built here from parcels given in Gauss-Krüger or lon/lat coordinates,
written line by line the way surveying packages and templates write them (not with
``onemap.io.bopan.write_bopan``). Each case carries its expectation:

* an honest variant: the parcels' total area, computed independently with
  ``pyproj.Geod`` on the ring inverse-projected to lon/lat (or, for a line, its
  geodesic length; for points, their number);
* a damaged file: the rule and the 1-based line (blank lines counted) where the
  reader must refuse it; the line is taken from the way the damage was made.

Run as a script to write the files and an index for a look in an editor::

    python tests/io/coord_corpus.py /tmp/corpus
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from pyproj import Geod, Transformer

GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid (flattening differs by 1e-10)

# Parcels near 吴忠 (106.2°E, 38°N): 3° zone 35 (CM 105°E). Points are (X northing, Y easting
# without the zone prefix), rings open (the writer closes them).
PENTAGON = [(4206000.000, 605000.000), (4206000.000, 605400.000), (4206250.42, 605550.25),
            (4206500.000, 605400.000), (4206500.000, 605000.000)]
HOLE = [(4206100.000, 605100.000), (4206200.000, 605100.000), (4206200.000, 605200.000),
        (4206100.000, 605200.000)]
QUAD = [(4207000.12, 606000.46), (4207010.79, 606300.11), (4207300.56, 606310.99),
        (4207290.00, 605990.00)]  # 2 decimals, so files written to 2 or 3 decimals agree
ROAD = [(4205000.000, 604000.000), (4205100.000, 604500.000), (4205050.000, 605000.000)]
WELLS = [(4205500.000, 604100.000), (4205600.000, 604200.000)]
# zone 18 (6°, CM 105°E) and zone 36 (3°, CM 108°E) parcels
QUAD_6 = [(4206000.000, 605000.000), (4206000.000, 605300.000), (4206300.000, 605300.000),
          (4206300.000, 605000.000)]
# lon/lat parcel (X = 纬度, Y = 经度), in degrees
LONLAT = [(37.900000, 106.200000), (37.900000, 106.206000), (37.905000, 106.206000),
          (37.905000, 106.200000)]

BASE_HEAD = ["格式版本号=1.01版本", "数据产生单位=某某测绘有限公司", "数据产生日期=2024-05-01",
             "坐标系=2000国家大地坐标系", "几度分带=3", "投影类型=高斯克吕格", "计量单位=米",
             "带号=35", "精度=0.001", "转换参数=,,,,,,"]


def _epsg(zone: int, width: int = 3) -> str:
    return f"EPSG:{(4534 + zone - 25) if width == 3 else (4502 + zone - 13)}"


def lonlat_ring(ring: list[tuple[float, float]], zone: int = 35, width: int = 3,
                ) -> list[tuple[float, float]]:
    """(lon, lat) of a ring of (X, Y) plane coordinates (Y without prefix)."""
    t = Transformer.from_crs(_epsg(zone, width), "EPSG:4326", always_xy=True)
    lon, lat = t.transform([p[1] for p in ring], [p[0] for p in ring])
    return list(zip(lon, lat, strict=True))


def geod_area(rings: list[list[tuple[float, float]]]) -> float:
    """Geodesic area (m²) of a polygon given as lon/lat rings (outer first, then holes)."""
    poly = shapely.Polygon(rings[0], rings[1:])
    area, _ = GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(poly, 1.0))
    return abs(area)


def plane_area(rings: list[list[tuple[float, float]]], zone: int = 35, width: int = 3) -> float:
    return geod_area([lonlat_ring(r, zone, width) for r in rings])


def planar(rings: list[list[tuple[float, float]]]) -> float:
    """Gauss-plane area (m²), as a surveyor's package writes it in the header."""
    poly = shapely.Polygon([(y, x) for x, y in rings[0]], [[(y, x) for x, y in r]
                                                           for r in rings[1:]])
    return float(poly.area)


@dataclass
class Case:
    """One corpus file and what reading it must give."""

    name: str
    lines: list[str]
    encoding: str = "gbk"
    newline: str = "\r\n"
    area_m2: float | None = None      # honest polygons: total area
    length_m: float | None = None     # honest line
    points: int | None = None         # honest points
    parcels: int | None = None
    project: str | None = None
    refuse: tuple[str, int] | None = None  # damaged: (rule, line)
    words: list[str] = field(default_factory=list)  # must appear in the refusal
    kind: str = "报盘"

    def data(self) -> bytes:
        text = self.newline.join(self.lines) + self.newline
        if self.encoding == "utf-8-sig":
            return b"\xef\xbb\xbf" + text.encode("utf-8")
        return text.encode(self.encoding)


def parcel_lines(rings: list[list[tuple[float, float]]], *, no: int, name: str, shape: str = "面",
                 prefix: str = "35", dec: int = 3, count: bool = True, area: str | None = "ha",
                 close: bool = True, start: int = 1, sep: str = ",", at: str = "@",
                 use: str = "工业") -> list[str]:
    """Header and point lines of one parcel (each ring closed with its first point)."""
    pts = sum(len(r) + (1 if close else 0) for r in rings)
    a = planar(rings) if shape == "面" else 0.0
    area_text = {"ha": f"{a / 1e4:.4f}", "ha_unit": f"{a / 1e4:.4f}公顷", "m2": f"{a:.2f}平方米",
                 None: ""}[area]
    out = [sep.join([str(pts) if count else "", area_text, str(no), name, shape, "", use, ""])
           + sep + at]
    k = start
    for ring_no, ring in enumerate(rings, start=1):
        first = k
        for x, y in ring:
            out.append(sep.join([f"J{k}", str(ring_no), f"{x:.{dec}f}", f"{prefix}{y:0{7 + dec}.{dec}f}"
                                 if prefix else f"{y:.{dec}f}"]))
            k += 1
        if close:
            x, y = ring[0]
            out.append(sep.join([f"J{first}", str(ring_no), f"{x:.{dec}f}",
                                 f"{prefix}{y:0{7 + dec}.{dec}f}" if prefix else f"{y:.{dec}f}"]))
    return out


def standard(head: list[str] | None = None, **kw) -> list[str]:
    """The reference file: a pentagon with a hole and a quadrilateral, zone 35 prefixed."""
    lines = ["[属性描述]", *(BASE_HEAD if head is None else head), "[地块坐标]"]
    lines += parcel_lines([PENTAGON, HOLE], no=1, name="一号地块", **kw)
    lines += parcel_lines([QUAD], no=2, name="二号地块", start=10, **kw)
    return lines


STANDARD_AREA = plane_area([PENTAGON, HOLE]) + plane_area([QUAD])


def line_of(lines: list[str], text: str, nth: int = 1) -> int:
    """1-based number of the nth line starting with ``text``."""
    hits = [i + 1 for i, line in enumerate(lines) if line.startswith(text)]
    return hits[nth - 1]


def guaidian_lines(blocks: list[tuple[list[tuple[float, float]], tuple[str, str] | None]], *,
                   head: list[str], fmt=None) -> list[str]:
    """A 矿业权拐点 file: [登记项目], header, XYnnn lines, a 标高 line after each block."""
    lines = ["[登记项目]", *head]
    k = 1
    for ring, elev in blocks:
        for x, y in ring:
            xs, ys = fmt(x, y) if fmt else (f"{x:.2f}", f"35{y:09.2f}")
            lines.append(f"XY{k:03d}={k},{xs},{ys}")
            k += 1
        if elev:
            lines.append(f"标高={elev[0]},{elev[1]}")
    return lines


def dms(value: float) -> str:
    """度分秒 with 3-decimal seconds, as the 2022 notice writes them."""
    d = int(value)
    m_full = (value - d) * 60
    m = int(m_full)
    s = round((m_full - m) * 60, 3)
    if s >= 60:
        s -= 60
        m += 1
    return f"{d}°{m:02d}′{s:06.3f}″"


def _packed(value: float) -> str:
    """度.分秒 (DD.MMSSsss) of :func:`dms`, as files with 计量单位=度分秒 write them."""
    d, rest = dms(value).split("°")
    m, rest = rest.split("′")
    sec = rest.rstrip("″").replace(".", "")
    return f"{d}.{m}{sec}"


def _dms_back(text: str) -> float:
    d, rest = text.split("°")
    m, rest = rest.split("′")
    return int(d) + int(m) / 60 + float(rest.rstrip("″")) / 3600


def honest() -> list[Case]:
    """Variants real exporters write: each must read with the independent area."""
    two = {"area_m2": STANDARD_AREA, "parcels": 2}
    cases = [
        Case("01_gbk_crlf_prefixed", standard(), **two),
        Case("02_utf8_lf", standard(), encoding="utf-8", newline="\n", **two),
        Case("03_utf8_bom", standard(), encoding="utf-8-sig", **two),
        Case("04_unprefixed_with_zone", standard(prefix=""), **two),
        Case("05_fullwidth_punctuation",
             [line.replace(",", "，").replace("@", "＠").replace("=", "＝") for line in standard()],
             **two),
        Case("06_spaces_and_ideographic_spaces",
             ["  " + line.replace(",", " , ") + "\u3000" for line in standard()], **two),
        Case("07_area_with_unit", standard(area="ha_unit"), **two),
        Case("08_area_in_square_metres", standard(area="m2"), **two),
        Case("09_no_point_count", standard(count=False), **two),
        Case("10_no_declared_area", standard(area=None), **two),
        Case("11_blank_lines", [x for line in standard() for x in (line, "")], **two),
        Case("12_project_section_first",
             ["[项目信息]", "项目名称=吴忠市某某产业园区道路工程", "建设单位=某某公司", *standard()],
             project="吴忠市某某产业园区道路工程", **two),
        Case("13_project_name_in_attributes",
             ["[属性描述]", "项目名称=某某物流园", *BASE_HEAD, *standard()[len(BASE_HEAD) + 1:]],
             project="某某物流园", **two),
        Case("14_two_decimals", standard(dec=2), **two),
        Case("15_central_meridian",
             standard(head=[*BASE_HEAD, "中央子午线=105"], prefix=""), **two),
        Case("16_crs_text_with_zone",
             standard(head=[h if not h.startswith("坐标系") else "坐标系=CGCS2000 3度带 35带"
                            for h in BASE_HEAD]), **two),
        Case("17_no_width_no_zone_prefixed",
             standard(head=["坐标系=2000国家大地坐标系", "计量单位=米"]), **two),
        Case("18_six_degree_prefixed",
             ["[属性描述]", "坐标系=2000国家大地坐标系", "几度分带=6", "计量单位=米", "[地块坐标]",
              *parcel_lines([QUAD_6], no=1, name="六度带地块", prefix="18")],
             area_m2=plane_area([QUAD_6], 18, 6), parcels=1),
        Case("19_six_degree_unprefixed",
             ["[属性描述]", "坐标系=2000国家大地坐标系", "几度分带=6", "带号=18", "计量单位=米",
              "[地块坐标]", *parcel_lines([QUAD_6], no=1, name="六度带地块", prefix="")],
             area_m2=plane_area([QUAD_6], 18, 6), parcels=1),
        Case("20_multipart_ring_outside",
             ["[属性描述]", *BASE_HEAD, "[地块坐标]",
              *_multipart()], area_m2=plane_area([PENTAGON]) + plane_area([QUAD]), parcels=1),
        Case("21_header_short",
             ["[属性描述]", *BASE_HEAD, "[地块坐标]",
              *[line if not line.endswith("@") else f"5,{planar([QUAD]) / 1e4:.4f},1,@"
                for line in parcel_lines([QUAD], no=1, name="x")]],
             area_m2=plane_area([QUAD]), parcels=1),
        Case("22_decimal_degrees",
             ["[属性描述]", "坐标系=2000国家大地坐标系", "计量单位=度", "[地块坐标]", "5,,1,经纬度地块,面,,,,@",
              *[f"J{i + 1},1,{x:.6f},{y:.6f}" for i, (x, y) in enumerate(LONLAT + LONLAT[:1])]],
             area_m2=geod_area([[(y, x) for x, y in LONLAT]]), parcels=1),
        Case("23_dms_degrees",
             ["[属性描述]", "坐标系=2000国家大地坐标系", "计量单位=度", "[地块坐标]", "5,,1,度分秒地块,面,,,,@",
              *[f"J{i + 1},1,{dms(x)},{dms(y)}" for i, (x, y) in enumerate(LONLAT + LONLAT[:1])]],
             area_m2=geod_area([[(_dms_back(dms(y)), _dms_back(dms(x))) for x, y in LONLAT]]),
             parcels=1),
        Case("28_packed_dms_unit",
             ["[属性描述]", "坐标系=2000国家大地坐标系", "计量单位=度分秒", "[地块坐标]",
              "5,,1,度分秒地块,面,,,,@",
              *[f"J{i + 1},1,{_packed(x)},{_packed(y)}" for i, (x, y) in enumerate(LONLAT + LONLAT[:1])]],
             area_m2=geod_area([[(_dms_back(dms(y)), _dms_back(dms(x))) for x, y in LONLAT]]),
             parcels=1),
        Case("24_line_shape",
             ["[属性描述]", *BASE_HEAD, "[地块坐标]",
              *parcel_lines([ROAD], no=1, name="道路中线", shape="线", close=False, area=None)],
             length_m=GEOD.geometry_length(shapely.LineString(lonlat_ring(ROAD))), parcels=1),
        Case("29_line_two_parts",
             ["[属性描述]", *BASE_HEAD, "[地块坐标]",
              *parcel_lines([ROAD, WELLS], no=1, name="管线", shape="线", close=False, area=None)],
             length_m=GEOD.geometry_length(shapely.LineString(lonlat_ring(ROAD)))
             + GEOD.geometry_length(shapely.LineString(lonlat_ring(WELLS))), parcels=1),
        Case("25_point_shape",
             ["[属性描述]", *BASE_HEAD, "[地块坐标]",
              *parcel_lines([WELLS], no=1, name="机井", shape="点", close=False, area=None)],
             points=2, parcels=1),
        Case("26_coordinates_with_metre_unit",
             [line if not line.startswith("J") else
              ",".join(p + ("米" if i >= 2 else "") for i, p in enumerate(line.split(",")))
              for line in standard()], **two),
        Case("27_area_in_mu_without_unit",
             [line if not line.endswith("@") else _mu_header(line) for line in standard()], **two),
    ]
    # mining-right 拐点 files
    head = ["项目名称=宁夏某某石灰岩矿", "许可证号=C6403002020127130150001", "矿业权人=某某建材有限公司",
            "开采矿种=水泥用石灰岩", "坐标系=2000国家大地坐标系"]
    quad_km2 = plane_area([QUAD]) / 1e6
    cases += [
        Case("31_guaidian_plane", guaidian_lines(
            [(QUAD, ("+1250", "+1100"))],
            head=[*head, f"面积={quad_km2:.4f}", "拐点数=4"]),
            area_m2=plane_area([QUAD]), parcels=1, project="宁夏某某石灰岩矿", kind="拐点"),
        Case("32_guaidian_two_blocks", guaidian_lines(
            [(QUAD, ("1250", "1100")), (PENTAGON, ("1200", "1000"))],
            head=[*head, "拐点数=9"]),
            area_m2=plane_area([QUAD]) + plane_area([PENTAGON]), parcels=2, kind="拐点"),
        Case("33_guaidian_dms", guaidian_lines(
            [([(x, y) for x, y in LONLAT], ("1300", "1150"))],
            head=[*head, "面积=0.2423"], fmt=lambda x, y: (dms(x), dms(y))),
            area_m2=geod_area([[(_dms_back(dms(y)), _dms_back(dms(x))) for x, y in LONLAT]]),
            parcels=1, kind="拐点"),
        Case("34_guaidian_utf8_no_elevation", guaidian_lines([(QUAD, None)], head=head),
             encoding="utf-8", newline="\n", area_m2=plane_area([QUAD]), parcels=1, kind="拐点"),
    ]
    return cases


def _multipart() -> list[str]:
    """One parcel of two parts: ring 2 lies outside ring 1 (圈号 2 as a part)."""
    return parcel_lines([PENTAGON, QUAD], no=1, name="两块地")


def _mu_header(line: str) -> str:
    parts = line.split(",")
    ha = float(parts[1])
    parts[1] = f"{ha * 15:.4f}"
    return ",".join(parts)


def damaged() -> list[Case]:
    """Damaged copies of honest files: each must be refused at the named line."""
    std = standard()
    out: list[Case] = []

    def case(name: str, lines: list[str], rule: str, line: int, *words: str,
             kind: str = "报盘") -> None:
        out.append(Case(name, lines, refuse=(rule, line), words=list(words), kind=kind))

    # cut on a line boundary: 3 of the 5 point lines of the last parcel left
    cut = std[:-2]
    case("51_cut_on_line_boundary", cut, "coord_point_count", line_of(std, "5,"), "界址点数为 5")
    # one point line missing in the middle of parcel 1 (J3)
    miss = [line for line in std if not line.startswith("J3,")]
    case("52_point_line_missing", miss, "coord_point_missing", line_of(std, "J4,") - 1, "J3")
    # cut in the middle of a number (last closing line)
    mid = std[:-1] + [std[-1][:-9]]
    case("53_cut_mid_number", mid, "coord_value", len(std), "残缺")
    # X/Y swapped on one point (prefixed file)
    sw = list(std)
    k = line_of(std, "J2,") - 1
    n, r, x, y = sw[k].split(",")
    sw[k] = ",".join([n, r, y, x])
    case("54_xy_swapped_one_point", sw, "coord_xy_swapped", k + 1, "颠倒")
    # X/Y swapped in an unprefixed file
    un = standard(prefix="")
    k = line_of(un, "J3,") - 1
    n, r, x, y = un[k].split(",")
    un[k] = ",".join([n, r, y, x])
    case("55_xy_swapped_unprefixed", un, "coord_xy_swapped", k + 1, "颠倒")
    # 带号 contradicts the central meridian (unprefixed Y read in the wrong zone)
    bad_zone = standard(head=[h if h != "带号=35" else "带号=36" for h in BASE_HEAD]
                        + ["中央子午线=105"], prefix="")
    case("56_zone_contradicts_meridian", bad_zone, "coord_zone", line_of(bad_zone, "带号"),
         "中央子午线")
    # 带号 in the crs text contradicts 带号
    crs_zone = standard(head=[h if not h.startswith("坐标系") else "坐标系=CGCS2000 3度带 36带"
                              for h in BASE_HEAD], prefix="")
    case("57_zone_contradicts_crs_text", crs_zone, "coord_zone", line_of(crs_zone, "带号"), "36")
    # one point with another zone prefix
    oz = list(std)
    k = line_of(std, "J11,") - 1
    oz[k] = oz[k].replace(",35", ",36")
    case("58_other_prefix_one_point", oz, "coord_zone", k + 1, "不一致")
    # header 带号 against the prefix of every point
    hz = standard(head=[h if h != "带号=35" else "带号=34" for h in BASE_HEAD])
    case("59_header_zone_vs_prefix", hz, "coord_zone", line_of(hz, "J1,"), "带号=34")
    # 几度分带 against the prefix
    wz = standard(head=[h if h != "几度分带=3" else "几度分带=6" for h in BASE_HEAD if h != "带号=35"])
    case("60_width_vs_prefix", wz, "coord_zone", line_of(wz, "几度分带"), "3 度带")
    # unknown 图形属性
    shp = [line.replace(",面,", ",体,") if line.startswith("11,") else line for line in std]
    case("61_unknown_shape", shp, "bopan_header", line_of(std, "11,"), "图形属性")
    # degrees in a file whose unit says 米
    deg_m = ["[属性描述]", *BASE_HEAD, "[地块坐标]", "5,,1,甲,面,,,,@",
             *[f"J{i + 1},1,{x:.6f},{y:.6f}" for i, (x, y) in enumerate(LONLAT + LONLAT[:1])]]
    case("62_degrees_labelled_metres", deg_m, "coord_unit", line_of(deg_m, "J1,"), "经纬度", "米")
    # decimal lon/lat without a unit
    deg_none = ["[属性描述]", "坐标系=2000国家大地坐标系", "[地块坐标]", "5,,1,甲,面,,,,@",
                *[f"J{i + 1},1,{x:.6f},{y:.6f}" for i, (x, y) in enumerate(LONLAT + LONLAT[:1])]]
    case("63_degrees_without_unit", deg_none, "coord_unit", line_of(deg_none, "J1,"), "经纬度")
    # 西安80 with transformation parameters
    x80 = standard(head=[h if not h.startswith(("坐标系", "转换参数")) else
                         ("坐标系=1980西安坐标系" if h.startswith("坐标系") else
                          "转换参数=-35.12,102.45,45.3,0.2,-0.1,0.3,1.2") for h in BASE_HEAD])
    case("64_xian80_with_parameters", x80, "coord_legacy_datum", line_of(x80, "坐标系"),
         "西安", "转换参数")
    # 界址点数 larger than the points (a closed ring with a line lost before it)
    big = [line if not line.startswith("5,") else "6" + line[1:] for line in std]
    case("65_point_count_larger", big, "coord_point_count", line_of(std, "5,"), "界址点数为 6")
    # a ring not closed (no 界址点数 to tell)
    opn = standard(count=False)
    opn = opn[:-1]
    case("66_ring_not_closed", opn, "coord_ring_open", len(opn), "没有闭合")
    # fewer than 3 distinct points
    two_pts = ["[属性描述]", *BASE_HEAD, "[地块坐标]", "3,,1,甲,面,,,,@",
               "J1,1,4206000.000,35605000.000", "J2,1,4206000.000,35605400.000",
               "J1,1,4206000.000,35605000.000"]
    case("67_two_distinct_points", two_pts, "coord_ring", len(two_pts), "至少需要 3 个")
    # a point dropped and renumbered, no 界址点数: only 地块面积 tells
    drop = standard(count=False)
    k = line_of(drop, "J4,")
    drop = drop[:k - 1] + [line.replace("J5,", "J4,") for line in drop[k:]]
    first_header = [i + 1 for i, x in enumerate(drop) if x.endswith("@")][0]
    case("68_declared_area_larger", drop, "coord_declared_area", first_header, "大于")
    # a point line with three items only
    short = list(std)
    k = line_of(std, "J12,") - 1
    short[k] = ",".join(short[k].split(",")[:3])
    case("69_point_missing_y", short, "bopan_point", k + 1, "四项")
    # mining 拐点 files
    head = ["项目名称=宁夏某某石灰岩矿", "坐标系=2000国家大地坐标系"]
    gd = guaidian_lines([(PENTAGON, ("1250", "1100"))], head=[*head, "拐点数=5"])
    gmiss = [line for line in gd if not line.startswith("XY003")]
    case("81_guaidian_point_missing", gmiss, "guaidian_point_missing", line_of(gd, "XY004") - 1,
         "XY003", kind="拐点")
    gcut = gd[:-2]
    case("82_guaidian_cut", gcut, "guaidian_count", line_of(gd, "拐点数"), "拐点数为 5",
         kind="拐点")
    gdms = guaidian_lines([(LONLAT, None)], head=head, fmt=lambda x, y: (dms(x), dms(y)))
    k = line_of(gdms, "XY002") - 1
    gdms[k] = gdms[k].replace(gdms[k].split(",")[1], "37°54′60.500″")
    case("83_guaidian_dms_seconds_60", gdms, "coord_value", k + 1, "秒", kind="拐点")
    garea = guaidian_lines([(PENTAGON[:4], ("1250", "1100"))],
                           head=[*head, f"面积={plane_area([PENTAGON]) / 1e6:.4f}"])
    case("84_guaidian_area_larger", garea, "coord_declared_area", line_of(garea, "面积"), "大于",
         kind="拐点")
    return out


def corpus() -> list[Case]:
    """Every case, honest then damaged."""
    return honest() + damaged()


def write(folder: Path) -> list[Path]:
    """Write every case to ``folder`` with an ``index.json`` of expectations."""
    folder.mkdir(parents=True, exist_ok=True)
    index = {}
    paths = []
    for c in corpus():
        path = folder / f"{c.name}.txt"
        path.write_bytes(c.data())
        paths.append(path)
        index[path.name] = {"kind": c.kind, "area_m2": c.area_m2, "length_m": c.length_m,
                            "points": c.points, "refuse": c.refuse, "words": c.words}
    (folder / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1),
                                       encoding="utf-8")
    return paths


if __name__ == "__main__":  # pragma: no cover - a tool for looking at the corpus
    for p in write(Path(sys.argv[1] if len(sys.argv) > 1 else "coord_corpus")):
        print(p)
