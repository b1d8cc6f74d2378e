"""Evaluating indicator formulas on a workspace, per county and for the city.

:class:`Evaluator` computes one indicator for one year. Every result
(:class:`Values`) holds, per unit (the city, key :data:`~onemap.indicators.inputs.CITY`,
and each six-digit county code), either a value or the reasons it has none,
plus notes, the dataset versions and the input cells it came from. A missing
layer, version, field or input therefore gives "no value, because …" and
never a number computed from incomplete data.

Which version is "year Y": the version whose label starts with the largest
year not after Y (``2024`` or ``2024-12-31`` for 2024; ``2023`` when there is
no 2024). When the label's year is not Y a note says so. Change quantities
(``class_transition``) need the version of year Y itself. XZQ, the frame of
the county split, falls back to its earliest version when none is old
enough (also noted).

Counties: ZLDWDM[:6] for DLTB; XZQ polygons dissolved by XZQDM[:6] for zone
layers (or the layer's own XZQDM when there is no XZQ).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from onemap.analysis.overlay import intersect_pieces
from onemap.geo.area import ellipsoidal_area
from onemap.indicators import formula as fm
from onemap.indicators.inputs import CITY, InputSet
from onemap.indicators.quantities import Quantity, convert, parse_unit
from onemap.indicators.registry import Registry
from onemap.util import to_cents as _cents
from onemap.util import version_year

__all__ = ["Evaluator", "UnitFrame", "Values", "version_year", "workspace_units"]

_AREA = parse_unit(fm.AREA_UNIT)
#: Datasets surveyed every year: using an older version for a year is noted.
#: Plan and boundary layers (STBHHX, CZKFBJ, XZQ …) stay valid until replaced.
ANNUAL_DATASETS = frozenset({"DLTB"})
#: Frame datasets (the administrative boundaries): for a year before their first version the
#: first version stands in (noted), since 国土面积 and the county split hardly change.
FRAME_DATASETS = frozenset({"XZQ"})
#: Tolerance under which a cut patch counts as wholly inside (as in onemap.analysis.tabulate).
_WHOLE_M2, _WHOLE_REL = 0.005, 1e-6


# ---------------------------------------------------------------------------- units
@dataclass
class UnitFrame:
    """The units an assessment reports on.

    Attributes
    ----------
    city_code : str
        The city's code (workspace region, e.g. ``640300``), or ``市域``.
    city_name : str
        Its name.
    counties : list of str
        Six-digit county codes, sorted.
    names : dict
        Code → name (counties; the city under :data:`CITY`).
    """

    city_code: str
    city_name: str
    counties: list[str]
    names: dict[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        """Unit keys: :data:`CITY` first, then the counties."""
        return [CITY] + list(self.counties)

    def name(self, key: str) -> str:
        """Display name of a unit key."""
        if key == CITY:
            return self.city_name or "全市"
        return self.names.get(key) or key


def _settings(store) -> dict[str, str]:
    fn = getattr(store, "settings", None)
    try:
        return dict(fn()) if callable(fn) else {}
    except Exception:  # noqa: BLE001 - settings are optional
        return {}


def workspace_units(store, inputs: InputSet | None = None) -> UnitFrame:
    """City and counties of a workspace (XZQ, else the latest DLTB, else the inputs).

    Parameters
    ----------
    store : onemap.store.Store
        Workspace.
    inputs : InputSet, optional
        Input values; their unit names fill gaps, their counties are used when
        the workspace has neither XZQ nor DLTB.
    """
    have = {d.name: d for d in store.datasets() if d.versions}
    counties: set[str] = set()
    if "XZQ" in have:
        xzq = store.read("XZQ", have["XZQ"].latest.version, columns=["XZQDM"])
        counties = set(xzq["XZQDM"].astype(str).str.strip().str.slice(0, 6))
    elif "DLTB" in have:
        dltb = store.read("DLTB", have["DLTB"].latest.version, columns=["ZLDWDM"])
        counties = set(dltb["ZLDWDM"].astype(str).str.strip().str.slice(0, 6))
    elif inputs is not None:
        counties = {u for u in inputs.units if u != CITY}
    counties = {c for c in counties if len(c) == 6 and c.isdigit()}
    proper = {c for c in counties if not c.endswith("00")}
    counties = proper or counties
    settings = _settings(store)
    region = (settings.get("region") or "").strip()
    if not region and counties:
        prefixes = {c[:4] for c in counties}
        region = prefixes.pop() + "00" if len(prefixes) == 1 else ""
    names: dict[str, str] = {}
    try:
        from onemap.services import workspace_unit_names

        names = {k: v for k, v in workspace_unit_names(store).items() if v}
    except Exception:  # noqa: BLE001 - names are a nicety
        names = {}
    if inputs is not None:
        for k, v in inputs.names().items():
            names.setdefault(k, v)
    city_name = (names.get(region) or settings.get("region_name") or names.get(CITY)
                 or settings.get("name") or "全市")
    names[CITY] = city_name
    return UnitFrame(city_code=region or CITY, city_name=city_name, counties=sorted(counties),
                     names=names)


# ---------------------------------------------------------------------------- values
@dataclass
class Values:
    """Result of a formula for every unit.

    Attributes
    ----------
    unit : Quantity
        Unit of the values.
    values : dict
        Unit key → value.
    missing : dict
        Unit key → reasons there is no value.
    notes : dict
        Unit key → notes on how the value was made.
    datasets : list of dict
        Dataset versions read: ``dataset, version, version_id, year``.
    inputs : list of dict
        Input cells used: ``field, year, unit, import_id``.
    """

    unit: Quantity
    values: dict[str, float] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)

    def miss(self, key: str, reason: str) -> None:
        """Record that ``key`` has no value because of ``reason``."""
        lst = self.missing.setdefault(key, [])
        if reason not in lst:
            lst.append(reason)

    def note(self, key: str, text: str) -> None:
        """Attach a note to ``key``."""
        lst = self.notes.setdefault(key, [])
        if text not in lst:
            lst.append(text)

    def absorb(self, other: Values, keys: list[str] | None = None) -> None:
        """Take over the provenance and notes of a part (for ``keys`` or all)."""
        for d in other.datasets:
            if d not in self.datasets:
                self.datasets.append(d)
        for i in other.inputs:
            if i not in self.inputs:
                self.inputs.append(i)
        for k, texts in other.notes.items():
            if keys is None or k in keys:
                for t in texts:
                    self.note(k, t)

    def converted(self, target: Quantity) -> Values:
        """The same values in another unit."""
        out = Values(target, {k: convert(v, self.unit, target) for k, v in self.values.items()},
                     {k: list(v) for k, v in self.missing.items()},
                     {k: list(v) for k, v in self.notes.items()},
                     list(self.datasets), list(self.inputs))
        return out


def _polygons(geoms: np.ndarray) -> np.ndarray:
    """Valid polygonal geometries (invalid ones repaired, non-polygons dropped)."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms)]
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    parts = shapely.get_parts(geoms)
    return parts[np.isin(shapely.get_type_id(parts), (3, 6))]


def _groups(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected components of the pairs (i, j) over n items (union-find, path halving)."""
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(k) for k in range(n)])


def _dissolve(geoms: np.ndarray) -> np.ndarray:
    """Polygons with disjoint interiors covering ``geoms`` (overlaps counted once).

    Only the groups of polygons whose interiors meet are united: a layer whose
    polygons at most touch (the normal case) costs one tree query and no union.
    """
    polys = _polygons(geoms)
    if len(polys) < 2:
        return polys
    tree = shapely.STRtree(polys)
    i, j = tree.query(polys, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    if len(i):
        inner = shapely.relate_pattern(polys[i], polys[j], "T********")
        i, j = i[inner], j[inner]
    if not len(i):
        return polys
    root = _groups(len(polys), i, j)
    single = np.bincount(root, minlength=len(polys))[root] == 1
    out = list(polys[single])
    for r in np.unique(root[~single]):
        merged = shapely.union_all(polys[root == r])
        parts = shapely.get_parts(merged)
        out.extend(parts[np.isin(shapely.get_type_id(parts), (3, 6))])
    return np.asarray(out, dtype=object)


# ---------------------------------------------------------------------------- the evaluator
class Evaluator:
    """Compute indicators of a registry on a workspace, memoised per (code, year).

    Parameters
    ----------
    store : onemap.store.Store
        Workspace.
    registry : Registry
        Indicators and formulas.
    inputs : InputSet
        Non-spatial input values.
    units : UnitFrame, optional
        Units to report (default: :func:`workspace_units`).
    monitor : callable, optional
        ``monitor(year) -> dict`` returning the accountability statistics
        (default: :func:`onemap.monitor.service.accountability`).
    ledger : callable, optional
        ``ledger(measure, year) -> dict`` giving the farmland-ledger figures of
        the ``ledger`` formula kind: ``{"counties": {code: {"value": float,
        "note": str}}, "source": str}``, or ``{"missing": reason}`` when the
        workspace has no such records. Without it those indicators have no data.
    """

    def __init__(self, store, registry: Registry, inputs: InputSet, units: UnitFrame | None = None,
                 *, monitor: Callable[[int], dict[str, Any]] | None = None,
                 ledger: Callable[[str, int], dict[str, Any]] | None = None):
        self.store = store
        self.registry = registry
        self.inputs = inputs
        self.units = units or workspace_units(store, inputs)
        self._monitor_fn = monitor
        self._ledger_fn = ledger
        self._catalog = {d.name: d for d in store.datasets() if d.versions}
        self._layers: dict[int, gpd.GeoDataFrame] = {}
        self._counties: dict[int, tuple[list[str], np.ndarray]] = {}
        self._memo: dict[tuple[str, int], Values] = {}
        self._busy: set[tuple[str, int]] = set()
        self._monitor: dict[int, dict[str, Any] | None] = {}
        self._zone_memo: dict[tuple, dict[str, int]] = {}
        self._cache: dict[tuple, Any] = {}
        self._present: dict[int, set[str]] = {}
        self._columns = self._needed_columns()

    def _needed_columns(self) -> list[str]:
        """Attribute columns any formula of the registry reads."""
        cols = {"BSM", "DLBM", "ZLDWDM", "TBDLMJ", "KCXS", "CZCSXM", "XZQDM"}
        for ind in self.registry.indicators:
            for node in fm.walk(ind.formula):
                if node.kind == "class_area":
                    cols.add(node.area_field)
                elif node.kind == "field_sum":
                    cols.add(node.field)
        return sorted(cols)

    # -- versions and layers ---------------------------------------------------
    def versions(self, dataset: str) -> list:
        """Versions of a dataset (oldest first); empty when absent."""
        d = self._catalog.get(dataset)
        return list(d.versions) if d else []

    def data_years(self) -> set[int]:
        """Years of DLTB versions and of input values."""
        years = {version_year(v.version) for v in self.versions("DLTB")}
        years |= set(self.inputs.years)
        return {y for y in years if y is not None}

    def version_for(self, dataset: str, year: int):
        """The version standing for ``year`` (latest not after it), or None."""
        best = None
        for v in self.versions(dataset):
            y = version_year(v.version)
            if y is not None and y <= year:
                best = v
        return best

    @staticmethod
    def _prov(info) -> dict[str, Any]:
        return {"dataset": info.dataset, "version": info.version, "version_id": info.id,
                "year": version_year(info.version)}

    def _version_note(self, info, year: int) -> str | None:
        y = version_year(info.version)
        if y != year and info.dataset in ANNUAL_DATASETS:
            return f"{year} 年无 {info.dataset} 版本，采用 {info.version} 版本（不晚于 {year} 年的最新版本）"
        return None

    def read(self, info) -> gpd.GeoDataFrame:
        """Read one version (cached): the columns formulas use, codes as categoricals."""
        if info.id not in self._layers:
            try:
                gdf = self.store.read(info.dataset, info.version, columns=self._columns)
            except Exception:  # noqa: BLE001 - a backend may refuse absent columns: read them all
                gdf = self.store.read(info.dataset, info.version)
                gdf = gdf[[c for c in gdf.columns if c in self._columns or c == gdf.geometry.name]]
            for col in ("DLBM", "CZCSXM", "XZQDM"):
                if col in gdf.columns:
                    gdf[col] = gdf[col].astype("string").str.strip().astype("category")
            if "ZLDWDM" in gdf.columns:
                gdf["_county"] = (gdf["ZLDWDM"].astype("string").str.strip().str.slice(0, 6)
                                  .astype("category"))
            self._layers[info.id] = gdf
        return self._layers[info.id]

    def present_counties(self, info) -> set[str]:
        """Counties (ZLDWDM[:6]) that have features in a version."""
        if info.id not in self._present:
            df = self.read(info)
            self._present[info.id] = (set(df["_county"].dropna().unique().tolist())
                                      if "_county" in df.columns else set())
        return self._present[info.id]

    def _select(self, df: pd.DataFrame, codes: frozenset[str], czc: frozenset[str] | None) -> np.ndarray:
        mask = df["DLBM"].isin(codes).to_numpy(dtype=bool, na_value=False)
        if czc:
            mask = mask & df["CZCSXM"].isin(czc).to_numpy(dtype=bool, na_value=False)
        return mask

    def _all_missing(self, unit: Quantity, reason: str) -> Values:
        out = Values(unit)
        for k in self.units.keys:
            out.miss(k, reason)
        return out

    def _note_all(self, out: Values, text: str | None) -> None:
        if text:
            for k in self.units.keys:
                out.note(k, text)

    def _no_version(self, dataset: str, year: int) -> str:
        if dataset not in self._catalog:
            return f"工作空间没有 {dataset} 数据集"
        return f"工作空间没有 {year} 年或更早的 {dataset} 版本"

    def county_polygons(self, year: int) -> tuple[list[str], np.ndarray, dict | None, str | None]:
        """County codes and polygons from XZQ (dissolved by XZQDM[:6]) for a year.

        Returns
        -------
        tuple
            ``(codes, polygons, provenance, note)``; empty when there is no XZQ.
        """
        info = self.version_for("XZQ", year)
        note = None
        if info is None:
            vs = self.versions("XZQ")
            if not vs:
                return [], np.array([], dtype=object), None, None
            info = vs[0]
            note = f"XZQ 没有 {year} 年或更早的版本，分县范围采用 XZQ {info.version} 版本"
        if info.id not in self._counties:
            xzq = self.read(info)
            codes = xzq["XZQDM"].astype("string").str.slice(0, 6)
            keep = codes.isin(self.units.counties).to_numpy(dtype=bool, na_value=False)
            geoms = np.asarray(xzq.geometry.values, dtype=object)[keep]
            codes = codes[keep].to_numpy(dtype=object)
            out_codes, out_geoms = [], []
            for c in sorted(set(codes)):
                polys = _polygons(geoms[codes == c])
                if len(polys):
                    out_codes.append(c)
                    out_geoms.append(shapely.union_all(polys))
            self._counties[info.id] = (out_codes, np.asarray(out_geoms, dtype=object))
        codes, geoms = self._counties[info.id]
        return codes, geoms, self._prov(info), note

    # -- public ----------------------------------------------------------------
    def indicator(self, code: str, year: int) -> Values:
        """Values of one indicator for one year, in the indicator's unit.

        Raises
        ------
        KeyError
            If the registry has no such indicator.
        RuntimeError
            On a dependency cycle (the registry check prevents them).
        """
        key = (code, int(year))
        if key in self._memo:
            return self._memo[key]
        if key in self._busy:
            raise RuntimeError(f"指标循环引用：{code}")
        self._busy.add(key)
        try:
            ind = self.registry.get(code)
            raw = self.expr(ind.formula, int(year))
            out = raw.converted(ind.quantity)
            keep = set()
            if "市域" in ind.scope:
                keep.add(CITY)
            if "县" in ind.scope:
                keep.update(self.units.counties)
            for d in (out.values, out.missing, out.notes):
                for k in list(d):
                    if k not in keep:
                        del d[k]
            self._memo[key] = out
            return out
        finally:
            self._busy.discard(key)

    def expr(self, e: Any, year: int) -> Values:
        """Evaluate a formula for a year."""
        handler = getattr(self, f"_k_{e.kind}")
        return handler(e, int(year))

    # -- spatial kinds ---------------------------------------------------------
    def _dltb_units(self, out: Values, sums: pd.Series, info) -> None:
        present = self.present_counties(info)
        sums = sums.astype("int64")
        for c in self.units.counties:
            if c in present:
                out.values[c] = float(sums.get(c, 0)) / 100.0
            else:
                out.miss(c, f"{info.dataset} {info.version} 中没有该县（{c}）的图斑")
        out.values[CITY] = float(sums.sum()) / 100.0

    def _k_class_area(self, e: fm.ClassArea, year: int) -> Values:
        info = self.version_for(e.dataset, year)
        if info is None:
            return self._all_missing(_AREA, self._no_version(e.dataset, year))
        df = self.read(info)
        codes, czc = self.registry.resolve_classes(e.classes, e.czcsxm)
        for col in ("DLBM", "ZLDWDM", e.area_field) + (("CZCSXM",) if czc else ()):
            if col not in df.columns:
                return self._all_missing(_AREA, f"{e.dataset} {info.version} 缺少 {col} 字段")
        key = ("class_area", info.id, codes, czc, e.area_field)
        if key not in self._cache:
            sel = df.loc[self._select(df, codes, czc), [e.area_field, "_county"]]
            area = pd.to_numeric(sel[e.area_field], errors="coerce")
            empty = int(area.isna().sum())
            sums = (pd.Series(_cents(area), index=sel.index).groupby(sel["_county"], observed=True).sum()
                    if not empty else None)
            self._cache[key] = (empty, sums)
        empty, sums = self._cache[key]
        if empty:
            return self._all_missing(
                _AREA, f"{e.dataset} {info.version} 有 {empty} 个图斑的 {e.area_field} 为空")
        out = Values(_AREA, datasets=[self._prov(info)])
        self._dltb_units(out, sums, info)
        self._note_all(out, self._version_note(info, year))
        return out

    def _zone_inside(self, dltb_info, zone_infos, codes, czc) -> tuple[dict[str, int], int]:
        key = (dltb_info.id, tuple(z.id for z in zone_infos), codes, czc)
        if key not in self._zone_memo:
            from onemap.analysis.tabulate import tabulate

            df = self.read(dltb_info)
            sel = df.loc[self._select(df, codes, czc)]
            # several zone layers are one zone: tabulate counts overlapping polygons once
            parts = [self.read(z)[["geometry"]] for z in zone_infos]
            zone = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                                    crs=parts[0].crs)
            name = "+".join(z.dataset for z in zone_infos)
            per: dict[str, int] = {}
            if len(sel) and len(zone):
                cols = [c for c in ("BSM", "DLBM", "ZLDWDM", "TBDLMJ", "KCXS") if c in sel.columns]
                res = tabulate(gpd.GeoDataFrame(sel[cols], geometry=sel.geometry, crs=sel.crs),
                               {name: zone}, level="county", conflict_pairs=(),
                               source={"DLTB": self._prov(dltb_info),
                                       name: {z.dataset: self._prov(z) for z in zone_infos}})
                inside = res.rows[res.rows["inside"].astype(bool)]
                per = {str(k): int(v) for k, v in inside.groupby("county")["cents"].sum().items()}
            self._zone_memo[key] = per
        per = self._zone_memo[key]
        return per, sum(per.values())

    def _k_class_in_zone(self, e: fm.ClassInZone, year: int) -> Values:
        info = self.version_for(e.dataset, year)
        if info is None:
            return self._all_missing(_AREA, self._no_version(e.dataset, year))
        zinfos = []
        for name in e.zones:
            zinfo = self.version_for(name, year)
            if zinfo is None:
                return self._all_missing(_AREA, self._no_version(name, year))
            zinfos.append(zinfo)
        df = self.read(info)
        codes, czc = self.registry.resolve_classes(e.classes, e.czcsxm)
        for col in ("DLBM", "ZLDWDM", "TBDLMJ") + (("CZCSXM",) if czc else ()):
            if col not in df.columns:
                return self._all_missing(_AREA, f"{e.dataset} {info.version} 缺少 {col} 字段")
        if pd.to_numeric(df.loc[self._select(df, codes, czc), "TBDLMJ"], errors="coerce").isna().any():
            return self._all_missing(_AREA, f"{e.dataset} {info.version} 有图斑的 TBDLMJ 为空")
        per, _total = self._zone_inside(info, zinfos, codes, czc)
        out = Values(_AREA, datasets=[self._prov(info)] + [self._prov(z) for z in zinfos])
        self._dltb_units(out, pd.Series(per, dtype="int64"), info)
        self._note_all(out, self._version_note(info, year))
        for zinfo in zinfos:
            self._note_all(out, self._version_note(zinfo, year))
        return out

    def _k_class_transition(self, e: fm.ClassTransition, year: int) -> Values:
        cur = self.version_for(e.dataset, year)
        if cur is None or version_year(cur.version) != year:
            return self._all_missing(
                _AREA, f"没有 {year} 年度的 {e.dataset} 版本（新增量需要当年的年度变更调查）")
        prev = self.version_for(e.dataset, year - 1)
        if prev is None:
            return self._all_missing(_AREA, f"没有 {year} 年以前的 {e.dataset} 版本，无法计算新增量")
        new_df, old_df = self.read(cur), self.read(prev)
        for col in ("DLBM", "ZLDWDM", "TBDLMJ"):
            if col not in new_df.columns:
                return self._all_missing(_AREA, f"{e.dataset} {cur.version} 缺少 {col} 字段")
        if "DLBM" not in old_df.columns:
            return self._all_missing(_AREA, f"{e.dataset} {prev.version} 缺少 DLBM 字段")
        to_codes, _ = self.registry.resolve_classes(e.to_classes)
        from_codes, _ = self.registry.resolve_classes(e.from_classes)
        out = Values(_AREA, datasets=[self._prov(prev), self._prov(cur)])
        self._note_all(out, f"按 {e.dataset} {prev.version} → {cur.version} 两个版本比较")
        key = ("transition", cur.id, prev.id, to_codes, from_codes)
        if key in self._cache:
            if self._cache[key] is None:
                return self._all_missing(_AREA, f"{e.dataset} {cur.version} 有图斑的 TBDLMJ 为空")
            self._dltb_units(out, self._cache[key], cur)
            return out
        new = new_df.loc[self._select(new_df, to_codes, None)]
        old = old_df.loc[self._select(old_df, from_codes, None)]
        tb = pd.to_numeric(new["TBDLMJ"], errors="coerce")
        if tb.isna().any():
            self._cache[key] = None
            return self._all_missing(_AREA, f"{e.dataset} {cur.version} 有图斑的 TBDLMJ 为空")
        if "BSM" in new.columns and "BSM" in old_df.columns and len(new):
            # patches carried over unchanged (same BSM and shape, already to-class) are not new
            was_to = old_df.loc[self._select(old_df, to_codes, None)]
            prev_geom = dict(zip(was_to["BSM"].astype(str), was_to.geometry.values, strict=True))
            bsm = new["BSM"].astype(str).to_numpy()
            cand = np.array([prev_geom.get(b) for b in bsm], dtype=object)
            has = ~pd.isna(cand)
            same = np.zeros(len(new), dtype=bool)
            if has.any():
                same[has] = shapely.equals(np.asarray(new.geometry.values, dtype=object)[has],
                                           cand[has])
            new, tb = new.loc[~same], tb.loc[~same]
        share = np.zeros(len(new), dtype=np.int64)
        if len(new) and len(old):
            geoms = np.asarray(new.geometry.values, dtype=object)
            pieces = intersect_pieces(geoms, _polygons(np.asarray(old.geometry.values, dtype=object)))
            inside = np.bincount(pieces.left, weights=pieces.area_m2, minlength=len(new))
            touched = np.bincount(pieces.left, minlength=len(new)) > 0
            patch_area = ellipsoidal_area(geoms)
            inside = np.minimum(inside, patch_area)
            whole = touched & (inside >= patch_area - np.maximum(_WHOLE_M2, _WHOLE_REL * patch_area))
            kcxs = (pd.to_numeric(new["KCXS"], errors="coerce").fillna(0.0).to_numpy("float64")
                    if "KCXS" in new.columns else np.zeros(len(new)))
            total = _cents(tb)
            part = np.clip(np.rint(inside * (1.0 - kcxs) * 100.0).astype(np.int64), 0, total)
            share = np.where(whole, total, part)
            share[~touched] = 0
        sums = (pd.Series(share, index=new.index).groupby(new["_county"], observed=True).sum()
                if len(new) else pd.Series(dtype="int64"))
        self._cache[key] = sums
        self._dltb_units(out, sums, cur)
        return out

    def _layer_parts(self, info) -> np.ndarray:
        key = ("dissolved", info.id)
        if key not in self._cache:
            self._cache[key] = _dissolve(np.asarray(self.read(info).geometry.values, dtype=object))
        return self._cache[key]

    def _k_layer_area(self, e: fm.LayerArea, year: int) -> Values:
        info = self.version_for(e.dataset, year)
        stand_in = None
        if info is None and e.dataset in FRAME_DATASETS and self.versions(e.dataset):
            info = self.versions(e.dataset)[0]
            stand_in = f"{e.dataset} 没有 {year} 年或更早的版本，采用 {info.version} 版本"
        if info is None:
            return self._all_missing(_AREA, self._no_version(e.dataset, year))
        out = Values(_AREA, datasets=[self._prov(info)])
        self._note_all(out, stand_in or self._version_note(info, year))
        parts = self._layer_parts(info)
        codes, cgeoms, cprov, cnote = self.county_polygons(year)
        if codes:
            if cprov and cprov not in out.datasets and e.dataset != "XZQ":
                out.datasets.append(cprov)
            self._note_all(out, cnote)
            key = ("layer_by_county", info.id, cprov["version_id"] if cprov else None)
            if key not in self._cache:
                pieces = intersect_pieces(parts, cgeoms)
                self._cache[key] = np.bincount(pieces.right, weights=pieces.area_m2,
                                               minlength=len(codes))
            per = self._cache[key]
            for c in self.units.counties:
                if c in codes:
                    out.values[c] = float(per[codes.index(c)])
                else:
                    out.miss(c, f"XZQ 中没有该县（{c}）的范围")
            out.values[CITY] = float(per.sum()) if e.clip else float(ellipsoidal_area(parts).sum())
            return out
        out.values[CITY] = float(ellipsoidal_area(parts).sum())
        if e.clip:
            out.note(CITY, "工作空间没有 XZQ，全市值未按行政区裁剪")
        gdf = self.read(info)
        if "XZQDM" in gdf.columns:
            key = ("layer_by_xzqdm", info.id)
            if key not in self._cache:
                keys = gdf["XZQDM"].astype("string").str.slice(0, 6).to_numpy(dtype=object)
                geoms = np.asarray(gdf.geometry.values, dtype=object)
                self._cache[key] = {c: float(ellipsoidal_area(_dissolve(geoms[keys == c])).sum())
                                    for c in self.units.counties}
            for c, v in self._cache[key].items():
                out.values[c] = v
                out.note(c, f"工作空间没有 XZQ，按 {e.dataset} 的 XZQDM 字段分县")
        else:
            for c in self.units.counties:
                out.miss(c, f"工作空间没有 XZQ，且 {e.dataset} 没有 XZQDM 字段，无法分县统计")
        return out

    def _k_field_sum(self, e: fm.FieldSum, year: int) -> Values:
        q = parse_unit(e.unit)
        info = self.version_for(e.dataset, year)
        if info is None:
            return self._all_missing(q, self._no_version(e.dataset, year))
        gdf = self.read(info)
        if e.field not in gdf.columns:
            return self._all_missing(q, f"{e.dataset} {info.version} 没有 {e.field} 字段")
        vals = pd.to_numeric(gdf[e.field], errors="coerce")
        if vals.isna().any():
            return self._all_missing(
                q, f"{e.dataset} {info.version} 有 {int(vals.isna().sum())} 条记录的 {e.field} 为空")
        out = Values(q, datasets=[self._prov(info)])
        self._note_all(out, self._version_note(info, year))
        key = "ZLDWDM" if "ZLDWDM" in gdf.columns else ("XZQDM" if "XZQDM" in gdf.columns else None)
        cents = pd.Series(_cents(vals), index=gdf.index)
        out.values[CITY] = float(cents.sum()) / 100.0
        if key is None:
            for c in self.units.counties:
                out.miss(c, f"{e.dataset} 没有 ZLDWDM/XZQDM 字段，无法分县统计")
            return out
        sums = cents.groupby(gdf[key].astype("string").str.strip().str.slice(0, 6)).sum()
        sums = sums.astype("int64")
        for c in self.units.counties:
            out.values[c] = float(sums.get(c, 0)) / 100.0
        return out

    def _monitor_stats(self, year: int) -> dict[str, Any] | None:
        if year not in self._monitor:
            fn = self._monitor_fn
            if fn is None:
                try:
                    from onemap.monitor import service as mon
                except ImportError:
                    self._monitor[year] = None
                    return None

                def fn(y: int) -> dict[str, Any]:
                    return mon.accountability(self.store, y)
            try:
                self._monitor[year] = fn(year)
            except Exception as exc:  # noqa: BLE001 - one source failing must not stop the check
                self._monitor[year] = {"error": f"卫片执法统计失败：{exc}"}
        return self._monitor[year]

    def _k_monitor(self, e: fm.Monitor, year: int) -> Values:
        stats = self._monitor_stats(year)
        if stats is None:
            return self._all_missing(_AREA, "卫片执法模块不可用")
        if "error" in stats:
            return self._all_missing(_AREA, stats["error"])
        if not stats.get("sources"):
            return self._all_missing(_AREA, f"{year} 年度没有卫片执法判定结果")
        col = {"illegal_farmland": "illegal_gd_m2",
               "new_construction_farmland": "new_construction_gd_m2"}[e.measure]
        per = {str(r["county"]): float(r.get(col) or 0.0) for r in stats.get("rows", [])}
        out = Values(_AREA)
        for s in stats["sources"]:
            out.datasets.append({"dataset": "卫片执法判定", "version": str(s.get("changeset")),
                                 "version_id": s.get("run_id"), "year": year})
        for c in self.units.counties:
            out.values[c] = per.get(c, 0.0)
        out.values[CITY] = float(sum(per.values()))
        self._note_all(out, "卫片执法数据按当前案件认定状态统计")
        return out

    def _k_ledger(self, e: fm.Ledger, year: int) -> Values:
        unit = parse_unit(fm.LEDGER_UNITS[e.measure])
        if self._ledger_fn is None:
            return self._all_missing(unit, "无数据：未接入耕地保护台账")
        try:
            got = self._ledger_fn(e.measure, year)
        except Exception as exc:  # noqa: BLE001 - one source failing must not stop the check
            return self._all_missing(unit, f"无数据：耕地保护台账统计失败：{exc}")
        if got.get("missing"):
            return self._all_missing(unit, f"无数据：{got['missing']}")
        out = Values(unit)
        per = got.get("counties", {})
        for c in self.units.counties:
            cell = per.get(c, got.get("default"))
            if cell is None:
                out.miss(c, f"无数据：{got.get('absent') or '该县没有台账记录'}")
                continue
            out.values[c] = float(cell["value"])
            if cell.get("note"):
                out.note(c, str(cell["note"]))
        # 市域: the sum over the counties (0 only when every county with data is 平衡)
        have = [c for c in self.units.counties if c in out.values]
        if have:
            out.values[CITY] = round(float(sum(out.values[c] for c in have)), 2)
            out.note(CITY, "市域为各县之和，各县均平衡时为 0")
            lacking = [self.units.name(c) for c in self.units.counties if c not in out.values]
            if lacking:
                out.note(CITY, f"{'、'.join(lacking)}无数据，未计入")
        else:
            out.miss(CITY, "无数据：各县均没有台账数据")
        if got.get("source"):
            out.datasets.append({"dataset": str(got["source"]), "version": str(got.get("version", "")),
                                 "version_id": None, "year": year})
        return out

    # -- inputs and references ---------------------------------------------------
    def _input(self, code: str, year: int, *, partial: bool = False) -> Values:
        f = self.inputs.template.field(code)
        out = Values(parse_unit(f.unit))

        def cell(unit: str) -> float | None:
            got = self.inputs.get(code, year, unit)
            if got is None:
                return None
            out.inputs.append({"field": code, "year": year, "unit": unit, "import_id": got[1]})
            return got[0]

        for c in self.units.counties:
            v = cell(c)
            if v is None:
                out.miss(c, f"缺少填报数据：{f.name}（{code}）{year} 年 {self.units.name(c)}")
            else:
                out.values[c] = v
        v = cell(CITY)
        if v is not None:
            out.values[CITY] = v
        elif f.aggregate == "sum" and self.units.counties and all(
                c in out.values for c in self.units.counties):
            out.values[CITY] = float(sum(out.values[c] for c in self.units.counties))
            out.note(CITY, f"全市{f.name}为各县之和")
        elif partial and f.aggregate == "sum" and any(c in out.values for c in self.units.counties):
            given = [c for c in self.units.counties if c in out.values]
            lacking = [self.units.name(c) for c in self.units.counties if c not in out.values]
            out.values[CITY] = float(sum(out.values[c] for c in given))
            out.note(CITY, f"全市{f.name}为已填报各县之和（未填报：{'、'.join(lacking)}）")
        else:
            out.miss(CITY, f"缺少填报数据：{f.name}（{code}）{year} 年 全市")
        return out

    def _k_input(self, e: fm.InputRef, year: int) -> Values:
        return self._input(e.field, year, partial=e.optional)

    def _k_indicator(self, e: fm.IndicatorRef, year: int) -> Values:
        return self.indicator(e.code, year)

    def _k_ref(self, e: fm.Ref, year: int) -> Values:
        if self.registry.ref_kind(e.name) == "indicator":
            return self.indicator(e.name, year)
        return self._input(e.name, year, partial=e.optional)

    # -- composites ----------------------------------------------------------------
    def _describe(self, e: Any) -> str:
        return fm.describe(e, self.registry.names(), self.registry.selection_titles())

    def _k_ratio(self, e: fm.Ratio, year: int) -> Values:
        num, den = self.expr(e.numerator, year), self.expr(e.denominator, year)
        out = Values(num.unit / den.unit)
        out.absorb(num)
        out.absorb(den)
        for k in self.units.keys:
            if k in num.values and k in den.values:
                a, b = num.values[k], den.values[k]
                if b == 0:
                    if a == 0 and e.if_zero is not None:
                        out.values[k] = float(e.if_zero)
                        out.note(k, f"{self._describe(e.denominator)}与{self._describe(e.numerator)}均为 0")
                    else:
                        out.miss(k, f"{self._describe(e.denominator)}为 0，无法计算比值")
                else:
                    out.values[k] = a / b
            else:
                for r in num.missing.get(k, []) + den.missing.get(k, []):
                    out.miss(k, r)
        return out

    def _k_sum(self, e: fm.Sum, year: int) -> Values:
        parts = [self.expr(t, year) for t in e.terms]
        out = Values(parts[0].unit)
        for p in parts:
            if p.values:
                out.absorb(p)
        for k in self.units.keys:
            total, ok = 0.0, True
            for term, p in zip(e.terms, parts, strict=True):
                if k in p.values:
                    total += convert(p.values[k], p.unit, out.unit)
                elif term.optional:
                    out.note(k, term.missing_note or f"{self._describe(term)}缺少，未计入")
                else:
                    ok = False
                    for r in p.missing.get(k, []):
                        out.miss(k, r)
            if ok:
                out.values[k] = total
        return out

    def _k_change_rate(self, e: fm.ChangeRate, year: int) -> Values:
        now, base = self.expr(e.of, year), self.expr(e.of, e.base_year)
        out = Values(parse_unit("1"))
        out.absorb(now)
        out.absorb(base)
        for k in self.units.keys:
            if k in now.values and k in base.values:
                b = convert(base.values[k], base.unit, now.unit)
                if b == 0:
                    out.miss(k, f"{e.base_year} 年（基期）{self._describe(e.of)}为 0，无法计算变化率")
                    continue
                delta = (b - now.values[k]) if e.direction == "decrease" else (now.values[k] - b)
                out.values[k] = delta / b
            else:
                for r in now.missing.get(k, []):
                    out.miss(k, r)
                for r in base.missing.get(k, []):
                    out.miss(k, r if str(e.base_year) in r else f"基期 {e.base_year} 年：{r}")
        return out

    def _k_first_available(self, e: fm.FirstAvailable, year: int) -> Values:
        results: list[Values] = []
        out: Values | None = None
        for opt in e.options:            # later options only when an earlier one left gaps
            r = self.expr(opt, year)
            results.append(r)
            if out is None:
                out = Values(r.unit)
            for k in self.units.keys:
                if k not in out.values and k in r.values:
                    out.values[k] = convert(r.values[k], r.unit, out.unit)
                    out.absorb(r, [k])
                    if opt.label and len(e.options) > 1:
                        out.note(k, f"采用口径：{opt.label}")
            if all(k in out.values for k in self.units.keys):
                break
        assert out is not None
        for k in self.units.keys:
            if k in out.values:
                continue
            for opt, r in zip(e.options, results, strict=False):
                prefix = f"{opt.label}：" if opt.label else ""
                for reason in r.missing.get(k, []):
                    out.miss(k, prefix + reason)
        return out
