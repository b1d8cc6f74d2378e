"""Reading the site (拟用地) of a compliance check from the files applicants send.

Accepted: GeoJSON, Shapefile (zipped or not), GeoPackage, FileGDB (through
:func:`onemap.io.readers.read_source`), KML/KMZ (GDAL's KML drivers) and the
报盘 coordinate text file (:mod:`onemap.io.bopan`) and the 矿业权拐点 file
(:mod:`onemap.io.guaidian`). Every feature is one parcel; a file with several
features is checked parcel by parcel and in total.

The result is always CGCS2000 lon/lat (EPSG:4490). Parcels are polygons, except
the 报盘 parcels whose 图形属性 is 线 (a line: the check reports its length and
what it crosses) or 点 (points: what they fall in). Invalid polygons are repaired
when the repair keeps an area (a self-intersecting "bow-tie" becomes its two
lobes) and the repair is said in :attr:`Site.messages`; geometries that collapse
(collinear or repeated points) are refused with a clear error.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from onemap.errors import InputError, Problem, ReadError, Report
from onemap.geo.area import ellipsoidal_area
from onemap.geo.clean import repair_geometries
from onemap.geo.crs import datum_differs, detect_crs, to_storage
from onemap.geo.transform import (
    Transformation,
    is_local,
    parse_crs,
    to_storage_via,
    transformation_note,
)
from onemap.io.bopan import looks_like_bopan, read_bopan
from onemap.io.coordtext import CoordinateFile
from onemap.io.guaidian import looks_like_guaidian, read_guaidian

__all__ = ["SHAPES", "Site", "prepare_site", "read_site"]

#: Attribute names (upper-case) tried, in order, for a parcel's display name.
NAME_FIELDS = ("PARCEL_NAME", "地块名称", "DKMC", "NAME", "名称", "XMMC", "项目名称", "MC",
               "PARCEL_NO", "地块号", "DKH", "DKBH", "ID")
#: Parcel shapes (图形属性) and the geometry family each must have.
SHAPES = {"面": "Polygon", "线": "LineString", "点": "Point"}

@dataclass
class Site:
    """A site ready to check.

    Attributes
    ----------
    gdf : geopandas.GeoDataFrame
        One row per parcel, EPSG:4490, columns ``name``, ``shape`` (面, 线 or 点)
        and ``geometry`` (valid polygons or multipolygons; lines or points for
        线/点 parcels of a 报盘 file).
    file_name : str
        Name used in messages and reports.
    name : str or None
        The project's name when the file gives one (项目名称 of a 报盘 or 拐点
        file): the name of the whole site in the report.
    metadata : dict
        What else the file says about the project: for coordinate text files
        ``format`` (报盘/拐点), ``attributes`` (header entries as written) and
        ``sections`` (other sections, e.g. ``[项目信息]``).
    source_crs : str or None
        CRS of the file as read (``"EPSG:4524"`` …).
    messages : list of str
        Chinese notes for the officer: repairs made, assumptions, warnings
        of the reader.
    report : onemap.errors.Report
        The same notes as rule-tagged problems.
    """

    gdf: gpd.GeoDataFrame
    file_name: str
    source_crs: str | None = None
    messages: list[str] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    name: str | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Parcel names, in file order."""
        return [str(n) for n in self.gdf["name"]]

    @property
    def shapes(self) -> list[str]:
        """Parcel shapes (面, 线 or 点), in file order."""
        if "shape" not in self.gdf.columns:
            return ["面"] * len(self.gdf)
        return [str(s) for s in self.gdf["shape"]]


def _note(site_report: Report, messages: list[str], rule: str, text: str, **where) -> None:
    site_report.add(rule, text, **where)
    messages.append(text)


def _read_kml(path: Path, shown: str) -> gpd.GeoDataFrame:
    """Every polygon placemark of a KML/KMZ (all folders), lon/lat."""
    import pyogrio

    gdal_path = str(path)
    if path.suffix.lower() == ".kmz":
        try:
            with zipfile.ZipFile(path) as zf:
                members = [n for n in zf.namelist() if n.lower().endswith(".kml")]
        except zipfile.BadZipFile as exc:
            msg = f"{shown} 不是有效的 KMZ（zip）文件：{exc}"
            raise ReadError(msg, [Problem("corrupt_file", msg, file=shown)]) from exc
        if not members:
            msg = f"{shown} 中没有 .kml 文件"
            raise ReadError(msg, [Problem("no_layer", msg, file=shown)])
        gdal_path = f"/vsizip/{path}/{members[0]}"
    try:
        layers = pyogrio.list_layers(gdal_path)
        frames = [pyogrio.read_dataframe(gdal_path, layer=str(name)) for name, _ in layers]
    except Exception as exc:  # noqa: BLE001 - GDAL raises several types
        msg = f"无法读取 {shown}：文件损坏或不是 KML（{str(exc).splitlines()[0][:200]}）"
        raise ReadError(msg, [Problem("corrupt_file", msg, file=shown)]) from exc
    frames = [f for f in frames if len(f)]
    if not frames:
        msg = f"{shown} 中没有任何地标（Placemark）"
        raise ReadError(msg, [Problem("no_geometry", msg, file=shown)])
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                           crs=frames[0].crs or "EPSG:4326")
    gdf.columns = [c.upper() if c != "geometry" else c for c in gdf.columns]
    return gdf


def _to_storage_crs(gdf: gpd.GeoDataFrame, crs, shown: str, override: str | int | None,
                    report: Report, messages: list[str],
                    transforms: Sequence[Transformation] = ()) -> tuple[gpd.GeoDataFrame, str | None]:
    """Reproject to EPSG:4490 (CRS checked against the coordinates), refuse data outside China.

    A source on another datum goes through the first offered transformation whose
    source CRS it is in; without one it is converted with the datum warning.
    """
    if len(gdf) == 0:
        return gdf.set_crs("EPSG:4490", allow_override=True), None
    declared = pyproj.CRS.from_user_input(crs) if crs is not None else None
    real, notes = detect_crs(gdf, declared, override=override, file_name=shown)
    epsg = real.to_epsg()
    label = f"EPSG:{epsg}" if epsg else real.name
    usable = [t for t in transforms if not is_local(t.source_crs)
              and parse_crs(t.source_crs).equals(real, ignore_axis_order=True)]
    if datum_differs(real) and usable:
        notes = [n for n in notes if "未使用转换参数" not in n] + [transformation_note(usable[0])]
        for note in notes:
            _note(report, messages, "crs_note", note, file=shown)
        return to_storage_via(usable[0], gdf, file_name=shown), label
    for note in notes:
        _note(report, messages, "crs_note", note, file=shown)
    return to_storage(gdf, real, file_name=shown), label


def _name_column(gdf: gpd.GeoDataFrame, name_field: str | None) -> list[str]:
    upper = {str(c).upper(): c for c in gdf.columns if c != "geometry"}
    col = None
    if name_field:
        col = upper.get(name_field.upper())
        if col is None:
            raise InputError(f"地块文件中没有字段 {name_field}",
                             [Problem("missing_field", "没有该字段", field=name_field)])
    else:
        col = next((upper[f] for f in NAME_FIELDS if f in upper), None)
    names = []
    for i in range(len(gdf)):
        value = gdf[col].iloc[i] if col is not None else None
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        names.append(text.strip() or f"地块{i + 1}")
    seen: dict[str, int] = {}
    for i, n in enumerate(names):  # keep names unique
        if n in seen:
            seen[n] += 1
            names[i] = f"{n}（{seen[n]}）"
        else:
            seen[n] = 1
    return names


def prepare_site(
    gdf: gpd.GeoDataFrame,
    *,
    file_name: str = "<地块>",
    name_field: str | None = None,
    crs: str | int | None = None,
    source_crs: str | None = None,
    report: Report | None = None,
    messages: list[str] | None = None,
    shapes: list[str] | None = None,
    transforms: Sequence[Transformation] = (),
) -> Site:
    """Check, reproject and repair site parcels.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Parcels; ``gdf.crs`` is the declared CRS (checked against the
        coordinates by :func:`onemap.geo.crs.detect_crs`).
    file_name : str
        Name used in messages.
    name_field : str, optional
        Attribute with the parcel names (default: the first of
        :data:`NAME_FIELDS` present, else 地块1, 地块2 …).
    crs : str or int, optional
        CRS the coordinates are in, overriding the declared one (``--crs``).
    source_crs : str, optional
        Recorded source CRS (when ``gdf`` was already reprojected).
    report, messages : optional
        Notes gathered so far (reader remarks), extended here.
    shapes : list of str, optional
        Declared shape of each row (面, 线 or 点, the 报盘 图形属性); by default
        every parcel must be a polygon.
    transforms : sequence of Transformation, optional
        The workspace's transformations offered for a 西安80 / 北京54 source.

    Returns
    -------
    Site

    Raises
    ------
    onemap.errors.InputError
        No parcel; no CRS (``unknown_crs``); a parcel that is empty, not a
        polygon, or invalid and not safely repairable
        (``unrepairable_geometry``); coordinates outside China.
    """
    report = report if report is not None else Report()
    messages = messages if messages is not None else []
    shown = file_name
    if len(gdf) == 0:
        msg = f"{shown} 中没有任何地块"
        raise InputError(msg, [Problem("site_empty", msg, file=shown)])
    names = _name_column(gdf, name_field)
    kinds = list(shapes) if shapes is not None else ["面"] * len(gdf)
    frame = gpd.GeoDataFrame({"name": names, "shape": kinds}, geometry=list(gdf.geometry.values),
                             crs=gdf.crs)
    before = np.asarray(frame.geometry.values, dtype=object)
    present = ~(shapely.is_missing(before) | shapely.is_empty(before))
    polygon = np.asarray([k == "面" for k in kinds])
    invalid = np.zeros(len(before), dtype=bool)
    invalid[present & polygon] = ~shapely.is_valid(before[present & polygon])
    reasons = {int(i): shapely.is_valid_reason(before[i]) for i in np.flatnonzero(invalid)}
    parts = []
    for kind, family in SHAPES.items():
        rows = frame[[k == kind for k in kinds]]
        if len(rows):
            parts.append(repair_geometries(rows, id_field="name", file_name=shown,
                                           expected=family)[0])
    frame = gpd.GeoDataFrame(pd.concat(parts).sort_index(), geometry="geometry", crs=gdf.crs)
    frame, src = _to_storage_crs(frame, frame.crs, shown, crs, report, messages, transforms)
    source_crs = source_crs or src
    if reasons:
        areas = ellipsoidal_area(frame.geometry.values)
        for k, reason in reasons.items():
            parts = len(shapely.get_parts(frame.geometry.iloc[k]))
            _note(report, messages, "site_repaired",
                  f"地块“{names[k]}”几何无效（{_reason_zh(reason)}），已自动修复：修复后为 {parts} "
                  f"个面、面积 {areas[k]:.2f} 平方米；请核对界址点顺序",
                  file=shown, row=names[k])
    if polygon.sum() > 1:
        polys = frame.geometry.values[polygon]
        areas = ellipsoidal_area(polys)
        union = float(ellipsoidal_area([shapely.union_all(polys)])[0])
        overlap = float(areas.sum()) - union
        if overlap > max(1.0, 1e-6 * union):
            _note(report, messages, "site_parcels_overlap",
                  f"{shown} 中各地块相互重叠 {overlap:.2f} 平方米；合计按去重后的范围计算",
                  file=shown)
    frame = frame.reset_index(drop=True)
    return Site(gdf=frame, file_name=shown, source_crs=source_crs, messages=messages,
                report=report)


def _reason_zh(reason: str) -> str:
    """Chinese wording of a GEOS validity reason (location kept)."""
    words = {
        "Ring Self-intersection": "环自相交",
        "Self-intersection": "边自相交",
        "Too few points": "点数过少",
        "Interior is disconnected": "内部不连通",
        "Hole lies outside shell": "内环在外环之外",
        "Nested holes": "内环嵌套",
        "Nested shells": "外环嵌套",
        "Duplicate Rings": "环重复",
        "Invalid Coordinate": "坐标无效",
    }
    for en, zh in words.items():
        if reason.startswith(en):
            rest = reason[len(en):]
            return zh + (f"，位置 {rest.strip('[]')}" if rest.startswith("[") else rest)
    return reason


def read_site(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    name_field: str | None = None,
    crs: str | int | None = None,
    transforms: Sequence[Transformation] = (),
) -> Site:
    """Read a site file of any accepted format and prepare it for checking.

    Parameters
    ----------
    path : str or Path
        ``.txt`` (报盘), ``.kml``/``.kmz``, or any format of
        :func:`onemap.io.readers.read_source` (``.geojson``, ``.shp``,
        ``.zip``, ``.gpkg``, ``.gdb``).
    layer : str, optional
        Layer of a multi-layer source.
    encoding : str, optional
        Text encoding (报盘 and shapefile attributes).
    name_field : str, optional
        Attribute holding parcel names.
    crs : str or int, optional
        CRS of the coordinates when the file declares none or a wrong one.
    transforms : sequence of Transformation, optional
        The workspace's transformations offered for a 西安80 / 北京54 file (报盘,
        拐点 or a vector file); a legacy 报盘/拐点 without one is refused.

    Returns
    -------
    Site

    Raises
    ------
    onemap.errors.ReadError, onemap.errors.InputError
        Unreadable file, malformed 报盘, unknown CRS, invalid parcels.
    """
    p = Path(path)
    shown = p.name or str(path)
    report = Report()
    messages: list[str] = []
    suffix = p.suffix.lower()
    if not p.exists():
        msg = f"文件不存在：{path}"
        raise ReadError(msg, [Problem("file_not_found", msg, file=shown)])
    other = suffix not in (".shp", ".zip", ".gpkg", ".gdb", ".geojson", ".json", ".kml", ".kmz")
    if suffix == ".txt" or (other and (looks_like_bopan(p) or looks_like_guaidian(p))):
        reader = read_guaidian if looks_like_guaidian(p) and not looks_like_bopan(p) else read_bopan
        return _coordinate_site(reader(p, encoding=encoding, file_name=shown, transforms=transforms),
                                name_field, report, messages)
    if suffix in (".kml", ".kmz"):
        gdf = _read_kml(p, shown)
        return prepare_site(gdf, file_name=shown, name_field=name_field, crs=crs,
                            report=report, messages=messages, transforms=transforms)
    from onemap.io.readers import read_source

    source = read_source(p, layer=layer, encoding=encoding)
    for note in source.notes:
        report.add("reader_note", note, file=source.file_name)
        messages.append(note)
    gdf = source.gdf
    if source.crs is not None:
        gdf = gdf.set_crs(source.crs, allow_override=True)
    return prepare_site(gdf, file_name=source.file_name, name_field=name_field, crs=crs,
                        report=report, messages=messages, transforms=transforms)


def _coordinate_site(data: CoordinateFile, name_field: str | None, report: Report,
                     messages: list[str]) -> Site:
    """A site from a 报盘 or 拐点 file: parcel names, shapes and the project's metadata."""
    for item in data.report.items:
        report.items.append(item)
        messages.append(item.message)
    gdf = data.gdf.copy()
    gdf["NAME"] = [
        str(r.parcel_name or "").strip() or (f"地块{r.parcel_no}" if r.parcel_no else "")
        for r in data.gdf.itertuples()
    ]
    site = prepare_site(gdf, file_name=data.file_name, name_field=name_field or "NAME",
                        source_crs=data.source_crs, report=report, messages=messages,
                        shapes=list(data.gdf["shape"]))
    site.name = data.name
    site.metadata = {"format": data.format, "attributes": dict(data.attributes),
                     "sections": {k: dict(v) for k, v in data.sections.items()}}
    if data.transformation is not None:
        site.metadata["transformation"] = data.transformation
    return site
