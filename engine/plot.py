"""Pictures of a result: convergence and the plan's new stock by stage and period."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .errors import InputError
from .jsonio import write_atomic


def plot_result(result: dict[str, Any], out: str) -> None:
    """Write a PNG with two panels: convergence (the swarm's best cost against iteration, or
    the MILP's incumbent and bound against seconds) and the plan: an SFI plan's new stock per
    period stacked by stage, a network plan's units shipped per period by kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not isinstance(result, dict):
        raise InputError("result", "must be a result document of 'invswarm solve'")
    plan = result.get("plan")
    network = result.get("model") == "network"
    keys = {"shipments"} if network else {"pdp", "generic", "codp", "dedicated"}
    if not isinstance(plan, dict) or not keys <= set(plan):
        raise InputError("result.plan", "missing or not a plan")
    pso = result.get("history", {}).get("pso", [])
    exact = result.get("history", {}).get("exact", [])
    bound = result.get("bound")
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
    ax1.axhline(result["cost"], color="k", lw=0.8, ls="--", label="reported cost")
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
