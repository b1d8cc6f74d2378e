"""Use cases of the 生态修复 part: accepted projects checked against the land-use versions.

The projects are the ``restoration`` register's records (imported and moved through
:mod:`onemap.app.ledgers`); the checks are :func:`onemap.ledgers.restoration.check_projects`
with ``restoration_checks.yaml``. Nothing is written to the workspace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from sqlalchemy import inspect, select

from onemap.ledgers.restoration import Project, check_projects, load_restoration_checks
from onemap.ledgers.schema import load_register
from onemap.reports.xlsx import write_workbook
from onemap.store import ledgers as tables
from onemap.store.base import Store

REGISTER = "restoration"


def _projects(store: Store, states: list[str]) -> list[Project]:
    """The register's records in ``states`` that have a geometry, in import order."""
    engine = store.sql_engine()
    if not inspect(engine).has_table(tables.records_table.name):
        return []
    t = tables.records_table
    stmt = (select(t.c.record_no, t.c.data, t.c.geometry)
            .where(t.c.register == REGISTER, t.c.geometry.is_not(None), t.c.state.in_(states))
            .order_by(t.c.id))
    out = []
    with engine.connect() as conn:
        for no, data, geom in conn.execute(stmt):
            v = json.loads(data)
            declared = v.get("XZGDMJ")
            out.append(Project(no, str(v.get("XMLX", "")),
                               float(declared) if declared not in (None, "") else None,
                               shapely.from_wkb(bytes.fromhex(geom))))
    return out


def restoration_check(store: Store, *, dataset: str = "DLTB", version: str | None = None,
                      base: str | None = None, xlsx: str | Path | None = None) -> dict[str, Any]:
    """Check the accepted 生态修复项目 against a land-use version.

    Parameters
    ----------
    store : Store
        The workspace.
    dataset, version : str
        The land-use version after acceptance (default the latest).
    base : str, optional
        The version before the projects: the 耕地 inside it is subtracted from the 新增耕地.
    xlsx : str or Path, optional
        Also write the rows to this workbook.

    Returns
    -------
    dict
        ``register``, ``dataset``, ``version``, ``base``, ``projects`` (count checked),
        ``rows`` (see :func:`onemap.ledgers.restoration.check_projects`), ``failed``
        (project numbers that did not pass), ``config``, ``xlsx``.
    """
    cfg = load_restoration_checks()
    reg = load_register(REGISTER)
    projects = _projects(store, cfg.states)
    info = store.version(dataset, version)
    dltb = store.read(dataset, info.version)
    base_v = store.version(dataset, base).version if base else None
    base_gdf = store.read(dataset, base_v) if base_v else None
    rows = check_projects(projects, dltb, cfg, base=base_gdf)
    out: dict[str, Any] = {"register": reg.name, "dataset": dataset, "version": info.version,
                           "base": base_v, "projects": len(projects), "rows": rows,
                           "failed": [r["project"] for r in rows if r["passed"] is False],
                           "config": {"version": cfg.version, "sha256": cfg.sha256}, "xlsx": None}
    if xlsx is not None:
        cols = ["project", "type", "check", "area_m2", "target_m2", "share", "declared_m2", "ratio",
                "passed", "reason"]
        table = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
        table["passed"] = table["passed"].map({True: "通过", False: "不通过"}).fillna("未检查")
        headers = {"project": "项目编号", "type": "项目类型", "check": "检查内容", "area_m2": "项目面积（平方米）",
                   "target_m2": "目标地类面积（平方米）", "share": "占比", "declared_m2": "申报新增耕地（平方米）",
                   "ratio": "实现比例", "passed": "结论", "reason": "说明"}
        sheet = "生态修复项目核查"
        title = f"验收生态修复项目与{dataset} {info.version}" + (f"（基期 {base_v}）" if base_v else "") + "核查"
        path = write_workbook(xlsx, {sheet: table}, headers=headers, titles={sheet: title},
                              number_formats={"area_m2": "#,##0.00", "target_m2": "#,##0.00",
                                              "declared_m2": "#,##0.00", "share": "0.00%",
                                              "ratio": "0.00%"})
        out["xlsx"] = str(path)
    return out
