"""Map helpers of the web UI under ``/api``: the field dictionary of a layer (more in #15)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from onemap.api.auth import Reader
from onemap.services_map import field_dictionary

router = APIRouter()


@router.get("/fields/{dataset}", tags=["目录"], summary="字段字典（中文名与代码表）")
def fields(dataset: str, _u: Reader) -> dict[str, Any]:
    """Chinese titles and code lists of a layer's standard fields (from the domain data)."""
    return field_dictionary(dataset)
