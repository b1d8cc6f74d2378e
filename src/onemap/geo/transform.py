"""A bureau's own coordinate transformation to CGCS2000: fit from common points and apply.

Four kinds, each from a source CRS to a target CRS:

* ``four`` — 4-parameter plane similarity between two plane systems of one zone
  (ΔX, ΔY, rotation, scale), also how a local (独立) system is tied to CGCS2000
  Gauss-Krüger: the source is then ``LOCAL:<name>``;
* ``seven`` — 7-parameter Bursa-Wolf between datums, applied on geocentric
  coordinates (``+proj=cart`` / ``+proj=helmert``, position-vector convention);
* ``pipeline`` — any PROJ pipeline string (source CRS coordinates in, target out);
* ``grid`` — a horizontal grid file the bureau installs (NTv2 ``.gsb`` or GeoTIFF),
  applied with ``+proj=hgridshift`` between the two geographic CRSs.

Surveying order: **X is the northing and Y the easting**, as Chinese surveying writes
them; every fit input and residual here is (X north, Y east). Geometries stay in
GIS order (x = easting, y = northing) as everywhere else in OneMap.

The fitting is linear least squares with numpy on centred coordinates; the
mathematics of applying a transformation is PROJ's, through pyproj.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
import yaml
from pyproj.exceptions import CRSError, ProjError

from onemap.domain import sources
from onemap.errors import DomainDataError, InputError, Problem
from onemap.geo.crs import to_storage

__all__ = [
    "KIND_NAMES",
    "LOCAL_PREFIX",
    "CommonPoint",
    "FitResult",
    "FitSettings",
    "Residual",
    "Transformation",
    "check_area_of_use",
    "crs_key",
    "fit",
    "fit_settings",
    "is_local",
    "parse_crs",
    "tm_origin",
    "to_storage_via",
    "transformation_note",
    "transform_geometries",
    "transform_xy",
    "validate",
]

#: Chinese names of the kinds.
KIND_NAMES = {
    "four": "四参数平面相似变换",
    "seven": "七参数布尔莎模型（经空间直角坐标）",
    "pipeline": "PROJ 转换管道",
    "grid": "格网改正文件",
}
#: Source CRS text of a local (独立) plane system: ``LOCAL:<name>``.
LOCAL_PREFIX = "LOCAL:"
#: Surveying axis order, said in every message that shows coordinates.
AXES_NOTE = "X 为北坐标、Y 为东坐标（测量坐标系）"

_ARCSEC = math.pi / (180.0 * 3600.0)
_DATA_FILE = "transform_fit.yaml"
_FOUR_KEYS = ("dx_m", "dy_m", "rotation_arcsec", "scale_ppm")
_SEVEN_KEYS = ("tx_m", "ty_m", "tz_m", "rx_arcsec", "ry_arcsec", "rz_arcsec", "scale_ppm")
_CONVENTIONS = ("position_vector", "coordinate_frame")


@dataclass(frozen=True)
class FitSettings:
    """Parameters of fitting (``geo/data/transform_fit.yaml``)."""

    min_points: dict[str, int]
    collinear_ratio: float
    outlier_sigma: float
    area_margin_deg: float
    version: str


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> FitSettings:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        mins = {k: int(raw["min_points"][k]) for k in ("four", "seven")}
        if mins["four"] < 2 or mins["seven"] < 3:
            raise ValueError("min_points 不能少于模型所需的最少点数（四参数 2 个、七参数 3 个）")
        ratio = float(raw["collinear_ratio"])
        sigma = float(raw["outlier_sigma"])
        margin = float(raw["area_margin_deg"])
        if not (0 < ratio < 1 and sigma > 0 and margin >= 0):
            raise ValueError("collinear_ratio 须在 0–1 之间，outlier_sigma 须为正，area_margin_deg 不能为负")
        return FitSettings(mins, ratio, sigma, margin, str(raw.get("version", "")))
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise DomainDataError(f"坐标转换拟合参数表 {path} 无效：{exc}") from exc


def fit_settings() -> FitSettings:
    """The fitting parameters (the bureau's copy when ``ONEMAP_DOMAIN_DIR`` has one)."""
    path = sources.resolve("geo", _DATA_FILE)
    return _load(str(path), path.stat().st_mtime)


@dataclass(frozen=True)
class CommonPoint:
    """One common point (公共点): X north, Y east, optional height, in both systems."""

    name: str
    src_x: float
    src_y: float
    dst_x: float
    dst_y: float
    src_h: float | None = None
    dst_h: float | None = None
    row: str | None = None


@dataclass(frozen=True)
class Residual:
    """Target minus transformed source at one point (X north, Y east), metres."""

    point: str
    dx_m: float
    dy_m: float
    outlier: bool = False


@dataclass
class Transformation:
    """A named transformation as the workspace keeps it.

    Attributes
    ----------
    name : str
        Name the bureau gives it (unique in the workspace; versions count up).
    kind : {"four", "seven", "pipeline", "grid"}
        See the module docstring.
    source_crs, target_crs : str
        ``"EPSG:2380"``, a WKT/PROJ text, or ``LOCAL:<name>`` for a local system.
    parameters : dict
        ``four``: ``dx_m, dy_m`` (ΔX north, ΔY east), ``rotation_arcsec``,
        ``scale_ppm``; ``seven``: ``tx_m, ty_m, tz_m, rx_arcsec, ry_arcsec,
        rz_arcsec, scale_ppm, convention``; ``pipeline``: ``pipeline``;
        ``grid``: ``grid`` (file path).
    area_of_use : tuple or None
        (west, south, east, north) in degrees; data outside is refused.
    source : str
        Where the parameters come from (文件号, 测绘单位, 公共点文件).
    rms_m : float or None
        RMS of the fit's point residuals, when fitted.
    version : int
        Version in the workspace (0 until stored).
    """

    name: str
    kind: str
    source_crs: str
    target_crs: str
    parameters: dict[str, Any]
    area_of_use: tuple[float, float, float, float] | None = None
    source: str = ""
    rms_m: float | None = None
    version: int = 0
    residuals: list[Residual] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``name@version`` as shown to users."""
        return f"{self.name}@{self.version}" if self.version else self.name

    def provenance(self) -> dict[str, Any]:
        """Short record for a version's metadata."""
        return {"name": self.name, "version": self.version, "kind": self.kind,
                "source_crs": self.source_crs, "target_crs": self.target_crs,
                "rms_m": self.rms_m}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d["area_of_use"] = list(self.area_of_use) if self.area_of_use else None
        d["kind_name"] = KIND_NAMES.get(self.kind, self.kind)
        return d


@dataclass
class FitResult:
    """A fitted transformation and how well it fits its common points."""

    transformation: Transformation
    residuals: list[Residual]
    rms_m: float
    sigma0_m: float
    outliers: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``name``, ``model``, ``parameters``, ``residuals``, ``rms_m`` …"""
        t = self.transformation
        return {
            "name": t.name, "version": t.version, "model": 4 if t.kind == "four" else 7,
            "kind": t.kind, "source_crs": t.source_crs, "target_crs": t.target_crs,
            "parameters": t.parameters, "area_of_use": list(t.area_of_use or []) or None,
            "residuals": [{"point": r.point, "dx_m": r.dx_m, "dy_m": r.dy_m, "outlier": r.outlier}
                          for r in self.residuals],
            "rms_m": self.rms_m, "sigma0_m": self.sigma0_m, "outliers": self.outliers,
            "axes": AXES_NOTE,
        }


def _error(rule: str, message: str, **where: Any) -> InputError:
    return InputError(message, [Problem(rule=rule, message=message, **where)])


def is_local(crs_text: str) -> bool:
    """Whether a CRS text names a local (独立) plane system."""
    return str(crs_text).strip().upper().startswith(LOCAL_PREFIX)


def crs_key(text: str, what: str = "坐标系") -> str:
    """Canonical text of a CRS as the workspace keys it: ``EPSG:n``, or ``LOCAL:<name>``.

    ``独立:名称`` and ``local:名称`` are written ``LOCAL:名称``.

    Examples
    --------
    >>> crs_key("2380"), crs_key("独立:城建")
    ('EPSG:2380', 'LOCAL:城建')
    """
    s = str(text).strip()
    for prefix in (LOCAL_PREFIX, "独立:", "独立：", "LOCAL："):
        if s.upper().startswith(prefix):
            name = s[len(prefix):].strip()
            if not name:
                raise _error("invalid_crs", f"独立坐标系需要名称，如 {LOCAL_PREFIX}城建独立")
            return LOCAL_PREFIX + name
    crs = parse_crs(s, what)
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.to_string()


def parse_crs(text: str, what: str = "坐标系") -> pyproj.CRS:
    """CRS of ``"EPSG:2380"``, ``"2380"`` or any pyproj input; Chinese error otherwise."""
    s = str(text).strip()
    try:
        return pyproj.CRS.from_epsg(int(s)) if s.isdigit() else pyproj.CRS.from_user_input(s)
    except CRSError as exc:
        raise _error("invalid_crs", f"无法识别{what} {text}：请使用 EPSG 代码，如 EPSG:2380") from exc


# ---------------------------------------------------------------------------- applying

def _geodetic_steps(crs: pyproj.CRS) -> tuple[pyproj.Transformer, str]:
    """Plane/geographic → its own lon/lat, and the ``+a +rf`` of its ellipsoid."""
    geodetic = crs.geodetic_crs
    if geodetic is None or crs.ellipsoid is None:
        raise _error("invalid_crs", f"坐标系“{crs.name}”没有大地基准，不能用七参数或格网转换")
    ell = crs.ellipsoid
    to_geo = pyproj.Transformer.from_crs(crs, geodetic, always_xy=True)
    return to_geo, f"+a={ell.semi_major_metre!r} +rf={ell.inverse_flattening!r}"


def _helmert_text(p: dict[str, Any]) -> str:
    conv = p.get("convention", "position_vector")
    return (f"+proj=helmert +x={p['tx_m']!r} +y={p['ty_m']!r} +z={p['tz_m']!r} "
            f"+rx={p['rx_arcsec']!r} +ry={p['ry_arcsec']!r} +rz={p['rz_arcsec']!r} "
            f"+s={p['scale_ppm']!r} +convention={conv}")


def _four_ab(p: dict[str, Any]) -> tuple[float, float]:
    k = 1.0 + float(p["scale_ppm"]) * 1e-6
    alpha = float(p["rotation_arcsec"]) * _ARCSEC
    return k * math.cos(alpha), k * math.sin(alpha)


def _affine_text(p: dict[str, Any]) -> str:
    """The 4-parameter similarity as a PROJ affine step on (easting, northing).

    X2 = ΔX + a·X1 − b·Y1, Y2 = ΔY + b·X1 + a·Y1 (X north, Y east), a = (1+m)cos α,
    b = (1+m)sin α; in (east, north) order: E2 = ΔY + a·E1 + b·N1, N2 = ΔX − b·E1 + a·N1.
    """
    a, b = _four_ab(p)
    return (f"+proj=affine +xoff={float(p['dy_m'])!r} +yoff={float(p['dx_m'])!r} "
            f"+s11={a!r} +s12={b!r} +s21={-b!r} +s22={a!r}")


@lru_cache(maxsize=32)
def _chain(kind: str, source_crs: str, target_crs: str, key: str) -> tuple[pyproj.Transformer, ...]:
    """The pyproj steps from source CRS coordinates to target CRS coordinates (x east, y north)."""
    p = json.loads(key)
    try:
        if kind == "four":
            return (pyproj.Transformer.from_pipeline(_affine_text(p)),)
        if kind == "pipeline":
            return (pyproj.Transformer.from_pipeline(str(p["pipeline"])),)
        src, dst = parse_crs(source_crs, "源坐标系"), parse_crs(target_crs, "目标坐标系")
        to_src_geo, src_ell = _geodetic_steps(src)
        to_dst_geo, dst_ell = _geodetic_steps(dst)
        from_dst_geo = pyproj.Transformer.from_crs(dst.geodetic_crs, dst, always_xy=True)
        if kind == "seven":
            middle = (f"+proj=pipeline +step +proj=cart {src_ell} +step {_helmert_text(p)} "
                      f"+step +inv +proj=cart {dst_ell}")
        elif kind == "grid":
            middle = f"+proj=hgridshift +grids={p['grid']}"
        else:
            raise _error("transform_kind", f"未知的转换类型 {kind}（可用：four、seven、pipeline、grid）")
        return (to_src_geo, pyproj.Transformer.from_pipeline(middle), from_dst_geo)
    except (ProjError, CRSError) as exc:
        raise _error("transform_invalid", f"PROJ 无法建立该转换（{KIND_NAMES.get(kind, kind)}）：{exc}") from exc


def _steps(t: Transformation) -> tuple[pyproj.Transformer, ...]:
    return _chain(t.kind, t.source_crs, t.target_crs, json.dumps(t.parameters, sort_keys=True))


def transform_xy(t: Transformation, x: np.ndarray, y: np.ndarray,
                 h: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Apply a transformation to coordinates in GIS order.

    Parameters
    ----------
    t : Transformation
        The transformation.
    x, y : array_like
        Easting and northing (or longitude and latitude) in the source CRS.
    h : array_like, optional
        Ellipsoidal heights for the 7-parameter model (0 when not given, as
        for geometries, which carry none).

    Returns
    -------
    tuple of numpy.ndarray
        Easting and northing (or lon, lat) in the target CRS.
    """
    xx = np.asarray(x, dtype=float)
    yy = np.asarray(y, dtype=float)
    steps = _steps(t)
    if len(steps) == 1:
        return steps[0].transform(xx, yy)
    lon, lat = steps[0].transform(xx, yy)
    if t.kind == "seven":
        heights = np.zeros_like(lon) if h is None else np.asarray(h, dtype=float)
        lon, lat, _h = steps[1].transform(lon, lat, heights)
    else:
        lon, lat = steps[1].transform(lon, lat)
    return steps[2].transform(lon, lat)


def transform_geometries(t: Transformation, geoms: np.ndarray) -> np.ndarray:
    """Apply a transformation to every vertex of shapely geometries (GIS order).

    Raises
    ------
    onemap.errors.InputError
        Rule ``transform_failed`` when PROJ gives non-finite coordinates
        (e.g. a point outside the grid file).
    """

    def fn(c: np.ndarray) -> np.ndarray:
        ex, ny = transform_xy(t, c[:, 0], c[:, 1])
        return np.column_stack([ex, ny])

    out = shapely.transform(np.asarray(geoms, dtype=object), fn)
    coords = shapely.get_coordinates(out)
    if coords.size and not np.isfinite(coords).all():
        raise _error("transform_failed",
                     f"转换“{t.label}”对部分坐标无结果（可能超出格网文件或转换的适用范围）")
    return out


def tm_origin(crs_text: str) -> tuple[float, float, int | None] | None:
    """Central meridian, false easting and geodetic EPSG code of a transverse Mercator CRS.

    Returns None for a local system or any other projection (a 报盘 file's zone is
    matched against a transformation's source through it).

    Examples
    --------
    >>> tm_origin("EPSG:2380")
    (105.0, 500000.0, 4610)
    """
    if is_local(crs_text):
        return None
    crs = parse_crs(crs_text)
    op = crs.coordinate_operation if crs.is_projected else None
    if op is None or "transverse mercator" not in op.method_name.lower():
        return None
    params = {p.code: p.value for p in op.params}
    if "8802" not in params or "8806" not in params:
        return None
    geodetic = crs.geodetic_crs
    return float(params["8802"]), float(params["8806"]), geodetic.to_epsg() if geodetic else None


def to_storage_via(t: Transformation, gdf: gpd.GeoDataFrame, *, file_name: str = "") -> gpd.GeoDataFrame:
    """Move rows whose coordinates are in ``t``'s source CRS to EPSG:4490 through ``t``.

    Parameters
    ----------
    t : Transformation
        The transformation (its target is then reprojected to CGCS2000 lon/lat).
    gdf : geopandas.GeoDataFrame
        Rows in ``t.source_crs`` (whatever ``gdf.crs`` says).
    file_name : str
        For messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4490.

    Raises
    ------
    onemap.errors.InputError
        ``transform_failed``, ``transform_area`` (outside the area of use), and the
        China checks of :func:`onemap.geo.crs.to_storage`.
    """
    target = parse_crs(t.target_crs, "目标坐标系")
    moved = gdf.copy()
    moved[gdf.geometry.name] = gpd.GeoSeries(transform_geometries(t, gdf.geometry.to_numpy()),
                                             index=gdf.index)
    out = to_storage(moved.set_crs(target, allow_override=True), target, file_name=file_name)
    geoms = out.geometry.to_numpy()
    present = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(present):
        b = shapely.total_bounds(present)
        check_area_of_use(t, (float(b[0]), float(b[1]), float(b[2]), float(b[3])), file_name)
    return out


def transformation_note(t: Transformation) -> str:
    """Chinese note saying which transformation moved the coordinates."""
    rms = f"，拟合中误差 RMS {t.rms_m:.3f} 米" if t.rms_m is not None else ""
    return (f"已用本局坐标转换“{t.label}”（{KIND_NAMES.get(t.kind, t.kind)}，{t.source_crs} → "
            f"{t.target_crs}{rms}）转换到 CGCS2000")


def check_area_of_use(t: Transformation, lonlat_bounds: tuple[float, float, float, float],
                      file_name: str = "") -> None:
    """Refuse data (lon/lat bounds after transformation) outside the transformation's area of use."""
    if t.area_of_use is None:
        return
    w, s, e, n = t.area_of_use
    bw, bs, be, bn = lonlat_bounds
    if bw < w or be > e or bs < s or bn > n:
        raise _error(
            "transform_area",
            f"{file_name or '数据'} 的范围（经度 {bw:.4f}–{be:.4f}°，纬度 {bs:.4f}–{bn:.4f}°）"
            f"超出转换“{t.label}”的适用范围（经度 {w:.4f}–{e:.4f}°，纬度 {s:.4f}–{n:.4f}°）；"
            "在范围外使用转换参数会产生未知偏差，请使用覆盖该范围的转换参数",
            file=file_name or None)


def validate(t: Transformation) -> None:
    """Check a transformation before storing it: kind, parameters, CRSs, PROJ accepts it.

    Raises
    ------
    onemap.errors.InputError
        Rules ``transform_kind``, ``transform_parameters``, ``invalid_crs``,
        ``transform_local``, ``transform_grid``, ``transform_invalid``.
    """
    if not t.name.strip():
        raise _error("transform_parameters", "转换参数需要一个名称")
    if t.kind not in KIND_NAMES:
        raise _error("transform_kind", f"未知的转换类型 {t.kind}（可用：four、seven、pipeline、grid）")
    need = {"four": _FOUR_KEYS, "seven": _SEVEN_KEYS, "pipeline": ("pipeline",),
            "grid": ("grid",)}[t.kind]
    missing = [k for k in need if k not in t.parameters]
    if missing:
        raise _error("transform_parameters",
                     f"{KIND_NAMES[t.kind]}“{t.name}”缺少参数：{'、'.join(missing)}")
    if t.kind in ("four", "seven"):
        for k in need:
            v = t.parameters[k]
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise _error("transform_parameters", f"参数 {k}={v!r} 不是有限数值", field=k)
    if t.kind == "seven" and t.parameters.get("convention", "position_vector") not in _CONVENTIONS:
        raise _error("transform_parameters",
                     "七参数的旋转约定只能是 position_vector（布尔莎，国内常用）或 coordinate_frame")
    if is_local(t.target_crs):
        raise _error("transform_local", "目标坐标系不能是独立坐标系：转换的目标应为 CGCS2000")
    target = parse_crs(t.target_crs, "目标坐标系")
    if is_local(t.source_crs):
        if t.kind != "four":
            raise _error("transform_local", "独立坐标系只能用四参数平面相似变换与 CGCS2000 高斯投影联系")
        if not target.is_projected:
            raise _error("transform_local", "独立坐标系的四参数目标应为 CGCS2000 高斯-克吕格投影坐标系")
    else:
        source = parse_crs(t.source_crs, "源坐标系")
        if t.kind == "four" and not (source.is_projected and target.is_projected):
            raise _error("transform_parameters", "四参数平面相似变换的源和目标都应是平面（投影）坐标系")
    if t.kind == "grid" and not Path(str(t.parameters["grid"])).is_file():
        raise _error("transform_grid", f"格网文件不存在：{t.parameters['grid']}（请先把本局的格网文件放到该位置）")
    if t.area_of_use is not None:
        w, s, e, n = t.area_of_use
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            raise _error("transform_parameters", f"适用范围 {t.area_of_use} 不是有效的经纬度范围（西,南,东,北）")
    _steps(t)


# ---------------------------------------------------------------------------- fitting

def _names(points: list[CommonPoint]) -> str:
    return "、".join(p.name for p in points) or "无"


def _check_points(points: list[CommonPoint], model: str, s: FitSettings,
                  plane: np.ndarray, file_name: str) -> None:
    seen: dict[str, CommonPoint] = {}
    for p in points:
        if p.name in seen:
            raise _error("fit_duplicate", f"{file_name} 中点名“{p.name}”重复（行 {seen[p.name].row} 与 {p.row}）",
                         file=file_name or None, row=p.row, field="点名")
        seen[p.name] = p
    need = s.min_points[model]
    label = "四参数" if model == "four" else "七参数"
    if len(points) < need:
        raise _error(
            "fit_too_few",
            f"{file_name} 只有 {len(points)} 个公共点（{_names(points)}），{label}拟合至少需要 {need} 个"
            "（含检核用的多余点）", file=file_name or None)
    centred = plane - plane.mean(axis=0)
    sv = np.linalg.svd(centred, compute_uv=False)
    if sv[0] == 0 or sv[1] / sv[0] < s.collinear_ratio:
        raise _error(
            "fit_collinear",
            f"{file_name} 的公共点 {_names(points)} 几乎在一条直线上（横向分布不足纵向的 "
            f"{s.collinear_ratio:g}），无法可靠确定旋转和尺度；请补充分布在线外的公共点",
            file=file_name or None)


def _fit_four(src: np.ndarray, dst: np.ndarray) -> dict[str, float]:
    """Least squares for X2 = ΔX + aX1 − bY1, Y2 = ΔY + bX1 + aY1 (columns X north, Y east)."""
    c1, c2 = src.mean(axis=0), dst.mean(axis=0)
    xc, yc = (src - c1).T
    ox, oy = (dst - c2).T
    # centred on both sides the shifts drop out (the columns are orthogonal to a constant);
    # columns scaled to unit size keep the solve well conditioned
    scale = float(np.sqrt(np.mean(xc**2 + yc**2))) or 1.0
    design = np.vstack([np.column_stack([xc, -yc]), np.column_stack([yc, xc])]) / scale
    # solve for a − 1 (the identity taken out first) so the scale keeps its digits
    (a1, b), *_ = np.linalg.lstsq(design, np.concatenate([ox - xc, oy - yc]), rcond=None)
    a1, b = a1 / scale, b / scale
    a = 1.0 + a1
    kx, ky = c2
    dx = kx - a * c1[0] + b * c1[1]
    dy = ky - b * c1[0] - a * c1[1]
    return {"dx_m": float(dx), "dy_m": float(dy),
            "rotation_arcsec": float(math.atan2(b, a) / _ARCSEC),
            "scale_ppm": float((2 * a1 + a1 * a1 + b * b) / (math.hypot(a, b) + 1.0) * 1e6)}


def _fit_seven(p1: np.ndarray, p2: np.ndarray) -> dict[str, Any]:
    """Least squares Bursa-Wolf, position vector, PROJ's small-angle rotation matrix.

    P2 = T + (1+s)·R·P1 with R = I + [r]×; unknowns T, a = 1+s, u = a·r are linear.
    """
    c1, c2 = p1.mean(axis=0), p2.mean(axis=0)
    x, y, z = (p1 - c1).T
    o = np.zeros(len(p1))
    scale = float(np.sqrt(np.mean(x**2 + y**2 + z**2))) or 1.0
    design = np.vstack([
        np.column_stack([x, o, z, -y]),
        np.column_stack([y, -z, o, x]),
        np.column_stack([z, y, -x, o]),
    ]) / scale
    obs = ((p2 - c2) - (p1 - c1)).T.reshape(-1)  # identity taken out: solve for s = a − 1
    sol, *_ = np.linalg.lstsq(design, obs, rcond=None)
    sol = sol / scale
    k, a, u = c2, 1.0 + sol[0], sol[1:]
    t = k - a * c1 - np.cross(u, c1)
    r = u / a
    return {"tx_m": float(t[0]), "ty_m": float(t[1]), "tz_m": float(t[2]),
            "rx_arcsec": float(r[0] / _ARCSEC), "ry_arcsec": float(r[1] / _ARCSEC),
            "rz_arcsec": float(r[2] / _ARCSEC), "scale_ppm": float(sol[0] * 1e6),
            "convention": "position_vector"}


def _geocentric(crs: pyproj.CRS, north: np.ndarray, east: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Plane (or lat/lon) coordinates with ellipsoidal heights → geocentric XYZ."""
    to_geo, ell = _geodetic_steps(crs)
    lon, lat = to_geo.transform(east, north)
    cart = pyproj.Transformer.from_pipeline(f"+proj=cart {ell}")
    return np.column_stack(cart.transform(lon, lat, h))


def _lonlat_box(crs: pyproj.CRS, north: np.ndarray, east: np.ndarray,
                margin: float) -> tuple[float, float, float, float]:
    to_geo = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    lon, lat = to_geo.transform(east, north)
    return (float(np.min(lon) - margin), float(np.min(lat) - margin),
            float(np.max(lon) + margin), float(np.max(lat) + margin))


def fit(points: list[CommonPoint], *, model: int | str, source_crs: str, target_crs: str,
        name: str, file_name: str = "", source: str = "") -> FitResult:
    """Fit a 4- or 7-parameter transformation to common points by least squares.

    Parameters
    ----------
    points : list of CommonPoint
        Coordinates X (north), Y (east) in both systems; heights optional
        (0 when absent; used by the 7-parameter model only).
    model : {4, 7}
        4-parameter plane similarity or 7-parameter Bursa-Wolf.
    source_crs, target_crs : str
        CRS texts (``EPSG:2380``); the source may be ``LOCAL:<name>`` (4 only).
        For a geographic CRS X is the latitude and Y the longitude (degrees).
    name : str
        Name of the transformation.
    file_name : str
        Points file, for messages.
    source : str
        Provenance text stored with the transformation.

    Returns
    -------
    FitResult
        Parameters, each point's residual (target minus transformed source,
        X north / Y east), RMS ``sqrt(Σ(vX²+vY²)/n)``, σ0
        ``sqrt(Σ(vX²+vY²)/(2n−u))`` and the points beyond ``outlier_sigma``·σ0.

    Raises
    ------
    onemap.errors.InputError
        ``fit_too_few`` / ``fit_collinear`` / ``fit_duplicate`` naming the
        points; CRS and parameter problems from :func:`validate`.
    """
    s = fit_settings()
    kind = {"4": "four", "7": "seven", "four": "four", "seven": "seven"}.get(str(model))
    if kind is None:
        raise _error("transform_kind", f"拟合模型只能是 4（四参数）或 7（七参数），收到 {model}")
    src = np.array([[p.src_x, p.src_y] for p in points], dtype=float).reshape(-1, 2)
    dst = np.array([[p.dst_x, p.dst_y] for p in points], dtype=float).reshape(-1, 2)
    pre = Transformation(name=name, kind=kind, source_crs=source_crs, target_crs=target_crs,
                         parameters=dict.fromkeys(_FOUR_KEYS if kind == "four" else _SEVEN_KEYS, 0.0))
    if kind == "seven":
        pre.parameters["convention"] = "position_vector"
    validate(pre)  # CRSs and model fit together before any arithmetic
    target = parse_crs(target_crs, "目标坐标系")
    _check_points(points, kind, s, src, file_name)
    if kind == "four":
        params: dict[str, Any] = _fit_four(src, dst)
    else:
        source_crs_obj = parse_crs(source_crs, "源坐标系")
        h1 = np.array([p.src_h or 0.0 for p in points], dtype=float)
        h2 = np.array([p.dst_h or 0.0 for p in points], dtype=float)
        g1 = _geocentric(source_crs_obj, src[:, 0], src[:, 1], h1)
        g2 = _geocentric(target, dst[:, 0], dst[:, 1], h2)
        params = _fit_seven(g1, g2)
    t = Transformation(name=name, kind=kind, source_crs=source_crs, target_crs=target_crs,
                       parameters=params, source=source,
                       area_of_use=_lonlat_box(target, dst[:, 0], dst[:, 1], s.area_margin_deg))
    heights = np.array([p.src_h or 0.0 for p in points], dtype=float)
    east, north = transform_xy(t, src[:, 1], src[:, 0], heights)
    vx = dst[:, 0] - np.asarray(north)
    vy = dst[:, 1] - np.asarray(east)
    n = len(points)
    u = 4 if kind == "four" else 7
    ss = float(np.sum(vx**2 + vy**2))
    rms = math.sqrt(ss / n)
    dof = 2 * n - u
    sigma0 = math.sqrt(ss / dof) if dof > 0 else 0.0
    limit = s.outlier_sigma * sigma0
    flags = (np.abs(vx) > limit) | (np.abs(vy) > limit) if sigma0 > 0 else np.zeros(n, bool)
    residuals = [Residual(p.name, float(a), float(b), bool(f))
                 for p, a, b, f in zip(points, vx, vy, flags, strict=True)]
    t.rms_m = rms
    t.residuals = residuals
    return FitResult(transformation=t, residuals=residuals, rms_m=rms, sigma0_m=sigma0,
                     outliers=[r.point for r in residuals if r.outlier])
