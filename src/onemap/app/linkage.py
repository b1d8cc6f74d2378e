"""Use cases of 城乡建设用地增减挂钩: the rule check and the per-项目区 balance.

The four registers (项目区 ``ZJXMQ``, 拆旧地块 ``CJDK``, 建新地块 ``JXDK``, 指标交易 ``ZBJY``) are
imported, listed and moved like every register (:mod:`onemap.app.ledgers`, ``onemap ledger …``);
here their records are read with their geometry and handed to the pure rules in
:mod:`onemap.ledgers.linkage`, with the DLTB versions and YJJBNTTB from the workspace. Nothing is
written.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import inspect, select

from onemap.errors import Problem, WorkspaceError
from onemap.ledgers import linkage
from onemap.ledgers.schema import load_register
from onemap.monitor.cases import as_datetime
from onemap.store import ledgers as tables
from onemap.store.base import Store


def _records(store: Store, register: str) -> list[linkage.Record]:
    """Every record of one register, values parsed and geometry as shapely (None when absent)."""
    reg = load_register(register)
    engine = store.sql_engine()
    if not inspect(engine).has_table(tables.records_table.name):
        return []
    t = tables.records_table
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.record_no, t.c.state, t.c.county, t.c.data, t.c.geometry)
                            .where(t.c.register == reg.name).order_by(t.c.id)).all()
    return [linkage.Record(r.record_no, r.state, r.county, json.loads(r.data),
                           shapely.from_wkb(r.geometry) if r.geometry else None) for r in rows]


def _all(cfg: linkage.LinkageConfig, store: Store) -> dict[str, list[linkage.Record]]:
    return {role: _records(store, name) for role, name in cfg.registers.items()}


def _bbox(records: list[linkage.Record]) -> tuple[float, float, float, float] | None:
    geoms = [r.geometry for r in records if r.geometry is not None and not r.geometry.is_empty]
    if not geoms:
        return None
    b = shapely.total_bounds(geoms)
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _today(now: datetime | str | None) -> Any:
    return as_datetime(now).date()


def oversold_problems(store: Store, incoming: list[tuple[linkage.Record, str | None]], *,
                      file: str | None = None) -> list[Problem]:
    """Problems for the 指标交易 of ``incoming`` that sell more than their 项目区 has left.

    Parameters
    ----------
    store : Store
        The workspace (the four registers as they are now).
    incoming : list of (Record, row)
        Trades being imported (with their row label, 第 n 行) or moved (row None); a trade already in
        the register is left out of the registered ones, so it is weighed once.
    file : str, optional
        The file imported, for the problem's location.
    """
    cfg = linkage.load_config()
    recs = _all(cfg, store)
    mine = {r.no for r, _ in incoming}
    trades = [t for t in recs["trade"] if t.no not in mine]
    rows = {id(r): row for r, row in incoming}
    got = linkage.oversold_trades(cfg, recs["area"], recs["old"], recs["new"], trades,
                                  [r for r, _ in incoming])
    return [Problem("oversold", (f"{rows[id(r)]}：" if rows[id(r)] else "") + f"指标交易 {r.no}：{why}",
                    file=file, row=rows[id(r)],
                    field=cfg.fields["trade_area"]) for r, why in got]


def balance(store: Store, *, now: datetime | str | None = None) -> dict[str, Any]:
    """Per 项目区: 周转指标, accepted 拆旧, 建新, 节余, sold, available, quota in use and its deadline.

    Returns
    -------
    dict
        ``rows`` and ``findings`` of :func:`onemap.ledgers.linkage.area_balances`, ``totals``
        (sums over the 项目区 of the area columns), ``config`` (version, sha256).
    """
    cfg = linkage.load_config()
    recs = _all(cfg, store)
    got = linkage.area_balances(cfg, recs["area"], recs["old"], recs["new"], recs["trade"], _today(now))
    keys = ("quota_m2", "old_accepted_m2", "old_pending_m2", "new_m2", "surplus_m2", "sold_m2",
            "available_m2", "quota_used_m2")
    totals = {k: round(sum(r[k] for r in got["rows"]), 2) for k in keys}
    return {**got, "totals": totals, "config": {"version": cfg.version, "sha256": cfg.sha256}}


def check(store: Store, *, base: str, later: str | None = None, dataset: str = "DLTB",
          protected: str = "YJJBNTTB", now: datetime | str | None = None) -> dict[str, Any]:
    """Check every 增减挂钩 rule on the registers.

    Parameters
    ----------
    store : Store
        The workspace.
    base : str
        The DLTB version in which 拆旧 must be 建设用地 (the base before reclamation).
    later : str, optional
        The DLTB version in which accepted 拆旧 must be 耕地; default the latest version when it
        differs from ``base`` (otherwise that rule is listed under ``skipped``).
    dataset, protected : str
        The land-use and 永久基本农田 datasets (the latest version of ``protected``; when the
        workspace has none, that rule is listed under ``skipped``).
    now : datetime or str, optional
        The day 周转指标 deadlines are judged on (default today).

    Returns
    -------
    dict
        ``source`` (versions used), ``counts`` (records per register), ``findings`` (rule,
        rule_title, register, record, project_area, county, level 违规/预警, message, …),
        ``by_rule`` (count per rule title), ``skipped``, ``balances`` (rows of :func:`balance`).

    Raises
    ------
    onemap.errors.WorkspaceError
        The base or later version does not exist.
    """
    cfg = linkage.load_config()
    recs = _all(cfg, store)
    base_info = store.version(dataset, base)
    later_info = store.version(dataset, later)
    skipped: list[str] = []
    if later is None and later_info.version == base_info.version:
        later_info = None
        skipped.append(f"验收后须为耕地：{dataset} 没有晚于 {base_info.version} 的版本")
    bbox = _bbox(recs["old"] + recs["new"])
    findings: list[dict[str, Any]] = []
    if recs["old"]:
        base_gdf = store.read(dataset, base_info.version, columns=["DLBM"], bbox=bbox)
        later_gdf = (store.read(dataset, later_info.version, columns=["DLBM"], bbox=bbox)
                     if later_info is not None else None)
        findings += linkage.check_old_plots(
            cfg, recs["old"], base_gdf.geometry.values, base_gdf["DLBM"].to_numpy(),
            later_gdf.geometry.values if later_gdf is not None else None,
            later_gdf["DLBM"].to_numpy() if later_gdf is not None else None,
            base_label=f"{dataset} {base_info.version} ",
            later_label=f"{dataset} {later_info.version} " if later_info is not None else "")
    jbnt = None
    try:
        p_info = store.version(protected)
    except WorkspaceError:
        p_info = None
        skipped.append(f"建新不得占用永久基本农田：工作空间没有 {protected}")
    if p_info is not None and recs["new"]:
        jbnt = store.read(protected, p_info.version, columns=[], bbox=bbox).geometry.values
    findings += linkage.check_overlaps(cfg, recs["new"], recs["old"], jbnt)
    bal = linkage.area_balances(cfg, recs["area"], recs["old"], recs["new"], recs["trade"], _today(now))
    findings += bal["findings"]
    by_rule: dict[str, int] = {}
    for f in findings:
        by_rule[f["rule_title"]] = by_rule.get(f["rule_title"], 0) + 1
    return {"source": {"dataset": dataset, "base": base_info.version,
                       "later": later_info.version if later_info is not None else None,
                       "protected": f"{protected} {p_info.version}" if p_info is not None else None},
            "counts": {role: len(r) for role, r in recs.items()}, "findings": findings,
            "by_rule": by_rule, "skipped": skipped, "balances": bal["rows"],
            "config": {"version": cfg.version, "sha256": cfg.sha256}}
