"""Ingest pipeline: read → CRS → CGCS2000 → repair → validate → areas → one new version.

Every check runs before anything is written, and the store writes the layer
and its catalog entry together, so a refused or failed ingest leaves the
workspace exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from onemap.domain import layer_names, layer_schema
from onemap.domain.validate import validate_layer
from onemap.errors import InputError, Report
from onemap.geo.clean import repair_geometries
from onemap.geo.crs import check_china_lonlat
from onemap.ingest.areas import fill_area_fields
from onemap.ingest.coords import place_in_cgcs2000
from onemap.io.readers import read_source
from onemap.store.base import Store, VersionInfo, VersionMeta

Progress = Callable[[str, int, int], None]


@dataclass
class IngestResult:
    """What an ingest did.

    Attributes
    ----------
    version : VersionInfo
        The new version.
    report : Report
        Repairs, computed areas, area mismatches, warnings.
    notes : list of str
        What was inferred (encoding, CRS).
    """

    version: VersionInfo
    report: Report
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        counts: dict[str, int] = {}
        for p in self.report.items:
            counts[p.rule] = counts.get(p.rule, 0) + 1
        return {
            "version": self.version.to_dict(),
            "notes": self.notes,
            "findings": counts,
            "report": [p.to_dict() for p in self.report.items],
        }


def _coerce(gdf, dataset: str):
    """Cast attribute columns to the schema's types (text stays text)."""
    schema = layer_schema(dataset)
    out = gdf.copy()
    for spec in schema.fields:
        if spec.name not in out.columns:
            continue
        col = out[spec.name]
        if spec.type == "str":
            text = col.astype("string").str.strip()
            out[spec.name] = text.where(~col.isna(), None).astype(object)
        elif spec.type == "float":
            out[spec.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif spec.type == "int":
            out[spec.name] = pd.to_numeric(col, errors="coerce").astype("Int64")
    return out


def ingest(
    store: Store,
    path: str,
    *,
    dataset: str,
    version: str,
    layer: str | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    created_by: str = "",
    progress: Progress | None = None,
    transform: str | None = None,
    accept_datum_shift: bool = False,
) -> IngestResult:
    """Read a delivery file, check it, and store it as a new version.

    Parameters
    ----------
    store : Store
        The workspace.
    path : str
        Shapefile, zipped Shapefile, GeoPackage, FileGDB folder or GeoJSON.
    dataset : str
        Dataset name, e.g. ``"DLTB"``; names with a standard schema are
        validated against it.
    version : str
        Version label, e.g. ``"2024"``.
    layer, encoding, crs : optional
        Source layer, attribute encoding and CRS override.
    created_by : str
        Who ingests.
    progress : callable, optional
        ``progress(step, done, total)``.
    transform : str, optional
        Name of the workspace's coordinate transformation to use (``NAME`` or
        ``NAME@N``); by default the workspace's default for the source CRS.
    accept_datum_shift : bool
        Ingest a 西安80 / 北京54 source that has no transformation anyway (the
        metres-to-100-m shift is noted); otherwise it is refused.

    Returns
    -------
    IngestResult

    Raises
    ------
    onemap.errors.InputError
        Refusals, each naming file, row (BSM), field and rule. Nothing is written.
    """

    def step(name: str, done: int = 0, total: int = 0) -> None:
        if progress:
            progress(name, done, total)

    dataset = dataset.upper()
    report = Report()
    notes: list[str] = []
    step("读取", 0, 1)
    src = read_source(
        path,
        layer=layer,
        encoding=encoding,
        progress=(lambda d, t: step("读取", d, t)) if progress else None,
    )
    gdf = src.gdf
    if src.encoding:
        notes.append(f"属性编码：{src.encoding}")
    known = dataset in layer_names()
    schema = layer_schema(dataset) if known else None
    id_field = schema.id_field if schema else ("BSM" if "BSM" in gdf.columns else None)
    step("坐标系", 0, 1)
    placed = place_in_cgcs2000(store, gdf, src.crs, override=crs, transform=transform,
                               accept_datum_shift=accept_datum_shift, file_name=src.file_name)
    notes += placed.notes
    gdf = placed.gdf
    check_china_lonlat(gdf, file_name=src.file_name)
    step("几何检查", 0, 1)
    expected = schema.geometry if schema else "Polygon"
    gdf, repairs = repair_geometries(
        gdf, id_field=id_field, file_name=src.file_name, expected=expected
    )
    report.items += repairs.items
    if schema is not None:
        step("属性检查", 0, 1)
        errors, warnings = validate_layer(gdf, dataset, file=src.file_name)
        if errors:
            raise InputError(
                f"{src.file_name} 未通过 {dataset} 数据检查：{len(errors)} 处错误，未写入任何数据",
                errors,
            )
        report.items += warnings
        gdf = _coerce(gdf, dataset)
    ids = gdf[id_field].astype(str) if id_field and id_field in gdf.columns else pd.Series(
        [f"第{i + 1}行" for i in range(len(gdf))], index=gdf.index
    )
    step("面积计算", 0, 1)
    area_totals: dict[str, float] = {}
    field_names = {f.name for f in schema.fields} if schema else set()
    if "TBMJ" in field_names:
        gdf = fill_area_fields(
            gdf, ids=ids, file_name=src.file_name, report=report,
            with_deduction="TBDLMJ" in field_names or "KCMJ" in field_names,
        )
    elif "MJ" in field_names:
        gdf = fill_area_fields(
            gdf, ids=ids, file_name=src.file_name, report=report, area_field="MJ",
            with_deduction=False,
        )
    for name in ("TBMJ", "KCMJ", "TBDLMJ", "MJ"):
        if name in gdf.columns:
            area_totals[name] = float(np.round(pd.to_numeric(gdf[name]).sum(), 2))
    step("写入", 0, 1)
    meta = VersionMeta(
        source_file=src.file_name,
        source_checksum=src.checksum,
        source_crs=placed.source_crs,
        created_by=created_by,
        area_totals=area_totals,
        notes={
            "inferred": notes,
            "repairs": len(repairs.items),
            "warnings": len(report.items),
        } | ({"transformation": placed.transformation} if placed.transformation else {}),
    )
    info = store.write_version(
        dataset, version, gdf, meta, title=schema.title if schema else dataset
    )
    step("完成", 1, 1)
    return IngestResult(version=info, report=report, notes=notes)
