"""``POST /api/feedback``: a reader's thumbs up or down on an answer."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from service.errors import ApiError
from service.responses import BODY_ERRORS, errors

router = APIRouter()


class FeedbackRequest(BaseModel):
    """A rating of one answer (its ``answer_id``), with an optional comment."""

    model_config = ConfigDict(extra="forbid")

    answer_id: Annotated[str, Field(min_length=1, max_length=64)]
    rating: Literal["up", "down"]
    comment: Annotated[str, Field(max_length=2000)] | None = None


class FeedbackResponse(BaseModel):
    """The rating was kept."""

    status: Literal["recorded"] = "recorded"
    answer_id: str


@router.post("/api/feedback", response_model=FeedbackResponse,
             responses={**BODY_ERRORS, **errors(404)})
def feedback(body: FeedbackRequest, request: Request) -> FeedbackResponse:
    """Rate an answer up or down; answers rated down appear in the gap report."""
    journal = request.app.state.journal
    if not journal.knows(body.answer_id):
        raise ApiError(404, f"no answer with id {body.answer_id!r} (answers are kept for "
                       "the retention period)", "answer_id", "not_found_error")
    comment = body.comment.strip() if body.comment and body.comment.strip() else None
    journal.rate(body.answer_id, body.rating, comment)
    return FeedbackResponse(answer_id=body.answer_id)
