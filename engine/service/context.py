"""Per-request plumbing: the session, the calling party, and writes that commit once.

A write runs in one transaction with its audit entries and, when the request carries an
``Idempotency-Key``, with its stored response: a retry with the same key and the same request
gets the stored response (header ``Idempotent-Replayed: true``) and changes nothing; the same
key with another request is refused (422). A version that another writer changed first is
409, whichever of the two checks sees it (the request's ``version``, or the row's version
column at commit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..errors import InputError
from .api_common import IdPath
from .auth import Party, identify, presented_token
from .db import begin_write
from .tables import IdempotentResponse

MAX_KEY = 200


@dataclass
class Ctx:
    session: Session
    party: Party
    request: Request
    body: bytes

    def write(self, change: Callable[[Session], Any], status: int = 200,
              after: Callable[[], None] | None = None) -> JSONResponse:
        """Run ``change`` (which returns the response body) and commit it, once.

        ``after`` runs once the change is committed (not on a replay): the planner's nudge.
        """
        key = self.request.headers.get("idempotency-key")
        digest = hashlib.sha256(b"%s %s\n%s" % (self.request.method.encode(),
                                                  self.request.url.path.encode(),
                                                  self.body)).hexdigest()
        if key is not None:
            if not 1 <= len(key) <= MAX_KEY:
                raise InputError("header.Idempotency-Key",
                                 f"must have 1 to {MAX_KEY} characters")
            stored = self._stored(key)
            if stored is not None:
                return self._replay(stored, digest)
        try:
            begin_write(self.session)
            out = change(self.session)
            body = jsonable_encoder(out.model_dump(mode="json") if isinstance(out, BaseModel)
                                    else out)
            if key is not None:
                self.session.add(IdempotentResponse(party=self.party.actor, key=key,
                                                    request_hash=digest, status_code=status,
                                                    body=body))
            self.session.commit()
        except StaleDataError:
            self.session.rollback()
            raise HTTPException(409, "stale version: another request changed this first") \
                from None
        except IntegrityError:
            self.session.rollback()
            stored = self._stored(key) if key is not None else None
            if stored is not None:  # a concurrent retry with the same key came first
                return self._replay(stored, digest)
            raise HTTPException(409, "conflicts with the stored data (a duplicate)") from None
        except BaseException:
            self.session.rollback()
            raise
        if after is not None:
            after()
        return JSONResponse(body, status_code=status)

    def _stored(self, key: str) -> IdempotentResponse | None:
        return self.session.scalar(select(IdempotentResponse).where(
            IdempotentResponse.party == self.party.actor, IdempotentResponse.key == key))

    def _replay(self, stored: IdempotentResponse, digest: str) -> JSONResponse:
        if stored.request_hash != digest:
            raise InputError("header.Idempotency-Key", "already used for another request")
        return JSONResponse(stored.body, status_code=stored.status_code,
                            headers={"Idempotent-Replayed": "true"})


def session(request: Request) -> Iterator[Session]:
    s = request.app.state.sessions()
    try:
        yield s
    finally:
        s.close()


async def _body(request: Request) -> bytes:
    return await request.body()


def ctx(request: Request, s: Session = Depends(session),
        body: bytes = Depends(_body)) -> Ctx:
    party = identify(s, request.app.state.operator_hash, presented_token(request))
    return Ctx(session=s, party=party, request=request, body=body)


def operator(c: Ctx = Depends(ctx)) -> Ctx:
    """The operator's routes: any other party gets 404, as for anything it may not see."""
    if not c.party.is_operator:
        raise HTTPException(404, "not found")
    return c


def own_firm(firm_id: IdPath, c: Ctx = Depends(ctx)) -> Ctx:
    """Routes of one firm's data: the firm itself or the operator; anyone else 404."""
    if not c.party.may_see_firm(firm_id):
        raise HTTPException(404, "no such firm")
    return c
