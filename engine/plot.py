"""Pictures of a result: convergence and the plan's new stock by stage and period."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .errors import InputError
from .fields import array, field, integer, join, number, only, text
from .jsonio import write_atomic
from .limits import MAX_CELLS, MAX_PERIODS, MAX_PRODUCTS, MAX_QUANTITY, MAX_STAGES


def plot_result(result: dict[str, Any], out: str) -> None:
    """Write a PNG with two panels: convergence (the swarm's best cost against iteration, or
    the MILP's incumbent and bound against seconds) and the plan: an SFI plan's new stock per
    period stacked by stage, a network plan's units shipped per period by kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    network, cost, bound, pso, exact = _figures(result)
    plan = result["plan"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    if pso:
        it, best = np.asarray(pso, dtype=float).T
        ax1.plot(it, best, label="PSO best")
        ax1.set_xlabel("step (swarm iterations, then local-search kicks)")
    if exact:
        t, inc, low = np.asarray([[r[0], np.nan if r[1] is None else r[1],
                                   np.nan if r[2] is None else r[2]] for r in exact]).T
        ax1.step(t, inc, where="post", label="MILP incumbent")
        ax1.step(t, low, where="post", label="MILP bound")
        ax1.set_xlabel("seconds")
    ax1.axhline(cost, color="k", lw=0.8, ls="--", label="reported cost")
    if bound is not None and not exact:
        ax1.axhline(bound, color="tab:red", lw=0.8, label="exact bound")
    ax1.set_ylabel("cost")
    ax1.set_title(f"{result.get('instance', '')} ({result.get('method', '')})")
    ax1.legend()
    if network:
        _shipments(ax2, plan["shipments"])
    else:
        _stock_by_stage(ax2, plan)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    write_atomic(out, buf.getvalue())


def _figures(result: Any) -> tuple[bool, float, float | None, list, list]:
    """Check what the plot reads of a result document (the plan's shape, not its fit to an
    instance, which the plot does not have); returns whether it is a network result, its
    cost, bound, and the swarm's and the exact solver's histories. Raises
    :class:`InputError` naming the field."""
    if not isinstance(result, dict):
        raise InputError("result", "must be a result document of 'invswarm solve'")
    if "plan" not in result:
        raise InputError("plan", "missing required field (a result of 'invswarm solve' has "
                                 "one)")
    model = field(result, "model", "", "sfi")
    if model not in ("sfi", "network"):
        raise InputError("model", f"must be 'sfi' or 'network', got {model!r}")
    cost = number(field(result, "cost", ""), "cost")
    bound = field(result, "bound", "", None)
    bound = None if bound is None else number(bound, "bound")
    for key in ("instance", "method"):
        text(field(result, key, "", ""), key)
    history = field(result, "history", "", {})
    only(history, "history", ("pso", "exact"))
    pso = [[number(v, join(join("history.pso", k), i))
            for i, v in enumerate(array(row, join("history.pso", k), length=2))]
           for k, row in enumerate(array(field(history, "pso", "history", []), "history.pso"))]
    exact = []
    for k, row in enumerate(array(field(history, "exact", "history", []), "history.exact")):
        path = join("history.exact", k)
        t, inc, low = array(row, path, length=3)
        exact.append([number(t, join(path, 0))] + [
            None if v is None else number(v, join(path, i)) for i, v in ((1, inc), (2, low))])
    plan = field(result, "plan", "")
    if model == "network":
        only(plan, "plan", ("shipments",))
        for k, s in enumerate(array(field(plan, "shipments", "plan"), "plan.shipments",
                                    most=MAX_CELLS)):
            path = join("plan.shipments", k)
            integer(field(s, "period", path), join(path, "period"), low=1, high=MAX_PERIODS)
            number(field(s, "qty", path), join(path, "qty"), low=0, high=MAX_QUANTITY)
            kind = text(field(s, "kind", path, "permanent"), join(path, "kind"))
            if kind not in ("permanent", "loan"):
                raise InputError(join(path, "kind"), f"must be 'permanent' or 'loan', got "
                                                     f"{kind!r}")
    else:
        only(plan, "plan", ("pdp", "generic", "codp", "dedicated"))
        T = None
        for key, read in (("pdp", _stage), ("generic", _units), ("codp", _stage),
                          ("dedicated", _units)):
            path = join("plan", key)
            rows = array(field(plan, key, "plan"), path, nonempty=True, most=MAX_PRODUCTS)
            for r, row in enumerate(rows):
                row = array(row, join(path, r), length=T, nonempty=True, most=MAX_PERIODS)
                T = len(row)
                for t, v in enumerate(row):
                    read(v, join(join(path, r), t))
        for a, b in (("pdp", "generic"), ("codp", "dedicated")):
            if len(plan[a]) != len(plan[b]):
                raise InputError(join("plan", b), f"must have length {len(plan[a])} (as "
                                                  f"plan.{a}), got {len(plan[b])}")
    return model == "network", cost, bound, pso, exact


def _stage(value: Any, path: str) -> int:
    return integer(value, path, low=0, high=MAX_STAGES - 1)


def _units(value: Any, path: str) -> float:
    return number(value, path, low=0, high=MAX_QUANTITY)


def _shipments(ax, shipments: list) -> None:
    T = max([s["period"] for s in shipments], default=1)
    periods = np.arange(1, T + 1)
    bottom = np.zeros(T)
    for kind in ("permanent", "loan"):
        qty = np.zeros(T)
        for s in shipments:
            if s.get("kind", "permanent") == kind:
                qty[s["period"] - 1] += s["qty"]
        ax.bar(periods, qty, bottom=bottom, label=kind)
        bottom += qty
    ax.set_xlabel("period shipped")
    ax.set_ylabel("units")
    ax.set_title("shipments by kind")
    ax.legend(fontsize="small")


def _stock_by_stage(ax2, plan: dict) -> None:
    pdp, gen = np.asarray(plan["pdp"]), np.asarray(plan["generic"], dtype=float)
    codp, ded = np.asarray(plan["codp"]), np.asarray(plan["dedicated"], dtype=float)
    T = pdp.shape[1]
    stages = sorted(set(pdp.ravel()) | set(codp.ravel()))
    bottom = np.zeros(T)
    periods = np.arange(1, T + 1)
    for k in stages:
        qty = np.where(pdp == k, gen, 0.0).sum(axis=0) + np.where(codp == k, ded, 0.0).sum(axis=0)
        ax2.bar(periods, qty, bottom=bottom, label=f"stage {k}")
        bottom += qty
    ax2.set_xlabel("period")
    ax2.set_ylabel("new SFI (units)")
    ax2.set_title("new stock by stage")
    ax2.legend(fontsize="small")
