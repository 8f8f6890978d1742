"""An SFI plan moved onto the next horizon: the rolling re-plan's warm start and pins
(docs/models/sfi.md, "Rolling horizon")."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import InputError
from ...fields import array, field, integer, join, number, only
from ...limits import MAX_PERIODS, MAX_QUANTITY
from .instance import Instance
from .pins import TABLES
from .plan import Plan, violations
from .start import heuristic_plan


def read(inst: Instance, plan_doc: Any, where: str) -> list:
    """The previous plan's four tables (at ``where`` in the caller's document), checked for
    form only, as its instance is gone: the new instance's rows, one common number of
    periods."""
    only(plan_doc, where, TABLES)
    rows = {"pdp": inst.n_categories, "generic": inst.n_categories,
            "codp": inst.n_products, "dedicated": inst.n_products}
    out, T = [], None
    for name in TABLES:
        at = join(where, name)
        table = array(field(plan_doc, name, where), at, length=rows[name])
        cells = []
        for r, row in enumerate(table):
            row = array(row, join(at, r), nonempty=True, most=MAX_PERIODS)
            if T is None:
                T = len(row)
            if len(row) != T:
                raise InputError(join(at, r), f"must have length {T} (the plan's periods), "
                                              f"got {len(row)}")
            if name in ("pdp", "codp"):
                cells.append([integer(v, join(join(at, r), t), low=0, high=MAX_PERIODS)
                             for t, v in enumerate(row)])
            else:
                cells.append([number(v, join(join(at, r), t), low=0.0, high=MAX_QUANTITY)
                             for t, v in enumerate(row)])
        out.append(cells)
    return out


def shifted(inst: Instance, tables: list, where: str, shift: int, release: int
            ) -> tuple[dict, dict]:
    """The previous plan (its :func:`read` ``tables``, found at ``where`` in the caller's
    document) on ``inst``, whose period 1 is the previous period ``1 + shift``: the warm
    start, and the pins (``keep_periods``: the first ``release`` periods).

    A new period the previous plan does not reach, or in which its decisions break a rule
    of ``inst``, takes the constructive plan's decisions (:func:`.start.heuristic_plan`);
    a released period must come from the previous plan and obey ``inst``'s rules, else
    :class:`InputError` names it.
    """
    T_old = len(tables[0][0])
    T = inst.n_periods
    left = max(0, T_old - shift)  # previous periods still ahead
    if release > min(left, T):
        raise InputError("release", f"must be <= {min(left, T)} (the previous plan's periods "
                                    f"left after the shift, within the new horizon), got "
                                    f"{release}")
    base = heuristic_plan(inst)
    arrays = [np.array(a, dtype=np.int64 if k in (0, 2) else np.float64)
              for k, a in enumerate((base.pdp, base.generic, base.codp, base.dedicated))]
    n = min(left, T)
    for a, old in zip(arrays, tables):
        a[:, :n] = np.asarray(old)[:, shift:shift + n]
    plan = Plan(*arrays)
    # periods whose moved decisions break a rule of the new instance (violations() may
    # stop at the first kind of breach it finds: ask again until none is left)
    while found := violations(inst, plan):
        cell, what = found[0]
        head, _, t = cell.rpartition("[")
        t = int(t.rstrip("]"))
        if t < release:
            raise InputError(f"{where}.{head}[{t + shift}]" if where else f"{head}[{t + shift}]",
                             f"released (period {t + 1} of the new horizon) but breaks a rule "
                             f"of the new instance: {what}")
        for a, b in zip(arrays, (base.pdp, base.generic, base.codp, base.dedicated)):
            a[:, t] = b[:, t]
        plan = Plan(*arrays)
    return plan.to_json(), {"keep_periods": list(range(1, release + 1))}

