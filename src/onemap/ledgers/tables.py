"""Reading a register's records from the bureau's files.

- XLSX and CSV exports with Chinese headers on the first line (CSV in UTF-8,
  with or without BOM, or GB18030/GBK as Excel writes it on Chinese Windows);
  rows are named by their line as the spreadsheet shows it (header = line 1);
- GeoPackage, Shapefile (and zip), GeoJSON, FileGDB through
  :func:`onemap.io.readers.read_source`, the CRS found and checked by
  :mod:`onemap.geo.crs` and the geometry brought to EPSG:4490; rows are named
  ``第 N 个要素``;
- a 矿业权拐点 text file (:func:`onemap.io.guaidian.read_guaidian`) as one
  record: its header entries (许可证号, 矿业权人 …) as the columns, its blocks
  (rings) as one geometry, ``标高上限``/``标高下限`` the highest top and lowest
  bottom of the blocks; the row is named ``拐点文件``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from onemap.errors import InputError, Problem
from onemap.geo.crs import detect_crs, to_storage
from onemap.io.guaidian import looks_like_guaidian, read_guaidian
from onemap.io.readers import read_source

TABLE_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt")


@dataclass
class SourceTable:
    """The rows of a file: raw cells by column, how each row is named, geometries if any."""

    file_name: str
    columns: list[str]
    rows: list[dict[str, Any]]
    labels: list[str]
    geometry: gpd.GeoSeries | None
    sha256: str = ""


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    raise InputError(f"{path.name} 的编码无法识别（应为 UTF-8 或 GBK/GB18030）",
                     [Problem("encoding_error", "编码无法识别", file=path.name)])


def read_table(path: str | Path, *, layer: str | None = None, encoding: str | None = None) -> SourceTable:
    """Read the rows of a register file.

    Parameters
    ----------
    path : str or Path
        ``.xlsx`` / ``.csv`` (a table) or any geodata file :func:`read_source` reads.
    layer : str, optional
        Sheet of a workbook, or layer of a geodata file.
    encoding : str, optional
        Attribute encoding of a Shapefile.

    Raises
    ------
    onemap.errors.InputError
        Missing or unreadable file, unknown sheet, undecodable CSV, bad CRS.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"找不到文件：{p}", [Problem("file_not_found", str(p), file=str(p))])
    suffix = p.suffix.lower()
    if suffix == ".txt" and looks_like_guaidian(p):
        return _guaidian_table(p, encoding)
    if suffix in TABLE_SUFFIXES:
        sha = hashlib.sha256(p.read_bytes()).hexdigest()
        if suffix in (".csv", ".txt"):
            df = _read_csv(p)
        else:
            try:
                df = pd.read_excel(p, sheet_name=layer or 0, dtype=object)
            except ValueError as exc:
                raise InputError(f"{p.name} 中没有工作表 {layer}",
                                 [Problem("layer_not_found", str(exc), file=p.name)]) from exc
            except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
                raise InputError(f"{p.name} 不是可读的 XLSX 文件（{exc}）",
                                 [Problem("corrupt_file", str(exc), file=p.name)]) from exc
        df = df.dropna(how="all")
        columns = [str(c).strip() for c in df.columns]
        rows = [dict(zip(columns, r, strict=True)) for r in df.itertuples(index=False, name=None)]
        labels = [f"第 {int(i) + 2} 行" for i in df.index]
        return SourceTable(p.name, columns, rows, labels, None, sha)
    src = read_source(p, layer=layer, encoding=encoding)
    gdf = src.gdf
    crs, _ = detect_crs(gdf, src.crs, file_name=src.file_name)
    gdf = to_storage(gdf.set_crs(crs, allow_override=True), crs, file_name=src.file_name)
    attrs = gdf.drop(columns=gdf.geometry.name)
    columns = [str(c) for c in attrs.columns]
    rows = [dict(zip(columns, r, strict=True)) for r in attrs.itertuples(index=False, name=None)]
    labels = [f"第 {i + 1} 个要素" for i in range(len(rows))]
    return SourceTable(src.file_name, columns, rows, labels, gdf.geometry.reset_index(drop=True),
                       src.checksum)


def _guaidian_table(path: Path, encoding: str | None) -> SourceTable:
    """One record from a 矿业权拐点 file: header entries, all blocks as one geometry, 标高 range."""
    data = read_guaidian(path, encoding=encoding)
    row: dict[str, Any] = dict(data.attributes)
    if data.name and not any(k in row for k in ("矿山名称", "项目名称")):
        row["矿山名称"] = data.name
    tops = pd.to_numeric(data.gdf["elevation_top_m"], errors="coerce").dropna()
    bottoms = pd.to_numeric(data.gdf["elevation_bottom_m"], errors="coerce").dropna()
    if len(tops):
        row["标高上限"] = float(tops.max())
    if len(bottoms):
        row["标高下限"] = float(bottoms.min())
    union = shapely.union_all(data.gdf.geometry.values)
    geometry = gpd.GeoSeries([union], crs=data.gdf.crs)
    return SourceTable(data.file_name, list(row), [row], ["拐点文件"], geometry,
                       hashlib.sha256(path.read_bytes()).hexdigest())


def attach_geometry(table: SourceTable, shapes: SourceTable, table_key: str, shapes_key: str,
                    key_title: str) -> SourceTable:
    """The table's rows with the geometry of the feature of the same key from a separate geodata file.

    Parameters
    ----------
    table : SourceTable
        Rows of an XLSX/CSV (no geometry).
    shapes : SourceTable
        Features of a geodata file (with geometry), already in EPSG:4490.
    table_key, shapes_key : str
        The column holding the record key in each.
    key_title : str
        The key field's title, for messages.

    Raises
    ------
    onemap.errors.InputError
        A key twice in the geodata file, or a feature whose key has no row (named).
    """
    def norm(v: Any) -> str:
        if isinstance(v, float) and v == int(v):
            v = int(v)
        return str(v).strip()

    problems: list[Problem] = []
    by_key: dict[str, int] = {}
    for i, row in enumerate(shapes.rows):
        k = norm(row.get(shapes_key))
        if k in by_key:
            problems.append(Problem("duplicate_key", f"{shapes.labels[i]}：{key_title} {k} 在图形文件中重复",
                                    file=shapes.file_name, row=shapes.labels[i]))
        by_key[k] = i
    keys = {norm(r.get(table_key)) for r in table.rows}
    for k, i in by_key.items():
        if k not in keys:
            problems.append(Problem("unmatched_geometry", f"{shapes.labels[i]}：{key_title} {k} 在表格中没有对应的行",
                                    file=shapes.file_name, row=shapes.labels[i]))
    if problems:
        raise InputError(f"{shapes.file_name} 不能与 {table.file_name} 对应（{len(problems)} 处）："
                         + "；".join(p.message for p in problems[:50]), problems)
    assert shapes.geometry is not None
    geoms = [shapes.geometry.iloc[by_key[norm(r.get(table_key))]] if norm(r.get(table_key)) in by_key else None
             for r in table.rows]
    return SourceTable(table.file_name, table.columns, table.rows, table.labels,
                       gpd.GeoSeries(geoms, crs=shapes.geometry.crs), table.sha256)
