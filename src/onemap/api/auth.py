"""Who is asking: bearer tokens, the login cookie, and the anonymous-read policy.

- ``Authorization: Bearer <token>`` (a login session token or an API token)
  works for every request.
- The ``onemap_token`` cookie set by ``POST /api/login`` works for **reads**
  only (GET/HEAD), so that map tiles and downloads open in the browser; a
  write needs the header, which a cross-site form cannot send (no CSRF).
- Without credentials a request is the anonymous reader when the workspace
  allows anonymous reading (:func:`onemap.store.users.anonymous_read`), and
  is refused with 401 otherwise. Writes always need a login.

:class:`AuthGateMiddleware` applies this before anything else looks at a
request under ``/api``, ``/ogc`` or ``/tiles`` (besides the login and the API
documentation): an anonymous or badly authenticated request gets 401 before
any body is parsed, any parameter validated or any path resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from onemap.api.context import AppContext
from onemap.api.errors import error_response
from onemap.store import users
from onemap.store.users import ANONYMOUS, AuthError, User, authorize

COOKIE = "onemap_token"


def context(request: Request) -> AppContext:
    """The app's :class:`AppContext`."""
    return request.app.state.ctx


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthError("认证头格式应为：Authorization: Bearer <令牌>")
        return value.strip()
    if request.method in ("GET", "HEAD"):
        return request.cookies.get(COOKIE) or None
    return None


def anonymous_allowed(ctx: AppContext) -> bool:
    """Whether anonymous reading is on (the app override, else the workspace setting)."""
    if ctx.anonymous_read is not None:
        return ctx.anonymous_read
    return users.anonymous_read(ctx.store.sql_engine())


def current_user(request: Request) -> User:
    """The user of a request (the anonymous reader when allowed).

    Raises
    ------
    onemap.store.users.AuthError
        Invalid or expired credentials, or none where anonymous reading is off.
    """
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    user = resolve_user(context(request), request)
    request.state.user = user
    return user


def resolve_user(ctx: AppContext, request: Request) -> User:
    """Who sends ``request`` (a token's user, or the anonymous reader where allowed).

    Raises
    ------
    onemap.store.users.AuthError
        Invalid or expired credentials, or none where anonymous reading is off.
    """
    token = _token(request)
    if token:
        return users.user_for_token(ctx.store.sql_engine(), token)
    if anonymous_allowed(ctx):
        return ANONYMOUS
    raise AuthError("请先登录（本工作空间不允许匿名访问）")


#: Paths served without a login: health check, login, API documentation and its assets, and
#: the public services (``/api/public/…``, :mod:`onemap.api.public`).
PUBLIC_PATHS = frozenset({"/healthz", "/api/login", "/api/docs", "/api/redoc",
                          "/api/openapi.json", "/api/docs/oauth2-redirect"})
PUBLIC_PREFIXES = ("/api/docs-assets/", "/api/public/")
GATED_PREFIXES = ("/api/", "/ogc", "/tiles/")


def gated(path: str) -> bool:
    """Whether a request path needs the authentication gate."""
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return False
    return path.startswith(GATED_PREFIXES) or path in ("/api", "/tiles")


class AuthGateMiddleware:
    """Authenticate every gated request first; 401 before anything else is looked at.

    The user found is kept in the request state, so the route's own check
    (:func:`current_user`) does not look the token up again. An anonymous
    request may only read (``GET``/``HEAD``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its user, or answer 401."""
        if scope["type"] != "http" or not gated(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            user = await run_in_threadpool(resolve_user, scope["app"].state.ctx, request)
            if user.anonymous and request.method not in ("GET", "HEAD"):
                raise AuthError("此操作需要登录")
        except AuthError as exc:
            await error_response(exc)(scope, receive, send)
            return
        request.state.user = user
        await self.app(scope, receive, send)


def require(permission: str) -> Callable[[Request], User]:
    """A dependency that answers 401/403 unless the user has ``permission``.

    Parameters
    ----------
    permission : {"read", "analyse", "edit", "case", "manage"}
        See :data:`onemap.store.users.PERMISSIONS`.
    """

    def dependency(request: Request) -> User:
        user = current_user(request)
        authorize(user, permission)
        return user

    dependency.__name__ = f"require_{permission}"
    return dependency


reader = require("read")

#: Handler parameter types: the user, checked for a permission.
Reader = Annotated[User, Depends(reader)]
Analyst = Annotated[User, Depends(require("analyse"))]
Manager = Annotated[User, Depends(require("manage"))]
