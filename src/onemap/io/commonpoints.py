"""Read a table of common points (公共点) for fitting a coordinate transformation.

CSV (UTF-8 or GBK, comma or tab separated) or XLSX (first sheet) with the header row
点名, 原X, 原Y (, 原H), 目标X, 目标Y (, 目标H). **X is the northing and Y the easting**,
as Chinese surveying writes them (X 为北坐标、Y 为东坐标). Rows are numbered as an editor
or Excel shows them (the header is row 1); blank rows are skipped.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from openpyxl import load_workbook

from onemap.errors import InputError, Problem, ReadError
from onemap.geo.transform import AXES_NOTE, CommonPoint
from onemap.io.coordtext import decode_text

__all__ = ["REQUIRED", "read_common_points"]

#: Columns every points file has.
REQUIRED = ("点名", "原X", "原Y", "目标X", "目标Y")
_OPTIONAL = ("原H", "目标H")


def _rows_csv(raw: bytes, shown: str) -> list[tuple[int, list[str]]]:
    text, _ = decode_text(raw, shown, None, "公共点文件")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return [(i, row) for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter),
                                             start=1)]


def _rows_xlsx(path: Path, shown: str) -> list[tuple[int, list[str]]]:
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        msg = f"公共点文件 {shown} 不是有效的 XLSX 文件（{exc}）"
        raise ReadError(msg, [Problem("file_unreadable", msg, file=shown)]) from exc
    sheet = wb.worksheets[0]
    out = []
    for i, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        out.append((i, ["" if v is None else (repr(v) if isinstance(v, float) else str(v))
                        for v in row]))
    wb.close()
    return out


def read_common_points(path: str | Path, *, file_name: str | None = None) -> list[CommonPoint]:
    """Read common points from a CSV or XLSX file.

    Parameters
    ----------
    path : str or Path
        The file (``.csv``, ``.txt`` or ``.xlsx``).
    file_name : str, optional
        Name for messages (default: the file's name).

    Returns
    -------
    list of CommonPoint
        In file order, each with its row number.

    Raises
    ------
    onemap.errors.ReadError
        Missing or undecodable file.
    onemap.errors.InputError
        Rules ``points_header`` (a required column missing, naming it) and
        ``points_value`` (a coordinate that is not a finite number, naming the
        row and column); every problem is reported at once.
    """
    p = Path(path)
    shown = file_name or p.name
    if not p.is_file():
        msg = f"公共点文件不存在：{path}"
        raise ReadError(msg, [Problem("file_not_found", msg, file=shown)])
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _rows_xlsx(p, shown)
    else:
        rows = _rows_csv(p.read_bytes(), shown)
    rows = [(i, [c.strip() for c in r]) for i, r in rows if any(c.strip() for c in r)]
    if not rows:
        msg = f"公共点文件 {shown} 是空的"
        raise InputError(msg, [Problem("points_header", msg, file=shown)])
    header_line, header = rows[0]
    header = [h.upper().replace("Ｘ", "X").replace("Ｙ", "Y").replace("Ｈ", "H") for h in header]
    wanted = {name.upper(): name for name in REQUIRED + _OPTIONAL}
    col = {wanted[h]: k for k, h in enumerate(header) if h in wanted}
    missing = [c for c in REQUIRED if c not in col]
    if missing:
        msg = (f"公共点文件 {shown} 第 {header_line} 行（表头）缺少列：{'、'.join(missing)}；"
               f"表头应为 点名,原X,原Y[,原H],目标X,目标Y[,目标H]，{AXES_NOTE}")
        raise InputError(msg, [Problem("points_header", msg, file=shown, row=str(header_line))])
    problems: list[Problem] = []
    points: list[CommonPoint] = []
    for line, row in rows[1:]:
        def cell(name: str, row: list[str] = row) -> str:
            k = col.get(name)
            return row[k] if k is not None and k < len(row) else ""

        values: dict[str, float | None] = {}
        for name in REQUIRED[1:] + _OPTIONAL:
            text = cell(name)
            if text == "" and name in _OPTIONAL:
                values[name] = None
                continue
            try:
                v = float(text.replace("，", "").replace(" ", ""))
            except ValueError:
                v = math.nan
            if not math.isfinite(v):
                problems.append(Problem(
                    "points_value", f"第 {line} 行 {name}“{text}”不是数字（{AXES_NOTE}）",
                    file=shown, row=str(line), field=name))
            values[name] = v
        name = cell("点名") or f"第{line}行"
        points.append(CommonPoint(name=name, src_x=values["原X"], src_y=values["原Y"],
                                  dst_x=values["目标X"], dst_y=values["目标Y"],
                                  src_h=values["原H"], dst_h=values["目标H"], row=str(line)))
    if problems:
        raise InputError(f"公共点文件 {shown} 有 {len(problems)} 处数值错误，未拟合", problems)
    return points
