"""Costs of many small changes of one SFI plan, for the local search (engine/models/sfi/search.py).

A change (a *move*) edits a few decisions. Each is applied to a private copy of the plan,
checked, played from its first edited period (the periods before cost what they cost in the
plan's trajectory) until the carried state is the plan's again, and undone. Only the
categories the move touches are played (``kernels/sfi_local.py``). No plan is copied per move,
and a move in period t of a long horizon costs a few periods' play of a few categories, not T
periods of all of them.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .sfi_data import play_state
from .sfi_local import play_local

#: A list of moves, each a few edits of one plan (:func:`move_costs`): move ``m`` is the
#: edits ``ptr[m]:ptr[m + 1]`` (``ptr`` shape (M + 1,)), applied in order; per edit, shape
#: (E,), the ``decision`` it sets (``PDP``, ``GENERIC``, ``CODP``, ``DEDICATED``), its category
#: or product ``row``, its ``period`` and its new ``value`` (a stage, or units); per move,
#: shape (M,), the ``first_period`` and ``last_period`` it edits.
Moves = namedtuple("Moves", ("ptr", "decision", "row", "period", "value", "first_period",
                             "last_period"))

#: Which decision an edit sets (``edit_arr``).
PDP, GENERIC, CODP, DEDICATED = 0, 1, 2, 3
#: Slack of the capacity check (units), as in ``engine/models/sfi/search.py``.
CAPACITY_TOL = 1e-9


@njit(cache=True)
def _apply(e0, e1, edit_arr, edit_row, edit_t, edit_val, cat_ptr, cat_members, kd, n_kd,
           pdp, gen, codp, ded):
    """Apply edits ``e0:e1`` to the plan (shapes (1, C, T) / (1, P, T)). A PDP edit raises the
    CODPs of its category below it to their next candidate; False when a product has none."""
    ok = True
    for e in range(e0, e1):
        r = edit_row[e]
        t = edit_t[e]
        v = edit_val[e]
        a = edit_arr[e]
        if a == PDP:
            k = int(v)
            pdp[0, r, t] = k
            for m in range(cat_ptr[r], cat_ptr[r + 1]):
                p = cat_members[m]
                if codp[0, p, t] < k:
                    j = 0
                    while j < n_kd[p] and kd[p, j] < k:
                        j += 1
                    if j == n_kd[p]:
                        ok = False
                    else:
                        codp[0, p, t] = kd[p, j]
        elif a == GENERIC:
            gen[0, r, t] = v
        elif a == CODP:
            codp[0, r, t] = int(v)
        else:
            ded[0, r, t] = v
    return ok


@njit(cache=True)
def _period_ok(t, category, capacity, pdp, gen, codp, ded):
    """Non-negative units, capacity and CODPs at or after the PDP in period ``t``."""
    used = 0.0
    for c in range(gen.shape[1]):
        if gen[0, c, t] < 0.0:
            return False
        used += gen[0, c, t]
    for p in range(ded.shape[1]):
        if ded[0, p, t] < 0.0 or codp[0, p, t] < pdp[0, category[p], t]:
            return False
        used += ded[0, p, t]
    return used <= capacity[t] + CAPACITY_TOL


# nogil: the local search makes its next block's moves in a Python thread meanwhile.
@njit(parallel=True, cache=True, nogil=True)
def move_costs(pdp, gen, codp, ded, moves, groups, kd, n_kd, capacity, model, tr, n_chunks,
               out_cost):
    """Expected cost of the plan with each move applied; ``inf`` where a move breaks a rule.

    Parameters
    ----------
    pdp, gen, codp, ded : ndarray, shapes (C, T), (C, T), (P, T), (P, T)
        The plan (a feasible one).
    moves : Moves
        The moves (:data:`Moves`).
    groups : Groups
        Each category's products and the service order
        (:data:`invswarm.kernels.sfi_data.Groups`).
    kd, n_kd : ndarray of int64, shapes (P, maxKD), (P,)
        CODP candidates, ascending, padded.
    capacity : ndarray, shape (T,)
    model : Model
        The instance (:data:`invswarm.kernels.sfi_data.Model`).
    tr : Trajectory
        The plan's trajectory (:func:`invswarm.kernels.sfi_local.trajectory`).
    n_chunks : int
        Work chunks, run in parallel when more than one (results do not depend on it).
    out_cost : ndarray, shape (M,)
        Written.
    """
    M = moves.first_period.shape[0]
    n_chunks = max(1, min(M, n_chunks))
    if n_chunks == 1:
        _move_range(0, M, pdp, gen, codp, ded, moves, groups, kd, n_kd, capacity, model, tr,
                    out_cost)
        return
    for chunk in prange(n_chunks):
        _move_range(chunk * M // n_chunks, (chunk + 1) * M // n_chunks, pdp, gen, codp, ded,
                    moves, groups, kd, n_kd, capacity, model, tr, out_cost)


@njit(cache=True)
def _move_range(lo, hi, pdp, gen, codp, ded, moves, groups, kd, n_kd, capacity, model, tr,
                out_cost):
    """Moves ``lo:hi`` of :func:`move_costs`, on a private copy of the plan."""
    C, T = pdp.shape
    P = codp.shape[0]
    NS = model.orders.shape[0]
    pdp_s = pdp.copy().reshape((1, C, T))
    gen_s = gen.copy().reshape((1, C, T))
    codp_s = codp.copy().reshape((1, P, T))
    ded_s = ded.copy().reshape((1, P, T))
    state = play_state(C, P)
    dirty = np.empty(C, dtype=np.bool_)
    edit_ptr, edit_arr, edit_row = moves.ptr, moves.decision, moves.row
    edit_t, edit_val = moves.period, moves.value
    for m in range(lo, hi):
        e0 = edit_ptr[m]
        e1 = edit_ptr[m + 1]
        ok = _apply(e0, e1, edit_arr, edit_row, edit_t, edit_val, groups.ptr, groups.members,
                    kd, n_kd, pdp_s, gen_s, codp_s, ded_s)
        for e in range(e0, e1):
            if ok and _first_of_period(e0, e, edit_t):
                ok = _period_ok(edit_t[e], model.category, capacity, pdp_s, gen_s, codp_s,
                                ded_s)
        cost = np.inf
        if ok:
            cost = 0.0
            for s in range(NS):
                # The categories the move touches (a PDP edit also moves its products' CODPs).
                dirty[:] = False
                for e in range(e0, e1):
                    a = edit_arr[e]
                    r = edit_row[e]
                    dirty[r if a == PDP or a == GENERIC else model.category[r]] = True
                cost += model.weights[s] * play_local(
                    s, moves.first_period[m], moves.last_period[m], False, dirty, pdp_s[0],
                    gen_s[0], codp_s[0], ded_s[0], model, groups, tr, state)
        out_cost[m] = cost
        # Undo: the edited decisions back to the plan's (a PDP edit's CODPs too).
        for e in range(e0, e1):
            t = edit_t[e]
            r = edit_row[e]
            a = edit_arr[e]
            if a == PDP:
                pdp_s[0, r, t] = pdp[r, t]
                for j in range(groups.ptr[r], groups.ptr[r + 1]):
                    p = groups.members[j]
                    codp_s[0, p, t] = codp[p, t]
            elif a == GENERIC:
                gen_s[0, r, t] = gen[r, t]
            elif a == CODP:
                codp_s[0, r, t] = codp[r, t]
            else:
                ded_s[0, r, t] = ded[r, t]


@njit(cache=True)
def _first_of_period(e0, e, edit_t):
    """Whether edit ``e`` is the first of edits ``e0:`` in its period."""
    for f in range(e0, e):
        if edit_t[f] == edit_t[e]:
            return False
    return True
