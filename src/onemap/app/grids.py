"""Use cases of the grids of responsibility (田长制, 林长制): the grid report and the lookups.

The cells are the grid register's records in a non-final state (:mod:`onemap.store.ledgers`);
the land is the latest DLTB; the change patches are the latest change set (BHTB) when the
workspace has one; the open cases are the enforcement cases not in a final state of the case
flow. The engine is :mod:`onemap.ledgers.grids`. Nothing is written to the workspace (the XLSX
aside).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from onemap.errors import InputError, Problem
from onemap.ledgers.grids import Cells, GridSpec, cell_report, grid_spec, load_grids, locate
from onemap.ledgers.schema import load_register
from onemap.monitor import cases as case_mod
from onemap.monitor import service as monitor
from onemap.reports.xlsx import write_workbook
from onemap.store import ledgers as tables
from onemap.store.base import Store

#: The change-set dataset (as written by ``onemap changes``).
CHANGES_DATASET = monitor.CHANGESET_DATASET


def _cells(store: Store, spec: GridSpec) -> Cells:
    reg = load_register(spec.cells_register)
    final = [k for k, st in reg.flow.states.items() if st.final]
    recs = tables.geometry_records(store.sql_engine(), reg.name, skip_states=final)
    geoms = np.empty(len(recs), dtype=object)
    geoms[:] = [g for _, _, g in recs]
    return Cells([no for no, _, _ in recs], [v for _, v, _ in recs], geoms)


def _open_cases(store: Store) -> list[dict[str, Any]]:
    flow = case_mod.load_flow()
    final = {k for k, st in flow.states.items() if st.final}
    return [c for c in monitor.list_cases(store)["cases"] if c["state"] not in final]


def _change_frame(store: Store, version: str | None) -> tuple[pd.DataFrame | None, str | None]:
    have = {d.name for d in store.datasets() if d.versions}
    if CHANGES_DATASET not in have:
        if version is not None:
            raise InputError(f"工作空间中没有变化图斑（{CHANGES_DATASET}），请先运行 onemap changes",
                             [Problem("missing_dataset", "没有变化图斑", field="version")])
        return None, None
    info = store.version(CHANGES_DATASET, version)
    return store.read(CHANGES_DATASET, info.version), info.version


def grid_report(store: Store, grid: str, *, changes_version: str | None = None,
                xlsx: str | Path | None = None) -> dict[str, Any]:
    """The ``onemap grid report WS --grid 田长`` use case.

    Parameters
    ----------
    store : Store
        The workspace.
    grid : str
        Grid name (田长, 林长) or its register (TZWG, LZWG).
    changes_version : str, optional
        Version of the change set (default the latest, when there is one).
    xlsx : str or Path, optional
        Also write the rows to this workbook.

    Returns
    -------
    dict
        ``grid``, ``register``, ``land`` (what ``land_m2`` measures), ``cells`` (count),
        ``rows`` (:func:`onemap.ledgers.grids.cell_report`), ``sources`` (dataset → version),
        ``missing`` (inputs not in the workspace), ``config``, ``xlsx``.
    """
    cfg = load_grids()
    spec = grid_spec(grid, cfg)
    name = next(k for k, s in cfg.grids.items() if s is spec)
    cells = _cells(store, spec)
    have = {d.name: d.latest.version for d in store.datasets() if d.versions}
    sources: dict[str, str] = {}
    missing: list[str] = []
    if "DLTB" in have:
        dltb = store.read("DLTB", have["DLTB"])
        sources["DLTB"] = have["DLTB"]
        kcxs = (pd.to_numeric(dltb["KCXS"], errors="coerce").fillna(0.0).to_numpy()
                if "KCXS" in dltb.columns else np.zeros(len(dltb)))
        land = (dltb.geometry.values, dltb["DLBM"].astype(str).tolist(), kcxs)
    else:
        missing.append("DLTB")
        land = ([], [], [])
    frame, version = _change_frame(store, changes_version)
    if frame is None:
        missing.append(CHANGES_DATASET)
        change_geoms: Any = []
    else:
        sources[CHANGES_DATASET] = str(version)
        change_geoms = frame.geometry.values
    cases = [(c["case_no"], float(c["lon"]), float(c["lat"])) for c in _open_cases(store)
             if c.get("lon") is not None and c.get("lat") is not None]
    rows = cell_report(spec, cells, dltb_geometry=land[0], dlbm=land[1], kcxs=land[2],
                       changes=change_geoms, cases=cases)
    out: dict[str, Any] = {
        "grid": name, "register": spec.cells_register, "land": spec.land.title, "cells": len(rows),
        "rows": rows, "sources": sources, "missing": missing,
        "config": {"version": cfg.version, "sha256": cfg.sha256}, "xlsx": None}
    if xlsx is not None:
        table = pd.DataFrame([{**r, "case_numbers": "、".join(r["case_numbers"])} for r in rows],
                             columns=["code", "name", "level", "chief", "worker", "contact", "land_m2",
                                      "tiankan_m2", "changes", "change_area_m2", "open_cases",
                                      "case_numbers"])
        headers = {"code": "网格编码", "name": "网格名称", "level": "层级", "chief": spec.chief_title,
                   "worker": spec.worker_title, "contact": "联系电话",
                   "land_m2": f"{spec.land.title}面积（平方米）", "tiankan_m2": "其中扣除田坎（平方米）",
                   "changes": "变化图斑（个）", "change_area_m2": "变化面积（平方米）",
                   "open_cases": "未办结案件（件）", "case_numbers": "案件编号"}
        note = "；".join(f"{m} 未入库" for m in missing)
        sheet = f"{name}网格"
        path = write_workbook(xlsx, {sheet: table}, headers=headers,
                              titles={sheet: f"{name}网格{spec.land.title}、变化图斑和案件" + (
                                  f"（{note}）" if note else "")},
                              number_formats={"land_m2": "#,##0.00", "tiankan_m2": "#,##0.00",
                                              "change_area_m2": "#,##0.00"})
        out["xlsx"] = str(path)
    return out


def case_chiefs(store: Store, grid: str, case_ref: int | str) -> dict[str, Any]:
    """The 田长 (林长) of a case: the cells holding its point, coarse level first."""
    spec = grid_spec(grid)
    case = monitor.case_detail(store, case_ref)
    cells = _cells(store, spec)
    if case.get("lon") is None or case.get("lat") is None:
        found: list[dict[str, Any]] = []
    else:
        found = locate(spec, cells, [shapely.Point(float(case["lon"]), float(case["lat"]))])[0]
    return {"case_no": case["case_no"], "grid": grid, "cells": found}


def change_chiefs(store: Store, grid: str, *, changes_version: str | None = None) -> dict[str, Any]:
    """Every change patch of a change set with the cells holding it (its 田长 at each level)."""
    spec = grid_spec(grid)
    frame, version = _change_frame(store, changes_version)
    if frame is None:
        raise InputError(f"工作空间中没有变化图斑（{CHANGES_DATASET}），请先运行 onemap changes",
                         [Problem("missing_dataset", "没有变化图斑")])
    cells = _cells(store, spec)
    found = locate(spec, cells, list(frame.geometry.values))
    ids = frame["tbbh"] if "tbbh" in frame.columns else frame.get("TBBH", pd.Series(
        [str(i + 1) for i in range(len(frame))]))
    return {"grid": grid, "version": version,
            "patches": [{"tbbh": str(t), "cells": c} for t, c in zip(ids.tolist(), found, strict=True)]}


#: The grid whose chief cases and change patches carry (``tianzhang``).
FARMLAND_GRID = "田长"


def finest_chief(found: list[dict[str, Any]]) -> dict[str, Any]:
    """The 田长 of the finest cell among ``found`` (coarse level first, as :func:`locate` gives).

    Returns
    -------
    dict
        ``tianzhang`` (the chief's name, ``""`` when no cell covers the place) and
        ``tianzhang_cell`` (``code``, ``name``, ``level``, ``contact`` of that cell, or None).
    """
    if not found:
        return {"tianzhang": "", "tianzhang_cell": None}
    cell = found[-1]
    return {"tianzhang": str(cell.get("chief") or ""),
            "tianzhang_cell": {k: cell.get(k) for k in ("code", "name", "level", "contact")}}


def case_with_chief(store: Store, case_ref: int | str) -> dict[str, Any]:
    """``onemap cases show``: the case detail plus the 田长 of the finest grid cell holding its point."""
    case = monitor.case_detail(store, case_ref)
    found = case_chiefs(store, FARMLAND_GRID, case_ref)["cells"]
    return {**case, **finest_chief(found)}


def changes_with_chiefs(store: Store, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``onemap changes``: :func:`onemap.monitor.service.run_changes` with each change row's 田长.

    A row is placed by its representative point (``lon``/``lat``, a point on the patch); rows
    outside every cell, or every row when no 田长 grid is imported, get an empty ``tianzhang``.
    """
    result = monitor.run_changes(store, *args, **kwargs)
    rows = result.get("changes") or []
    if rows:
        spec = grid_spec(FARMLAND_GRID)
        points = [shapely.Point(float(r["lon"]), float(r["lat"])) for r in rows]
        for row, found in zip(rows, locate(spec, _cells(store, spec), points), strict=True):
            row.update(finest_chief(found))
    return result
