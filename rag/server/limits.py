"""Request body size limit for bodies sent without Content-Length (chunked transfer
encoding): a header check alone lets those through, however large.

(Starlette's own RequestBodyLimitMiddleware answers a Content-Length over the limit
in plain text, replacing the JSON `detail` every other error here carries.)
"""

from __future__ import annotations

import json


class ChunkedBodyLimit:
    """Pure ASGI middleware. A body with Content-Length is left alone: the server
    enforces that length and api.py's check answers one over the limit. A body
    without it is read here, up to the limit, then replayed to the app; one step
    over and the client gets 413 with a JSON `detail`, the app never runs."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _has_length(scope) or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        parts, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            if size > self.max_bytes:
                return await _too_large(send, self.max_bytes)
            if not message.get("more_body", False):
                break
        body = b"".join(parts)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: disconnect notices, as usual

        await self.app(scope, replay, send)


def _has_length(scope) -> bool:
    return any(name == b"content-length" for name, _ in scope.get("headers", ()))


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"detail": f"request body over {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
