"""Vector tile endpoints: ``/tiles/{version_id}/{z}/{x}/{y}.mvt`` and TileJSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from onemap.api.auth import Reader, context
from onemap.api.scope import restriction
from onemap.domain.security import security_policy
from onemap.tiles.service import MAX_ZOOM

router = APIRouter()

MVT = "application/vnd.mapbox-vector-tile"
IMMUTABLE = "public, max-age=31536000, immutable"


@router.get(
    "/{version_id}/{z}/{x}/{y}.mvt", tags=["矢量瓦片"], summary="矢量瓦片（MVT，EPSG:3857）",
    response_class=Response,
    responses={200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}},
                     "description": "瓦片（无要素时为空）"}},
)
def tile(
    request: Request,
    version_id: Annotated[int, Path(ge=1, le=2**62)],
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, Path(ge=0, le=2**MAX_ZOOM)],
    y: Annotated[int, Path(ge=0, le=2**MAX_ZOOM)],
    user: Reader,
) -> Response:
    """One tile of a layer version; the URL never changes meaning, so it is cached forever.

    Tiles of a sensitive layer are private to the browser (never kept by a
    shared cache), and a county-scoped user gets them cut from the county's
    rows only.
    """
    ctx = context(request)
    info = ctx.version_by_id(version_id)
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    if security_policy().scope.layer(info.dataset) is not None:
        headers = {"Cache-Control": "private, max-age=300",
                   "Vary": "Accept-Encoding, Authorization, Cookie"}
    if restriction(user, info.dataset) is not None:
        # cut for this user's county: no validator shared with other users
        data = ctx.scoped_tile(info, user, z, x, y)
        return Response(content=data, media_type=MVT, headers=headers)
    gz = "gzip" in request.headers.get("accept-encoding", "")
    headers["ETag"] = ctx.tiles.etag(version_id, z, x, y, gzip=gz)
    headers["Last-Modified"] = ctx.tiles.last_modified(version_id)
    if headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if gz:
        data = ctx.tiles.tile_gzip(version_id, z, x, y)
        if data:
            headers["Content-Encoding"] = "gzip"
    else:
        data = ctx.tiles.tile(version_id, z, x, y)
    return Response(content=data, media_type=MVT, headers=headers)


@router.get("/{version_id}.json", tags=["矢量瓦片"], summary="TileJSON 3.0")
def tilejson(request: Request, version_id: Annotated[int, Path(ge=1, le=2**62)],
             _u: Reader) -> JSONResponse:
    """TileJSON of a layer version (for MapLibre sources)."""
    ctx = context(request)
    info = ctx.version_by_id(version_id)
    root = str(request.base_url).rstrip("/")
    box = ctx.bounds(info)
    doc: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": f"{info.dataset} {info.version}",
        "scheme": "xyz",
        "tiles": [f"{root}/tiles/{info.id}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "vector_layers": [{"id": info.dataset, "description": f"{info.dataset} {info.version}",
                           "fields": ctx.tiles.fields(info.id)}],
    }
    if box is not None:
        doc["bounds"] = list(box)
        doc["center"] = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 10]
    return JSONResponse(doc, headers={"Cache-Control": IMMUTABLE})
