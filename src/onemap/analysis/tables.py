"""The official 三调 / 变更调查 statistics tables of one DLTB version.

All tables come from one *base cell table*: village × 城镇村属性码 × 二级 class, exact areas in
hundredths of m² (TBDLMJ under the patch's DLBM, the 田坎 deducted by coefficient, KCMJ,
under 1203), so every table sums to ΣTBMJ and they tie to the cent:

* ``class``     every 二级 class with its 一级 class and 三大类;
* ``bulletin``  the bulletin (公报) groups: 城镇村及工矿用地 = every patch with CZCSXM 201–205
  (±A) whatever its DLBM; the other groups by DLBM;
* ``czc``       城镇村及工矿用地面积汇总表: CZCSXM 201–205 × the DLBM they hold;
* ``farmland``  耕地 by 坡度级别 × 梯田/坡地, by 耕地类型, by 种植属性 and by 图斑细化 (TBDLMJ).

When the cells are balanced (:mod:`onemap.analysis.balance`) every table sums the balanced
0.01-公顷 units of the same cells, so the balanced tables tie exactly as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from onemap.analysis.balance import BalanceResult, spread, to_units
from onemap.analysis.official_data import OfficialTables, official_tables
from onemap.analysis.units import UNIT_LEVELS, unit_codes
from onemap.domain import codelist, land_classes
from onemap.errors import InputError, Problem
from onemap.geo.area import M2_PER_HECTARE, M2_PER_MU
from onemap.util.amounts import to_cents

#: The tables ``onemap stats --table`` offers.
TABLES = ("class", "bulletin", "czc", "farmland")

#: DLBM of 田坎 (the KCMJ of every patch counts here).
TIANKAN = "1203"

#: farmland attributes: key → (DLTB fields, Chinese name).
FARMLAND_ATTRIBUTES: dict[str, tuple[tuple[str, ...], str]] = {
    "GDPDJB": (("GDPDJB",), "耕地坡度级别"),
    "GDPDJB+GDLX": (("GDPDJB", "GDLX"), "坡度级别 × 耕地类型"),
    "GDLX": (("GDLX",), "耕地类型"),
    "ZZSXDM": (("ZZSXDM",), "种植属性"),
    "TBXHDM": (("TBXHDM",), "图斑细化类型"),
}


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    s = frame[col]
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


@dataclass
class BaseCells:
    """The base cell table of one DLTB version.

    Attributes
    ----------
    cells : pandas.DataFrame
        ``county, town, village, record, czcsxm, dlbm, cents``; ``record`` is the
        城镇村属性码 ("" for none), the row key of the 调平 inside a village.
    has_czcsxm : bool
        Whether the layer carries the CZCSXM field at all.
    source : dict
        Dataset and version.
    """

    cells: pd.DataFrame
    has_czcsxm: bool
    source: dict = field(default_factory=dict)


def base_cells(dltb: pd.DataFrame, *, source: dict | None = None,
               data: OfficialTables | None = None) -> BaseCells:
    """Build the village × 城镇村属性码 × class base table from DLTB rows.

    Parameters
    ----------
    dltb : pandas.DataFrame
        ``ZLDWDM``, ``DLBM``, ``TBDLMJ``; ``KCMJ`` (田坎, m²) and ``CZCSXM`` when present;
        ``BSM`` names rows in messages.
    source : dict, optional
        Provenance (dataset, version) to carry along.
    data : OfficialTables, optional
        The official-tables data (default: the shipped file).

    Returns
    -------
    BaseCells

    Raises
    ------
    onemap.errors.InputError
        Missing fields, empty areas, unknown DLBM or unknown 城镇村属性码 (naming the BSM).
    """
    data = data or official_tables()
    what = _what(source)
    missing = [c for c in ("DLBM", "ZLDWDM", "TBDLMJ") if c not in dltb.columns]
    if missing:
        raise InputError(f"{what}缺少统计所需字段：{', '.join(missing)}",
                         [Problem("required_field", "缺少字段", field=c) for c in missing])
    lc = land_classes()
    dlbm = _text(dltb, "DLBM")
    bsm = _text(dltb, "BSM") if "BSM" in dltb.columns else pd.Series(
        [str(i + 1) for i in range(len(dltb))], index=dltb.index)
    bad = ~dlbm.isin(lc.codes)
    if bad.any():
        rows = bsm[bad].tolist()[:10]
        raise InputError(
            f"{what}存在未知地类编码 {', '.join(sorted(set(dlbm[bad]))[:10])}（BSM {', '.join(rows)}），"
            "无法统计", [Problem("unknown_dlbm", f"未知地类编码 {dlbm[i]}", row=bsm[i], field="DLBM")
                       for i in dlbm[bad].index[:10]])
    has_czc = "CZCSXM" in dltb.columns
    czc_raw = _text(dltb, "CZCSXM")
    czc = czc_raw.map(data.czc_base)
    unknown = czc.isna()
    if unknown.any():
        idx = czc[unknown].index[:10]
        raise InputError(
            f"{what}的城镇村属性码 CZCSXM 有不认识的值 {', '.join(sorted(set(czc_raw[unknown]))[:10])}"
            f"（BSM {', '.join(bsm[idx])}）；应为 {', '.join(data.czc_codes)}（可带后缀 "
            f"{', '.join(data.czc_suffixes)}）或留空",
            [Problem("unknown_czcsxm", f"城镇村属性码 {czc_raw[i]} 不在代码表中", row=bsm[i],
                     field="CZCSXM") for i in idx])
    village = unit_codes(dltb["ZLDWDM"], "village").astype(object).fillna("").to_numpy()
    area = to_cents(dltb["TBDLMJ"], "TBDLMJ")
    kc = (to_cents(dltb["KCMJ"].fillna(0.0), "KCMJ") if "KCMJ" in dltb.columns
          else np.zeros(len(dltb), dtype=np.int64))
    czc_values = czc.astype(str).to_numpy()
    parts = [pd.DataFrame({"village": village, "czcsxm": czc_values,
                           "dlbm": dlbm.to_numpy(), "cents": area})]
    has_kc = kc != 0
    if has_kc.any():
        parts.append(pd.DataFrame({"village": village[has_kc], "czcsxm": czc_values[has_kc],
                                   "dlbm": TIANKAN, "cents": kc[has_kc]}))
    frame = pd.concat(parts, ignore_index=True)
    cells = frame.groupby(["village", "czcsxm", "dlbm"], sort=True, as_index=False)["cents"].sum()
    cells = cells[cells["cents"] != 0].reset_index(drop=True)
    cells.insert(0, "town", cells["village"].str.slice(0, UNIT_LEVELS["town"]))
    cells.insert(0, "county", cells["village"].str.slice(0, UNIT_LEVELS["county"]))
    cells.insert(3, "record", cells["czcsxm"])
    return BaseCells(cells=cells, has_czcsxm=has_czc, source=dict(source or {}))


def _what(source: Mapping | None) -> str:
    if not source:
        return "地类图斑"
    return f"地类图斑 {source.get('dataset', '')} {source.get('version', '')}".rstrip() + " "


@dataclass
class OfficialTable:
    """One official table of one version.

    Attributes
    ----------
    table : str
        ``class``, ``bulletin``, ``czc``, ``farmland`` (or ``flow``).
    level : str
        Unit level of the rows.
    rows : pandas.DataFrame
        Long rows: ``unit``, ``unit_name``, ``county``, the table's keys, ``area_m2``,
        ``hectare``, ``mu``, ``cents`` (exact) and ``units`` (0.01 公顷: balanced when
        ``balanced`` else each row rounded alone).
    balanced : bool
        Whether ``hectare`` is the balanced figure.
    balance : list of dict
        The per-county ``balance`` blocks when balanced.
    source : dict
        Dataset and version.
    """

    table: str
    level: str
    rows: pd.DataFrame
    balanced: bool = False
    balance: list[dict] = field(default_factory=list)
    source: dict = field(default_factory=dict)

    #: JSON keys of a row per table.
    KEYS = {"class": ["dlbm", "dlmc", "level1", "three_class"], "bulletin": ["group"],
            "czc": ["czcsxm", "czcmc", "dlbm", "dlmc"],
            "farmland": ["attribute", "attribute_name", "value", "value_name"]}

    def records(self) -> list[dict]:
        """Rows as JSON-ready dicts: ``unit``, ``unit_name``, the keys, ``area_m2``, ``hectare``."""
        cols = ["unit", "unit_name", *self.KEYS.get(self.table, []), "area_m2", "hectare", "mu"]
        out = []
        for rec in self.rows[cols].to_dict("records"):
            rec["area_m2"] = round(float(rec["area_m2"]), 2)
            rec["hectare"] = round(float(rec["hectare"]), 2 if self.balanced else 6)
            rec["mu"] = round(float(rec["mu"]), 2 if self.balanced else 6)
            out.append(rec)
        return out


def _finish(summed: pd.DataFrame, level: str, names: Mapping[str, str], balanced: bool,
            ) -> pd.DataFrame:
    out = summed.copy()
    out.insert(1, "unit_name", out["unit"].map(lambda u: names.get(u, "")))
    out.insert(2, "county", out["unit"].str.slice(0, UNIT_LEVELS["county"]))
    out["area_m2"] = out["cents"] / 100.0
    if balanced:
        out["hectare"] = out["units"] / 100.0
        out["mu"] = out["units"] * 15 / 100.0
    else:
        out["hectare"] = out["area_m2"] / M2_PER_HECTARE
        out["mu"] = out["area_m2"] / M2_PER_MU
    return out.reset_index(drop=True)


def _cell_frame(cells: BaseCells, balanced: BalanceResult | None, level: str
                ) -> tuple[pd.DataFrame, bool]:
    if level not in UNIT_LEVELS:
        raise InputError(f"不支持的统计单元：{level}（可选：{', '.join(UNIT_LEVELS)}）")
    if balanced is not None:
        frame = balanced.cells.copy()
    else:
        frame = cells.cells.copy()
        frame["units"] = to_units(frame["cents"].to_numpy())
    frame["unit"] = frame[level]
    return frame, balanced is not None


def class_table(cells: BaseCells, *, balanced: BalanceResult | None = None,
                level: str = "county", unit_names: Mapping[str, str] | None = None) -> OfficialTable:
    """土地利用现状分类面积汇总表: every 二级 class per unit (1203 includes KCMJ)."""
    frame, is_bal = _cell_frame(cells, balanced, level)
    lc = land_classes()
    summed = frame.groupby(["unit", "dlbm"], sort=True, as_index=False)[["cents", "units"]].sum()
    summed["dlmc"] = summed["dlbm"].map(lc.name)
    level1 = lc.frame.set_index("code")["level1_code"]
    summed["level1"] = summed["dlbm"].map(level1)
    summed["three_class"] = summed["dlbm"].map(lc.three_class)
    rows = _finish(summed, level, unit_names or {}, is_bal)
    return OfficialTable("class", level, rows, is_bal, _blocks(balanced), dict(cells.source))


def _need_czcsxm(cells: BaseCells, table: str, source: Mapping | None) -> None:
    if not cells.has_czcsxm:
        title = {"bulletin": "公报口径分组表", "czc": "城镇村及工矿用地面积汇总表"}[table]
        raise InputError(
            f"{_what(source)}没有城镇村属性码字段 CZCSXM，无法编制{title}："
            "城镇村及工矿用地按 CZCSXM（201–205）统计，而不是按地类编码；请入库带 CZCSXM 的地类图斑",
            [Problem("required_field", "缺少城镇村属性码", field="CZCSXM")])


def bulletin_table(cells: BaseCells, *, balanced: BalanceResult | None = None,
                   level: str = "county", unit_names: Mapping[str, str] | None = None,
                   data: OfficialTables | None = None) -> OfficialTable:
    """The bulletin (公报) groups per unit: coded patches in 城镇村及工矿用地, others by DLBM."""
    _need_czcsxm(cells, "bulletin", cells.source)
    data = data or official_tables()
    frame, is_bal = _cell_frame(cells, balanced, level)
    frame["group"] = np.where(frame["czcsxm"] != "", data.czc_group,
                              frame["dlbm"].map(data.group_of))
    summed = frame.groupby(["unit", "group"], sort=False, as_index=False)[["cents", "units"]].sum()
    order = {g: i for i, g in enumerate(data.groups)}
    summed = summed.sort_values(["unit", "group"], key=lambda s: s.map(order) if s.name == "group"
                                else s).reset_index(drop=True)
    rows = _finish(summed, level, unit_names or {}, is_bal)
    return OfficialTable("bulletin", level, rows, is_bal, _blocks(balanced), dict(cells.source))


def czc_table(cells: BaseCells, *, balanced: BalanceResult | None = None,
              level: str = "county", unit_names: Mapping[str, str] | None = None,
              data: OfficialTables | None = None) -> OfficialTable:
    """城镇村及工矿用地面积汇总表: CZCSXM 201–205 × the DLBM they hold, per unit."""
    _need_czcsxm(cells, "czc", cells.source)
    data = data or official_tables()
    frame, is_bal = _cell_frame(cells, balanced, level)
    frame = frame[frame["czcsxm"] != ""]
    lc = land_classes()
    summed = frame.groupby(["unit", "czcsxm", "dlbm"], sort=True, as_index=False)[
        ["cents", "units"]].sum()
    summed["czcmc"] = summed["czcsxm"].map(data.czc_codes)
    summed["dlmc"] = summed["dlbm"].map(lc.name)
    rows = _finish(summed, level, unit_names or {}, is_bal)
    return OfficialTable("czc", level, rows, is_bal, _blocks(balanced), dict(cells.source))


def _blocks(balanced: BalanceResult | None) -> list[dict]:
    return [b.to_dict() for b in balanced.counties] if balanced is not None else []


def _code_name(list_name: str) -> dict[str, str]:
    try:
        return {str(k): str(v) for k, v in codelist(list_name).items()}
    except KeyError:  # a list a bureau removed only loses the names
        return {}


def farmland_table(dltb: pd.DataFrame, *, level: str = "county",
                   unit_names: Mapping[str, str] | None = None,
                   source: dict | None = None,
                   balanced: BalanceResult | None = None) -> OfficialTable:
    """耕地 (01xx) by 坡度级别 × 梯田/坡地, 耕地类型, 种植属性 and 图斑细化 (TBDLMJ).

    Each attribute is a full breakdown of 耕地: its rows per unit sum to the unit's 耕地
    area; an empty value is the row "未填写". With ``balanced`` (the 调平 of the same version),
    each village's rows of every attribute are brought to the village's balanced 耕地 units the
    same way (the quotient to each row, the remainder to the largest rows), so the breakdowns
    tie to the balanced class table at every level.
    """
    if level not in UNIT_LEVELS:
        raise InputError(f"不支持的统计单元：{level}（可选：{', '.join(UNIT_LEVELS)}）")
    missing = [c for c in ("DLBM", "ZLDWDM", "TBDLMJ") if c not in dltb.columns]
    if missing:
        raise InputError(f"{_what(source)}缺少统计所需字段：{', '.join(missing)}")
    lc = land_classes()
    cultivated = lc.code_set("cultivated")
    dlbm = _text(dltb, "DLBM")
    gd = dltb[dlbm.isin(cultivated)]
    villages = unit_codes(gd["ZLDWDM"], "village").astype(object).fillna("").to_numpy()
    cents = to_cents(gd["TBDLMJ"], "TBDLMJ")
    names = {"GDPDJB": _code_name("gdpdjb"), "GDLX": _code_name("gdlx"),
             "ZZSXDM": _code_name("zzsxdm"), "TBXHDM": _code_name("tbxhdm")}
    keys = ["village", "attribute", "attribute_name", "value", "value_name"]
    parts = []
    for key, (fields, title) in FARMLAND_ATTRIBUTES.items():
        values = [_text(gd, f).to_numpy() for f in fields]
        value = values[0] if len(values) == 1 else np.array(
            ["+".join(v) if any(v) else "" for v in zip(*values, strict=True)], dtype=object)
        named = {v: _value_name(fields, v, names) for v in set(value)}
        label = [named[v] for v in value]
        parts.append(pd.DataFrame({"village": villages, "attribute": key, "attribute_name": title,
                                   "value": value, "value_name": label, "cents": cents}))
    frame = pd.concat(parts, ignore_index=True)
    cells = frame.groupby(keys, sort=True, as_index=False)["cents"].sum()
    cells["units"] = to_units(cells["cents"].to_numpy())
    if balanced is not None:
        bal = balanced.cells
        target = bal[bal["dlbm"].isin(cultivated)].groupby("village")["units"].sum()
        units = cells["units"].to_numpy().copy()
        size = cells["cents"].to_numpy()
        for (village, _attr), idx in cells.groupby(["village", "attribute"]).indices.items():
            diff = int(target.get(village, 0)) - int(units[idx].sum())
            if diff:
                order = sorted(range(len(idx)), key=lambda i: (-int(size[idx[i]]), i))
                units[idx] += spread(diff, order, units[idx])
        cells["units"] = units
    cells["unit"] = cells["village"].str.slice(0, UNIT_LEVELS[level])
    summed = cells.groupby(["unit", *keys[1:]], sort=False, as_index=False)[["cents", "units"]].sum()
    order = {k: i for i, k in enumerate(FARMLAND_ATTRIBUTES)}
    summed["_a"] = summed["attribute"].map(order)
    summed["_v"] = summed["value"].map(lambda v: (v == "", v))
    summed = summed.sort_values(["unit", "_a", "_v"]).drop(columns=["_a", "_v"])
    rows = _finish(summed, level, unit_names or {}, balanced is not None)
    return OfficialTable("farmland", level, rows, balanced is not None, _blocks(balanced),
                         dict(source or {}))


def _value_name(fields: tuple[str, ...], value: str, names: Mapping[str, Mapping[str, str]]
                ) -> str:
    if not value:
        return "未填写"
    parts = value.split("+") if len(fields) > 1 else [value]
    out = []
    for f, v in zip(fields, parts, strict=False):
        name = names.get(f, {}).get(v, "")
        if not v:
            out.append("未填写")
        elif f == "GDPDJB":
            out.append(f"{v}级" + (f"（{name}）" if name else ""))
        else:
            out.append(name or v)
    return "，".join(out)


def county_control_m2(xzq: pd.DataFrame | None, counties: list[str],
                      fields: tuple[str, ...]) -> tuple[dict[str, float], str]:
    """Control area (m²) per county from the XZQ layer: the first of ``fields`` present.

    Parameters
    ----------
    xzq : pandas.DataFrame or None
        行政区 rows with ``XZQDM`` and a control-area field (DCMJ, KZMJ).
    counties : list of str
        County codes needed.
    fields : tuple of str
        Candidate fields in order.

    Returns
    -------
    (dict, str)
        County → m² (sum over the county's XZQ rows), and the field used.

    Raises
    ------
    onemap.errors.InputError
        No XZQ layer, no control field, or empty values (naming the field).
    """
    wanted = "、".join(fields)
    if xzq is None or len(xzq) == 0:
        raise InputError(f"工作空间没有行政区 XZQ，无法调平（需要 XZQ 的 {wanted} 字段）",
                         [Problem("required_field", "缺少行政区图层", field=fields[0])])
    have = [f for f in fields if f in xzq.columns]
    if not have or "XZQDM" not in xzq.columns:
        raise InputError(
            f"行政区 XZQ 没有控制面积字段（{wanted}），无法调平；"
            "请入库带调查面积 DCMJ（或二调的控制面积 KZMJ）的行政区，或不加 --balanced",
            [Problem("required_field", "缺少控制面积字段", field=fields[0])])
    fld = have[0]
    code = _text(xzq, "XZQDM").str.slice(0, UNIT_LEVELS["county"])
    values = pd.to_numeric(xzq[fld], errors="coerce")
    out: dict[str, float] = {}
    for county in counties:
        mask = (code == county).to_numpy()
        vals = values[mask]
        if mask.any() and vals.notna().all():
            out[county] = float(np.rint(vals.to_numpy() * 100.0).sum() / 100.0)
    return out, fld
