"""A network plan moved onto the next horizon: the rolling re-plan's warm start and pins
(docs/models/network.md, "Rolling horizon")."""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from ...fields import array, field, integer, join, number, only, text
from ...limits import MAX_CELLS, MAX_PERIODS, MAX_QUANTITY
from .instance import Instance
from .plan import KINDS, Plan

FIELDS = ("from", "to", "material", "period", "qty", "kind", "return_period")


def _read(sd: Any, p: str) -> dict:
    """A shipment of the previous plan, checked for form only (its instance is gone)."""
    only(sd, p, FIELDS)
    out = {k: integer(field(sd, k, p), join(p, k), low=0, high=MAX_CELLS)
           for k in ("from", "to", "material")}
    out["period"] = integer(field(sd, "period", p), join(p, "period"), low=1, high=MAX_PERIODS)
    out["qty"] = number(field(sd, "qty", p), join(p, "qty"), low=0, low_open=True,
                        high=MAX_QUANTITY)
    out["kind"] = text(field(sd, "kind", p, "permanent"), join(p, "kind"))
    if out["kind"] not in KINDS:
        raise InputError(join(p, "kind"), f"must be 'permanent' or 'loan', got {out['kind']!r}")
    if out["kind"] == "loan":
        out["return_period"] = integer(field(sd, "return_period", p), join(p, "return_period"),
                                       low=1, high=MAX_PERIODS)
    elif "return_period" in sd:
        raise InputError(join(p, "return_period"), "only a loan has a return period")
    return out


def shifted(inst: Instance, plan_doc: Any, where: str, shift: int, release: int
            ) -> tuple[dict, dict]:
    """The previous plan ``plan_doc`` (found at ``where`` in the caller's document) on
    ``inst``, whose period 1 is the previous period ``1 + shift``.

    Returns the warm start (every shipment still to leave that is a valid shipment of
    ``inst``) and the pins (``keep``: those leaving in the first ``release`` periods).
    Shipments that left before the new period 1 are dropped, loans included (their
    paybacks are the caller's data); a released shipment that is not valid on ``inst``
    raises :class:`InputError` naming it.
    """
    only(plan_doc, where, ("shipments",))
    at = join(where, "shipments")
    rows = array(field(plan_doc, "shipments", where), at, most=MAX_CELLS)
    warm, keep = [], []
    for k, sd in enumerate(rows):
        p = join(at, k)
        s = _read(sd, p)
        s["period"] -= shift
        if s["period"] < 1:
            continue
        if s["kind"] == "loan":
            s["return_period"] -= shift
        try:
            Plan.from_rows([s], "shipment", inst)
        except InputError as exc:
            if s["period"] <= release:
                raise InputError(p, f"released (period {s['period']} of the new horizon) but "
                                    f"not a shipment of the new instance: {exc}") from None
            continue
        warm.append(s)
        if s["period"] <= release:
            keep.append(s)
    return {"shipments": warm}, {"keep": keep}
