"""Batched cost kernel of the SFI model (docs/models/sfi.md).

One call plays every plan of a swarm through every order scenario. The work is split into
chunks: blocks of plans played in lockstep (``kernels/sfi_lanes.py``) for costs alone, ranges
of (plan, scenario) pairs played one by one for the breakdown. Each chunk owns its scratch
state, each (plan, scenario) pair writes its own slot, and the weighted mean over scenarios is
a serial reduction in a fixed order, so the result does not depend on the number of threads.
The local search's moves are scored by a play of the categories they touch
(``kernels/sfi_local.py``); particles of the unit cube are decoded to plans in
``kernels/sfi_decode.py`` and costed with the swarm's step in ``kernels/sfi_swarm.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .sfi_data import play_state
from .sfi_lanes import LANES, lane_costs
from .sfi_setup import SETUP_EPS

#: Cost components of the per-period breakdown, in column order.
COMPONENTS = (
    "setup_new",        # CO: setup of new generic / dedicated buffers
    "setup_reuse",      # CP: re-setup of carried buffers that are used
    "hold_prep",        # CP: holding of carried buffers through the preparation phase
    "hold_carried",     # CO: holding of carried buffers in the fulfilment phase
    "hold_new",         # CO: holding of new buffers in the fulfilment phase
    "delay_carried",    # CO: delay penalties of units from carried buffers
    "delay_new",        # CO: delay penalties of units from new buffers
    "delay_mto",        # CO: delay penalties of make-to-order units
    "shortfall",        # CO: service-level shortfall penalty
    "disposal",         # CO: disposal loss of leftover SFI
    "lost",             # CO: lost-sale penalty
)
#: Components that make up the preparation-phase cost CP[t]; the rest make up CO[t].
PREP_COMPONENTS = ("setup_reuse", "hold_prep")
#: Unit counts reported per plan, in column order.
KPIS = ("units_on_time", "units_ordered", "units_late", "units_lost", "units_disposed")

N_COMPONENTS = len(COMPONENTS)
N_KPIS = len(KPIS)


@njit(cache=True)
def _play(i, s, pdp, gen, codp, ded, model, state, detail, bd, kpi, use):
    """Cost of plan ``i`` under scenario ``s``, played from the instance's initial state.

    With ``detail``, also fills ``bd[t, :]`` (cost components), ``kpi[:]`` (unit counts, the
    ``KPIS``) and ``use`` (C + 2P, T): units drawn from each new generic buffer, from each new
    dedicated buffer, and each product's demand (backlog and orders) not met by its own
    dedicated buffers (met by generic or make-to-order, or not met). ``state`` is the
    play's scratch (:data:`~invswarm.kernels.sfi_data.PlayState`).
    """
    cg_k, cg_x, ng_k = state.generic_stage, state.generic_qty, state.new_generic_stage
    cd_k, cd_x, nd_k = state.dedicated_stage, state.dedicated_qty, state.new_dedicated_stage
    rem_cg, rem_ng = state.left_generic, state.left_new_generic
    rem_cd, rem_nd = state.left_dedicated, state.left_new_dedicated
    bk, newbk = state.backlog, state.next_backlog
    C = cg_k.shape[0]
    P = cd_k.shape[0]
    T = model.prep.shape[0]
    total = 0.0
    for c in range(C):
        cg_k[c] = model.init_generic_stage[c]
        cg_x[c] = model.init_generic_qty[c]
    for p in range(P):
        cd_k[p] = model.init_dedicated_stage[p]
        cd_x[p] = model.init_dedicated_qty[p]
        bk[p] = model.init_backlog[p]
    on_time = 0.0
    ordered = 0.0
    late_units = 0.0
    lost_units = 0.0
    disposed_units = 0.0
    for t in range(T):
        A = model.prep[t]
        B = model.fulfil[t]
        back_extra = (model.prep[t - 1] + model.fulfil[t - 1] if t > 0
                      else model.prep[0] + model.fulfil[0])
        last = t == T - 1
        hold_prep = 0.0
        for c in range(C):
            hold_prep += model.hold[cg_k[c]] * cg_x[c] * A
            rem_cg[c] = cg_x[c]
            ng_k[c] = pdp[i, c, t]
            rem_ng[c] = gen[i, c, t]
        for p in range(P):
            hold_prep += model.hold[cd_k[p]] * cd_x[p] * A
            rem_cd[p] = cd_x[p]
            nd_k[p] = codp[i, p, t]
            rem_nd[p] = ded[i, p, t]
        mto = model.mto_capacity[t]
        dl0 = dl1 = dl2 = dl3 = dl4 = 0.0
        shortfall = 0.0
        lost = 0.0
        for oi in range(P):
            p = model.order[oi]
            c = model.category[p]
            L = model.lead_time[p]
            b = model.delay_penalty[p]
            # The five sources of this product in draw order: carried dedicated, new
            # dedicated, carried generic, new generic, make-to-order (stage 0); scalars, so
            # that they stay in registers.
            a0 = rem_cd[p]
            a1 = rem_nd[p]
            a2 = rem_cg[c]
            a3 = rem_ng[c]
            a4 = mto
            w0 = max(model.remaining[cd_k[p]] - L, 0.0)
            w1 = max(model.remaining[nd_k[p]] - L, 0.0)
            w2 = max(model.remaining[cg_k[c]] - L, 0.0)
            w3 = max(model.remaining[ng_k[c]] - L, 0.0)
            w4 = max(model.remaining[0] - L, 0.0)
            before_d = a0 + a1
            demand_p = bk[p] + model.orders[s, p, t]
            for cls in range(2):
                # Backlog first (late by the previous period's length too), then new orders.
                if cls == 0:
                    D = bk[p]
                    extra = back_extra
                else:
                    D = model.orders[s, p, t]
                    extra = 0.0
                    ordered += D
                on_time_p = 0.0
                if D > 0.0:
                    a0, D, pen, lu, ot = _take(D, a0, w0 + extra, b)
                    dl0 += pen
                    late_units += lu
                    on_time_p += ot
                if D > 0.0:
                    a1, D, pen, lu, ot = _take(D, a1, w1 + extra, b)
                    dl1 += pen
                    late_units += lu
                    on_time_p += ot
                if D > 0.0:
                    a2, D, pen, lu, ot = _take(D, a2, w2 + extra, b)
                    dl2 += pen
                    late_units += lu
                    on_time_p += ot
                if D > 0.0:
                    a3, D, pen, lu, ot = _take(D, a3, w3 + extra, b)
                    dl3 += pen
                    late_units += lu
                    on_time_p += ot
                if D > 0.0:
                    a4, D, pen, lu, ot = _take(D, a4, w4 + extra, b)
                    dl4 += pen
                    late_units += lu
                    on_time_p += ot
                if cls == 0:
                    lost += model.lost_penalty[p] * D
                    lost_units += D
                else:
                    newbk[p] = D
                    on_time += on_time_p
                    gap = model.service_level[p] * model.orders[s, p, t] - on_time_p
                    if gap > 0.0:
                        shortfall += model.service_penalty[p] * gap
            if detail:
                use[C + P + p, t] = demand_p - (before_d - a0 - a1)
            rem_cd[p] = a0
            rem_nd[p] = a1
            rem_cg[c] = a2
            rem_ng[c] = a3
            mto = a4
        delay_c = dl0 + dl2
        delay_n = dl1 + dl3
        delay_m = dl4
        setup_new = 0.0
        setup_reuse = 0.0
        hold_carried = 0.0
        hold_new = 0.0
        disposal = 0.0
        for c in range(C):
            k = cg_k[c]
            x = cg_x[c]
            u = x - rem_cg[c]
            hold_carried += model.hold[k] * B * (x - 0.5 * u)
            if u > SETUP_EPS:
                setup_reuse += model.setup_reuse[k]
            disposal += model.disposal_rate * model.value[k] * rem_cg[c]
            disposed_units += rem_cg[c]
            k = ng_k[c]
            x = gen[i, c, t]
            u = x - rem_ng[c]
            if detail:
                use[c, t] = u
            hold_new += model.hold[k] * B * (x - 0.5 * u)
            if x > SETUP_EPS:
                setup_new += model.setup_generic[k]
            cg_k[c] = k
            cg_x[c] = rem_ng[c]
            if last:
                disposal += model.disposal_rate * model.value[k] * rem_ng[c]
                disposed_units += rem_ng[c]
        for p in range(P):
            k = cd_k[p]
            x = cd_x[p]
            u = x - rem_cd[p]
            hold_carried += model.hold[k] * B * (x - 0.5 * u)
            if u > SETUP_EPS:
                setup_reuse += model.setup_reuse[k]
            disposal += model.disposal_rate * model.value[k] * rem_cd[p]
            disposed_units += rem_cd[p]
            k = nd_k[p]
            x = ded[i, p, t]
            u = x - rem_nd[p]
            if detail:
                use[C + p, t] = u
            hold_new += model.hold[k] * B * (x - 0.5 * u)
            if x > SETUP_EPS:
                setup_new += model.setup_dedicated[k]
            cd_k[p] = k
            cd_x[p] = rem_nd[p]
            bk[p] = newbk[p]
            if last:
                disposal += model.disposal_rate * model.value[k] * rem_nd[p]
                disposed_units += rem_nd[p]
                lost += model.lost_penalty[p] * newbk[p]
                lost_units += newbk[p]
        if detail:
            bd[t, 0] = setup_new
            bd[t, 1] = setup_reuse
            bd[t, 2] = hold_prep
            bd[t, 3] = hold_carried
            bd[t, 4] = hold_new
            bd[t, 5] = delay_c
            bd[t, 6] = delay_n
            bd[t, 7] = delay_m
            bd[t, 8] = shortfall
            bd[t, 9] = disposal
            bd[t, 10] = lost
        total += (setup_new + setup_reuse + hold_prep + hold_carried + hold_new
                  + delay_c + delay_n + delay_m + shortfall + disposal + lost)
    if detail:
        kpi[0] = on_time
        kpi[1] = ordered
        kpi[2] = late_units
        kpi[3] = lost_units
        kpi[4] = disposed_units
    return total


@njit(cache=True)
def _take(D, a, late, b):
    """Draw up to ``D`` units from a source holding ``a``, each ``late`` hours late (penalty
    ``b`` per unit-hour). Returns what is left of the source and of ``D``, the delay penalty,
    and the units drawn late and on time."""
    x = D if D < a else a
    if x <= 0.0:
        return a, D, 0.0, 0.0, 0.0
    if late > 0.0:
        return a - x, D - x, b * late * x, x, 0.0
    return a - x, D - x, 0.0, 0.0, x


@njit(cache=True)
def sfi_costs(pdp, gen, codp, ded, model, detail, n_chunks, out_cost, out_breakdown, out_kpi,
              out_use):
    """Expected cost of every plan of a swarm over the order scenarios.

    Parameters
    ----------
    pdp, codp : ndarray of int64, shapes (NP, C, T) and (NP, P, T)
        PDP / CODP stage of each plan per category / product and period.
    gen, ded : ndarray of float64, shapes (NP, C, T) and (NP, P, T)
        New generic / dedicated quantities (units).
    model : Model
        The instance's arrays (:data:`invswarm.kernels.sfi_data.Model`).
    detail : bool
        Also fill ``out_breakdown`` and ``out_kpi``.
    n_chunks : int
        Number of work chunks (a few per thread balances load); results do not depend on it.
    out_cost : ndarray, shape (NP,)
        Weighted mean cost of each plan (written).
    out_breakdown : ndarray, shape (NP, T, len(COMPONENTS))
        Weighted mean cost per period and component (written when ``detail``; else any shape).
    out_kpi : ndarray, shape (NP, len(KPIS))
        Weighted mean unit counts (written when ``detail``; else any shape).
    out_use : ndarray, shape (NP, C + 2P, T)
        Weighted mean use of the new buffers and unmet dedicated demand (see :func:`_play`;
        written when ``detail``; else any shape).
    """
    NP = pdp.shape[0]
    C = pdp.shape[1]
    P = codp.shape[1]
    T = model.prep.shape[0]
    NS = model.orders.shape[0]
    n = NP * NS
    cost_ps = np.empty(n)
    if detail:
        bd_ps = np.zeros((n, T, N_COMPONENTS))
        kpi_ps = np.zeros((n, N_KPIS))
        use_ps = np.zeros((n, C + 2 * P, T))
    else:
        bd_ps = np.zeros((1, 1, N_COMPONENTS))
        kpi_ps = np.zeros((1, N_KPIS))
        use_ps = np.zeros((1, 1, 1))
    _play_all(pdp, gen, codp, ded, model, detail, n_chunks, cost_ps, bd_ps, kpi_ps, use_ps)
    scenario_mean(cost_ps, model.weights, out_cost)
    if not detail:
        return
    for i in range(NP):
        for t in range(T):
            for k in range(N_COMPONENTS):
                v = 0.0
                for s in range(NS):
                    v += model.weights[s] * bd_ps[i * NS + s, t, k]
                out_breakdown[i, t, k] = v
        for k in range(N_KPIS):
            v = 0.0
            for s in range(NS):
                v += model.weights[s] * kpi_ps[i * NS + s, k]
            out_kpi[i, k] = v
        for r in range(C + 2 * P):
            for t in range(T):
                v = 0.0
                for s in range(NS):
                    v += model.weights[s] * use_ps[i * NS + s, r, t]
                out_use[i, r, t] = v


@njit(cache=True)
def scenario_mean(cost_ps, weights, out):
    """``out[i]``: the weighted mean of ``cost_ps[i * NS + s]`` over the scenarios ``s``.

    Serial, in scenario order: the same sum whatever the number of threads that filled
    ``cost_ps``."""
    scenario_mean_range(0, out.shape[0], cost_ps, weights, out)


@njit(cache=True)
def scenario_mean_range(lo, hi, cost_ps, weights, out):
    """:func:`scenario_mean` of plans ``lo:hi``."""
    NS = weights.shape[0]
    for i in range(lo, hi):
        total = 0.0
        for s in range(NS):
            total += weights[s] * cost_ps[i * NS + s]
        out[i] = total


@njit(parallel=True, cache=True)
def _play_all(pdp, gen, codp, ded, model, detail, n_chunks, cost_ps, bd_ps, kpi_ps, use_ps):
    """Cost of every (plan, scenario) pair into ``cost_ps[i * NS + s]``, in ``n_chunks``
    chunks (run in parallel when more than one). Without ``detail``, a chunk is a block of
    plans played in lockstep (:func:`invswarm.kernels.sfi_lanes.lane_costs`); with it, a
    range of pairs played one by one."""
    NP = pdp.shape[0]
    n = NP if not detail else NP * model.orders.shape[0]
    n_chunks = max(1, min(n, n_chunks))
    if n_chunks == 1:
        # A parallel region costs more than one small play: stay on this thread.
        _play_chunk(0, n, pdp, gen, codp, ded, model, detail, cost_ps, bd_ps, kpi_ps, use_ps)
        return
    for chunk in prange(n_chunks):
        _play_chunk(chunk * n // n_chunks, (chunk + 1) * n // n_chunks, pdp, gen, codp, ded, model,
                    detail, cost_ps, bd_ps, kpi_ps, use_ps)


@njit(cache=True)
def _play_chunk(lo, hi, pdp, gen, codp, ded, model, detail, cost_ps, bd_ps, kpi_ps, use_ps):
    """Plans ``lo:hi`` in lockstep, or with ``detail`` pairs ``lo:hi`` one by one. Fewer
    plans than half the lockstep kernel's lanes are played one by one too: a lockstep pass
    costs as much for one plan as for :data:`~invswarm.kernels.sfi_lanes.LANES`."""
    if detail or hi - lo < LANES // 2:
        per = 1 if detail else model.orders.shape[0]  # with detail, lo:hi count pairs already
        _play_range(lo * per, hi * per, pdp, gen, codp, ded, model,
                    detail, cost_ps, bd_ps, kpi_ps, use_ps)
    else:
        lane_costs(lo, hi, pdp, gen, codp, ded, model, cost_ps)


@njit(cache=True)
def _play_range(lo, hi, pdp, gen, codp, ded, model, detail, cost_ps, bd_ps, kpi_ps, use_ps):
    """Pairs ``lo:hi`` of :func:`_play_all`, with their own scratch state."""
    C = pdp.shape[1]
    P = codp.shape[1]
    NS = model.orders.shape[0]
    state = play_state(C, P)
    for idx in range(lo, hi):
        i = idx // NS
        s = idx - i * NS
        slot = idx if detail else 0
        cost_ps[idx] = _play(
            i, s, pdp, gen, codp, ded, model, state, detail, bd_ps[slot], kpi_ps[slot],
            use_ps[slot])
