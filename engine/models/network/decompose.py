"""The network solved material by material: one exact model per material, the fixed link
costs shared out as prices, the parts solved in worker processes (loky on this machine, or the
workers of a dask cluster), put together, then the local search (docs/models/network.md,
"Decomposition by material").

The fixed cost of a link and period is the only term that couples materials. Each material's
model pays a *price* for it instead: the fixed cost divided evenly among the materials that
could ship on that link in that period. The prices of a link-period add up to its fixed cost,
so the parts' lower bounds add up to a lower bound of the whole network (a plan's fixed cost
``F * max_m y_m`` is at least ``sum_m price_m * y_m``). The parts' plans together are a plan of
the network (every rule binds one material at a time), which pays each fixed cost once; the
local search then moves shipments where the prices misjudged a link-period.
"""

from __future__ import annotations

import os
import resource
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, replace

import numpy as np

from ...island_tasks import active_dask_client, enter_worker, loky_executor
from ...milp import BuildStopped, MilpOptions, ended_at, interrupt_on, run
from ...termination import Budget, StopToken
from .evaluate import KernelData, plan_costs
from .instance import Instance
from .milp import build, completed_start, link_periods, read_plan, start_of
from .pins import Pins
from .plan import Plan
from .search import local_search

#: Relative gap at which a part's exact solve stops.
PART_GAP = 1e-4
#: Shortest time limit given to a part (seconds): HiGHS needs some to get past presolve.
MIN_PART_TIME = 0.2
#: Seconds between two looks at the parts running: the stop's latency while they run.
POLL_S = 0.02
#: Least seconds between two offers of the assembled plan as the run's best.
RECORD_EVERY_S = 0.5


@dataclass(frozen=True)
class DecomposeOptions:
    """How the parts run.

    Attributes
    ----------
    jobs : int
        Worker processes solving parts side by side (1: in this process, in turn).
    backend : {"loky", "dask"}
        ``dask``: the parts go to the workers of the running dask client
        (``engine/cluster.py``), on this machine or a cluster.
    part_time : float
        Most seconds one part's exact solve may take.
    polish_share : float
        Share of the run's time limit kept for the local search after the parts.
    """

    jobs: int = 1
    backend: str = "loky"
    part_time: float = 30.0
    polish_share: float = 0.1

    def __post_init__(self):
        if self.jobs < 1:
            raise ValueError(f"jobs: must be >= 1, got {self.jobs}")
        if self.backend not in ("loky", "dask"):
            raise ValueError(f"backend: must be 'loky' or 'dask', got {self.backend!r}")
        if not self.part_time > 0:
            raise ValueError(f"part_time: must be > 0, got {self.part_time}")
        if not 0 <= self.polish_share < 1:
            raise ValueError(f"polish_share: must lie in [0, 1), got {self.polish_share}")


@dataclass(frozen=True)
class Part:
    """One material's exact solve.

    Attributes
    ----------
    material : int
    plan : Plan
        Its shipments (material 0 of the one-material instance): the solver's incumbent when
        the kernel finds it feasible, else the start it was given.
    bound : float
        The solver's lower bound on the material's priced cost (``-inf``: none).
    optimal : bool
        Solved to the part's gap.
    seconds : float
        Wall time of the part, building its model included.
    peak_mib : float
        Peak resident memory of the process that solved it (MiB).
    """

    material: int
    plan: Plan
    bound: float
    optimal: bool
    seconds: float
    peak_mib: float


def one_material(inst: Instance, m: int) -> Instance:
    """Material ``m`` of ``inst`` alone, with every firm, link and period kept (so link and
    period indices, and prices keyed by them, mean the same in both)."""
    one = slice(m, m + 1)
    return replace(
        inst, name=f"{inst.name}/{inst.material_names[m]}",
        material_names=(inst.material_names[m],),
        **{k: np.ascontiguousarray(getattr(inst, k)[one])
           for k in ("life", "value", "price")},
        **{k: np.ascontiguousarray(getattr(inst, k)[:, one])
           for k in ("listed", "lots", "receipts", "requirements", "protected", "hold",
                     "shortage", "unit_cost")})


def solve_part(sub: Instance, m: int, prices: dict, start: Plan, pins: Pins,
               time_limit: float, parent_pid: int, stop: StopToken | None = None) -> Part:
    """Solve the one-material instance ``sub`` (material ``m`` of the network) exactly with
    the fixed link costs replaced by ``prices`` ((link, period) -> money), from ``start`` and
    held to ``pins`` (both numbered as ``sub``), within ``time_limit`` seconds (on one thread
    in a worker process; the model's build included: a part whose build takes it all keeps
    ``start``, with no bound). ``stop`` (in the parent's process only) interrupts the build
    and the solver."""
    t0 = time.perf_counter()
    enter_worker(parent_pid)
    data = KernelData(sub)
    try:
        model = build(sub, prices=prices, data=data, pins=pins,
                      ended=ended_at(t0 + time_limit, stop))
    except BuildStopped:  # the build took the part's time: the material keeps its start
        return Part(m, start, -np.inf, False, time.perf_counter() - t0, _peak_mib())
    # HiGHS fixes a thread's solver threads at its first solve: one thread in a worker
    # process, whatever the parent's thread uses in the parent
    opts = MilpOptions(time_limit=time_limit, gap=PART_GAP,
                       threads=1 if os.getpid() != parent_pid else 0)
    first = completed_start(model, start, opts, stop=stop)
    h = model.builder.to_highs()
    interrupt_on(h, stop)
    out = run(h, replace(opts, time_limit=max(MIN_PART_TIME, time_limit - (
        time.perf_counter() - t0))), first if first is not None else start_of(model, start))
    plan = start
    if out.x is not None:
        found = read_plan(model, out.x)
        # the kernel has the last word on the solver's tolerances
        if plan_costs(data, [found]).flags[0] == 0:
            plan = found
    return Part(m, plan, out.bound, out.optimal, time.perf_counter() - t0, _peak_mib())


def _peak_mib() -> float:
    """Peak resident memory of this process (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _InProcess:
    """Parts solved in this process, in turn, as they are submitted."""

    def __init__(self, stop: StopToken):
        self.stop = stop

    def submit(self, fn, *args) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, stop=self.stop))
        except Exception as e:  # a part's failure is the run's to judge (it keeps the start)
            fut.set_exception(e)
        return fut


class _DaskSubmit:
    """Parts as tasks of a dask client (not pure: a part's time limit makes it a new run)."""

    def __init__(self, client):
        self.client = client

    def submit(self, fn, *args):
        return self.client.submit(fn, *args, pure=False)


def _executor(opts: DecomposeOptions, stop: StopToken):
    """Something with ``submit(fn, *args) -> future`` for the parts."""
    if opts.jobs == 1 and opts.backend == "loky":
        return _InProcess(stop)
    client = active_dask_client(opts.backend)
    if client is not None:
        return _DaskSubmit(client)
    return loky_executor(opts.jobs)


def solve_decomposed(inst: Instance, start: Plan, opts: DecomposeOptions, budget: Budget, *,
                     data: KernelData | None = None, pins: Pins | None = None,
                     callback=None) -> tuple[Plan, dict]:
    """Solve the network by material (the module's docstring), within ``budget``.

    Parameters
    ----------
    inst : Instance
    start : Plan
        A feasible plan that honours ``pins`` (the greedy plan, say): each part starts from
        its material's shipments, and a material whose part does not run or fails keeps them.
    opts : DecomposeOptions
    budget : Budget
        The run's: its time limit spreads over the parts (each gets an even share of the time
        left, up to ``opts.part_time``; a part that ends early leaves its time to the
        others), ``opts.polish_share`` of it is kept for the local search; its stop ends the
        run with the plan assembled so far.
    data : KernelData, optional
    pins : Pins, optional
        Every part, and the local search, keep the kept shipments and avoid forbidden ones.
    callback : callable, optional
        ``callback(info)`` as parts come back and after the local search: ``best`` (the
        assembled plan's kernel cost), ``bound``, ``parts_done``, ``parts``; returning True
        ends the run.

    Returns
    -------
    plan : Plan
    info : dict
        ``bound`` (a lower bound on the optimum, money), ``parts``, ``parts_optimal``,
        ``parts_failed``, ``parts_unsolved`` (not given a solve for want of time),
        ``worker_peak_mib``, ``parts_s``, ``polish_s``, ``cost``, ``message``.
    """
    data = data or KernelData(inst)
    pins = pins or Pins.none()
    budget.enter("parts")
    parent = os.getpid()
    t0 = time.perf_counter()
    movable = [m for m in range(inst.n_materials) if inst.listed[:, m].sum() > 1]
    reach = link_periods(inst, movable)
    order = sorted((m for m in movable if reach[m]), key=lambda m: len(reach[m]))
    sharers = Counter(key for m in order for key in reach[m])
    fm = data.base.fm
    own = (fm[:, :, 0] + fm[:, :, 1] + fm[:, :, 2]).sum(axis=0)  # per material, no sharing
    # A material that cannot move costs its own baseline in every plan.
    immovable = float(own.sum() - own[order].sum())
    plans = {m: start.of_material(m) for m in order}
    bounds: dict[int, float] = {}
    info = {"parts": len(order), "parts_failed": 0, "worker_peak_mib": 0.0}
    proven: set[int] = set()
    left = budget.left()
    reserve = opts.polish_share * left if np.isfinite(left) else 0.0
    pool = _executor(opts, budget.token)
    running: dict = {}
    nxt = 0
    last_record = -np.inf
    came_back = False  # a part's plan is in since the assembled plan was last scored
    cancelled = False

    def bound() -> float:
        # a material not solved yet: its cost is at least 0
        return immovable + sum(max(0.0, b) for b in bounds.values())

    def done() -> int:
        return len(bounds) + info["parts_failed"]

    def assembled() -> tuple[Plan, float]:
        plan = Plan.joined(list(plans.values()))
        return plan, float(plan_costs(data, [plan]).cost[0])

    while (nxt < len(order) or running) and not budget.done() and not cancelled:
        while nxt < len(order) and len(running) < opts.jobs:
            left = budget.left() - reserve
            if left < MIN_PART_TIME:
                break
            limit = min(opts.part_time, left,
                        max(MIN_PART_TIME, left * opts.jobs / (len(order) - nxt)))
            m = order[nxt]
            nxt += 1
            prices = {key: float(inst.fixed_cost[key[0]]) / sharers[key] for key in reach[m]
                      if inst.fixed_cost[key[0]] > 0}
            fut = pool.submit(solve_part, one_material(inst, m), m, prices,
                              plans[m].of_material(m, 0), pins.of_material(m), limit, parent)
            running[fut] = m
        if not running:
            break  # no time left for another part
        for fut in [f for f in running if f.done()]:
            m = running.pop(fut)
            try:
                part = fut.result()
            except Exception as e:  # a worker lost, say: the material keeps its start
                info["parts_failed"] += 1
                info.setdefault("first_failure", f"material {m}: {type(e).__name__}: {e}")
                continue
            plans[m] = part.plan.of_material(0, m)
            came_back = True
            bounds[m] = part.bound
            if part.optimal:
                proven.add(m)
            info["worker_peak_mib"] = max(info["worker_peak_mib"], part.peak_mib)
        now = time.perf_counter()
        if came_back and now - last_record >= RECORD_EVERY_S:
            last_record, came_back = now, False
            plan, cost = assembled()
            budget.record(cost, plan)
            cancelled = callback is not None and bool(callback(
                {"best": cost, "bound": bound(), "parts_done": done(), "parts": len(order)}))
        if running:
            budget.token.wait(POLL_S)
    for fut in running:
        fut.cancel()  # a part already running ends at its own time limit
    info["parts_unsolved"] = len(order) - done() - len(running)
    t1 = time.perf_counter()
    plan, cost = assembled()
    budget.record(cost, plan)
    if not cancelled and not budget.done():
        budget.enter("polish")
        # the materials whose parts were not proven optimal first
        first = sorted(order, key=lambda m: (m in proven, len(reach[m])))
        plan, cost = local_search(inst, plan, data=data, pins=pins, budget=budget,
                                  materials=first)
        budget.record(cost, plan)
        if callback is not None and callback({"best": cost, "bound": bound(),
                                              "parts_done": done(), "parts": len(order)}):
            cancelled = True
    info.update(bound=bound(), parts_optimal=len(proven), parts_s=t1 - t0,
                polish_s=time.perf_counter() - t1, cost=cost,
                message="cancelled" if cancelled else (budget.reason() or "done"))
    return plan, info
