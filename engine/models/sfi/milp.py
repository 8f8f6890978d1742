"""The exact SFI model as a MILP solved by HiGHS (docs/models/sfi.md, "Exact formulation").

The dispatch rules are encoded, not relaxed: every draw ``min(remaining demand, remaining
stock)`` has one binary ``e`` ("the demand class is exhausted by this draw"), monotone along the
class's sources. Stage choices are disaggregated: each buffer has one quantity column per
candidate stage, forced to zero off the chosen stage, so every cost is linear.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from ....kernels.sfi_setup import SETUP_EPS
from ... import milp_process
from ...lp import LpOptions
from ...milp import (
    INF,
    LP_START_SHARE,
    MilpOptions,
    MilpOutcome,
    ModelBuilder,
    built_within,
    highs_of,
    run,
)
from ...termination import StopToken
from .instance import Instance, worth_making
from .pins import Pins
from .plan import Plan


@dataclass
class _Buffer:
    """A stock whose quantity per stage is a column (``cols[k]``) or a constant (``const``)."""

    cols: dict = field(default_factory=dict)
    const: dict = field(default_factory=dict)
    ub: float = 0.0
    draws: dict = field(default_factory=dict)  # stage -> list of draw columns
    # Columns whose sum is everything drawn so far, all stages (see _drawn_so_far).
    total: list = field(default_factory=list)
    caps: dict = field(default_factory=dict)  # draw column -> its demand class's upper bound
    setup: dict = field(default_factory=dict)  # stage -> setup binary of the buffer's making
    _stages: list | None = None

    def stages(self) -> list:
        """The stages the buffer may hold stock at, ascending; ``cols`` and ``const`` are
        complete before the first call (the list is kept: the dispatch asks for it at every
        draw)."""
        if self._stages is None:
            self._stages = sorted(set(self.cols) | {k for k, v in self.const.items() if v > 0})
        return self._stages

    def empty(self) -> bool:
        return self.ub <= 0.0 or not self.stages()

    def left(self, k: int, vals: dict) -> float:
        """Stock at stage ``k`` not yet drawn, in the play of ``vals`` (column -> value)."""
        stock = vals[self.cols[k]] if k in self.cols else self.const.get(k, 0.0)
        return max(0.0, stock - sum(vals[a] for a in self.draws.get(k, [])))


@dataclass
class SfiMilp:
    """A built model and the column indices needed to read a plan back."""

    builder: ModelBuilder
    y_g: dict  # (c, t, k) -> column
    g: dict
    z_g: dict
    y_d: dict  # (p, t, k) -> column
    q: dict
    z_d: dict
    # (p, t) -> [(column, scenario weight)]: draws of product p's demand in period t from its
    # category's generic buffer made in t.
    generic_draws: dict = field(default_factory=dict)
    # Units an amount may be made or drawn from carried stock without its setup (see build).
    setup_free: float = 0.0
    # Every column's value in the play of ``build``'s ``start`` plan (None: no start given,
    # or the play broke a row of the model, see build).
    start: np.ndarray | None = None


def build(inst: Instance, plan: Plan | None = None, *, cuts: bool = True,
          rules: bool = True, pins: Pins | None = None, start: Plan | None = None,
          ended: Callable[[], bool] | None = None) -> SfiMilp:
    """Build the MILP of ``inst``; with ``plan``, its decisions are fixed.

    Parameters
    ----------
    inst : Instance
    plan : Plan, optional
        Fix every decision to this plan: the optimum is then the plan's cost. Its setups are
        counted as the kernel counts them, for amounts above ``SETUP_EPS`` units; without a
        plan, for every amount above zero (the solver's tolerance), so that no optimum sits
        on the step at ``SETUP_EPS`` (docs/models/sfi.md, "Setups and round-off").
    cuts : bool
        Add the optimality cuts (demand-reach bounds on new stock and symmetry breaking of
        the stage of empty buffers). They keep at least one optimal plan, but cut off plans
        that could never be optimal, so they are off whenever ``plan`` is given.
    rules : bool
        Encode the dispatch rules (each draw ``min(remaining demand, remaining stock)``).
        Without them the model is a relaxation, the *flow relaxation*: stock may go to any
        demand class, in any amount.
    pins : Pins, optional
        Fix the kept decisions to the warm start's values (the optimality cuts leave their
        buffers alone: a kept empty buffer may sit at any stage).
    start : Plan, optional
        A plan to play along the model as it is built (with ``rules``): the value of every
        column, draws and exhaustion binaries included, in ``SfiMilp.start``, a complete
        start for HiGHS. Given only decisions, HiGHS must solve a MIP over the dispatch
        binaries to complete them, which may take longer than a short time limit. When the
        play breaks a row by more than ``START_TOLERANCE`` (the optimality cuts may cut off
        the plan), ``SfiMilp.start`` is None.
    ended : callable, optional
        Asked as the model grows; when it returns True the build ends by raising
        :class:`invswarm.engine.milp.BuildStopped` (a window of a large instance may take
        longer to build than the time its run has left).
    """
    m = ModelBuilder(ended)
    C, P, T, NS = inst.n_categories, inst.n_products, inst.n_periods, inst.n_scenarios
    use_cuts = cuts and plan is None
    free = SETUP_EPS if plan is not None else 0.0
    if use_cuts:
        ub_g, ub_q = worth_making(inst)
    else:
        ub_g = np.broadcast_to(inst.capacity[None, :], (C, T))
        ub_q = np.broadcast_to(inst.capacity[None, :], (P, T))
    if plan is not None:
        ub_g = np.maximum(ub_g, plan.generic)
        ub_q = np.maximum(ub_q, plan.dedicated)
    pins = pins if pins is not None and not pins.empty else None
    kept_g = kept_d = np.zeros((max(C, P), T), bool)
    if pins is not None:
        kept_g = pins.masks[0] | pins.masks[1]
        kept_d = pins.masks[2] | pins.masks[3]
        ub_g = np.where(pins.masks[1], np.maximum(ub_g, pins.ref.generic), ub_g)
        ub_q = np.where(pins.masks[3], np.maximum(ub_q, pins.ref.dedicated), ub_q)

    y_g, g, z_g, y_d, q, z_d = {}, {}, {}, {}, {}, {}
    for t in range(T):
        cap_idx = []
        for c in range(C):
            kg = inst.usable_pdp(c)
            for k, cols in _stage_choice(m, kg, inst.setup_generic, ub_g[c, t], free).items():
                y_g[c, t, k], z_g[c, t, k], g[c, t, k] = cols
                cap_idx.append(g[c, t, k])
            if use_cuts and not kept_g[c, t]:
                # An empty generic buffer sits at the lowest candidate (frees the CODPs).
                m.row([y_g[c, t, kg[0]]] + [z_g[c, t, k] for k in kg], np.ones(kg.size + 1),
                      lo=1.0)
        for p in range(P):
            c = inst.category[p]
            kg = inst.usable_pdp(c)
            kd = inst.codp_candidates(p)
            for k, cols in _stage_choice(m, kd, inst.setup_dedicated, ub_q[p, t], free).items():
                y_d[p, t, k], z_d[p, t, k], q[p, t, k] = cols
                cap_idx.append(q[p, t, k])
                # CODP at or after the PDP.
                below = [y_g[c, t, j] for j in kg if j <= k]
                m.row([y_d[p, t, k]] + below, [1.0] + [-1.0] * len(below), hi=0.0)
            if use_cuts and not kept_d[p, t]:
                # An empty dedicated buffer sits at the first candidate at or after the PDP.
                zs = [z_d[p, t, k] for k in kd]
                prev = -1
                for k in kd:
                    window = [y_g[c, t, j] for j in kg if prev < j <= k]
                    m.row([y_d[p, t, k]] + zs + window,
                          [1.0] + [-1.0] * (len(zs) + len(window)), hi=0.0)
                    prev = k
        m.row(cap_idx, np.ones(len(cap_idx)), hi=inst.capacity[t])

    if plan is not None:
        for j, v in _decision_values(plan, y_g, g, z_g, y_d, q, z_d, free):
            m.fix(j, v)
    elif pins is not None:
        _fix_kept(m, pins, y_g, g, z_g, y_d, q, z_d)

    vals = None
    if start is not None and rules:
        vals = dict(_decision_values(start, y_g, g, z_g, y_d, q, z_d, free))
    generic_draws: dict = {}
    for s in range(NS):
        _dispatch(m, inst, s, g, z_g, q, z_d, ub_g, ub_q, rules, free, generic_draws, vals)
    x = None
    if vals is not None:
        x = np.zeros(m.n_cols)
        x[list(vals)] = list(vals.values())
        if m.violation(x) > START_TOLERANCE:
            x = None
    return SfiMilp(m, y_g, g, z_g, y_d, q, z_d, generic_draws, free, x)


#: Largest breach of a row or bound (in its own units) that a played start may have; HiGHS
#: checks it against its own feasibility tolerance.
START_TOLERANCE = 1e-9


def _stage_choice(m: ModelBuilder, stages: np.ndarray, setup: np.ndarray, ub: float,
                  free: float) -> dict:
    """Columns of one buffer in one period: per candidate stage ``k`` the choice ``y``, the setup
    ``z <= y`` (cost ``setup[k]``) and the quantity ``x <= free + ub z`` (``free``: the units
    made without a setup, see :func:`build`); exactly one stage is chosen. Returns
    ``{k: (y, z, x)}``."""
    cols = {}
    for k in stages:
        y = m.binary()
        z = m.binary(cost=setup[k])
        x = m.col(0.0, ub)
        m.row([x, z], [1.0, -ub], hi=free)
        m.row([z, y], [1.0, -1.0], hi=0.0)
        cols[k] = (y, z, x)
    m.row([cols[k][0] for k in stages], np.ones(len(stages)), 1.0, 1.0)
    return cols


def _decision_values(plan: Plan, y_g, g, z_g, y_d, q, z_d, free: float):
    """``(column, value)`` of every decision column for ``plan``: stage choices, quantities at
    the chosen stage (zero elsewhere) and setups (one where more than ``free`` units are
    made)."""
    for stage, qty, y, x, z in ((plan.pdp, plan.generic, y_g, g, z_g),
                                (plan.codp, plan.dedicated, y_d, q, z_d)):
        for (r, t, k), j in y.items():
            on = stage[r, t] == k
            v = float(qty[r, t]) if on else 0.0
            yield j, float(on)
            yield x[r, t, k], v
            yield z[r, t, k], float(v > free)


def _fix_kept(m: ModelBuilder, pins: Pins, y_g, g, z_g, y_d, q, z_d) -> None:
    """Fix the kept stages and quantities (a kept quantity's setup follows from it)."""
    ref = pins.ref
    kept_pdp, kept_gen, kept_codp, kept_ded = pins.masks
    for stage, qty, kept_k, kept_x, y, x in (
            (ref.pdp, ref.generic, kept_pdp, kept_gen, y_g, g),
            (ref.codp, ref.dedicated, kept_codp, kept_ded, y_d, q)):
        for (r, t, k), j in y.items():
            if kept_k[r, t]:
                m.fix(j, float(stage[r, t] == k))
            if kept_x[r, t]:
                # the quantity at the kept stage; off it, zero (whatever the stage)
                on = kept_k[r, t] and stage[r, t] == k
                if on or qty[r, t] == 0.0:
                    m.fix(x[r, t, k], float(qty[r, t]) if on else 0.0)
        for r, t in zip(*np.nonzero(kept_x & ~kept_k)):
            # a kept quantity at a free stage: whichever stage is chosen holds it
            cols = [x[r, t, k] for (rr, tt, k) in y if rr == r and tt == t]
            m.row(cols, np.ones(len(cols)), float(qty[r, t]), float(qty[r, t]))


def _dispatch(m: ModelBuilder, inst: Instance, s: int, g, z_g, q, z_d, ub_g, ub_q,
              rules: bool, free: float, generic_draws: dict, vals: dict | None = None) -> None:
    """Rows and columns of the order dispatch of scenario ``s`` over all periods (without
    ``rules``, the draws are free: see :func:`build`; ``free``: the units drawn from a
    buffer without its setup or re-setup); the draws from new generic buffers are added to
    ``generic_draws`` (see :class:`SfiMilp`). With ``vals`` (column -> value, holding the
    decision columns), the rules are played as the columns are made and each new column's
    value joins ``vals``."""
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    w = float(inst.weights[s])
    r = inst.remaining
    omega = inst.disposal_rate
    order = inst.order
    d = inst.orders[s]

    carried_g = [_Buffer(const={int(inst.init_generic_stage[c]): float(inst.init_generic_qty[c])},
                         ub=float(inst.init_generic_qty[c])) for c in range(C)]
    carried_d = [_Buffer(const={int(inst.init_dedicated_stage[p]):
                                float(inst.init_dedicated_qty[p])},
                         ub=float(inst.init_dedicated_qty[p])) for p in range(P)]
    # Backlog of each product: (column or None, constant, upper bound).
    backlog = [(None, float(inst.init_backlog[p]), float(inst.init_backlog[p]))
               for p in range(P)]

    for t in range(T):
        A, B = inst.prep[t], inst.fulfil[t]
        lam_prev = inst.prep[t - 1] + inst.fulfil[t - 1] if t > 0 else inst.prep[0] + inst.fulfil[0]
        last = t == T - 1
        new_g = [_Buffer(cols={k: g[c, t, k] for k in inst.usable_pdp(c)},
                         setup={k: z_g[c, t, k] for k in inst.usable_pdp(c)},
                         ub=float(ub_g[c, t])) for c in range(C)]
        new_d = [_Buffer(cols={k: q[p, t, k] for k in inst.codp_candidates(p)},
                         setup={k: z_d[p, t, k] for k in inst.codp_candidates(p)},
                         ub=float(ub_q[p, t])) for p in range(P)]
        mto = _Buffer(const={0: float(inst.mto_capacity[t])}, ub=float(inst.mto_capacity[t]))
        next_backlog = []

        for p in order:
            c = inst.category[p]
            L = inst.lead_time[p]
            beta = inst.delay_penalty[p]
            # The sources of a demand class, in the order the rules draw from them.
            sources = [carried_d[p], new_d[p], carried_g[c], new_g[c], mto]
            for is_new in (False, True):
                if is_new:
                    dcol, dconst, dub = None, float(d[p, t]), float(d[p, t])
                    extra = 0.0
                else:
                    dcol, dconst, dub = backlog[p]
                    extra = lam_prev
                served_idx: list[int] = []
                ontime_idx: list[int] = []
                prev_e = None
                if vals is not None:
                    # demand of the class not yet served, in the play
                    want = dconst + (vals[dcol] if dcol is not None else 0.0)
                if dub > 0:
                    for buf in sources:
                        if buf.empty():
                            continue
                        drawn = []
                        for k in buf.stages():
                            late = max(0.0, r[k] - L) + extra
                            a = m.col(0.0, min(buf.ub, dub), w * beta * late)
                            if vals is not None:
                                vals[a] = min(want, buf.left(k, vals))
                                want -= vals[a]
                            drawn.append(a)
                            buf.draws.setdefault(k, []).append(a)
                            buf.caps[a] = dub
                            if k in buf.setup:
                                # Facility-location strengthening: a draw needs the buffer to
                                # have been set up, and takes at most its class's demand.
                                m.row([a, buf.setup[k]], [1.0, -dub], hi=free)
                            if is_new and late <= 0.0:
                                ontime_idx.append(a)
                        served_idx.extend(drawn)
                        if buf is new_g[c]:
                            generic_draws.setdefault((p, t), []).extend((a, w) for a in drawn)
                        if not rules:
                            continue
                        e = m.binary()
                        if vals is not None:
                            vals[e] = float(want <= 0.0)
                        # Demand exhausted after this draw when e = 1:
                        #   served so far >= D - MD (1 - e).
                        dem_idx = served_idx + [e] + ([dcol] if dcol is not None else [])
                        dem_val = [1.0] * len(served_idx) + [-dub] + ([-1.0] if dcol is not None
                                                                       else [])
                        m.row(dem_idx, dem_val, lo=dconst - dub)
                        # Source exhausted when e = 0: drawn >= stock left - MS e.
                        total = _drawn_so_far(m, buf, drawn, vals)
                        stock_cols = [buf.cols[k] for k in buf.cols]
                        const = sum(buf.const.values())
                        m.row(total + stock_cols + [e],
                              [1.0] * len(total) + [-1.0] * len(stock_cols) + [buf.ub],
                              lo=const)
                        if prev_e is not None:
                            m.row([e, prev_e], [1.0, -1.0], lo=0.0)
                        prev_e = e
                # What is not served: lost (backlog class, or orders at the horizon) or the
                # next period's backlog.
                lost = not is_new or last
                u = m.col(0.0, dub, w * inst.lost_penalty[p] if lost else 0.0)
                if vals is not None:
                    vals[u] = want
                idx = served_idx + [u] + ([dcol] if dcol is not None else [])
                val = [1.0] * (len(served_idx) + 1) + ([-1.0] if dcol is not None else [])
                m.row(idx, val, dconst, dconst)
                if is_new:
                    next_backlog.append((p, u, dub))
                    target = inst.service_level[p] * d[p, t]
                    if target > 0:
                        sf = m.col(0.0, target, w * inst.service_penalty[p])
                        if vals is not None:
                            vals[sf] = max(0.0, target - sum(vals[a] for a in ontime_idx))
                        m.row([sf] + ontime_idx, np.ones(1 + len(ontime_idx)), lo=target)

        # Make-to-order capacity shared by every class.
        mto_draws = mto.draws.get(0, [])
        if mto_draws:
            m.row(mto_draws, np.ones(len(mto_draws)), hi=float(inst.mto_capacity[t]))

        # Carried buffers: prep and fulfilment holding, re-setup when used, disposal.
        for buf in carried_g + carried_d:
            _close_carried(m, inst, buf, w, A, B, omega, free, vals)
        # New buffers: leftover carries over (or is disposed at the horizon).
        carried_g = [_close_new(m, inst, b, w, B, omega, last, vals) for b in new_g]
        carried_d = [_close_new(m, inst, b, w, B, omega, last, vals) for b in new_d]
        next_backlog.sort()
        backlog = [(u, 0.0, dub) if dub > 0 else (None, 0.0, 0.0) for _, u, dub in next_backlog]


#: Longest list of columns kept for a buffer's draws so far before they are summed into one
#: column.
_SUM_AFTER = 4


def _drawn_so_far(m: ModelBuilder, buf: _Buffer, drawn: list, vals: dict | None) -> list:
    """Columns whose sum is all ``buf`` has given up to and including ``drawn``.

    A buffer shared by many demand classes (the make-to-order capacity, a generic buffer)
    would otherwise repeat every earlier draw in each later class's exhaustion row, which
    makes the model's size quadratic in the classes. Once the list grows past
    :data:`_SUM_AFTER`, a running-sum column (defined by an equality row) replaces it; the
    relaxation is the same. With ``vals``, the running sum's value joins it.
    """
    total = buf.total + drawn
    if len(total) > _SUM_AFTER:
        s = m.col(0.0, buf.ub)
        if vals is not None:
            vals[s] = sum(vals[a] for a in total)
        m.row([s] + total, [1.0] + [-1.0] * len(total), 0.0, 0.0)
        total = [s]
    buf.total = total
    return total


def _close_carried(m, inst, buf: _Buffer, w, A, B, omega, free, vals: dict | None):
    """Costs of a carried buffer over one period (a re-setup when more than ``free`` units are
    drawn); its leftover is disposed. With ``vals``, the new columns' values join it."""
    for k in buf.stages():
        draws = buf.draws.get(k, [])
        hk = inst.hold[k]
        col = buf.cols.get(k)
        const = buf.const.get(k, 0.0)
        # Holding: A * stock + B/2 * (stock + leftover); disposal of the leftover.
        stock_coef = w * hk * (A + B / 2)
        left = m.col(0.0, buf.ub, w * (hk * B / 2 + omega * inst.value[k]))
        if vals is not None:
            vals[left] = buf.left(k, vals)
        if col is not None:
            m.cost[col] += stock_coef
            m.row([left, col] + draws, [1.0, -1.0] + [1.0] * len(draws), 0.0, 0.0)
        else:
            m.offset += stock_coef * const
            m.row([left] + draws, np.ones(1 + len(draws)), const, const)
        if draws and inst.setup_reuse[k] > 0:
            zr = m.binary(cost=w * inst.setup_reuse[k])
            if vals is not None:
                vals[zr] = float(sum(vals[a] for a in draws) > free)
            m.row(draws + [zr], [1.0] * len(draws) + [-buf.ub], hi=free)
            for a in draws:
                m.row([a, zr], [1.0, -buf.caps[a]], hi=free)


def _close_new(m, inst, buf: _Buffer, w, B, omega, last, vals: dict | None) -> _Buffer:
    """Costs of a new buffer over its period; returns it as next period's carried buffer.
    With ``vals``, the new columns' values join it."""
    nxt = _Buffer(ub=buf.ub)
    for k, col in buf.cols.items():
        draws = buf.draws.get(k, [])
        hk = inst.hold[k]
        left_cost = w * hk * B / 2 + (w * omega * inst.value[k] if last else 0.0)
        left = m.col(0.0, buf.ub, left_cost)
        if vals is not None:
            vals[left] = buf.left(k, vals)
        m.cost[col] += w * hk * B / 2
        m.row([left, col] + draws, [1.0, -1.0] + [1.0] * len(draws), 0.0, 0.0)
        nxt.cols[k] = left
    return nxt


def solve(inst: Instance, opts: MilpOptions | None = None, warm_start: Plan | None = None,
          *, cuts: bool = True, stop: StopToken | None = None, pins: Pins | None = None,
          progress=None) -> tuple[Plan | None, MilpOutcome]:
    """Solve the exact model (with ``pins``: the kept decisions fixed); returns the plan read
    from the incumbent (cleaned) and the outcome. HiGHS runs in a child process, ended
    shortly after the time limit where HiGHS overruns it, or when ``stop`` is set
    (:mod:`invswarm.engine.milp_process`). ``progress`` gets the solver's trace points as it
    reports them (:func:`invswarm.engine.milp_process.solve`). The model's build counts
    against the time limit: when it takes it all, or ``stop`` is set meanwhile, there is no
    plan (:func:`invswarm.engine.milp_process.not_started`)."""
    opts = opts or MilpOptions()
    model = milp_process.built_in_time(
        partial(build, inst, cuts=cuts, pins=pins, start=warm_start), opts, stop)
    if model is None:
        return None, milp_process.not_started(stop)
    start = start_of(model, warm_start) if warm_start is not None else None
    out = milp_process.solve(model.builder, opts, start, stop, progress)
    plan = read_plan(model, inst, out.x).cleaned() if out.x is not None else None
    return plan, out


def fixed_plan_objective(inst: Instance, plan: Plan, opts: MilpOptions | None = None
                         ) -> MilpOutcome:
    """Optimal objective of the MILP with every decision fixed to ``plan``.

    The model is feasible (the plan's play is a solution), yet HiGHS's presolve, at the
    tolerances of :func:`~invswarm.engine.milp.run`, declares some of these models infeasible
    when their stock holds tiny amounts, of 1e-9 to a few 1e-6 units (docs/models/sfi.md,
    "Setups and round-off"): such a model is solved again without presolve. (Presolve stays first:
    without it HiGHS declares others infeasible, such as the 24-period steel case with a
    random plan.)"""
    arrays = build(inst, plan).builder.arrays()
    opts = opts or MilpOptions()
    out = run(highs_of(arrays), opts)
    if out.status == "Infeasible":
        h = highs_of(arrays)
        h.setOptionValue("presolve", "off")
        out = run(h, opts)
    return out


def relaxation_bound(inst: Instance, time_limit: float = 60.0) -> float:
    """The optimum of the MILP's linear relaxation (every binary in [0, 1]): the bound the
    exact solver starts from, before cuts and branching; NaN when the LP is not solved within
    ``time_limit`` seconds."""
    return relaxation(inst, time_limit)[0]


def relaxation(inst: Instance, time_limit: float | None = 60.0, *, rules: bool = True,
               stop: StopToken | None = None, max_simplex: int | None = None
               ) -> tuple[float, Plan | None]:
    """The linear relaxation's optimum (a lower bound on every plan's cost) and a plan rounded
    from its solution (:func:`round_relaxed`); ``(nan, None)`` when the model is not built
    and its LP solved within ``time_limit`` seconds (None: no limit). Without ``rules``, the
    relaxation of the flow relaxation (:func:`build`): a smaller LP. ``stop``, when set,
    interrupts the LP (no plan then); ``max_simplex`` bounds its simplex iterations."""
    solved = solve_relaxation(inst, time_limit, rules=rules, stop=stop, max_simplex=max_simplex)
    if solved is None:
        return float("nan"), None
    value, model, x = solved
    return value, round_relaxed(model, inst, x)


def solve_relaxation(inst: Instance, time_limit: float | None = 60.0, *, rules: bool = True,
                     stop: StopToken | None = None, max_simplex: int | None = None
                     ) -> tuple[float, SfiMilp, np.ndarray] | None:
    """The linear relaxation of :func:`relaxation`: its optimum, the model and the solution's
    column values, or None when not built and solved within ``time_limit`` seconds (and
    ``max_simplex`` simplex iterations)."""
    until = None if time_limit is None else time.perf_counter() + time_limit
    model = built_within(partial(build, inst, rules=rules), until, stop, LP_START_SHARE)
    if model is None:  # not built, or too late for HiGHS to start
        return None
    solved = milp_process.solve_lp(model.builder, LpOptions(max_simplex=max_simplex), until,
                                   stop)
    return None if solved is None else (solved.objective, model, solved.x)


def round_relaxed(model: SfiMilp, inst: Instance, x: np.ndarray, *,
                  unpool: bool | None = None) -> Plan:
    """A feasible plan from a solution of the relaxation, where a buffer may be spread over
    several stages: each buffer at the stage holding most of its quantity (by the choice
    variables when it holds none), with all of its quantity, rounded down to whole units;
    each CODP among the candidates at or after its PDP. With ``unpool``, what the solution
    draws from a category's new generic buffer for each product is made as that product's
    dedicated stock instead (:func:`_unpool`); by default (None) when the instance has one
    order scenario. (With several, the pooled buffer hedges the scenarios against each other,
    which one share per product gives up: on small generated instances of 8 and 16 scenarios
    the pooled rounding was the cheaper plan and the better start for our PSO, see
    docs/models/sfi.md, "Unpooling".) Rounding down keeps the capacity; a period still over it
    (by the LP's tolerance) is scaled down."""
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    pdp = np.empty((C, T), np.int64)
    gen = np.zeros((C, T))
    codp = np.empty((P, T), np.int64)
    ded = np.zeros((P, T))

    def pick(stages, qty_cols, choice_cols, allowed):
        qty = np.maximum(x[qty_cols], 0.0)
        score = np.where(allowed, qty if qty.sum() > 0.5 else x[choice_cols], -1.0)
        return stages[int(np.argmax(score))], np.floor(qty.sum() + 1e-6)

    for t in range(T):
        for c in range(C):
            kg = inst.usable_pdp(c)
            pdp[c, t], gen[c, t] = pick(kg, [model.g[c, t, k] for k in kg],
                                        [model.y_g[c, t, k] for k in kg], True)
        for p in range(P):
            kd = inst.codp_candidates(p)
            codp[p, t], ded[p, t] = pick(kd, [model.q[p, t, k] for k in kd],
                                         [model.y_d[p, t, k] for k in kd],
                                         kd >= pdp[inst.category[p], t])
    if unpool or (unpool is None and inst.n_scenarios == 1):
        _unpool(model, inst, x, pdp, gen, codp, ded)
    for t in range(T):
        used = gen[:, t].sum() + ded[:, t].sum()
        if used > inst.capacity[t]:
            scale = inst.capacity[t] / used
            gen[:, t] = np.floor(gen[:, t] * scale)
            ded[:, t] = np.floor(ded[:, t] * scale)
    return Plan(pdp, gen, codp, ded)


def _unpool(model: SfiMilp, inst: Instance, x: np.ndarray, pdp, gen, codp, ded) -> None:
    """Turn the generic stock a solution of the flow relaxation hands to each product into
    that product's dedicated stock, in place (arrays of :class:`Plan`, rounded).

    The relaxation gives a category's generic buffer to whichever of its products it likes;
    the dispatch rules give it in priority order, so the first products take what the
    relaxation meant for the others, late for themselves or beyond their service level, and
    the others fall short. As dedicated stock each product gets its share. The generic
    buffer keeps what the relaxation does not draw in its period (what it carries to the
    next), and a product whose share exceeds its own dedicated quantity moves its CODP to
    the PDP where that is one of its candidates, so that its stock stays at the stage the
    relaxation made most of it at. With several scenarios the share is the weighted mean of
    the scenarios' draws. On generated 30 x 10 x 52 instances (seeds 1 to 3) the local
    search, given 30 s, ended 0.25 to 0.83 % lower from this plan than from the pooled one
    (docs/models/sfi.md, "Relax and round").
    """
    share = np.zeros(ded.shape)
    for (p, t), cols in model.generic_draws.items():
        share[p, t] = sum(w * max(x[j], 0.0) for j, w in cols)
    per_category = np.zeros(gen.shape)
    np.add.at(per_category, inst.category, share)
    for p in range(inst.n_products):
        c = inst.category[p]
        kd = inst.codp_candidates(p)
        moves = (share[p] > ded[p]) & np.isin(pdp[c], kd)
        codp[p, moves] = pdp[c, moves]
    ded[:] = np.floor(ded + share + 1e-6)
    gen[:] = np.floor(np.maximum(gen - per_category, 0.0) + 1e-6)


def read_plan(model: SfiMilp, inst: Instance, x: np.ndarray) -> Plan:
    """The plan of a solution vector: chosen stages and the quantities at them."""
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    pdp = np.empty((C, T), np.int64)
    gen = np.zeros((C, T))
    codp = np.empty((P, T), np.int64)
    ded = np.zeros((P, T))
    for t in range(T):
        for c in range(C):
            kg = inst.usable_pdp(c)
            k = kg[int(np.argmax([x[model.y_g[c, t, j]] for j in kg]))]
            pdp[c, t] = k
            gen[c, t] = max(0.0, x[model.g[c, t, k]])
        for p in range(P):
            kd = inst.codp_candidates(p)
            k = kd[int(np.argmax([x[model.y_d[p, t, j]] for j in kd]))]
            codp[p, t] = k
            ded[p, t] = max(0.0, x[model.q[p, t, k]])
    return Plan(pdp, gen, codp, ded)


def start_of(model: SfiMilp, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """A start for HiGHS: every column of the model's played start when it has one (``plan``
    given to :func:`build` as ``start``), else ``plan``'s decision columns, a partial
    solution for HiGHS to complete."""
    if model.start is not None:
        return np.arange(model.start.size), model.start
    pairs = list(_decision_values(plan, model.y_g, model.g, model.z_g, model.y_d, model.q,
                                  model.z_d, model.setup_free))
    return np.array([j for j, _ in pairs]), np.array([v for _, v in pairs])


__all__ = ["INF", "MilpOptions", "build", "fixed_plan_objective", "read_plan",
           "relaxation", "relaxation_bound", "round_relaxed", "solve", "start_of"]
