"""Server-rendered pages (no front-end build): a firm's open transfers with their buttons,
its stock and figures; the operator's overview. The token is kept in a cookie
(HttpOnly, SameSite=Strict: another site cannot post these forms with it); a bearer header
works as for the API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..errors import InputError
from ..models.network import Instance, Plan
from .api_common import IdPath
from .assemble import settings
from .auth import COOKIE, Party, identify, presented_token
from .context import session
from .db import begin_write
from .figures import firm_figures
from .firmdata import fit
from .tables import Firm, PlanningRun, Stock, Transfer
from .workflow import STEPS, names, take_step, transfer_json, visible

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
HTML = {"content": {"text/html": {}}}
def _json(name: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


router = APIRouter(tags=["pages"], default_response_class=HTMLResponse, responses={
    303: {"description": "done: back to the page (no body)"},
    **{s: {"description": d, **HTML} for s, d in (
        (401, "the login page"),
        (403, "not this party's step"), (409, "stale or refused"))},
    # the form's own validation answers as the API does
    400: {"description": "a body that cannot be parsed", "content": _json("Problem")},
    404: {"description": "not found", "content": {**_json("Problem"), "text/html": {}}},
    422: {"description": "bad form", "content": {**_json("ValidationProblem"),
                                                 "text/html": {}}}})
#: Transfers a page lists: those still moving through the workflow.
OPEN = ("proposed", "approved", "accepted", "committed", "shipped")


class _Login(Exception):
    def __init__(self, error: str | None):
        self.error = error


def _party(request: Request, s: Session) -> Party:
    token = presented_token(request)
    if token is None:
        raise _Login(None)
    try:
        return identify(s, request.app.state.operator_hash, token)
    except HTTPException:
        raise _Login("unknown or revoked token") from None


def _login(request: Request, error: str | None, status: int) -> HTMLResponse:
    resp = templates.TemplateResponse(request, "login.html", {
        "title": "Log in", "party": None, "error": error}, status_code=status)
    if error:
        resp.delete_cookie(COOKIE)
    return resp


def _steps(t: Transfer, p: Party) -> list[str]:
    role = None if p.is_operator else "donor" if p.firm_id == t.donor_id else "receiver"
    out = []
    for name, step in STEPS.items():
        mine = step.party == ("operator" if p.is_operator else role)
        if mine and getattr(t, step.field) == step.source:
            out.append(name)
    return out


def _page(request: Request, s: Session, p: Party, error: str | None = None,
          status: int = 200) -> HTMLResponse:
    firms, mats = names(s)
    q = select(Transfer).where(or_(Transfer.state.in_(OPEN),
                                   Transfer.payback.in_(("owed", "shipped"))))
    if not p.is_operator:
        q = q.where(or_(Transfer.donor_id == p.firm_id, Transfer.receiver_id == p.firm_id))
    transfers = [{**transfer_json(t, firms, mats), "steps": _steps(t, p)}
                 for t in s.scalars(q.order_by(Transfer.id))]
    st = settings(s)
    ctx = {"party": p, "error": error, "settings": st, "transfers": transfers}
    if p.is_operator:
        ctx.update(title="Operator overview",
                   firms=[{"id": f.id, "name": f.name, "token_active": f.token_hash is not None}
                          for f in s.scalars(select(Firm).order_by(Firm.id))],
                   runs=list(s.scalars(select(PlanningRun).order_by(PlanningRun.id.desc())
                                       .limit(10))))
        return templates.TemplateResponse(request, "operator.html", ctx, status_code=status)
    stock = [{"material": mats[x.material_id], "on_hand": sum(lot["qty"] for lot in x.lots),
              "protected": x.protected,
              "requirements": [f"{v:g}" for v in fit(x.requirements, st.periods)],
              "receipts": [f"{v:g}" for v in fit(x.receipts, st.periods)]}
             for x in s.scalars(select(Stock).where(Stock.firm_id == p.firm_id)
                                .order_by(Stock.material_id))]
    ctx.update(title=p.name, stock=stock, figures=_figures(s, p.firm_id))
    return templates.TemplateResponse(request, "firm.html", ctx, status_code=status)


def _figures(s: Session, firm_id: int) -> list[tuple[str, str]]:
    run = s.scalar(select(PlanningRun).where(PlanningRun.plan.is_not(None),
                                             PlanningRun.replay_of.is_(None))
                   .order_by(PlanningRun.id.desc()).limit(1))
    if run is None or firm_id not in run.index["firms"]:
        return [("plan", "none yet")]
    inst = Instance.from_json(run.instance)
    fig = firm_figures(inst, Plan.from_json(run.plan, inst), run.index["firms"].index(firm_id))
    return [("plan", f"run {run.id}")] + [(k.replace("_", " "), f"{v:,.2f}")
                                          for k, v in fig.items()]


@router.get("/ui", summary="the page of the caller (log in without a token)")
def page(request: Request, s: Session = Depends(session)):
    try:
        p = _party(request, s)
    except _Login as exc:
        return _login(request, exc.error, 401 if exc.error else 200)
    return _page(request, s, p)


@router.post("/ui/login", summary="log in with a token (kept in a cookie)")
def login(request: Request, token: Annotated[str, Form(max_length=200)],
          s: Session = Depends(session)):
    try:
        identify(s, request.app.state.operator_hash, token)
    except HTTPException:
        return _login(request, "unknown or revoked token", 401)
    resp = RedirectResponse("/ui", status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict")
    return resp


@router.post("/ui/logout", summary="forget the token")
def logout() -> Response:
    resp = RedirectResponse("/ui", status_code=303)
    resp.delete_cookie(COOKIE)
    return resp


def _party_to(request: Request, transfer_id: IdPath, s: Session = Depends(session)):
    """The caller, if it may see the transfer: 404 (before reading the form) if not."""
    try:
        p = _party(request, s)
    except _Login as exc:
        return exc
    visible(s, p, transfer_id)
    return p


def _step_page(name: str):
    def take(request: Request, transfer_id: IdPath,
             version: Annotated[int, Form(ge=1, le=2**31 - 1)],
             reason: Annotated[str | None, Form(max_length=1000)] = None,
             p=Depends(_party_to), s: Session = Depends(session)):
        if isinstance(p, _Login):
            return _login(request, p.error, 401)
        try:
            begin_write(s)
            take_step(s, p, visible(s, p, transfer_id), name, version, reason)
            s.commit()
        except HTTPException as exc:
            s.rollback()
            detail = exc.detail if isinstance(exc.detail, str) else exc.detail["message"]
            return _page(request, s, p, f"{name}: {detail}", exc.status_code)
        except InputError as exc:
            s.rollback()
            return _page(request, s, p, f"{name}: {exc}", 422)
        except StaleDataError:
            s.rollback()
            return _page(request, s, p, f"{name}: another request changed it first", 409)
        planner = request.app.state.planner
        if planner is not None:
            planner.nudge("workflow")
        return RedirectResponse("/ui", status_code=303)

    take.__name__ = f"page_{name.replace('-', '_')}"
    router.post(f"/ui/transfers/{{transfer_id}}/{name}", summary=f"{name} (a page's form)")(
        take)


for _name in STEPS:
    _step_page(_name)
