"""``/api/about``: what this server runs — software version, workspace, and where every data file came from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

import onemap
from onemap.api.auth import Reader, context
from onemap.domain import sources

router = APIRouter()


@router.get("/about", tags=["目录"], summary="软件版本、工作空间与领域数据文件出处")
def about(request: Request, _u: Reader) -> dict[str, Any]:
    """Software version, workspace location and the ``domain_files`` block of ``onemap catalog --json``."""
    return {"software": "OneMap", "version": onemap.__version__,
            "workspace": context(request).store.location,
            "domain_files": sources.describe()}
