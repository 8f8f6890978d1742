"""The SFI cost of many plans in lockstep, one plan per lane.

:func:`invswarm.kernels.sfi._play` plays one plan at a time; its draws branch on the data, and
the branches of different plans go different ways, so the processor mispredicts many of them.
Here every operation of a period runs over a block of plans in the innermost loop, written
without branches (a draw of ``min(D, a)`` units, clipped at 0, changes nothing when it is 0),
and the lanes' work is independent, so the compiler turns the draws and most other loops into
vector instructions (see :data:`LANES` for what that takes). Each plan's arithmetic is the
same sequence of operations as in ``_play``, so the costs are identical to the last bit
(``tests/test_sfi_lanes.py``). The decoder's lockstep version
(:func:`invswarm.kernels.sfi_decode.decode_lanes`) writes the layout :func:`block_costs`
reads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .sfi_setup import SETUP_EPS


@njit(cache=True)
def lane_costs(lo, hi, pdp, gen, codp, ded, model, cost_ps):
    """Cost of plans ``lo:hi`` under every scenario, into ``cost_ps[i * NS + s]``.

    The arguments are those of :func:`invswarm.kernels.sfi.sfi_costs` (plans (NP, C, T) and
    (NP, P, T); the instance's record, :data:`invswarm.kernels.sfi_data.Model`).
    """
    C = pdp.shape[1]
    P = codp.shape[1]
    T = model.prep.shape[0]
    L = hi - lo
    # The block's plans with the plan index innermost.
    pdp_l = np.empty((C, T, L), np.int64)
    gen_l = np.empty((C, T, L))
    codp_l = np.empty((P, T, L), np.int64)
    ded_l = np.empty((P, T, L))
    for j in range(L):
        for c in range(C):
            for t in range(T):
                pdp_l[c, t, j] = pdp[lo + j, c, t]
                gen_l[c, t, j] = gen[lo + j, c, t]
        for p in range(P):
            for t in range(T):
                codp_l[p, t, j] = codp[lo + j, p, t]
                ded_l[p, t, j] = ded[lo + j, p, t]
    block_costs(lo, pdp_l, gen_l, codp_l, ded_l, model, cost_ps)


#: Plans per lockstep pass of :func:`block_costs`. A constant, so that the compiler knows each
#: loop's trip count and, within each of the three scratch arrays of :func:`_lockstep`, the
#: distances between the rows a loop reads and writes: it then vectorises the loops with no
#: aliasing checks at run time (with a trip count known only at run time it gave up, as there
#: were too many checks to make). A block of fewer plans fills the other lanes with copies of
#: its last plan; a pass costs the same for any number of plans.
LANES = 32

# Rows of the scratch state of :func:`_lockstep`, per category (generic buffers), per product
# (dedicated buffers) and per lane. Per buffer: carried quantity, what is left of the carried
# and of the new buffer, the new quantity, then the carried buffer's stage data (remaining
# time, holding rate, re-setup, value) and the new one's (remaining time, holding rate,
# setup, value, re-setup).
_X, _REM_C, _REM_N, _NEW, _R_C, _H_C, _SR_C, _V_C, _R_N, _H_N, _S_N, _V_N, _SR_N = range(13)
_BK, _NEWBK = 13, 14  # products only: backlog, and the next period's
_G_ROWS, _D_ROWS = 13, 15
(_TOTAL, _MTO, _HOLD_PREP, _DL0, _DL1, _DL2, _DL3, _DL4, _SHORTFALL, _LOST, _SETUP_NEW,
 _SETUP_REUSE, _HOLD_CARRIED, _HOLD_NEW, _DISPOSAL) = range(15)
_LANE_ROWS = 15


@njit(cache=True)
def block_costs(lo, pdp_l, gen_l, codp_l, ded_l, model, cost_ps):
    """:func:`lane_costs` of a block of plans already in lane layout: ``pdp_l``, ``gen_l``
    of shape (C, T, L) and ``codp_l``, ``ded_l`` of shape (P, T, L) hold plans
    ``lo:lo + L``; they are played :data:`LANES` at a time."""
    L = pdp_l.shape[2]
    full = L - L % LANES
    for j0 in range(0, full, LANES):
        _lockstep(lo + j0, j0, LANES, pdp_l, gen_l, codp_l, ded_l, model, cost_ps)
    if full < L:
        _lockstep(lo + full, 0, L - full, _full_lanes(pdp_l, full), _full_lanes(gen_l, full),
                  _full_lanes(codp_l, full), _full_lanes(ded_l, full), model, cost_ps)


@njit(cache=True)
def _full_lanes(a, j0):
    """Plans ``j0:`` of a block ``a`` (K, T, L), fewer than :data:`LANES`, as a block of
    exactly :data:`LANES` plans: the other lanes repeat the last plan."""
    K, T, L = a.shape
    out = np.empty((K, T, LANES), a.dtype)
    for k in range(K):
        for t in range(T):
            for j in range(LANES):
                out[k, t, j] = a[k, t, min(j0 + j, L - 1)]
    return out


@njit(cache=True)
def _lockstep(lo, j0, n, pdp_l, gen_l, codp_l, ded_l, model, cost_ps):
    """The :data:`LANES` plans ``j0:j0 + LANES`` of a block in lane layout, in lockstep; the
    costs of the first ``n`` are those of plans ``lo:lo + n``."""
    C = pdp_l.shape[0]
    P = codp_l.shape[0]
    # Allocated here, so that the compiler sees the row length (see LANES); three arrays,
    # because the rows of one product, of one category and of the lanes are each a constant
    # distance apart, but the distances between them are known only at run time.
    SL = np.empty((_LANE_ROWS, LANES))
    SG = np.empty((_G_ROWS * C, LANES))
    SD = np.empty((_D_ROWS * P, LANES))
    # Read once: an inlined helper given the whole record would take a reference to each of
    # its arrays at every call.
    remaining, hold, value = model.remaining, model.hold, model.value
    setup_reuse = model.setup_reuse
    T = model.prep.shape[0]
    NS = model.orders.shape[0]
    for s in range(NS):
        for j in range(LANES):
            SL[_TOTAL, j] = 0.0
        for c in range(C):
            _initial(SG, _G_ROWS * c, model.init_generic_stage[c], model.init_generic_qty[c],
                     remaining, hold, setup_reuse, value)
        for p in range(P):
            _initial(SD, _D_ROWS * p, model.init_dedicated_stage[p],
                     model.init_dedicated_qty[p], remaining, hold, setup_reuse, value)
            for j in range(LANES):
                SD[_D_ROWS * p + _BK, j] = model.init_backlog[p]
        for t in range(T):
            A = model.prep[t]
            B = model.fulfil[t]
            back_extra = (model.prep[t - 1] + model.fulfil[t - 1] if t > 0
                          else model.prep[0] + model.fulfil[0])
            # Reads through a stage index (gathers) keep a loop scalar: they are made here, once
            # per buffer, lane and period, for the loops below.
            for c in range(C):
                _stage_data(SG, _G_ROWS * c, pdp_l[c, t], gen_l[c, t], j0, remaining, hold,
                            setup_reuse, value, model.setup_generic)
            for p in range(P):
                _stage_data(SD, _D_ROWS * p, codp_l[p, t], ded_l[p, t], j0, remaining, hold,
                            setup_reuse, value, model.setup_dedicated)
            for j in range(LANES):
                SL[_HOLD_PREP, j] = 0.0
            for c in range(C):
                g = _G_ROWS * c
                for j in range(LANES):
                    SL[_HOLD_PREP, j] += SG[g + _H_C, j] * SG[g + _X, j] * A
            for p in range(P):
                d = _D_ROWS * p
                for j in range(LANES):
                    SL[_HOLD_PREP, j] += SD[d + _H_C, j] * SD[d + _X, j] * A
            for j in range(LANES):
                SL[_MTO, j] = model.mto_capacity[t]
                SL[_DL0, j] = 0.0
                SL[_DL1, j] = 0.0
                SL[_DL2, j] = 0.0
                SL[_DL3, j] = 0.0
                SL[_DL4, j] = 0.0
                SL[_SHORTFALL, j] = 0.0
                SL[_LOST, j] = 0.0
            for oi in range(P):
                p = model.order[oi]
                q = model.orders[s, p, t]
                _draws(SL, SD, SG, _D_ROWS * p, _G_ROWS * model.category[p], model.lead_time[p],
                       model.delay_penalty[p], model.remaining[0], q,
                       model.service_level[p] * q, model.service_penalty[p],
                       model.lost_penalty[p], back_extra)
            for j in range(LANES):
                SL[_SETUP_NEW, j] = 0.0
                SL[_SETUP_REUSE, j] = 0.0
                SL[_HOLD_CARRIED, j] = 0.0
                SL[_HOLD_NEW, j] = 0.0
                SL[_DISPOSAL, j] = 0.0
            for c in range(C):
                _period_end(SL, SG, _G_ROWS * c, B, model.disposal_rate)
                if t == T - 1:
                    _dispose_new(SL, SG, _G_ROWS * c, model.disposal_rate)
            for p in range(P):
                d = _D_ROWS * p
                _period_end(SL, SD, d, B, model.disposal_rate)
                for j in range(LANES):
                    SD[d + _BK, j] = SD[d + _NEWBK, j]
                if t == T - 1:
                    _dispose_new(SL, SD, d, model.disposal_rate)
                    for j in range(LANES):
                        SL[_LOST, j] += model.lost_penalty[p] * SD[d + _NEWBK, j]
            for j in range(LANES):
                SL[_TOTAL, j] += (SL[_SETUP_NEW, j] + SL[_SETUP_REUSE, j] + SL[_HOLD_PREP, j]
                                  + SL[_HOLD_CARRIED, j] + SL[_HOLD_NEW, j]
                                  + (SL[_DL0, j] + SL[_DL2, j]) + (SL[_DL1, j] + SL[_DL3, j])
                                  + SL[_DL4, j] + SL[_SHORTFALL, j] + SL[_DISPOSAL, j]
                                  + SL[_LOST, j])
        for j in range(n):
            cost_ps[(lo + j) * NS + s] = SL[_TOTAL, j]


@njit(cache=True, inline="always")
def _initial(R, row, k, x, remaining, hold, setup_reuse, value):
    """A buffer (rows from ``row`` of ``R``) of ``x`` units at stage ``k`` before the first
    period, in every lane: the quantity and the stage data that the first period carries."""
    for j in range(LANES):
        R[row + _R_N, j] = remaining[k]
        R[row + _H_N, j] = hold[k]
        R[row + _SR_N, j] = setup_reuse[k]
        R[row + _V_N, j] = value[k]
        R[row + _X, j] = x


@njit(cache=True, inline="always")
def _stage_data(R, row, stage_t, qty_t, j0, remaining, hold, setup_reuse, value,
                setup_new):
    """Period data of one buffer (rows from ``row`` of ``R``) in every lane: the new buffer
    of lane ``j`` is at stage ``stage_t[j0 + j]``, of quantity ``qty_t[j0 + j]``; the carried
    one is the last period's new one, so only the new one's data are gathered."""
    for j in range(LANES):
        R[row + _R_C, j] = R[row + _R_N, j]
        R[row + _H_C, j] = R[row + _H_N, j]
        R[row + _SR_C, j] = R[row + _SR_N, j]
        R[row + _V_C, j] = R[row + _V_N, j]
        R[row + _REM_C, j] = R[row + _X, j]
    for j in range(LANES):
        # Unsigned, so that Numba does not check each index for being negative.
        k = np.uint64(stage_t[j0 + j])
        R[row + _R_N, j] = remaining[k]
        R[row + _H_N, j] = hold[k]
        R[row + _S_N, j] = setup_new[k]
        R[row + _SR_N, j] = setup_reuse[k]
        R[row + _V_N, j] = value[k]
    for j in range(LANES):
        R[row + _NEW, j] = qty_t[j0 + j]
        R[row + _REM_N, j] = qty_t[j0 + j]


@njit(cache=True, inline="always")
def _draws(SL, SD, SG, d, g, Lp, b, r_mto, q, need, rho_p, lam_p, back_extra):
    """One product's draws in every lane: its backlog, then its new orders ``q``, from its
    carried and new dedicated buffers (rows from ``d``), its category's carried and new
    generic ones (rows from ``g``) and make-to-order, in that order."""
    w4 = max(r_mto - Lp, 0.0)
    for j in range(LANES):
        a0 = SD[d + _REM_C, j]
        a1 = SD[d + _REM_N, j]
        a2 = SG[g + _REM_C, j]
        a3 = SG[g + _REM_N, j]
        a4 = SL[_MTO, j]
        w0 = max(SD[d + _R_C, j] - Lp, 0.0)
        w1 = max(SD[d + _R_N, j] - Lp, 0.0)
        w2 = max(SG[g + _R_C, j] - Lp, 0.0)
        w3 = max(SG[g + _R_N, j] - Lp, 0.0)
        # Backlog: late by the previous period's length too.
        D = SD[d + _BK, j]
        x, D, a0 = _draw(D, a0)
        SL[_DL0, j] += b * (w0 + back_extra) * x
        x, D, a1 = _draw(D, a1)
        SL[_DL1, j] += b * (w1 + back_extra) * x
        x, D, a2 = _draw(D, a2)
        SL[_DL2, j] += b * (w2 + back_extra) * x
        x, D, a3 = _draw(D, a3)
        SL[_DL3, j] += b * (w3 + back_extra) * x
        x, D, a4 = _draw(D, a4)
        SL[_DL4, j] += b * (w4 + back_extra) * x
        SL[_LOST, j] += lam_p * D
        # New orders.
        D = q
        on_time_p = 0.0
        x, D, a0 = _draw(D, a0)
        SL[_DL0, j] += b * w0 * x
        on_time_p += x if w0 <= 0.0 else 0.0
        x, D, a1 = _draw(D, a1)
        SL[_DL1, j] += b * w1 * x
        on_time_p += x if w1 <= 0.0 else 0.0
        x, D, a2 = _draw(D, a2)
        SL[_DL2, j] += b * w2 * x
        on_time_p += x if w2 <= 0.0 else 0.0
        x, D, a3 = _draw(D, a3)
        SL[_DL3, j] += b * w3 * x
        on_time_p += x if w3 <= 0.0 else 0.0
        x, D, a4 = _draw(D, a4)
        SL[_DL4, j] += b * w4 * x
        on_time_p += x if w4 <= 0.0 else 0.0
        SD[d + _NEWBK, j] = D
        SL[_SHORTFALL, j] += rho_p * max(need - on_time_p, 0.0)
        SD[d + _REM_C, j] = a0
        SD[d + _REM_N, j] = a1
        SG[g + _REM_C, j] = a2
        SG[g + _REM_N, j] = a3
        SL[_MTO, j] = a4


@njit(cache=True, inline="always")
def _draw(D, a):
    """A demand of ``D`` units drawn from a source holding ``a``: the units drawn (none when
    either is 0), then what is left of the demand and of the source."""
    x = max(min(D, a), 0.0)
    return x, D - x, a - x


@njit(cache=True, inline="always")
def _period_end(SL, R, row, B, omega):
    """Holding, setups and disposal of one carried and one new buffer (rows from ``row``) in
    every lane; what is left of the new one is carried on."""
    for j in range(LANES):
        x = R[row + _X, j]
        u = x - R[row + _REM_C, j]
        SL[_HOLD_CARRIED, j] += R[row + _H_C, j] * B * (x - 0.5 * u)
        SL[_SETUP_REUSE, j] += R[row + _SR_C, j] if u > SETUP_EPS else 0.0
        SL[_DISPOSAL, j] += omega * R[row + _V_C, j] * R[row + _REM_C, j]
        x = R[row + _NEW, j]
        u = x - R[row + _REM_N, j]
        SL[_HOLD_NEW, j] += R[row + _H_N, j] * B * (x - 0.5 * u)
        SL[_SETUP_NEW, j] += R[row + _S_N, j] if x > SETUP_EPS else 0.0
        R[row + _X, j] = R[row + _REM_N, j]


@njit(cache=True, inline="always")
def _dispose_new(SL, R, row, omega):
    """Disposal of what is left of the new buffer (rows from ``row``) after the last period."""
    for j in range(LANES):
        SL[_DISPOSAL, j] += omega * R[row + _V_N, j] * R[row + _REM_N, j]
