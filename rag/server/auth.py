"""Who may change the index: a bearer token (RAG_ADMIN_TOKEN) on data-changing routes.

Without a token configured the server only listens on loopback (cli.check_bind), so
the routes are open; with one, every data-changing request must present it.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.config import Settings
from rag.errors import BadInput
from rag.server.token_policy import token_problem
from fastapi.responses import JSONResponse

_bearer = HTTPBearer(auto_error=False, scheme_name="AdminToken",
                     description="`Authorization: Bearer <RAG_ADMIN_TOKEN>`; required when the "
                                 "server has an admin token configured")


def check_admin_token(settings: Settings) -> None:
    """BadInput when the configured admin token is too weak or cannot be sent."""
    if problem := token_problem(settings.admin_token):
        raise BadInput(problem)


def token_ok(settings: Settings, authorization: str | None) -> bool:
    """Whether an Authorization header carries the admin token (or none is configured)."""
    if not settings.admin_token:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Constant time: the comparison must not reveal how much of a guess was right.
    return hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"),
                               settings.admin_token.encode("utf-8"))


def unauthorized(settings: Settings, authorization: str | None) -> HTTPException:
    detail = ("this endpoint needs the admin token: send `Authorization: Bearer <RAG_ADMIN_TOKEN>`"
              if not authorization else "the admin token is wrong")
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def admin_guard(settings: Settings):
    """A FastAPI dependency for routes that change data."""

    def require_admin(request: Request,
                      _: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
        header = request.headers.get("authorization")
        if not token_ok(settings, header):
            raise unauthorized(settings, header)

    def open_to_all() -> None:
        """No token configured (loopback only): the schema declares no security either."""

    return require_admin if settings.admin_token else open_to_all


# Open even with RAG_PROTECT_READS: liveness, the chat page and its files, the API docs.
OPEN_PATHS = ("/health", "/", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


def install_read_guard(app, settings: Settings) -> None:
    """With RAG_PROTECT_READS and a token, reading and asking need the token too."""
    if not (settings.protect_reads and settings.admin_token):
        return

    @app.middleware("http")
    async def guard_reads(request: Request, call_next):
        path = request.url.path
        header = request.headers.get("authorization")
        if path in OPEN_PATHS or path.startswith("/static/") or token_ok(settings, header):
            return await call_next(request)
        exc = unauthorized(settings, header)
        return JSONResponse({"detail": exc.detail}, status_code=401, headers=exc.headers)
