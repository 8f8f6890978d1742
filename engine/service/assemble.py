"""The network instance of the service's current data, and transfers as plan shipments.

Firms and materials are numbered in the order of their ids; ``index`` keeps the ids of the
numbers, so that a plan of the instance maps back to the service's rows. Periods of the
instance are relative to the current period (period 1 is the current one).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models.network import Instance
from .firmdata import material_doc, stock_entry
from .tables import AuditEntry, Firm, Link, Material, Setting, Stock, Transfer

#: Transfers that will leave: part of every plan the service checks (pinned when committed).
PENDING = ("approved", "accepted", "committed")


@dataclass(frozen=True)
class Assembled:
    doc: dict
    index: dict
    inst: Instance
    settings: Setting
    audit_seq: int

    def firm(self, firm_id: int) -> int:
        return self.index["firms"].index(firm_id)

    def material(self, material_id: int) -> int:
        return self.index["materials"].index(material_id)


def settings(session: Session) -> Setting:
    s = session.get(Setting, 1)
    assert s is not None, "the migrations create the settings row"
    return s


def settings_out(st: Setting) -> dict:
    """The settings as the API shows them (and as the audit log records them)."""
    return {"periods": st.periods, "current_period": st.current_period,
            "loan_durations": list(st.loan_durations), "loan_fee": st.loan_fee,
            "version": st.version}


def assemble(session: Session) -> Assembled | None:
    """The instance of the current data; None while there is nothing to plan (no firm, no
    material or no firm data)."""
    st = settings(session)
    T, now = st.periods, st.current_period
    firms = session.scalars(select(Firm).order_by(Firm.id)).all()
    mats = session.scalars(select(Material).order_by(Material.id)).all()
    pairs = session.scalars(select(Stock).order_by(Stock.firm_id, Stock.material_id)).all()
    if not firms or not mats or not pairs:
        return None
    fi = {f.id: k for k, f in enumerate(firms)}
    mi = {m.id: k for k, m in enumerate(mats)}
    stock = {}
    for p in pairs:
        stock[fi[p.firm_id], mi[p.material_id]] = {"firm": fi[p.firm_id],
                                                   "material": mi[p.material_id],
                                                   **stock_entry(p, T)}
    links = session.scalars(select(Link).order_by(Link.id)).all()
    lead = {(ln.from_firm_id, ln.to_firm_id): ln.lead_time for ln in links}
    # Stock on its way: shipped transfers reach their receivers, owed paybacks their lenders.
    moving = session.scalars(select(Transfer).where(
        (Transfer.state == "shipped") | Transfer.payback.in_(("owed", "shipped")))).all()
    for tr in moving:
        m = mi[tr.material_id]
        if tr.state == "shipped":
            _add(stock.get((fi[tr.receiver_id], m)), "receipts", tr.arrival - now, tr.qty, T)
            continue
        _add(stock.get((fi[tr.donor_id], m)), "receipts", tr.return_period - now, tr.qty, T)
        if tr.payback == "owed":
            back = lead.get((tr.receiver_id, tr.donor_id), 0)
            _add(stock.get((fi[tr.receiver_id], m)), "requirements",
                 tr.return_period - back - now, tr.qty, T)
    doc = {
        "model": "network", "name": f"service period {now}", "periods": T,
        "materials": [material_doc(m) for m in mats],
        "firms": [{"name": f.name} for f in firms],
        "stock": list(stock.values()),
        "links": [{"from": fi[ln.from_firm_id], "to": fi[ln.to_firm_id],
                   "lead_time": ln.lead_time,
                   "unit_cost": [ln.unit_costs.get(m.name, ln.unit_cost) for m in mats],
                   "fixed_cost": ln.fixed_cost} for ln in links],
        "loans": {"durations": list(st.loan_durations), "fee": st.loan_fee},
    }
    seq = session.scalar(select(func.max(AuditEntry.id))) or 0
    return Assembled(doc=doc, index={"firms": [f.id for f in firms],
                                     "materials": [m.id for m in mats]},
                     inst=Instance.from_json(doc), settings=st, audit_seq=seq)


def _add(entry: dict | None, key: str, offset: int, qty: float, T: int) -> None:
    """Add ``qty`` to the series ``key`` in relative period ``offset + 1`` (clamped into the
    horizon: an overdue arrival counts now, one after the horizon not at all)."""
    if entry is None or offset >= T:
        return
    entry[key][max(offset, 0)] += qty


def shipment(a: Assembled, tr: Transfer) -> dict | None:
    """A transfer as a shipment of the plan format, or None when it leaves before the current
    period or arrives after the horizon."""
    now = a.settings.current_period
    t = tr.period - now + 1
    if t < 1 or tr.arrival - now + 1 > a.inst.n_periods:
        return None
    d = {"from": a.firm(tr.donor_id), "to": a.firm(tr.receiver_id),
         "material": a.material(tr.material_id), "period": t, "qty": tr.qty, "kind": tr.kind}
    if tr.kind == "loan":
        d["return_period"] = tr.return_period - now + 1
    return d


def pending(session: Session, exclude: int | None = None) -> list[Transfer]:
    q = select(Transfer).where(Transfer.state.in_(PENDING)).order_by(Transfer.id)
    return [t for t in session.scalars(q).all() if t.id != exclude]
