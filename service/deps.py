"""What routes receive through FastAPI dependencies: settings, the engine, the admin check."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qa.engine import Engine
from qa.live import LiveEngine
from service.errors import ApiError
from service.settings import Settings

# The dependencies below are ``async`` because they never block: FastAPI runs a plain
# function dependency in its thread pool, and each such hop cost a request ~0.4 ms here.


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


async def get_live(request: Request) -> LiveEngine:
    """The app's live engine."""
    return request.app.state.live


SettingsDep = Annotated[Settings, Depends(get_settings)]
LiveDep = Annotated[LiveEngine, Depends(get_live)]


async def current_engine(live: LiveDep) -> AsyncIterator[Engine]:
    """The engine of the served build, held for the whole request (a swap closes the old
    build only after its last request). Taking and returning the lease are a counter
    under a lock, cheap enough for the event loop; so is closing a swapped-out build
    after its last request, which happens once a swap."""
    with live.use() as engine:
        yield engine


EngineDep = Annotated[Engine, Depends(current_engine)]

_bearer = HTTPBearer(auto_error=False, scheme_name="adminKey",
                     description="The admin key (QA_ADMIN_KEY) as a bearer token.")


def require_admin(settings: SettingsDep, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """Accept ``Authorization: Bearer <QA_ADMIN_KEY>``; 403 when no key is configured."""
    key = settings.admin_key
    if key is None:
        raise ApiError(403, "admin endpoints are disabled: set QA_ADMIN_KEY", None,
                       "permission_error")
    given = credentials.credentials if credentials else ""
    if not given or not secrets.compare_digest(given.encode(),
                                               key.get_secret_value().encode()):
        raise ApiError(401, "a valid admin key is required (Authorization: Bearer <key>)",
                       "authorization", "authentication_error",
                       headers={"WWW-Authenticate": "Bearer"})


AdminDep = Depends(require_admin)
