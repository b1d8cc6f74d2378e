"""Use cases of the web map: the field dictionary of a layer, and the search box."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import LineString, shape

from onemap.analysis.search import bbox_of, find_features, parse_gauss_kruger, parse_lonlat
from onemap.control.linear import geodesic_length
from onemap.domain.layers import UnknownNameError, codelist, codelist_title, layer_schema
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area, to_hectare, to_mu
from onemap.monitor.service import list_cases
from onemap.reports.xlsx import write_workbook
from onemap.store.base import Store, VersionInfo

#: What the search box looks in: dataset → (kind, fields matched whole, fields matched in part,
#: title fields). Place names come from XZQ and CJDCQ (standards.md §3.2 field names); patches
#: by their 标识码 BSM or 图斑编号 TBBH.
SEARCH_LAYERS: dict[str, tuple[str, list[str], list[str], list[str]]] = {
    "XZQ": ("place", ["XZQDM"], ["XZQMC"], ["XZQMC", "XZQDM"]),
    "CJDCQ": ("place", ["ZLDWDM"], ["ZLDWMC"], ["ZLDWMC", "ZLDWDM"]),
    "DLTB": ("patch", ["BSM", "TBBH"], [], ["DLMC", "BSM", "TBBH"]),
}
KIND_TITLES = {"place": "地名", "patch": "图斑", "case": "案件", "coordinate": "坐标"}


def field_dictionary(dataset: str) -> dict[str, Any]:
    """Chinese titles and code tables of a layer's standard fields.

    Parameters
    ----------
    dataset : str
        Layer name, e.g. ``"DLTB"``.

    Returns
    -------
    dict
        ``{"dataset", "title", "fields": {NAME: {"title", "codelist", "codelist_title",
        "codes": {code: name}}}}``, from ``domain/data/layers.yaml`` and
        ``codelists.yaml``; a layer without a schema gives ``"fields": {}`` (its
        fields are shown by their own names).
    """
    try:
        schema = layer_schema(dataset)
    except UnknownNameError:
        return {"dataset": dataset, "title": dataset, "fields": {}}
    fields: dict[str, Any] = {}
    for spec in schema.fields:
        item: dict[str, Any] = {"title": spec.title}
        if spec.codelist:
            item["codelist"] = spec.codelist
            item["codelist_title"] = codelist_title(spec.codelist)
            item["codes"] = codelist(spec.codelist)
        fields[spec.name] = item
    return {"dataset": schema.name, "title": schema.title, "fields": fields}


def _title(row: Any, fields: list[str]) -> str:
    values = [str(row[f]) for f in fields if f in row and row[f] is not None and str(row[f]) != ""]
    return " ".join(dict.fromkeys(values))


def search(store: Store, text: str, *, limit: int = 20, county: str | None = None,
           loader: Callable[[VersionInfo], gpd.GeoDataFrame] | None = None) -> dict[str, Any]:
    """What the map's search box finds for ``text`` (``GET /api/search?q=…``).

    Parameters
    ----------
    store : Store
        The workspace.
    text : str
        Coordinates (lon/lat in degrees or 度分秒, Gauss-Krüger X/Y with or without the
        zone prefix), a place name or code (XZQ, CJDCQ), a patch BSM/TBBH, or a case number.
    limit : int
        At most this many results.
    county : str, optional
        The user's county: cases of other counties are not listed.
    loader : callable, optional
        ``loader(info) -> GeoDataFrame`` of a version (the API passes its cache); by
        default ``store.read``.

    Returns
    -------
    dict
        ``{"query", "results": [{"kind", "kind_title", "id", "title", "bbox", ...}]}``; a
        feature hit also has ``dataset``, ``collection`` and ``fid`` (its feature id, the
        one tiles and the OGC API carry), a coordinate hit ``lon``/``lat``.
    """
    q = (text or "").strip()
    results: list[dict[str, Any]] = []
    if not q:
        return {"query": q, "results": results}
    have = {d.name: d for d in store.datasets() if d.versions}
    centre = _centre_lon(store, have, loader)
    point = parse_lonlat(q) or parse_gauss_kruger(q, default_lon=centre)
    if point is not None:
        lon, lat = round(point.lon, 7), round(point.lat, 7)
        results.append({"kind": "coordinate", "id": f"{lon},{lat}", "title": point.title,
                        "bbox": [lon, lat, lon, lat], "lon": lon, "lat": lat, "crs": point.crs})
    for name, (kind, whole, part, titles) in SEARCH_LAYERS.items():
        if name not in have or len(results) >= limit:
            continue
        info = have[name].versions[-1]
        gdf = loader(info) if loader is not None else store.read(name, info.version)
        rows = find_features(gdf, whole + part, q, exact=not part, limit=limit - len(results))
        for pos, box in zip(rows.tolist(), bbox_of(gdf, rows), strict=True):
            row = gdf.iloc[pos]
            results.append({"kind": kind, "id": f"{info.layer}/{pos + 1}",
                            "title": _title(row, titles) or f"{name} {pos + 1}", "bbox": box,
                            "dataset": name, "collection": info.layer, "fid": pos + 1})
    if len(results) < limit:
        needle = q.casefold()
        for case in list_cases(store)["cases"]:
            if county and str(case.get("county") or "") != county:
                continue
            if needle not in str(case.get("case_no") or "").casefold() and needle != str(
                    case.get("tbbh") or "").casefold():
                continue
            lon, lat = case.get("lon"), case.get("lat")
            if lon is None or lat is None:
                continue
            state = case.get("state_title") or case.get("state")
            results.append({"kind": "case", "id": str(case["id"]),
                            "title": f"{case.get('case_no') or case['id']}（{state}）",
                            "bbox": [lon, lat, lon, lat], "lon": lon, "lat": lat})
            if len(results) >= limit:
                break
    for r in results:
        r["kind_title"] = KIND_TITLES[r["kind"]]
    return {"query": q, "results": results[:limit]}


def _centre_lon(store: Store, have: dict[str, Any],
                loader: Callable[[VersionInfo], gpd.GeoDataFrame] | None) -> float | None:
    """Longitude of the workspace's centre (for Gauss-Krüger eastings without a zone)."""
    for name in ("XZQ", "DLTB"):
        if name in have:
            info = have[name].versions[-1]
            gdf = loader(info) if loader is not None else store.read(name, info.version)
            b = gdf.total_bounds
            return float((b[0] + b[2]) / 2)
    return None


def measure(geometry: Any) -> dict[str, Any]:
    """Length and area of a drawn line or polygon (lon/lat, EPSG:4490), as the statistics do.

    Parameters
    ----------
    geometry : dict
        A GeoJSON ``LineString`` or ``Polygon`` (or a Feature holding one).

    Returns
    -------
    dict
        ``type``, ``length_m`` (geodesic, CGCS2000 ellipsoid; a polygon's perimeter) and, for
        a polygon, ``area_m2`` (the official ellipsoidal area, :func:`onemap.geo.area.
        ellipsoidal_area`), ``area_ha`` and ``area_mu``; m² and m to 2 decimals, 公顷 to 4.

    Raises
    ------
    onemap.errors.InputError
        Not a line or polygon, coordinates outside lon/lat, a self-intersecting polygon.
    """
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("LineString", "Polygon"):
        raise InputError("测量对象应为 GeoJSON 线（LineString）或面（Polygon）")
    try:
        geom = shape(geometry)
    except Exception as exc:  # noqa: BLE001 - any malformed GeoJSON is the caller's error
        raise InputError(f"无法读取测量图形：{exc}") from exc
    if geom.is_empty:
        raise InputError("测量图形没有坐标")
    x0, y0, x1, y1 = geom.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InputError(f"测量坐标应为经纬度（度）：范围 {x0}, {y0}, {x1}, {y1}")
    if geom.geom_type == "LineString":
        return {"type": "LineString", "length_m": round(geodesic_length(geom), 2)}
    if not geom.is_valid:
        raise InputError("测量的面自相交，请按顺序点击各拐点")
    area = float(ellipsoidal_area([geom])[0])
    return {"type": "Polygon", "length_m": round(geodesic_length(LineString(geom.exterior.coords)), 2),
            "area_m2": round(area, 2), "area_ha": round(float(to_hectare(area)), 4),
            "area_mu": round(float(to_mu(area)), 2)}


#: Export formats of the attribute table: format → (file suffix, media type).
EXPORT_FORMATS = {
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "shp": (".zip", "application/zip"),
}
#: Shapefile attribute encodings offered (GBK for older desktop tools, UTF-8 otherwise).
SHAPEFILE_ENCODINGS = ("GBK", "UTF-8")


def export_features(gdf: gpd.GeoDataFrame, ids: list[int], fmt: str, *, name: str,
                    encoding: str = "UTF-8", dataset: str | None = None) -> tuple[bytes, str, str]:
    """The selected features of a layer version as a file (the attribute table's export).

    Parameters
    ----------
    gdf : GeoDataFrame
        The version (EPSG:4490).
    ids : list of int
        Feature ids (row number + 1), as in tiles, OGC items and search results.
    fmt : {"xlsx", "gpkg", "shp"}
        XLSX (attributes with the ellipsoidal area in m², 公顷, 亩 and Chinese headers),
        GeoPackage, or a zipped Shapefile.
    name : str
        Layer / file name (e.g. ``DLTB_2024``).
    encoding : {"GBK", "UTF-8"}
        Shapefile attribute encoding (written in the ``.cpg``).
    dataset : str, optional
        Dataset name for the Chinese headers (field dictionary).

    Returns
    -------
    (bytes, str, str)
        File content, file name and media type.

    Raises
    ------
    onemap.errors.InputError
        Unknown format or encoding, no ids, ids outside the version, a value the
        encoding cannot hold.
    """
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"不支持的导出格式：{fmt}（可用：{'、'.join(EXPORT_FORMATS)}）")
    if encoding.upper() not in SHAPEFILE_ENCODINGS:
        raise InputError(f"不支持的编码：{encoding}（可用：{'、'.join(SHAPEFILE_ENCODINGS)}）")
    if not ids:
        raise InputError("没有选中要素，请先在属性表中选择要导出的行")
    bad = [i for i in ids if not 1 <= int(i) <= len(gdf)]
    if bad:
        raise InputError(f"要素编号超出范围（1–{len(gdf)}）：{'、'.join(map(str, bad[:5]))}")
    part = gdf.iloc[[int(i) - 1 for i in ids]].copy()
    suffix, media = EXPORT_FORMATS[fmt]
    with tempfile.TemporaryDirectory(prefix="onemap-export-") as tmp:
        out = Path(tmp) / f"{name}{suffix}"
        if fmt == "xlsx":
            area = ellipsoidal_area(part.geometry.values)
            table = part.drop(columns=part.geometry.name)
            table.insert(0, "要素编号", [int(i) for i in ids])
            table["椭球面积（平方米）"] = area.round(2)
            table["椭球面积（公顷）"] = to_hectare(area).round(4)
            table["椭球面积（亩）"] = to_mu(area).round(2)
            fields = field_dictionary(dataset or name)["fields"]
            headers = {k: f"{v['title']}（{k}）" for k, v in fields.items()}
            write_workbook(out, {name[:31]: table}, headers=headers)
        elif fmt == "gpkg":
            part.to_file(out, layer=name, driver="GPKG")
        else:
            folder = Path(tmp) / "shp"
            folder.mkdir()
            try:
                part.to_file(folder / f"{name}.shp", driver="ESRI Shapefile",
                             encoding=encoding.upper())
            except UnicodeEncodeError as exc:
                raise InputError(f"属性值无法用 {encoding} 编码保存：{exc.object[exc.start:exc.end]!r}"
                                 "，请改用 UTF-8") from exc
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(folder.iterdir()):
                    z.write(f, f.name)
        return out.read_bytes(), out.name, media
