"""A firm's own figures in a plan, against no sharing."""

from __future__ import annotations

import numpy as np

from ...kernels import network as knet
from ..models.network import Instance, KernelData, Plan, evaluate
from ..models.network.evaluate import FEAS_TOL, detail


def firm_figures(inst: Instance, plan: Plan, f: int) -> dict:
    """Firm ``f``'s cost change, own cost, transfer costs and payments (as the evaluation
    reports them), and the delays and wasted units its own pairs avoid."""
    data = KernelData(inst)
    mine = evaluate(inst, plan, data).firms[f]
    traj = detail(data, plan).traj[f]
    base = data.base.traj[f]
    req = inst.requirements[f]

    def delays(t):
        return int(np.sum(t[:, :, knet.TR_MET] < req - FEAS_TOL))

    return {"cost_change": mine["cost_change"], "own_cost": mine["own_cost"],
            "transfer_paid": mine["transfer_paid"], "payments_net": mine["payments_net"],
            "delays_avoided": float(delays(base) - delays(traj)),
            "waste_avoided": float(base[:, :, knet.TR_WASTE].sum()
                                   - traj[:, :, knet.TR_WASTE].sum())}
