"""Use case of the 体检/评估 run with the farmland ledgers wired in.

The indicators engine (:mod:`onemap.indicators`) does not read the ledgers itself: its
``ledger`` formula kind asks a provider, built here from the 占补平衡 accounts
(:func:`onemap.app.ledgers.accounts`) and the 进出平衡 view
(:func:`onemap.app.ledgers.farmland_in_out`). Rules: ``shared/domain/ledgers.md`` §1
(three measures 数量/水田/产能 must all stay ≥ 0; 进出平衡: 流入 ≥ 流出 per county and year).
A workspace without the records gets ``missing`` (no data), never a 平衡.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onemap.app.ledgers import accounts, farmland_in_out
from onemap.indicators import run_assessment as _run
from onemap.store.base import Store
from onemap.util import version_year

#: The land-use dataset the 进出平衡 view compares year over year.
DLTB = "DLTB"


def _m2(v: float) -> str:
    return f"{v:,.2f}"


def farmland_balance_figures(store: Store) -> dict[str, Any]:
    """Per county: how many of the three account measures are below zero, and which.

    Returns
    -------
    dict
        ``counties`` (code → ``value`` = number of short measures, ``note``), ``source``,
        ``version``; or ``missing`` when the workspace has no account entries.
    """
    got = accounts(store)
    if not got["accounts"]:
        return {"missing": "没有耕地占补平衡账户流水（补充耕地项目尚未入库）"}
    per: dict[str, list[dict[str, Any]]] = {}
    for row in got["accounts"]:
        per.setdefault(str(row["county"]), []).append(row)
    counties: dict[str, dict[str, Any]] = {}
    for county, rows in per.items():
        short = [r for r in rows if r["balance"] < 0]
        if short:
            note = "不平衡：" + "；".join(f"{r['measure']}余额 {_m2(r['balance'])} {r['unit']}" for r in short)
        else:
            note = "平衡：" + "、".join(f"{r['measure']}余额 {_m2(r['balance'])} {r['unit']}" for r in rows)
        counties[county] = {"value": float(len(short)), "note": note + "（账户截至评估时）"}
    return {"counties": counties, "source": "耕地占补平衡指标账户", "version": got["config"]["version"],
            "absent": "该县没有耕地占补平衡账户流水"}


def in_out_figures(store: Store, year: int) -> dict[str, Any]:
    """Per county: the 进出平衡 shortfall of ``year`` (DLTB of the year before → of the year).

    Returns
    -------
    dict
        ``counties`` (code → ``value`` = 流出 − 流入 when positive, m², ``note``), ``default``
        (counties without any flow: 0, 平衡), ``source``, ``version``; or ``missing`` when the
        two DLTB versions are not both in the workspace.
    """
    labels = {}
    for d in store.datasets():
        if d.name == DLTB:
            labels = {version_year(v.version): v.version for v in d.versions}
    before, after = labels.get(year - 1), labels.get(year)
    if before is None or after is None:
        return {"missing": f"没有 {year - 1} 年和 {year} 年两期地类图斑（DLTB），无法计算进出平衡"}
    got = farmland_in_out(store, before, after)
    counties = {}
    for u in got["units"]:
        if u["shortfall_m2"] > 0:
            note = (f"不平衡：流出 {_m2(u['outflow_m2'])} 平方米，流入 {_m2(u['inflow_m2'])} 平方米，"
                    f"缺口 {_m2(u['shortfall_m2'])} 平方米")
        else:
            note = f"平衡：流出 {_m2(u['outflow_m2'])} 平方米，流入 {_m2(u['inflow_m2'])} 平方米"
        counties[str(u["unit"])] = {"value": float(u["shortfall_m2"]), "note": note}
    return {"counties": counties, "default": {"value": 0.0, "note": "平衡：当年没有耕地与其他农用地互转"},
            "source": f"{DLTB} {before}→{after} 耕地进出", "version": got["config"]["version"]}


def ledger_provider(store: Store) -> Callable[[str, int], dict[str, Any]]:
    """The ``ledger(measure, year)`` callable of the indicators engine for this workspace."""

    def provide(measure: str, year: int) -> dict[str, Any]:
        if measure == "farmland_balance":
            return farmland_balance_figures(store)
        if measure == "in_out":
            return in_out_figures(store, year)
        raise ValueError(f"未知的台账指标口径：{measure}")

    return provide


def run_assessment(store: Store, **kwargs: Any) -> dict[str, Any]:
    """:func:`onemap.indicators.run_assessment` with the farmland ledgers as the ``ledger`` provider."""
    return _run(store, ledger=ledger_provider(store), **kwargs)
