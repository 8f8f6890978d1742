"""Costs of moves of an SFI plan (:class:`MoveScorer`): the plan's trajectory is played
once, then each move from its first changed period until the carried state is the plan's again
(``kernels/sfi_local.py``, ``kernels/sfi_moves.py``), many moves per kernel call.
"""

from __future__ import annotations

from itertools import chain

import numba
import numpy as np

from ....kernels import sfi_local as ksl
from ....kernels import sfi_moves as ksm
from ....kernels.sfi_data import Groups, Trajectory
from ....kernels.sfi_moves import Moves
from .evaluate import kernel_data
from .instance import Instance
from .plan import Plan
from .problem import padded

#: Fewer moves than this are scored on one thread.
SMALL_CALL = 256


def flatten_moves(moves: list) -> Moves:
    """Moves as the edit arrays of :func:`invswarm.kernels.sfi_moves.move_costs`."""
    ptr = np.zeros(len(moves) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, moves), np.int64, len(moves)), out=ptr[1:])
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(moves)), np.float64,
                       4 * int(ptr[-1])).reshape(-1, 4)
    arr, row, t = (np.ascontiguousarray(flat[:, j], dtype=np.int64) for j in range(3))
    starts = ptr[:-1]
    return Moves(ptr, arr, row, t, np.ascontiguousarray(flat[:, 3]),
                 np.minimum.reduceat(t, starts), np.maximum.reduceat(t, starts))


class MoveScorer:
    """Costs of moves of a plan with :func:`invswarm.kernels.sfi_moves.move_costs`."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.data = kernel_data(inst)
        C, P, T, NS = inst.n_categories, inst.n_products, inst.n_periods, inst.n_scenarios
        members = [np.flatnonzero(inst.category == c) for c in range(C)]
        self.groups = Groups(
            np.concatenate([[0], np.cumsum([m.size for m in members])]).astype(np.int64),
            np.concatenate(members).astype(np.int64), np.argsort(inst.order).astype(np.int64))
        kds = [inst.codp_candidates(p) for p in range(P)]
        self.n_kd = np.array([k.size for k in kds], dtype=np.int64)
        self.kd = padded(kds)
        self.tr = Trajectory(
            np.empty((NS, T + 1, C), np.int64), np.empty((NS, T + 1, C)),
            np.empty((NS, T + 1, P), np.int64), np.empty((NS, T + 1, P)),
            np.empty((NS, T + 1, P)), np.empty((NS, T)), np.empty((NS, T, C)),
            np.empty((NS, T, P + 1)), np.empty((NS, T, P, 3)))
        self.plan = None
        self._traced = None  # a copy of the plan `tr` is the trajectory of
        #: Moves scored so far.
        self.scored = 0

    def start(self, plan: Plan) -> float:
        """Score moves of ``plan`` from now on; returns its cost. Its trajectory is played
        from the first period in which it differs from the last plan started (a search
        starts a plan after each move it applies, and a move changes a period or two)."""
        arrays = (plan.pdp, plan.generic, plan.codp, plan.dedicated)
        T = self.inst.n_periods
        t_begin, t_same = 0, T
        if self._traced is not None:
            hit = np.flatnonzero(_changed_periods(self._traced, plan))
            t_begin, t_same = (int(hit[0]), int(hit[-1])) if hit.size else (T, T)
        self.plan = plan
        # A copy: the trajectory must stay that of what was played, whatever the caller
        # does to the plan's arrays afterwards.
        self._traced = Plan(*(a.copy() for a in arrays))
        return ksl.trajectory(*arrays, self.data, self.groups, t_begin, t_same, self.tr)

    def costs(self, moves: list, flat: tuple | None = None) -> np.ndarray:
        """Cost of the plan with each move applied, ``inf`` where it breaks a rule;
        ``flat``: the moves' :func:`flatten_moves`, when made already."""
        out = np.empty(len(moves))
        self.scored += len(moves)
        if moves:
            p = self.plan
            # A chunk copies the plan: a few moves are scored in one.
            chunks = 4 * numba.get_num_threads() if len(moves) >= SMALL_CALL else 1
            flat = flat if flat is not None else flatten_moves(moves)
            ksm.move_costs(p.pdp, p.generic, p.codp, p.dedicated, flat, self.groups, self.kd,
                           self.n_kd, self.inst.capacity, self.data, self.tr, chunks, out)
        return out


def carried_states(inst: Instance, plan: Plan, periods) -> list[tuple[np.ndarray, ...]]:
    """What ``plan`` carries into each of ``periods`` under the most probable scenario (the
    first of them on ties), from one play of the plan: the generic buffers' stage and units
    (shape (C,)), the dedicated buffers' stage and units (P,) and the backlog (P,); see
    :meth:`Instance.window`."""
    scorer = MoveScorer(inst)
    scorer.start(plan)
    s = int(np.argmax(inst.weights))
    return [tuple(a[s, t].copy() for a in scorer.tr[:5]) for t in periods]


def move_costs(inst: Instance, plan: Plan, moves: list) -> np.ndarray:
    """Cost of ``plan`` with each move applied (``inf`` where a move breaks a rule), shape
    (len(moves),); :func:`candidate_moves` describes moves."""
    scorer = MoveScorer(inst)
    scorer.start(plan)
    return scorer.costs(moves)


def _changed_periods(a: Plan, b: Plan) -> np.ndarray:
    """Periods in which two plans differ, shape (T,)."""
    return ((a.pdp != b.pdp).any(axis=0) | (a.generic != b.generic).any(axis=0)
            | (a.codp != b.codp).any(axis=0) | (a.dedicated != b.dedicated).any(axis=0))
