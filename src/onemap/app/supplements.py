"""The ``onemap farmland supplements`` use case: is the supplemented 耕地 still there, and allowed?

Reads the 补充耕地项目 records in an accepted state with a geometry, every DLTB version (clipped to
the projects' bounds), the latest 生态保护红线 (and 河湖 layer when ``supplements.yaml`` names one)
and hands them to :func:`onemap.ledgers.supplements.check_supplements`. Nothing is written.
"""

from __future__ import annotations

from typing import Any

import shapely

from onemap.errors import InputError, Problem
from onemap.ledgers.schema import load_register
from onemap.ledgers.supplements import LandVersion, check_supplements, load_supplements
from onemap.store import ledgers as tables
from onemap.store.base import Store
from onemap.util.labels import version_year


def check_supplemented(store: Store, *, base: str | None = None, dataset: str = "DLTB") -> dict[str, Any]:
    """Check every accepted 补充耕地项目 against the DLTB versions and the protected layers.

    Parameters
    ----------
    store : Store
        The workspace.
    base : str, optional
        The DLTB version whose 河湖 classes new 耕地 must not lie on (default the oldest version).
    dataset : str
        The land-use dataset.

    Returns
    -------
    dict
        ``projects`` (count checked), ``no_geometry`` (projects without a drawing: not checked),
        ``findings`` (:func:`check_supplements`; a version is checked for a project only from
        the year of its 验收日期), ``by_rule``, ``sources``, ``skipped``, ``config``.
    """
    cfg = load_supplements()
    reg = load_register(cfg.register_name)
    engine = store.sql_engine()
    recs = tables.geometry_records(engine, reg.name, states=cfg.states, require_geometry=False)
    have = {d.name: d for d in store.datasets() if d.versions}
    if dataset not in have:
        raise InputError(f"工作空间中没有 {dataset}，无法检查补充耕地",
                         [Problem("missing_dataset", f"没有 {dataset}", field="dataset")])
    versions = [v.version for v in have[dataset].versions]
    if base is not None and base not in versions:
        raise InputError(f"{dataset} 没有版本 {base}（可选：{'、'.join(versions)}）",
                         [Problem("unknown_version", f"没有版本 {base}", field="base")])
    projects = [(no, str(v.get(reg.county, "")), g) for no, v, g in recs if g is not None and not g.is_empty]
    accepted_year = {no: version_year(v.get("YSRQ")) for no, v, _ in recs}
    bbox = tuple(float(x) for x in shapely.total_bounds([g for *_, g in projects])) if projects else None
    skipped: list[str] = []
    sources: dict[str, str] = {}
    findings: list[dict[str, Any]] = []
    if projects:
        lands = []
        for label in versions:
            gdf = store.read(dataset, label, bbox=bbox)
            lands.append(LandVersion(label, gdf.geometry.values, gdf["DLBM"].astype(str).tolist(),
                                     gdf["GDPDJB"].fillna("").astype(str).tolist()
                                     if "GDPDJB" in gdf.columns else None))
        base_label = base or versions[0]
        base_land = next(x for x in lands if x.label == base_label)
        sources[dataset] = "、".join(versions)
        protected = water = None
        for name, attr in ((cfg.protected_layer, "protected"), (cfg.water_layer, "water")):
            if not name:
                continue
            if name in have:
                geoms = store.read(name, bbox=bbox).geometry.values
                sources[name] = have[name].latest.version
                if attr == "protected":
                    protected = geoms
                else:
                    water = geoms
            else:
                skipped.append(f"{name} 未入库，未检查")
        # each project against the versions from its acceptance year on
        for no, county, g in projects:
            year = accepted_year.get(no)
            later = [x for x in lands if year is None or (version_year(x.label) or 0) >= year]
            findings += check_supplements(cfg, [(no, county, g)], later, base=base_land,
                                          protected=protected, water=water)
    by_rule: dict[str, int] = {}
    for f in findings:
        by_rule[f["rule_title"]] = by_rule.get(f["rule_title"], 0) + 1
    return {"register": reg.name, "projects": len(projects),
            "no_geometry": [no for no, _, g in recs if g is None or g.is_empty], "findings": findings,
            "by_rule": by_rule, "sources": sources, "skipped": skipped,
            "config": {"version": cfg.version, "sha256": cfg.sha256}}
