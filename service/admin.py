"""Admin actions, behind ``QA_ADMIN_KEY`` (disabled while it is unset)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from service.deps import AdminDep, LiveDep, SettingsDep
from service.errors import ApiError
from service.report import gap_report, since_time
from service.responses import ADMIN_ERRORS, errors

router = APIRouter(dependencies=[AdminDep])


@router.post("/api/admin/reload", responses=ADMIN_ERRORS)
def reload(live: LiveDep) -> dict:
    """Open the newly published build now instead of at the next poll."""
    swapped = live.refresh()
    return {"swapped": swapped, "index_version": live.version(), "warning": live.problem()}


@router.get("/api/admin/report", responses={**ADMIN_ERRORS, **errors(400, 503)})
def report(request: Request, live: LiveDep, settings: SettingsDep,
           since: Annotated[str, Query(max_length=20, description="7d, 24h, 30m, 2w or "
                                       "YYYY-MM-DD")] = "7d") -> dict:
    """The gap report: poorly answered questions grouped by meaning, answers rated down
    (what ``qa report --json`` prints)."""
    try:
        start = since_time(since)
    except ValueError as exc:
        raise ApiError(400, str(exc).replace("--since", "since"), "since") from exc
    with live.use() as engine:
        return gap_report(request.app.state.journal, engine.embedder, start,
                          settings.report_low_confidence)
