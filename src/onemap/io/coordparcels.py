"""The header contract and the geometry of coordinate text files (报盘, 拐点).

A file is read whole or not at all: a 界址点数 that disagrees with the points (a
numbered point missing is named), a 面 ring that does not close where the format
requires it, a ring of fewer than 3 distinct points, a declared area larger than the
points enclose → refused, every problem at its line. 面 parcels become polygons
(圈号 1 the outer ring, others holes, or parts when outside it), 线 parcels lines
(圈号 numbering the parts), 点 parcels points; all in CGCS2000 lon/lat with their
ellipsoidal area (面), geodesic length (线) and Gauss-plane area.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod, Transformer

from onemap.errors import Report
from onemap.geo.area import ellipsoidal_area
from onemap.geo.transform import Transformation, to_storage_via, transformation_note
from onemap.io.coordframe import check_datum, legacy_transform, resolve_points
from onemap.io.coordtext import (
    AREA_UNITS,
    CoordinateFile,
    Entry,
    FormatPolicy,
    ParcelLines,
    PointLine,
    Problems,
    gk_crs,
    load_settings,
)

__all__ = ["build_file", "check_declared_area"]

# CGCS2000 and GRS80 share the semi-major axis; their flattening differs by 1e-10.
_GEOD = Geod(ellps="GRS80")


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
    lines: list[shapely.LineString] = []
    parts: list[tuple[int, int, list[tuple[float, float]]]] = []  # (圈号, first line, ring)
    for no, pts in rings:
        coords = [xy[pt.line] for pt in pts]
        if p.shape == "线":
            dedup = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
            if len(dedup) < 2:
                probs.add("coord_ring", pts[0].line,
                          f"地块 {p.label}（线）第 {no} 段只有 {len(dedup)} 个不同的点，至少需要 2 个", "圈号")
                continue
            lines.append(shapely.LineString(dedup))
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
        return lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)
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
    out = []
    for g in geoms:
        if shapely.get_type_id(g) in (1, 5):
            out.append(sum(_GEOD.geometry_length(part) for part in shapely.get_parts(g)))
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
    transforms: Sequence[Transformation] = (),
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
    transforms : sequence of Transformation
        Transformations the caller offers for a 西安80 / 北京54 file (the one
        starting from its datum and zone is used); without one such a file is
        refused at its 坐标系 line.

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
    legacy: tuple[Transformation, float] | None = None
    if parcels and check_datum(attrs, problems, what, transforms):  # also after grammar problems
        resolved = resolve_points(parcels, attrs, problems, report, dms_marks_mean_degrees)
        if resolved is not None:
            frame, xy = resolved
            legacy = legacy_transform(attrs, frame, problems, what, transforms)
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
    if not frame.geographic:
        poly = np.isin(shapely.get_type_id(arr), (3, 6))
        planar[poly] = shapely.area(arr[poly])
    if legacy is not None:
        tr, offset = legacy
        shifted = shapely.transform(arr, lambda c: c + np.array([offset, 0.0])) if offset else arr
        lonlat = to_storage_via(tr, gpd.GeoDataFrame(geometry=list(shifted)),
                                file_name=problems.file).geometry.to_numpy()
        report.add("coord_transformed", transformation_note(tr), file=problems.file, field="坐标系")
    elif frame.geographic:
        lonlat = arr
    else:
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
    if legacy is not None:
        source = legacy[0].source_crs
    return CoordinateFile(
        gdf=gdf, attributes={k: e.value for k, e in attrs.items()},
        attribute_lines={k: e.line for k, e in attrs.items()}, sections=sections, name=name,
        source_crs=source, zone=frame.zone, zone_width=frame.width, geographic=frame.geographic,
        file_name=problems.file, encoding=encoding, format=fmt, report=report,
        transformation=legacy[0].provenance() if legacy is not None else None)
