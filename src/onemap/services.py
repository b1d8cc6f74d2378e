"""Use cases shared by the CLI and the API: each reads through the store and calls an engine."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from onemap.analysis import tables as tb
from onemap.analysis.balance import balance_cells
from onemap.analysis.official_data import official_tables
from onemap.analysis.stats import BulletinTable, bulletin_table
from onemap.app.sample_registers import add_sample_registers
from onemap.app.workspace import prepare_relational_tables, workspace_unit_names  # noqa: F401 - re-exported
from onemap.control.check import SiteChecker
from onemap.control.report import check_context, render_site_map, write_check_docx
from onemap.control.site import read_site
from onemap.errors import InputError, Problem, WorkspaceError
from onemap.geo.transform import FitResult, Transformation, crs_key, fit, validate
from onemap.io.commonpoints import read_common_points
from onemap.ledgers.hazards import assess_project
from onemap.reports.document import setting_keys
from onemap.reports.official_sheets import group_summary_sheets, official_sheets, tabulation_sheets
from onemap.reports.xlsx import Filing, filing_from_settings, write_official_workbook
from onemap.sample.config import load_region
from onemap.store import faults, transforms
from onemap.store.base import Store


def land_use_stats(
    store: Store, *, dataset: str = "DLTB", version: str | None = None, level: str = "county"
) -> BulletinTable:
    """The 三调 bulletin table of one DLTB version.

    Parameters
    ----------
    store : Store
        Workspace.
    dataset, version : str
        Layer version to tabulate (latest when version is None).
    level : {"county", "town", "village"}
        Unit level.
    """
    info = store.version(dataset, version)
    cols = ["DLBM", "ZLDWDM", "TBDLMJ"]
    frame = store.read(dataset, info.version, columns=cols)
    if frame.empty:
        raise WorkspaceError(f"{dataset} {info.version} 没有图斑，无法统计")
    return bulletin_table(
        frame,
        level=level,
        unit_names=workspace_unit_names(store),
        source={"dataset": dataset, "version": info.version, "version_id": info.id},
    )


def write_stats_xlsx(table: BulletinTable, path: str | Path, filing: Filing | None = None,
                     region_code: str = "") -> Path:
    """Write the 地类分组 summary as filed: groups in 公顷 and 亩, and every 二级 class.

    Parameters
    ----------
    table : BulletinTable
        Result of :func:`land_use_stats`.
    path : str or Path
        Output ``.xlsx``.
    filing : Filing, optional
        Region, 填报单位 and date (:func:`report_filing`); blank when not given.
    region_code : str
        Code shown on the total row.
    """
    filing = filing or Filing(region="", filing_unit="", on=date.today())
    return write_official_workbook(path, group_summary_sheets(table, filing,
                                                              region_code=region_code), filing)


#: Chinese titles of the standard layers (for the catalog).
LAYER_TITLES = {
    "XZQ": "行政区",
    "CJDCQ": "村级调查区",
    "DLTB": "地类图斑",
    "YJJBNTTB": "永久基本农田图斑",
    "STBHHX": "生态保护红线",
    "CZKFBJ": "城镇开发边界",
    "ZRBHD": "自然保护地",
}


def build_sample_workspace(
    path: str | Path, *, patches: int = 100_000, seed: int = 2024, progress=None
) -> Store:
    """Create a workspace holding the synthetic Wuzhong sample.

    Parameters
    ----------
    path : str or Path
        New workspace location (must not exist).
    patches : int
        Approximate number of DLTB patches.
    seed : int
        Random seed; the same seed gives the same workspace content.
    progress : callable, optional
        ``progress(step, done, total)``.

    The workspace also gets the sample's register records (台账样例, marked
    synthetic: :func:`onemap.app.sample_registers.add_sample_registers`).
    """
    from onemap.sample import build_sample
    from onemap.store import build_workspace, open_workspace

    sample = build_sample(patches=patches, seed=seed, progress=progress)
    layers = getattr(sample, "layers", sample)
    meta = dict(getattr(sample, "metadata", {}) or {})
    with build_workspace(
        path, name=meta.get("name", "吴忠市自然资源一张图（模拟样例）"),
        region=str(meta.get("region", "640300")),
    ) as store:
        _fill_sample(store, layers, meta, patches=patches, seed=seed, progress=progress)
    if progress:
        progress("完成", 1, 1)
    return open_workspace(path)


def _fill_sample(store: Store, layers, meta: dict, *, patches: int, seed: int, progress) -> None:
    """Write the sample's settings and layer versions into a workspace being built."""
    import numpy as np

    from onemap.geo.area import ellipsoidal_area
    from onemap.store.base import VersionMeta

    if meta.get("region_name"):
        store.set_settings({"region_name": str(meta["region_name"])})
    total = sum(len(v) for v in layers.values())
    done = 0
    for dataset, versions in layers.items():
        for version, gdf in versions.items():
            if progress:
                progress(f"写入 {dataset} {version}", done, total)
            digest = hashlib.sha256(
                f"sample:{seed}:{patches}:{dataset}:{version}:{len(gdf)}".encode()
            ).hexdigest()
            totals = {}
            for name in ("TBMJ", "KCMJ", "TBDLMJ", "MJ", "DCMJ"):
                if name in gdf.columns:
                    totals[name] = float(np.round(gdf[name].astype(float).sum(), 2))
            if not totals:
                totals["area"] = float(np.round(ellipsoidal_area(gdf.geometry.values).sum(), 2))
            store.write_version(
                dataset,
                str(version),
                gdf,
                VersionMeta(
                    source_file=f"onemap sample --patches {patches} --seed {seed}",
                    source_checksum=digest,
                    source_crs="EPSG:4490",
                    created_by="onemap sample",
                    synthetic=True,
                    area_totals=totals,
                    notes=meta,
                ),
                title=LAYER_TITLES.get(dataset, dataset),
            )
            done += 1
            faults.point(f"sample-{done}")
    if progress:
        progress("写入台账样例", done, total)
    add_sample_registers(store, layers, load_region(), seed)


def tabulate_zones(
    store: Store,
    *,
    dataset: str = "DLTB",
    version: str | None = None,
    zones: list[str] | None = None,
    level: str = "county",
    progress=None,
):
    """Land classes inside and outside each zone layer, per unit, plus control-line conflicts.

    Parameters
    ----------
    store : Store
        Workspace.
    dataset, version : str
        DLTB version to tabulate (latest when version is None).
    zones : list of str
        Zone datasets (latest versions); default YJJBNTTB, STBHHX, CZKFBJ.
    level : {"county", "town", "village"}
        Unit level.
    progress : callable, optional
        ``progress(step, done, total)``.

    Returns
    -------
    onemap.analysis.tabulate.TabulationResult
    """
    from onemap.analysis.tabulate import tabulate

    zones = zones or ["YJJBNTTB", "STBHHX", "CZKFBJ"]
    info = store.version(dataset, version)
    dltb = store.read(dataset, info.version,
                      columns=["BSM", "DLBM", "ZLDWDM", "TBMJ", "TBDLMJ", "KCXS", "KCMJ"])
    source = {dataset: {"dataset": dataset, "version": info.version, "version_id": info.id}}
    layers = {}
    for name in zones:
        zinfo = store.version(name)
        layers[name] = store.read(name, zinfo.version)
        source[name] = {"dataset": name, "version": zinfo.version, "version_id": zinfo.id}
    return tabulate(dltb, layers, level=level, unit_names=workspace_unit_names(store), progress=progress,
                    source=source)


def write_tabulation(result, *, xlsx: str | Path | None = None, gpkg: str | Path | None = None,
                     filing: Filing | None = None, region_code: str = "") -> None:
    """Write a tabulation as XLSX as filed and/or GeoPackage (conflict polygons).

    The XLSX holds 公顷 and 亩 by county × control line, the class detail and the conflicts.
    """
    import pyogrio

    if gpkg and Path(gpkg).exists():
        raise WorkspaceError(f"输出文件已存在：{Path(gpkg)}（不会覆盖）")
    if xlsx:
        filing = filing or Filing(region="", filing_unit="", on=date.today())
        sheets = tabulation_sheets(result, filing, zone_titles=LAYER_TITLES, region_code=region_code)
        write_official_workbook(xlsx, sheets, filing)
    if gpkg:
        pyogrio.write_dataframe(result.conflicts, Path(gpkg), layer="conflicts", driver="GPKG")


#: Workspace settings written by `onemap init` / the store itself, not editable with `onemap settings`.
RESERVED_SETTINGS = ("created_at", "schema_version", "storage_crs")


def update_settings(store: Store, pairs: list[str]) -> dict[str, str]:
    """Set workspace settings from ``键=值`` texts (the document keys or their Chinese labels).

    Parameters
    ----------
    store : Store
        Workspace.
    pairs : list of str
        ``region_name=吴忠市`` or ``编制单位=吴忠市自然资源局``; an empty value removes the key.
        Allowed keys: ``name``, ``region`` and the document settings of the template
        (:func:`onemap.reports.document.setting_keys`).

    Returns
    -------
    dict
        All settings after the change.

    Raises
    ------
    onemap.errors.InputError
        A text without "=", or an unknown or reserved key (nothing is changed).
    """
    labels = {"name": "工作空间名称", "region": "行政区划代码", **setting_keys()}
    by_label = {v: k for k, v in labels.items()}
    values: dict[str, str | None] = {}
    for text in pairs:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep:
            raise InputError(f"设置项“{text}”格式错误：应为 键=值，如 编制单位=吴忠市自然资源局")
        key = by_label.get(key, key)
        if key in RESERVED_SETTINGS or key not in labels:
            allowed = "、".join(f"{v}（{k}）" for k, v in labels.items())
            raise InputError(f"不能设置“{key}”：可设置的项为 {allowed}")
        values[key] = value.strip() or None
    return store.set_settings(values) if values else store.settings()


def run_check(
    store: Store,
    site_path: str | Path,
    *,
    use: str | None = None,
    docx: str | Path | None = None,
    flags: Iterable[str] | None = None,
    map_png: str | Path | None = None,
    name: str | None = None,
    applicant: str | None = None,
    transform: str | None = None,
    importance: str | None = None,
    complexity: str | None = None,
    activity: str | None = None,
) -> dict[str, Any]:
    """The ``onemap check WS SITE [--use U] [--docx OUT]`` use case.

    Parameters
    ----------
    store : Store
        The workspace.
    site_path : str or Path
        Site file.
    use : str, optional
        Intended use (拟用途).
    docx : str or Path, optional
        Write the Chinese DOCX report there.
    flags : iterable of str, optional
        Project flags (国家重大项目 …).
    activity : str, optional
        Human activity of the project (``domain/data/ecology.yaml``), judged by zone in the
        生态保护红线 and 自然保护地 rules.
    map_png : str or Path, optional
        Also write the map picture there.
    name, applicant : str, optional
        项目名称 and 建设单位 for the report (the 报盘 项目名称 is used when the
        site file has one and no name is given; never the file name).
    transform : str, optional
        The workspace transformation for a 西安80 / 北京54 site file; by default
        the workspace's defaults are offered (a legacy 报盘 is refused when none
        serves it).
    importance, complexity : str, optional
        建设项目重要性 and 地质环境条件复杂程度: with ``importance`` the result carries the
        地质灾害危险性评估 grade (GB/T 40112-2021, :func:`check_assessment`).

    Returns
    -------
    dict
        :meth:`CheckResult.to_dict`, plus ``docx`` (path written) when asked.

    Raises
    ------
    onemap.errors.OneMapError
        Unreadable or invalid site, workspace without DLTB, unknown use or
        flag, no CJK font for the map.
    """
    assessment = check_assessment(importance, complexity)
    site = read_site(site_path, transforms=transforms.offered(store.sql_engine(), transform))
    checker = SiteChecker(store)
    result = checker.check(site, use=use, flags=flags, activity=activity)
    result.assessment = assessment
    out = result.to_dict()
    if docx is not None or map_png is not None:
        ctx = check_context(store, result, project=name, applicant=applicant, site=site)
        png = render_site_map(result, checker, synthetic=bool(ctx.synthetic),
                              map_approval=ctx.map_approval)
        if map_png is not None:
            Path(map_png).parent.mkdir(parents=True, exist_ok=True)
            Path(map_png).write_bytes(png)
            out["map_png"] = str(map_png)
        if docx is not None:
            out["docx"] = str(write_check_docx(result, docx, map_png=png, context=ctx))
    return out


def check_assessment(importance: str | None, complexity: str | None = None) -> dict[str, Any] | None:
    """The 地质灾害危险性评估 grade a checked project needs (None without ``importance``).

    See :func:`onemap.ledgers.hazards.assess_project`; a complexity without an importance is
    refused (it would be silently ignored).

    Raises
    ------
    onemap.errors.InputError
        A value outside the GB/T 40112-2021 table, or ``complexity`` without ``importance``.
    """
    if importance is None:
        if complexity is not None:
            raise InputError("给出了地质环境条件复杂程度（--complexity）但没有建设项目重要性（--importance），"
                             "无法确定地质灾害危险性评估级别",
                             [Problem("missing_importance", "缺少建设项目重要性", field="importance")])
        return None
    return assess_project(importance, complexity)


def fit_transformation(
    store: Store,
    points_path: str | Path,
    *,
    model: int | str,
    from_crs: str,
    to_crs: str,
    name: str,
    source: str = "",
    actor: str = "",
) -> FitResult:
    """The ``onemap crs fit`` use case: read common points, fit, store a new version.

    Parameters
    ----------
    store : Store
        Workspace.
    points_path : str or Path
        CSV/XLSX with 点名, 原X, 原Y (, 原H), 目标X, 目标Y (, 目标H); X north, Y east.
    model : {4, 7}
        4-parameter plane similarity or 7-parameter Bursa-Wolf.
    from_crs, to_crs : str
        Source and target CRS (``EPSG:2380``; the source may be ``LOCAL:名称``).
    name : str
        Name of the transformation (saving it again makes version n + 1).
    source : str
        Provenance text (default: the points file and its SHA-256).
    actor : str
        Who fits it (audit log).

    Returns
    -------
    onemap.geo.transform.FitResult
        With the stored version number.
    """
    path = Path(points_path)
    points = read_common_points(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    result = fit(points, model=model, source_crs=crs_key(from_crs, "源坐标系"),
                 target_crs=crs_key(to_crs, "目标坐标系"), name=name, file_name=path.name,
                 source=source or f"公共点文件 {path.name}（SHA-256 {digest[:16]}…，{len(points)} 个点）")
    transforms.save(store.sql_engine(), result.transformation, actor=actor)
    return result


def add_transformation(store: Store, t: Transformation, *, actor: str = "") -> Transformation:
    """The ``onemap crs add`` use case: check the bureau's parameters and store a new version."""
    t.source_crs = crs_key(t.source_crs, "源坐标系")
    t.target_crs = crs_key(t.target_crs, "目标坐标系")
    validate(t)
    return transforms.save(store.sql_engine(), t, actor=actor)


def set_default_transformation(store: Store, from_crs: str, name: str | None, *,
                               actor: str = "") -> str:
    """The ``onemap crs default`` use case; returns the CRS key the default is kept under."""
    key = crs_key(from_crs, "源坐标系")
    if name is not None:
        t = transforms.get(store.sql_engine(), name)
        if t.source_crs != key:
            raise InputError(
                f"坐标转换“{t.label}”的源坐标系是 {t.source_crs}，不能设为 {key} 的默认转换",
                [Problem("transform_mismatch", f"源坐标系 {t.source_crs} ≠ {key}")])
    transforms.set_default(store.sql_engine(), key, name, actor=actor)
    return key


# ---------------------------------------------------------------------------- official tables
#: DLTB fields the official tables read (absent ones are simply not read).
OFFICIAL_FIELDS = ["BSM", "DLBM", "ZLDWDM", "TBMJ", "KCMJ", "TBDLMJ", "CZCSXM", "GDLX", "GDPDJB",
                   "ZZSXDM", "TBXHDM"]


def report_filing(store: Store, on: date | None = None) -> Filing:
    """Region name, 填报单位 and date for official tables, from the workspace settings.

    See :func:`onemap.reports.xlsx.filing_from_settings`.
    """
    return filing_from_settings(store.settings(), on)


def official_stats(
    store: Store,
    *,
    dataset: str = "DLTB",
    version: str | None = None,
    table: str = "class",
    level: str = "county",
    balance: str = "no",
    tolerance_ha: float | None = None,
):
    """One official table of a DLTB version (``onemap stats --table``).

    Parameters
    ----------
    store : Store
        Workspace.
    dataset, version : str
        Layer version (latest when version is None).
    table : {"class", "bulletin", "czc", "farmland"}
        The table.
    level : {"county", "town", "village"}
        Unit level of the rows.
    balance : {"no", "yes", "auto"}
        调平 to the XZQ control area: ``yes`` refuses when it cannot; ``auto`` balances when
        the XZQ layer carries a control area and says otherwise in the table's notes.
        The 耕地 breakdowns (``farmland``) follow the balanced 耕地 of each village.
    tolerance_ha : float, optional
        Largest accepted gap per county (default from ``official_tables.yaml``, 1 公顷).

    Returns
    -------
    onemap.analysis.tables.OfficialTable
    """
    if table not in tb.TABLES:
        raise InputError(f"不支持的统计表：{table}（可选：{', '.join(tb.TABLES)}）")
    info = store.version(dataset, version)
    frame = store.read(dataset, info.version, columns=OFFICIAL_FIELDS)
    if frame.empty:
        raise WorkspaceError(f"{dataset} {info.version} 没有图斑，无法统计")
    source = {"dataset": dataset, "version": info.version, "version_id": info.id}
    names = workspace_unit_names(store)
    cells = tb.base_cells(frame, source=source)
    balanced = None
    if balance in ("yes", "auto"):
        data = official_tables()
        have = {d.name for d in store.datasets() if d.versions}
        xzq = store.read("XZQ") if "XZQ" in have else None
        try:
            control, fld = tb.county_control_m2(xzq, sorted(cells.cells["county"].unique()),
                                                data.control_fields)
        except InputError:
            if balance == "yes":
                raise
            control = None
        if control is not None:
            balanced = balance_cells(
                cells.cells, control, control_field=fld,
                tolerance_ha=data.tolerance_ha if tolerance_ha is None else tolerance_ha,
                large_class_ha=data.large_class_ha, unit_names=names)
    if table == "farmland":
        return tb.farmland_table(frame, level=level, unit_names=names, source=source,
                                 balanced=balanced)
    make = {"class": tb.class_table, "bulletin": tb.bulletin_table, "czc": tb.czc_table}[table]
    return make(cells, balanced=balanced, level=level, unit_names=names)


def write_official_xlsx(store: Store, table, path: str | Path, on=None) -> Path:
    """Write one official table as the XLSX a bureau files (see :mod:`onemap.reports.xlsx`)."""
    filing = report_filing(store, on)
    sheets = official_sheets(table, filing, region_code=store.settings().get("region", ""),
                             names=workspace_unit_names(store))
    return write_official_workbook(path, sheets, filing)
