"""A firm's own data per material: validation by the instance format, and the stock moves of
shipping, receiving and advancing the period.

Lots are kept as in the instance format, ``{"qty", "last_period"}`` with ``last_period``
relative to the current period (1: it expires at the end of the current period; None: never).
"""

from __future__ import annotations

import re

from ..errors import InputError
from ..models.network import Instance
from .tables import Material, Stock

TOL = 1e-9


def material_doc(m: Material) -> dict:
    return {"name": m.name, "life": m.life, "value": m.value, "price": m.price}


def fit(series: list[float], periods: int) -> list[float]:
    """A stored series cut or padded with zeros to the horizon (the horizon may have changed
    since it was written)."""
    return [float(x) for x in series[:periods]] + [0.0] * max(0, periods - len(series))


def stock_entry(st: Stock, periods: int) -> dict:
    """The pair as a ``stock`` entry of the instance format (without firm and material)."""
    return {"lots": [dict(lot) for lot in st.lots], "receipts": fit(st.receipts, periods),
            "requirements": fit(st.requirements, periods), "protected": st.protected,
            "hold": st.hold, "shortage": st.shortage}


def validate_entry(entry: dict, material: Material, periods: int) -> dict:
    """Check a pair's data by the instance format's own validator; errors name the field of
    the request body (``requirements``, ``lots[2].qty``). Returns the entry with its series
    filled in (None: all zero)."""
    doc = {"model": "network", "periods": periods, "materials": [material_doc(material)],
           "firms": [{"name": "firm"}], "stock": [{"firm": 0, "material": 0, **entry}]}
    try:
        Instance.from_json(doc)
    except InputError as exc:
        where = re.sub(r"^stock\[0\]\.?", "", exc.field) or "body"
        raise InputError(where, exc.problem) from None
    out = dict(entry)
    for key in ("receipts", "requirements"):
        out[key] = fit(out.get(key) or [], periods)
    out["lots"] = [lot for lot in out.get("lots", []) if lot["qty"] > 0]
    return out


def take(lots: list[dict], qty: float, usable_from: int) -> tuple[list[dict], list[dict]]:
    """Take ``qty`` first-expiry-first from the lots usable in relative period
    ``usable_from`` (last period at or after it); returns (lots left, lots taken). Raises
    ValueError when they do not cover it."""
    order = sorted(range(len(lots)), key=lambda k: (lots[k]["last_period"] is None,
                                                    lots[k]["last_period"] or 0))
    left = [dict(lot) for lot in lots]
    taken: list[dict] = []
    need = qty
    for k in order:
        lot = left[k]
        if need <= TOL:
            break
        if lot["last_period"] is not None and lot["last_period"] < usable_from:
            continue
        q = min(lot["qty"], need)
        if q <= 0:
            continue
        lot["qty"] -= q
        need -= q
        taken.append({"qty": q, "last_period": lot["last_period"]})
    if need > 1e-6:
        raise ValueError(f"{qty - need:g} of {qty:g} units usable in period {usable_from}")
    return [lot for lot in left if lot["qty"] > TOL], taken


def to_absolute(lots: list[dict], current: int) -> list[dict]:
    return [{"qty": lot["qty"], "last_period": None if lot["last_period"] is None
             else lot["last_period"] + current - 1} for lot in lots]


def add_lots(lots: list[dict], absolute: list[dict], current: int) -> list[dict]:
    """Lots with ``absolute`` lots (absolute last periods) added; expired ones are dropped."""
    out = [dict(lot) for lot in lots]
    for lot in absolute:
        last = None if lot["last_period"] is None else lot["last_period"] - current + 1
        if last is not None and last < 1:
            continue
        for mine in out:
            if mine["last_period"] == last:
                mine["qty"] += lot["qty"]
                break
        else:
            out.append({"qty": lot["qty"], "last_period": last})
    return out


def advance(st: Stock, life: int | None, periods: int) -> dict:
    """The pair one period later: the current period's receipt arrives, its requirement is
    consumed first-expiry-first, what expires at its end is wasted, the series shift by one
    (a zero enters at the end). Returns the new entry fields and what happened."""
    rec = fit(st.receipts, periods)
    req = fit(st.requirements, periods)
    lots = [dict(lot) for lot in st.lots]
    if rec[0] > 0:
        lots = add_lots(lots, [{"qty": rec[0], "last_period": None if life is None
                                else life}], 1)
    usable = sum(lot["qty"] for lot in lots)
    used = min(usable, req[0])
    if used > 0:
        lots, _ = take(lots, used, 1)
    wasted = sum(lot["qty"] for lot in lots if lot["last_period"] == 1)
    lots = [{"qty": lot["qty"], "last_period": None if lot["last_period"] is None
             else lot["last_period"] - 1} for lot in lots
            if lot["last_period"] is None or lot["last_period"] > 1]
    return {"lots": lots, "receipts": rec[1:] + [0.0], "requirements": req[1:] + [0.0],
            "unmet": req[0] - used, "wasted": wasted}
