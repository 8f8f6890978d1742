"""Routes of the audit log and the planning runs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import or_, select

from .api_common import ERRORS, IdPath, Limit, Offset, page_of
from .audit import entry_json
from .context import Ctx, ctx, operator
from .schemas import AuditOut, Page, RunDetail, RunOut
from .tables import AuditEntry, PlanningRun
from .workflow import names

router = APIRouter(responses=ERRORS)


@router.get("/audit", response_model=Page[AuditOut], tags=["audit"])
def audit_log(limit: Limit = 100, offset: Offset = 0, c: Ctx = Depends(ctx)):
    """The log in order: the operator reads every entry; a firm the entries of its own data
    and of the transfers it is party to."""
    s = c.session
    q = select(AuditEntry)
    if not c.party.is_operator:
        q = q.where(or_(AuditEntry.firm_a == c.party.firm_id,
                        AuditEntry.firm_b == c.party.firm_id))
    if c.party.is_operator:
        return page_of(s, q, AuditEntry.id, limit, offset, entry_json)
    firms = names(s)[0]

    def render(entry: AuditEntry) -> dict:
        e = entry_json(entry)
        for side in ("before", "after"):
            if e["resource"].startswith("transfers/") and e[side]:
                e[side] = _named(e[side], firms)
        return e
    return page_of(s, q, AuditEntry.id, limit, offset, render)


def _named(view: dict, firms: dict[int, str]) -> dict:
    """A transfer's record as its parties see it: the partner by name, not by id."""
    out = {k: v for k, v in view.items() if k not in ("donor_id", "receiver_id")}
    return {"donor": firms[view["donor_id"]], "receiver": firms[view["receiver_id"]], **out}


def run_out(r: PlanningRun) -> dict:
    return {"id": r.id, "trigger": r.trigger, "audit_seq": r.audit_seq,
            "current_period": r.current_period, "method": r.method, "seed": r.seed,
            "time_limit": r.time_limit, "max_iter": r.max_iter, "status": r.status,
            "cost": r.cost, "bound": r.bound, "wall_s": r.wall_s, "replay_of": r.replay_of,
            "warm_started": bool(r.warm_start and r.warm_start.get("shipments")),
            "pinned": len((r.pins or {}).get("keep", []))}


@router.get("/runs", response_model=Page[RunOut], tags=["planning"])
def list_runs(limit: Limit = 100, offset: Offset = 0, c: Ctx = Depends(operator)):
    return page_of(c.session, select(PlanningRun), PlanningRun.id.desc(), limit, offset,
                   run_out)


@router.get("/runs/{run_id}", response_model=RunDetail, tags=["planning"])
def get_run(run_id: IdPath, c: Ctx = Depends(operator)):
    r = c.session.get(PlanningRun, run_id)
    if r is None:
        raise HTTPException(404, "no such run")
    return {**run_out(r), "instance": r.instance, "index": r.index, "plan": r.plan,
            "error": r.error}


@router.post("/runs", status_code=202, response_model=RunOut | None, tags=["planning"])
def request_plan(c: Ctx = Depends(operator)):
    """Ask for a plan of the current data now; the worker makes it (nothing returned)."""
    planner = c.request.app.state.planner
    if planner is None:
        raise HTTPException(409, "this service runs no planner")
    planner.nudge("requested")
    return None


@router.post("/runs/{run_id}/replay", status_code=202, response_model=RunOut,
             tags=["planning"])
def replay(run_id: IdPath, c: Ctx = Depends(operator)):
    """Queue a run with the stored inputs of run ``run_id``; the worker executes it."""
    planner = c.request.app.state.planner

    def change(s):
        if planner is None:
            raise HTTPException(409, "this service runs no planner")
        run = planner.replay(s, run_id)
        if run is None:
            raise HTTPException(404, "no such run")
        s.flush()
        return run_out(run)
    return c.write(change, 202, planner.wake if planner else None)
