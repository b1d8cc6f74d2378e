"""The document layer of every DOCX report: 公文-style page, title block, 目录, page numbers, sign-off.

A report is written through :class:`OfficialDocument`: it opens a document set
up by the template (``reports/data/document.yaml``, GB/T 9704 by default),
writes the title block (title naming the 行政区 and subject, 文号, 编制单位,
Chinese date), and offers headings (numbered by the caller, bookmarked for the
目录), body paragraphs, tables whose column widths fit their content, pictures,
and the closing 审核/签章 block. When any input is synthetic every page carries
the 模拟数据 banner in its header. :meth:`OfficialDocument.save` fills the 目录
with page references (Word and LibreOffice compute the page numbers).

What a report says lives with its engine (:mod:`onemap.control.report`,
:mod:`onemap.indicators.report`); this module only knows how documents look.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from onemap.errors import OneMapError
from onemap.reports.numbers import fmt_number

__all__ = [
    "DocumentInfo",
    "OfficialDocument",
    "chinese_date",
    "load_template",
    "setting_keys",
    "synthetic_sources",
]

DEFAULT_TEMPLATE = Path(__file__).parent / "data" / "document.yaml"
_REQUIRED = ("page", "fonts", "sizes_pt", "line_pitch_pt", "page_number", "synthetic_banner",
             "toc_title", "toc_min_headings", "signoff", "settings")


def chinese_date(day: _dt.date) -> str:
    """成文日期 as GB/T 9704 writes it: full year, no leading zeros.

    Examples
    --------
    >>> chinese_date(_dt.date(2024, 12, 3))
    '2024年12月3日'
    """
    return f"{day.year}年{day.month}月{day.day}日"


@lru_cache(maxsize=8)
def _load(path: str) -> dict[str, Any]:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OneMapError(f"无法读取文档模板 {p}：{exc}") from exc
    if not isinstance(data, dict):
        raise OneMapError(f"文档模板 {p} 格式错误：顶层应为键值对")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise OneMapError(f"文档模板 {p} 缺少设置项：{'、'.join(missing)}")
    return data


def load_template(path: str | Path | None = None) -> dict[str, Any]:
    """The document template: ``path``, else ``$ONEMAP_DOCUMENT_TEMPLATE``, else the default.

    Raises
    ------
    onemap.errors.OneMapError
        Unreadable file or a required entry missing (named in the message).
    """
    chosen = path or os.environ.get("ONEMAP_DOCUMENT_TEMPLATE") or DEFAULT_TEMPLATE
    return _load(str(Path(chosen).resolve()))


def setting_keys(template: dict[str, Any] | None = None) -> dict[str, str]:
    """Workspace setting keys the documents read, key → Chinese label."""
    return dict((template or load_template())["settings"])


def synthetic_sources(store, sources: Iterable[tuple[str, str]]) -> list[str]:
    """The ``(dataset, version)`` pairs marked synthetic in the catalog, as "DATASET 版本" texts.

    Parameters
    ----------
    store : onemap.store.Store
        The workspace (its catalog says which versions are synthetic).
    sources : iterable of (str, str)
        Dataset and version of every input used.
    """
    flagged = {(d.name, v.version) for d in store.datasets() for v in d.versions
               if v.meta.synthetic}
    return [f"{ds} {v}" for ds, v in sources if (ds, str(v)) in flagged]


@dataclass
class DocumentInfo:
    """What the title block and the sign-off say.

    Attributes
    ----------
    title : str
        Title naming the 行政区 and the subject, e.g. 吴忠市国土空间规划实施2024年度体检报告;
        a line feed marks where a title too long for one line breaks.
    org : str
        编制单位 ("" leaves a blank to fill in).
    doc_number : str
        文号 ("" leaves the template's placeholder).
    date : datetime.date or None
        成文日期 (None: today).
    synthetic : bool
        Any input is synthetic: the 模拟数据 banner goes on every page.
    subtitle : str
        A line under the title (e.g. the project name).
    cover : bool
        Title block on a page of its own (long reports), with no page number on it.
    extra : list of (str, str)
        More "label：value" lines on the cover (e.g. 评估期).
    """

    title: str
    org: str = ""
    doc_number: str = ""
    date: _dt.date | None = None
    synthetic: bool = False
    subtitle: str = ""
    cover: bool = False
    extra: list[tuple[str, str]] = field(default_factory=list)


# ----------------------------------------------------------------------------- low level
def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def _set_font(target, east_asia: str, latin: str, size_pt: float | None = None,
              bold: bool | None = None, colour: str | None = None) -> None:
    """Set Latin and East Asian font of a run or a style."""
    from docx.shared import Pt, RGBColor

    font = target.font
    font.name = latin
    if size_pt is not None:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    if colour:
        font.color.rgb = RGBColor.from_string(colour)
    rpr = target.element.get_or_add_rPr()
    rfonts = rpr.find(_qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(_qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    rfonts.set(_qn("w:eastAsia"), east_asia)
    rfonts.set(_qn("w:ascii"), latin)
    rfonts.set(_qn("w:hAnsi"), latin)


def _shade(cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    for old in tcpr.findall(_qn("w:shd")):
        tcpr.remove(old)
    tcpr.append(tcpr.makeelement(_qn("w:shd"), {_qn("w:val"): "clear", _qn("w:color"): "auto",
                                                _qn("w:fill"): fill}))


def _no_wrap(cell) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    if tcpr.find(_qn("w:noWrap")) is None:
        tcpr.append(tcpr.makeelement(_qn("w:noWrap"), {}))


def _field(paragraph, instruction: str, cached: str = "") -> None:
    """Append a field (PAGE, PAGEREF …) with a cached result to a paragraph."""
    def run_with(child):
        r = paragraph.add_run()
        r._r.append(child)
        return r

    from docx.oxml import OxmlElement

    begin = OxmlElement("w:fldChar")
    begin.set(_qn("w:fldCharType"), "begin")
    begin.set(_qn("w:dirty"), "true")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(_qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    sep = OxmlElement("w:fldChar")
    sep.set(_qn("w:fldCharType"), "separate")
    run_with(sep)
    paragraph.add_run(cached)
    end = OxmlElement("w:fldChar")
    end.set(_qn("w:fldCharType"), "end")
    run_with(end)


def _text_width_em(text: str) -> float:
    """Width of a text in em: CJK and full-width characters 1, others 0.62 (wide Latin fonts)."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.62 for ch in text)


_CJK_RUN = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff01-\uff60]")


def _unbreakable_em(text: str) -> float:
    """Width a cell needs so nothing breaks badly: short words (≤ 6 characters) and numbers whole.

    Chinese text may break between any two characters, so a long Chinese cell
    needs only the width of its longest run of Latin letters, digits and signs.
    """
    if len(text) <= 6 or _is_number_text(text):
        return _text_width_em(text)
    runs = [r for r in _CJK_RUN.split(text) if r]
    return max((_text_width_em(r) for r in runs), default=1.0)


def _is_number_text(text: str) -> bool:
    t = text.replace(",", "").replace(".", "").replace("-", "").replace("−", "").replace("%", "")
    t = t.replace("+", "").replace("±", "").strip()
    return bool(t) and t.isdigit()


def fit_widths(header: Sequence[str], rows: Sequence[Sequence[str]], total_cm: float,
               font_pt: float) -> list[float]:
    """Column widths (cm) that fit the content in ``total_cm``.

    A number never breaks, so a column is at least as wide as its widest
    number, its widest run of digits and Latin letters inside Chinese text,
    its widest short word (≤ 6 characters, e.g. 缺少数据, 平方米/人) and its header up to
    4 characters; the space left is shared in proportion to how much more
    each column would like.
    """
    em_cm = font_pt / 72 * 2.54
    pad = 0.5  # cell margins (2 × 0.19 cm) and a little air
    ncol = len(header)
    minimum, desired = [0.0] * ncol, [0.0] * ncol
    for c in range(ncol):
        texts = [str(header[c])] + [str(r[c]) for r in rows if c < len(r)]
        widest = max((_text_width_em(t) for t in texts), default=1.0)
        hard = max([_unbreakable_em(t) for t in texts[1:]]
                   + [min(_text_width_em(texts[0]), 4.0), 2.0])
        minimum[c] = hard * em_cm + pad
        desired[c] = max(widest * em_cm + pad, minimum[c])
    if sum(desired) <= total_cm:
        scale = total_cm / sum(desired)
        return [d * scale for d in desired]
    spare = total_cm - sum(minimum)
    if spare <= 0:
        scale = total_cm / sum(minimum)
        return [m * scale for m in minimum]
    want = [d - m for d, m in zip(desired, minimum, strict=True)]
    total_want = sum(want) or 1.0
    return [m + spare * w / total_want for m, w in zip(minimum, want, strict=True)]


# ----------------------------------------------------------------------------- the document
class OfficialDocument:
    """A DOCX document in the template's 公文 format.

    Parameters
    ----------
    info : DocumentInfo
        Title block and banner.
    template : dict, optional
        From :func:`load_template` (default template otherwise).
    """

    def __init__(self, info: DocumentInfo, template: dict[str, Any] | None = None) -> None:
        try:
            import docx
        except ImportError as exc:  # pragma: no cover - dependency missing
            raise OneMapError("生成 Word 报告需要 python-docx：pip install python-docx") from exc
        self.info = info
        self.t = template or load_template()
        self.doc = docx.Document()
        self._toc_at = None
        self._headings: list[tuple[int, str, str]] = []
        self._setup_page()
        self._setup_styles()
        self._header_footer()
        self._title_block()

    # ------------------------------------------------------------------ set-up
    @property
    def text_width_cm(self) -> float:
        """Width of the 版心 (type area)."""
        p = self.t["page"]
        return (p["width_mm"] - p["left_mm"] - p["right_mm"]) / 10

    def _font(self, role: str) -> str:
        return self.t["fonts"][role]

    def _size(self, role: str) -> float:
        return float(self.t["sizes_pt"][role])

    def _setup_page(self) -> None:
        from docx.shared import Mm

        p = self.t["page"]
        s = self.doc.sections[0]
        s.page_width, s.page_height = Mm(p["width_mm"]), Mm(p["height_mm"])
        s.top_margin, s.bottom_margin = Mm(p["top_mm"]), Mm(p["bottom_mm"])
        s.left_margin, s.right_margin = Mm(p["left_mm"]), Mm(p["right_mm"])
        s.header_distance, s.footer_distance = Mm(p["header_mm"]), Mm(p["footer_mm"])

    def _setup_styles(self) -> None:
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Pt

        latin = self._font("latin")
        styles = self.doc.styles
        normal = styles["Normal"]
        _set_font(normal, self._font("body"), latin, self._size("body"))
        pf = normal.paragraph_format
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(float(self.t["line_pitch_pt"]))
        pf.space_before = pf.space_after = Pt(0)
        for level, role in ((1, "heading1"), (2, "heading2"), (3, "heading3")):
            st = styles[f"Heading {level}"]
            _set_font(st, self._font(role), latin, self._size(role), bold=(level != 2))
            st.font.color.rgb = None
            st.font.italic = False
            spf = st.paragraph_format
            spf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            spf.line_spacing = Pt(float(self.t["line_pitch_pt"]))
            spf.space_before = Pt(6 if level == 1 else 0)
            spf.space_after = Pt(0)
            spf.keep_with_next = True
            spf.first_line_indent = Pt(self._size(role) * self.t["first_line_indent_chars"])
        title = styles["Title"]
        _set_font(title, self._font("title"), latin, self._size("title"), bold=False)
        title.font.color.rgb = None
        tpf = title.paragraph_format
        tpf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        tpf.line_spacing = Pt(self._size("title") * 1.6)
        tpf.space_after = Pt(0)
        # border under the Title style of the default template: remove
        ppr = title.element.get_or_add_pPr()
        for b in ppr.findall(_qn("w:pBdr")):
            ppr.remove(b)
        # Word asks to refresh fields (目录 page numbers) when the file is opened
        settings = self.doc.settings.element
        upd = settings.makeelement(_qn("w:updateFields"), {_qn("w:val"): "true"})
        settings.append(upd)

    def _banner_paragraph(self, part) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        para = part.paragraphs[0] if part.paragraphs else part.add_paragraph()
        para.text = ""
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if self.info.synthetic:
            run = para.add_run(self.t["synthetic_banner"])
            _set_font(run, self._font("heading1"), self._font("latin"), self._size("banner"),
                      bold=True, colour="C00000")

    def _page_number(self, part, align_right: bool) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        para = part.paragraphs[0] if part.paragraphs else part.add_paragraph()
        para.text = ""
        size = self._size("page_number")
        if not self.t["page_number"].get("odd_even", False):
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif align_right:
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            para.paragraph_format.right_indent = Pt(size)
        else:
            para.alignment = WD_ALIGN_PARAGRAPH.LEFT
            para.paragraph_format.left_indent = Pt(size)
        before, _, after = self.t["page_number"]["format"].partition("{page}")
        if before:
            para.add_run(before)
        _field(para, "PAGE", "1")
        if after:
            para.add_run(after)
        for run in para.runs:
            _set_font(run, self._font("page_number"), self._font("page_number"), size)

    def _header_footer(self) -> None:
        s = self.doc.sections[0]
        odd_even = bool(self.t["page_number"].get("odd_even", False))
        if odd_even:
            self.doc.settings.odd_and_even_pages_header_footer = True
        s.different_first_page_header_footer = self.info.cover
        self._banner_paragraph(s.header)
        self._page_number(s.footer, True)
        if odd_even:
            self._banner_paragraph(s.even_page_header)
            self._page_number(s.even_page_footer, False)
        if self.info.cover:
            self._banner_paragraph(s.first_page_header)
            s.first_page_footer.paragraphs[0].text = ""

    def _centred(self, text: str, role: str, *, bold: bool = False, space_after: float = 0,
                 style: str | None = None):
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        para = self.doc.add_paragraph(style=style)
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.paragraph_format.first_line_indent = Pt(0)
        para.paragraph_format.space_after = Pt(space_after)
        run = para.add_run(text)
        _set_font(run, self._font(role if role in self.t["fonts"] else "body"), self._font("latin"),
                  self._size(role), bold=bold)
        return para

    def _title_block(self) -> None:
        from docx.enum.text import WD_BREAK
        from docx.shared import Pt

        info = self.info
        date_text = chinese_date(info.date or _dt.date.today())
        number = info.doc_number or self.t.get("doc_number_placeholder", "")
        if info.cover:
            for _ in range(4):
                self.doc.add_paragraph()
        self._centred(number, "body", space_after=12)
        para = self.doc.add_paragraph(style="Title")
        para.alignment = 1
        for k, line in enumerate(info.title.split("\n")):  # "\n" marks where a long title breaks
            if k:
                para.add_run().add_break()
            para.add_run(line)
        para.paragraph_format.space_after = Pt(12)
        if info.subtitle:
            self._centred(info.subtitle, "subtitle", space_after=6)
        if info.cover:
            for _ in range(6):
                self.doc.add_paragraph()
            self._centred(f"编制单位：{info.org or '＿＿＿＿＿＿＿＿'}", "subtitle", space_after=6)
            for label, value in info.extra:
                self._centred(f"{label}：{value}", "subtitle", space_after=6)
            self._centred(date_text, "subtitle")
            self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        else:
            line = "　".join(x for x in (f"编制单位：{info.org}" if info.org else "",
                                        date_text) if x)
            self._centred(line, "note", space_after=12)

    # ------------------------------------------------------------------ content
    def toc(self) -> None:
        """Reserve the place of the 目录 (filled by :meth:`save` when there are enough headings)."""
        self._toc_at = self.doc.add_paragraph()

    def heading(self, text: str, level: int = 1):
        """A heading (level 1–3), bookmarked for the 目录."""
        para = self.doc.add_paragraph(style=f"Heading {level}")
        name = f"_Toc{len(self._headings) + 1:05d}"
        bid = str(len(self._headings) + 1)
        start = para._p.makeelement(_qn("w:bookmarkStart"), {_qn("w:id"): bid, _qn("w:name"): name})
        para._p.append(start)
        para.add_run(text)
        para._p.append(para._p.makeelement(_qn("w:bookmarkEnd"), {_qn("w:id"): bid}))
        self._headings.append((level, text, name))
        return para

    def paragraph(self, text: str = "", *, indent: bool = True, bold: bool = False,
                  colour: str | None = None, role: str = "body", align: str | None = None):
        """A body paragraph (first line indented two characters by default)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt, RGBColor

        para = self.doc.add_paragraph()
        size = self._size(role)
        para.paragraph_format.first_line_indent = Pt(size * self.t["first_line_indent_chars"]
                                                     if indent else 0)
        if role != "body":
            para.paragraph_format.line_spacing = Pt(max(size * 1.5, 12))
        if align:
            para.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER,
                              "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
        run = para.add_run(text)
        run.bold = bold
        if role != "body":
            run.font.size = Pt(size)
        if colour:
            run.font.color.rgb = RGBColor.from_string(colour)
        return para

    def note(self, text: str, *, indent: bool = True):
        """A smaller paragraph (notes under tables, sources)."""
        return self.paragraph(text, role="note", indent=indent)

    def caption(self, text: str):
        """A centred bold caption (表/图 titles)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        para = self.doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.paragraph_format.first_line_indent = Pt(0)
        para.paragraph_format.line_spacing = Pt(self._size("caption") * 1.6)
        para.paragraph_format.keep_with_next = True
        run = para.add_run(text)
        _set_font(run, self._font("heading1"), self._font("latin"), self._size("caption"))
        return para

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        caption: str | None = None,
        widths_cm: Sequence[float] | None = None,
        decimals: int | Sequence[int | None] = 2,
        highlight: dict[int, str] | None = None,
        bold_rows: Iterable[int] = (),
        font_pt: float | None = None,
        unit: str | None = None,
    ):
        """A table with a shaded header row; numbers right-aligned and never broken.

        Parameters
        ----------
        header : sequence of str
            Column titles.
        rows : sequence of sequences
            Cells: numbers are written with thousands separators; None is "—".
        decimals : int or sequence of int or None
            Decimals of float cells (one for all columns, or one per column).
        caption : str, optional
            Centred title above the table.
        widths_cm : sequence of float, optional
            Column widths; by default fitted to the content (:func:`fit_widths`).
        highlight : dict, optional
            Row index → fill colour (hex) of the whole row.
        bold_rows : iterable of int
            Rows written in bold (totals).
        font_pt : float, optional
            Text size (default: the template's table size).
        unit : str, optional
            "单位：公顷" line written right-aligned above the table.
        """
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm, Pt

        size = font_pt or self._size("table")
        decs = ([decimals] * len(header) if isinstance(decimals, int) or decimals is None
                else list(decimals))

        def text_of(c: int, v: Any) -> str:
            if v is None:
                return "—"
            if isinstance(v, bool):
                return "是" if v else "否"
            if isinstance(v, int):
                return fmt_number(v, 0)
            if isinstance(v, float):
                d = decs[c] if c < len(decs) else 2
                return fmt_number(v, 2 if d is None else d)
            return str(v)

        texts = [[text_of(c, v) for c, v in enumerate(r)] for r in rows]
        if caption:
            self.caption(caption)
        if unit:
            para = self.doc.add_paragraph()
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            para.paragraph_format.line_spacing = Pt(size * 1.5)
            run = para.add_run(unit)
            run.font.size = Pt(size)
        widths = list(widths_cm) if widths_cm else fit_widths(header, texts, self.text_width_cm,
                                                               size)
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        bold = set(bold_rows)

        def fill(cell, text: str, *, numeric: bool, is_bold: bool, centre: bool = False) -> None:
            cell.text = ""
            para = cell.paragraphs[0]
            pf = para.paragraph_format
            pf.first_line_indent = Pt(0)
            pf.line_spacing = Pt(size * 1.35)
            run = para.add_run(text)
            _set_font(run, self._font("table"), self._font("latin"), size, bold=is_bold)
            if centre:
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            elif numeric:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                _no_wrap(cell)

        hdr = table.rows[0]
        for cell, text in zip(hdr.cells, header, strict=True):
            fill(cell, str(text), numeric=False, is_bold=True, centre=True)
            _shade(cell, "D9E2F3")
        trpr = hdr._tr.get_or_add_trPr()
        trpr.append(trpr.makeelement(_qn("w:tblHeader"), {}))  # repeat on every page
        for r, (values, cells_text) in enumerate(zip(rows, texts, strict=True)):
            cells = table.add_row().cells
            for c, (value, text) in enumerate(zip(values, cells_text, strict=True)):
                numeric = (isinstance(value, int | float) and not isinstance(value, bool)) or (
                    isinstance(value, str) and _is_number_text(value))
                fill(cells[c], text, numeric=numeric, is_bold=r in bold)
                if highlight and r in highlight:
                    _shade(cells[c], highlight[r])
            cant = cells[0]._tc.getparent().get_or_add_trPr()
            cant.append(cant.makeelement(_qn("w:cantSplit"), {}))
        for i, w in enumerate(widths):
            table.columns[i].width = Cm(w)
            for row in table.rows:
                row.cells[i].width = Cm(w)
        self.doc.add_paragraph().paragraph_format.line_spacing = Pt(size)
        return table

    def key_values(self, pairs: Sequence[tuple[str, Any]], *, caption: str | None = None,
                   key_width_cm: float = 3.6):
        """A two-column table of (item, value), items shaded."""
        rows = [[k, "—" if v in (None, "") else str(v)] for k, v in pairs]
        t = self.table(["项目", "内容"], rows, caption=caption,
                       widths_cm=[key_width_cm, self.text_width_cm - key_width_cm])
        for row in t.rows[1:]:
            _shade(row.cells[0], "F2F2F2")
        return t

    def picture(self, png: bytes | str | Path, *, width_cm: float | None = None,
                caption: str | None = None) -> None:
        """A picture, centred, with its caption under it."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.shared import Cm, Pt

        stream = io.BytesIO(png) if isinstance(png, bytes) else str(png)
        width = min(width_cm or self.text_width_cm, self.text_width_cm)
        self.doc.add_picture(stream, width=Cm(width))
        para = self.doc.paragraphs[-1]
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.paragraph_format.first_line_indent = Pt(0)
        para.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        para.paragraph_format.keep_with_next = True
        if caption:
            self.caption(caption)

    def signoff(self, *, org: str | None = None, date: _dt.date | None = None) -> None:
        """The 审核/签章 block: a line per role to sign, then 编制单位（盖章） and the date.

        The block is one unsplittable borderless table row, so it never breaks over a page.
        """
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
        from docx.shared import Cm, Pt

        cfg = self.t["signoff"]
        table = self.doc.add_table(rows=1, cols=1)
        table.autofit = False
        tblpr = table._tbl.tblPr
        borders = tblpr.makeelement(_qn("w:tblBorders"), {})
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            borders.append(borders.makeelement(_qn(f"w:{side}"), {_qn("w:val"): "nil"}))
        tblpr.append(borders)
        row = table.rows[0]
        trpr = row._tr.get_or_add_trPr()
        trpr.append(trpr.makeelement(_qn("w:cantSplit"), {}))
        cell = row.cells[0]
        cell.width = Cm(self.text_width_cm)
        table.columns[0].width = Cm(self.text_width_cm)
        size = self._size("body")
        first = True
        for role in cfg["roles"]:
            para = cell.paragraphs[0] if first else cell.add_paragraph()
            first = False
            pf = para.paragraph_format
            pf.first_line_indent = Pt(0)
            pf.space_before = Pt(6)
            pf.tab_stops.add_tab_stop(Cm(self.text_width_cm - 0.3), WD_TAB_ALIGNMENT.RIGHT)
            para.add_run(f"{role}（签字）：＿＿＿＿＿＿\t{cfg.get('date_label', '日期')}："
                         f"{self.t.get('date_placeholder', '年　月　日')}")
        for text, before in ((f"{org or self.info.org or '＿＿＿＿＿＿＿＿'}{cfg.get('seal', '（盖章）')}", 30),
                             (chinese_date(date or self.info.date or _dt.date.today()), 0)):
            para = cell.add_paragraph()
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            para.paragraph_format.first_line_indent = Pt(0)
            para.paragraph_format.right_indent = Pt(size * 4)
            para.paragraph_format.space_before = Pt(before)
            para.add_run(text)

    def page_break(self) -> None:
        """Start a new page."""
        from docx.enum.text import WD_BREAK

        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # ------------------------------------------------------------------ output
    def _fill_toc(self) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT, WD_TAB_LEADER
        from docx.shared import Cm, Pt

        anchor = self._toc_at
        if anchor is None:
            return
        if len(self._headings) < int(self.t["toc_min_headings"]):
            anchor._p.getparent().remove(anchor._p)
            return
        doc = self.doc
        title = doc.add_paragraph()
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.first_line_indent = Pt(0)
        run = title.add_run(self.t["toc_title"])
        _set_font(run, self._font("heading1"), self._font("latin"), self._size("heading1"))
        anchor._p.addprevious(title._p)
        for level, text, name in self._headings:
            if level > 2:
                continue
            para = doc.add_paragraph()
            pf = para.paragraph_format
            pf.first_line_indent = Pt(0)
            pf.left_indent = Pt(self._size("body") * 2 * (level - 1))
            pf.tab_stops.add_tab_stop(Cm(self.text_width_cm - 0.05), WD_TAB_ALIGNMENT.RIGHT,
                                      WD_TAB_LEADER.DOTS)
            para.add_run(text + "\t")
            _field(para, f"PAGEREF {name} \\h", "")
            anchor._p.addprevious(para._p)
        anchor.add_run().add_break(WD_BREAK.PAGE)

    def save(self, path: str | Path) -> Path:
        """Fill the 目录 and save (creating the folder); return the path."""
        self._fill_toc()
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.doc.save(str(out))
        except OSError as exc:
            raise OneMapError(f"无法写入报告 {out}：{exc}") from exc
        return out
