"""The SFI cost vectorised with NumPy across plans: the baseline a NumPy user would write.

Used by the benchmarks (pyswarms with a NumPy objective) and tested against the kernel. One
scenario at a time; every per-plan quantity is an array over the swarm.
"""

from __future__ import annotations

import numpy as np

#: An amount made or used pays its setup only above this many units (docs/models/sfi.md).
SETUP_EPS = 1e-6


def costs(inst, pdp, gen, codp, ded) -> np.ndarray:
    """Expected cost of each plan; plan arrays of shapes (NP, C, T) and (NP, P, T)."""
    total = np.zeros(pdp.shape[0])
    for s in range(inst.n_scenarios):
        total += inst.weights[s] * _scenario(inst, s, pdp, gen, codp, ded)
    return total


def _scenario(inst, s, pdp, gen, codp, ded) -> np.ndarray:
    NP, C, T = pdp.shape
    P = codp.shape[1]
    r, h, v = inst.remaining, inst.hold, inst.value
    cg_k = np.repeat(inst.init_generic_stage[None], NP, 0)
    cg_x = np.repeat(inst.init_generic_qty[None], NP, 0).astype(float)
    cd_k = np.repeat(inst.init_dedicated_stage[None], NP, 0)
    cd_x = np.repeat(inst.init_dedicated_qty[None], NP, 0).astype(float)
    bk = np.repeat(inst.init_backlog[None], NP, 0).astype(float)
    cost = np.zeros(NP)
    for t in range(T):
        A, B = inst.prep[t], inst.fulfil[t]
        extra_back = inst.prep[max(t - 1, 0)] + inst.fulfil[max(t - 1, 0)]
        cost += (h[cg_k] * cg_x).sum(1) * A + (h[cd_k] * cd_x).sum(1) * A
        ng_k, nd_k = pdp[:, :, t], codp[:, :, t]
        rem = [cd_x.copy(), ded[:, :, t].copy(), cg_x.copy(), gen[:, :, t].copy()]
        stage = [cd_k, nd_k, cg_k, ng_k]
        mto = np.full(NP, inst.mto_capacity[t])
        newbk = np.zeros((NP, P))
        for p in inst.order:
            c = inst.category[p]
            col = [p, p, c, c]
            for is_new in (False, True):
                D = inst.orders[s, p, t] * np.ones(NP) if is_new else bk[:, p].copy()
                extra = 0.0 if is_new else extra_back
                on_time = np.zeros(NP)
                for j in range(5):
                    avail = mto if j == 4 else rem[j][:, col[j]]
                    k = np.zeros(NP, np.int64) if j == 4 else stage[j][:, col[j]]
                    x = np.minimum(D, np.maximum(avail, 0.0))
                    if j == 4:
                        mto = avail - x
                    else:
                        rem[j][:, col[j]] = avail - x
                    D = D - x
                    late = np.maximum(0.0, r[k] - inst.lead_time[p]) + extra
                    cost += inst.delay_penalty[p] * late * x
                    if is_new:
                        on_time += np.where(late > 0, 0.0, x)
                if is_new:
                    newbk[:, p] = D
                    gap = inst.service_level[p] * inst.orders[s, p, t] - on_time
                    cost += inst.service_penalty[p] * np.maximum(gap, 0.0)
                else:
                    cost += inst.lost_penalty[p] * D
        setup = (inst.setup_generic[ng_k] * (gen[:, :, t] > SETUP_EPS)).sum(1) + \
            (inst.setup_dedicated[nd_k] * (ded[:, :, t] > SETUP_EPS)).sum(1)
        for x0, k, left in ((cg_x, cg_k, rem[2]), (cd_x, cd_k, rem[0])):
            used = x0 - left
            cost += (h[k] * B * (x0 - 0.5 * used)).sum(1)
            cost += (inst.setup_reuse[k] * (used > SETUP_EPS)).sum(1)
            cost += (inst.disposal_rate * v[k] * left).sum(1)
        for x0, k, left in ((gen[:, :, t], ng_k, rem[3]), (ded[:, :, t], nd_k, rem[1])):
            cost += (h[k] * B * (x0 - 0.5 * (x0 - left))).sum(1)
            if t == T - 1:
                cost += (inst.disposal_rate * v[k] * left).sum(1)
        cost += setup
        if t == T - 1:
            cost += (inst.lost_penalty[None, :] * newbk).sum(1)
        cg_k, cg_x, cd_k, cd_x, bk = ng_k, rem[3], nd_k, rem[1], newbk
    return cost
