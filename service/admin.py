"""Admin actions, behind ``QA_ADMIN_KEY`` (disabled while it is unset)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Header, Request

from service.errors import ApiError
from service.native import live

router = APIRouter()


def require_admin(request: Request, authorization: str | None) -> None:
    """Accept ``Authorization: Bearer <QA_ADMIN_KEY>``; 403 when no key is configured."""
    key = request.app.state.settings.admin_key
    if key is None:
        raise ApiError(403, "admin endpoints are disabled: set QA_ADMIN_KEY", None,
                       "permission_error")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
            given.encode(), key.get_secret_value().encode()):
        raise ApiError(401, "a valid admin key is required (Authorization: Bearer <key>)",
                       "authorization", "authentication_error")


@router.post("/api/admin/reload")
def reload(request: Request, authorization: str | None = Header(default=None)) -> dict:
    """Open the newly published build now instead of at the next poll."""
    require_admin(request, authorization)
    state = live(request)
    swapped = state.refresh()
    engine = state.engine()
    return {"swapped": swapped, "index_version": engine.version, "warning": state.error}
