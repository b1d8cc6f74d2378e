"""Map helpers of the web UI under ``/api``: the field dictionary of a layer, and search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from onemap.api.auth import Reader, context
from onemap.services_map import field_dictionary, search

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
