"""Instances of a horizon that moved: a window of a longer instance, as a host would build the
next re-plan's data."""

from __future__ import annotations

import copy

from invswarm.engine.models.network import Instance as NetworkInstance
from invswarm.engine.models.sfi import Instance as SfiInstance


def _own_lots(lots: list, life: int | None, receipts: list, requirements: list,
              start: int) -> list:
    """A pair's lots after ``start`` periods on its own (receipts in, requirements and
    backlog out first-expiry-first, expired lots dropped), with periods counted from
    ``start``."""
    held = [[ld.get("last_period"), ld["qty"]] for ld in lots]
    backlog = 0.0
    for t in range(1, start + 1):
        if receipts[t - 1] > 0:
            held.append([None if not life else t + life - 1, receipts[t - 1]])
        need = backlog + requirements[t - 1]
        for lot in sorted((x for x in held if x[0] is None or x[0] >= t),
                          key=lambda x: float("inf") if x[0] is None else x[0]):
            take = min(need, lot[1])
            lot[1] -= take
            need -= take
        backlog = need
        held = [x for x in held if (x[0] is None or x[0] > t) and x[1] > 1e-12]
    return [{"qty": q, "last_period": None if last is None else last - start}
            for last, q in held]


def network_window(doc: dict, start: int, periods: int, plan: dict | None = None
                   ) -> NetworkInstance:
    """Periods ``start + 1 .. start + periods`` of a network instance document, as an
    instance: each pair starts from its stock at the end of period ``start`` (a backlog is
    not carried). With ``plan`` (a plan document of the instance), the shipments and
    paybacks leaving before then are carried out first: units still in transit arrive as
    receipts, a loan's payback still to come is the borrower's requirement and the lender's
    receipt. Without, each pair is on its own (nothing was shipped)."""
    if plan is not None:
        doc = _executed(doc, plan["shipments"], start)
    out = copy.deepcopy(doc)
    out["periods"] = periods
    life = {m: md.get("life") for m, md in enumerate(doc["materials"])}
    for sd in out["stock"]:
        rec, req = sd["receipts"], sd["requirements"]
        sd["lots"] = _own_lots(sd["lots"], life[sd["material"]], rec, req, start)
        sd["receipts"] = rec[start:start + periods]
        sd["requirements"] = req[start:start + periods]
    return NetworkInstance.from_json(out)


def _executed(doc: dict, shipments: list, start: int) -> dict:
    """``doc`` with the moves leaving before period ``start + 1`` turned into data: the
    sender's requirement in the departure period and the receiver's receipt on arrival (a
    loan's payback, if it leaves later, the same in its own periods). The units keep the
    receipt's shelf life, not their lot's: close enough for a host's next instance."""
    out = copy.deepcopy(doc)
    lead = {(ld["from"], ld["to"]): ld["lead_time"] for ld in doc["links"]}
    entry = {(sd["firm"], sd["material"]): sd for sd in out["stock"]}
    T = doc["periods"]

    def add(f, m, key, t, q):
        sd = entry[f, m]
        sd.setdefault(key, [0.0] * T)
        if t <= T:
            sd[key][t - 1] += q

    for s in shipments:
        i, j, m, t, q = s["from"], s["to"], s["material"], s["period"], s["qty"]
        if t > start:
            continue
        add(i, m, "requirements", t, q)
        add(j, m, "receipts", t + lead[i, j], q)
        if s.get("kind") == "loan":
            r = s["return_period"]
            add(j, m, "requirements", r - lead[j, i], q)
            add(i, m, "receipts", r, q)
    return out


def sfi_window(doc: dict, start: int, periods: int) -> SfiInstance:
    """Periods ``start + 1 .. start + periods`` of an SFI instance document, as an instance
    (its ``initial`` stock and backlog kept as they are: a host would write what is on hand)."""
    out = copy.deepcopy(doc)
    out["name"] = f"{doc.get('name', 'sfi')}-from-{start + 1}"
    cut = slice(start, start + periods)
    out["periods"] = {k: v[cut] for k, v in doc["periods"].items()}

    def window(x):
        if isinstance(x, dict):  # {"scenarios": [...], "weights": [...]}
            return {k: window(v) if k == "scenarios" else v for k, v in x.items()}
        return x[cut] if not isinstance(x[0], list) else [window(y) for y in x]

    out["orders"] = window(doc["orders"])
    return SfiInstance.from_json(out)
