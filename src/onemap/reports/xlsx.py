"""Write tables to an XLSX workbook with Chinese headers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter


def write_workbook(
    path: str | Path,
    sheets: Mapping[str, pd.DataFrame],
    *,
    headers: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
    number_formats: Mapping[str, str] | None = None,
) -> Path:
    """Write one sheet per DataFrame.

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
        for j, col in enumerate(cols, start=1):
            cell = ws.cell(row=row0, column=j, value=headers.get(col, str(col)))
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(horizontal="center")
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
        for j, col in enumerate(cols, start=1):
            width = max(len(str(headers.get(col, col))) * 2, 10)
            ws.column_dimensions[get_column_letter(j)].width = min(width + 2, 40)
        ws.freeze_panes = ws.cell(row=row0 + 1, column=1)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
