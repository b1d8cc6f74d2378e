"""Use cases of 自然资源统一确权登记: the resources inside each 登记单元 and the layers it touches.

The units are the ``registration_units`` register's records (登记簿 moves through
:mod:`onemap.app.ledgers`); the land-use version and the layers are read from the
workspace, a layer marked ``register`` from that register's records (矿业权). The
arithmetic is :mod:`onemap.ledgers.registration`. Nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from sqlalchemy import inspect, select

from onemap.errors import WorkspaceError
from onemap.ledgers.registration import load_registration, touching, unit_resources
from onemap.ledgers.schema import load_register
from onemap.reports.xlsx import write_workbook
from onemap.store import ledgers as tables
from onemap.store.base import Store


def _records(store: Store, register: str) -> list[tuple[str, str, dict[str, Any], Any]]:
    """(number, state, values, geometry) of a register's records with a geometry."""
    engine = store.sql_engine()
    if not inspect(engine).has_table(tables.records_table.name):
        return []
    t = tables.records_table
    stmt = (select(t.c.record_no, t.c.state, t.c.data, t.c.geometry)
            .where(t.c.register == register, t.c.geometry.is_not(None)).order_by(t.c.id))
    with engine.connect() as conn:
        return [(no, state, json.loads(data), shapely.from_wkb(bytes.fromhex(geom)))
                for no, state, data, geom in conn.execute(stmt)]


def registration_resources(store: Store, unit: str | None = None, *, dataset: str = "DLTB",
                           version: str | None = None, xlsx: str | Path | None = None) -> dict[str, Any]:
    """Resources by 一级类 × 国有/集体/争议 and the control lines touched, per 登记单元.

    Parameters
    ----------
    store : Store
        The workspace.
    unit : str, optional
        One 登记单元号 (default every unit).
    dataset, version : str
        The land-use version (default the latest).
    xlsx : str or Path, optional
        Also write the two tables to this workbook.

    Returns
    -------
    dict
        ``units`` (``unit``, ``name``, ``state``, ``area_m2``, ``by_ownership`` {国有/集体/争议: m²},
        ``resources`` [{class, class_name, ownership, area_m2}], ``touches``
        [{layer, title, area_m2, ids}]), ``missing`` (layers not in the workspace), ``dataset``,
        ``version``, ``config``, ``xlsx``.

    Raises
    ------
    onemap.errors.WorkspaceError
        ``unit`` is not in the register.
    """
    cfg = load_registration()
    reg = load_register(cfg.units_register)
    recs = _records(store, reg.name)
    if unit is not None:
        recs = [r for r in recs if r[0] == unit]
        if not recs:
            raise WorkspaceError(f"「{reg.title}」台账中没有带图形的登记单元 {unit}")
    info = store.version(dataset, version)
    dltb = store.read(dataset, info.version)
    nos, geoms = [r[0] for r in recs], [r[3] for r in recs]
    resources = unit_resources(nos, geoms, dltb, cfg, what=f"{dataset} {info.version} ")
    have = {d.name for d in store.datasets() if d.versions}
    touches: list[dict[str, Any]] = []
    missing: list[dict[str, str]] = []
    for layer in cfg.layers:
        if layer.from_register:
            other = _records(store, layer.dataset)
            got = touching(nos, geoms, [o[3] for o in other], [o[0] for o in other])
        elif layer.dataset in have:
            gdf = store.read(layer.dataset)
            ids = (gdf["BSM"].astype(str).tolist() if "BSM" in gdf.columns
                   else [str(i + 1) for i in range(len(gdf))])
            got = touching(nos, geoms, list(gdf.geometry.values), ids)
        else:
            missing.append({"layer": layer.dataset, "title": layer.title})
            continue
        touches += [{**g, "layer": layer.dataset, "title": layer.title} for g in got]
    sides = list(cfg.ownership)
    units = []
    for no, state, values, _ in recs:
        res = [{k: r[k] for k in ("class", "class_name", "ownership", "area_m2")}
               for r in resources if r["unit"] == no]
        by = {s: round(sum(r["area_m2"] for r in res if r["ownership"] == s), 2) for s in sides}
        units.append({"unit": no, "name": values.get("DJDYMC", ""), "state": reg.flow.state_title(state),
                      "area_m2": values.get("MJ"), "by_ownership": by, "resources": res,
                      "touches": [{k: t[k] for k in ("layer", "title", "area_m2", "ids")}
                                  for t in touches if t["unit"] == no]})
    out: dict[str, Any] = {"register": reg.name, "dataset": dataset, "version": info.version,
                           "units": units, "missing": missing,
                           "config": {"version": cfg.version, "sha256": cfg.sha256}, "xlsx": None}
    if xlsx is not None:
        res_rows = pd.DataFrame([{"unit": u["unit"], "name": u["name"], **r} for u in units
                                 for r in u["resources"]],
                                columns=["unit", "name", "class", "class_name", "ownership", "area_m2"])
        touch_rows = pd.DataFrame([{"unit": u["unit"], "name": u["name"], "title": t["title"],
                                    "area_m2": t["area_m2"], "ids": "、".join(t["ids"])}
                                   for u in units for t in u["touches"]],
                                  columns=["unit", "name", "title", "area_m2", "ids"])
        headers = {"unit": "登记单元号", "name": "登记单元名称", "class": "一级类", "class_name": "资源类型",
                   "ownership": "所有权", "area_m2": "面积（平方米）", "title": "关联图层", "ids": "涉及要素"}
        path = write_workbook(xlsx, {"自然状况": res_rows, "关联信息": touch_rows}, headers=headers,
                              titles={"自然状况": f"登记单元自然状况（{dataset} {info.version}）",
                                      "关联信息": "登记单元与控制线、矿业权的关联"},
                              number_formats={"area_m2": "#,##0.00"})
        out["xlsx"] = str(path)
    return out
