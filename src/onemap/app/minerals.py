"""Use cases of the 矿产资源 part: mining rights against the control lines.

The rights are the 矿业权 register's records (:mod:`onemap.app.ledgers`), the
layers the workspace's latest versions of the datasets listed in
``ledgers/data/minerals.yaml``; the overlay is :func:`onemap.ledgers.minerals.conflicts`.
Nothing is written to the workspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from onemap.ledgers.minerals import LayerPolygons, block_findings, conflicts, load_minerals
from onemap.ledgers.schema import load_register
from onemap.reports.xlsx import write_workbook
from onemap.store import ledgers as tables
from onemap.store.base import Store


def _rights(store: Store, register: str, skip: list[str]) -> list[tuple[str, dict[str, Any], Any]]:
    """(number, values, geometry) of the register's records with a geometry, in import order."""
    return tables.geometry_records(store.sql_engine(), register, skip_states=skip)


def mining_conflicts(store: Store, *, xlsx: str | Path | None = None) -> dict[str, Any]:
    """Every 矿业权 against 生态保护红线, 自然保护地 (by 功能分区), 永久基本农田 and 城镇开发边界.

    Parameters
    ----------
    store : Store
        The workspace.
    xlsx : str or Path, optional
        Also write the rows to this workbook.

    Returns
    -------
    dict
        ``rights`` (count checked), ``rows`` (``right`` 许可证号, ``name`` 矿山名称,
        ``layer``, ``title``, ``area_m2``, ``share``, ``right_area_m2``, ``zones``
        for 自然保护地; rows of layer ``GHQK`` carry ``finding`` outside_block / other_mineral,
        ``blocks`` and ``message``: :func:`onemap.ledgers.minerals.block_findings`),
        ``missing`` (layers, or the 规划区块 register, not in the workspace: not checked),
        ``sources`` (dataset → version), ``config``, ``xlsx``.
    """
    cfg = load_minerals()
    reg = load_register(cfg.rights_register)
    rights = _rights(store, reg.name, cfg.skip_states)
    have = {d.name: d.latest.version for d in store.datasets() if d.versions}
    layers = []
    for layer in cfg.layers:
        if layer.dataset not in have:
            layers.append(LayerPolygons(layer, None))
            continue
        gdf = store.read(layer.dataset)
        groups = None
        if layer.group_field:
            groups = (gdf[layer.group_field].fillna("未填").astype(str).tolist()
                      if layer.group_field in gdf.columns else ["未填"] * len(gdf))
        layers.append(LayerPolygons(layer, gdf.geometry.values, groups))
    got = conflicts([r[0] for r in rights], [r[2] for r in rights], layers)
    names = {no: str(v.get("KSMC", "")) for no, v, _ in rights}
    rows = [{"right": r["right"], "name": names.get(r["right"], ""), **{k: v for k, v in r.items()
                                                                     if k != "right"}}
            for r in got["rows"]]
    missing = list(got["missing"])
    if cfg.blocks_register:
        blocks = _rights(store, cfg.blocks_register, cfg.block_skip_states)
        if blocks:
            found = block_findings(cfg, [(no, v.get("KZ"), g) for no, v, g in rights],
                                   [(no, v.get("KZ"), g) for no, v, g in blocks])
            rows += [{"right": r["right"], "name": names.get(r["right"], ""),
                      **{k: v for k, v in r.items() if k != "right"}} for r in found]
        else:
            missing.append({"layer": cfg.blocks_register, "title": "规划区块"})
    out: dict[str, Any] = {
        "register": reg.name, "rights": len(rights), "rows": rows, "missing": missing,
        "sources": {lp.layer.dataset: have[lp.layer.dataset] for lp in layers if lp.geometry is not None},
        "config": {"version": cfg.version, "sha256": cfg.sha256}, "xlsx": None}
    if xlsx is not None:
        table = pd.DataFrame(
            [{**{k: r[k] for k in ("right", "name", "title", "area_m2", "share", "right_area_m2")},
              "zones": "；".join(f"{z} {a:,.2f}" for z, a in r.get("zones", {}).items()) or r.get("message", "")}
             for r in rows],
            columns=["right", "name", "title", "area_m2", "share", "right_area_m2", "zones"])
        headers = {"right": "许可证号", "name": "矿山名称", "title": "冲突图层", "area_m2": "重叠面积（平方米）",
                   "share": "占矿业权面积比例", "right_area_m2": "矿业权面积（平方米）",
                   "zones": "按功能分区（平方米）/ 说明"}
        note = "；".join(f"{m['title']}（{m['layer']}）未入库，未检查" for m in missing)
        title = "矿业权与三条控制线、自然保护地冲突" + (f"（{note}）" if note else "")
        path = write_workbook(xlsx, {"矿业权冲突": table}, headers=headers, titles={"矿业权冲突": title},
                              number_formats={"area_m2": "#,##0.00", "right_area_m2": "#,##0.00",
                                              "share": "0.00%"})
        out["xlsx"] = str(path)
    return out
