"""Routes of the parties: firms, their tokens, and who the caller is."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select

from .api_common import ERRORS, IdPath, Limit, Offset, nudge, page_of
from .audit import record
from .auth import new_token, token_hash
from .context import Ctx, ctx, operator, own_firm
from .schemas import FirmIn, FirmOut, Me, Page, TokenOut
from .tables import Firm

router = APIRouter(tags=["parties"], responses=ERRORS)


def firm_out(f: Firm) -> dict:
    return {"id": f.id, "name": f.name, "token_active": f.token_hash is not None,
            "version": f.version}


def _audit_firm(f: Firm) -> dict:
    # the hash of a token is kept out of the log: the log is read by the firm too
    return {"name": f.name, "token_active": f.token_hash is not None, "version": f.version}


@router.get("/me", response_model=Me)
def me(c: Ctx = Depends(ctx)):
    p = c.party
    return {"role": "operator" if p.is_operator else "firm", "firm_id": p.firm_id,
            "name": p.name}


@router.post("/firms", response_model=TokenOut, status_code=201)
def create_firm(body: FirmIn, c: Ctx = Depends(operator)):
    def change(s):
        if s.scalar(select(Firm).where(Firm.name == body.name)) is not None:
            raise HTTPException(409, f"a firm named {body.name!r} exists")
        token = new_token()
        f = Firm(name=body.name, token_hash=token_hash(token))
        s.add(f)
        s.flush()
        record(s, c.party.actor, "firm.create", f"firms/{f.id}", None, _audit_firm(f),
               (f.id,))
        return {"firm_id": f.id, "name": f.name, "token": token}
    return c.write(change, 201, nudge(c.request, "firm created"))


@router.get("/firms", response_model=Page[FirmOut])
def list_firms(limit: Limit = 100, offset: Offset = 0, c: Ctx = Depends(operator)):
    return page_of(c.session, select(Firm), Firm.id, limit, offset, firm_out)


def _firm(c: Ctx, firm_id: int) -> Firm:
    f = c.session.get(Firm, firm_id)
    if f is None:
        raise HTTPException(404, "no such firm")
    return f


@router.get("/firms/{firm_id}", response_model=FirmOut)
def get_firm(firm_id: IdPath, c: Ctx = Depends(own_firm)):
    return firm_out(_firm(c, firm_id))


@router.post("/firms/{firm_id}/token", response_model=TokenOut)
def rotate_token(firm_id: IdPath, c: Ctx = Depends(own_firm)):
    """A new token for the firm (the old one stops working); the firm itself or the
    operator."""
    def change(s):
        f = _firm(c, firm_id)
        before = _audit_firm(f)
        token = new_token()
        f.token_hash = token_hash(token)
        s.flush()
        record(s, c.party.actor, "firm.rotate_token", f"firms/{f.id}", before,
               _audit_firm(f), (f.id,))
        return {"firm_id": f.id, "name": f.name, "token": token}
    return c.write(change)


@router.delete("/firms/{firm_id}/token", response_model=FirmOut)
def revoke_token(firm_id: IdPath, c: Ctx = Depends(operator)):
    """Revoke the firm's token: it can no longer call (a rotation gives it a new one)."""
    def change(s):
        f = _firm(c, firm_id)
        before = _audit_firm(f)
        f.token_hash = None
        s.flush()
        record(s, c.party.actor, "firm.revoke_token", f"firms/{f.id}", before,
               _audit_firm(f), (f.id,))
        return firm_out(f)
    return c.write(change)
