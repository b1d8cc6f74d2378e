"""Map helpers of the web UI under ``/api``: field dictionary, search, measure, export."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from onemap.api.auth import Reader, context
from onemap.errors import InputError
from onemap.services_map import export_features, field_dictionary, measure, search

router = APIRouter()


@router.get("/fields/{dataset}", tags=["目录"], summary="字段字典（中文名与代码表）")
def fields(dataset: str, _u: Reader) -> dict[str, Any]:
    """Chinese titles and code lists of a layer's standard fields (from the domain data)."""
    return field_dictionary(dataset)


@router.get("/search", tags=["目录"], summary="搜索定位（地名、图斑、案件、坐标）")
def search_route(request: Request, user: Reader,
                 q: Annotated[str, Query(min_length=1, max_length=200, description="搜索内容")],
                 limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    """Place names (XZQ/CJDCQ), 图斑 BSM/TBBH, case numbers, and typed coordinates."""
    ctx = context(request)
    return search(ctx.store, q, limit=limit, county=user.county or None,
                  loader=ctx.versions.frame)


@router.post("/measure", tags=["目录"], summary="量算（椭球面积与大地线长度）",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {
                     "type": "object", "required": ["type", "coordinates"],
                     "properties": {"type": {"enum": ["LineString", "Polygon"]},
                                    "coordinates": {"type": "array"}}}}}}})
async def measure_route(request: Request, _u: Reader) -> dict[str, Any]:
    """Length and area of a GeoJSON line or polygon, with the statistics' formula."""
    try:
        doc = await request.json()
    except ValueError as exc:
        raise InputError("请求体不是有效的 JSON（应为 GeoJSON 线或面）") from exc
    return measure(doc)


class ExportBody(BaseModel):
    """The attribute table's selection to export."""

    collection: str = Field(max_length=200, description="集合编号，如 DLTB_2024")
    ids: list[int] = Field(max_length=100_000, description="要素编号（行号 + 1）")
    format: str = Field("xlsx", description="xlsx、gpkg 或 shp（zip 压缩）")
    encoding: str = Field("UTF-8", description="Shapefile 属性编码：GBK 或 UTF-8")


@router.post("/export", tags=["目录"], summary="导出选中要素（XLSX、GeoPackage、Shapefile）",
             response_class=Response)
def export_route(body: ExportBody, request: Request, _u: Reader) -> Response:
    """The selected features of a collection as XLSX, GeoPackage or zipped Shapefile."""
    ctx = context(request)
    info = ctx.collection(body.collection)
    data, name, media = export_features(ctx.versions.frame(info), body.ids, body.format,
                                        name=info.layer, encoding=body.encoding,
                                        dataset=info.dataset)
    return Response(content=data, media_type=media, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
