"""Use cases of land supply: 批而未供 and 闲置土地 from the 批次 and 供地 registers.

The batches and supplies are the records of the registers named in
``ledgers/data/supply.yaml`` (:mod:`onemap.app.ledgers` imports them); the
rules are :mod:`onemap.ledgers.supply`. Reports write nothing to the workspace.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import shapely
from sqlalchemy import inspect, select

from onemap.app.ledgers import add_records, import_records
from onemap.errors import InputError, Problem
from onemap.geo.area import ellipsoidal_area
from onemap.ledgers.farmland import load_accounts
from onemap.ledgers.rows import to_date
from onemap.ledgers.schema import load_register
from onemap.ledgers.supply import (
    Batch,
    Supply,
    disposal_rates,
    idle_status,
    load_supply_config,
    track,
    unsupplied,
)
from onemap.reports.xlsx import write_workbook
from onemap.sample.landsupply import land_records
from onemap.store import ledgers as tables
from onemap.store.base import Store

BY = ("batch", "county", "year")


def parse_day(text: str | date | None, what: str = "--date") -> date:
    """The day of a ``--date`` option (today when None); a clear Chinese error otherwise."""
    if text is None:
        return date.today()
    if isinstance(text, date):
        return text
    iso = to_date(text)
    if iso is None:
        raise InputError(f"{what} 的取值「{text}」不是有效日期（如 2025-03-01）",
                         [Problem("bad_date", str(text), field=what)])
    return date.fromisoformat(iso)


def records(store: Store, register: str, skip: list[str]) -> list[dict[str, Any]]:
    """``record_no``, ``state``, ``county``, ``values`` and ``geometry`` of a register's records, in import order."""
    engine = store.sql_engine()
    if not inspect(engine).has_table(tables.records_table.name):
        return []
    t = tables.records_table
    stmt = (select(t.c.record_no, t.c.state, t.c.county, t.c.data, t.c.geometry)
            .where(t.c.register == register, t.c.state.not_in(skip)).order_by(t.c.id))
    with engine.connect() as conn:
        return [{"record_no": no, "state": st, "county": cty, "values": json.loads(data),
                 "geometry": shapely.from_wkb(bytes.fromhex(geom)) if geom else None}
                for no, st, cty, data, geom in conn.execute(stmt)]


_HEADERS = {"batch": "批准文号", "name": "批次名称", "county": "行政区代码", "year": "批准年度",
            "batches": "批次数", "approved_m2": "批准面积（平方米）", "supplied_m2": "已供面积（平方米）",
            "reduced_m2": "核减面积（平方米）", "unsupplied_m2": "未供面积（平方米）", "rate": "供地率"}


def unsupplied_report(store: Store, *, on: str | date | None = None,
                      by: Literal["batch", "county", "year"] = "batch",
                      xlsx: str | Path | None = None) -> dict[str, Any]:
    """批而未供 on a day: per batch, county or approval year, with the 近5年 average.

    Batches approved by the day (批准日期) and not withdrawn; supplies signed by the
    day (合同签订日期) and not taken back. The supplied area is spatial (the union of
    the supplies inside each batch), never the sum of the records' areas.

    Returns
    -------
    dict
        ``date``, ``by``, ``rows``, ``total``, ``recent``, ``config``, ``xlsx``.

    Raises
    ------
    onemap.errors.InputError
        A bad date or grouping.
    """
    if by not in BY:
        raise InputError(f"--by 的取值「{by}」不对（可选：batch 按批次、county 按县、year 按批准年度）",
                         [Problem("bad_option", str(by), field="--by")])
    day = parse_day(on)
    cfg = load_supply_config()
    breg, sreg = load_register(cfg.batches_register), load_register(cfg.supplies_register)
    batches = _batches(store, breg.name, cfg.skip_batch_states, day)
    supplies = [r["geometry"] for r in records(store, sreg.name, cfg.skip_supply_states)
                if r["geometry"] is not None and date.fromisoformat(r["values"]["HTRQ"]) <= day]
    got = unsupplied(batches, supplies, cfg, on=day, by=by)
    out: dict[str, Any] = {"date": day.isoformat(), **got, "supplies": len(supplies),
                           "config": {"version": cfg.version, "sha256": cfg.sha256}, "xlsx": None}
    if xlsx is not None:
        cols = {"batch": ["batch", "name", "county", "year"], "county": ["county", "batches"],
                "year": ["year", "batches"]}[by] + ["approved_m2", "supplied_m2", "reduced_m2",
                                                    "unsupplied_m2", "rate"]
        frame = pd.DataFrame(got["rows"], columns=cols)
        rec = got["recent"]
        note = (f"近{len(rec['years'])}年（{rec['years'][0]}—{rec['years'][-1]}年批准）平均供地率 "
                f"{rec['rate']:.2%}，下限 {rec['floor']:.0%}") if rec["years"] else ""
        sheet = {"batch": "按批次", "county": "按县", "year": "按批准年度"}[by]
        path = write_workbook(xlsx, {sheet: frame}, headers=_HEADERS,
                              titles={sheet: f"批而未供（截至 {day.isoformat()}）{note}"},
                              number_formats={**{k: "#,##0.00" for k in _HEADERS if k.endswith("_m2")},
                                              "rate": "0.00%"})
        out["xlsx"] = str(path)
    return out


def idle_report(store: Store, *, on: str | date | None = None) -> dict[str, Any]:
    """闲置土地 on a day: every supply signed by then and not taken back, with its status and fee.

    Returns
    -------
    dict
        ``date``, ``rows`` (``id`` 电子监管号, ``name``, ``holder``, ``county``, ``status``,
        ``idle_since``, ``idle_days``, ``one_year_on``, ``two_years_on``, ``fee_yuan``,
        ``recover``, ``reason``), ``counts`` (status → number), ``fee_total_yuan``, ``config``.
    """
    day = parse_day(on)
    cfg = load_supply_config()
    sreg = load_register(cfg.supplies_register)
    rows = []
    for r in records(store, sreg.name, cfg.skip_supply_states):
        v = r["values"]
        if date.fromisoformat(v["HTRQ"]) > day:
            continue
        got = idle_status(v, float(v.get("GDMJ") or 0), r["state"], day, cfg.idle)
        rows.append({"id": r["record_no"], "name": str(v.get("XMMC", "")), "holder": str(v.get("SRR", "")),
                     "county": r["county"], "price_wan": v.get("CJJK"), "area_m2": v.get("GDMJ"), **got})
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    fee = sum(round(r["fee_yuan"] * 100) for r in rows if r["fee_yuan"] is not None) / 100
    return {"date": day.isoformat(), "rows": rows, "counts": counts, "fee_total_yuan": fee,
            "config": {"version": cfg.version, "sha256": cfg.sha256}}


def open_idle_cases(store: Store, *, on: str | date | None = None, actor: str,
                    now: datetime | str | None = None) -> dict[str, Any]:
    """Register every supply idle a year or more on a day as a 闲置土地 case (idempotent).

    One case per supply, numbered by its 电子监管号 (a supply already in the register
    is left as it is), its values taken from the 供地 record (项目名称, 受让人, 面积,
    价款, 行政区) and from the day's computation (闲置起算日期, 闲置情形, 闲置天数,
    闲置费), its geometry the supply's. The case then follows the register's flow
    (``idle.yaml``: 告知 → 认定书 → 处置方案 → 处置 → 结案).

    Returns
    -------
    dict
        ``date``, ``created`` (numbers), ``existing`` (numbers already registered), ``audit_id``.
    """
    report = idle_report(store, on=on)
    cfg = load_supply_config()
    sreg = load_register(cfg.supplies_register)
    geoms = {r["record_no"]: r["geometry"] for r in records(store, sreg.name, cfg.skip_supply_states)}
    rows, shapes = [], []
    for r in report["rows"]:
        if r["status"] not in ("闲置满一年", "闲置满两年"):
            continue
        rows.append({"DZJGH": r["id"], "XMMC": r["name"], "SRR": r["holder"], "GDMJ": r["area_m2"],
                     "CJJK": r["price_wan"], "JSRQ": report["date"], "XZQSRQ": r["idle_since"],
                     "XZZT": r["status"], "XZTS": r["idle_days"], "XZF": r["fee_yuan"], "XZQDM": r["county"],
                     "BZ": f"{report['date']} 计算：{r['reason']}"})
        shapes.append(geoms.get(r["id"]))
    got = add_records(store, cfg.idle_register, rows, shapes, actor=actor,
                      source={"computation": "supply idle", "date": report["date"]}, now=now)
    return {"date": report["date"], **got}


def _batches(store: Store, register: str, skip: list[str], by: date) -> list[Batch]:
    out = []
    for r in records(store, register, skip):
        approved = date.fromisoformat(r["values"]["PZRQ"])
        if approved <= by and r["geometry"] is not None:
            out.append(Batch(r["record_no"], str(r["values"].get("PCMC", "")), r["county"], approved,
                             r["geometry"], float(r["values"].get("HJMJ") or 0)))
    return out


def disposal_report(store: Store, *, year: int) -> dict[str, Any]:
    """批而未供 and 闲置 disposal per county in a year, against the yearly target, with the 增存挂钩 quota.

    Stock at the start = 批而未供 on 31 December of the year before (batches approved by then)
    + 供地面积 of the supplies idle a year or more that day; disposed = the supplied area added
    inside those batches during the year + the 供地面积 of 闲置土地 cases 结案 in the year.

    Returns
    -------
    dict
        ``year``, ``rows`` (per county, see :func:`onemap.ledgers.supply.disposal_rates`), ``total``, ``config``.
    """
    cfg = load_supply_config()
    start, end = date(year - 1, 12, 31), date(year, 12, 31)
    breg, sreg = load_register(cfg.batches_register), load_register(cfg.supplies_register)
    batches = _batches(store, breg.name, cfg.skip_batch_states, start)
    supplies = records(store, sreg.name, cfg.skip_supply_states)

    def signed_by(day: date) -> list[Any]:
        return [r["geometry"] for r in supplies
                if r["geometry"] is not None and date.fromisoformat(r["values"]["HTRQ"]) <= day]

    units: dict[str, dict[str, int]] = {}

    def unit(county: str) -> dict[str, int]:
        return units.setdefault(county, dict.fromkeys(
            ("unsupplied_stock", "unsupplied_disposed", "idle_stock", "idle_disposed"), 0))

    before = unsupplied(batches, signed_by(start), cfg, on=start)["rows"]
    after = unsupplied(batches, signed_by(end), cfg, on=end)["rows"]
    for b0, b1 in zip(before, after, strict=True):
        u = unit(b0["county"])
        u["unsupplied_stock"] += round(b0["unsupplied_m2"] * 100)
        u["unsupplied_disposed"] += round(b0["unsupplied_m2"] * 100) - round(b1["unsupplied_m2"] * 100)
    for r in supplies:
        v = r["values"]
        if date.fromisoformat(v["HTRQ"]) <= start:
            got = idle_status(v, float(v.get("GDMJ") or 0), r["state"], start, cfg.idle)
            if got["status"] in ("闲置满一年", "闲置满两年"):
                unit(r["county"])["idle_stock"] += round(float(v.get("GDMJ") or 0) * 100)
    for r in records(store, load_register(cfg.idle_register).name, []):
        closed = r["values"].get("JARQ")
        if r["state"] == "closed" and closed and start < date.fromisoformat(closed) <= end:
            unit(r["county"])["idle_disposed"] += round(float(r["values"].get("GDMJ") or 0) * 100)
    rows = disposal_rates(units, cfg.disposal)
    total = disposal_rates({"合计": {k: sum(u[k] for u in units.values())
                                   for k in ("unsupplied_stock", "unsupplied_disposed", "idle_stock",
                                             "idle_disposed")}}, cfg.disposal) if units else []
    return {"year": year, "start": start.isoformat(), "end": end.isoformat(), "rows": rows,
            "total": total[0] if total else None,
            "config": {"version": cfg.version, "sha256": cfg.sha256}}


#: The change-set dataset whose ``new_construction`` pieces the 批供用补查 view reads.
CHANGES_DATASET = "BHTB"


def supply_track(store: Store, *, on: str | date | None = None, changes: str | None = None) -> dict[str, Any]:
    """批供用补查: each batch through 批 → 供 → 用 → 补 → 查 on a day.

    用 comes from the supplies' 实际动工/竣工日期 and from change detection: the
    ``new_construction`` pieces of a change set (``BHTB``, the newest or ``changes``)
    on a supplied part mean 动工, on an unsupplied part 未供先用; construction that
    touches a batch but lies outside every batch is 少批多占. 补 lists the 耕地占用
    records overlapping the batch. Nothing is written.

    Returns
    -------
    dict
        ``date``, ``changes`` (dataset and version read, or None), ``rows``
        (see :func:`onemap.ledgers.supply.track`).
    """
    day = parse_day(on)
    cfg = load_supply_config()
    breg, sreg = load_register(cfg.batches_register), load_register(cfg.supplies_register)
    batches = _batches(store, breg.name, cfg.skip_batch_states, day)
    supplies = []
    for r in records(store, sreg.name, cfg.skip_supply_states):
        v = r["values"]
        if r["geometry"] is None or date.fromisoformat(v["HTRQ"]) > day:
            continue
        started = bool(v.get("SJDGRQ")) and date.fromisoformat(v["SJDGRQ"]) <= day
        completed = bool(v.get("SJJGRQ")) and date.fromisoformat(v["SJJGRQ"]) <= day
        supplies.append(Supply(r["record_no"], r["geometry"], started, completed))
    construction, used = None, None
    have = {d.name for d in store.datasets() if d.versions}
    if changes is not None or CHANGES_DATASET in have:
        info = store.version(CHANGES_DATASET, changes)
        gdf = store.read(CHANGES_DATASET, info.version)
        flag = gdf["new_construction"].fillna(False).astype(bool) if "new_construction" in gdf.columns \
            else pd.Series(False, index=gdf.index)
        construction = list(gdf.geometry[flag.to_numpy()])
        used = {"dataset": CHANGES_DATASET, "version": info.version}
    occupations = [(r["record_no"], r["geometry"]) for r in records(store, load_accounts().demand_register, [])
                   if r["geometry"] is not None]
    rows = track(batches, supplies, construction, occupations)
    return {"date": day.isoformat(), "changes": used, "rows": rows,
            "config": {"version": cfg.version, "sha256": cfg.sha256}}


def import_sample(store: Store, *, seed: int = 2024, actor: str = "onemap sample") -> dict[str, Any]:
    """Import synthetic batches, supplies and 基准地价 级别 around each county of the workspace.

    The records (:func:`onemap.sample.landsupply.land_records`, 备注 模拟数据) are placed
    in each county's largest 城镇开发边界 polygon (CZKFBJ), else in its XZQ polygon,
    and go through the ordinary import (every check, the audit chain).

    Returns
    -------
    dict
        Register → number of records imported.

    Raises
    ------
    onemap.errors.InputError
        The workspace has neither CZKFBJ nor XZQ, or the registers already hold these records.
    """
    have = {d.name for d in store.datasets() if d.versions}
    layer = next((n for n in ("CZKFBJ", "XZQ") if n in have), None)
    if layer is None:
        raise InputError("工作空间没有城镇开发边界（CZKFBJ）或行政区（XZQ），无法放置模拟的批次和供地",
                         [Problem("missing_layer", "CZKFBJ/XZQ")])
    gdf = store.read(layer)
    gdf = gdf.assign(_area=ellipsoidal_area(gdf.geometry.values))
    gdf = gdf.sort_values(["XZQDM", "_area"], ascending=[True, False])
    zones = [(str(code), grp.geometry.iloc[0]) for code, grp in gdf.groupby("XZQDM", sort=True)]
    frames = land_records(zones, seed)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in frames.items():
            path = Path(tmp) / f"{name}.geojson"
            frame.to_file(path, driver="GeoJSON")
            out[name] = import_records(store, name, path, actor=actor)["imported"]
    return out
