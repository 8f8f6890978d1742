"""The transfer workflow: who may take which step from which state, the donor's protection
re-checked on approval, and the stock moved by shipping and receiving.

    proposed --approve (donor)--> approved --accept (receiver)--> accepted
             --commit (operator)--> committed --ship (donor)--> shipped
             --receive (receiver)--> received
    proposed --decline (donor, reason)--> declined
    approved --reject (receiver, reason)--> rejected
    a received loan: payback owed --ship-payback (receiver)--> shipped
                                  --receive-payback (donor)--> returned

The planner moves un-approved proposals it no longer makes to ``superseded``; advancing the
period moves transfers not committed by their departure period to ``expired``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InputError
from ..models.network import Plan, authorize
from .assemble import Assembled, assemble, pending, settings, shipment
from .audit import record
from .auth import Party
from .firmdata import add_lots, take, to_absolute
from .tables import Firm, Link, Material, Stock, Transfer


@dataclass(frozen=True)
class Step:
    """One step: the party that takes it, the field it reads, from which value to which."""

    party: str  # "donor", "receiver" or "operator"
    field: str  # "state" or "payback"
    source: str
    target: str
    needs_reason: bool = False


STEPS = {
    "approve": Step("donor", "state", "proposed", "approved"),
    "decline": Step("donor", "state", "proposed", "declined", needs_reason=True),
    "accept": Step("receiver", "state", "approved", "accepted"),
    "reject": Step("receiver", "state", "approved", "rejected", needs_reason=True),
    "commit": Step("operator", "state", "accepted", "committed"),
    "ship": Step("donor", "state", "committed", "shipped"),
    "receive": Step("receiver", "state", "shipped", "received"),
    "ship-payback": Step("receiver", "payback", "owed", "shipped"),
    "receive-payback": Step("donor", "payback", "shipped", "returned"),
}


def transfer_json(tr: Transfer, names: dict[int, str], materials: dict[int, str]) -> dict:
    """What a party of the transfer sees: the partner's name, nothing else of it."""
    return {"id": tr.id, "donor": names[tr.donor_id], "receiver": names[tr.receiver_id],
            "material": materials[tr.material_id], "kind": tr.kind, "qty": tr.qty,
            "period": tr.period, "arrival": tr.arrival, "return_period": tr.return_period,
            "price": tr.price, "state": tr.state, "payback": tr.payback, "reason": tr.reason,
            "version": tr.version}


def audit_view(tr: Transfer) -> dict:
    return {"donor_id": tr.donor_id, "receiver_id": tr.receiver_id,
            "material_id": tr.material_id, "kind": tr.kind, "qty": tr.qty, "period": tr.period,
            "arrival": tr.arrival, "return_period": tr.return_period, "price": tr.price,
            "state": tr.state, "payback": tr.payback, "reason": tr.reason,
            "carried": tr.carried, "payback_carried": tr.payback_carried,
            "version": tr.version}


def stock_view(st: Stock) -> dict:
    return {"firm_id": st.firm_id, "material_id": st.material_id, "lots": st.lots,
            "receipts": st.receipts, "requirements": st.requirements,
            "protected": st.protected, "hold": st.hold, "shortage": st.shortage,
            "version": st.version}


def visible(session: Session, party: Party, transfer_id: int) -> Transfer:
    """The transfer if the party is the operator, its donor or its receiver; else 404."""
    tr = session.get(Transfer, transfer_id)
    if tr is None or not (party.is_operator or party.firm_id in (tr.donor_id, tr.receiver_id)):
        raise HTTPException(404, "no such transfer")
    return tr


def take_step(session: Session, party: Party, tr: Transfer, name: str, version: int,
              reason: str | None) -> Transfer:
    """Apply step ``name`` for ``party`` (the transfer already known visible to it)."""
    step = STEPS[name]
    who = {"donor": tr.donor_id, "receiver": tr.receiver_id, "operator": None}[step.party]
    if (party.firm_id if not party.is_operator else None) != who:
        raise HTTPException(403, f"only the {step.party} may {name} this transfer")
    if version != tr.version:
        raise HTTPException(409, f"stale version {version}: the transfer is at version "
                                 f"{tr.version}")
    now = getattr(tr, step.field)
    if now != step.source:
        raise HTTPException(409, f"cannot {name}: the transfer's {step.field} is {now!r}, "
                                 f"the step needs {step.source!r}")
    if step.needs_reason and not (reason or "").strip():
        raise InputError("reason", f"a reason is required to {name}")
    before = audit_view(tr)
    if name in ("approve", "commit"):
        check_protection(session, tr)
    elif name == "ship":
        _ship(session, party, tr)
    elif name == "receive":
        _receive(session, party, tr)
    elif name == "ship-payback":
        _ship_payback(session, party, tr)
    elif name == "receive-payback":
        _receive_payback(session, party, tr)
    setattr(tr, step.field, step.target)
    if step.needs_reason:
        tr.reason = reason
    if name == "receive" and tr.kind == "loan":
        tr.payback = "owed"
    session.flush()
    record(session, party.actor, f"transfer.{name}", f"transfers/{tr.id}", before,
           audit_view(tr), (tr.donor_id, tr.receiver_id))
    return tr


def check_protection(session: Session, tr: Transfer) -> None:
    """Refuse (409) when the donor's plan, with its current data, the transfers already on
    their way out and this one, would be penalized: the rule, material and period named."""
    a = assemble(session)
    assert a is not None  # a transfer implies firms, materials and data
    mine = shipment(a, tr)
    if mine is None:
        raise HTTPException(409, {"rule": "period", "material": _material(session, tr),
                                  "period": tr.period,
                                  "message": f"transfer {tr.id} leaves in period {tr.period}, "
                                             f"before the current period "
                                             f"{a.settings.current_period}, or arrives after "
                                             f"the horizon"})
    others = [s for s in (shipment(a, t) for t in pending(session, exclude=tr.id)) if s]
    try:
        plan = Plan.from_json({"shipments": others}, a.inst)
        proposed = Plan.from_json({"shipments": [mine]}, a.inst)
    except InputError as exc:
        raise HTTPException(409, {"rule": "structure", "material": _material(session, tr),
                                  "period": tr.period, "message": str(exc)}) from None
    verdict = authorize(a.inst, plan, proposed)
    donor = a.firm(tr.donor_id)
    mine_refused = [r for r in verdict.refusals if r.firm in (donor, -1)]
    if mine_refused:
        r = mine_refused[0]
        now = a.settings.current_period
        raise HTTPException(409, {
            "rule": r.rule, "material": a.inst.material_names[r.material]
            if r.material >= 0 else _material(session, tr),
            "period": r.period + now - 1 if r.period > 0 else None,
            "message": f"the donor's plan would be penalized: {r.message} (period "
                       f"{r.period} of the horizon from period {now})"})


def _material(session: Session, tr: Transfer) -> str:
    return session.get(Material, tr.material_id).name


def _pair(session: Session, firm_id: int, material_id: int) -> Stock:
    st = session.scalar(select(Stock).where(Stock.firm_id == firm_id,
                                            Stock.material_id == material_id))
    if st is None:
        raise HTTPException(409, "the firm holds no data for this material")
    return st


def _move_out(session, party, tr, firm_id, qty, usable_abs) -> list[dict]:
    now = settings(session).current_period
    st = _pair(session, firm_id, tr.material_id)
    try:
        left, taken = take(st.lots, qty, usable_abs - now + 1)
    except ValueError as exc:
        raise HTTPException(409, f"not enough stock to ship: {exc}") from None
    before = stock_view(st)
    st.lots = left
    session.flush()
    record(session, party.actor, "stock.ship", f"stock/{st.firm_id}/{st.material_id}",
           before, stock_view(st), (st.firm_id,))
    return to_absolute(taken, now)


def _move_in(session, party, tr, firm_id, lots_abs) -> None:
    now = settings(session).current_period
    st = _pair(session, firm_id, tr.material_id)
    before = stock_view(st)
    st.lots = add_lots(st.lots, lots_abs, now)
    session.flush()
    record(session, party.actor, "stock.receive", f"stock/{st.firm_id}/{st.material_id}",
           before, stock_view(st), (st.firm_id,))


def _ship(session, party, tr: Transfer) -> None:
    if settings(session).current_period < tr.period:
        raise HTTPException(409, f"cannot ship before the departure period {tr.period}")
    tr.carried = _move_out(session, party, tr, tr.donor_id, tr.qty, tr.arrival)


def _receive(session, party, tr: Transfer) -> None:
    _move_in(session, party, tr, tr.receiver_id, tr.carried)


def _ship_payback(session, party, tr: Transfer) -> None:
    tr.payback_carried = _move_out(session, party, tr, tr.receiver_id, tr.qty,
                                   tr.return_period)


def _receive_payback(session, party, tr: Transfer) -> None:
    _move_in(session, party, tr, tr.donor_id, tr.payback_carried)


def new_transfer(session: Session, a: Assembled, donor: int, receiver: int, material: int,
                 period: int, qty: float, kind: str, return_period: int | None,
                 run_id: int | None = None) -> Transfer:
    """A proposed transfer, checked against the plan format's rules (link, listed pairs,
    periods within the horizon, loan terms); errors name the request's fields."""
    now = a.settings.current_period
    for fid, key in ((donor, "donor"), (receiver, "receiver")):
        if fid not in a.index["firms"]:
            raise InputError(key, f"unknown firm {fid}")
    if material not in a.index["materials"]:
        raise InputError("material_id", f"unknown material {material}")
    doc = {"from": a.firm(donor), "to": a.firm(receiver), "material": a.material(material),
           "period": period - now + 1, "qty": qty, "kind": kind}
    if return_period is not None:
        doc["return_period"] = return_period - now + 1
    try:
        Plan.from_json({"shipments": [doc]}, a.inst)
    except InputError as exc:
        key = exc.field.removeprefix("shipments[0]").lstrip(".")
        key = {"from": "donor", "to": "receiver", "material": "material_id"}.get(key, key)
        raise InputError(key or "body", exc.problem) from None
    link = session.scalar(select(Link).where(Link.from_firm_id == donor,
                                            Link.to_firm_id == receiver))
    mat = session.get(Material, material)
    price = mat.price if kind == "permanent" else a.settings.loan_fee
    tr = Transfer(donor_id=donor, receiver_id=receiver, material_id=material, kind=kind,
                  qty=qty, period=period, arrival=period + link.lead_time,
                  return_period=return_period, price=price, state="proposed", carried=[],
                  payback_carried=[], run_id=run_id)
    session.add(tr)
    session.flush()
    return tr


def names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    firms = {f.id: f.name for f in session.scalars(select(Firm))}
    mats = {m.id: m.name for m in session.scalars(select(Material))}
    return firms, mats
