"""Map helpers of the web UI under ``/api``: field dictionary, search, measure."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from onemap.api.auth import Reader, context
from onemap.errors import InputError
from onemap.services_map import field_dictionary, measure, search

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
                 "application/json": {"schema": {"type": "object"}}}}})
async def measure_route(request: Request, _u: Reader) -> dict[str, Any]:
    """Length and area of a GeoJSON line or polygon, with the statistics' formula."""
    try:
        doc = await request.json()
    except ValueError as exc:
        raise InputError("请求体不是有效的 JSON（应为 GeoJSON 线或面）") from exc
    return measure(doc)
