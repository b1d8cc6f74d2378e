"""The one place where OneMap errors become HTTP answers.

Every refusal is answered with the same JSON body as the CLI's ``--json``
errors, ``{"error": <class>, "message": <Chinese sentence>, "problems": [...]}``,
and a status code chosen here from the error class:

=====================================  ======
error                                  status
=====================================  ======
:class:`onemap.store.users.AuthError`   401 (with ``WWW-Authenticate: Bearer``)
:class:`onemap.store.users.PermissionDenied`  403
:class:`NotFound`, :class:`onemap.errors.WorkspaceError`  404
:class:`Conflict`                       409
:class:`PayloadTooLarge`                413
:class:`TooManyRequests`                429 (with ``Retry-After``)
:class:`onemap.errors.InputError` (and ``ReadError``)  400
request validation (FastAPI)           400
:class:`onemap.errors.DomainDataError`, anything else  500
=====================================  ======
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from onemap.api.redact import redact
from onemap.errors import DomainDataError, InputError, OneMapError, Problem, WorkspaceError
from onemap.store.users import AuthError, PermissionDenied, UserExists

log = logging.getLogger(__name__)


class NotFound(OneMapError):
    """A resource (collection, feature, user, check result) that does not exist."""

    exit_code = 4


class Conflict(OneMapError):
    """A request that conflicts with the current state (e.g. a name already taken)."""

    exit_code = 2


class PayloadTooLarge(OneMapError):
    """A request body or an uploaded file over its limit (HTTP 413)."""

    exit_code = 2


class TooManyRequests(OneMapError):
    """Too many failed logins: the account or address is locked for a while (HTTP 429)."""

    exit_code = 6

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceBusy(OneMapError):
    """Every slot for heavy computations is taken for too long: come back later (HTTP 503)."""

    exit_code = 6

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


#: Error class → HTTP status, most specific first.
STATUS: list[tuple[type[OneMapError], int]] = [
    (AuthError, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (UserExists, 409),
    (PayloadTooLarge, 413),
    (TooManyRequests, 429),
    (ServiceBusy, 503),
    (InputError, 400),
    (WorkspaceError, 404),
    (DomainDataError, 500),
]

_HTTP_MESSAGES = {
    400: "请求无效",
    401: "请先登录",
    403: "权限不足",
    404: "未找到请求的资源",
    405: "不支持该请求方法",
    406: "不支持请求的格式",
    413: "上传的文件过大",
    415: "不支持的内容类型",
}


def status_for(exc: OneMapError) -> int:
    """HTTP status of an error (see the table in this module's docstring)."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(exc: OneMapError) -> JSONResponse:
    """The JSON answer of an error (server paths replaced by file names)."""
    status = status_for(exc)
    headers = {"WWW-Authenticate": 'Bearer realm="onemap"'} if status == 401 else None
    if isinstance(exc, TooManyRequests | ServiceBusy):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(redact(exc.to_dict()), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(OneMapError)
    async def _onemap(_request: Request, exc: OneMapError) -> JSONResponse:
        if status_for(exc) >= 500:
            log.error("服务器内部错误：%s", exc)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path")]
            problems.append(Problem(rule="invalid_parameter", message=str(err.get("msg", "")),
                                    field=".".join(loc) or None))
        names = "、".join(p.field for p in problems if p.field) or "请求内容"
        return error_response(InputError(f"参数无效：{names}", problems))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = _HTTP_MESSAGES.get(exc.status_code, "请求失败")
        if isinstance(exc.detail, str) and exc.detail and not exc.detail.isascii():
            message = redact(exc.detail)
        body = {"error": "HTTPError", "message": message, "problems": []}
        return JSONResponse(body, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("未处理的异常")
        body = {"error": "InternalError", "message": f"服务器内部错误：{type(exc).__name__}",
                "problems": []}
        return JSONResponse(body, status_code=500)
