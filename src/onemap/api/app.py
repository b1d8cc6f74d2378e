"""The OneMap web server: one FastAPI app per workspace.

``create_app(workspace)`` mounts

- ``/api`` — the REST API (OpenAPI at ``/api/openapi.json``, Swagger UI at ``/api/docs``,
  ReDoc at ``/api/redoc``, both from local files);
- ``/ogc`` — OGC API – Features (its own OpenAPI document at ``/ogc/api``);
- ``/tiles`` — vector tiles per layer version;
- ``/`` — the built web UI (``onemap/web/dist``) when it exists.

``serve(workspace, host, port)`` runs it with uvicorn (``onemap serve``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from onemap.api import about, errors, field, mapdata, ogc, public, public_admin, registers, routes, tiles
from onemap.api.auth import AuthGateMiddleware
from onemap.api.context import make_context
from onemap.api.docs import install_docs
from onemap.api.limits import LimitsMiddleware
from onemap.api.protocol import HeadMiddleware
from onemap.api.public_throttle import PublicThrottle
from onemap.domain.security import security_policy
from onemap.monitor.public_policy import public_policy
from onemap.monitor.service import audit_checkpoint, audit_checkpoints
from onemap.store import open_workspace
from onemap.store.base import Store

log = logging.getLogger(__name__)

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"


def default_cache_dir(store: Store) -> Path | None:
    """The workspace's tile cache folder (``<workspace>.tiles/`` beside a GeoPackage)."""
    return store.companion(".tiles")


#: glibc ``mallopt`` parameter number of ``M_ARENA_MAX`` (malloc.h).
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (one per thread by default, up to 8 per core).

    A server answers from up to 40 worker threads; with an arena each, memory
    freed by one request stays reserved in its thread's arena and the resident
    size keeps growing. ``MALLOC_ARENA_MAX`` in the environment wins. Returns
    whether the cap was set (False off glibc).
    """
    import ctypes
    import os

    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def create_app(
    workspace: str | Path | Store,
    *,
    anonymous_read: bool | None = None,
    cache_dir: str | Path | None = None,
    web_dist: str | Path | None = None,
) -> FastAPI:
    """Build the app for a workspace.

    Parameters
    ----------
    workspace : str, Path or Store
        The workspace (a ``.gpkg`` path) or an open store.
    anonymous_read : bool, optional
        Override the workspace's ``anonymous_read`` policy (None: use it).
    cache_dir : str or Path, optional
        Tile cache folder (default: ``<workspace>.tiles`` beside the file).
    web_dist : str or Path, optional
        Built web UI to serve at ``/`` (default: ``onemap/web/dist``).

    Returns
    -------
    fastapi.FastAPI
    """
    limit_malloc_arenas()
    store = workspace if isinstance(workspace, Store) else open_workspace(workspace)
    from onemap.services import prepare_relational_tables

    prepare_relational_tables(store)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir(store)
    ctx = make_context(store, cache_dir=cache, anonymous_read=anonymous_read)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = threading.Thread(target=_checkpoints, args=(store, stop), daemon=True,
                                  name="onemap-audit-checkpoint")
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    app = FastAPI(title="OneMap 自然资源一张图", version="1.0.0",
                  description="自然资源一张图 REST API（中文错误信息；认证：Bearer 令牌）",
                  docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    errors.install(app)
    # outermost last: HEAD as GET → authentication → limits → compression → routes
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(LimitsMiddleware)
    app.add_middleware(AuthGateMiddleware)
    app.add_middleware(HeadMiddleware)

    api = FastAPI(title="OneMap 自然资源一张图 REST API", version="1.0.0",
                  description="目录、要素统计、合规审查、执法案件、用户。错误均为 "
                              '{"error", "message", "problems"}，message 为中文。',
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None)
    api.state.ctx = ctx
    install_docs(api)
    errors.install(api)
    api.include_router(routes.router)
    api.include_router(about.router)
    api.include_router(mapdata.router)
    api.include_router(registers.router)
    api.include_router(field.router)
    api.include_router(tiles.router, prefix="/tiles")
    api.include_router(public.router)
    api.include_router(public_admin.router)
    api.state.public_throttle = PublicThrottle(public_policy().rate)
    app.mount("/api", api)
    app.include_router(ogc.router, prefix="/ogc")
    app.include_router(tiles.router, prefix="/tiles")

    @app.get("/healthz", include_in_schema=False)
    async def _health() -> JSONResponse:
        return JSONResponse({"ok": True, "workspace": store.location})

    dist = Path(web_dist) if web_dist is not None else WEB_DIST
    if (dist / "portal.html").exists():
        @app.get("/public", include_in_schema=False)
        def _public_page() -> FileResponse:
            """The public page (群众举报, 公示, 执法公示): no login."""
            return FileResponse(dist / "portal.html", media_type="text/html")

    if (dist / "index.html").exists():
        app.mount("/", StaticFiles(directory=dist, html=True), name="web")
    else:
        @app.get("/", include_in_schema=False)
        def _root() -> RedirectResponse:
            return RedirectResponse("/api/docs")

    return app


def _checkpoints(store: Store, stop: threading.Event) -> None:
    """Append an audit checkpoint at start and every ``audit.checkpoint_seconds`` until stopped."""
    if audit_checkpoints(store) is None:
        return
    while True:
        try:
            result = audit_checkpoint(store)
            if not result["ok"]:
                log.error("审计日志校验未通过，未写检查点：%s", result["message"])
        except Exception as exc:  # noqa: BLE001 - the server keeps running; the log says why
            log.error("写审计检查点失败：%s", exc)
        if stop.wait(security_policy().audit.checkpoint_seconds):
            return


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory onemap.api.app:app_from_env``.

    Reads ``ONEMAP_WORKSPACE`` (required), ``ONEMAP_TILE_CACHE`` (optional
    folder) and ``ONEMAP_ANONYMOUS_READ`` (``true``/``false``, optional override).
    """
    import os

    ws = os.environ.get("ONEMAP_WORKSPACE")
    if not ws:
        raise RuntimeError("ONEMAP_WORKSPACE is not set")
    anon = os.environ.get("ONEMAP_ANONYMOUS_READ")
    return create_app(
        ws,
        anonymous_read=None if anon is None else anon.strip().lower() in ("1", "true", "yes"),
        cache_dir=os.environ.get("ONEMAP_TILE_CACHE") or None,
    )


def preload(app: FastAPI, datasets: tuple[str, ...] = ("DLTB",)) -> threading.Thread:
    """Load the newest version of ``datasets`` and their tile sources in the background."""
    ctx = app.state.ctx

    def run() -> None:
        for d in ctx.datasets():
            if d.name in datasets:
                try:
                    ctx.tiles.source(d.versions[-1].id)
                except Exception as exc:  # noqa: BLE001 - a failed preload is not fatal
                    log.warning("预加载 %s 失败：%s", d.name, exc)

    thread = threading.Thread(target=run, name="onemap-preload", daemon=True)
    thread.start()
    return thread


def serve(workspace: str | Path, host: str = "127.0.0.1", port: int = 8000, *,
          anonymous_read: bool | None = None, preload_data: bool = True) -> None:
    """Serve a workspace over HTTP until interrupted (``onemap serve WS``).

    Parameters
    ----------
    workspace : str or Path
        The workspace file.
    host, port : str, int
        Where to listen (default http://127.0.0.1:8000).
    anonymous_read : bool, optional
        Override the workspace's anonymous-read policy.
    preload_data : bool
        Load the newest DLTB and its tile source in the background at start.
    """
    import uvicorn

    app = create_app(workspace, anonymous_read=anonymous_read)
    if preload_data:
        preload(app)
    uvicorn.run(app, host=host, port=port, log_level="info")
