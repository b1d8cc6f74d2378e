"""Monitoring use cases, one function per CLI verb / API endpoint, each returning JSON-ready dicts.

=====================  ==============================================================
``run_changes``        变化图斑 between two versions of a dataset → dataset BHTB
``run_monitoring``     监测图斑 (JCBH/QSX/HSX/TBLX) → the same change-patch form → BHTB
``judge_changes``      judge a stored change set against the approval layers → verdicts
``open_cases``         open (下发) a case for every suspected patch of a judging
``case_transition``    apply one lifecycle action to a case (audit-logged)
``case_detail``        one case with events and evidence
``list_cases``         cases by county / state / year, or only overdue ones
``case_flow``          the lifecycle definition (states, actions, required fields)
``audit_verify``       prove the audit chain intact or name the first broken row
``audit_log``          read audit rows
``accountability``     违法占用耕地 ratio per county and year (+ XLSX)
=====================  ==============================================================

Everything is read through the :class:`~onemap.store.base.Store`; relational
records go through ``store.sql_engine()`` (SQLAlchemy Core, portable SQL).
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from sqlalchemy import func, insert, select

from onemap.errors import InputError, WorkspaceError
from onemap.monitor import accountability as acc
from onemap.monitor import cases as case_mod
from onemap.monitor.changes import CHANGE_COLUMNS, ChangeResult, change_totals, detect_changes
from onemap.monitor.flow import flow_table, update_package
from onemap.monitor.judge import ApprovalSource, judge, load_approval_config
from onemap.monitor.monitoring import monitoring_changes, normalize_date
from onemap.monitor.rules import load_rules
from onemap.reports.official_sheets import accountability_sheets, flow_sheets
from onemap.reports.xlsx import write_official_workbook
from onemap.services import report_filing, workspace_unit_names
from onemap.store import audit, integrity
from onemap.store import cases as tables
from onemap.store.base import Store, VersionInfo, VersionInput, VersionMeta
from onemap.store.catalog import dumps, now_iso
from onemap.util import version_year as _year_of

#: Dataset holding change sets (one version per comparison).
CHANGESET_DATASET = "BHTB"
#: Dataset holding judged change sets (one version per judging run).
JUDGED_DATASET = "BHTBPD"
#: Control layers read for the change flags.
#: The 自然保护地 layer whose 功能分区 the judging reads.
ZONES_DATASET = "ZRBHD"

DEFAULT_CONTROLS = ("YJJBNTTB", "STBHHX", "CZKFBJ", "CJDCQ", "XZQ")

_TITLES = {CHANGESET_DATASET: "变化图斑", JUDGED_DATASET: "变化图斑判定结果"}


# ---------------------------------------------------------------------------- helpers
def _jsonable(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | np.ndarray):
        return [_jsonable(x) for x in v]
    if isinstance(v, pd.Timestamp | date | datetime):
        return v.isoformat()
    return v


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a (Geo)DataFrame as JSON-ready dicts, without geometry."""
    cols = [c for c in (columns or list(frame.columns))
            if c in frame.columns and c != getattr(frame, "_geometry_column_name", None)
            and c != "geometry"]
    df = pd.DataFrame(frame[cols])
    return [{k: _jsonable(v) for k, v in rec.items()} for rec in df.to_dict("records")]


def _have(store: Store) -> dict[str, Any]:
    return {d.name: d for d in store.datasets() if d.versions}


def _version_entry(info: VersionInfo, role: str, title: str = "") -> dict[str, Any]:
    return {"layer": info.dataset, "title": title or info.dataset, "role": role,
            "dataset": info.dataset, "version": info.version, "version_id": info.id,
            "created_at": info.created_at, "status": "used"}


def _read_controls(store: Store, names: tuple[str, ...] | list[str],
                   ) -> tuple[dict[str, gpd.GeoDataFrame], list[dict[str, Any]]]:
    have = _have(store)
    layers, consulted = {}, []
    for name in names:
        if name not in have:
            consulted.append({"layer": name, "role": "control", "status": "missing",
                              "dataset": name, "version": "", "created_at": ""})
            continue
        info = store.version(name)
        layers[name] = store.read(name, info.version)
        consulted.append(_version_entry(info, "control", have[name].title))
    return layers, consulted


def _change_date(label: str) -> str:
    text = str(label)
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-12-31"
    return normalize_date(text) if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", text) else ""


def _for_layer(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    for c in out.columns:
        if c == out.geometry.name:
            continue
        if out[c].dtype == object and len(out) and any(
                isinstance(v, dict | list) for v in out[c].head(50)):
            out[c] = [dumps(v) for v in out[c]]
        elif str(out[c].dtype) == "Int64":
            out[c] = out[c].astype("float64")
    return out


def _write_gpkg(path: str | Path, layers: dict[str, gpd.GeoDataFrame], store: Store) -> str:
    out = Path(path).expanduser().resolve()
    if str(out) == str(Path(store.location).resolve()):
        raise InputError("导出文件不能是工作空间本身")
    if out.exists():
        raise InputError(f"导出文件已存在：{out}（不会覆盖，请换一个文件名）")
    out.parent.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        if len(gdf) == 0:
            continue
        pyogrio.write_dataframe(_for_layer(gdf), out, layer=name, driver="GPKG",
                                promote_to_multi=True)
    return str(out)


def _inputs(consulted: list[dict[str, Any]]) -> list[VersionInput]:
    """The catalogued versions among the layers consulted (the lineage of a derived set)."""
    return [VersionInput(c["dataset"], c["version"], c.get("role", "")) for c in consulted
            if c.get("status") == "used" and c.get("dataset") and c.get("version")]


def _save_version(store: Store, dataset: str, version: str, gdf: gpd.GeoDataFrame,
                  notes: dict[str, Any], actor: str, digest_parts: list[str],
                  inputs: list[VersionInput]) -> dict[str, Any]:
    have = _have(store)
    if dataset in have and any(v.version == version for v in have[dataset].versions):
        info = store.version(dataset, version)
        return {"dataset": dataset, "version": version, "version_id": info.id,
                "saved": False, "existing": True}
    if len(gdf) == 0:
        return {"dataset": dataset, "version": version, "saved": False, "existing": False,
                "reason": "没有图斑，未写入"}
    digest = hashlib.sha256("\n".join(digest_parts).encode()).hexdigest()
    info = store.write_version(
        dataset, version, _for_layer(gdf),
        VersionMeta(source_file="", source_checksum=digest, source_crs="EPSG:4490",
                    created_by=actor or "onemap monitor",
                    area_totals={"area_m2": round(float(gdf["area_m2"].sum()), 2)},
                    notes=_jsonable(notes), inputs=inputs),
        title=_TITLES.get(dataset, dataset), kind="vector")
    return {"dataset": dataset, "version": version, "version_id": info.id, "saved": True,
            "existing": False}


def _changes_json(result_changes: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    cols = CHANGE_COLUMNS + [c for c in ("jcbh", "qsx", "hsx") if c in result_changes.columns]
    return records(result_changes, cols)


# ---------------------------------------------------------------------------- changes
def _pick_versions(store: Store, dataset: str, v_from: str | None, v_to: str | None):
    """(dataset info, older version, newer version); default: the two latest."""
    ds = next((d for d in store.datasets() if d.name == dataset), None)
    if ds is None or len(ds.versions) < 2:
        raise WorkspaceError(f"数据集 {dataset} 至少需要两个版本才能比较")
    labels = [v.version for v in ds.versions]
    if v_to is None:
        v_to = labels[-1]
    if v_from is None:
        prior = [x for x in labels if x != str(v_to)]
        v_from = prior[-1] if prior else labels[0]
    info_a, info_b = store.version(dataset, v_from), store.version(dataset, v_to)
    if info_a.id == info_b.id:
        raise InputError("比较的两个版本相同")
    return ds, info_a, info_b


def run_changes(
    store: Store,
    dataset: str = "DLTB",
    v_from: str | None = None,
    v_to: str | None = None,
    *,
    gpkg: str | Path | None = None,
    save: bool = True,
    controls: tuple[str, ...] | list[str] = DEFAULT_CONTROLS,
    min_area_m2: float = 1.0,
    min_width_m: float = 0.2,
    actor: str = "",
    rows: bool = True,
) -> dict[str, Any]:
    """Change patches between two versions of a dataset (``onemap changes``).

    Parameters
    ----------
    store : Store
        Workspace.
    dataset : str
        Land-class dataset, default ``DLTB``.
    v_from, v_to : str
        Versions to compare (default: the two latest).
    gpkg : path, optional
        Also export layers ``changes``, ``attribute_edits``, ``redraws`` to this
        new GeoPackage.
    save : bool
        Store the change patches as dataset ``BHTB`` version ``<from>-<to>``
        (reused when it already exists).
    controls : sequence of str
        Control layers read from the workspace (latest versions) when present.
    min_area_m2, min_width_m : float
        Sliver thresholds (see :func:`~onemap.monitor.changes.detect_changes`).
    actor : str
        Who runs it.
    rows : bool
        Include the row lists (set False for a summary only).

    Returns
    -------
    dict
        ``{"changeset": {dataset, version, version_id, saved, existing},
        "source": {dataset, from, to, from_version_id, to_version_id},
        "consulted": [{layer, role, dataset, version, created_at, status}],
        "summary": {...}, "changes": [row], "attribute_edits": [row],
        "redraws": [row], "gpkg": path | None}``; a change row has ``tbbh``,
        ``before``, ``after``, names, ``area_m2``, ``gd_area_m2``, ``zygd``,
        ``zyst``, ``sfyn``, ``sfhx``, ``in_czkfbj``, ``county``, ``village``,
        ``lon``, ``lat``, … (:data:`~onemap.monitor.changes.CHANGE_COLUMNS`).
    """
    ds, info_a, info_b = _pick_versions(store, dataset, v_from, v_to)
    old, new = store.read(dataset, info_a.version), store.read(dataset, info_b.version)
    ctrl, consulted = _read_controls(store, controls)
    res: ChangeResult = detect_changes(old, new, ctrl, min_area_m2=min_area_m2,
                                       min_width_m=min_width_m,
                                       change_date=_change_date(info_b.version))
    source = {"dataset": dataset, "from": info_a.version, "to": info_b.version,
              "from_version_id": info_a.id, "to_version_id": info_b.id}
    consulted = [_version_entry(info_a, "before", ds.title),
                 _version_entry(info_b, "after", ds.title)] + consulted
    label = (f"{info_a.version}-{info_b.version}" if dataset == "DLTB"
             else f"{dataset}-{info_a.version}-{info_b.version}")
    changeset = {"dataset": CHANGESET_DATASET, "version": label, "saved": False}
    if save:
        notes = {"kind": "versions", "source": source, "consulted": consulted,
                 "year": _year_of(info_b.version),
                 "params": {"min_area_m2": min_area_m2, "min_width_m": min_width_m},
                 "summary": {k: v for k, v in res.summary.items() if k != "by_transition"}}
        changeset = _save_version(store, CHANGESET_DATASET, label, res.changes, notes, actor,
                                  [str(info_a.id), str(info_b.id), info_a.meta.source_checksum,
                                   info_b.meta.source_checksum, dumps(consulted)],
                                  _inputs(consulted))
    out_path = None
    if gpkg:
        out_path = _write_gpkg(gpkg, {"changes": res.changes,
                                      "attribute_edits": res.attribute_edits,
                                      "redraws": res.redraws}, store)
    return {
        "changeset": changeset,
        "source": source,
        "consulted": consulted,
        "summary": _jsonable(res.summary),
        "changes": _changes_json(res.changes) if rows else [],
        "attribute_edits": records(res.attribute_edits) if rows else [],
        "redraws": records(res.redraws) if rows else [],
        "gpkg": out_path,
    }


def change_flow(
    store: Store,
    dataset: str = "DLTB",
    v_from: str | None = None,
    v_to: str | None = None,
    *,
    level: str = "county",
    gpkg: str | Path | None = None,
    xlsx: str | Path | None = None,
    controls: tuple[str, ...] | list[str] = ("CJDCQ", "XZQ"),
    min_area_m2: float = 1.0,
    min_width_m: float = 0.2,
) -> dict[str, Any]:
    """The 土地利用现状变更表 between two versions (``onemap changes --table flow``).

    Parameters
    ----------
    store : Store
        Workspace.
    dataset : str
        Land-class dataset, default ``DLTB``.
    v_from, v_to : str
        Versions (default: the two latest).
    level : {"county", "town", "village"}
        Unit level of the JSON rows (the XLSX matrices are per county).
    gpkg : path, optional
        New GeoPackage with the update layers DLTBGX and GXGC.
    xlsx : path, optional
        The 变更表 and the 三大类 balance as filed.
    controls : sequence of str
        Layers read to locate pieces without a unit code.
    min_area_m2, min_width_m : float
        Sliver thresholds (as ``onemap changes``).

    Returns
    -------
    dict
        ``{"source", "level", "change_area_m2", "rows": [{unit, unit_name, from, from_name,
        to, to_name, area_m2, hectare}], "balance": [{unit, unit_name, three_class,
        increase_m2, decrease_m2, net_m2}], "update": {"DLTBGX": n, "GXGC": n},
        "gpkg": path | None, "xlsx": path | None}``
    """
    ds, info_a, info_b = _pick_versions(store, dataset, v_from, v_to)
    old, new = store.read(dataset, info_a.version), store.read(dataset, info_b.version)
    ctrl, _ = _read_controls(store, controls)
    res = detect_changes(old, new, ctrl, min_area_m2=min_area_m2, min_width_m=min_width_m,
                         change_date=_change_date(info_b.version))
    source = {"dataset": dataset, "from": info_a.version, "to": info_b.version,
              "from_version_id": info_a.id, "to_version_id": info_b.id}
    names = workspace_unit_names(store)
    table = flow_table(res.changes, level=level, unit_names=names, source=source)
    package = update_package(res, new, pd.Index(old["BSM"].astype(str).str.strip()))
    out_gpkg = _write_gpkg(gpkg, package, store) if gpkg else None
    out_xlsx = None
    if xlsx:
        county_table = table if level == "county" else flow_table(
            res.changes, level="county", unit_names=names, source=source)
        filing = report_filing(store)
        sheets = flow_sheets(county_table, filing, region_code=store.settings().get("region", ""),
                             names=names)
        out_xlsx = str(write_official_workbook(xlsx, sheets, filing))
    return {
        "source": source,
        "level": level,
        "change_area_m2": table.change_area_m2,
        "summary_change_area_m2": res.summary["change_area_m2"],
        "rows": table.records(),
        "balance": table.balance_records(),
        "update": {k: len(v) for k, v in package.items()},
        "gpkg": out_gpkg,
        "xlsx": out_xlsx,
    }


def run_monitoring(
    store: Store,
    dataset: str = "JCTB",
    version: str | None = None,
    *,
    base: str | None = "DLTB",
    base_version: str | None = None,
    gpkg: str | Path | None = None,
    save: bool = True,
    controls: tuple[str, ...] | list[str] = DEFAULT_CONTROLS,
    actor: str = "",
    rows: bool = True,
) -> dict[str, Any]:
    """Imported 监测图斑 as change patches (``onemap changes --monitoring``).

    The monitoring layer is first imported like any dataset (``onemap ingest
    WS 监测图斑.shp --dataset JCTB --version 2025-05``). Each patch is cut by the
    base DLTB version (default: the latest version whose year is before the
    patches' HSX, else the latest) so every piece has its own 原地类.

    Returns
    -------
    dict
        As :func:`run_changes`; the change set version is ``<dataset>-<version>``
        and change rows also carry ``jcbh``, ``qsx``, ``hsx``.
    """
    info = store.version(dataset, version)
    patches = store.read(dataset, info.version)
    have = _have(store)
    base_gdf, consulted = None, [_version_entry(info, "monitoring", have[dataset].title)]
    if base and base in have:
        if base_version is None:
            hsx = [normalize_date(v) for v in patches.get("HSX", [])]
            years = [int(h[:4]) for h in hsx if h]
            earlier = [v for v in have[base].versions
                       if years and (_year_of(v.version) or 0) < max(years)]
            binfo = earlier[-1] if earlier else have[base].versions[-1]
        else:
            binfo = store.version(base, base_version)
        base_gdf = store.read(base, binfo.version)
        consulted.append(_version_entry(binfo, "before", have[base].title))
    ctrl, cons = _read_controls(store, controls)
    consulted += cons
    changes = monitoring_changes(patches, base_gdf, ctrl)
    hsx_years = [_year_of(h) for h in changes.get("hsx", []) if h]
    year = max(hsx_years) if hsx_years else _year_of(info.version)
    summary = {"monitoring_patches": len(patches), "changes": len(changes),
               "change_area_m2": round(float(changes["area_m2"].sum()), 2),
               **change_totals(changes)}
    label = f"{dataset}-{info.version}"
    source = {"dataset": dataset, "version": info.version, "version_id": info.id}
    changeset = {"dataset": CHANGESET_DATASET, "version": label, "saved": False}
    if save:
        notes = {"kind": "monitoring", "source": source, "consulted": consulted,
                 "year": year, "summary": {k: v for k, v in summary.items()
                                           if k != "by_transition"}}
        changeset = _save_version(store, CHANGESET_DATASET, label, changes, notes, actor,
                                  [str(info.id), info.meta.source_checksum, dumps(consulted)],
                                  _inputs(consulted))
    out_path = _write_gpkg(gpkg, {"changes": changes}, store) if gpkg else None
    return {"changeset": changeset, "source": source, "consulted": consulted,
            "summary": _jsonable(summary),
            "changes": _changes_json(changes) if rows else [],
            "attribute_edits": [], "redraws": [], "gpkg": out_path}


# ---------------------------------------------------------------------------- judging
def judge_changes(
    store: Store,
    changeset: str | None = None,
    *,
    as_of: str | date | None = None,
    rules: str | Path | None = None,
    approvals_config: str | Path | None = None,
    versions: dict[str, str] | None = None,
    gpkg: str | Path | None = None,
    save: bool = True,
    actor: str = "",
    rows: bool = True,
) -> dict[str, Any]:
    """Judge a stored change set (``onemap judge``).

    Parameters
    ----------
    store : Store
        Workspace.
    changeset : str, optional
        Version of dataset ``BHTB`` (e.g. ``"2023-2024"``); default the latest.
    as_of : str or date, optional
        Judging date (default today): approvals dated later are ignored.
    rules, approvals_config : path, optional
        Other rule / approval-layer files than the shipped ones.
    versions : dict, optional
        Approval dataset → version to use (default the latest of each).
    gpkg : path, optional
        Also export the judged patches to this new GeoPackage.
    save : bool
        Record the run (``monitor_judge_runs``/``monitor_judgements``, one
        audit row) and store the judged patches as dataset ``BHTBPD``
        version ``<changeset>-r<run id>``.
    actor : str
        Who judges.
    rows : bool
        Include the patch rows.

    Returns
    -------
    dict
        ``{"run_id": int | None, "changeset": {dataset, version, version_id},
        "as_of": "YYYY-MM-DD", "rules": {path, version, sha256},
        "consulted": [{layer, title, role, dataset, version, created_at, status,
        features?, void?, undated?}], "summary": {patches, by_verdict: {合法|疑似违法|其他:
        {count, area_m2}}, by_rule: [...], by_priority, suspect_area_m2,
        suspect_gd_area_m2, missing_layers}, "patches": [{tbbh, before, after,
        area_m2, gd_area_m2, sfyn, sfhx, in_czkfbj, county, village, lon, lat,
        verdict, rule, rule_name, reason, priority, flags, suspect_area_m2,
        suspect_gd_area_m2, consulted: [{layer, dataset, version, created_at,
        status, hits: [{id, status, area_m2, …}]}]}], "saved": {...}, "gpkg": …}``
    """
    if changeset is None:
        info = store.version(CHANGESET_DATASET)
    else:
        info = store.version(CHANGESET_DATASET, changeset)
    changes = store.read(CHANGESET_DATASET, info.version)
    notes = info.meta.notes or {}
    context = [_version_entry(info, "changeset", _TITLES[CHANGESET_DATASET])]
    context += [c for c in notes.get("consulted", []) if isinstance(c, dict)]
    cfg = load_approval_config(approvals_config)
    rs = load_rules(rules, facts=cfg.fact_names())
    have = _have(store)
    approvals: dict[str, ApprovalSource] = {}
    for name in cfg.layers:
        if name not in have:
            continue
        v = store.version(name, (versions or {}).get(name))
        approvals[name] = ApprovalSource(store.read(name, v.version), dataset=name,
                                         version=v.version, created_at=v.created_at)
    as_of_s = normalize_date(as_of) if as_of else datetime.now(UTC).date().isoformat()
    zones = None
    if ZONES_DATASET in have:
        zinfo = store.version(ZONES_DATASET, (versions or {}).get(ZONES_DATASET))
        zones = store.read(ZONES_DATASET, zinfo.version)
        context.append(_version_entry(zinfo, "control", have[ZONES_DATASET].title))
    else:
        context.append({"layer": ZONES_DATASET, "role": "control", "status": "missing",
                        "dataset": ZONES_DATASET, "version": "", "created_at": ""})
    result = judge(changes, approvals, as_of=as_of_s, rules=rs, config=cfg, context=context,
                   zones=zones)
    patches = result.patches
    approval_entries = [c for c in result.consulted if c.get("role") == "approval"]
    other_entries = [c for c in result.consulted if c.get("role") != "approval"]
    year = notes.get("year") or _year_of(info.version)
    run_id = None
    saved: dict[str, Any] = {"saved": False}
    if save:
        run_id = _record_run(store, info, result, year, actor)
        saved = _save_version(
            store, JUDGED_DATASET, f"{info.version}-r{run_id}",
            patches.assign(run_id=run_id),
            {"run_id": run_id, "changeset": info.version, "as_of": result.as_of,
             "rules_sha256": rs.sha256, "summary": result.summary,
             "consulted": result.consulted},
            actor, [str(run_id), info.version, rs.sha256, result.as_of],
            [VersionInput.of(info, "changeset")]
            + [VersionInput(a.dataset, a.version, "approval") for a in approvals.values()])
    out_path = _write_gpkg(gpkg, {"judged": patches}, store) if gpkg else None
    rows_out: list[dict[str, Any]] = []
    if rows:
        cols = CHANGE_COLUMNS + [c for c in ("jcbh", "qsx", "hsx") if c in patches.columns] + [
            "verdict", "rule", "rule_name", "reason", "priority", "flags",
            "suspect_area_m2", "suspect_gd_area_m2", "eco_zone", "zone_text"]
        base_rows = records(patches, cols)
        for rec, hit in zip(base_rows, patches["hits"], strict=True):
            rec["consulted"] = (
                [{k: c.get(k) for k in ("layer", "role", "dataset", "version", "created_at",
                                        "status")} for c in other_entries]
                + [{**{k: c.get(k) for k in ("layer", "title", "role", "dataset", "version",
                                             "created_at", "status")},
                    "hits": _jsonable(hit.get(c["layer"], []))} for c in approval_entries])
            rows_out.append(rec)
    return {
        "run_id": run_id,
        "changeset": {"dataset": CHANGESET_DATASET, "version": info.version,
                      "version_id": info.id},
        "as_of": result.as_of,
        "year": year,
        "rules": {"path": rs.path, "version": rs.version, "sha256": rs.sha256},
        "consulted": _jsonable(result.consulted),
        "summary": _jsonable(result.summary),
        "patches": rows_out,
        "saved": saved,
        "gpkg": out_path,
        "note": "平台仅记录事实与疑似判定，最终认定由执法人员作出",
    }


def _record_run(store: Store, info: VersionInfo, result, year: int | None, actor: str) -> int:
    engine = store.sql_engine()
    tables.ensure_tables(engine)
    audit.ensure_tables(engine)
    p = result.patches
    with engine.begin() as conn:
        run_id = conn.execute(insert(tables.judge_runs_table).values(
            changeset_dataset=CHANGESET_DATASET, changeset_version=info.version, year=year,
            as_of=result.as_of, rules_version=result.rules.version,
            rules_sha256=result.rules.sha256, consulted=dumps(_jsonable(result.consulted)),
            summary=dumps(_jsonable(result.summary)), created_at=now_iso(),
            created_by=actor or "",
        )).inserted_primary_key[0]
        facts = result.facts
        fact_cols = [c for c in facts.columns if c != "hits_text"]
        rows = []
        for i in range(len(p)):
            pr = p["priority"].iat[i]
            rows.append({
                "run_id": run_id, "tbbh": str(p["tbbh"].iat[i]), "verdict": p["verdict"].iat[i],
                "rule": p["rule"].iat[i], "reason": p["reason"].iat[i],
                "priority": None if pd.isna(pr) else int(pr),
                "before": str(p["before"].iat[i]), "after": str(p["after"].iat[i]),
                "area_m2": float(p["area_m2"].iat[i]),
                "gd_area_m2": float(p["gd_area_m2"].iat[i]),
                "new_construction_gd_m2": float(p["new_construction_gd_m2"].iat[i]),
                "suspect_area_m2": float(p["suspect_area_m2"].iat[i]),
                "suspect_gd_area_m2": float(p["suspect_gd_area_m2"].iat[i]),
                "county": str(p["county"].iat[i] or ""), "village": str(p["village"].iat[i] or ""),
                "lon": _jsonable(p["lon"].iat[i]), "lat": _jsonable(p["lat"].iat[i]),
                "facts": dumps({c: _jsonable(facts[c].iat[i]) for c in fact_cols}),
                "hits": dumps(_jsonable(p["hits"].iat[i])),
            })
        if rows:
            conn.execute(insert(tables.judgements_table), rows)
        audit.append(conn, actor, "judge.run", "judge_run", run_id, None, {
            "changeset": info.version, "as_of": result.as_of,
            "rules_sha256": result.rules.sha256, "summary": _jsonable(result.summary),
            "consulted": _jsonable(result.consulted)})
    return int(run_id)


# ---------------------------------------------------------------------------- cases
def open_cases(
    store: Store,
    *,
    run_id: int | None = None,
    changeset: str | None = None,
    actor: str = "",
    now: datetime | str | None = None,
) -> dict[str, Any]:
    """Open (下发) one case per suspected patch of a judging run (``onemap cases open``).

    Idempotent: a patch that already has a case (same change set and tbbh)
    gets no second one.

    Parameters
    ----------
    store : Store
        Workspace.
    run_id : int, optional
        Judging run; default the latest run of ``changeset`` (or the latest run).
    changeset : str, optional
        Change-set version, used when ``run_id`` is not given.
    actor : str
        Who issues.
    now : datetime or str, optional
        Time of issue; deadlines count from it.

    Returns
    -------
    dict
        ``{"run_id": int, "opened": [case], "already_open": int}``; a case is as
        in :func:`case_detail` without events.
    """
    engine = store.sql_engine()
    tables.ensure_tables(engine)
    audit.ensure_tables(engine)
    flow = case_mod.load_flow()
    r, j, c = tables.judge_runs_table, tables.judgements_table, tables.cases_table
    with engine.begin() as conn:
        # the runs recording 群众举报 (monitor/reports.py) open their cases themselves
        stmt = select(r).where(r.c.changeset_dataset != case_mod.REPORT_SOURCE)
        if run_id is not None:
            stmt = stmt.where(r.c.id == int(run_id))
        elif changeset is not None:
            stmt = stmt.where(r.c.changeset_version == changeset)
        run = conn.execute(stmt.order_by(r.c.id.desc())).first()
        if run is None:
            raise WorkspaceError("没有找到判定结果，请先运行 judge")
        run_d = run._asdict()
        suspects = conn.execute(select(j).where(j.c.run_id == run.id, j.c.verdict == "疑似违法")
                                .order_by(func.coalesce(j.c.priority, 99), j.c.area_m2.desc(),
                                          j.c.id)).all()
        existing = {x.tbbh for x in conn.execute(
            select(c.c.tbbh).where(c.c.changeset_dataset == run.changeset_dataset,
                                   c.c.changeset_version == run.changeset_version))}
        opened = []
        for s in suspects:
            if s.tbbh in existing:
                continue
            opened.append(case_mod.open_case(conn, s._asdict(), run_d, actor=actor or "unknown",
                                             now=now, flow=flow))
    return {"run_id": int(run.id),
            "opened": [_jsonable(case_mod.case_to_dict(o, flow, now)) for o in opened],
            "already_open": len(suspects) - len(opened)}


def case_transition(
    store: Store,
    case_id: int | str,
    action: str,
    actor: str,
    *,
    now: datetime | str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Apply one lifecycle action to a case (``onemap cases ACTION CASE …``).

    Parameters
    ----------
    store : Store
        Workspace.
    case_id : int or str
        Case id or number.
    action : str
        ``evidence`` (officer, date, notes, photos), ``determine``
        (determination 合法/违法/其他, basis, optional illegal_gd_area_m2),
        ``rectify`` (measures, optional deadline), ``prosecute`` (filing_no,
        measures, optional fine_yuan, deadline), ``complete`` (date, notes),
        ``reject`` (notes), ``close`` (approver). See ``case_flow.yaml``.
    actor : str
        Who acts.
    now : datetime or str, optional
        Time of the action.
    **fields
        The action's fields; ``photos=[path | {path, lon, lat, time, note}]``.

    Returns
    -------
    dict
        The case after the action, with ``event`` (id, action, from_state,
        to_state, at, actor, audit_id, fields).

    Raises
    ------
    onemap.monitor.cases.TransitionError
        Forbidden move (e.g. 销号 before 判定), with the allowed actions.
    onemap.errors.InputError
        Missing or invalid fields.
    """
    return _jsonable(case_mod.transition(store.sql_engine(), case_id, action, actor,
                                         fields=fields, now=now))


def case_detail(store: Store, case_id: int | str, *,
                now: datetime | str | None = None) -> dict[str, Any]:
    """One case with its events and evidence (``onemap cases show``).

    Returns
    -------
    dict
        Case columns (``case_no``, ``state``, ``state_title``, ``determination``,
        ``measures``, ``due_at``, ``overdue``, ``overdue_days``,
        ``allowed_actions``, ``data`` …), ``events`` and ``evidence``.
    """
    return _jsonable(case_mod.get_case(store.sql_engine(), case_id, now=now))


def list_cases(
    store: Store,
    county: str | None = None,
    overdue: bool = False,
    *,
    state: str | None = None,
    year: int | None = None,
    now: datetime | str | None = None,
) -> dict[str, Any]:
    """Cases by county / state / year, or only overdue ones (``onemap cases list``).

    Returns
    -------
    dict
        ``{"count": int, "overdue": int, "now": iso, "cases": [case]}``.
    """
    when = case_mod.as_datetime(now)
    cases = case_mod.list_cases(store.sql_engine(), county=county, state=state,
                                overdue=overdue, year=year, now=when)
    return {"count": len(cases), "overdue": sum(1 for c in cases if c["overdue"]),
            "now": when.isoformat(), "cases": _jsonable(cases)}


def case_flow() -> dict[str, Any]:
    """The lifecycle definition: states, actions, required fields (``onemap cases flow``)."""
    return case_mod.load_flow().to_dict()


# ---------------------------------------------------------------------------- audit
def audit_checkpoints(store: Store) -> Path:
    """The workspace's audit checkpoint file (``<name>.audit-checkpoints.jsonl`` beside a GeoPackage)."""
    return store.companion(".audit-checkpoints.jsonl")


def audit_verify(store: Store) -> dict[str, Any]:
    """Check the audit chain, its checkpoints and every record pointing at it (``onemap audit verify``).

    Returns
    -------
    dict
        ``{"ok": bool, "chain_ok": bool, "rows": int, "first_broken": int | None,
        "reason": str, "head_hash": str, "checkpoints": int, "last_checkpoint":
        {seq, hash, at} | None, "problems": [str], "message": str}``. The CLI
        should exit non-zero when ``ok`` is false.
    """
    report = integrity.verify_workspace(store.sql_engine(), audit_checkpoints(store))
    v = report.chain
    d = report.to_dict()
    if not v.ok:
        d["message"] = f"审计日志被篡改：第 {v.first_broken} 行起链条断裂（{v.reason}）"
    elif report.problems:
        d["message"] = (f"审计日志链条完整，但有 {len(report.problems)} 条记录没有对应的审计行："
                        + "；".join(report.problems[:5]))
    else:
        d["message"] = f"审计日志完整：共 {v.rows} 行，末行哈希 {v.head_hash[:16]}…"
    last = v.last_checkpoint
    d["message"] += (f"；最近检查点：第 {last['seq']} 行，{last['at']}" if last
                     else "；尚无检查点")
    return d


def audit_checkpoint(store: Store) -> dict[str, Any]:
    """Append the audit head to the checkpoint file when the log is intact (``onemap audit checkpoint``).

    Returns
    -------
    dict
        As :func:`audit_verify` (``last_checkpoint`` is the newest after the call).

    The file is :meth:`Store.companion` ``(".audit-checkpoints.jsonl")``: beside a
    GeoPackage, in the files folder of a PostGIS workspace (made when missing).
    """
    path = audit_checkpoints(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    audit.write_checkpoint(store.sql_engine(), path)
    return audit_verify(store)


def audit_log(store: Store, *, entity: str | None = None, entity_id: str | None = None,
              limit: int | None = None) -> dict[str, Any]:
    """Audit rows, oldest first (``onemap audit log``).

    Returns
    -------
    dict
        ``{"count": int, "entries": [{id, at, actor, action, entity, entity_id,
        before, after, prev_hash, hash}]}``.
    """
    rows = audit.entries(store.sql_engine(), entity=entity, entity_id=entity_id, limit=limit)
    return {"count": len(rows), "entries": [_jsonable(r.to_dict()) for r in rows]}


# ---------------------------------------------------------------------------- accountability
def accountability(
    store: Store,
    year: int,
    *,
    xlsx: str | Path | None = None,
    threshold: float | None = None,
    now: datetime | str | None = None,
) -> dict[str, Any]:
    """违法占用耕地 statistics per county for one year (``onemap accountability``).

    Uses the latest judging run of every change set of that year and the cases
    of those change sets.

    Parameters
    ----------
    store : Store
        Workspace.
    year : int
        Year (of the change set: the newer version / HSX).
    xlsx : path, optional
        Also write an XLSX workbook (sheets 问责统计, 案件明细).
    threshold : float, optional
        Overrides ``accountability.yaml`` (e.g. 0.15).
    now : datetime or str, optional
        For the overdue counts.

    Returns
    -------
    dict
        ``{"year", "threshold", "sources": [{run_id, changeset, as_of}],
        "rows": [{county, county_name, year, new_construction_gd_m2,
        new_construction_gd_mu, illegal_gd_m2, illegal_gd_mu, ratio,
        pending_gd_m2, ratio_if_pending_illegal, threshold, flagged, level,
        cases, cases_illegal, cases_pending, cases_overdue}],
        "flagged": [county], "xlsx": path | None}``
    """
    engine = store.sql_engine()
    tables.ensure_tables(engine)
    r, j = tables.judge_runs_table, tables.judgements_table
    with engine.connect() as conn:
        # 群众举报 runs (monitor/reports.py) hold no change patches: not a source of the ratio
        runs = conn.execute(select(r).where(r.c.year == int(year),
                                            r.c.changeset_dataset != case_mod.REPORT_SOURCE)
                            .order_by(r.c.id)).all()
        latest: dict[str, Any] = {}
        for run in runs:
            latest[run.changeset_version] = run
        ids = [x.id for x in latest.values()]
        jrows = conn.execute(select(j.c.county, j.c.new_construction_gd_m2)
                             .where(j.c.run_id.in_(ids))).all() if ids else []
    judged = pd.DataFrame([x._asdict() for x in jrows],
                          columns=["county", "new_construction_gd_m2"])
    cases = [c for c in case_mod.list_cases(engine, year=int(year), now=now)
             if c["changeset_version"] in latest]
    cdf = pd.DataFrame(cases) if cases else pd.DataFrame()
    th = acc.load_thresholds()
    if threshold is not None:
        th = acc.Thresholds(float(threshold), th.version)
    try:
        names = workspace_unit_names(store)
    except Exception:  # noqa: BLE001 - names are a nicety; figures do not depend on them
        names = {}
    table = acc.accountability_table(judged, cdf, year=int(year), thresholds=th,
                                     unit_names=names)
    out_path = None
    if xlsx:
        filing = report_filing(store)
        rule_names = {r.id: r.name for r in load_rules().rules}
        sheets = accountability_sheets(table, cdf, filing, year=int(year), threshold=th.threshold,
                                       rule_names=rule_names, names=names,
                                       region_code=store.settings().get("region", ""))
        out_path = str(write_official_workbook(xlsx, sheets, filing))
    rows = acc.rows_to_json(table)
    return {
        "year": int(year),
        "threshold": th.threshold,
        "sources": [{"run_id": x.id, "changeset": x.changeset_version, "as_of": x.as_of}
                    for x in latest.values()],
        "rows": rows,
        "flagged": [x["county"] for x in rows if x["flagged"]],
        "xlsx": out_path,
    }
