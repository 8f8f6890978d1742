"""Ending the current period: what the operator's call and the configured schedule both do."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .assemble import settings, settings_out
from .audit import record
from .firmdata import advance
from .tables import Material, Stock, Transfer
from .workflow import audit_view, stock_view


def advance_period(s: Session, actor: str) -> None:
    """End the current period inside the caller's write transaction: each firm's receipt of
    the period arrives and its requirement is consumed first-expiry-first, what expires is
    wasted, the series move on by one; proposals not committed by their departure period
    expire; every change is audited as ``actor``'s."""
    st = settings(s)
    before = settings_out(st)
    lives = {m.id: m.life for m in s.scalars(select(Material))}
    for pair in s.scalars(select(Stock).order_by(Stock.id)):
        b = stock_view(pair)
        moved = advance(pair, lives[pair.material_id], st.periods)
        pair.lots, pair.receipts = moved["lots"], moved["receipts"]
        pair.requirements = moved["requirements"]
        s.flush()
        record(s, actor, "stock.advance", f"stock/{pair.firm_id}/{pair.material_id}", b,
               stock_view(pair), (pair.firm_id,))
    for tr in s.scalars(select(Transfer).where(
            Transfer.state.in_(("proposed", "approved", "accepted")),
            Transfer.period <= st.current_period)):
        b = audit_view(tr)
        tr.state = "expired"
        s.flush()
        record(s, actor, "transfer.expire", f"transfers/{tr.id}", b, audit_view(tr),
               (tr.donor_id, tr.receiver_id))
    st.current_period += 1
    s.flush()
    record(s, actor, "period.advance", "settings/1", before, settings_out(st))
