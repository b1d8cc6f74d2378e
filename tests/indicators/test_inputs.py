"""The input form: template, validation with sheet/row/column, versioned storage."""

from __future__ import annotations

import csv

import openpyxl
import pytest
from indicator_world import INPUT_ROWS, fill_form

from onemap.errors import InputError
from onemap.indicators import (
    import_inputs,
    input_imports,
    load_inputs,
    load_template,
    stored_inputs,
    write_input_template,
    write_template_for_workspace,
)
from onemap.indicators.inputs import CITY
from onemap.store import audit


def test_template_fields_cover_the_formulas():
    tpl = load_template()
    assert {"gdp", "urban_population", "rural_population", "grass_vegetation_cover",
            "special_shrub_forest_area", "unsupplied_total", "unsupplied_disposed", "idle_total",
            "idle_disposed", "new_construction_quota", "mapping_2000_area",
            "illegal_farmland_area", "new_construction_farmland_area"} <= set(tpl.codes)
    assert tpl.field("gdp").unit == "万元" and tpl.field("gdp").aggregate == "sum"
    assert tpl.field("grass_vegetation_cover").aggregate == "none"
    assert tpl.field("gdp").header == "地区生产总值（可比价）（万元）"


def test_write_empty_template(tmp_path):
    out = write_input_template(tmp_path / "form.xlsx")
    assert out["xlsx"].endswith("form.xlsx") and out["csv"].endswith("form.csv")
    wb = openpyxl.load_workbook(out["xlsx"])
    assert wb.sheetnames == ["填报数据", "填报说明"]
    header = [c.value for c in wb["填报数据"][1]]
    tpl = load_template()
    assert header == ["年度", "行政区代码", "行政区名称"] + [f.header for f in tpl.fields] + ["备注"]
    assert wb["填报数据"].max_row == 1
    help_text = "\n".join(str(c.value) for row in wb["填报说明"].iter_rows() for c in row if c.value)
    for f in tpl.fields:
        assert f.code in help_text and f.name in help_text
    assert "640300" in help_text
    raw = (tmp_path / "form.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")            # BOM so Excel shows the Chinese headers
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows == [header]
    # an empty form loads as no values
    assert len(load_inputs(out["xlsx"])) == 0


def test_template_prefilled_for_the_workspace(ws, tmp_path):
    out = write_template_for_workspace(ws, tmp_path / "form.xlsx", years=[2023, 2024])
    ws_ = openpyxl.load_workbook(out["xlsx"])["填报数据"]
    keys = [(r[0].value, r[1].value) for r in ws_.iter_rows(min_row=2)]
    assert keys == [(y, c) for y in (2023, 2024) for c in ("640300", "640302", "640381")]


def test_filled_form_round_trip(tmp_path):
    data = load_inputs(fill_form(tmp_path / "f.xlsx"))
    assert data.get("gdp", 2024, "640302")[0] == 200
    assert data.get("grass_vegetation_cover", 2024, CITY)[0] == 56.1     # 640300 is the city
    assert data.get("gdp", 2024, CITY) is None                           # left blank
    assert data.years == [2020, 2024]
    assert data.names()["640381"] == "青铜峡市"
    n = sum(len(v) for v in INPUT_ROWS.values())
    assert len(data) == n
    assert data.frame["where"].str.contains("填报数据 第").all()


def test_csv_in_gb18030_and_city_alias(tmp_path):
    path = tmp_path / "f.csv"
    tpl = load_template()
    header = ["年度", "行政区代码", "行政区名称", tpl.field("gdp").header, "草原综合植被盖度"]
    with open(path, "w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerow(["2024", "市域", "全市", "1,234.5", "55%"])
        w.writerow(["2024", "640302", "利通区", "", "—"])
    data = load_inputs(path)
    assert data.get("gdp", 2024, CITY)[0] == 1234.5
    assert data.get("grass_vegetation_cover", 2024, CITY)[0] == 55.0
    assert len(data) == 2


def test_errors_name_sheet_row_and_column(tmp_path):
    path = fill_form(tmp_path / "bad.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["填报数据"]
    tpl = load_template()
    gdp_col = 4 + tpl.codes.index("gdp")
    grass_col = 4 + tpl.codes.index("grass_vegetation_cover")
    ws.cell(row=2, column=gdp_col, value="一百")                 # not a number
    ws.cell(row=3, column=grass_col, value=120)                  # > 100 %
    ws.cell(row=4, column=1, value="二〇二〇")                    # bad year
    ws.cell(row=5, column=2, value="6403")                       # bad unit code
    ws.cell(row=7, column=1, value=2024)                          # duplicate of row 6
    ws.cell(row=7, column=2, value="640381")
    ws.cell(row=1, column=ws.max_column + 1, value="GDP增速")    # unknown header
    wb.save(path)
    with pytest.raises(InputError) as exc:
        load_inputs(path)
    probs = {(p.rule, p.row): p for p in exc.value.problems}
    col = openpyxl.utils.get_column_letter
    assert probs[("inputs_number", "2")].field == f"{col(gdp_col)}（地区生产总值（可比价）（万元））"
    assert probs[("inputs_number", "2")].file == "bad.xlsx:填报数据"
    assert probs[("inputs_range", "3")].field.startswith(col(grass_col))
    assert ("inputs_year", "4") in probs and ("inputs_unit", "5") in probs
    assert "第 6 行" in probs[("inputs_duplicate", "7")].message
    assert "GDP增速" in probs[("inputs_header", "1")].message
    assert "未导入" in exc.value.message


def test_imports_keep_history_and_later_wins(ws, tmp_path):
    first = input_imports(ws)
    assert [i["id"] for i in first] == [1]
    form = fill_form(tmp_path / "second.xlsx", {(2024, "640302", "利通区"): {"gdp": 250}})
    info = import_inputs(ws, form, actor="统计科")
    assert info["import_id"] == 2 and info["values"] == 1 and info["fields"] == ["gdp"]
    merged = stored_inputs(ws)
    assert merged.get("gdp", 2024, "640302") == (250.0, 2)
    assert merged.get("gdp", 2024, "640381") == (100.0, 1)          # untouched cell kept
    assert stored_inputs(ws, as_of=1).get("gdp", 2024, "640302") == (200.0, 1)
    actions = [(e.action, e.actor) for e in audit.entries(ws.sql_engine())]
    assert actions.count(("indicator.inputs.import", "统计科")) == 1
    assert [i["actor"] for i in input_imports(ws)] == ["pytest", "统计科"]


def test_invalid_import_stores_nothing(ws, tmp_path):
    path = fill_form(tmp_path / "bad.xlsx", {(2024, "640302", "利通区"): {"gdp": -5}})
    with pytest.raises(InputError):
        import_inputs(ws, path, actor="x")
    assert len(input_imports(ws)) == 1
