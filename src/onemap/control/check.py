"""Compliance check of a site (用地合规性审查): what it occupies and which rules it meets.

:class:`SiteChecker` loads the workspace layers once (DLTB and the check
layers, each with its STRtree) and then checks a site in milliseconds:

1. site area (official CGCS2000 ellipsoidal m²);
2. DLTB pieces under the site: area per DLBM and bulletin group, the TBDLMJ
   share of each piece (area × (1 − KCXS)), 耕地 by class and 坡度级别;
3. for every check layer: area inside, the ids of the features hit, the area
   outside for boundary layers (城镇开发边界), the area per ``group_field``
   value (自然保护地 功能分区); layers not in the workspace are reported as
   "未入库，未检查";
4. the part of the site outside the workspace's data (XZQ where present,
   else DLTB coverage);
5. every use-control rule of :mod:`onemap.control.rules`.

A file of several parcels is checked parcel by parcel and as a whole (the
union of the parcels).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
from numpy.typing import NDArray

from onemap.control.layers import LayerSpec, resolve_check_layers
from onemap.control.linear import POINT_TYPES, crossings, geodesic_length
from onemap.control.proximity import points_within
from onemap.control.rules import Facts, RuleResult, RuleSet, apply_rules, load_rules, worst
from onemap.control.site import Site, prepare_site, read_site
from onemap.errors import WorkspaceError
from onemap.geo.area import M2_PER_HECTARE, M2_PER_MU, ellipsoidal_area
from onemap.geo.polygonal import polygonal as _polygonal
from onemap.geo.transform import Transformation
from onemap.store import ledgers as register_store
from onemap.store.base import Store

__all__ = [
    "CheckResult",
    "ClassArea",
    "LayerResult",
    "SiteChecker",
    "check_site",
]

#: DLTB attributes the checker keeps in memory.
DLTB_COLUMNS = ["BSM", "DLBM", "DLMC", "GDPDJB", "KCXS", "ZLDWDM"]
#: Status of a check layer.
CHECKED = "已检查"
MISSING = "未入库，未检查"
#: The class code the 田坎 share of cut patches is reported under.
TIANKAN_DLBM = "1203"
#: How many ids a reason lists before "等 N 个".
IDS_IN_REASON = 10
#: Version label of a check layer read from a register (台账) rather than a catalog version.
REGISTER_VERSION = "台账"


def _ha(m2: float) -> float:
    return m2 / M2_PER_HECTARE


def _mu(m2: float) -> float:
    return m2 / M2_PER_MU


def _r(x: float, nd: int = 2) -> float:
    return float(round(float(x), nd))


@dataclass
class ClassArea:
    """Area of one 三调 class under the site.

    Attributes
    ----------
    dlbm, dlmc, group : str
        Class code, name and bulletin group.
    area_m2 : float
        Ellipsoidal area of the pieces.
    tbdlmj_m2 : float
        Σ piece area × (1 − KCXS) (田坎 deducted).
    tiankan_m2 : float
        Σ piece area × KCXS: the 田坎 share of the class's patches, reported as
        1203 beside the net class area (official-tables.md §4); ``tbdlmj_m2 +
        tiankan_m2 = area_m2``.
    patches : int
        Number of DLTB patches cut.
    bsm : list of str
        Their BSM.
    """

    dlbm: str
    dlmc: str
    group: str
    area_m2: float
    tbdlmj_m2: float
    patches: int
    bsm: list[str] = field(default_factory=list)
    tiankan_m2: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (m², 公顷, 亩; ``bsm`` = the DLTB patches cut)."""
        return {
            "dlbm": self.dlbm, "dlmc": self.dlmc, "group": self.group,
            "area_m2": _r(self.area_m2), "tbdlmj_m2": _r(self.tbdlmj_m2),
            "tiankan_m2": _r(self.tiankan_m2),
            "area_ha": _r(_ha(self.area_m2), 4), "area_mu": _r(_mu(self.area_m2)),
            "tbdlmj_mu": _r(_mu(self.tbdlmj_m2)), "patches": self.patches,
            "bsm": list(self.bsm),
        }


@dataclass
class LayerResult:
    """The site against one check layer.

    Attributes
    ----------
    dataset, title, kind : str
        From the check-layer configuration.
    status : str
        ``"已检查"`` or ``"未入库，未检查"``.
    version : str or None
        Version read.
    area_m2 : float
        Area of the site inside the layer (union of the features hit).
    ids : list of str
        Ids of the features hit (``id_field``, else 1-based row numbers).
    outside_m2 : float or None
        Area outside the layer (boundary layers only).
    by_group : dict
        ``group_field`` value → area inside (empty without a group field).
    features : list of dict
        Layers with ``attributes`` or ``buffer_m``: one entry per feature hit, ``id``, its
        ``area_m2`` inside the site (polygons) or ``distance_m`` to the site (points within
        ``buffer_m``, nearest first; 0 inside), and the configured attributes.
    buffer_m : float or None
        The distance searched around the site (point layers only).
    fields : dict
        Attribute → Chinese title of the attributes in ``features``.
    """

    dataset: str
    title: str
    kind: str
    status: str
    version: str | None = None
    area_m2: float = 0.0
    ids: list[str] = field(default_factory=list)
    outside_m2: float | None = None
    by_group: dict[str, float] = field(default_factory=dict)
    features: list[dict[str, Any]] = field(default_factory=list)
    buffer_m: float | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (areas are null for a layer not in the workspace)."""
        if self.status != CHECKED:
            return {"title": self.title, "kind": self.kind, "status": self.status,
                    "version": None, "area_m2": None, "ids": [], "count": 0}
        d: dict[str, Any] = {
            "title": self.title, "kind": self.kind, "status": self.status,
            "version": self.version, "area_m2": _r(self.area_m2),
            "area_ha": _r(_ha(self.area_m2), 4), "area_mu": _r(_mu(self.area_m2)),
            "ids": list(self.ids), "count": len(self.ids),
        }
        if self.outside_m2 is not None:
            d["outside_m2"] = _r(self.outside_m2)
            d["outside_ha"] = _r(_ha(self.outside_m2), 4)
        if self.by_group:
            d["by_group"] = {k: _r(v) for k, v in self.by_group.items()}
        if self.buffer_m is not None:
            d["buffer_m"] = _r(self.buffer_m)
        if self.features or self.buffer_m is not None:
            d["fields"] = dict(self.fields)
            d["features"] = [
                {k: (_r(v) if k in ("area_m2", "distance_m") else v) for k, v in f.items()}
                for f in self.features]
        return d


@dataclass
class CheckResult:
    """Result of checking one site (or one parcel of it).

    Attributes
    ----------
    name : str
        Parcel name, or the file name for a whole multi-parcel site.
    area_m2 : float
        Site area.
    classes : list of ClassArea
        Classes occupied, by DLBM (largest first).
    by_group : dict
        Bulletin group → area (m²).
    cultivated : dict
        耕地: ``area_m2``, ``tbdlmj_m2``, ``tiankan_m2`` (its 田坎 share, 1203),
        ``by_dlbm`` and ``by_slope`` (GDPDJB) in m².
    layers : dict
        Dataset → :class:`LayerResult`, standard layers first.
    extent : dict
        ``inside_m2``, ``outside_m2``, ``outside_ratio`` and ``basis`` (XZQ or DLTB).
    rules : list of RuleResult
        Every rule with its verdict and reason.
    overall : str
        Worst verdict of the rules.
    use : str
        Intended use the rules were applied for.
    flags : list of str
        Project flags declared.
    activity : str or None
        Declared human activity (``domain/data/ecology.yaml``) the 生态保护红线 and
        自然保护地 rules judged, None if none was declared.
    messages : list of str
        Chinese notes (repairs, assumptions, site outside the extent).
    sources : dict
        Dataset → version used (reproducibility).
    parcels : list of CheckResult
        Per-parcel results of a multi-parcel site (empty otherwise).
    by_unit : dict
        坐落单位 (village code, the first 12 characters of ZLDWDM) → area (m²).
    geometry : shapely geometry
        The site (EPSG:4490), not serialised.
    file_name : str or None
        Site file.
    source_crs : str or None
        CRS of the site file.
    kind : str
        ``"面"``; ``"线"`` or ``"点"`` for a line or point site (图形属性 of a 报盘
        file): then no area is reported (``area_m2`` is 0 and serialised as null),
        no area rule is applied, and :attr:`crossed` says what it meets.
    length_m : float or None
        Geodesic length of a line site.
    crossed : dict or None
        Line/point sites: ``classes`` (DLTB classes met, with ``length_m`` and
        ``bsm``), ``layers`` (check layers: ``ids`` met and ``length_m`` inside)
        and ``extent`` (``outside_m`` of a line, ``outside_points`` of points).
    project_name : str or None
        The project's name given by the site file (项目名称), for the report.
    assessment : dict or None
        The 地质灾害危险性评估 grade the project needs (``importance``, ``complexity``,
        ``complexity_given``, ``grade``, ``standard``), when the caller gave the 建设项目重要性.
    """

    name: str
    area_m2: float
    classes: list[ClassArea]
    by_group: dict[str, float]
    cultivated: dict[str, Any]
    layers: dict[str, LayerResult]
    extent: dict[str, Any]
    rules: list[RuleResult]
    overall: str
    use: str
    flags: list[str]
    messages: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    parcels: list[CheckResult] = field(default_factory=list)
    by_unit: dict[str, float] = field(default_factory=dict)
    geometry: Any = None
    file_name: str | None = None
    source_crs: str | None = None
    kind: str = "面"
    length_m: float | None = None
    crossed: dict[str, Any] | None = None
    project_name: str | None = None
    assessment: dict[str, Any] | None = None
    activity: str | None = None

    @property
    def by_dlbm(self) -> dict[str, float]:
        """DLBM → area (m²)."""
        return {c.dlbm: c.area_m2 for c in self.classes}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict.

        Keys: ``name``, ``site_area_m2`` (+ ``_ha``, ``_mu``), ``by_dlbm``,
        ``classes``, ``by_group``, ``by_unit``, ``cultivated``, ``tiankan`` (the 田坎
        share under the site as 1203: ``dlbm``, ``area_m2``, ``by_dlbm``), ``layers``, ``extent``,
        ``rules`` (each with ``id``, ``rule``, ``verdict``, ``reason``,
        ``basis``), ``overall``, ``use``, ``flags``, ``messages``,
        ``sources``, ``file``, ``source_crs``, and ``parcels`` (one such dict
        per parcel, only for a multi-parcel site).
        """
        if self.kind != "面":
            return self._linear_dict()
        cult = self.cultivated
        d: dict[str, Any] = {
            "name": self.name,
            "project_name": self.project_name,
            "kind": self.kind,
            "file": self.file_name,
            "source_crs": self.source_crs,
            "use": self.use,
            "flags": list(self.flags),
            "activity": self.activity,
            "site_area_m2": _r(self.area_m2),
            "site_area_ha": _r(_ha(self.area_m2), 4),
            "site_area_mu": _r(_mu(self.area_m2)),
            "by_dlbm": {c.dlbm: _r(c.area_m2) for c in self.classes},
            "classes": [c.to_dict() for c in self.classes],
            "by_group": {k: _r(v) for k, v in self.by_group.items()},
            "by_unit": {k: _r(v) for k, v in self.by_unit.items()},
            "tiankan": {
                "dlbm": TIANKAN_DLBM,
                "area_m2": _r(sum(c.tiankan_m2 for c in self.classes)),
                "by_dlbm": {c.dlbm: _r(c.tiankan_m2) for c in self.classes if c.tiankan_m2 > 0},
            },
            "cultivated": {
                "area_m2": _r(cult["area_m2"]),
                "tbdlmj_m2": _r(cult["tbdlmj_m2"]),
                "tiankan_m2": _r(cult.get("tiankan_m2", 0.0)),
                "area_mu": _r(_mu(cult["area_m2"])),
                "tbdlmj_mu": _r(_mu(cult["tbdlmj_m2"])),
                "by_dlbm": {k: _r(v) for k, v in cult["by_dlbm"].items()},
                "by_slope": {k: _r(v) for k, v in cult["by_slope"].items()},
            },
            "layers": {k: v.to_dict() for k, v in self.layers.items()},
            "extent": {
                "inside_m2": _r(self.extent["inside_m2"]),
                "outside_m2": _r(self.extent["outside_m2"]),
                "outside_ratio": _r(self.extent["outside_ratio"], 6),
                "basis": self.extent["basis"],
            },
            "rules": [r.to_dict() for r in self.rules],
            "overall": self.overall,
            "messages": list(self.messages),
            "sources": dict(self.sources),
        }
        if self.parcels:
            d["parcels"] = [p.to_dict() for p in self.parcels]
        if self.assessment is not None:
            d["assessment"] = dict(self.assessment)
        return d

    def _linear_dict(self) -> dict[str, Any]:
        """A line or point site: length and what it meets, never an area."""
        d: dict[str, Any] = {
            "name": self.name, "project_name": self.project_name, "kind": self.kind,
            "file": self.file_name, "source_crs": self.source_crs, "use": self.use,
            "flags": list(self.flags), "site_area_m2": None, "site_area_ha": None,
            "site_area_mu": None,
            "length_m": _r(self.length_m) if self.length_m is not None else None,
            "crossed": self.crossed, "rules": [], "overall": self.overall,
            "messages": list(self.messages), "sources": dict(self.sources),
        }
        if self.parcels:
            d["parcels"] = [p.to_dict() for p in self.parcels]
        if self.assessment is not None:
            d["assessment"] = dict(self.assessment)
        return d


# ---------------------------------------------------------------------------
# warm layers


@dataclass
class _Loaded:
    """A layer held in memory with its spatial index."""

    spec: LayerSpec | None
    version: str
    geoms: NDArray[np.object_]
    ids: NDArray[np.object_]
    groups: NDArray[np.object_] | None
    tree: shapely.STRtree
    bounds: tuple[float, float, float, float]
    attrs: list[dict[str, Any]] | None = None
    points: bool = False


def _text_array(series: pd.Series | None, n: int, default: str = "") -> NDArray[np.object_]:
    """Attribute values as stripped text (integral floats without ".0"; missing → default)."""
    if series is None:
        return np.full(n, default, dtype=object)
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        if np.array_equal(finite, np.round(finite)):
            series = series.astype("Int64")
    text = series.astype("string").str.strip()
    text = text.fillna(default).replace("", default)
    return text.to_numpy(dtype=object)


def _read(store: Store, dataset: str, version: str, columns: list[str]) -> gpd.GeoDataFrame:
    """Read the wanted columns that exist (backends may refuse unknown columns)."""
    try:
        return store.read(dataset, version, columns=columns)
    except Exception:  # noqa: BLE001 - fall back to the columns the layer has
        have = list(store.read(dataset, version, where="1=0").columns)
        return store.read(dataset, version, columns=[c for c in columns if c in have])


def _geoms(gdf: gpd.GeoDataFrame, *, repair: bool = True) -> NDArray[np.object_]:
    """Geometries of a layer; missing ones empty, invalid ones repaired when ``repair``."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.Polygon()
    if repair:
        invalid = ~shapely.is_valid(geoms)
        if invalid.any():  # one bad control polygon must not break every check
            geoms = geoms.copy()
            geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms


class SiteChecker:
    """Checks sites against one workspace; load once, check many times.

    Parameters
    ----------
    store : Store
        The workspace.
    check_layers : path, list or None
        Check layers (see :func:`onemap.control.layers.resolve_check_layers`).
    rules : path or RuleSet, optional
        Rule file (default: the shipped ``rules.yaml``).
    versions : dict, optional
        Dataset → version to use (default: the latest of each).
    dltb : str
        Dataset name of the land-class patches.
    min_piece_m2 : float
        Pieces smaller than this are edge noise: not counted as a hit.
    progress : callable, optional
        ``progress(step, done, total)`` while loading.
    linear_verdict : str
        Overall verdict of a line or point site, to which the area rules do not
        apply (default 需论证: an officer weighs what it crosses).

    Raises
    ------
    onemap.errors.WorkspaceError
        If the workspace has no DLTB.

    Examples
    --------
    >>> checker = SiteChecker(store)                      # doctest: +SKIP
    >>> result = checker.check(site_gdf, use="工业")        # doctest: +SKIP
    >>> result.to_dict()["rules"][0]["verdict"]          # doctest: +SKIP
    '符合'
    """

    def __init__(
        self,
        store: Store,
        check_layers: str | Path | Iterable[str | LayerSpec | dict] | None = None,
        *,
        rules: str | Path | RuleSet | None = None,
        versions: dict[str, str] | None = None,
        dltb: str = "DLTB",
        min_piece_m2: float = 0.01,
        progress: Callable[[str, int, int], None] | None = None,
        linear_verdict: str = "需论证",
    ):
        self.store = store
        self.linear_verdict = linear_verdict
        self.rules = rules if isinstance(rules, RuleSet) else load_rules(rules)
        self.min_piece_m2 = float(min_piece_m2)
        versions = dict(versions or {})
        catalog = [d for d in store.datasets() if d.versions]
        names = {d.name for d in catalog}
        self.specs = resolve_check_layers(((d.name, d.title, d.kind) for d in catalog),
                                          check_layers)
        if dltb not in names:
            raise WorkspaceError(
                f"工作空间 {getattr(store, 'location', '')} 中没有地类图斑（{dltb}），"
                "无法进行合规性审查；请先入库 DLTB")
        steps = 1 + len(self.specs) + 1
        done = 0

        def tick(step: str) -> None:
            nonlocal done
            if progress:
                progress(step, done, steps)
            done += 1

        tick(f"载入 {dltb}")
        self.dltb_name = dltb
        self.sources: dict[str, str] = {}
        self._load_dltb(dltb, versions.get(dltb))
        self.layers: dict[str, _Loaded] = {}
        self.missing: dict[str, str] = {}
        for spec in self.specs:
            tick(f"载入 {spec.title}")
            if spec.dataset in names:
                self.layers[spec.dataset] = self._load_layer(spec, versions.get(spec.dataset))
                continue
            from_register = self._load_register(spec)
            if from_register is None:
                self.missing[spec.dataset] = spec.title
                continue
            self.layers[spec.dataset] = from_register
        tick("载入范围")
        self.extent_basis = "DLTB"
        self._xzq: _Loaded | None = None
        if "XZQ" in names:
            self._xzq = self._load_layer(None, versions.get("XZQ"), dataset="XZQ")
            self.extent_basis = "XZQ"
        b = [self._dltb_bounds] + ([self._xzq.bounds] if self._xzq is not None else [])
        self.bounds = (min(x[0] for x in b), min(x[1] for x in b),
                       max(x[2] for x in b), max(x[3] for x in b))
        self._cut_sources = self._sources()
        if progress:
            progress("完成", steps, steps)

    # ------------------------------------------------------------------ loading
    def _load_dltb(self, dataset: str, version: str | None) -> None:
        from onemap.domain import land_classes

        info = self.store.version(dataset, version)
        self.sources[dataset] = info.version
        gdf = _read(self.store, dataset, info.version, DLTB_COLUMNS)
        n = len(gdf)
        if n == 0:
            raise WorkspaceError(f"{dataset} {info.version} 没有图斑，无法进行合规性审查")
        # DLTB went through ingest (validated and repaired); checking 10⁶ patches again would
        # cost seconds at every load, so invalid patches are repaired only if GEOS trips on one.
        self._dltb_geoms = _geoms(gdf, repair=False)
        self._dltb_tree = shapely.STRtree(self._dltb_geoms)
        self._dltb_bounds = tuple(float(v) for v in shapely.total_bounds(self._dltb_geoms))
        dlbm = _text_array(gdf.get("DLBM"), n, "")
        codes, inverse = np.unique(dlbm.astype(str), return_inverse=True)
        self._dlbm_codes = codes
        self._dlbm_idx = inverse.astype(np.int32)
        lc = land_classes()
        self._code_name = []
        self._code_group = []
        for i, code in enumerate(codes):
            try:
                self._code_name.append(lc.name(code))
                self._code_group.append(lc.bulletin_group(code))
            except KeyError:  # not a 三调 code: keep the name the data gives
                dlmc = gdf["DLMC"].iloc[int(np.argmax(inverse == i))] if "DLMC" in gdf else ""
                self._code_name.append(str(dlmc or "").strip() or "未知地类")
                self._code_group.append("未知地类")
        self._code_cultivated = np.array([lc.is_cultivated(c) for c in codes], dtype=bool)
        kcxs = pd.to_numeric(gdf["KCXS"], errors="coerce").to_numpy(dtype=float) \
            if "KCXS" in gdf.columns else np.zeros(n)
        self._kcxs = np.nan_to_num(kcxs, nan=0.0)
        self._gdpdjb = _text_array(gdf.get("GDPDJB"), n, "未填")
        self._bsm = _text_array(gdf.get("BSM"), n, "")
        missing_bsm = self._bsm == ""
        if missing_bsm.any():
            self._bsm[missing_bsm] = [f"第{i + 1}行" for i in np.flatnonzero(missing_bsm)]
        zl = gdf["ZLDWDM"] if "ZLDWDM" in gdf.columns else pd.Series([""] * n)
        village = zl.astype("string").str.strip().str.slice(0, 12).fillna("")
        units, unit_idx = np.unique(village.to_numpy(dtype=str), return_inverse=True)
        self._units = units
        self._unit_idx = unit_idx.astype(np.int32)

    def _load_layer(self, spec: LayerSpec | None, version: str | None,
                    dataset: str | None = None) -> _Loaded:
        name = spec.dataset if spec is not None else str(dataset)
        info = self.store.version(name, version)
        self.sources[name] = info.version
        cols = []
        if spec is not None:
            cols = [spec.id_field] + ([spec.group_field] if spec.group_field else [])
        if spec is not None:
            cols += [a for a in spec.attributes if a not in cols]
        gdf = _read(self.store, name, info.version, cols)
        n = len(gdf)
        geoms = _geoms(gdf)
        ids = _text_array(gdf.get(spec.id_field) if spec is not None else None, n, "")
        empty = ids == ""
        if empty.any():
            ids[empty] = [f"第{i + 1}行" for i in np.flatnonzero(empty)]
        groups = None
        if spec is not None and spec.group_field:
            groups = _text_array(gdf.get(spec.group_field), n, "未填")
        attrs = None
        if spec is not None and spec.attributes:
            columns = {a: _text_array(gdf.get(a), n, "") for a in spec.attributes}
            attrs = [{a: str(columns[a][i]) for a in spec.attributes} for i in range(n)]
        return self._loaded(spec, info.version, geoms, ids, groups, attrs)

    def _loaded(self, spec: LayerSpec | None, version: str, geoms: NDArray[np.object_],
                ids: NDArray[np.object_], groups: NDArray[np.object_] | None,
                attrs: list[dict[str, Any]] | None) -> _Loaded:
        bounds = tuple(float(v) for v in shapely.total_bounds(geoms)) if len(geoms) else (0, 0, 0, 0)
        shapely.prepare(geoms)  # control polygons are tested whole against every site
        points = spec is not None and spec.buffer_m is not None
        return _Loaded(spec, version, geoms, ids, groups, shapely.STRtree(geoms), bounds, attrs,
                       points)

    def _load_register(self, spec: LayerSpec) -> _Loaded | None:
        """A check layer read from the register (台账) of the same name, or None.

        Records in the spec's ``register_states`` are read; a register without any record
        (in any state) is not in the workspace (None: 未入库，未检查).
        """
        if spec.register_states is None:
            return None
        engine = self.store.sql_engine()
        records = register_store.geometry_records(engine, spec.dataset, states=spec.register_states)
        if not records and not register_store.geometry_records(engine, spec.dataset):
            return None
        n = len(records)
        geoms = np.empty(n, dtype=object)
        geoms[:] = [g for _, _, g in records]
        bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        geoms[bad] = shapely.Polygon()
        invalid = ~shapely.is_valid(geoms)
        if invalid.any():
            geoms[invalid] = shapely.make_valid(geoms[invalid])

        def text(value: Any, default: str) -> str:
            t = "" if value is None else str(value).strip()
            return t or default

        ids = np.array([text(no, f"第{i + 1}条") for i, (no, _, _) in enumerate(records)],
                       dtype=object)
        groups = None
        if spec.group_field:
            groups = np.array([text(v.get(spec.group_field), "未填") for _, v, _ in records],
                              dtype=object)
        attrs = ([{a: text(v.get(a), "") for a in spec.attributes} for _, v, _ in records]
                 if spec.attributes else None)
        self.sources[spec.dataset] = REGISTER_VERSION
        return self._loaded(spec, REGISTER_VERSION, geoms, ids, groups, attrs)

    # ------------------------------------------------------------------ measuring
    def _sources(self) -> list[tuple[str, NDArray[np.object_], shapely.STRtree, bool]]:
        """(key, geometries, tree, large) of every layer a site is cut with."""
        out = [(self.dltb_name, self._dltb_geoms, self._dltb_tree, False)]
        out += [(ds, ld.geoms, ld.tree, True) for ds, ld in self.layers.items() if not ld.points]
        if self._xzq is not None:
            out.append(("\0XZQ", self._xzq.geoms, self._xzq.tree, True))
        return out

    def _cut(self, g: shapely.Geometry) -> tuple[float, dict[str, tuple[NDArray[np.intp],
                                                                     NDArray[np.float64],
                                                                     NDArray[np.object_]]]]:
        """Cut the site with every layer at once; one area computation for all pieces.

        Returns the site area and, per layer, (feature indices, piece areas,
        pieces) of the pieces above ``min_piece_m2``. Candidates wholly inside
        the site keep their geometry; a site wholly inside a (large) control
        polygon is its own piece; only the rest is intersected.
        """
        shapely.prepare(g)
        keys, idxs, cands, large = [], [], [], []
        for key, geoms, tree, big in self._cut_sources:
            idx = tree.query(g, predicate="intersects")
            keys.append(key)
            idxs.append(idx)
            cands.append(geoms[idx])
            large.append(np.full(len(idx), big))
        cand = np.concatenate(cands) if cands else np.zeros(0, dtype=object)
        pieces = np.empty(len(cand), dtype=object)
        if len(cand):
            inside = shapely.contains_properly(g, cand)
            pieces[inside] = cand[inside]
            big = np.concatenate(large) & ~inside
            covers = np.zeros(len(cand), dtype=bool)
            if big.any():
                covers[big] = shapely.contains_properly(cand[big], g)
            pieces[covers] = g
            cut = ~(inside | covers)
            if cut.any():
                try:
                    pieces[cut] = _polygonal(shapely.intersection(g, cand[cut]))
                except shapely.errors.GEOSException:  # an invalid patch: repair and retry
                    pieces[cut] = _polygonal(
                        shapely.intersection(g, shapely.make_valid(cand[cut])))
        areas = ellipsoidal_area(np.concatenate([np.array([g], dtype=object), pieces]))
        site_area, areas = float(areas[0]), areas[1:]
        out = {}
        start = 0
        for key, idx in zip(keys, idxs, strict=True):
            a = areas[start:start + len(idx)]
            p = pieces[start:start + len(idx)]
            start += len(idx)
            keep = a > self.min_piece_m2
            out[key] = (idx[keep], a[keep], p[keep])
        return site_area, out

    def _measure(self, g: shapely.Geometry, name: str) -> dict[str, Any]:
        """Everything but the rules, for one polygon."""
        site_area, cut = self._cut(g)
        # DLTB
        rows, areas, _ = cut[self.dltb_name]
        tiankan = areas * self._kcxs[rows]  # the 田坎 share (1203) of cut patches
        tbdlmj = areas - tiankan
        code_idx = self._dlbm_idx[rows]
        classes: list[ClassArea] = []
        by_group: dict[str, float] = {}
        cult_by_dlbm: dict[str, float] = {}
        cult_by_slope: dict[str, float] = {}
        cult_area = cult_tbdlmj = cult_tiankan = 0.0
        if len(rows):
            uniq, inv = np.unique(code_idx, return_inverse=True)
            a_sum = np.bincount(inv, weights=areas, minlength=len(uniq))
            t_sum = np.bincount(inv, weights=tbdlmj, minlength=len(uniq))
            k_sum = np.bincount(inv, weights=tiankan, minlength=len(uniq))
            counts = np.bincount(inv, minlength=len(uniq))
            for k, ci in enumerate(uniq):  # uniq is sorted, so classes come in DLBM order
                group = self._code_group[ci]
                bsm = sorted(self._bsm[rows[inv == k]].tolist(), key=_id_key)
                classes.append(ClassArea(str(self._dlbm_codes[ci]), self._code_name[ci], group,
                                         float(a_sum[k]), float(t_sum[k]), int(counts[k]), bsm,
                                         float(k_sum[k])))
                by_group[group] = by_group.get(group, 0.0) + float(a_sum[k])
                if self._code_cultivated[ci]:
                    cult_by_dlbm[classes[-1].dlbm] = float(a_sum[k])
            cult = self._code_cultivated[code_idx]
            if cult.any():
                cult_area = float(areas[cult].sum())
                cult_tbdlmj = float(tbdlmj[cult].sum())
                cult_tiankan = float(tiankan[cult].sum())
                for s_val, a in zip(self._gdpdjb[rows[cult]], areas[cult], strict=True):
                    cult_by_slope[s_val] = cult_by_slope.get(s_val, 0.0) + float(a)
                cult_by_slope = dict(sorted(cult_by_slope.items()))
        by_unit: dict[str, float] = {}
        if len(rows):
            uu, ui = np.unique(self._unit_idx[rows], return_inverse=True)
            for code_i, a in zip(uu, np.bincount(ui, weights=areas), strict=True):
                by_unit[str(self._units[code_i]) or "未填"] = float(a)
        covered = float(areas.sum())
        # check layers: ids and pieces now, union areas below in one area computation
        pending: list[tuple[str, str, str | None, int]] = []  # (dataset, what, key, union index)
        unions: list[shapely.Geometry] = []
        layers: dict[str, LayerResult] = {}
        for spec in self.specs:
            loaded = self.layers.get(spec.dataset)
            if loaded is None:
                layers[spec.dataset] = LayerResult(spec.dataset, spec.title, spec.kind, MISSING)
                continue
            if loaded.points:
                layers[spec.dataset] = self._near(g, spec, loaded)
                continue
            idx, a, pieces = cut[spec.dataset]
            lr = LayerResult(spec.dataset, spec.title, spec.kind, CHECKED, loaded.version,
                             float(a.sum()), sorted(set(loaded.ids[idx].tolist()), key=_id_key),
                             fields=dict(spec.attributes))
            layers[spec.dataset] = lr
            if len(idx) > 1:
                pending.append((spec.dataset, "all", None, len(unions)))
                unions.append(shapely.union_all(pieces))
            if loaded.groups is not None and len(idx):
                vals = loaded.groups[idx]
                for v in sorted(set(vals.tolist())):
                    m = vals == v
                    lr.by_group[v] = float(a[m].sum())
                    if m.sum() > 1:
                        pending.append((spec.dataset, "group", v, len(unions)))
                        unions.append(shapely.union_all(pieces[m]))
            if loaded.attrs is not None:
                fids = loaded.ids[idx]
                for fid in lr.ids:
                    m = fids == fid
                    first = int(idx[np.flatnonzero(m)[0]])
                    lr.features.append({"id": fid, "area_m2": float(a[m].sum()),
                                        **loaded.attrs[first]})
                    if m.sum() > 1:
                        pending.append((spec.dataset, "feature", fid, len(unions)))
                        unions.append(shapely.union_all(pieces[m]))
        if unions:  # features of one layer may overlap: count the ground once
            union_areas = ellipsoidal_area(np.asarray(unions, dtype=object))
            for ds, what, key, k in pending:
                if what == "all":
                    layers[ds].area_m2 = float(union_areas[k])
                elif what == "group":
                    layers[ds].by_group[str(key)] = float(union_areas[k])
                else:
                    for f in layers[ds].features:
                        if f["id"] == key:
                            f["area_m2"] = float(union_areas[k])
        for lr in layers.values():
            if lr.status != CHECKED:
                continue
            lr.area_m2 = min(lr.area_m2, site_area)
            lr.by_group = {k: min(v, site_area) for k, v in lr.by_group.items()}
            for f in lr.features:
                if "area_m2" in f:
                    f["area_m2"] = min(f["area_m2"], site_area)
            if lr.kind == "boundary":
                lr.outside_m2 = max(site_area - lr.area_m2, 0.0)
                if lr.outside_m2 < max(self.min_piece_m2, 1e-9 * site_area):
                    lr.outside_m2 = 0.0
        # extent
        if self._xzq is not None:
            covered = float(cut["\0XZQ"][1].sum())
        inside_ext = min(covered, site_area)
        outside = site_area - inside_ext
        if outside < max(self.min_piece_m2, 1e-9 * site_area):
            outside = 0.0
        extent = {"inside_m2": inside_ext, "outside_m2": outside,
                  "outside_ratio": outside / site_area if site_area > 0 else 1.0,
                  "basis": self.extent_basis}
        return {
            "name": name, "area_m2": site_area, "classes": classes, "by_group": by_group,
            "cultivated": {"area_m2": cult_area, "tbdlmj_m2": cult_tbdlmj,
                           "tiankan_m2": cult_tiankan,
                           "by_dlbm": cult_by_dlbm, "by_slope": cult_by_slope},
            "layers": layers, "extent": extent, "by_unit": by_unit,
        }

    def _near(self, g: shapely.Geometry, spec: LayerSpec, loaded: _Loaded) -> LayerResult:
        """A point layer: the features within ``buffer_m`` of the site, nearest first."""
        buffer_m = float(spec.buffer_m or 0.0)
        idx, dist = points_within(g, loaded.geoms, loaded.tree, buffer_m)
        ids = [str(loaded.ids[i]) for i in idx]
        lr = LayerResult(spec.dataset, spec.title, spec.kind, CHECKED, loaded.version, 0.0,
                         list(dict.fromkeys(ids)), buffer_m=buffer_m, fields=dict(spec.attributes))
        for i, d in zip(idx, dist, strict=True):
            lr.features.append({"id": str(loaded.ids[i]), "distance_m": float(d),
                                **(loaded.attrs[i] if loaded.attrs is not None else {})})
        return lr

    def _facts(self, m: dict[str, Any], use: str, flags: list[str],
               activity: str | None = None) -> Facts:
        num: dict[str, float] = {
            "site.area_m2": m["area_m2"],
            "extent.outside_m2": m["extent"]["outside_m2"],
            "extent.inside_m2": m["extent"]["inside_m2"],
            "extent.outside_ratio": m["extent"]["outside_ratio"],
            "cultivated.area_m2": m["cultivated"]["area_m2"],
            "cultivated.tbdlmj_m2": m["cultivated"]["tbdlmj_m2"],
            "cultivated.tiankan_m2": m["cultivated"]["tiankan_m2"],
            "tiankan.area_m2": sum(c.tiankan_m2 for c in m["classes"]),
        }
        for c in m["classes"]:
            num[f"dlbm.{c.dlbm}.area_m2"] = c.area_m2
            num[f"dlbm.{c.dlbm}.tbdlmj_m2"] = c.tbdlmj_m2
            num[f"dlbm.{c.dlbm}.tiankan_m2"] = c.tiankan_m2
            num[f"group.{c.group}.area_m2"] = num.get(f"group.{c.group}.area_m2", 0.0) + c.area_m2
            num[f"group.{c.group}.tbdlmj_m2"] = (
                num.get(f"group.{c.group}.tbdlmj_m2", 0.0) + c.tbdlmj_m2)
        for s_val, a in m["cultivated"]["by_slope"].items():
            num[f"cultivated.slope.{s_val}.area_m2"] = a
        texts = {"use": use, "site.name": m["name"]}
        for ds, lr in m["layers"].items():
            texts[f"layer.{ds}.title"] = lr.title
            if lr.status != CHECKED:
                continue
            num[f"layer.{ds}.area_m2"] = lr.area_m2
            num[f"layer.{ds}.count"] = float(len(lr.ids))
            if lr.outside_m2 is not None:
                num[f"layer.{ds}.outside_m2"] = lr.outside_m2
            for v, a in lr.by_group.items():
                num[f"layer.{ds}.group.{v}.area_m2"] = a
            texts[f"layer.{ds}.ids"] = _ids_text(lr.ids)
            if lr.features:
                texts[f"layer.{ds}.features"] = _features_text(lr.features)
                spec = self.layers[ds].spec
                gf = spec.group_field if spec is not None else None
                for v in lr.by_group:
                    hit = [f["id"] for f in lr.features if gf and f.get(gf) == v]
                    if hit:
                        texts[f"layer.{ds}.group.{v}.ids"] = _ids_text(hit)
            if lr.buffer_m is not None:
                num[f"layer.{ds}.buffer_m"] = lr.buffer_m
                if lr.features:
                    num[f"layer.{ds}.nearest_m"] = lr.features[0]["distance_m"]
        return Facts(num, texts, use, set(flags), dict(self.missing), self.rules.tolerance_m2,
                     activity=activity)

    def _result(self, g: shapely.Geometry, name: str, use: str, flags: list[str],
                activity: str | None = None) -> CheckResult:
        m = self._measure(g, name)
        rules = apply_rules(self.rules, self._facts(m, use, flags, activity))
        messages = []
        ratio = m["extent"]["outside_ratio"]
        if ratio >= 0.999:
            messages.append(f"“{name}”完全位于工作空间数据范围之外（数据范围经度 "
                            f"{self.bounds[0]:.4f}–{self.bounds[2]:.4f}，纬度 {self.bounds[1]:.4f}–"
                            f"{self.bounds[3]:.4f}），无法审查，请核实坐标")
        elif m["extent"]["outside_m2"] > 0:
            messages.append(f"“{name}”有 {m['extent']['outside_m2']:.2f} 平方米位于工作空间数据"
                            "范围之外，该部分未审查")
        for lr in m["layers"].values():
            if lr.status == MISSING:
                messages.append(f"{lr.title}（{lr.dataset}）未入库，未检查")
        return CheckResult(
            name=name, area_m2=m["area_m2"], classes=m["classes"], by_group=m["by_group"],
            cultivated=m["cultivated"], layers=m["layers"], extent=m["extent"], rules=rules,
            overall=worst([r.verdict for r in rules]), use=use, flags=list(flags),
            messages=messages, sources=dict(self.sources), by_unit=m["by_unit"], geometry=g,
            activity=activity,
        )

    # ------------------------------------------------------------------ public
    def check(
        self,
        site: Site | gpd.GeoDataFrame | shapely.Geometry,
        *,
        use: str | None = None,
        flags: Iterable[str] | None = None,
        name: str | None = None,
        activity: str | None = None,
    ) -> CheckResult:
        """Check a site.

        Parameters
        ----------
        site : Site, GeoDataFrame or shapely geometry
            A prepared :class:`Site`; a GeoDataFrame (one row per parcel,
            prepared here: CRS, validity); or one valid lon/lat polygon in
            EPSG:4490 (the fast path).
        use : str, optional
            Intended use (拟用途), one of the rule file's ``uses``; default its
            ``default_use``.
        flags : iterable of str, optional
            Project flags of the rule file (e.g. ``"国家重大项目"``).
        name : str, optional
            Display name of the whole site.
        activity : str, optional
            The human activity the project is (``domain/data/ecology.yaml``, e.g.
            ``"线性基础设施"``); the 生态保护红线 and 自然保护地 rules judge it by zone.

        Returns
        -------
        CheckResult
            For several parcels: the whole site (their union), with
            :attr:`CheckResult.parcels` holding one result per parcel.

        Raises
        ------
        onemap.errors.InputError
            Unknown use, flag or activity; invalid, unrepairable or mis-located parcels.
        """
        use_ = self.rules.check_use(use)
        flags_ = self.rules.check_flags(list(flags or []))
        act = self.rules.check_activity(activity)
        if isinstance(site, shapely.Geometry):
            return self._any_result(site, name or "地块", use_, flags_, act)
        if isinstance(site, gpd.GeoDataFrame):
            site = prepare_site(site, file_name=name or "<地块>")
        geoms = list(site.gdf.geometry.values)
        names = site.names
        shapes = site.shapes
        if len(geoms) == 1:
            result = self._any_result(geoms[0], name or names[0], use_, flags_, act)
        else:
            polys = [g for g, s in zip(geoms, shapes, strict=True) if s == "面"]
            whole = name or f"{site.name or site.file_name}（{len(geoms)} 个地块合计）"
            total = shapely.union_all(np.asarray(polys or geoms, dtype=object))
            result = (self._result if polys else self._linear_result)(total, whole, use_, flags_,
                                                                        act)
            result.parcels = [self._any_result(g, n, use_, flags_, act)
                              for g, n in zip(geoms, names, strict=True)]
            linear = [p for p in result.parcels if p.kind != "面"]
            if polys and linear:
                result.overall = worst([result.overall] + [p.overall for p in linear])
                result.messages.append(
                    "合计面积只含面状地块；线状、点状地块（" + "、".join(p.name for p in linear)
                    + "）不计面积，另列")
        result.messages = list(site.messages) + result.messages
        result.file_name = site.file_name
        result.source_crs = site.source_crs
        result.project_name = name or site.name
        return result

    def _any_result(self, g: shapely.Geometry, name: str, use: str,
                    flags: list[str], activity: str | None = None) -> CheckResult:
        if shapely.get_type_id(g) in (3, 6):
            return self._result(g, name, use, flags, activity)
        return self._linear_result(g, name, use, flags, activity)

    def _linear_result(self, g: shapely.Geometry, name: str, use: str,
                       flags: list[str], activity: str | None = None) -> CheckResult:
        """A line or point site: what it crosses or falls in, its length; no area, no area rule."""
        kind = "点" if shapely.get_type_id(g) in POINT_TYPES else "线"
        idx, lengths = crossings(g, self._dltb_geoms, self._dltb_tree)
        codes = self._dlbm_idx[idx]
        classes = []
        for ci in np.unique(codes):
            m = codes == ci
            classes.append({"dlbm": str(self._dlbm_codes[ci]), "dlmc": self._code_name[ci],
                            "group": self._code_group[ci], "length_m": _r(lengths[m].sum()),
                            "bsm": sorted(self._bsm[idx[m]].tolist(), key=_id_key)})
        layers: dict[str, dict[str, Any]] = {}
        messages = [f"“{name}”为{kind}状地块（图形属性为{kind}）：不计面积，列出其"
                    f"{'穿越' if kind == '线' else '所在'}的地类图斑和控制线；用途管制规则按面积判定，"
                    "对其不适用，须逐项论证"]
        for spec in self.specs:
            loaded = self.layers.get(spec.dataset)
            if loaded is None:
                layers[spec.dataset] = {"title": spec.title, "kind": spec.kind,
                                        "status": MISSING, "ids": [], "count": 0}
                messages.append(f"{spec.title}（{spec.dataset}）未入库，未检查")
                continue
            if loaded.points:  # points within the buffer of the line or points, nearest first
                near = self._near(g, spec, loaded)
                layers[spec.dataset] = {"title": spec.title, "kind": spec.kind, "status": CHECKED,
                                        "version": loaded.version, "ids": near.ids,
                                        "count": len(near.ids), "buffer_m": near.buffer_m,
                                        "fields": near.fields,
                                        "features": near.to_dict()["features"]}
                continue
            li, _ = crossings(g, loaded.geoms, loaded.tree)
            ids = sorted(set(loaded.ids[li].tolist()), key=_id_key)
            entry: dict[str, Any] = {"title": spec.title, "kind": spec.kind, "status": CHECKED,
                                     "version": loaded.version, "ids": ids, "count": len(ids)}
            if kind == "线":
                inside = shapely.intersection(g, shapely.union_all(loaded.geoms[li])) \
                    if len(li) else None
                entry["length_m"] = _r(geodesic_length(inside))
            layers[spec.dataset] = entry
        cover_geoms = (self._xzq.geoms[crossings(g, self._xzq.geoms, self._xzq.tree)[0]]
                       if self._xzq is not None else self._dltb_geoms[idx])
        outside = shapely.difference(g, shapely.union_all(cover_geoms))
        extent: dict[str, Any] = {"basis": self.extent_basis}
        if kind == "线":
            extent["outside_m"] = _r(geodesic_length(outside))
        else:
            extent["outside_points"] = 0 if outside.is_empty else len(shapely.get_parts(outside))
        return CheckResult(
            name=name, area_m2=0.0, classes=[], by_group={},
            cultivated={"area_m2": 0.0, "tbdlmj_m2": 0.0, "by_dlbm": {}, "by_slope": {}},
            layers={}, extent={"inside_m2": 0.0, "outside_m2": 0.0, "outside_ratio": 0.0,
                               "basis": self.extent_basis},
            rules=[], overall=self.linear_verdict, use=use, flags=list(flags),
            messages=messages, sources=dict(self.sources), geometry=g, kind=kind, activity=activity,
            length_m=geodesic_length(g) if kind == "线" else None,
            crossed={"classes": classes, "layers": layers, "extent": extent})

    def features_near(self, dataset: str, bbox: tuple[float, float, float, float],
                      ) -> tuple[NDArray[np.object_], NDArray[np.object_] | None]:
        """Geometries (and DLBM for DLTB, groups else) of a layer inside a box, for maps.

        Parameters
        ----------
        dataset : str
            DLTB, XZQ or a loaded check layer.
        bbox : tuple
            (minx, miny, maxx, maxy) lon/lat.
        """
        box = shapely.box(*bbox)
        if dataset == self.dltb_name:
            idx = self._dltb_tree.query(box, predicate="intersects")
            return self._dltb_geoms[idx], self._dlbm_codes[self._dlbm_idx[idx]]
        loaded = self._xzq if dataset == "XZQ" else self.layers.get(dataset)
        if loaded is None:
            return np.zeros(0, dtype=object), None
        idx = loaded.tree.query(box, predicate="intersects")
        return loaded.geoms[idx], (loaded.groups[idx] if loaded.groups is not None else None)

    def group_of(self, dlbm: str) -> str:
        """Bulletin group of a DLBM present in the DLTB (``"未知地类"`` otherwise)."""
        i = int(np.searchsorted(self._dlbm_codes, dlbm))
        if i < len(self._dlbm_codes) and self._dlbm_codes[i] == dlbm:
            return self._code_group[i]
        return "未知地类"


def _id_key(v: str) -> tuple[int, Any]:
    return (0, int(v)) if v.isdigit() else (1, v)


def _ids_text(ids: list[str]) -> str:
    if not ids:
        return "无"
    if len(ids) <= IDS_IN_REASON:
        return "、".join(ids)
    return "、".join(ids[:IDS_IN_REASON]) + f" 等 {len(ids)} 个"


def _features_text(features: list[dict[str, Any]]) -> str:
    """Features hit, for reasons: 编号（属性，重叠 x 公顷 / 距用地 x 米）, at most IDS_IN_REASON."""
    parts = []
    for f in features[:IDS_IN_REASON]:
        extra = [str(v) for k, v in f.items() if k not in ("id", "area_m2", "distance_m") and v]
        if "distance_m" in f:
            d = f["distance_m"]
            extra.append("位于用地范围内" if d <= 0 else f"距用地 {d:,.0f} 米")
        elif "area_m2" in f:
            extra.append(f"重叠 {_ha(f['area_m2']):,.2f} 公顷")
        parts.append(f"{f['id']}（{'，'.join(extra)}）" if extra else str(f["id"]))
    text = "、".join(parts)
    return text + (f" 等 {len(features)} 个" if len(features) > IDS_IN_REASON else "")


def check_site(
    store: Store,
    site: str | Path | Site | gpd.GeoDataFrame | shapely.Geometry,
    *,
    use: str | None = None,
    flags: Iterable[str] | None = None,
    activity: str | None = None,
    check_layers: str | Path | Iterable[str | LayerSpec | dict] | None = None,
    rules: str | Path | RuleSet | None = None,
    checker: SiteChecker | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    transforms: Sequence[Transformation] = (),
) -> CheckResult:
    """Check one site against a workspace (loads the layers; reuse a checker for many).

    Parameters
    ----------
    store : Store
        The workspace.
    site : path, Site, GeoDataFrame or geometry
        A site file (GeoJSON, Shapefile, zip, KML, 报盘 TXT, …) or data.
    use : str, optional
        Intended use (default: the rule file's default).
    flags : iterable of str, optional
        Project flags.
    activity : str, optional
        Declared human activity (see :meth:`SiteChecker.check`).
    check_layers, rules : optional
        See :class:`SiteChecker`.
    checker : SiteChecker, optional
        A warm checker to reuse (then ``check_layers`` and ``rules`` are ignored).
    layer, encoding, crs, transforms : optional
        Passed to :func:`onemap.control.site.read_site` for files.

    Returns
    -------
    CheckResult
    """
    if isinstance(site, str | Path):
        site = read_site(site, layer=layer, encoding=encoding, crs=crs, transforms=transforms)
    checker = checker or SiteChecker(store, check_layers, rules=rules)
    return checker.check(site, use=use, flags=flags, activity=activity)
