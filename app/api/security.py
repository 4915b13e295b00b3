"""Edge protections every response goes through: security headers (with a per-request CSP nonce) and bounds on
the integer IDs a request may name.

Headers (OWASP Secure Headers Project; MDN "Content-Security-Policy"):

- ``Content-Security-Policy``: scripts only from this origin (``script-src 'self'``; Plotly is served locally at
  ``/vendor/plotly.min.js``) plus inline ``<script>`` blocks that carry this response's nonce
  (``{{ request.scope.csp_nonce }}`` in templates); no plugins (``object-src 'none'``), no framing
  (``frame-ancestors 'none'``), forms and ``<base>`` only to this origin. Styles allow ``'unsafe-inline'``
  (Plotly writes ``<style>`` elements and ``style`` attributes at run time); images allow ``data:``/``blob:``
  (Plotly's PNG export). FastAPI's ``/docs`` and ``/redoc`` pages start Swagger UI / ReDoc with one inline
  script they do not let us tag, so those three paths (which show no user-supplied text outside the OpenAPI
  document) get ``'unsafe-inline'`` scripts and ``blob:`` workers instead of a nonce.
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (for browsers without CSP level 2),
  ``Referrer-Policy: same-origin``, ``Cross-Origin-Opener-Policy: same-origin``.

ID bounds: every ``id`` column is a 32-bit ``Integer`` (PostgreSQL ``integer``), so no row can have an ID above
``MAX_ID`` = 2^31 - 1. Larger numbers in a path segment answer 404, in an ``*_id`` query parameter or JSON body
field 422, before any route runs: otherwise SQLite raises ``OverflowError`` (ints above 2^63) and PostgreSQL
``NumericValueOutOfRange``, both 500s. Handlers for those two errors stay as a backstop (422 JSON).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_ID = 2**31 - 1
MAX_JSON_SCAN_BYTES = 10 * 1024 * 1024  # JSON bodies larger than this are passed on unscanned (none are legit)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
_DIGITS = re.compile(r"[0-9]+")

BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def content_security_policy(nonce: str | None) -> str:
    """The CSP for one response: ``nonce`` tags allowed inline scripts; ``None`` = the docs pages' policy."""
    scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self' 'unsafe-inline'"
    directives = [
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response (errors and static files included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "") in DOCS_PATHS
        nonce = None if docs else secrets.token_urlsafe(16)
        scope["csp_nonce"] = nonce or ""
        policy = content_security_policy(nonce)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in (*BASE_HEADERS.items(), ("Content-Security-Policy", policy)):
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _too_large(text: str) -> bool:
    return bool(_DIGITS.fullmatch(text)) and int(text) > MAX_ID


def _oversized_ids(value: object, where: str = "") -> Iterator[str]:
    """Names of ``id``/``*_id``/``*_ids`` fields in a parsed JSON body holding an integer above ``MAX_ID``."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            is_id = isinstance(key, str) and (key == "id" or key.endswith(("_id", "_ids")))
            if is_id and isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_ID:
                yield path
            elif is_id and isinstance(item, list):
                if any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_ID for v in item):
                    yield path
            else:
                yield from _oversized_ids(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _oversized_ids(item, f"{where}.{index}" if where else str(index))


def _json_error(status: int, detail: str) -> tuple[int, bytes]:
    return status, json.dumps({"detail": detail}).encode()


class IdBounds:
    """ASGI middleware answering 404/422 JSON for IDs no row can have (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = self._check_path_and_query(scope)
        body_messages: list[Message] = []
        if error is None and self._is_json(scope):
            body, body_messages, complete = await self._read_body(receive)
            if complete:
                error = self._check_json(body)
        if error is not None:
            await self._answer(send, *error)
            return
        if body_messages:
            replay = iter(body_messages)

            async def receive_again() -> Message:
                try:
                    return next(replay)
                except StopIteration:
                    return await receive()

            await self.app(scope, receive_again, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _check_path_and_query(scope: Scope) -> tuple[int, bytes] | None:
        for segment in scope.get("path", "").split("/"):
            if _too_large(segment):
                return _json_error(404, f"nothing has the ID {segment}: IDs are at most {MAX_ID}")
        query = scope.get("query_string", b"").decode("latin-1")
        for key, value in parse_qsl(query, keep_blank_values=True):
            if (key == "id" or key.endswith("_id")) and _too_large(value.lstrip("-")):
                return _json_error(422, f"{key}: {value} is out of range (IDs are at most {MAX_ID})")
        return None

    @staticmethod
    def _is_json(scope: Scope) -> bool:
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return False
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                media = value.split(b";")[0].strip().lower()
                return media == b"application/json" or media.endswith(b"+json")
        return False

    @staticmethod
    async def _read_body(receive: Receive) -> tuple[bytes, list[Message], bool]:
        """The request body (up to ``MAX_JSON_SCAN_BYTES``), the messages read, and whether it is complete."""
        messages: list[Message] = []
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return b"", messages, False
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), messages, True
            if size > MAX_JSON_SCAN_BYTES:
                return b"", messages, False

    @staticmethod
    def _check_json(body: bytes) -> tuple[int, bytes] | None:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return None  # FastAPI answers malformed JSON with its own 422
        fields = list(_oversized_ids(document))
        if fields:
            return _json_error(422, f"{', '.join(fields)}: out of range (IDs are at most {MAX_ID})")
        return None

    @staticmethod
    async def _answer(send: Send, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def install_security(app: FastAPI) -> None:
    """Add the ID bounds and security headers middleware and the out-of-range backstop handlers to ``app``.

    Call it after every other middleware so that the headers wrap all responses, including other middleware's.
    """

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        return JSONResponse({"detail": f"a number in the request is out of range: {exc}"}, status_code=422)

    @app.exception_handler(DataError)
    async def _data_error(_: Request, exc: DataError) -> JSONResponse:
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        return JSONResponse({"detail": f"a value in the request does not fit the database: {reason}"}, status_code=422)

    app.add_middleware(IdBounds)
    app.add_middleware(SecurityHeaders)  # added last = outermost: the headers also go on IdBounds' answers
