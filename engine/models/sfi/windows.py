"""Window re-optimization of SFI plans: a few periods of a few categories re-planned exactly.

The local search changes a plan a move or two at a time. Where setups and holding trade off at
moderate capacity, the better plans differ from a local optimum in many quantities and stages
at once over several periods (pooled supply in one period, dedicated in the next, the
quantities around them re-balanced), which no short sequence of improving moves reaches. A
window frees every decision of a block of categories in ``width`` consecutive periods and
solves the exact model (``milp.py``) over those periods and the ``lookahead`` after them, whose
decisions stay as the plan has them, from the stock the plan carries into the window; the
result replaces the window's decisions when the kernel finds the whole plan cheaper. Only the
window's periods are modelled, so each solve is small whatever the horizon; what the window
changes beyond the lookahead the model does not see, which is why the kernel decides.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from itertools import product

import numpy as np

from ...improvement import improves
from ...milp import BuildStopped, MilpOptions, ended_at, interrupt_on, run
from ...termination import Budget
from . import milp as smilp
from .evaluate import evaluate
from .instance import Instance
from .pins import Pins
from .plan import Plan, violations
from .scoring import carried_states

#: Periods freed by one window, and periods after it modelled with the plan's decisions.
WIDTH = 2
LOOKAHEAD = 2
#: Periods between the starts of two windows of a sweep (windows overlap by the rest).
STEP = 1
#: Seconds HiGHS may spend on one window.
WINDOW_LIMIT = 0.6
#: Share of a window's limit below which no window is started.
MIN_SHARE = 0.1
#: Free buffer-periods a window may hold: categories are grouped so that a group's buffers
#: (its generic one and its products' dedicated ones) over ``WIDTH`` periods stay under it.
MAX_FREE_CELLS = 36


def category_groups(inst: Instance, width: int = WIDTH,
                    max_cells: int = MAX_FREE_CELLS) -> list[np.ndarray]:
    """The categories, in order, cut into groups whose buffers over ``width`` periods number
    at most ``max_cells`` (a category larger than that is a group of its own)."""
    sizes = 1 + np.bincount(inst.category, minlength=inst.n_categories)
    groups, current, cells = [], [], 0
    for c in range(inst.n_categories):
        if current and cells + width * sizes[c] > max_cells:
            groups.append(np.array(current))
            current, cells = [], 0
        current.append(c)
        cells += width * sizes[c]
    groups.append(np.array(current))
    return groups


def _cut(plan: Plan, a: int, b: int) -> Plan:
    """Periods ``a:b`` of ``plan``."""
    return Plan(*(x[:, a:b].copy() for x in (plan.pdp, plan.generic, plan.codp,
                                             plan.dedicated)))


def _spliced(plan: Plan, part: Plan, a: int) -> Plan:
    """``plan`` with its periods from ``a`` on replaced by ``part``'s."""
    arrays = [x.copy() for x in (plan.pdp, plan.generic, plan.codp, plan.dedicated)]
    for x, y in zip(arrays, (part.pdp, part.generic, part.codp, part.dedicated)):
        x[:, a:a + y.shape[1]] = y
    return Plan(*arrays)


def _window_pins(inst: Instance, ref: Plan, group: np.ndarray, a: int, b: int, width: int,
                 pins: Pins | None) -> Pins:
    """The kept decisions of the window ``a:b`` (``ref``: the plan's, over those periods):
    every decision but those of ``group``'s categories (and their products) in its first
    ``width`` periods, and what the run's ``pins`` keep."""
    free_c = np.zeros(inst.n_categories, bool)
    free_c[group] = True
    free_p = free_c[inst.category]
    free_t = np.zeros(b - a, bool)
    free_t[:width] = True
    masks = [~(free_c[:, None] & free_t), ~(free_c[:, None] & free_t),
             ~(free_p[:, None] & free_t), ~(free_p[:, None] & free_t)]
    if pins is not None and not pins.empty:
        masks = [m | k[:, a:b] for m, k in zip(masks, pins.masks)]
    return Pins(ref, tuple(masks))


def spread(starts: list[int]) -> list[int]:
    """``starts`` in the order that puts each next one farthest from those before it (ties:
    the earliest), beginning with the first: a sweep cut short by the time limit has then
    re-planned windows all over the horizon, not only its first periods."""
    order, left = [starts[0]], list(starts[1:])
    while left:
        far = max(left, key=lambda s: (min(abs(s - o) for o in order), -s))
        order.append(far)
        left.remove(far)
    return order


def _seen(ref: Plan, state: tuple) -> bytes:
    """What a window's model is made of: the plan's decisions over its periods (``ref``) and
    the state carried into them."""
    return b"".join(np.ascontiguousarray(x).tobytes()
                    for x in (ref.pdp, ref.generic, ref.codp, ref.dedicated, *state))


def window_search(inst: Instance, plan: Plan, cost: float, budget: Budget, *,
                  pins: Pins | None = None, width: int = WIDTH, lookahead: int = LOOKAHEAD,
                  step: int = STEP, limit: float = WINDOW_LIMIT, max_sweeps: int = 2**31,
                  until: float = np.inf, workers: int = 1) -> tuple[Plan, float]:
    """Improve ``plan`` (of kernel cost ``cost``) window by window.

    A sweep goes over the periods, ``step`` apart, and at each over the category groups
    (:func:`category_groups`); each window's exact model gets ``limit`` seconds, or what is
    left of the run's time or of the phase's (``until``, a ``time.perf_counter()`` instant).
    Up to ``workers`` windows are solved at once, each by HiGHS in a thread of its own (one
    HiGHS thread each when more than one); a window is built from the plan as it stands when
    its solve starts, and what it finds is put into the plan as it stands when the solve
    ends. A window whose solve found nothing cheaper in its whole ``limit`` is skipped in
    later sweeps until the plan's decisions over its periods or the state carried into them
    change. Sweeps repeat until one improves nothing, ``max_sweeps``, ``until`` (less than
    :data:`MIN_SHARE` of ``limit`` before it) or the run's ``budget`` ends (its stop
    interrupts HiGHS); a window's model is built within that time, and HiGHS gets what its
    build left of it; each window charges it one evaluation (the kernel's look at the new
    plan) and each improvement is recorded. A window's plan is taken only when it breaks no
    rule of the model and costs less than the plan it goes into. With ``pins``, no window
    changes a kept decision. Returns the plan and its kernel cost.
    """
    T = inst.n_periods
    width = min(width, T)
    groups = category_groups(inst, width)
    starts = list(range(0, T - width + 1, step))
    if starts[-1] != T - width:
        starts.append(T - width)  # the last periods too
    starts = spread(starts)
    end = min(budget.deadline, until)
    best = {"plan": plan, "cost": cost, "states": None}
    # (start, group) -> what the window saw when its solve, given its whole time, found
    # nothing cheaper: it is not solved again until something it sees has changed
    fruitless: dict = {}
    running: dict = {}  # a solve's future -> its window
    threads = 1 if workers > 1 else 0

    def take(done) -> None:
        """Put what the finished solves found into the plan."""
        for fut in done:
            a, gi, model, sub, seen, solve_limit = running.pop(fut)
            out = fut.result()
            budget.spend(1)
            c = np.inf
            if out.x is not None:
                part = smilp.read_plan(model, sub, out.x).cleaned()
                cand = _spliced(best["plan"], part, a)
                if not violations(inst, cand):
                    c = evaluate(inst, cand).cost
            if improves(c, best["cost"]):
                best.update(plan=cand, cost=c, states=None)
                budget.record(c, cand)
            elif limit <= solve_limit:
                fruitless[a, gi] = seen

    with ThreadPoolExecutor(max(1, workers)) as pool:
        for _ in range(max_sweeps):
            start_cost = best["cost"]
            for a, (gi, group) in product(starts, enumerate(groups)):
                while len(running) >= max(1, workers):
                    take(wait(running, return_when=FIRST_COMPLETED).done)
                if budget.done() or end - time.perf_counter() < MIN_SHARE * limit:
                    break  # too short a solve for HiGHS to find anything: the time goes on
                b = min(T, a + width + lookahead)
                if best["states"] is None:
                    best["states"] = dict(zip(starts, carried_states(inst, best["plan"], starts)))
                state = best["states"][a]  # a window's changes leave it as it is
                ref = _cut(best["plan"], a, b)
                kept = _window_pins(inst, ref, group, a, b, width, pins)
                if all(m[:, :width].all() for m in kept.masks):
                    continue  # the run's pins keep every decision of this window
                seen = _seen(ref, state)
                if fruitless.get((a, gi)) == seen:
                    continue
                sub = inst.window(a, b, state)
                try:
                    model = smilp.build(sub, pins=kept, start=ref,
                                        ended=ended_at(end, budget.token))
                except BuildStopped:
                    break
                h = model.builder.to_highs()
                interrupt_on(h, budget.token)
                left = end - time.perf_counter()
                if left < MIN_SHARE * limit:
                    break  # the build took the time
                solve_limit = min(limit, left)
                opts = MilpOptions(time_limit=max(1e-3, solve_limit), threads=threads,
                                   deadline=time.time() + left if left < np.inf else None)
                # HiGHS releases the GIL while it solves
                running[pool.submit(run, h, opts, smilp.start_of(model, ref))] = (
                    a, gi, model, sub, seen, solve_limit)
            else:
                take(wait(running).done)
                if not improves(best["cost"], start_cost):
                    break
                continue
            break  # the time or the budget ended the sweep
        take(wait(running).done)  # the solves still running end by the same time
    return best["plan"], best["cost"]
