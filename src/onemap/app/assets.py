"""Use cases of the 资产清查 part: 全民所有 land assets of a land-use version and the 资产负债表.

The prices are the 有效 records of the ``asset_prices`` register (imported through
:mod:`onemap.app.ledgers`); the land-use version is read from the workspace; the
arithmetic is :mod:`onemap.ledgers.assets`. Nothing is written to the workspace.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from onemap.app.ledgers import list_records
from onemap.domain import land_classes
from onemap.errors import InputError
from onemap.geo.area import M2_PER_HECTARE, M2_PER_MU
from onemap.ledgers.assets import (
    AssetsConfig,
    Price,
    balance_sheet,
    load_assets,
    quantities,
    valuation,
)
from onemap.reports.xlsx import write_workbook
from onemap.store.base import Store
from onemap.util.labels import version_year

_ALL = "全市"


def _prices(store: Store, cfg: AssetsConfig) -> list[Price]:
    """The 有效 清查价格 records."""
    recs = list_records(store, cfg.price_register, state="valid")["records"]
    out = []
    for r in recs:
        v = r["values"]
        out.append(Price(no=str(r["record_no"]), price=Decimal(str(v["QCJG"])),
                         date=str(v.get("JGSD") or "")[:10], dlbm=str(v.get("DLBM") or ""),
                         resource_type=str(v.get("ZYLX") or ""), county=str(v.get("XZQDM") or "")))
    return out


def _as_of(version: str) -> str | None:
    year = version_year(version)
    return f"{year}-12-31" if year else None


def _read(store: Store, dataset: str, version: str | None) -> tuple[str, pd.DataFrame]:
    info = store.version(dataset, version)
    return info.version, store.read(dataset, info.version)


def _m2(cents: int) -> float:
    return round(int(cents) / 100.0, 2)


def _yuan(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def asset_values(store: Store, *, dataset: str = "DLTB", version: str | None = None,
                 by: str | None = None, xlsx: str | Path | None = None) -> dict[str, Any]:
    """全民所有 实物量 and 经济价值 by 地类编码 (集体所有 实物量 apart) of one land-use version.

    Parameters
    ----------
    store : Store
        The workspace.
    dataset, version : str
        The land-use dataset and version (default the latest).
    by : {"county"}, optional
        Split the rows by county (default: the whole workspace).
    xlsx : str or Path, optional
        Also write the rows to this workbook.

    Returns
    -------
    dict
        ``dataset``, ``version``, ``as_of`` (prices dated later are not used), ``rows``
        (``county`` when by county, ``dlbm``, ``dlmc``, ``ownership`` 全民所有 / 集体所有,
        ``area_m2``, ``area_mu``, ``price_yuan_m2``, ``price_no``, ``value_yuan``; value and
        price null for 集体所有), ``totals`` (per ownership: ``area_m2`` and ``value_yuan``),
        ``prices`` (count used), ``config``, ``xlsx``.

    Raises
    ------
    onemap.errors.InputError
        ``by`` is not ``county``, a patch's 权属性质 is unknown, or a 全民所有 class has no
        price (named), or two prices tie.
    """
    if by not in (None, "county"):
        raise InputError(f"--by 只能是 county（按县），而不是 {by}")
    cfg = load_assets()
    ver, dltb = _read(store, dataset, version)
    what = f"{dataset} {ver} "
    as_of = _as_of(ver)
    q = quantities(dltb, cfg, what=what)
    prices = _prices(store, cfg)
    v = valuation(q, prices, cfg, as_of=as_of, what=what)
    if by is None:
        v = v.assign(county=_ALL)
    names = land_classes()
    rows: list[dict[str, Any]] = []
    for (county, own, dlbm), g in v.groupby(["county", "ownership", "dlbm"], sort=True):
        cents = int(g["cents"].sum())
        public = own == cfg.public.title
        value = sum(g["value"], Decimal(0)) if public else None
        unique = sorted(set(g["price_no"]))
        price = g["price"].iloc[0] if public and len(unique) == 1 else None
        row = {"county": county, "dlbm": dlbm,
               "dlmc": names.name(dlbm) if dlbm in names.codes else "", "ownership": own,
               "area_m2": _m2(cents), "area_mu": round(cents / 100.0 / M2_PER_MU, 2),
               "price_yuan_m2": _yuan(price), "price_no": "、".join(n for n in unique if n),
               "value_yuan": _yuan(value)}
        if by is None:
            row.pop("county")
        rows.append(row)
    rows.sort(key=lambda r: (r.get("county", ""), r["ownership"] != cfg.public.title, r["dlbm"]))
    totals = {}
    for own in (cfg.public.title, cfg.collective.title):
        part = v[v["ownership"] == own]
        totals[own] = {"area_m2": _m2(int(part["cents"].sum())),
                       "value_yuan": (_yuan(sum(part["value"], Decimal(0)))
                                      if own == cfg.public.title else None)}
    out: dict[str, Any] = {"dataset": dataset, "version": ver, "as_of": as_of, "by": by,
                           "rows": rows, "totals": totals, "prices": len(prices),
                           "config": {"version": cfg.version, "sha256": cfg.sha256}, "xlsx": None}
    if xlsx is not None:
        cols = (["county"] if by else []) + ["dlbm", "dlmc", "ownership", "area_m2", "area_mu",
                                             "price_yuan_m2", "price_no", "value_yuan"]
        headers = {"county": "县级行政区", "dlbm": "地类编码", "dlmc": "地类名称", "ownership": "所有权",
                   "area_m2": "实物量（平方米）", "area_mu": "实物量（亩）",
                   "price_yuan_m2": "清查价格（元/平方米）", "price_no": "价格编号",
                   "value_yuan": "经济价值（元）"}
        sheet = "资产清查"
        title = f"全民所有土地资源资产清查（{dataset} {ver}，价格时点不晚于 {as_of or '不限'}）"
        path = write_workbook(xlsx, {sheet: pd.DataFrame(rows, columns=cols)}, headers=headers,
                              titles={sheet: title},
                              number_formats={"area_m2": "#,##0.00", "area_mu": "#,##0.00",
                                              "price_yuan_m2": "#,##0.00####", "value_yuan": "#,##0.00"})
        out["xlsx"] = str(path)
    return out


def asset_balance(store: Store, from_: str, to: str, *, dataset: str = "DLTB",
                  by: str | None = None, xlsx: str | Path | None = None) -> dict[str, Any]:
    """资产负债表 of the 全民所有 land between two versions: 期初 + 本期变动 = 期末.

    Parameters
    ----------
    store : Store
        The workspace.
    from_, to : str
        The opening and closing versions of ``dataset``.
    dataset : str
        The land-use dataset (default DLTB).
    by : {"county"}, optional
        Split by county (default: the whole workspace).
    xlsx : str or Path, optional
        Also write the sheet in the layout of ``assets.yaml`` ``balance_sheet``.

    Returns
    -------
    dict
        ``from``, ``to``, ``as_of`` (the two valuation dates), ``rows`` (``county`` when by
        county, ``dlbm``, ``dlmc``, ``opening_m2``, ``change_m2``, ``closing_m2`` and their
        ``_mu``, ``opening_yuan``, ``quantity_change_yuan``, ``price_change_yuan``,
        ``closing_yuan``), ``totals`` (the same sums), ``xlsx``.
    """
    if by not in (None, "county"):
        raise InputError(f"--by 只能是 county（按县），而不是 {by}")
    cfg = load_assets()
    v0, d0 = _read(store, dataset, from_)
    v1, d1 = _read(store, dataset, to)
    a0, a1 = _as_of(v0), _as_of(v1)
    prices = _prices(store, cfg)
    sheet = balance_sheet(quantities(d0, cfg, what=f"{dataset} {v0} "),
                          quantities(d1, cfg, what=f"{dataset} {v1} "), prices, cfg,
                          opening_as_of=a0, closing_as_of=a1,
                          what=(f"{dataset} {v0} ", f"{dataset} {v1} "))
    if by is None:
        sheet = sheet.assign(county=_ALL)
    sums = ["opening_cents", "change_cents", "closing_cents", "opening_yuan",
            "quantity_change_yuan", "price_change_yuan", "closing_yuan"]
    grouped = sheet.groupby(["county", "dlbm"], sort=True)[sums].agg(
        lambda s: sum(s, Decimal(0)) if s.name.endswith("_yuan") else int(s.sum()))
    names = land_classes()

    def row_of(county: str, dlbm: str, r: Any) -> dict[str, Any]:
        row: dict[str, Any] = {"county": county, "dlbm": dlbm,
                               "dlmc": names.name(dlbm) if dlbm in names.codes else ""}
        for k in ("opening", "change", "closing"):
            c = int(r[f"{k}_cents"])
            row[f"{k}_m2"] = _m2(c)
            row[f"{k}_mu"] = round(c / 100.0 / M2_PER_MU, 2)
            row[f"{k}_ha"] = round(c / 100.0 / M2_PER_HECTARE, 4)
        for k in ("opening_yuan", "quantity_change_yuan", "price_change_yuan", "closing_yuan"):
            row[k] = _yuan(r[k])
        return row

    rows = [row_of(c, d, r) for (c, d), r in grouped.iterrows()]
    total = row_of("合计", "", {k: (sum(sheet[k], Decimal(0)) if k.endswith("_yuan")
                                   else int(sheet[k].sum())) for k in sums})
    if by is None:
        for r in rows:
            r.pop("county")
    out: dict[str, Any] = {"dataset": dataset, "from": v0, "to": v1,
                           "as_of": {"from": a0, "to": a1}, "by": by, "rows": rows,
                           "totals": total, "prices": len(prices),
                           "config": {"version": cfg.version, "sha256": cfg.sha256}, "xlsx": None}
    if xlsx is not None:
        layout = cfg.balance_sheet
        keys = [c.key for c in layout.columns if by or c.key != "county"]
        table = pd.DataFrame([{k: r.get(k) for k in keys} for r in rows]
                             + [{k: (total.get(k) if k != "county" else "合计") for k in keys}],
                             columns=keys)
        if "county" not in keys and "dlbm" in keys:
            table.loc[table.index[-1], "dlbm"] = "合计"
        region = store.settings().get("name", "")
        title = layout.title.format(region=region, from_version=v0, to_version=v1)
        fmt = {k: "#,##0.00" for k in keys if k.endswith(("_m2", "_mu", "_yuan"))}
        fmt.update({k: "#,##0.0000" for k in keys if k.endswith("_ha")})
        path = write_workbook(xlsx, {layout.sheet: table},
                              headers={c.key: c.header for c in layout.columns},
                              titles={layout.sheet: title}, number_formats=fmt)
        out["xlsx"] = str(path)
    return out
