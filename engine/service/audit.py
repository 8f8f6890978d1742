"""The append-only audit log: who changed what, when, before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .tables import AuditEntry


def record(session: Session, actor: str, action: str, resource: str, before: Any, after: Any,
           firms: tuple[int | None, ...] = ()) -> AuditEntry:
    """Add one entry in the caller's transaction (the change and its record commit together).

    ``firms``: the firms whose records it is (the owner of the data, or a transfer's donor
    and receiver); each may read it. The operator reads every entry.
    """
    a, b = (tuple(firms) + (None, None))[:2]
    entry = AuditEntry(actor=actor, action=action, resource=resource, before=before,
                       after=after, firm_a=a, firm_b=b)
    session.add(entry)
    return entry


def entry_json(e: AuditEntry) -> dict:
    return {"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
            "resource": e.resource, "before": e.before, "after": e.after}
