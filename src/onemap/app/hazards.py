"""Use cases of the 地质灾害 part: the yearly report of the 隐患点 register.

The points are the records of the register named in ``ledgers/data/hazards.yaml``
(imported, inspected and 销号 through :mod:`onemap.app.ledgers`); the counts
are :func:`onemap.ledgers.hazards.summarize`. Nothing is written to the workspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from onemap.app.ledgers import list_records
from onemap.ledgers.hazards import load_hazards, summarize
from onemap.ledgers.schema import load_register
from onemap.monitor.cases import as_datetime
from onemap.reports.xlsx import write_workbook
from onemap.store.base import Store


def hazard_report(store: Store, *, year: int | None = None, now: str | None = None,
                  xlsx: str | Path | None = None) -> dict[str, Any]:
    """Points 在册 by county, type and 险情等级; inspections due and overdue; 销号 in the year.

    Parameters
    ----------
    store : Store
        The workspace.
    year : int, optional
        Year of the 销号 count (default: the year of ``now``).
    now : str, optional
        The date the inspection deadlines are judged at (default now).
    xlsx : str or Path, optional
        Also write the report to this workbook.

    Returns
    -------
    dict
        ``register``, ``year``, ``at``, and the keys of :func:`summarize`
        (``closed_count`` is the 经过治理的地质灾害隐患点数量 of the year), ``xlsx``.
    """
    cfg = load_hazards()
    reg = load_register(cfg.points_register)
    when = as_datetime(now)
    year = year or when.year
    listing = list_records(store, reg.name, now=when)
    closed = next(k for k, s in reg.flow.states.items() if s.final and k != reg.flow.initial)
    got = summarize(listing["records"], year, active=reg.flow.initial, closed=closed)
    out: dict[str, Any] = {"register": reg.name, "title": reg.title, "year": year,
                           "at": when.date().isoformat(), **got,
                           "config": {"version": cfg.version, "sha256": cfg.sha256}, "xlsx": None}
    if xlsx is not None:
        counts = pd.DataFrame(got["rows"], columns=["county", "type", "grade", "count"])
        due = pd.DataFrame([{**r, "status": "即将到期"} for r in got["due"]]
                           + [{**r, "status": "已逾期"} for r in got["overdue"]],
                           columns=["no", "name", "county", "due_at", "status"])
        closed_df = pd.DataFrame(got["closed_in_year"], columns=["no", "name", "county", "date", "reason"])
        headers = {"county": "行政区", "type": "灾害类型", "grade": "险情等级", "count": "隐患点数",
                   "no": "统一编号", "name": "名称", "due_at": "巡查到期", "status": "期限",
                   "date": "销号日期", "reason": "销号原因"}
        titles = {"在册隐患点": f"在册地质灾害隐患点 {got['active']} 处（{out['at']}）",
                  "巡查到期": f"巡查即将到期 {len(got['due'])} 处、已逾期 {len(got['overdue'])} 处",
                  "年度销号": f"{year} 年销号 {got['closed_count']} 处"}
        path = write_workbook(xlsx, {"在册隐患点": counts, "巡查到期": due, "年度销号": closed_df},
                              headers=headers, titles=titles)
        out["xlsx"] = str(path)
    return out
