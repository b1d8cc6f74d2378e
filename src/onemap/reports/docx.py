"""Building blocks of the Chinese DOCX reports (python-docx).

A report is a :class:`docx.document.Document` made by :func:`new_document`
(A4, 宋体 body / 黑体 headings, both set for East Asian text so Word shows
Chinese correctly), filled with :func:`add_heading`, :func:`add_paragraph`,
:func:`add_table` and :func:`add_picture`, and saved with :func:`save`.
The content of each report lives with its engine (e.g.
:mod:`onemap.control.report`); this module only knows how things look.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from onemap.errors import OneMapError

__all__ = [
    "add_heading",
    "add_key_value_table",
    "add_paragraph",
    "add_picture",
    "add_table",
    "new_document",
    "save",
]

#: Body font (East Asian and Latin).
BODY_FONT = "宋体"
BODY_FONT_LATIN = "Times New Roman"
#: Heading font.
HEADING_FONT = "黑体"


def _docx():
    try:
        import docx  # noqa: F401
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise OneMapError("生成 Word 报告需要 python-docx：pip install python-docx") from exc
    return docx


def _set_run_font(run_or_style, east_asia: str, latin: str | None = None,
                  size_pt: float | None = None, bold: bool | None = None) -> None:
    """Set Latin and East Asian font of a run or a style."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = run_or_style.font
    font.name = latin or east_asia
    if size_pt is not None:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    element = run_or_style.element
    rpr = element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:ascii"), latin or east_asia)
    rfonts.set(qn("w:hAnsi"), latin or east_asia)


def new_document(title: str | None = None, subtitle: str | None = None):
    """Return a new A4 document with Chinese fonts, optionally with a title.

    Parameters
    ----------
    title : str, optional
        Document title (style *Title*, centred, 黑体).
    subtitle : str, optional
        A centred line under the title.

    Returns
    -------
    docx.document.Document
    """
    docx = _docx()
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    doc = docx.Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.2))
    section.top_margin = section.bottom_margin = Cm(2.0)
    _set_run_font(doc.styles["Normal"], BODY_FONT, BODY_FONT_LATIN, 10.5)
    for name, size in (("Title", 18), ("Heading 1", 14), ("Heading 2", 12)):
        style = doc.styles[name]
        _set_run_font(style, HEADING_FONT, None, size, True)
        style.font.color.rgb = None
    if title:
        p = doc.add_paragraph(title, style="Title")
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if subtitle:
        p = doc.add_paragraph(subtitle)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return doc


def add_heading(doc, text: str, level: int = 1):
    """Add a heading (level 1 or 2)."""
    return doc.add_heading(text, level=level)


def add_paragraph(doc, text: str, *, bold: bool = False, size_pt: float | None = None,
                  colour: str | None = None):
    """Add a paragraph of body text.

    Parameters
    ----------
    doc : docx.document.Document
        Document to add to.
    text : str
        The text.
    bold : bool
        Bold text.
    size_pt : float, optional
        Font size in points (default: the body size).
    colour : str, optional
        Hex RGB such as ``"C00000"``.
    """
    from docx.shared import Pt, RGBColor

    p = doc.add_paragraph()
    run = p.add_run(text)
    run.bold = bold
    if size_pt:
        run.font.size = Pt(size_pt)
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour)
    return p


def _shade(cell, fill: str) -> None:
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()
    shd = tcpr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto",
                                          qn("w:fill"): fill})
    tcpr.append(shd)


def _format(value: Any, fmt: str | None) -> str:
    if value is None:
        return ""
    if fmt and isinstance(value, int | float):
        return format(value, fmt)
    return str(value)


def add_table(
    doc,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    formats: Sequence[str | None] | None = None,
    widths_cm: Sequence[float] | None = None,
    caption: str | None = None,
    font_size_pt: float = 9.0,
    highlight: dict[int, str] | None = None,
):
    """Add a table with a shaded header row.

    Parameters
    ----------
    doc : docx.document.Document
        Document to add to.
    header : sequence of str
        Column titles.
    rows : sequence of sequences
        Cell values; numbers are formatted with ``formats`` and right-aligned.
    formats : sequence of str or None, optional
        Python format spec per column (``".4f"``), None for ``str()``.
    widths_cm : sequence of float, optional
        Column widths.
    caption : str, optional
        Bold line above the table.
    font_size_pt : float
        Text size in the table.
    highlight : dict, optional
        Row index → fill colour (hex), e.g. to mark 不符合 rows.

    Returns
    -------
    docx.table.Table
    """
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    if caption:
        add_paragraph(doc, caption, bold=True)
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    fmts = list(formats) if formats else [None] * len(header)
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(text))
        run.bold = True
        run.font.size = Pt(font_size_pt)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _shade(cell, "D9E2F3")
    for r, values in enumerate(rows):
        cells = table.add_row().cells
        for c, value in enumerate(values):
            cells[c].text = ""
            para = cells[c].paragraphs[0]
            run = para.add_run(_format(value, fmts[c] if c < len(fmts) else None))
            run.font.size = Pt(font_size_pt)
            if isinstance(value, int | float) and not isinstance(value, bool):
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if highlight and r in highlight:
                _shade(cells[c], highlight[r])
    if widths_cm:
        for row in table.rows:
            for cell, w in zip(row.cells, widths_cm, strict=False):
                cell.width = Cm(w)
    doc.add_paragraph()
    return table


def add_key_value_table(doc, pairs: Sequence[tuple[str, Any]], *, caption: str | None = None,
                        widths_cm: tuple[float, float] = (4.0, 12.5)):
    """Add a two-column table of (item, value) pairs, items shaded."""
    from docx.shared import Cm

    if caption:
        add_paragraph(doc, caption, bold=True)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for key, value in pairs:
        cells = table.add_row().cells
        cells[0].text = str(key)
        cells[1].text = "" if value is None else str(value)
        _shade(cells[0], "F2F2F2")
        cells[0].width, cells[1].width = Cm(widths_cm[0]), Cm(widths_cm[1])
    doc.add_paragraph()
    return table


def add_picture(doc, png: bytes | str | Path, *, width_cm: float = 16.0,
                caption: str | None = None):
    """Add a picture (PNG bytes or file), centred, with an optional caption under it."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    stream = io.BytesIO(png) if isinstance(png, bytes) else str(png)
    doc.add_picture(stream, width=Cm(width_cm))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if caption:
        p = doc.add_paragraph(caption)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return doc


def save(doc, path: str | Path) -> Path:
    """Save the document (creating the folder) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        doc.save(str(out))
    except OSError as exc:
        raise OneMapError(f"无法写入报告 {out}：{exc}") from exc
    return out
