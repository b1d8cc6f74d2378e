"""Lay the official statistics tables out as filed sheets (units as rows, classes as columns).

Rows: the whole region first (全市), then each county — a subtotal row followed by its towns
or villages when the table is by town or village. Every figure is a whole number of 0.01-公顷
units: balanced ones, or (unbalanced) each base cell rounded alone; every total and subtotal
is the sum of the units below it, so a sheet always adds up to what it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import pandas as pd

from onemap.analysis.balance import to_units
from onemap.analysis.official_data import official_tables
from onemap.analysis.tables import FARMLAND_ATTRIBUTES, OfficialTable
from onemap.domain import land_classes
from onemap.reports.xlsx import Column, Filing, Sheet, chinese_date, period_text, title_for


def _value(units: int) -> float:
    """0.01-公顷 units → 公顷. Sheets always add rounded units, so what they show ties."""
    return units / 100.0


Sums = dict[tuple[str, ...], int]


def _add(dicts) -> Sums:
    out: Sums = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def _blocks(rows: pd.DataFrame, keys: list[str], level: str, region: str, region_code: str,
            county_names: Mapping[str, str]) -> Iterator[tuple[str, str, str, Sums]]:
    """(name, code, style, units by key) of 全市, each county (subtotal) and each unit below it.

    The rows are summed once per unit (one groupby); totals add the units' integer sums.
    """
    frame = pd.DataFrame({c: rows[c].astype(str).to_numpy(dtype=object) for c in ["unit", *keys]})
    frame["units"] = rows["units"].to_numpy(dtype=np.int64)
    per: dict[str, Sums] = {}
    for tup, v in frame.groupby(["unit", *keys], sort=False)["units"].sum().items():
        per.setdefault(tup[0], {})[tuple(tup[1:])] = int(v)
    unit_names = dict(zip(rows["unit"].astype(str), rows["unit_name"].astype(str), strict=True))
    yield (f"{region}合计" if region else "合计", region_code, "total", _add(per.values()))
    counties: dict[str, list[str]] = {}
    for unit in sorted(per):
        counties.setdefault(unit[:6], []).append(unit)
    for county, units in counties.items():
        name = county_names.get(county, "") or county
        if level == "county":
            yield name, county, "", _add(per[u] for u in units)
            continue
        yield f"{name}小计", county, "subtotal", _add(per[u] for u in units)
        for unit in units:
            yield unit_names.get(unit, "") or unit, unit, "", per[unit]


def _name_cols(level: str) -> list[Column]:
    what = {"county": "行政区", "town": "行政区", "village": "村级调查区"}.get(level, "单位")
    return [Column("name", f"{what}名称", kind="text"), Column("code", f"{what}代码", kind="code")]


def _rows(table: OfficialTable, filing: Filing, region_code: str, key: str,
          derive: Callable[[dict[str, int]], dict[str, int]],
          county_names: Mapping[str, str]) -> list[dict]:
    out = []
    for name, code, style, sums in _blocks(table.rows, [key], table.level, filing.region,
                                            region_code, county_names):
        ints = derive({k[0]: v for k, v in sums.items()})
        row = {k: _value(v) for k, v in ints.items()}
        row.update(name=name, code=code, _style=style)
        out.append(row)
    return out


def _notes(table: OfficialTable) -> list[str]:
    src = table.source
    notes = [f"数据来源：地类图斑 {src.get('version', '')} 版本；面积为图斑地类面积，"
             "按系数扣除的田坎面积计入田坎（1203），合计等于图斑面积之和。"]
    if table.balanced:
        fields = {b["control_field"] for b in table.balance}
        what = "、".join(sorted({"DCMJ": "调查面积", "KZMJ": "控制面积"}.get(f, f) for f in fields))
        notes.append(f"本表已调平：各县合计等于行政区{what}，按第三次全国国土调查统计调平规则分配尾差"
                     "（先分到村，再分到村内各行，最后按地类编码倒序分到 1 公顷以上的地类）。")
    else:
        notes.append("本表未调平：各单元格按实际面积四舍五入，合计可能与控制面积相差若干 0.01 公顷。")
    return notes


def _county_names(table: OfficialTable, names: Mapping[str, str]) -> dict[str, str]:
    out = {c: names.get(c, "") for c in table.rows["county"].unique()}
    for unit, unit_name in zip(table.rows["unit"], table.rows["unit_name"], strict=True):
        if unit in out and unit_name:
            out[unit] = unit_name
    return out


def class_sheet(table: OfficialTable, filing: Filing, *, region_code: str = "",
                names: Mapping[str, str] | None = None) -> Sheet:
    """土地利用现状分类面积汇总表: 合计, 三大类, then each 一级 class (小计 and its 二级 classes)."""
    lc = land_classes()
    frame = lc.frame.set_index("code")
    level1_names = lc.level1.set_index("code")["name"].to_dict()
    three_of = frame["three_class"].to_dict()
    present = sorted(set(table.rows["dlbm"]), key=lambda c: (frame.loc[c, "level1_code"], c))
    groups: dict[str, list[str]] = {}
    for code in present:
        groups.setdefault(frame.loc[code, "level1_code"], []).append(code)
    three = ["农用地", "建设用地", "未利用地"]
    cols = _name_cols(table.level) + [Column("total", "合计", kind="area")]
    cols += [Column(f"t:{t}", t, "三大类", "area") for t in three]
    for l1 in sorted(groups):
        gname = f"{level1_names.get(l1, l1)}（{l1}）"
        if len(groups[l1]) > 1:
            cols.append(Column(f"l:{l1}", "小计", gname, "area"))
        cols += [Column(c, f"{frame.loc[c, 'name']}（{c}）", gname, "area") for c in groups[l1]]

    def derive(d: dict[str, int]) -> dict[str, int]:
        out = {c: d.get(c, 0) for c in present}
        out["total"] = sum(d.values())
        for t in three:
            out[f"t:{t}"] = sum(v for c, v in d.items() if three_of[c] == t)
        for l1, codes in groups.items():
            out[f"l:{l1}"] = sum(d.get(c, 0) for c in codes)
        return out

    rows = _rows(table, filing, region_code, "dlbm", derive, _county_names(table, names or {}))
    title = title_for("class", filing, period_text(table.source.get("version", "")))
    return Sheet("分类面积汇总表", title, cols, rows if len(table.rows) else [],
                 notes=_notes(table))


def bulletin_sheet(table: OfficialTable, filing: Filing, *, region_code: str = "",
                   names: Mapping[str, str] | None = None) -> Sheet:
    """The bulletin groups per unit (城镇村及工矿用地 by 城镇村属性码)."""
    groups = list(official_tables().groups)
    cols = _name_cols(table.level) + [Column("total", "合计", kind="area")]
    cols += [Column(g, g, "公报分组", "area") for g in groups]

    def derive(d: dict[str, int]) -> dict[str, int]:
        return {**{g: d.get(g, 0) for g in groups}, "total": sum(d.values())}

    rows = _rows(table, filing, region_code, "group", derive, _county_names(table, names or {}))
    title = title_for("bulletin", filing, period_text(table.source.get("version", "")))
    notes = _notes(table) + ["城镇村及工矿用地为城镇村属性码 201–205（含带 A 后缀）的全部图斑，不论地类；"
                             "其余分组按地类编码归并，湿地为 7 个二级地类（盐田不在其中），田坎计入其他土地。"]
    return Sheet("公报口径汇总表", title, cols, rows if len(table.rows) else [], notes=notes)


def czc_sheet(table: OfficialTable, filing: Filing, *, region_code: str = "",
              names: Mapping[str, str] | None = None) -> Sheet:
    """城镇村及工矿用地面积汇总表: per unit, one row per 城镇村属性码, columns the DLBM they hold."""
    lc = land_classes()
    data = official_tables()
    codes = sorted(set(table.rows["dlbm"]))
    cols = _name_cols(table.level) + [Column("czc", "城镇村属性", kind="text"),
                                      Column("total", "合计", kind="area")]
    cols += [Column(c, f"{lc.name(c)}（{c}）", "地类", "area") for c in codes]
    rows: list[dict] = []
    for name, code, style, sums in _blocks(table.rows, ["czcsxm", "dlbm"], table.level,
                                            filing.region, region_code,
                                            _county_names(table, names or {})):
        for czc in ["", *sorted({k[0] for k in sums})]:
            d: dict[str, int] = {}
            for (z, c), v in sums.items():
                if czc in ("", z):
                    d[c] = d.get(c, 0) + v
            row = {c: _value(d.get(c, 0)) for c in codes}
            row["total"] = _value(sum(d.values()))
            row.update(name=name, code=code, _style=style if czc == "" else "",
                       czc="小计" if czc == "" else f"{data.czc_codes.get(czc, czc)}（{czc}）")
            rows.append(row)
    title = title_for("czc", filing, period_text(table.source.get("version", "")))
    return Sheet("城镇村及工矿用地", title, cols, rows if len(table.rows) else [],
                 notes=_notes(table))


def farmland_sheets(table: OfficialTable, filing: Filing, *, region_code: str = "",
                    names: Mapping[str, str] | None = None) -> list[Sheet]:
    """耕地 by 坡度级别 × 耕地类型, and by 耕地类型, 种植属性 and 图斑细化 (two sheets)."""
    rows = table.rows
    period = period_text(table.source.get("version", ""))
    county_names = _county_names(table, names or {}) if len(rows) else {}
    label = {(a, v): n for a, v, n in zip(rows["attribute"], rows["value"], rows["value_name"],
                                          strict=True)}

    def sheet_for(attrs: list[str], key: str, sheet_name: str) -> Sheet:
        part = rows[rows["attribute"].isin(attrs)]
        values = {a: sorted(set(part.loc[part["attribute"] == a, "value"]),
                            key=lambda v: (v == "", v)) for a in attrs}
        cols = _name_cols(table.level) + [Column("total", "耕地合计", kind="area")]
        for a in attrs:
            gname = FARMLAND_ATTRIBUTES[a][1]
            for v in values[a]:
                text = label.get((a, v), v) or "未填写"
                if a == "GDPDJB+GDLX":  # two levels: the slope band over the 梯田/坡地 split
                    group, _, sub = text.partition("，")
                    cols.append(Column(f"{a}={v}", sub or "未填写", group, "area"))
                else:
                    cols.append(Column(f"{a}={v}", text, gname, "area"))
        out = []
        for name, code, style, sums in _blocks(part, ["attribute", "value"], table.level,
                                               filing.region, region_code, county_names):
            row = {"name": name, "code": code, "_style": style}
            first = True
            for a in attrs:
                d = {v: n for (b, v), n in sums.items() if b == a}
                for v in values[a]:
                    row[f"{a}={v}"] = _value(d.get(v, 0))
                if first:
                    row["total"] = _value(sum(d.values()))
                    first = False
            out.append(row)
        notes = ["数据来源：地类图斑 " + str(table.source.get("version", "")) + " 版本中的耕地（0101、0102、0103），"
                 "面积为图斑地类面积（已扣除田坎）；每一组分类的合计均等于耕地合计。"
                 + ("本表已调平：各村每组分类的合计等于调平后的耕地面积。" if table.balanced
                    else "本表未调平。")]
        return Sheet(sheet_name, title_for(key, filing, period), cols, out if len(part) else [],
                     notes=notes)

    return [sheet_for(["GDPDJB+GDLX"], "farmland_slope", "耕地坡度分级"),
            sheet_for(["GDLX", "ZZSXDM", "TBXHDM"], "farmland_attributes", "耕地类型与种植属性")]


def official_sheets(table: OfficialTable, filing: Filing, *, region_code: str = "",
                    names: Mapping[str, str] | None = None) -> list[Sheet]:
    """The sheets of one official table (``class``, ``bulletin``, ``czc``, ``farmland``)."""
    kw = {"region_code": region_code, "names": names}
    if table.table == "class":
        return [class_sheet(table, filing, **kw)]
    if table.table == "bulletin":
        return [bulletin_sheet(table, filing, **kw)]
    if table.table == "czc":
        return [czc_sheet(table, filing, **kw)]
    if table.table == "farmland":
        return farmland_sheets(table, filing, **kw)
    raise ValueError(f"unknown table {table.table}")


def _flow_matrix(rows: pd.DataFrame, title: str, sheet_name: str) -> Sheet:
    lc = land_classes()
    froms = sorted(set(rows["from"]))
    tos = sorted(set(rows["to"]))
    cols = [Column("name", "原地类名称"), Column("code", "原地类编码", kind="code"),
            Column("out", "减少合计", kind="area")]
    cols += [Column(f"to:{c}", f"{lc.name(c)}（{c}）", "现地类", "area") for c in tos]
    cells: dict[tuple[str, str], int] = {}
    for f, t, u in zip(rows["from"], rows["to"], rows["units"], strict=True):
        cells[(f, t)] = cells.get((f, t), 0) + int(u)
    out = []
    for f in froms:
        row = {"name": lc.name(f), "code": f,
               "out": _value(sum(v for (a, _), v in cells.items() if a == f))}
        row.update({f"to:{t}": (_value(cells[(f, t)]) if (f, t) in cells else None)
                    for t in tos})
        out.append(row)
    if froms:
        total = {"name": "增加合计", "code": "", "_style": "total",
                 "out": _value(sum(cells.values()))}
        total.update({f"to:{t}": _value(sum(v for (_, b), v in cells.items() if b == t))
                      for t in tos})
        out.append(total)
    notes = ["行为原地类（变更前），列为现地类（变更后）；对角线（地类未变）不列。"
             "面积为变化图斑的椭球面积，各单元格按公顷两位小数四舍五入，合计为所列数之和（未调平）。"]
    return Sheet(sheet_name, title, cols, out, notes=notes)


def flow_sheets(table, filing: Filing, *, region_code: str = "",
                names: Mapping[str, str] | None = None) -> list[Sheet]:
    """土地利用现状变更表 (全市 and each county) and the 三大类 balance.

    ``table`` is a county-level :class:`~onemap.monitor.flow.FlowTable`.
    """
    names = dict(names or {})
    src = table.source
    period = period_text(src.get("from", ""), src.get("to", ""))
    rows = table.rows
    sheets = [_flow_matrix(rows, title_for("flow", filing, period), "变更表（全市）")]
    for county in sorted(rows["county"].unique()):
        cname = names.get(county, "") or county
        county_filing = Filing(region=cname, filing_unit=filing.filing_unit, on=filing.on)
        sheets.append(_flow_matrix(rows[rows["county"] == county],
                                   title_for("flow", county_filing, period), f"变更表（{cname}）"))
    bal = table.balance
    cols = [Column("name", "行政区名称"), Column("code", "行政区代码", kind="code")]
    for tc in ("农用地", "建设用地", "未利用地"):
        cols += [Column(f"{tc}:inc", "增加", tc, "area"), Column(f"{tc}:dec", "减少", tc, "area"),
                 Column(f"{tc}:net", "净增减", tc, "area")]
    out = []
    blocks = [(f"{filing.region}合计" if filing.region else "合计", region_code, "total", bal)]
    blocks += [(names.get(c, "") or c, c, "", bal[bal["county"] == c])
               for c in sorted(bal["county"].unique())]
    for name, code, style, part in blocks:
        row = {"name": name, "code": code, "_style": style}
        for tc in ("农用地", "建设用地", "未利用地"):
            p = part[part["three_class"] == tc]
            inc, dec = int(p["increase_units"].sum()), int(p["decrease_units"].sum())
            row[f"{tc}:inc"], row[f"{tc}:dec"], row[f"{tc}:net"] = (
                _value(inc), _value(dec), _value(inc - dec))
        out.append(row)
    sheets.append(Sheet("三大类平衡表", title_for("flow_balance", filing, period), cols,
                        out if len(bal) else [],
                        notes=["增加为由其他两大类转入的面积，减少为转出到其他两大类的面积；三大类净增减之和为零。"]))
    return sheets


def _mu_units(cents: int) -> int:
    """Hundredths of m² → 0.01-亩 units (1 亩 = 10 000/15 m²), rounded half up."""
    return (int(cents) * 15 + 5_000) // 10_000


def group_summary_sheets(table, filing: Filing, *, region_code: str = "") -> list[Sheet]:
    """The 地类分组 summary (公顷, 亩) and the 二级 detail (``onemap stats`` without ``--table``).

    ``table`` is a :class:`~onemap.analysis.stats.BulletinTable`.
    """
    rows = table.rows.copy()
    rows["units"] = to_units(rows["cents"].to_numpy())
    rows["mu_units"] = [_mu_units(c) for c in rows["cents"]]
    rows["county"] = rows["unit"].str.slice(0, 6)
    groups = list(land_classes().bulletin_groups())
    period = period_text(table.source.get("version", ""))
    title = title_for("class", filing, period)
    names = dict(zip(rows["unit"], rows["unit_name"], strict=True))
    sheets = []
    for col, unit, label in (("units", "公顷", "公顷"), ("mu_units", "亩", "亩")):
        cols = _name_cols(table.level) + [Column("total", "合计", kind="area")]
        cols += [Column(g, g, "地类分组", "area") for g in groups]
        out = []
        blocks = [(f"{filing.region}合计" if filing.region else "合计", region_code, "total", rows)]
        blocks += [(names.get(u, "") or u, u, "", rows[rows["unit"] == u])
                   for u in sorted(rows["unit"].unique())]
        for name, code, style, part in blocks:
            d = {str(k): int(v) for k, v in part.groupby("group")[col].sum().items()}
            out.append({"name": name, "code": code, "_style": style,
                        "total": _value(sum(d.values())), **{g: _value(d.get(g, 0)) for g in groups}})
        sheets.append(Sheet(f"分组汇总（{label}）", f"{title}（{label}）", cols,
                            out if len(rows) else [], unit=unit,
                            notes=["面积为图斑地类面积；各单元格按两位小数四舍五入，合计为所列数之和（未调平）。"
                                   "按公报口径和调平的统计表请用 onemap stats --table。"]))
    detail_cols = _name_cols(table.level) + [
        Column("group", "地类分组"), Column("dlmc", "地类名称"), Column("dlbm", "地类编码", kind="code"),
        Column("m2", "面积（平方米）", kind="area"), Column("ha", "面积（公顷）", kind="area"),
        Column("mu", "面积（亩）", kind="area")]
    detail = [{"name": r["unit_name"] or r["unit"], "code": r["unit"], "group": r["group"],
               "dlmc": r["dlmc"], "dlbm": r["dlbm"], "m2": r["cents"] / 100.0,
               "ha": _value(r["units"]), "mu": _value(r["mu_units"])}
              for r in rows.to_dict("records")]
    sheets.append(Sheet("二级地类明细", f"{title}（二级地类）", detail_cols, detail, unit=""))
    return sheets


def tabulation_sheets(result, filing: Filing, *, zone_titles: Mapping[str, str],
                      region_code: str = "") -> list[Sheet]:
    """Control-line tabulation as filed: county × control line in 公顷 and 亩, and more.

    Also the class detail inside and outside each line, and the conflicts between lines.
    """
    lc = land_classes()
    cultivated, construction = lc.code_set("cultivated"), lc.code_set("construction")
    rows = result.rows.copy()
    rows["units"] = to_units(rows["cents"].to_numpy())
    rows["mu_units"] = [_mu_units(c) for c in rows["cents"]]
    rows["unit"] = rows["county"].astype(str)
    rows["county6"] = rows["unit"].str.slice(0, 6)
    names = (dict(zip(rows["unit"], rows["unit_name"], strict=True)) if "unit_name" in rows
             else {})
    zones = list(dict.fromkeys(rows["zone"]))
    dltb_src = (result.sources.get("DLTB") or {}).get("source") or {}
    period = period_text(dltb_src.get("version", ""))
    title = title_for("tabulate", filing, period)
    parts = [("全部", "内", "inside_all"), ("耕地", "内", "inside_gd"), ("建设用地", "内", "inside_js"),
             ("全部", "外", "outside_all")]
    heads = {"inside_all": "范围内合计", "inside_gd": "其中：耕地", "inside_js": "其中：建设用地",
             "outside_all": "范围外"}

    def block_rows(col: str) -> list[dict]:
        out = []
        blocks = [(f"{filing.region}合计" if filing.region else "合计", region_code, "total", rows)]
        if result.level != "county":
            for c in sorted(rows["county6"].unique()):
                blocks.append((f"{names.get(c, '') or c}小计", c, "subtotal",
                               rows[rows["county6"] == c]))
                blocks += [(names.get(u, "") or u, u, "", rows[rows["unit"] == u])
                           for u in sorted(rows.loc[rows["county6"] == c, "unit"].unique())]
        else:
            blocks += [(names.get(u, "") or u, u, "", rows[rows["unit"] == u])
                       for u in sorted(rows["unit"].unique())]
        for name, code, style, part in blocks:
            row = {"name": name, "code": code, "_style": style}
            for z in zones:
                pz = part[part["zone"] == z]
                for what, side, key in parts:
                    sel = pz[pz["inside"] == (side == "内")]
                    if what == "耕地":
                        sel = sel[sel["dlbm"].isin(cultivated)]
                    elif what == "建设用地":
                        sel = sel[sel["dlbm"].isin(construction)]
                    row[f"{z}:{key}"] = _value(int(sel[col].sum()))
            out.append(row)
        return out

    cols = _name_cols(result.level)
    for z in zones:
        cols += [Column(f"{z}:{key}", heads[key], zone_titles.get(z, z), "area")
                 for _, _, key in parts]
    note = ("面积为图斑地类面积（已扣除田坎），被控制线切割的图斑按切割部分椭球面积扣除田坎后计入；"
            "范围内与范围外之和等于图斑地类面积合计；各单元格按两位小数四舍五入，合计为所列数之和。")
    sheets = [Sheet("控制线内外（公顷）", title + "（公顷）", cols, block_rows("units") if len(rows) else [],
                    unit="公顷", notes=[note]),
              Sheet("控制线内外（亩）", title + "（亩）", cols, block_rows("mu_units") if len(rows) else [],
                    unit="亩", notes=[note])]
    # the 田坎 deducted by coefficient (1203) of each class, beside its net area (official-tables.md §4)
    tk_cents = (rows["tiankan_m2"] * 100).round().astype("int64") if "tiankan_m2" in rows else 0
    rows["tk_units"] = to_units(np.asarray(tk_cents if len(rows) else [], dtype="int64"))
    keys = ["unit", "zone", "dlbm", "inside"]
    detail = (rows.groupby(keys, as_index=False)[["units", "tk_units"]].sum()
              if len(rows) else pd.DataFrame(columns=[*keys, "units", "tk_units"]))
    wide = detail.pivot_table(index=["unit", "zone", "dlbm"], columns="inside", values=["units", "tk_units"],
                              aggfunc="sum", fill_value=0) if len(detail) else None
    det_rows = []
    for idx, r in wide.iterrows() if wide is not None else []:
        unit, zone, dlbm = idx
        det_rows.append({"name": names.get(unit, "") or unit, "code": unit,
                         "zone": zone_titles.get(zone, zone), "dlmc": lc.name(dlbm),
                         "dlbm": dlbm, "in": _value(int(r.get(("units", True), 0))),
                         "in_tk": _value(int(r.get(("tk_units", True), 0))),
                         "out": _value(int(r.get(("units", False), 0))),
                         "out_tk": _value(int(r.get(("tk_units", False), 0)))})
    sheets.append(Sheet("控制线内外地类明细", title_for("tabulate", filing, period) + "（二级地类）",
                        _name_cols(result.level) + [
                            Column("zone", "控制线"), Column("dlmc", "地类名称"),
                            Column("dlbm", "地类编码", kind="code"),
                            Column("in", "范围内", kind="area"),
                            Column("in_tk", "范围内田坎（1203）", kind="area"),
                            Column("out", "范围外", kind="area"),
                            Column("out_tk", "范围外田坎（1203）", kind="area")],
                        det_rows, notes=[note + "田坎列为按系数扣除的田坎面积（1203），不含在地类面积内。"]))
    conf = result.conflicts
    conf_rows = [{"a": zone_titles.get(r["zone_a"], r["zone_a"]),
                  "b": zone_titles.get(r["zone_b"], r["zone_b"]),
                  "name": names.get(str(r["county"]), "") or str(r["county"]), "code": str(r["county"]),
                  "id_a": str(r["id_a"]), "id_b": str(r["id_b"]), "ha": round(r["area_m2"] / 10000, 2),
                  "m2": round(float(r["area_m2"]), 2)}
                 for r in conf.drop(columns="geometry").to_dict("records")] if len(conf) else []
    sheets.append(Sheet("控制线冲突", title_for("tabulate_conflicts", filing, period), [
        Column("a", "控制线甲"), Column("b", "控制线乙"), Column("name", "行政区名称"),
        Column("code", "行政区代码", kind="code"), Column("id_a", "要素甲标识码", kind="code"),
        Column("id_b", "要素乙标识码", kind="code"), Column("ha", "重叠面积（公顷）", kind="area"),
        Column("m2", "重叠面积（平方米）", kind="area")], conf_rows, unit="",
        notes=["控制线之间不应重叠；每行为一对重叠要素在一个行政区内的重叠部分。"]))
    return sheets


def _present(value) -> bool:
    return value is not None and value is not pd.NA and not (isinstance(value, float)
                                                             and value != value) and value != ""


def _mu(m2: float) -> float:
    return round(float(m2 or 0.0) * 15 / 10_000, 2)


def accountability_sheets(table: pd.DataFrame, cases: pd.DataFrame, filing: Filing, *, year: int,
                          threshold: float, rule_names: Mapping[str, str],
                          names: Mapping[str, str] | None = None,
                          region_code: str = "") -> list[Sheet]:
    """违法占用耕地问责统计 (per county and 全市, 亩) and the case list, as filed.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`onemap.monitor.accountability.accountability_table` rows.
    cases : pandas.DataFrame
        Cases of the year (``case_no``, ``county``, ``village``, ``tbbh``, ``state_title``,
        ``suggested``, ``rule``, ``reason``, ``determination``, ``area_m2``, ``gd_area_m2``,
        ``suspect_gd_area_m2``, ``due_at``, ``overdue``).
    filing : Filing
        Region, 填报单位 and date.
    year : int
        The year reported.
    threshold : float
        The accountability threshold (share, e.g. 0.15).
    rule_names : mapping
        Judging rule id → name (shown instead of the id).
    names : mapping, optional
        Unit code → name (counties, villages).
    region_code : str
        Code shown on the total row.
    """
    names = dict(names or {})
    period = f"{int(year)}年度"
    cols = [Column("name", "行政区名称"), Column("code", "行政区代码", kind="code"),
            Column("newc", "新增建设用地占用耕地", "面积（亩）", "area"),
            Column("illegal", "违法占用耕地", "面积（亩）", "area"),
            Column("pending", "待认定疑似违法占用耕地", "面积（亩）", "area"),
            Column("ratio", "违法占用耕地比例", "比例", "percent"),
            Column("ratio_p", "待认定全部违法时比例", "比例", "percent"),
            Column("flagged", "是否达到问责标准"),
            Column("cases", "案件", "案件数", "integer"),
            Column("cases_illegal", "认定违法", "案件数", "integer"),
            Column("cases_pending", "待认定", "案件数", "integer"),
            Column("cases_overdue", "逾期", "案件数", "integer")]
    rows = []
    if len(table):
        t = table
        total_newc = float(t["new_construction_gd_m2"].sum())
        total_il = float(t["illegal_gd_m2"].sum())
        total_p = float(t["pending_gd_m2"].sum())
        ratio = total_il / total_newc if total_newc > 0 else None
        rows.append({"name": f"{filing.region}合计" if filing.region else "合计", "code": region_code,
                     "_style": "total", "newc": _mu(total_newc), "illegal": _mu(total_il),
                     "pending": _mu(total_p), "ratio": ratio,
                     "ratio_p": (total_il + total_p) / total_newc if total_newc > 0 else None,
                     "flagged": "", **{k: int(t[k].sum()) for k in
                                       ("cases", "cases_illegal", "cases_pending", "cases_overdue")}})
        for r in t.sort_values("county").to_dict("records"):
            ratio = r["ratio"] if isinstance(r["ratio"], float) and np.isfinite(r["ratio"]) else None
            rp = r.get("ratio_if_pending_illegal")
            rows.append({"name": r.get("county_name") or names.get(r["county"], "") or r["county"],
                         "code": r["county"], "newc": _mu(r["new_construction_gd_m2"]),
                         "illegal": _mu(r["illegal_gd_m2"]), "pending": _mu(r["pending_gd_m2"]),
                         "ratio": ratio,
                         "ratio_p": rp if isinstance(rp, float) and np.isfinite(rp) else None,
                         "flagged": "是" if r["flagged"] else "否",
                         **{k: int(r[k]) for k in ("cases", "cases_illegal", "cases_pending",
                                                    "cases_overdue")}})
    summary = Sheet(
        "问责统计", title_for("accountability", filing, period), cols, rows, unit="亩",
        notes=[f"问责标准：一个年度内违法占用耕地面积占新增建设用地占用耕地面积的比例达到 {threshold:.0%}"
               "（监察部 人力资源和社会保障部 国土资源部令第15号 第三条）。比例无新增建设用地占用耕地时不计算。"],
        empty_note="无判定结果：本年度尚无变化图斑判定，无法统计")
    case_cols = [Column("case_no", "案件编号", kind="code"), Column("county", "县级行政区"),
                 Column("village", "村级调查区"), Column("tbbh", "变化图斑编号", kind="code"),
                 Column("state", "办理状态"), Column("suggested", "系统判定"),
                 Column("rule", "判定规则"), Column("reason", "判定理由"),
                 Column("determination", "认定结果"),
                 Column("area", "图斑面积", "面积（亩）", "area"),
                 Column("gd", "耕地面积", "面积（亩）", "area"),
                 Column("suspect", "疑似违法占用耕地", "面积（亩）", "area"),
                 Column("due", "办理期限"), Column("overdue", "是否逾期")]
    case_rows = []
    for c in cases.to_dict("records") if len(cases) else []:
        village = str(c.get("village")) if _present(c.get("village")) else ""

        def text(key: str, rec: dict = c) -> str:
            v = rec.get(key)
            return str(v) if _present(v) else ""

        case_rows.append({
            "case_no": text("case_no"), "county": names.get(text("county"), "") or text("county"),
            "village": names.get(village, "") or village, "tbbh": text("tbbh"),
            "state": text("state_title"), "suggested": text("suggested"),
            "rule": rule_names.get(text("rule"), text("rule")), "reason": text("reason"),
            "determination": text("determination") or "待认定",
            "area": _mu(c.get("area_m2")), "gd": _mu(c.get("gd_area_m2")),
            "suspect": _mu(c.get("suspect_gd_area_m2")),
            "due": chinese_date(str(c["due_at"])) if _present(c.get("due_at")) else "",
            "overdue": "是" if c.get("overdue") else "否"})
    detail = Sheet("案件明细", title_for("accountability_cases", filing, period), case_cols,
                   case_rows, unit="亩", empty_note="无案件：本年度尚未下发卫片执法案件")
    return [summary, detail]
