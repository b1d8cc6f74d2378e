"""The ``onemap crs`` commands: the bureau's coordinate transformations to CGCS2000."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.errors import InputError, OneMapError, Problem
from onemap.geo.transform import AXES_NOTE, KIND_NAMES, Transformation

crs_app = typer.Typer(help="坐标转换参数：西安80/北京54/独立坐标系到 CGCS2000（拟合、登记、默认）。",
                      no_args_is_help=True)
app.add_typer(crs_app, name="crs")

_LABELS = {
    "dx_m": "ΔX（北，米）", "dy_m": "ΔY（东，米）", "rotation_arcsec": "旋转角（秒）",
    "scale_ppm": "尺度（ppm）", "tx_m": "ΔX（地心，米）", "ty_m": "ΔY（地心，米）",
    "tz_m": "ΔZ（地心，米）", "rx_arcsec": "εX（秒）", "ry_arcsec": "εY（秒）", "rz_arcsec": "εZ（秒）",
    "convention": "旋转约定",
}

ActorOpt = Annotated[str | None, typer.Option("--actor", help="操作人（默认为当前系统用户）")]


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return os.environ.get("ONEMAP_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _params(items: list[str]) -> dict[str, float | str]:
    """``key=value`` options as a dict (numbers where they parse)."""
    out_: dict[str, float | str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            msg = f"参数“{item}”应写成 名称=数值，如 tx_m=-12.3"
            raise InputError(msg, [Problem("transform_parameters", msg)])
        try:
            out_[key.strip()] = float(value)
        except ValueError:
            out_[key.strip()] = value.strip()
    return out_


@crs_app.command("fit")
def fit_cmd(
    ws: WsArg,
    points: Annotated[Path, typer.Argument(help="公共点表（CSV 或 XLSX）：点名,原X,原Y[,原H],目标X,目标Y[,目标H]")],
    model: Annotated[int, typer.Option("--model", help="4 = 四参数平面相似变换；7 = 七参数布尔莎")],
    from_: Annotated[str, typer.Option("--from", help="源坐标系，如 EPSG:2380（西安80 3度带 105°E）或 LOCAL:城建独立")],
    to: Annotated[str, typer.Option("--to", help="目标坐标系，如 EPSG:4544（CGCS2000 3度带 105°E）")],
    name: Annotated[str, typer.Option("--name", help="转换参数名称（同名再次拟合生成新版本）")],
    source: Annotated[str, typer.Option("--source", help="来源说明（默认记录公共点文件及其 SHA-256）")] = "",
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """由公共点最小二乘拟合四参数或七参数，报告各点残差、中误差和 3σ 粗差，存入工作空间。"""
    from onemap.services import fit_transformation

    try:
        result = fit_transformation(open_store(ws), points, model=model, from_crs=from_, to_crs=to,
                                    name=name, source=source, actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(result.to_dict())
        return
    t = result.transformation
    out.print(f"已保存坐标转换“{t.label}”：{KIND_NAMES[t.kind]}，{t.source_crs} → {t.target_crs}")
    for key, value in t.parameters.items():
        out.print(f"  · {_LABELS.get(key, key)} = {value}")
    out.print(f"公共点残差（目标 − 转换结果，米）；{AXES_NOTE}")
    table = Table()
    for col in ("点名", "dX（北）", "dY（东）", "粗差"):
        table.add_column(col)
    for r in result.residuals:
        table.add_row(r.point, f"{r.dx_m:+.4f}", f"{r.dy_m:+.4f}", "是" if r.outlier else "")
    out.print(table)
    out.print(f"点位中误差 RMS = {result.rms_m:.4f} 米；单位权中误差 σ0 = {result.sigma0_m:.4f} 米")
    if result.outliers:
        out.print(f"[bold yellow]注意：{'、'.join(result.outliers)} 的残差超过 3σ0，可能是粗差；"
                  "核实后删去这些点重新拟合（同名保存为新版本）[/]")


@crs_app.command("add")
def add_cmd(
    ws: WsArg,
    name: Annotated[str, typer.Argument(help="转换参数名称")],
    kind: Annotated[str, typer.Option(
        "--kind", help="four（四参数）、seven（七参数）、pipeline（PROJ 管道）、grid（格网文件）")],
    from_: Annotated[str, typer.Option("--from", help="源坐标系，如 EPSG:2380 或 LOCAL:城建独立")],
    to: Annotated[str, typer.Option("--to", help="目标坐标系，如 EPSG:4544")],
    param: Annotated[list[str] | None, typer.Option("--param", help="参数 名称=数值，可重复："
                                                    "四参数 dx_m dy_m rotation_arcsec scale_ppm；七参数 tx_m ty_m "
                                                    "tz_m rx_arcsec ry_arcsec rz_arcsec scale_ppm")] = None,
    pipeline: Annotated[str | None, typer.Option(
        "--pipeline", help="PROJ 管道字符串（源坐标→目标坐标，东、北顺序）")] = None,
    grid: Annotated[Path | None, typer.Option("--grid", help="格网文件（NTv2 .gsb 或 GeoTIFF）")] = None,
    area: Annotated[str | None, typer.Option("--area", help="适用范围 西,南,东,北（度），范围外的数据拒绝转换")] = None,
    source: Annotated[str, typer.Option("--source", help="来源说明，如 文件号、测绘单位")] = "",
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """登记本局已有的转换参数（四参数、七参数、PROJ 管道或格网文件）。"""
    from onemap.services import add_transformation

    try:
        params: dict = _params(param or [])
        if pipeline is not None:
            params["pipeline"] = pipeline
        if grid is not None:
            params["grid"] = str(grid.resolve())
        bounds = None
        if area:
            try:
                w, s, e, n = (float(v) for v in area.replace("，", ",").split(","))
            except ValueError as exc:
                msg = f"适用范围“{area}”应写成 西,南,东,北 四个经纬度数值"
                raise InputError(msg, [Problem("transform_parameters", msg)]) from exc
            bounds = (w, s, e, n)
        t = add_transformation(open_store(ws), Transformation(
            name=name, kind=kind, source_crs=from_, target_crs=to, parameters=params,
            area_of_use=bounds, source=source), actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(t.to_dict())
        return
    out.print(f"已登记坐标转换“{t.label}”：{KIND_NAMES[t.kind]}，{t.source_crs} → {t.target_crs}")


@crs_app.command("list")
def list_cmd(ws: WsArg, as_json: JsonOpt = False) -> None:
    """列出工作空间中的坐标转换参数（各版本）及各源坐标系的默认转换。"""
    from onemap.store import transforms

    try:
        engine = open_store(ws).sql_engine()
        items = transforms.list_all(engine)
        defaults = transforms.defaults(engine)
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"transforms": [t.to_dict() for t in items], "defaults": defaults})
        return
    table = Table(title="坐标转换参数")
    for col in ("名称", "版本", "类型", "源坐标系", "目标坐标系", "RMS（米）", "来源"):
        table.add_column(col)
    for t in items:
        table.add_row(t.name, str(t.version), KIND_NAMES.get(t.kind, t.kind), t.source_crs,
                      t.target_crs, "" if t.rms_m is None else f"{t.rms_m:.4f}", t.source)
    out.print(table)
    for crs, name in defaults.items():
        out.print(f"默认：{crs} → {name}")


@crs_app.command("default")
def default_cmd(
    ws: WsArg,
    from_: Annotated[str, typer.Option("--from", help="源坐标系，如 EPSG:2380")],
    name: Annotated[str | None, typer.Argument(help="转换参数名称（省略并加 --clear 则取消默认）")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="取消该源坐标系的默认转换")] = False,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """设置某源坐标系的默认转换：入库时未指定 --transform 即使用它。"""
    from onemap.services import set_default_transformation

    try:
        if (name is None) != clear:
            msg = "请给出转换参数名称，或用 --clear 取消默认（二者选一）"
            raise InputError(msg, [Problem("transform_parameters", msg)])
        key = set_default_transformation(open_store(ws), from_, None if clear else name,
                                         actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"source_crs": key, "default": None if clear else name})
        return
    out.print(f"{key} 的默认坐标转换：{'（已取消）' if clear else name}")
