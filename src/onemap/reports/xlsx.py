"""Write XLSX workbooks: official tables as a bureau files them, and plain sheets.

:func:`write_official_workbook` lays every sheet out as an official statistics table:
a merged title naming the 行政区 and the period, 填报单位, the Chinese date and the unit
(单位：公顷) above two-level headers (merged where a column group spans several columns),
names before codes, total and subtotal rows in bold, two decimals with thousands separators,
column widths that fit Chinese text, frozen panes, and a print setup (A4 or A3 landscape,
fit to one page wide, header rows repeated on every page, page numbers). An empty table
shows a one-line "无数据" note instead of an empty grid. Layout parameters come from
``reports/data/xlsx_layout.yaml`` (overridable through ``ONEMAP_DOMAIN_DIR``).

:func:`write_workbook` writes plain sheets (one DataFrame each) for callers that do not
need the official form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter

from onemap.domain import sources
from onemap.errors import DomainDataError, Problem

LAYOUT_FILE = "xlsx_layout.yaml"

#: Column kinds and whether they hold numbers.
NUMERIC_KINDS = ("area", "integer", "percent", "number")


@dataclass(frozen=True)
class Column:
    """One column of an official table.

    Parameters
    ----------
    key : str
        Key of the value in each row dict.
    header : str
        Header text (the second level when ``group`` is set).
    group : str
        First-level header; consecutive columns with the same group share one merged cell.
    kind : {"text", "code", "area", "integer", "percent", "number"}
        How values are written and formatted.
    """

    key: str
    header: str
    group: str = ""
    kind: str = "text"


@dataclass
class Sheet:
    """One sheet of an official workbook.

    Parameters
    ----------
    name : str
        Sheet name (≤ 31 characters).
    title : str
        The table's title (merged over the table's width).
    columns : list of Column
        Columns in order: names and codes first.
    rows : list of dict
        Values by column key; ``_style`` may be ``"total"`` or ``"subtotal"`` (bold, shaded).
    unit : str
        Unit shown as 单位：… ("" for none, e.g. a table of counts or mixed units).
    notes : list of str
        Lines written under the table (说明).
    empty_note : str
        The line shown instead of rows when there are none (default: the layout's 无数据).
    """

    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    unit: str = "公顷"
    notes: list[str] = field(default_factory=list)
    empty_note: str = ""


@dataclass(frozen=True)
class Filing:
    """Who files the tables and when.

    Parameters
    ----------
    region : str
        行政区 name used in titles (e.g. 吴忠市).
    filing_unit : str
        填报单位.
    on : datetime.date
        填报日期.
    """

    region: str
    filing_unit: str
    on: date


# ---------------------------------------------------------------------------- layout
def _layout_path() -> Path:
    return sources.resolve("reports", LAYOUT_FILE)


@lru_cache(maxsize=4)
def _load_layout(path_text: str, mtime: float) -> dict[str, Any]:
    path = Path(path_text)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in ("filing", "font", "paper", "number_formats", "width", "titles"):
            if not isinstance(doc.get(key), dict):
                raise ValueError(f"缺少 {key}")
    except (OSError, yaml.YAMLError, ValueError, AttributeError) as exc:
        raise DomainDataError(f"数据文件 {path.name} 有误：{exc}（文件：{path}）",
                              [Problem("domain_data", str(exc), file=str(path))]) from exc
    return doc


def layout() -> dict[str, Any]:
    """Return the XLSX layout parameters (``xlsx_layout.yaml``), cached."""
    path = _layout_path()
    return _load_layout(str(path), path.stat().st_mtime)


def chinese_date(d: date | datetime | str) -> str:
    """Return a date as 2024年12月3日 (ISO strings and timestamps accepted).

    Examples
    --------
    >>> chinese_date("2024-12-03T08:00:00+00:00")
    '2024年12月3日'
    """
    if isinstance(d, str):
        m = re.match(r"(\d{4})-?(\d{2})-?(\d{2})", d.strip())
        if not m:
            return d
        return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    return f"{d.year}年{d.month}月{d.day}日"


def period_text(*versions: str) -> str:
    """The period of a title: ``"2024"`` → 2024年度; two versions → 2023—2024年度.

    Examples
    --------
    >>> period_text("2024"), period_text("2023", "2024"), period_text("2024-06")
    ('2024年度', '2023—2024年度', '（2024-06）')
    """
    labels = [str(v) for v in versions if str(v or "").strip()]
    if labels and all(re.fullmatch(r"(19|20)\d{2}", v) for v in labels):
        return "—".join(labels) + "年度"
    return f"（{'—'.join(labels)}）" if labels else ""


def title_for(key: str, filing: Filing, period: str = "") -> str:
    """Fill the title template ``key`` of the layout with the region and period."""
    template = layout()["titles"].get(key, "{region}{period}" + key)
    return template.format(region=filing.region, period=period)


def display_width(text: str) -> int:
    """Width of a text in Excel character units: CJK and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def filing_from_settings(settings: Mapping[str, str], on: date | None = None) -> Filing:
    """Region name, 填报单位 and date from workspace settings.

    ``region_name`` and ``org`` (编制单位, the 填报单位 of a table) win; otherwise the region is the workspace ``name``
    (its part before "自然资源", e.g. 吴忠市) when it ends like a 行政区 name (省/市/县/区/旗/州/盟),
    else the region code; the 填报单位 follows the layout's template.
    """
    name = settings.get("name", "").strip()
    if "自然资源" in name:
        name = name.split("自然资源")[0]
    looks_like_region = name.endswith(("省", "市", "县", "区", "旗", "州", "盟"))
    region = (settings.get("region_name") or (name if looks_like_region else "")
              or settings.get("region", "") or name)
    unit = settings.get("org") or layout()["filing"]["filing_unit"].format(region=region)
    return Filing(region=region, filing_unit=unit, on=on or date.today())


# ---------------------------------------------------------------------------- writer
def _formatted(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if kind in ("area", "number") and isinstance(value, int | float):
        return f"{value:,.2f}"
    if kind == "integer" and isinstance(value, int | float):
        return f"{value:,.0f}"
    if kind == "percent" and isinstance(value, int | float):
        return f"{value:.2%}"
    return str(value)


def _cell_value(value: Any, kind: str) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if kind == "area" and isinstance(value, int | float):
        return round(float(value), 2)
    if kind in ("text", "code"):
        return str(value)
    return value


def _paper(ws, columns: Sequence[Column], widths: list[float], lay: dict[str, Any]) -> None:
    paper = lay["paper"]
    small = (len(columns) <= int(paper.get("a4_max_columns", 12))
             and sum(widths) <= float(paper.get("a4_max_width", 150)))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4 if small else ws.PAPERSIZE_A3
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _data_style(wb: Workbook, kind: str, total: bool, lay: dict[str, Any]) -> str:
    """Name of the workbook's named style for a data cell (created once per workbook).

    Named styles are set on a cell in one step; building fonts, borders and alignments per
    cell costs more than writing the values of a large table.
    """
    name = f"onemap_{kind}_{'total' if total else 'body'}"
    if name in wb.named_styles:
        return name
    font = lay["font"]
    thin = Side(style="thin", color="808080")
    style = NamedStyle(name=name)
    style.font = Font(name=font.get("name", "宋体"), size=font.get("body_size", 10), bold=total)
    style.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    if total:
        style.fill = PatternFill("solid", fgColor=font.get("total_fill", "F2F2F2"))
    if kind in NUMERIC_KINDS:
        style.number_format = lay["number_formats"].get(kind, "General")
        style.alignment = Alignment(horizontal="right", vertical="center")
    else:
        style.alignment = Alignment(horizontal="left" if kind == "text" else "center",
                                    vertical="center")
    wb.add_named_style(style)
    return name


def _write_sheet(wb: Workbook, sheet: Sheet, filing: Filing, lay: dict[str, Any]) -> None:
    ws = wb.create_sheet(title=sheet.name[:31])
    cols = sheet.columns
    n = len(cols)
    font = lay["font"]
    fname = font.get("name", "宋体")
    body = Font(name=fname, size=font.get("body_size", 10))
    bold = Font(name=fname, size=font.get("body_size", 10), bold=True)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor=font.get("header_fill", "DDEBF7"))
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    filing_lay = lay["filing"]

    # title
    ws.cell(row=1, column=1, value=sheet.title).font = Font(name=fname, size=font.get(
        "title_size", 16), bold=True)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
    if n > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.row_dimensions[1].height = 30
    # filing line: 填报单位 left; date and unit right
    left = f"{filing_lay.get('filing_label', '填报单位：')}{filing.filing_unit}"
    right = f"{filing_lay.get('date_label', '填报日期：')}{chinese_date(filing.on)}"
    if sheet.unit:
        right += f"    {filing_lay.get('unit_label', '单位：')}{sheet.unit}"
    if n >= 2:
        split = max(1, n // 2)
        ws.cell(row=2, column=1, value=left).font = body
        ws.cell(row=2, column=split + 1, value=right).font = body
        ws.cell(row=2, column=split + 1).alignment = Alignment(horizontal="right")
        if split > 1:
            ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=split)
        if n - split > 1:
            ws.merge_cells(start_row=2, start_column=split + 1, end_row=2, end_column=n)
    else:
        ws.cell(row=2, column=1, value=f"{left}  {right}").font = body
    # headers
    two = any(c.group for c in cols)
    h1 = 3
    h2 = 4 if two else 3
    j = 0
    while j < n:
        c = cols[j]
        if two and c.group:
            k = j
            while k + 1 < n and cols[k + 1].group == c.group:
                k += 1
            ws.cell(row=h1, column=j + 1, value=c.group)
            if k > j:
                ws.merge_cells(start_row=h1, start_column=j + 1, end_row=h1, end_column=k + 1)
            for m in range(j, k + 1):
                ws.cell(row=h2, column=m + 1, value=cols[m].header)
            j = k + 1
            continue
        ws.cell(row=h1, column=j + 1, value=c.header)
        if two:
            ws.merge_cells(start_row=h1, start_column=j + 1, end_row=h2, end_column=j + 1)
        j += 1
    for r in range(h1, h2 + 1):
        for jj in range(1, n + 1):
            cell = ws.cell(row=r, column=jj)
            cell.font, cell.fill, cell.alignment, cell.border = bold, head_fill, center, border
    # data
    first = h2 + 1
    widths = [float(display_width(c.header)) for c in cols]
    if two:  # a group's text must fit across its columns
        for g in {c.group for c in cols if c.group}:
            members = [i for i, c in enumerate(cols) if c.group == g]
            need = display_width(g) / len(members)
            for i in members:
                widths[i] = max(widths[i], need)
    r = first
    names = [[_data_style(wb, c.kind, bool(style), lay) for c in cols] for style in ("", "total")]
    for row in sheet.rows:
        styled = names[1 if row.get("_style", "") else 0]
        for jj, c in enumerate(cols, start=1):
            value = _cell_value(row.get(c.key), c.kind)
            cell = ws.cell(row=r, column=jj, value=value)
            cell.style = styled[jj - 1]
            widths[jj - 1] = max(widths[jj - 1], float(display_width(_formatted(value, c.kind))))
        r += 1
    if not sheet.rows:
        note = sheet.empty_note or lay.get("empty_note", "无数据")
        cell = ws.cell(row=r, column=1, value=note)
        cell.font, cell.alignment = body, Alignment(horizontal="center")
        if n > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=n)
        r += 1
    for line in sheet.notes:
        cell = ws.cell(row=r, column=1, value=line)
        cell.font = body
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        if n > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=n)
        total_width = max(sum(min(w + 2, 40) for w in widths), 20)
        ws.row_dimensions[r].height = 15 * (1 + display_width(line) // int(total_width))
        r += 1
    # widths, freeze, print
    wmin, wmax = float(lay["width"].get("min", 6)), float(lay["width"].get("max", 40))
    fitted = [min(max(w + 2, wmin), wmax) for w in widths]
    for jj, w in enumerate(fitted, start=1):
        ws.column_dimensions[get_column_letter(jj)].width = w
    lead = 0
    while lead < n and cols[lead].kind in ("text", "code"):
        lead += 1
    lead = min(lead, max(n - 1, 0))
    ws.freeze_panes = f"{get_column_letter(lead + 1)}{first}"
    ws.print_title_rows = f"{h1}:{h2}"
    _paper(ws, cols, fitted, lay)


def write_official_workbook(path: str | Path, sheets: Sequence[Sheet], filing: Filing) -> Path:
    """Write official tables, one sheet each, laid out as a bureau files them.

    Parameters
    ----------
    path : str or Path
        Output ``.xlsx``.
    sheets : sequence of Sheet
        The tables in order.
    filing : Filing
        Region, 填报单位 and date.

    Returns
    -------
    Path
        The file written.
    """
    lay = layout()
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        _write_sheet(wb, sheet, filing, lay)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def frame_sheet(name: str, title: str, frame: pd.DataFrame, columns: Sequence[Column], *,
                unit: str = "", notes: Sequence[str] = ()) -> Sheet:
    """A :class:`Sheet` from a DataFrame (columns picked and ordered by ``columns``)."""
    rows = [] if frame is None or frame.empty else frame.to_dict("records")
    return Sheet(name=name, title=title, columns=list(columns), rows=rows, unit=unit,
                 notes=list(notes))


# ---------------------------------------------------------------------------- plain sheets
def write_workbook(
    path: str | Path,
    sheets: Mapping[str, pd.DataFrame],
    *,
    headers: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
    number_formats: Mapping[str, str] | None = None,
) -> Path:
    """Write one plain sheet per DataFrame (header row, widths, frozen header, print setup).

    Parameters
    ----------
    path : str or Path
        Output ``.xlsx`` file.
    sheets : mapping
        Sheet name → DataFrame, in order.
    headers : mapping, optional
        Column name → Chinese header.
    titles : mapping, optional
        Sheet name → title line written above the table.
    number_formats : mapping, optional
        Column name → Excel number format, e.g. ``"0.00"``.

    Returns
    -------
    Path
        The file written.
    """
    headers = headers or {}
    titles = titles or {}
    number_formats = number_formats or {}
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for name, frame in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        row0 = 1
        if name in titles:
            ws.cell(row=1, column=1, value=titles[name]).font = Font(bold=True, size=13)
            row0 = 3
        cols = list(frame.columns)
        widths = [display_width(headers.get(col, str(col))) for col in cols]
        for j, col in enumerate(cols, start=1):
            cell = ws.cell(row=row0, column=j, value=headers.get(col, str(col)))
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        for i, values in enumerate(frame.itertuples(index=False), start=row0 + 1):
            for j, value in enumerate(values, start=1):
                if isinstance(value, float) and value != value:
                    value = None
                elif hasattr(value, "item"):
                    value = value.item()
                cell = ws.cell(row=i, column=j, value=value)
                fmt = number_formats.get(cols[j - 1])
                if fmt:
                    cell.number_format = fmt
                shown = f"{value:,.2f}" if isinstance(value, float) else value
                widths[j - 1] = max(widths[j - 1], display_width("" if shown is None else shown))
        if frame.empty:
            ws.cell(row=row0 + 1, column=1, value=layout().get("empty_note", "无数据"))
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 8), 50)
        ws.freeze_panes = ws.cell(row=row0 + 1, column=1)
        ws.print_title_rows = f"{row0}:{row0}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
