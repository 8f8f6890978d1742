"""Plan improvement for the SFI model: a batched local search.

It proposes single and compound changes of the decisions (``moves.py``), scores them in
batched kernel calls that play each from its first changed period (``scoring.py``), applies
the best and then tries the next-best ones on top, keeping each that still improves. Every
applied change is feasible (stages repaired, capacity respected, the plan checked). Its usual
start is ``start.py``'s plan.
"""

from __future__ import annotations

import heapq
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ...improvement import below, margin
from ...termination import Budget, StopToken
from .evaluate import batch_costs, plan_use
from .instance import Instance
from .moves import apply_move, candidate_moves, forget_groups, pooling_moves
from .pins import Pins
from .plan import Plan, check_feasible
from .scoring import MoveScorer, flatten_moves

#: Moves per kernel call of the local search (the time budget is checked between calls).
CHUNK_MOVES = 20_000
#: Plan-wide moves per kernel call (each plays every period).
WIDE_MOVES = 64
#: Moves scored anew together when the gains of the best are out of date (_apply_ranked).
RESCORE = 32
#: Moves scored that count as one evaluation of the run's budget (docs/embedding.md): a move
#: plays one plan from its first changed period, an evaluation decodes and plays a particle.
MOVES_PER_EVALUATION = 16


@dataclass
class BlockTimes:
    """The longest block of moves seen so far, by kind, in seconds to make and score: a
    local search does not start a block that would overrun its budget. Shared by the local
    searches of one run, so that even a search's first block is predicted."""

    period: float = 0.0
    wide: float = 0.0


def local_search(inst: Instance, plan: Plan, *, time_budget: float = 10.0,
                 max_rounds: int = 10_000, follow_ups: int | None = None,
                 first: np.ndarray | None = None,
                 times: BlockTimes | None = None,
                 stop: StopToken | None = None, pins: Pins | None = None,
                 budget: Budget | None = None) -> tuple[Plan, float]:
    """Improve ``plan`` until no change improves it or the time budget is spent.

    A round goes over the periods a block at a time (blocks of about :data:`CHUNK_MOVES`
    moves): it scores the block's moves (:func:`invswarm.kernels.sfi_moves.move_costs`)
    and applies the best, then, while one still improves, the best of the block's others
    against the plan so far (at most ``follow_ups`` more; by default ``max(30, 2 (C + P))``;
    see :func:`_apply_ranked`). So a round cut short by the time budget has improved the
    periods it reached. A thread makes the next block's moves (:class:`_MoveMaker`, Python)
    while the kernel scores this block's (it releases the GIL), so each block's moves are
    made for the plan as the blocks before the last left it: a move may set a quantity
    derived from that plan, but it is scored against the plan as it is, and the result
    does not depend on the threads' timing. The kernel keeps its Numba threads meanwhile
    (the thread making moves holds the GIL most of the time, so it takes about one core
    while the kernel runs; on one Numba thread the kernel searched less in the same time,
    in development). After a full round's period blocks come the plan-wide moves, in
    blocks of :data:`WIDE_MOVES`. A change in one period moves the costs
    of that period and the next only through the stock and backlog it passes on, and a
    change in one category moves the costs of others only through the make-to-order
    capacity and the production capacity they share; so after the first round the moves are
    made in the (category, period) cells next to the last round's changes (the same
    category, the period before and after); a round there that finds
    nothing is followed by a full round, and only a full round that finds nothing ends the
    search (at a local optimum). On the bench's 30 x 10 x 52 instances a round after the
    first two covers a third of the cells or fewer.
    ``first`` (bool, shape (T,)) limits the first round to some periods (those a caller
    just changed); by default it covers them all. ``times`` carries the block times of
    earlier searches of the same instance (updated in place): a block that the longest of
    its kind says would overrun the budget is not started. ``stop``, when set, ends the search
    before its next block. With ``pins`` (which ``plan`` honours), no move changes a kept
    decision, and cells whose every decision is kept get no moves. ``budget``, the run's,
    ends the search like ``stop`` when one of its terminations is reached; it is charged the
    moves scored (:data:`MOVES_PER_EVALUATION` to an evaluation) and told the cost after each
    block; a block is cut to the evaluations the budget has left, so that an evaluation
    budget holds to the rescoring of one block's follow-ups (at most :data:`RESCORE` moves
    for each move applied).

    Returns the improved plan and its cost. Raises :class:`~invswarm.engine.errors.InputError`
    naming the first field that breaks a rule of the model when ``plan`` is not feasible.
    """
    check_feasible(inst, plan)  # the moves keep a feasible plan feasible (see apply_move)
    scorer = MoveScorer(inst)
    data = scorer.data
    C, T = inst.n_categories, inst.n_periods
    if follow_ups is None:
        follow_ups = max(30, 2 * (inst.n_categories + inst.n_products))
    t_end = time.perf_counter() + time_budget
    pins = pins if pins is not None and not pins.empty else None
    # The (category, period) cells whose moves a round makes.
    movable = ~pins.frozen(inst) if pins is not None else np.ones((C, T), dtype=bool)
    near = movable.copy()
    if first is not None:
        near &= np.asarray(first, dtype=bool)[None]

    def cost_of(p: Plan) -> float:
        return float(batch_costs(inst, p.pdp[None], p.generic[None], p.codp[None],
                                 p.dedicated[None], data=data)[0][0])

    cost = cost_of(plan)
    maker = _MoveMaker(inst)
    per_cell = CHUNK_MOVES  # moves per cell (the first block has one period)
    times = times if times is not None else BlockTimes()
    scored_plan = None  # the plan `use` is for

    def ended() -> bool:
        return (stop is not None and stop.stopped) or (budget is not None and budget.done())

    # One thread makes the next block's moves while the kernel scores this block's.
    with ThreadPoolExecutor(1) as pool:
        for _ in range(max_rounds):
            if time.perf_counter() + times.period > t_end or ended():
                break
            periods = np.flatnonzero(near.any(axis=0))
            cells = np.cumsum(near[:, periods].sum(axis=0))  # the cells up to each period
            changed = np.zeros((C, T), dtype=bool)
            lo, wide, wide_at, blocks, out_of_time = 0, None, 0, 0, False
            ahead = None  # the next block: (its end, its cells, its moves being made)
            while True:
                t_block = time.perf_counter()
                wide_block = lo >= periods.size
                if wide_block and not (near == movable).all():
                    break
                longest = times.wide if wide_block else times.period
                if (blocks or longest) and t_block + longest > t_end or ended():
                    out_of_time = True
                    break
                if scored_plan is not plan:
                    use = plan_use(inst, plan, data)[1]
                    if scorer.plan is not plan:
                        scorer.start(plan)
                    scored_plan = plan
                if not wide_block:
                    if ahead is not None:
                        hi, n_cells, made = ahead
                        new, flat = made.result()
                    else:
                        mask, hi, n_cells = _block(near, periods, cells, lo, per_cell)
                        new, flat = pool.submit(maker.moves, plan, use, mask).result()
                    per_cell = max(1, len(new) // n_cells)
                    lo, ahead = hi, None
                    if lo < periods.size:
                        # Made for the plan as it is before this block's moves are applied.
                        mask, hi_next, n_next = _block(near, periods, cells, lo, per_cell)
                        ahead = (hi_next, n_next, pool.submit(maker.moves, plan, use, mask))
                else:
                    if wide is None:
                        wide = pool.submit(maker.wide_moves, plan).result()
                    new, flat = wide[wide_at:wide_at + WIDE_MOVES], None
                    wide_at += len(new)
                    if not new:
                        break
                if budget is not None and budget.max_evals is not None:
                    allowed = int(budget.evals_left() * MOVES_PER_EVALUATION)
                    if allowed < len(new):
                        new, flat = new[:allowed], None
                    if not new:
                        out_of_time = True
                        break
                scored = scorer.scored
                costs = scorer.costs(new, flat)
                # Only the moves that gain are kept (a large round makes millions of moves).
                keep = np.flatnonzero(costs < below(cost))
                gaining = [new[j] for j in keep.tolist()]
                del new, flat  # freed inside the block's time
                blocks += 1
                # The best move is applied even when the time ran out while scoring: it was
                # paid for.
                plan, cost, block_changed = _apply_ranked(inst, scorer, plan, cost, gaining,
                                                          costs[keep], follow_ups, t_end, pins)
                changed |= block_changed
                if budget is not None:
                    budget.spend((scorer.scored - scored) / MOVES_PER_EVALUATION)
                    budget.record(cost, plan)
                # The longest block so far predicts the next: blocks vary, the deadline does
                # not.
                if wide_block:
                    times.wide = max(times.wide, time.perf_counter() - t_block)
                else:
                    times.period = max(times.period, time.perf_counter() - t_block)
            if not changed.any():
                if (near == movable).all() or out_of_time:
                    break
                near[:] = movable
                continue
            near = changed.copy()
            near[:, 1:] |= changed[:, :-1]
            near[:, :-1] |= changed[:, 1:]
            near &= movable
    # The cost of the whole play (the moves' costs agree with it to rounding).
    return plan, cost_of(plan)


def _block(near: np.ndarray, periods: np.ndarray, cells: np.ndarray, lo: int,
           per_cell: int) -> tuple[np.ndarray, int, int]:
    """The block of a round from its ``lo``-th period on: about :data:`CHUNK_MOVES` moves at
    ``per_cell`` moves per cell, at least one period. Returns its cells (shape (C, T)), the
    index of the period after it and how many cells it has. ``periods``: the round's
    periods; ``cells``: the round's cells up to each of them."""
    done = cells[lo - 1] if lo else 0
    hi = max(lo + 1, int(np.searchsorted(cells, done + CHUNK_MOVES // per_cell, side="right")))
    mask = np.zeros(near.shape, dtype=bool)
    mask[:, periods[lo:hi]] = near[:, periods[lo:hi]]
    return mask, hi, int(cells[hi - 1] - done)


class _MoveMaker:
    """Makes the local search's moves (:func:`.moves.candidate_moves`, and the plan-wide
    pooling moves) in one thread at a time, keeping the pooling groups of the last plan it
    made moves for and the draws of the transfer moves (so the search is repeatable)."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.d = (inst.weights[:, None, None] * inst.orders).sum(axis=0)
        self.dc = np.zeros((inst.n_categories, inst.n_periods))
        np.add.at(self.dc, inst.category, self.d)
        self.rng = np.random.default_rng(0)
        self.groups: dict = {}  # pooling groups, by category (see _pooling_groups)
        self.plan = None  # the plan `groups` are for

    def _for(self, plan: Plan) -> None:
        forget_groups(self.groups, self.inst, self.plan, plan)
        self.plan = plan

    def moves(self, plan: Plan, use: np.ndarray, near: np.ndarray) -> tuple[list, tuple]:
        """:func:`candidate_moves` of ``plan`` in the cells ``near`` (``use``: its buffers'
        use), and their :func:`flatten_moves`."""
        self._for(plan)
        moves = candidate_moves(self.inst, plan, self.d, self.dc, use, near, self.rng, self.groups)
        return moves, flatten_moves(moves)

    def wide_moves(self, plan: Plan) -> list:
        """The plan-wide pooling moves of ``plan``."""
        self._for(plan)
        return pooling_moves(self.inst, plan, None, every_period=True, groups=self.groups)


def _apply_ranked(inst: Instance, scorer: MoveScorer, plan: Plan, cost: float, moves: list,
                  scored: np.ndarray, follow_ups: int, t_end: float, pins: Pins | None = None
                  ) -> tuple[Plan, float, np.ndarray]:
    """Apply the best of ``moves`` (costs ``scored``, against ``plan``, which ``scorer`` is
    started on), then, while one still improves, the best of the others (at most
    ``follow_ups`` after the first, none after ``t_end``). Once a move is applied, the
    others' gains are out of date: the :data:`RESCORE` best by their last gains are scored
    anew against the plan so far, and the best of all is applied if its gain is up to date,
    else the next best are scored anew (a lazy greedy: a few moves scored per step, not all
    of them). Returns the plan, its cost (as scored) and the (category, period) cells the
    applied moves edit (a product's edits count for its category), shape (C, T)."""
    changed = np.zeros((inst.n_categories, inst.n_periods), dtype=bool)
    applied = 0
    # (cost change, move, version of the plan it was scored against); ties: the first made.
    # Changes, not costs: the costs of moves scored against different plans do not compare.
    line = [(float(c) - cost, j, 0) for j, c in enumerate(scored)]
    heapq.heapify(line)
    version = 0
    while line:
        gain, j, v = line[0]
        if not gain < -margin(cost):
            break
        if v != version:
            # The best ones scored against an older plan, scored anew in one call.
            stale = []
            while line and line[0][2] != version and len(stale) < RESCORE:
                stale.append(heapq.heappop(line)[1])
            if scorer.plan is not plan:
                scorer.start(plan)
            for k, c in zip(stale, scorer.costs([moves[k] for k in stale])):
                heapq.heappush(line, (float(c) - cost, k, version))
            continue
        heapq.heappop(line)
        trial = apply_move(inst, plan, moves[j], pins)
        if trial is None:
            continue
        for a, r, t, _ in moves[j]:
            # A PDP move's raised CODPs are its category's.
            changed[r if a <= 1 else inst.category[r], t] = True
        plan, cost = trial, cost + gain
        applied += 1
        version += 1
        if applied > follow_ups or time.perf_counter() > t_end:
            break
    return plan, cost, changed
