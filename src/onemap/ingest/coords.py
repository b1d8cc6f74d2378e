"""Bring a delivery's coordinates to CGCS2000, through the bureau's transformation when needed.

A source CRS on another datum (西安80, 北京54) uses the transformation named with
``--transform``, else the workspace's default for that CRS; without either it is
refused unless the user accepts the datum shift knowingly. A transformation from
a local (独立) system takes the coordinates as they are in that system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pyproj

from onemap.errors import InputError, Problem
from onemap.geo.crs import datum_differs, detect_crs, to_storage
from onemap.geo.transform import (
    AXES_NOTE,
    LOCAL_PREFIX,
    is_local,
    parse_crs,
    to_storage_via,
    transformation_note,
)
from onemap.store import transforms
from onemap.store.base import Store

__all__ = ["Placed", "place_in_cgcs2000"]


@dataclass
class Placed:
    """Rows in EPSG:4490 and how they got there."""

    gdf: gpd.GeoDataFrame
    source_crs: str
    notes: list[str] = field(default_factory=list)
    transformation: dict[str, Any] | None = None


def _label(crs: pyproj.CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.to_string()


def _refuse(rule: str, message: str, file_name: str) -> InputError:
    return InputError(message, [Problem(rule=rule, message=message, file=file_name or None)])


def place_in_cgcs2000(
    store: Store,
    gdf: gpd.GeoDataFrame,
    declared: pyproj.CRS | None,
    *,
    override: str | int | None = None,
    transform: str | None = None,
    accept_datum_shift: bool = False,
    file_name: str = "",
) -> Placed:
    """Decide the source CRS, pick the transformation and reproject to EPSG:4490.

    Parameters
    ----------
    store : Store
        The workspace (its transformations and defaults).
    gdf : geopandas.GeoDataFrame
        Rows as read.
    declared : pyproj.CRS or None
        CRS the file declares.
    override : str or int, optional
        ``--crs``.
    transform : str, optional
        ``--transform NAME`` (``NAME@N`` for version N).
    accept_datum_shift : bool
        Ingest a legacy-datum source without a transformation (with the warning).
    file_name : str
        For messages.

    Raises
    ------
    onemap.errors.InputError
        ``datum_shift`` (legacy datum, no transformation, not accepted),
        ``transform_mismatch`` (the transformation is for another source CRS),
        ``transform_area`` (data outside its area of use), CRS refusals.
    onemap.errors.WorkspaceError
        Unknown transformation name.
    """
    engine = store.sql_engine()
    t = transforms.get(engine, transform) if transform else None
    notes: list[str] = []
    if t is not None and is_local(t.source_crs):
        source_label = t.source_crs
        said = f"（文件声明的“{declared.name}”不参与）" if declared is not None else ""
        notes.append(f"坐标按独立坐标系“{t.source_crs[len(LOCAL_PREFIX):]}”读取{said}；{AXES_NOTE}")
    else:
        source, notes = detect_crs(gdf, declared, override=override, file_name=file_name)
        source_label = _label(source)
        if t is None:
            t = transforms.default_for(engine, source_label)
            if t is not None:
                notes.append(f"{source_label} 按工作空间默认坐标转换“{t.label}”处理")
        if t is not None:
            if not parse_crs(t.source_crs, "源坐标系").equals(source, ignore_axis_order=True):
                raise _refuse(
                    "transform_mismatch",
                    f"坐标转换“{t.label}”的源坐标系是 {t.source_crs}，而 {file_name or '数据'} 的坐标系是 "
                    f"{source_label}（{source.name}）；请选用该坐标系的转换参数", file_name)
            notes = [n for n in notes if "未使用转换参数" not in n]
        elif datum_differs(source) and not accept_datum_shift:
            geodetic = source.geodetic_crs
            raise _refuse(
                "datum_shift",
                f"{file_name or '数据'} 的坐标系 {source_label}（{source.name}）基准为"
                f"“{geodetic.name if geodetic else source.name}”而不是 CGCS2000，工作空间没有为它配置"
                "坐标转换：不用本局转换参数会有数米至上百米的偏差。请用 --transform 名称 指定转换参数"
                "（onemap crs fit / onemap crs add 建立，onemap crs default 设为默认），或加 "
                "--accept-datum-shift 表示知悉偏差仍要入库", file_name)
    if t is None:
        out = to_storage(gdf.set_crs(source, allow_override=True), source, file_name=file_name)
        return Placed(out, source_label, notes)
    out = to_storage_via(t, gdf, file_name=file_name)
    notes.append(transformation_note(t))
    return Placed(out, source_label, notes, t.provenance())
