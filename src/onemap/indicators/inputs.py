"""Non-spatial inputs of the indicators: the form, its validation, its storage.

Some indicators need figures no map holds: GDP at comparable prices,
population, grassland vegetation cover, 批而未供/闲置土地 disposal figures,
quotas. The bureau fills them into a form (XLSX or CSV) whose columns come
from ``inputs_template.yaml``:

* :func:`write_input_template` writes the empty form (sheet 填报数据, one row
  per year and administrative unit, one column per field; sheet 填报说明 with
  the fields, units and instructions) and a CSV copy;
* :func:`load_inputs` reads a filled form and refuses it with every problem
  named by sheet, row and column;
* :func:`import_inputs` stores it in the workspace as a new import (tables
  ``indicator_input_imports`` and ``indicator_input_values``, SQLAlchemy Core),
  appends an audit row, and never deletes earlier imports;
* :func:`stored_inputs` merges the imports (a later import wins for the same
  field, year and unit), optionally as of an earlier import, so that an
  assessment can be reproduced.

Units: a row's 行政区代码 is a six-digit county code, or the city: a code
ending in ``00`` (e.g. 640300) or the words 市域/全市.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, Table, Text, insert, select
from sqlalchemy.engine import Engine

from onemap.errors import DomainDataError, InputError, Problem, ReadError
from onemap.indicators import _files
from onemap.indicators.quantities import validated_unit

__all__ = [
    "CITY",
    "InputField",
    "InputSet",
    "InputTemplate",
    "import_inputs",
    "input_imports",
    "load_inputs",
    "load_template",
    "stored_inputs",
    "write_input_template",
]

TEMPLATE_FILE = "inputs_template.yaml"
DATA_SHEET = "填报数据"
HELP_SHEET = "填报说明"
#: Unit key of city rows.
CITY = "市域"
CITY_ALIASES = ("市域", "全市", "市级", "市本级")
COL_YEAR, COL_UNIT, COL_NAME, COL_REMARK = "年度", "行政区代码", "行政区名称", "备注"
_BLANKS = ("", "-", "—", "－", "/", "无", "nan", "None")


class InputField(BaseModel):
    """One field of the input form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    unit: str
    levels: list[Literal["市", "县"]] = Field(default_factory=lambda: ["市", "县"], min_length=1)
    aggregate: Literal["sum", "none"] = "none"
    min: float | None = None
    max: float | None = None
    description: str = ""

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        return validated_unit(v)

    @field_validator("description")
    @classmethod
    def _text(cls, v: str) -> str:
        return _files.join_cjk(v.strip())

    @property
    def header(self) -> str:
        """Column header of the form: ``名称（单位）``."""
        return f"{self.name}（{self.unit}）"


class InputTemplate(BaseModel):
    """The whole ``inputs_template.yaml``."""

    model_config = ConfigDict(extra="forbid")

    version: str
    title: str = "非空间数据填报表"
    fields: list[InputField] = Field(min_length=1)

    def field(self, code: str) -> InputField:
        """Return a field by code.

        Raises
        ------
        KeyError
            If there is no such field.
        """
        for f in self.fields:
            if f.code == code:
                return f
        raise KeyError(code)

    @property
    def codes(self) -> list[str]:
        """Field codes in form order."""
        return [f.code for f in self.fields]


@lru_cache(maxsize=8)
def _parse_template(text: str, where: str) -> InputTemplate:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DomainDataError(f"填报模板 {where} 不是有效的 YAML：{exc}",
                              [Problem("inputs_template", str(exc), file=where)]) from exc
    try:
        tpl = InputTemplate.model_validate(data)
    except ValidationError as exc:
        raise _files.validation_error(where, "填报模板", exc, data, "fields") from exc
    seen: set[str] = set()
    for f in tpl.fields:
        if f.code in seen:
            raise DomainDataError(f"填报模板 {where} 中字段 {f.code} 重复",
                                  [Problem("inputs_template", "字段代码重复", file=where, row=f.code)])
        seen.add(f.code)
        if f.min is not None and f.max is not None and f.min > f.max:
            raise DomainDataError(f"填报模板 {where} 中字段 {f.code} 的 min 大于 max",
                                  [Problem("inputs_template", "min > max", file=where, row=f.code)])
    return tpl


def load_template(path: str | Path | None = None) -> InputTemplate:
    """Load the input form definition (shipped, ``ONEMAP_DOMAIN_DIR`` copy, or ``path``).

    Raises
    ------
    DomainDataError
        If the file is malformed (the message names the field).
    """
    p = _files.resolve(TEMPLATE_FILE, path)
    return _parse_template(p.read_text(encoding="utf-8"), str(p))


# ---------------------------------------------------------------------------- the form
def _unit_rows(units: Sequence[tuple[str, str]] | None, years: Iterable[int] | None) -> list[list[Any]]:
    if not units or not years:
        return []
    return [[int(y), code, name] for y in years for code, name in units]


def write_input_template(
    path: str | Path,
    *,
    units: Sequence[tuple[str, str]] | None = None,
    years: Iterable[int] | None = None,
    template: InputTemplate | None = None,
    csv_copy: bool = True,
) -> dict[str, str]:
    """Write the empty input form as XLSX (and a CSV copy beside it).

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file (a ``.csv`` path writes only the CSV).
    units : sequence of (code, name), optional
        Administrative units to pre-fill (city first), e.g. from
        :func:`onemap.indicators.workspace_units`.
    years : iterable of int, optional
        Years to pre-fill (one row per year and unit).
    template : InputTemplate, optional
        Form definition (default: :func:`load_template`).
    csv_copy : bool
        Also write ``<stem>.csv`` next to the XLSX.

    Returns
    -------
    dict
        ``{"xlsx": path or None, "csv": path or None}``.
    """
    tpl = template or load_template()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = [COL_YEAR, COL_UNIT, COL_NAME] + [f.header for f in tpl.fields] + [COL_REMARK]
    rows = _unit_rows(units, years)
    written: dict[str, str | None] = {"xlsx": None, "csv": None}
    if out.suffix.lower() != ".csv":
        _write_xlsx(out, tpl, header, rows)
        written["xlsx"] = str(out)
    if out.suffix.lower() == ".csv" or csv_copy:
        csv_path = out if out.suffix.lower() == ".csv" else out.with_suffix(".csv")
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for r in rows:
                w.writerow(r + [""] * (len(header) - len(r)))
        written["csv"] = str(csv_path)
    return written


def _write_xlsx(out: Path, tpl: InputTemplate, header: list[str], rows: list[list[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for j, text in enumerate(header, start=1):
        cell = ws.cell(row=1, column=j, value=text)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = max(12, min(28, len(text) * 2))
        if 4 <= j < 4 + len(tpl.fields):
            f = tpl.fields[j - 4]
            cell.comment = Comment(f"{f.code}：{f.description}"[:500], "OneMap")
    for i, r in enumerate(rows, start=2):
        for j, v in enumerate(r, start=1):
            ws.cell(row=i, column=j, value=v)
    ws.freeze_panes = "D2"

    help_ws = wb.create_sheet(HELP_SHEET)
    lines = [
        tpl.title,
        "",
        "填写说明：",
        f"1. 在“{DATA_SHEET}”表中每行填写一个年度、一个行政区的数据；第 1 行表头不要修改。",
        "2. 行政区代码：全市填市级代码（如 640300，或填“市域”），各县（市、区）填 6 位县级代码（如 640302）。",
        "3. 只填数字，不带单位和千分位以外的符号；单位见表头括号和下表；没有的数据留空（不要填 0）。",
        "4. 标为“可由各县相加”的字段，全市一行可留空，由各县之和得出；其余字段的全市值须直接填写。",
        "5. 同一年度、同一行政区只能有一行。可多次导入，后导入的数据覆盖先导入的同一数据，历史保留。",
        f"6. 也可填写同名的 CSV 文件（UTF-8 编码，表头与“{DATA_SHEET}”相同）。",
        "",
    ]
    for i, text in enumerate(lines, start=1):
        help_ws.cell(row=i, column=1, value=text).font = Font(bold=(i == 1), size=13 if i == 1 else 11)
    row0 = len(lines) + 1
    cols = ["字段代码", "名称", "单位", "表头", "填报层级", "全市值", "取值范围", "说明"]
    for j, text in enumerate(cols, start=1):
        c = help_ws.cell(row=row0, column=j, value=text)
        c.font, c.fill = bold, fill
    for i, f in enumerate(tpl.fields, start=row0 + 1):
        rng = ""
        if f.min is not None or f.max is not None:
            lo = "" if f.min is None else f"{f.min:g}"
            hi = "" if f.max is None else f"{f.max:g}"
            rng = f"{lo} ～ {hi}".strip()
        values = [f.code, f.name, f.unit, f.header, "、".join(f.levels),
                  "可由各县相加" if f.aggregate == "sum" else "须直接填写", rng, f.description]
        for j, v in enumerate(values, start=1):
            c = help_ws.cell(row=i, column=j, value=v)
            c.alignment = Alignment(wrap_text=True, vertical="top")
    for j, w in enumerate((26, 24, 10, 30, 10, 14, 12, 70), start=1):
        help_ws.column_dimensions[get_column_letter(j)].width = w
    wb.save(out)


# ---------------------------------------------------------------------------- reading
@dataclass
class InputSet:
    """Input values, one row per field, year and unit.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``field, year, unit, unit_name, value, import_id, remark, where``;
        ``unit`` is a six-digit county code or :data:`CITY`.
    template : InputTemplate
        The form definition the values were checked against.
    source : dict
        Where they came from (file, or workspace import ids).
    """

    frame: pd.DataFrame
    template: InputTemplate
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index: dict[tuple[str, int, str], tuple[float, int | None]] = {
            (r.field, int(r.year), r.unit): (float(r.value), None if pd.isna(r.import_id)
                                             else int(r.import_id))
            for r in self.frame.itertuples(index=False)
        }

    def get(self, field_code: str, year: int, unit: str) -> tuple[float, int | None] | None:
        """Return ``(value, import_id)`` of one cell, or None when it was not filled."""
        return self._index.get((field_code, int(year), unit))

    @property
    def years(self) -> list[int]:
        """Years with at least one value."""
        return sorted({int(y) for y in self.frame["year"]}) if len(self.frame) else []

    @property
    def units(self) -> list[str]:
        """Units with at least one value."""
        return sorted(set(self.frame["unit"])) if len(self.frame) else []

    def names(self) -> dict[str, str]:
        """Unit → name as written in the form's 行政区名称 column."""
        if not len(self.frame) or "unit_name" not in self.frame.columns:
            return {}
        named = self.frame[self.frame["unit_name"].fillna("").astype(str) != ""]
        return dict(zip(named["unit"], named["unit_name"].astype(str), strict=True))

    def __len__(self) -> int:
        return len(self.frame)


def _norm_header(text: Any) -> str:
    s = "" if text is None else str(text).strip()
    return s.replace("(", "（").replace(")", "）").replace(" ", "")


def _column_map(tpl: InputTemplate) -> dict[str, str]:
    m: dict[str, str] = {}
    for f in tpl.fields:
        for key in (f.header, f.name, f.code):
            m[_norm_header(key)] = f.code
    return m


def _cell_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _col_letter(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


def _read_table(path: Path) -> tuple[str, list[list[Any]], int]:
    """Return (sheet name, rows including header, 1-based row number of the header)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes almost anything
            raise ReadError(f"无法识别 {path.name} 的编码（请存为 UTF-8）")
        rows = [list(r) for r in csv.reader(io.StringIO(text))]
        return "CSV", rows, 1
    if suffix not in (".xlsx", ".xlsm"):
        raise ReadError(f"填报文件须为 .xlsx 或 .csv：{path.name}")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        raise ReadError(f"无法读取填报文件 {path.name}：{exc}") from exc
    try:
        name = DATA_SHEET if DATA_SHEET in wb.sheetnames else next(
            (n for n in wb.sheetnames if n != HELP_SHEET), None)
        if name is None:
            raise InputError(f"{path.name} 中没有“{DATA_SHEET}”工作表",
                             [Problem("inputs_sheet", f"缺少工作表 {DATA_SHEET}", file=path.name)])
        rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
    finally:
        wb.close()
    for i, r in enumerate(rows):
        texts = {_norm_header(c) for c in r}
        if COL_YEAR in texts and COL_UNIT in texts:
            return name, rows[i:], i + 1
    raise InputError(f"{path.name} 工作表“{name}”中找不到表头（须含“{COL_YEAR}”和“{COL_UNIT}”）",
                     [Problem("inputs_header", "找不到表头行", file=f"{path.name}:{name}")])


def _unit_key(text: str) -> str | None:
    if text in CITY_ALIASES:
        return CITY
    if len(text) == 6 and text.isdigit():
        return CITY if text.endswith("00") else text
    return None


def load_inputs(path: str | Path, *, template: InputTemplate | None = None) -> InputSet:
    """Read and validate a filled-in input form.

    Parameters
    ----------
    path : str or Path
        ``.xlsx`` (sheet 填报数据) or ``.csv`` (UTF-8 or GB18030).
    template : InputTemplate, optional
        Form definition (default: :func:`load_template`).

    Returns
    -------
    InputSet
        Values with ``where`` (sheet, row, column) for each.

    Raises
    ------
    onemap.errors.InputError
        With one :class:`~onemap.errors.Problem` per bad cell, header or row,
        each naming the sheet (``file``), the row and the column (``field``).
    """
    tpl = template or load_template()
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"找不到填报文件：{path}")
    sheet, rows, header_row = _read_table(path)
    where_file = f"{path.name}:{sheet}"
    problems: list[Problem] = []
    header = [_norm_header(c) for c in rows[0]] if rows else []
    cmap = _column_map(tpl)
    cols: dict[int, str] = {}
    special: dict[str, int] = {}
    for j, h in enumerate(header):
        if not h:
            continue
        if h in (COL_YEAR, COL_UNIT, COL_NAME, COL_REMARK):
            special[h] = j
        elif h in cmap:
            if cmap[h] in cols.values():
                problems.append(Problem("inputs_header", f"字段 {cmap[h]} 的列重复",
                                        file=where_file, row=str(header_row),
                                        field=f"{_col_letter(j)}（{h}）"))
            cols[j] = cmap[h]
        else:
            problems.append(Problem("inputs_header", f"表头“{h}”不是填报字段（见“{HELP_SHEET}”）",
                                    file=where_file, row=str(header_row),
                                    field=f"{_col_letter(j)}（{h}）"))
    for need in (COL_YEAR, COL_UNIT):
        if need not in special:
            problems.append(Problem("inputs_header", f"缺少“{need}”列", file=where_file,
                                    row=str(header_row)))
    if problems and (COL_YEAR not in special or COL_UNIT not in special):
        raise InputError(f"填报文件 {path.name} 表头有误", problems)

    records: list[dict[str, Any]] = []
    seen: dict[tuple[int, str], int] = {}
    for i, r in enumerate(rows[1:], start=header_row + 1):
        r = list(r) + [None] * (len(header) - len(r))
        values = {j: _cell_text(r[j]) for j in cols}
        year_txt = _cell_text(r[special[COL_YEAR]])
        unit_txt = _cell_text(r[special[COL_UNIT]])
        if not year_txt and not unit_txt and not any(v not in _BLANKS for v in values.values()):
            continue
        ycol = f"{_col_letter(special[COL_YEAR])}（{COL_YEAR}）"
        ucol = f"{_col_letter(special[COL_UNIT])}（{COL_UNIT}）"
        try:
            year = int(float(year_txt))
            if not 1900 <= year <= 2100 or float(year_txt) != year:
                raise ValueError
        except ValueError:
            problems.append(Problem("inputs_year", f"年度“{year_txt}”不是四位年份",
                                    file=where_file, row=str(i), field=ycol))
            continue
        unit = _unit_key(unit_txt)
        if unit is None:
            problems.append(Problem("inputs_unit",
                                    f"行政区代码“{unit_txt}”应为 6 位代码（全市如 640300 或“市域”）",
                                    file=where_file, row=str(i), field=ucol))
            continue
        if (year, unit) in seen:
            problems.append(Problem("inputs_duplicate",
                                    f"{year} 年 {unit_txt} 已在第 {seen[(year, unit)]} 行填写",
                                    file=where_file, row=str(i), field=ucol))
            continue
        seen[(year, unit)] = i
        remark = _cell_text(r[special[COL_REMARK]]) if COL_REMARK in special else ""
        unit_name = _cell_text(r[special[COL_NAME]]) if COL_NAME in special else ""
        for j, code in cols.items():
            text = values[j]
            if text in _BLANKS:
                continue
            f = tpl.field(code)
            col = f"{_col_letter(j)}（{f.header}）"
            try:
                value = float(text.replace(",", "").replace("，", "").rstrip("%"))
                if value != value or value in (float("inf"), float("-inf")):
                    raise ValueError
            except ValueError:
                problems.append(Problem("inputs_number", f"“{text}”不是数字",
                                        file=where_file, row=str(i), field=col))
                continue
            level = "市" if unit == CITY else "县"
            if level not in f.levels:
                problems.append(Problem("inputs_level", f"{f.name}只能按{'、'.join(f.levels)}填写",
                                        file=where_file, row=str(i), field=col))
                continue
            if (f.min is not None and value < f.min) or (f.max is not None and value > f.max):
                problems.append(Problem(
                    "inputs_range", f"{value:g} 超出允许范围 {f.min if f.min is not None else ''}"
                    f"～{f.max if f.max is not None else ''}", file=where_file, row=str(i), field=col))
                continue
            records.append({"field": code, "year": year, "unit": unit, "unit_name": unit_name,
                            "value": value, "import_id": None, "remark": remark,
                            "where": f"{where_file} 第 {i} 行 {col}"})
    if problems:
        raise InputError(f"填报文件 {path.name} 有 {len(problems)} 处问题，未导入", problems)
    frame = pd.DataFrame(records, columns=["field", "year", "unit", "unit_name", "value",
                                           "import_id", "remark", "where"])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return InputSet(frame, tpl, {"file": path.name, "sha256": digest})


# ---------------------------------------------------------------------------- storage
metadata = MetaData()

imports_table = Table(
    "indicator_input_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("imported_at", Text, nullable=False),
    Column("actor", Text, nullable=False, default=""),
    Column("source_file", Text, nullable=False, default=""),
    Column("sha256", Text, nullable=False, default=""),
    Column("template_version", Text, nullable=False, default=""),
    Column("n_values", Integer, nullable=False, default=0),
    Column("note", Text, nullable=False, default=""),
)

values_table = Table(
    "indicator_input_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("indicator_input_imports.id"), nullable=False,
           index=True),
    Column("field", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("unit", Text, nullable=False),
    Column("unit_name", Text, nullable=False, default=""),
    Column("value", Float, nullable=False),
    Column("remark", Text, nullable=False, default=""),
)


def ensure_tables(engine: Engine) -> None:
    """Create the input tables if they do not exist."""
    metadata.create_all(engine, checkfirst=True)


def import_inputs(store, path: str | Path, actor: str = "", *, note: str = "") -> dict[str, Any]:
    """Validate a filled-in form and store it as a new import (earlier imports are kept).

    Parameters
    ----------
    store : onemap.store.Store
        Workspace.
    path : str or Path
        The filled form (``.xlsx`` or ``.csv``).
    actor : str
        Who imports it (recorded and audit-logged).
    note : str
        Free text kept with the import.

    Returns
    -------
    dict
        ``{"import_id", "file", "sha256", "values", "years", "units", "fields"}``.

    Raises
    ------
    onemap.errors.InputError
        If the form is invalid (nothing is stored then).
    """
    from onemap.store import audit
    from onemap.store.catalog import now_iso

    inputs = load_inputs(path)
    engine = store.sql_engine()
    ensure_tables(engine)
    audit.ensure_tables(engine)
    frame = inputs.frame
    with engine.begin() as conn:
        res = conn.execute(insert(imports_table).values(
            imported_at=now_iso(), actor=actor or "", source_file=inputs.source["file"],
            sha256=inputs.source["sha256"], template_version=inputs.template.version,
            n_values=len(frame), note=note))
        import_id = int(res.inserted_primary_key[0])
        if len(frame):
            conn.execute(insert(values_table), [
                {"import_id": import_id, "field": r.field, "year": int(r.year), "unit": r.unit,
                 "unit_name": r.unit_name or "", "value": float(r.value), "remark": r.remark or ""}
                for r in frame.itertuples(index=False)])
        summary = {
            "import_id": import_id, "file": inputs.source["file"], "sha256": inputs.source["sha256"],
            "values": len(frame), "years": inputs.years, "units": inputs.units,
            "fields": sorted(set(frame["field"])) if len(frame) else [],
        }
        audit.append(conn, actor or "unknown", "indicator.inputs.import", "indicator_inputs",
                     import_id, None, summary)
    return summary


def input_imports(store) -> list[dict[str, Any]]:
    """Every input import of the workspace, oldest first."""
    engine = store.sql_engine()
    ensure_tables(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(imports_table).order_by(imports_table.c.id)).all()
    return [dict(r._mapping) for r in rows]


def stored_inputs(store, *, as_of: int | None = None,
                  template: InputTemplate | None = None) -> InputSet:
    """Merge the stored imports: for each field, year and unit the latest import wins.

    Parameters
    ----------
    store : onemap.store.Store
        Workspace.
    as_of : int, optional
        Ignore imports after this id (reproduce an earlier assessment).
    template : InputTemplate, optional
        Form definition (default: :func:`load_template`).

    Returns
    -------
    InputSet
        With ``source = {"imports": [ids merged], "as_of": id or None}``.
    """
    tpl = template or load_template()
    engine = store.sql_engine()
    ensure_tables(engine)
    v = values_table
    q = select(v.c.field, v.c.year, v.c.unit, v.c.unit_name, v.c.value, v.c.import_id, v.c.remark)
    if as_of is not None:
        q = q.where(v.c.import_id <= int(as_of))
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(v.c.import_id, v.c.id)).all()
        qi = select(imports_table.c.id).order_by(imports_table.c.id)
        if as_of is not None:
            qi = qi.where(imports_table.c.id <= int(as_of))
        ids = [r.id for r in conn.execute(qi).all()]
    frame = pd.DataFrame([r._asdict() for r in rows],
                         columns=["field", "year", "unit", "unit_name", "value", "import_id",
                                  "remark"])
    if len(frame):
        frame = frame.drop_duplicates(["field", "year", "unit"], keep="last").reset_index(drop=True)
    frame["where"] = [f"导入批次 {i}" for i in frame["import_id"]] if len(frame) else []
    known = set(tpl.codes)
    frame = frame[frame["field"].isin(known)].reset_index(drop=True)
    return InputSet(frame, tpl, {"imports": ids, "as_of": as_of,
                                 "latest": ids[-1] if ids else None})
