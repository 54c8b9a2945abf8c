"""Admin actions, behind ``QA_ADMIN_KEY`` (disabled while it is unset)."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import AdminDep, LiveDep
from service.responses import ADMIN_ERRORS

router = APIRouter(dependencies=[AdminDep])


@router.post("/api/admin/reload", responses=ADMIN_ERRORS)
def reload(live: LiveDep) -> dict:
    """Open the newly published build now instead of at the next poll."""
    swapped = live.refresh()
    return {"swapped": swapped, "index_version": live.version(), "warning": live.problem()}
