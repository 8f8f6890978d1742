"""Parties and their bearer tokens: the operator and the firms.

A token is 32 random bytes (URL-safe text); only its sha256 is stored, and a presented token
is checked by hashing it and comparing hashes in constant time. A firm's token is revocable
(the hash is cleared) and rotatable (a new one replaces it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from .tables import Firm

#: The cookie the pages keep the token in (the API reads it too, after the header).
COOKIE = "invswarm_token"


def new_token() -> str:
    return "ivs_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Party:
    """Who is calling: the operator (``firm_id`` None) or one firm."""

    firm_id: int | None
    name: str

    @property
    def is_operator(self) -> bool:
        return self.firm_id is None

    @property
    def actor(self) -> str:
        return "operator" if self.firm_id is None else f"firm:{self.firm_id}"

    def may_see_firm(self, firm_id: int) -> bool:
        return self.is_operator or self.firm_id == firm_id


def presented_token(request: Request) -> str | None:
    """The bearer token of the ``Authorization`` header, else the pages' cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


def identify(session: Session, operator_hash: str, token: str | None) -> Party:
    """The party holding ``token``; 401 when there is none or it is unknown or revoked."""
    if not token or len(token) > 200:
        raise HTTPException(401, "missing or unknown bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    digest = token_hash(token)
    if hmac.compare_digest(digest, operator_hash):
        return Party(None, "operator")
    firm = session.scalar(select(Firm).where(Firm.token_hash == digest))
    if firm is None or not hmac.compare_digest(firm.token_hash or "", digest):
        raise HTTPException(401, "missing or unknown bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    return Party(firm.id, firm.name)
