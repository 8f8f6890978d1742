"""What every route shares: documented error responses, pagination, nudging the planner."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from .schemas import Problem


class ValidationItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """Bad input: each entry names the field (``loc``) and the problem (``msg``)."""

    detail: list[ValidationItem]


ERRORS = {400: {"model": Problem, "description": "a body that cannot be parsed"},
          401: {"model": Problem, "description": "no or unknown bearer token"},
          403: {"model": Problem, "description": "a party of the transfer, not the one "
                                                 "that takes this step"},
          404: {"model": Problem, "description": "no such resource, or not the caller's"},
          409: {"model": Problem, "description": "stale version, wrong state, or refused "
                                                 "by the donor's protection"},
          422: {"model": ValidationProblem, "description": "bad input, the field named"}}

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]


def nudge(request, trigger: str):
    """A callable that tells the planner the data changed."""
    planner = request.app.state.planner

    def after() -> None:
        if planner is not None:
            planner.nudge(trigger)
    return after


def page_of(session, query, order, limit: int, offset: int, render) -> dict:
    """One page of ``query``'s rows in ``order``, each as ``render(row)``, with the number
    of all its rows."""
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(order).limit(limit).offset(offset))
    return {"items": [render(r) for r in rows], "total": total, "limit": limit,
            "offset": offset}
