"""Judging change patches against the approvals the bureau holds (合法性判定).

Each change patch is overlaid with every approval layer of
``approval_layers.yaml`` (农转用/征收批次 NZYPC, 供地 GD, 设施农用地 SSNYD,
临时用地 LSYD, 宅基地 ZJD, …). The overlay yields *facts* — which share of the
patch lies inside approvals valid at the change date (``cover_X``), inside
approvals granted only later (``late_X``, 先建后批), inside expired ones
(``expired_X``) — next to the facts of the patch itself (原地类/现地类 flags,
SFYN, SFHX, 城镇开发边界). The rule set (:mod:`onemap.monitor.rules`) turns the
facts into 合法 / 疑似违法 / 其他 with a reason and a priority. Every verdict
lists every layer consulted with its dataset version and date, and the
approvals hit. The platform records facts; an officer decides (see
:mod:`onemap.monitor.cases`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onemap.analysis.overlay import intersect_pieces
from onemap.errors import InputError
from onemap.geo.area import ellipsoidal_area
from onemap.monitor import _data
from onemap.monitor.changes import _geoms, _valid
from onemap.monitor.classes import FLAG_COLUMNS
from onemap.monitor.ecozones import ZONE_FACTS, zone_facts
from onemap.monitor.monitoring import normalize_date
from onemap.monitor.rules import RuleSet, format_reason, load_rules

#: Facts every patch has, whatever the approval layers.
BASE_FACTS = (
    ["before", "after", "code_system", "before_name", "after_name",
     "sfyn", "sfhx", "in_czkfbj", "area_m2", "gd_area_m2", "yn_area_m2", "hx_area_m2",
     "hits_text"]
    + [f"before_{c}" for c in FLAG_COLUMNS] + [f"after_{c}" for c in FLAG_COLUMNS]
)


# ---------------------------------------------------------------------------- configuration
class StatusSpec(BaseModel):
    """Which rows of an approval layer are void."""

    model_config = ConfigDict(extra="forbid")
    field: str
    invalid: list[str] = Field(default_factory=list)


class LayerSpec(BaseModel):
    """One approval layer of ``approval_layers.yaml``."""

    model_config = ConfigDict(extra="forbid")
    title: str
    id_field: str
    approved_on: str | None = None
    expires_on: str | None = None
    status: StatusSpec | None = None
    attributes: list[str] = Field(default_factory=list)


class SubsetSpec(BaseModel):
    """A layer filtered by attribute values."""

    model_config = ConfigDict(extra="forbid")
    title: str
    from_: str = Field(alias="from")
    where: dict[str, list[str]]


class GroupSpec(BaseModel):
    """A union of layers."""

    model_config = ConfigDict(extra="forbid")
    title: str
    layers: list[str]


@dataclass
class ApprovalConfig:
    """The approval layers, subsets and groups, with the file's version and hash."""

    layers: dict[str, LayerSpec]
    subsets: dict[str, SubsetSpec]
    groups: dict[str, GroupSpec]
    version: str = ""
    sha256: str = ""
    path: str = ""

    @property
    def names(self) -> list[str]:
        """Every name a fact can be about: layers, subsets, groups."""
        return [*self.layers, *self.subsets, *self.groups]

    def fact_names(self) -> set[str]:
        """Every fact the judge computes with this configuration."""
        out = set(BASE_FACTS) | set(ZONE_FACTS)
        for x in self.names:
            out |= {f"cover_{x}", f"late_{x}", f"any_{x}", f"expired_{x}", f"outside_{x}_m2"}
        return out

    def title(self, name: str) -> str:
        """Chinese title of a layer, subset or group."""
        for table in (self.layers, self.subsets, self.groups):
            if name in table:
                return table[name].title
        return name


@lru_cache(maxsize=8)
def _load_config(key: tuple[str, int]) -> ApprovalConfig:
    path = Path(key[0])
    data, sha = _data.read_yaml(path)
    parts: dict[str, dict] = {}
    for section, model in (("layers", LayerSpec), ("subsets", SubsetSpec),
                           ("groups", GroupSpec)):
        parts[section] = {}
        for name, spec in (data.get(section) or {}).items():
            try:
                parts[section][str(name)] = model.model_validate(spec)
            except ValidationError as exc:
                raise _data.fail(path, f"{section}.{name}", _data.explain(exc)) from exc
    layers = parts["layers"]
    if not layers:
        raise _data.fail(path, None, "layers 不能为空")
    for name, s in parts["subsets"].items():
        if s.from_ not in layers:
            raise _data.fail(path, f"subsets.{name}", f"from 引用了未定义的图层 {s.from_}")
    for name, g in parts["groups"].items():
        bad = [x for x in g.layers if x not in layers and x not in parts["subsets"]]
        if bad:
            raise _data.fail(path, f"groups.{name}", f"引用了未定义的图层 {', '.join(bad)}")
    names = [*layers, *parts["subsets"], *parts["groups"]]
    if len(set(names)) != len(names):
        raise _data.fail(path, None, "图层、子集、分组名称不得重复")
    return ApprovalConfig(layers, parts["subsets"], parts["groups"],
                          version=str(data.get("version", "")), sha256=sha, path=str(path))


def load_approval_config(path: str | Path | None = None) -> ApprovalConfig:
    """Load ``approval_layers.yaml`` (the shipped file, an override, or ``path``)."""
    p = _data.resolve("approval_layers.yaml", path)
    return _load_config((str(p), p.stat().st_mtime_ns))


# ---------------------------------------------------------------------------- inputs
@dataclass
class ApprovalSource:
    """One approval layer version handed to the judge.

    Attributes
    ----------
    gdf : geopandas.GeoDataFrame
        The approvals (EPSG:4490).
    dataset, version, created_at : str
        Where they come from (recorded with every verdict).
    """

    gdf: gpd.GeoDataFrame
    dataset: str = ""
    version: str = ""
    created_at: str = ""


@dataclass
class JudgeResult:
    """Verdicts of a change set.

    Attributes
    ----------
    patches : geopandas.GeoDataFrame
        The change patches plus ``verdict``, ``rule``, ``rule_name``, ``reason``,
        ``priority``, ``flags``, ``suspect_area_m2``, ``suspect_gd_area_m2``,
        ``hits`` (dict per patch: layer → approvals hit).
    facts : pandas.DataFrame
        The facts the rules saw, one row per patch.
    consulted : list of dict
        Every layer consulted (context and approvals) with dataset, version, date.
    summary : dict
        Counts and areas by verdict and rule.
    rules : RuleSet
        The rules applied.
    as_of : str
        Judging date.
    """

    patches: gpd.GeoDataFrame
    facts: pd.DataFrame
    consulted: list[dict[str, Any]]
    summary: dict[str, Any]
    rules: RuleSet
    as_of: str
    config: ApprovalConfig | None = field(default=None, repr=False)


# ---------------------------------------------------------------------------- engine
def _dates(values) -> np.ndarray:
    out = np.array([normalize_date(v) or "NaT" for v in values], dtype="datetime64[D]")
    return out


def _union_share(left: np.ndarray, geoms: np.ndarray, n: int, area: np.ndarray) -> np.ndarray:
    """Share of each patch covered by the union of its pieces (pieces may overlap)."""
    covered = np.zeros(n)
    if len(left) == 0:
        return covered
    order = np.argsort(left, kind="stable")
    left, geoms = left[order], geoms[order]
    starts = np.flatnonzero(np.r_[True, left[1:] != left[:-1]])
    ends = np.r_[starts[1:], len(left)]
    single = ends - starts == 1
    if single.any():
        s = starts[single]
        covered[left[s]] = ellipsoidal_area(geoms[s])
    for s, e in zip(starts[~single], ends[~single], strict=True):
        covered[left[s]] = ellipsoidal_area([shapely.union_all(geoms[s:e])])[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(area > 0, covered / area, 0.0)
    return np.clip(share, 0.0, 1.0)


@dataclass
class _Pairs:
    left: np.ndarray
    geom: np.ndarray
    cat: np.ndarray  # 0 cover, 1 late, 2 expired
    row: np.ndarray  # approval row
    layer: str


def _layer_pairs(name: str, spec: LayerSpec, gdf: gpd.GeoDataFrame, geoms: np.ndarray,
                 change_dates: np.ndarray, as_of: np.datetime64,
                 stats: dict[str, Any]) -> _Pairs:
    n_rows = len(gdf)
    void = np.zeros(n_rows, dtype=bool)
    if spec.status is not None and spec.status.field in gdf.columns:
        status = gdf[spec.status.field].astype(object).where(gdf[spec.status.field].notna(), "")
        void = status.astype(str).str.strip().isin(spec.status.invalid).to_numpy()
    approved = (_dates(gdf[spec.approved_on]) if spec.approved_on in gdf.columns
                else np.full(n_rows, "NaT", dtype="datetime64[D]"))
    expires = (_dates(gdf[spec.expires_on]) if spec.expires_on in gdf.columns
               else np.full(n_rows, "NaT", dtype="datetime64[D]"))
    future = ~np.isnat(approved) & (approved > as_of)
    usable = ~void & ~future
    stats.update(features=n_rows, void=int(void.sum()), after_as_of=int(future.sum()),
                 undated=int((np.isnat(approved) & usable).sum()))
    rows = np.flatnonzero(usable)
    ag, repaired = _valid(_geoms(gdf)[rows])
    if repaired:
        stats["repaired"] = repaired
    p = intersect_pieces(geoms, ag)
    r = rows[p.right]
    d = change_dates[p.left]
    late = ~np.isnat(approved[r]) & (approved[r] > d)
    expired = ~np.isnat(expires[r]) & (expires[r] < d)
    cat = np.where(expired, 2, np.where(late, 1, 0))
    return _Pairs(p.left, p.geometry, cat, r, name)


def _select(pairs: list[_Pairs], cats: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    left = [p.left[np.isin(p.cat, cats)] for p in pairs]
    geom = [p.geom[np.isin(p.cat, cats)] for p in pairs]
    if not left:
        return np.array([], dtype=np.intp), np.array([], dtype=object)
    return np.concatenate(left), np.concatenate(geom)


_CAT_TEXT = {0: "有效", 1: "批准晚于变化", 2: "已过期"}


def judge(
    changes: gpd.GeoDataFrame,
    approvals: Mapping[str, gpd.GeoDataFrame | ApprovalSource],
    *,
    as_of: str | date,
    rules: RuleSet | str | Path | None = None,
    config: ApprovalConfig | str | Path | None = None,
    context: list[dict[str, Any]] | None = None,
    zones: gpd.GeoDataFrame | None = None,
) -> JudgeResult:
    """Judge every change patch.

    Parameters
    ----------
    changes : geopandas.GeoDataFrame
        Change patches from :func:`~onemap.monitor.changes.detect_changes` or
        :func:`~onemap.monitor.monitoring.monitoring_changes` (or read back
        from a stored change set).
    approvals : mapping
        Layer name (as in ``approval_layers.yaml``) → GeoDataFrame or
        :class:`ApprovalSource`. A configured layer that is absent is listed
        as missing (and covers nothing).
    as_of : str or date
        Judging date: approvals dated later are ignored; changes without a
        date are dated at it.
    rules : RuleSet or path, optional
        Default the shipped ``judging_rules.yaml``.
    config : ApprovalConfig or path, optional
        Default the shipped ``approval_layers.yaml``.
    context : list of dict, optional
        Other layers consulted (change source versions, control lines),
        listed with every verdict.
    zones : GeoDataFrame, optional
        The 自然保护地 layer (ZRBHD, 功能分区 in GNFQ): every patch gets the zone facts of
        :func:`onemap.monitor.ecozones.zone_facts` (zone, activity, verdict by
        ``domain/data/ecology.yaml``). None: no reserve, only the 生态保护红线 counts.

    Returns
    -------
    JudgeResult
    """
    cfg = config if isinstance(config, ApprovalConfig) else load_approval_config(config)
    rs = rules if isinstance(rules, RuleSet) else load_rules(rules, facts=cfg.fact_names())
    as_of_s = normalize_date(as_of)
    if not as_of_s:
        raise InputError(f"判定日期无效：{as_of!r}（应为 YYYY-MM-DD）")
    as_of_d = np.datetime64(as_of_s, "D")
    patches = changes.reset_index(drop=True).copy()
    n = len(patches)
    geoms, _ = _valid(_geoms(patches))
    area = pd.to_numeric(patches["area_m2"], errors="coerce").fillna(0.0).to_numpy()
    cd = (_dates(patches["change_date"]) if "change_date" in patches.columns
          else np.full(n, "NaT", dtype="datetime64[D]"))
    cd = np.where(np.isnat(cd), as_of_d, cd)

    # Facts are gathered in a dict and framed once (column-by-column inserts are slow).
    fx: dict[str, Any] = {}
    for col in BASE_FACTS:
        if col == "hits_text":
            continue
        is_flag = (col.startswith(("before_", "after_", "sf", "in_"))
                   and not col.endswith("_name"))
        if col in patches.columns:
            values = patches[col]
            fx[col] = (values.astype(object).fillna(False).astype(bool).to_numpy() if is_flag
                       else values.to_numpy())
        elif col.endswith("_name") or col in ("before", "after", "code_system"):
            fx[col] = np.full(n, "", dtype=object)
        elif is_flag:
            fx[col] = np.zeros(n, dtype=bool)
        else:
            fx[col] = np.zeros(n)
    fx["area_m2"] = area
    fx.update(zone_facts(geoms, area, zones, after=fx["after"], code_system=fx["code_system"],
                         in_redline=fx["sfhx"]))

    consulted_layers: list[dict[str, Any]] = []
    pairs_by_layer: dict[str, _Pairs] = {}
    frames: dict[str, gpd.GeoDataFrame] = {}
    for name, spec in cfg.layers.items():
        src = approvals.get(name)
        entry: dict[str, Any] = {"layer": name, "title": spec.title, "role": "approval"}
        if src is None:
            entry.update(status="missing", dataset="", version="", created_at="")
            consulted_layers.append(entry)
            continue
        if not isinstance(src, ApprovalSource):
            src = ApprovalSource(gdf=src, dataset=name)
        entry.update(status="used", dataset=src.dataset or name, version=src.version,
                     created_at=src.created_at)
        stats: dict[str, Any] = {}
        pairs_by_layer[name] = _layer_pairs(name, spec, src.gdf.reset_index(drop=True), geoms,
                                            cd, as_of_d, stats)
        frames[name] = src.gdf.reset_index(drop=True)
        entry.update(stats)
        consulted_layers.append(entry)

    def members(x: str) -> list[_Pairs]:
        if x in cfg.layers:
            return [pairs_by_layer[x]] if x in pairs_by_layer else []
        if x in cfg.subsets:
            s = cfg.subsets[x]
            base = pairs_by_layer.get(s.from_)
            if base is None:
                return []
            gdf = frames[s.from_]
            ok = np.ones(len(gdf), dtype=bool)
            for fld, values in s.where.items():
                col = (gdf[fld].astype(object).where(gdf[fld].notna(), "").astype(str)
                       .str.strip() if fld in gdf.columns else pd.Series([""] * len(gdf)))
                ok &= col.isin([str(v) for v in values]).to_numpy()
            keep = ok[base.row]
            return [_Pairs(base.left[keep], base.geom[keep], base.cat[keep], base.row[keep], x)]
        out: list[_Pairs] = []
        for m in cfg.groups[x].layers:
            out += members(m)
        return out

    for x in cfg.names:
        ms = members(x)
        cover = _union_share(*_select(ms, (0,)), n, area)
        anyc = np.maximum(_union_share(*_select(ms, (0, 1)), n, area), cover)
        with_exp = np.maximum(_union_share(*_select(ms, (0, 2)), n, area), cover)
        fx[f"cover_{x}"] = np.round(cover, 6)
        fx[f"late_{x}"] = np.round(anyc - cover, 6)
        fx[f"any_{x}"] = np.round(anyc, 6)
        fx[f"expired_{x}"] = np.round(with_exp - cover, 6)
        fx[f"outside_{x}_m2"] = np.round(area * (1.0 - anyc), 2)

    hits: list[dict[str, list[dict[str, Any]]]] = [{} for _ in range(n)]
    for name, p in pairs_by_layer.items():
        spec, gdf = cfg.layers[name], frames[name]
        ids = (gdf[spec.id_field].astype(object).where(gdf[spec.id_field].notna(), "")
               .astype(str).to_numpy() if spec.id_field in gdf.columns
               else np.array([f"第{i + 1}行" for i in range(len(gdf))], dtype=object))
        piece_area = ellipsoidal_area(p.geom)
        for k in range(len(p.left)):
            j = p.row[k]
            item = {"id": ids[j], "status": _CAT_TEXT[int(p.cat[k])],
                    "area_m2": round(float(piece_area[k]), 2)}
            for a in spec.attributes:
                if a in gdf.columns and pd.notna(gdf[a].iat[j]):
                    item[a] = _plain(gdf[a].iat[j])
            for dfield in (spec.approved_on, spec.expires_on):
                if dfield and dfield in gdf.columns:
                    item[dfield] = normalize_date(gdf[dfield].iat[j])
            hits[p.left[k]].setdefault(name, []).append(item)
    fx["hits_text"] = [
        "、".join(f"{lay}:{h['id']}" + ("" if h["status"] == "有效" else f"（{h['status']}）")
                 for lay, hs in hp.items() for h in hs) or "无"
        for hp in hits
    ]
    facts = pd.DataFrame(fx)

    chosen = rs.evaluate(facts)
    verdict = np.empty(n, dtype=object)
    rule_id = np.empty(n, dtype=object)
    rule_name = np.empty(n, dtype=object)
    priority = np.full(n, np.nan)
    share = np.zeros(n)
    for i, rule in enumerate(rs.rules):
        sel = chosen == i
        if not sel.any():
            continue
        verdict[sel], rule_id[sel], rule_name[sel] = rule.verdict, rule.id, rule.name
        if rule.priority is not None:
            priority[sel] = rule.priority
        if rule.verdict == "疑似违法":
            if rule.suspect_area == "all":
                share[sel] = 1.0
            elif rule.suspect_area.startswith("outside:"):
                x = rule.suspect_area.split(":", 1)[1]
                share[sel] = 1.0 - facts[f"any_{x}"].to_numpy()[sel]
    records = facts.to_dict("records")
    reasons = [format_reason(rs.rules[c].reason, rec) for c, rec in
               zip(chosen, records, strict=True)]
    gd = pd.to_numeric(facts["gd_area_m2"], errors="coerce").fillna(0.0).to_numpy()
    added = pd.DataFrame({
        "verdict": verdict, "rule": rule_id, "rule_name": rule_name, "reason": reasons,
        "eco_zone": facts["eco_zone"].to_numpy(), "zone_text": facts["zone_text"].to_numpy(),
        "priority": pd.array(np.where(np.isnan(priority), pd.NA, priority), dtype="Int64"),
        "flags": _flags(patches),
        "suspect_area_m2": np.round(area * share, 2),
        "suspect_gd_area_m2": np.round(gd * share, 2),
        "hits": hits,
    })
    keep = [c for c in patches.columns if c not in added.columns]
    patches = gpd.GeoDataFrame(pd.concat([pd.DataFrame(patches[keep]), added], axis=1),
                               geometry=patches.geometry.name, crs=patches.crs)

    consulted = [dict(c, role=c.get("role", "context")) for c in (context or [])]
    consulted += consulted_layers
    summary = _summary(patches, rs, consulted_layers)
    return JudgeResult(patches=patches, facts=facts, consulted=consulted, summary=summary,
                       rules=rs, as_of=as_of_s, config=cfg)


def _flags(p: pd.DataFrame) -> list[str]:
    def col(name: str) -> np.ndarray:
        if name not in p.columns:
            return np.zeros(len(p), dtype=bool)
        return p[name].fillna(False).astype(bool).to_numpy()

    pos = (p["czkfbj_pos"].astype(object).fillna("").astype(str).to_numpy()
           if "czkfbj_pos" in p.columns else np.full(len(p), "", dtype=object))
    outside = col("new_construction") & ~col("in_czkfbj") & (pos != "")
    names = [("占用耕地", col("zygd")), ("其中水田", col("zyst")),
             ("涉及永久基本农田", col("sfyn")), ("涉及生态保护红线", col("sfhx")),
             ("城镇开发边界外新增建设", outside)]
    return [",".join(t for t, m in names if m[i]) for i in range(len(p))]


def _summary(p: pd.DataFrame, rs: RuleSet, layers: list[dict[str, Any]]) -> dict[str, Any]:
    by_verdict = {}
    for v in ("合法", "疑似违法", "其他"):
        sel = p["verdict"] == v
        by_verdict[v] = {"count": int(sel.sum()),
                         "area_m2": round(float(p.loc[sel, "area_m2"].sum()), 2)}
    by_rule = []
    for r in rs.rules:
        sel = p["rule"] == r.id
        if sel.any():
            by_rule.append({"rule": r.id, "name": r.name, "verdict": r.verdict,
                            "count": int(sel.sum()),
                            "area_m2": round(float(p.loc[sel, "area_m2"].sum()), 2)})
    pr = p["priority"].dropna()
    return {
        "patches": len(p),
        "by_verdict": by_verdict,
        "by_rule": by_rule,
        "by_priority": {str(int(k)): int(v) for k, v in pr.value_counts().sort_index().items()},
        "suspect_area_m2": round(float(p["suspect_area_m2"].sum()), 2),
        "suspect_gd_area_m2": round(float(p["suspect_gd_area_m2"].sum()), 2),
        "missing_layers": [x["layer"] for x in layers if x.get("status") == "missing"],
        "rules_version": rs.version,
        "rules_sha256": rs.sha256,
    }


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, pd.Timestamp | date):
        return v.isoformat()
    return v
