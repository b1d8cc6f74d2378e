"""Who is asking: bearer tokens, the login cookie, and the anonymous-read policy.

- ``Authorization: Bearer <token>`` (a login session token or an API token)
  works for every request.
- The ``onemap_token`` cookie set by ``POST /api/login`` works for **reads**
  only (GET/HEAD), so that map tiles and downloads open in the browser; a
  write needs the header, which a cross-site form cannot send (no CSRF).
- Without credentials a request is the anonymous reader when the workspace
  allows anonymous reading (:func:`onemap.store.users.anonymous_read`), and
  is refused with 401 otherwise. Writes always need a login.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from onemap.api.context import AppContext
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
    ctx = context(request)
    token = _token(request)
    if token:
        user = users.user_for_token(ctx.store.sql_engine(), token)
    elif anonymous_allowed(ctx):
        user = ANONYMOUS
    else:
        raise AuthError("请先登录（本工作空间不允许匿名访问）")
    request.state.user = user
    return user


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
