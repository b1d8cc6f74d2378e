"""HTTP protocol details shared by every route: HEAD, and the error responses of the OpenAPI document.

- :class:`HeadMiddleware` answers ``HEAD`` wherever ``GET`` works (HTTP/1.1
  and OGC API – Features require it): the request is handled as ``GET`` and
  the body dropped, so headers (length, type, caching) are exactly those of
  ``GET``.
- :func:`document_errors` adds to every operation of an OpenAPI document the
  status codes the server really answers (400, 401, 403, 404, 413, 429), each
  with the Chinese error body and an example, and removes FastAPI's 422
  (validation errors are answered with 400 here).
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadMiddleware:
    """Serve ``HEAD`` as ``GET`` without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass every request on; a ``HEAD`` one as ``GET`` with its body dropped."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headless(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headless)


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message", "problems"],
    "properties": {
        "error": {"type": "string", "description": "错误类别"},
        "message": {"type": "string", "description": "中文说明"},
        "problems": {"type": "array", "items": {"type": "object", "properties": {
            "rule": {"type": "string"}, "message": {"type": "string"},
            "file": {"type": "string"}, "row": {"type": "string"},
            "field": {"type": "string"}}}},
    },
}

#: Status → (description, example error class, example message).
ERRORS: dict[str, tuple[str, str, str]] = {
    "400": ("请求无效（参数、请求体或数据不符合要求）", "InputError", "参数无效：lon"),
    "401": ("未登录、令牌无效或已过期", "AuthError", "请先登录（本工作空间不允许匿名访问）"),
    "403": ("已登录，但角色、令牌权限范围或县级范围不允许", "PermissionDenied",
            "权限不足：只读角色不能办理案件"),
    "404": ("资源不存在", "NotFound", "没有数据集合 DLTB_2030"),
    "413": ("请求体或上传文件超过上限", "PayloadTooLarge", "请求内容超过上限 10 MB"),
    "429": ("登录失败次数过多，暂时锁定（见 Retry-After）", "TooManyRequests",
            "登录失败次数过多，账户 zhang 已被暂时锁定，请 60 秒后再试（如忘记密码请联系管理员）"),
}


def error_response_doc(status: str) -> dict[str, Any]:
    """The OpenAPI response object of one error status, with an example body."""
    description, error, message = ERRORS[status]
    return {"description": description, "content": {"application/json": {
        "schema": copy.deepcopy(_ERROR_SCHEMA),
        "example": {"error": error, "message": message, "problems": []}}}}


def document_errors(doc: dict[str, Any], *, public: set[str], login: str = "/login"
                    ) -> dict[str, Any]:
    """Declare on every operation of ``doc`` the error statuses the server answers.

    Parameters
    ----------
    doc : dict
        An OpenAPI document (changed in place and returned).
    public : set of str
        Paths served without a login (no 401/403).
    login : str
        The login path (also 429).

    Returns
    -------
    dict
    """
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            codes = ["400", "404"]
            if path not in public:
                codes += ["401", "403"]
            if "requestBody" in op or method in ("post", "put", "patch"):
                codes.append("413")
            if path == login:
                codes += ["401", "429"]
            for code in codes:
                responses.setdefault(code, error_response_doc(code))
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc
