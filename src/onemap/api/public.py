"""The public routes, ``/api/public/…``: no login, nothing internal.

Only what :mod:`onemap.app.public` lets out: marked public layers (public fields only), the
公示 list and items (with the published summary), comments during a consultation period,
群众举报 with a receipt, the receipt's status and answer, and the published enforcement
decisions. Every route is counted by :class:`~onemap.api.public_throttle.PublicThrottle`
(writes per address and device, reads per address). The authentication gate lets this prefix
through (:data:`onemap.api.auth.PUBLIC_PREFIXES`); nothing here reads a token or a cookie.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from onemap.api.auth import context
from onemap.api.errors import NotFound, PayloadTooLarge
from onemap.api.limits import parse_json
from onemap.api.public_throttle import DEVICE_HEADER, PublicThrottle
from onemap.app import public
from onemap.errors import InputError, WorkspaceError
from onemap.monitor.public_policy import public_policy

router = APIRouter(prefix="/public", tags=["公众服务"], responses={
    429: {"description": "提交或查询过于频繁（按网络地址和设备计数），Retry-After 为等待秒数"}})

#: Text with at least one character that is not white space.
NOT_BLANK = r"\S"
#: ``minx,miny,maxx,maxy`` in degrees.
BBOX_PATTERN = r"^-?\d{1,3}(\.\d+)?(,-?\d{1,3}(\.\d+)?){3}$"


class CommentBody(BaseModel):
    """A resident's comment."""

    text: str = Field(min_length=1, max_length=1000, pattern=NOT_BLANK)
    contact: str = Field("", max_length=100)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)

#: A receipt number: JB + 8 digits + 10 letters/digits.
RECEIPT_PATTERN = r"^JB\d{8}[A-Z0-9]{10}$"


def _throttle(request: Request) -> PublicThrottle:
    return request.app.state.public_throttle


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _read(request: Request) -> None:
    _throttle(request).read(_address(request))


def _write(request: Request) -> None:
    _throttle(request).write(_address(request), request.headers.get(DEVICE_HEADER))


def _not_found(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except WorkspaceError as exc:
        raise NotFound(exc.message) from exc


# ---------------------------------------------------------------------------- layers
@router.get("/info", summary="工作空间名称与行政区范围")
def info(request: Request) -> dict[str, Any]:
    """The name shown on the public page and the region's extent (for the map)."""
    _read(request)
    return public.public_info(context(request).store)


@router.get("/layers", summary="公开图层（批准文号、日期）")
def layers(request: Request) -> dict[str, Any]:
    """The layer versions the bureau marked public, with their 批准文号 and date."""
    _read(request)
    return {"layers": public.public_layers(context(request).store)}


@router.get("/layers/{dataset}", summary="公开图层要素（GeoJSON，仅公开字段）")
def layer_features(request: Request, dataset: Annotated[str, PathParam(max_length=40)],
                   bbox: Annotated[str | None, Query(max_length=100, pattern=BBOX_PATTERN)] = None
                   ) -> dict[str, Any]:
    """GeoJSON of a public layer; any other layer is 404 (as if it did not exist)."""
    _read(request)
    box = None
    if bbox:
        try:
            box = tuple(float(v) for v in bbox.split(","))
        except ValueError as exc:
            raise InputError("bbox 应为 minx,miny,maxx,maxy 四个数") from exc
        if len(box) != 4:
            raise InputError("bbox 应为 minx,miny,maxx,maxy 四个数")
    return _not_found(public.public_features, context(request).store, dataset, bbox=box)


# ---------------------------------------------------------------------------- 公示 / 意见征询
@router.get("/notices", summary="公示列表（当前公示期内）")
def notices(request: Request) -> dict[str, Any]:
    """Items whose period includes today."""
    _read(request)
    return {"items": public.list_items(context(request).store)}


@router.get("/notices/{item_id}", summary="公示事项（含已发布的答复汇总）")
def notice(request: Request, item_id: Annotated[int, PathParam(ge=1, le=2**62)]
           ) -> dict[str, Any]:
    """One item with its published summary (never the comments)."""
    _read(request)
    return _not_found(public.item_detail, context(request).store, item_id)


@router.post("/notices/{item_id}/comments", status_code=201, summary="提交意见（征询期内）")
def comment(request: Request, item_id: Annotated[int, PathParam(ge=1, le=2**62)],
            body: CommentBody) -> dict[str, Any]:
    """A comment (``text``, optional ``contact``, ``lon``, ``lat``); refused outside the period."""
    _write(request)
    return _not_found(public.add_comment, context(request).store, item_id, text=body.text,
                      contact=body.contact, lon=body.lon, lat=body.lat)


# ---------------------------------------------------------------------------- 群众举报
async def _report_fields(request: Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    rules = public_policy().reports
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        body = parse_json(await request.body() or b"{}", "请求体")
        if not isinstance(body, dict):
            raise InputError("请求体应为 JSON 对象（lon、lat、description、contact）")
        return body, []
    form = await request.form()
    fields = {k: form.get(k) for k in ("lon", "lat", "description", "contact")
              if isinstance(form.get(k), str)}
    uploads = [u for u in form.getlist("photos") if hasattr(u, "read")]
    if len(uploads) > rules.photos_max:
        raise InputError(f"一次举报最多附 {rules.photos_max} 张照片（收到 {len(uploads)} 张）")
    photos = []
    for upload in uploads:
        name = Path(str(getattr(upload, "filename", "") or "photo.jpg").replace("\\", "/")).name
        data = await upload.read(rules.photo_bytes + 1)
        if len(data) > rules.photo_bytes:
            raise PayloadTooLarge(f"照片 {name} 超过 {rules.photo_bytes / 2**20:.0f} MB")
        photos.append((name, data))
    return fields, photos


_REPORT_FIELDS = {
    "lon": {"type": "number", "minimum": -180, "maximum": 180},
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "description": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": NOT_BLANK},
    "contact": {"type": "string", "maxLength": 100},
}


@router.post("/reports", status_code=201, summary="群众举报（返回回执号）",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {
                     "type": "object", "required": ["lon", "lat", "description"],
                     "properties": _REPORT_FIELDS}},
                 "multipart/form-data": {"schema": {
                     "type": "object", "required": ["description"],
                     "properties": {**_REPORT_FIELDS, "photos": {
                         "type": "array", "maxItems": 4,
                         "items": {"type": "string", "format": "binary"}}}}}}}})
async def report(request: Request) -> dict[str, Any]:
    """A report (``lon``, ``lat``, ``description``, optional ``contact`` and photos) → receipt.

    In a multipart report ``lon``/``lat`` may be left out when a photo carries its GPS position.
    """
    _write(request)
    fields, photos = await _report_fields(request)
    return await run_in_threadpool(
        public.submit_report, context(request).store, lon=fields.get("lon"),
        lat=fields.get("lat"), description=fields.get("description"),
        contact=fields.get("contact") or "", photos=photos)


@router.get("/reports/{receipt}", summary="举报办理进度（回执号查询）")
def report_status(request: Request,
                  receipt: Annotated[str, PathParam(max_length=20)]) -> dict[str, Any]:
    """``{"receipt", "status", "answer"}`` and nothing else; an unknown receipt is 404."""
    _read(request)
    if not re.match(RECEIPT_PATTERN, receipt):
        raise NotFound(f"回执号 {receipt} 格式不对（应为 JB 加 8 位日期和 10 位字母数字）")
    return _not_found(public.report_status, context(request).store, receipt)


# ---------------------------------------------------------------------------- 执法公示
@router.get("/decisions", summary="执法公示（行政处罚决定，个人信息已隐去）")
def decisions(request: Request) -> dict[str, Any]:
    """The published enforcement decisions, newest first."""
    _read(request)
    return {"decisions": public.published_decisions(context(request).store)}
