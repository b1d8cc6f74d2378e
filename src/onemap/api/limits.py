"""Request limits of the server (``security.yaml`` → ``limits``), as one ASGI middleware.

- a body larger than ``body_bytes`` (by its ``Content-Length``, or counted
  while it streams in) → 413;
- a JSON body (``application/json``, ``application/geo+json``, ``…+json``,
  or a body without a content type, which FastAPI reads as JSON) larger
  than ``json_bytes`` → 413, nested deeper than ``json_depth`` → 400,
  checked *before* any parser sees it (a ``[`` × 100 000 body would
  otherwise exhaust Python's recursion limit).

Every refusal is the usual JSON error body with a Chinese message.
:func:`parse_json` applies the same depth rule to JSON read from form fields.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onemap.api.errors import PayloadTooLarge, error_response
from onemap.domain.security import Limits, security_policy
from onemap.errors import InputError, OneMapError

log = logging.getLogger(__name__)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_TYPES = ("application/json", "application/geo+json")


def json_depth(raw: bytes | str) -> int:
    """Deepest nesting of ``[``/``{`` in a JSON text (strings skipped), without parsing it.

    Examples
    --------
    >>> json_depth(b'{"a": [1, [2, "[[["]]}')
    3
    >>> json_depth(b"[" * 5)
    5
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    bare = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    step = np.zeros(bare.shape, dtype=np.int32)
    step[(bare == ord("[")) | (bare == ord("{"))] = 1
    step[(bare == ord("]")) | (bare == ord("}"))] = -1
    return int(np.cumsum(step).max()) if step.size else 0


def check_json_depth(raw: bytes | str, what: str = "请求体", limits: Limits | None = None) -> None:
    """Refuse JSON nested deeper than the limit (InputError, HTTP 400)."""
    limits = limits or security_policy().limits
    depth = json_depth(raw)
    if depth > limits.json_depth:
        raise InputError(f"{what}的 JSON 嵌套层数 {depth} 超过上限 {limits.json_depth}")


def parse_json(raw: bytes | str, what: str = "请求体") -> Any:
    """Parse JSON after the depth check; any malformed text is an InputError naming ``what``."""
    check_json_depth(raw, what)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{what}不是有效的 JSON") from exc


def _is_json(scope: Scope) -> bool:
    """Whether the body will be read as JSON (a body without a content type is, by FastAPI)."""
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            ctype = value.decode("latin-1").split(";")[0].strip().lower()
            return ctype in _JSON_TYPES or ctype.endswith("+json")
    return scope.get("method") not in ("GET", "HEAD", "OPTIONS")


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class LimitsMiddleware:
    """ASGI middleware enforcing body size and JSON depth before the app sees the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an over-limit request, else pass it on (a JSON body replayed after its check)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            limits = security_policy().limits
        except OneMapError as exc:  # a broken policy file: the usual JSON error (500), not a crash
            log.error("安全策略无法读取：%s", exc)
            await error_response(exc)(scope, receive, send)
            return
        is_json = _is_json(scope)
        cap = min(limits.body_bytes, limits.json_bytes) if is_json else limits.body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await error_response(_too_large(cap))(scope, receive, send)
            return
        if is_json:
            body, more = b"", True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > cap:
                    await error_response(_too_large(cap))(scope, receive, send)
                    return
            try:
                check_json_depth(body, limits=limits)
            except InputError as exc:
                await error_response(exc)(scope, receive, send)
                return
            await self.app(scope, _replay(body, receive), send)
            return
        started = False
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > cap:
                raise _too_large(cap)  # the app's error handlers answer 413
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except PayloadTooLarge:
            if started:
                raise
            await error_response(_too_large(cap))(scope, receive, send)


def _too_large(cap: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"请求内容超过上限 {cap / 2**20:.0f} MB")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
