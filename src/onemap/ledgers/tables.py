"""Reading a register's records from the bureau's files.

- XLSX and CSV exports with Chinese headers on the first line (CSV in UTF-8,
  with or without BOM, or GB18030/GBK as Excel writes it on Chinese Windows);
  rows are named by their line as the spreadsheet shows it (header = line 1);
- GeoPackage, Shapefile (and zip), GeoJSON, FileGDB through
  :func:`onemap.io.readers.read_source`, the CRS found and checked by
  :mod:`onemap.geo.crs` and the geometry brought to EPSG:4490; rows are named
  ``第 N 个要素``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from onemap.errors import InputError, Problem
from onemap.geo.crs import detect_crs, to_storage
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
