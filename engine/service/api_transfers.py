"""Routes of the transfers: list, read, propose by hand, and one route per workflow step."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import or_, select

from .api_common import ERRORS, IdPath, Limit, Offset, nudge, page_of
from .assemble import assemble
from .audit import record
from .context import Ctx, ctx, operator
from .schemas import Page, StepIn, TransferIn, TransferOut
from .tables import Transfer
from .workflow import STEPS, audit_view, names, new_transfer, take_step, transfer_json, visible

router = APIRouter(tags=["transfers"], responses=ERRORS)
State = Literal["proposed", "approved", "accepted", "committed", "shipped", "received",
                "declined", "rejected", "superseded", "expired"]


@router.get("/transfers", response_model=Page[TransferOut])
def list_transfers(state: State | None = None, limit: Limit = 100, offset: Offset = 0,
                   c: Ctx = Depends(ctx)):
    """The operator reads every transfer; a firm those it gives or receives."""
    s = c.session
    q = select(Transfer)
    if not c.party.is_operator:
        q = q.where(or_(Transfer.donor_id == c.party.firm_id,
                        Transfer.receiver_id == c.party.firm_id))
    if state is not None:
        q = q.where(Transfer.state == state)
    firms, mats = names(s)
    return page_of(s, q, Transfer.id, limit, offset,
                   lambda t: transfer_json(t, firms, mats))


def party_to(transfer_id: IdPath, c: Ctx = Depends(ctx)) -> Ctx:
    """Routes of one transfer: its donor, its receiver or the operator; anyone else 404
    (before the request's body is even read)."""
    visible(c.session, c.party, transfer_id)
    return c


@router.get("/transfers/{transfer_id}", response_model=TransferOut)
def get_transfer(transfer_id: IdPath, c: Ctx = Depends(party_to)):
    tr = visible(c.session, c.party, transfer_id)
    return transfer_json(tr, *names(c.session))


@router.post("/transfers", response_model=TransferOut, status_code=201)
def propose(body: TransferIn, c: Ctx = Depends(operator)):
    """Propose a transfer by hand (the planner proposes from its plans). Periods are
    absolute; the transfer must fit the plan format's rules for the current data."""
    def change(s):
        a = assemble(s)
        if a is None:
            raise HTTPException(409, "nothing to transfer: no firm data yet")
        tr = new_transfer(s, a, body.donor, body.receiver, body.material_id, body.period,
                          body.qty, body.kind, body.return_period)
        record(s, c.party.actor, "transfer.propose", f"transfers/{tr.id}", None,
               audit_view(tr), (tr.donor_id, tr.receiver_id))
        return transfer_json(tr, *names(s))
    return c.write(change, 201)


def _step_route(name: str):
    step = STEPS[name]

    def take(transfer_id: IdPath, body: StepIn, c: Ctx = Depends(party_to)):
        def change(s):
            tr = visible(s, c.party, transfer_id)
            take_step(s, c.party, tr, name, body.version, body.reason)
            return transfer_json(tr, *names(s))
        return c.write(change, 200, nudge(c.request, "workflow"))

    take.__name__ = f"transfer_{name.replace('-', '_')}"
    take.__doc__ = (f"{name}: the {step.party} moves the transfer's {step.field} from "
                    f"{step.source!r} to {step.target!r}"
                    + (" (a reason is required)." if step.needs_reason else "."))
    router.post(f"/transfers/{{transfer_id}}/{name}", response_model=TransferOut,
                summary=f"{name} a transfer")(take)


for _name in STEPS:
    _step_route(_name)
