"""The PSO driver: options, terminations, swarm state, ask/tell, and the fused run.

The driver owns the only random generator: the initial swarm comes from
``numpy.random.default_rng(seed)``, every later random number from the counter-based stream of
``invswarm.kernels.pso`` keyed by (seed, iteration, particle, dimension). A fixed seed and an
iteration budget therefore give the same result on any number of threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..kernels import pso as kpso
from .termination import Budget, StopToken, halt_on

#: Iterations over which the inertia falls when the run has no iteration budget.
SCHEDULE_ITER = 1000
#: Most particles in one swarm: far beyond what helps (swarms of tens to hundreds), and a
#: bound that stops a typo from asking for all the memory (positions, velocities and personal
#: bests are three arrays of particles x variables).
MAX_SWARM = 100_000


@dataclass(frozen=True)
class PsoOptions:
    """Options of one swarm.

    Attributes
    ----------
    swarm_size : int
        Particles (32, as :class:`~invswarm.engine.run_setup.SolveOptions` and the command
        line).
    max_iter, max_evals, time_limit : int, int, float or None
        Terminations: iterations, evaluations, wall seconds; the first reached ends the run.
    stall_iter, ftol : int or None, float
        Stall termination: no relative improvement above ``ftol`` of the best cost in
        ``stall_iter`` iterations.
    topology : {"gbest", "ring"}
        Global best, or the best of ``ring_k`` neighbours on each side.
    schedule : {"inertia", "constriction"}
        Linearly falling inertia ``w0 -> w1`` with ``c1 = c2 = 2`` (Shi & Eberhart), or Clerc's
        constriction (``chi = 0.7298``, ``c1 = c2 = 2.05``).
    vmax : float
        Velocity bound per dimension (the cube has side 1).
    boundary : {"reflect", "clip"}
    seed : int
    chunk : int
        Iterations per call of the fused loop between terminations and callbacks are checked.
    history : bool
        Keep the best cost of every iteration.
    """

    swarm_size: int = 32
    max_iter: int | None = 200
    max_evals: int | None = None
    time_limit: float | None = None
    stall_iter: int | None = None
    ftol: float = 1e-6
    topology: str = "gbest"
    ring_k: int = 2
    schedule: str = "constriction"
    w0: float = 0.9
    w1: float = 0.4
    vmax: float = 0.2
    boundary: str = "reflect"
    seed: int = 0
    chunk: int = 10
    history: bool = False

    def __post_init__(self):
        if self.swarm_size < 2:
            raise ValueError(f"swarm_size: must be >= 2, got {self.swarm_size}")
        if self.swarm_size > MAX_SWARM:
            raise ValueError(f"swarm_size: must be <= {MAX_SWARM:,}, got {self.swarm_size:,}")
        if self.max_iter is None and self.max_evals is None and self.time_limit is None \
                and self.stall_iter is None:
            raise ValueError("max_iter: give at least one termination (max_iter, max_evals, "
                             "time_limit or stall_iter)")
        for name in ("max_iter", "max_evals", "stall_iter"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name}: must be >= 1, got {v}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError(f"time_limit: must be > 0, got {self.time_limit}")
        if self.topology not in ("gbest", "ring"):
            raise ValueError(f"topology: must be 'gbest' or 'ring', got {self.topology!r}")
        if self.schedule not in ("inertia", "constriction"):
            raise ValueError(f"schedule: must be 'inertia' or 'constriction', "
                             f"got {self.schedule!r}")
        if self.boundary not in ("reflect", "clip"):
            raise ValueError(f"boundary: must be 'reflect' or 'clip', got {self.boundary!r}")
        if not 0 < self.vmax <= 1:
            raise ValueError(f"vmax: must lie in (0, 1], got {self.vmax}")
        if self.topology == "ring" and not 1 <= 2 * self.ring_k + 1 <= self.swarm_size:
            raise ValueError(f"ring_k: must lie in [1, (swarm_size - 1) / 2], got {self.ring_k}")
        if self.chunk < 1:
            raise ValueError(f"chunk: must be >= 1, got {self.chunk}")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed: must lie in [0, 2**63), got {self.seed}")

    # Parameters as the kernels take them.
    @property
    def topology_code(self) -> int:
        return kpso.GBEST if self.topology == "gbest" else kpso.RING

    @property
    def boundary_code(self) -> int:
        return kpso.REFLECT if self.boundary == "reflect" else kpso.CLIP

    @property
    def chi(self) -> float:
        return 0.7298 if self.schedule == "constriction" else 1.0

    @property
    def c1(self) -> float:
        """Cognitive and social weight (the same for both)."""
        return 2.05 if self.schedule == "constriction" else 2.0

    @property
    def inertia(self) -> tuple[float, float]:
        return (1.0, 1.0) if self.schedule == "constriction" else (self.w0, self.w1)


@dataclass
class SwarmState:
    """A swarm: positions, velocities, personal best positions (NP, n; in the unit cube),
    personal best costs, the last costs (NP,) and each particle's neighbourhood best (NP,)."""

    position: np.ndarray
    velocity: np.ndarray
    best_position: np.ndarray
    best_cost: np.ndarray
    cost: np.ndarray
    neighbour: np.ndarray

    @property
    def best(self) -> int:
        return int(np.argmin(self.best_cost))


@dataclass
class PsoOutcome:
    """Result of a run: best particle and cost, counts, wall time, and (when asked) the
    history as ``(iteration, best cost)`` pairs."""

    x: np.ndarray
    cost: float
    nit: int
    nfev: int
    wall_s: float
    message: str
    history: list = field(default_factory=list)


class _Params:
    """Kernel parameters of a run (a plain record, built once)."""

    def __init__(self, opts: PsoOptions):
        self.seed = int(opts.seed)
        self.topology_code = opts.topology_code
        self.ring_k = int(opts.ring_k)
        self.w0, self.w1 = opts.inertia
        self.c1 = self.c2 = opts.c1
        self.chi = opts.chi
        self.vmax = float(opts.vmax)
        self.boundary_code = opts.boundary_code


def check_seeds(seeds, n_var: int) -> list[np.ndarray]:
    """``seeds`` as particles of ``n_var`` finite values (clipped to the unit cube); raises
    ValueError naming the first bad one."""
    out = []
    for i, x in enumerate(seeds):
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (n_var,):
            raise ValueError(f"seeds[{i}]: expected a particle of {n_var} values, "
                             f"got shape {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError(f"seeds[{i}]: values must be finite")
        out.append(np.clip(x, 0.0, 1.0))
    return out


def evaluate_until(problem, X: np.ndarray, ended: Callable[[], bool] | None = None
                   ) -> tuple[np.ndarray, int]:
    """The costs of the particles ``X`` (shape (P, n_var)) and how many were evaluated. A
    problem slow to evaluate has a ``slice`` (particles per call): the first slice is always
    evaluated, the next while ``ended()`` is False, so that a run ends within a slice of its
    deadline or stop. Particles not reached cost inf: they keep their personal bests."""
    k = getattr(problem, "slice", None)
    if k is None or ended is None:
        return problem.evaluate(X), len(X)
    cost = np.full(len(X), np.inf)
    for a in range(0, len(X), k):
        if a and ended():
            return cost, a
        cost[a:a + k] = problem.evaluate(X[a:a + k])
    return cost, len(X)


def initial_swarm(problem, opts: PsoOptions, seeds: list[np.ndarray] = (),
                  ended: Callable[[], bool] | None = None) -> tuple[SwarmState, int]:
    """A random swarm from ``default_rng(seed)``, with the given particles placed first, and
    the number of its particles evaluated (all, unless ``ended`` cut a slow problem's
    evaluation short: :func:`evaluate_until`)."""
    rng = np.random.default_rng(opts.seed)
    n = problem.n_var
    X = rng.random((opts.swarm_size, n))
    V = rng.uniform(-opts.vmax, opts.vmax, size=(opts.swarm_size, n))
    for i, x in enumerate(check_seeds(seeds, n)[:opts.swarm_size]):
        X[i] = x
        V[i] = 0.0
    cost, evaluated = evaluate_until(problem, X, ended)
    return SwarmState(position=X, velocity=V, best_position=X.copy(), best_cost=cost.copy(),
                      cost=cost, neighbour=np.zeros(opts.swarm_size, dtype=np.int64)), evaluated


class Swarm:
    """Ask / tell interface for callers that evaluate particles themselves.

    ``ask()`` moves the swarm one step and returns the positions to evaluate (a copy);
    ``tell(costs)`` records their costs. The step is the same as the fused run's.
    """

    def __init__(self, n_var: int, opts: PsoOptions, X0: np.ndarray, cost0: np.ndarray):
        self.opts = opts
        self._p = _Params(opts)
        X0 = np.ascontiguousarray(X0, dtype=np.float64)
        if X0.shape != (opts.swarm_size, n_var):
            raise ValueError(f"X0: expected shape ({opts.swarm_size}, {n_var}), got {X0.shape}")
        cost0 = np.asarray(cost0, dtype=np.float64)
        rng = np.random.default_rng(opts.seed)
        self.state = SwarmState(
            position=X0.copy(), velocity=rng.uniform(-opts.vmax, opts.vmax, X0.shape),
            best_position=X0.copy(), best_cost=cost0.copy(), cost=cost0.copy(),
            neighbour=np.zeros(opts.swarm_size, dtype=np.int64))
        self.iteration = 0
        self._asked = False

    def ask(self) -> np.ndarray:
        if self._asked:
            raise RuntimeError("ask() called twice without tell()")
        schedule = self.opts.max_iter if self.opts.max_iter is not None else SCHEDULE_ITER
        _move(self.state, self._p, self.iteration, schedule)
        self._asked = True
        return self.state.position.copy()

    def tell(self, costs: np.ndarray) -> None:
        if not self._asked:
            raise RuntimeError("tell() called before ask()")
        costs = np.asarray(costs, dtype=np.float64)
        if costs.shape != (self.opts.swarm_size,):
            raise ValueError(f"costs: expected shape ({self.opts.swarm_size},), "
                             f"got {costs.shape}")
        self.state.cost[:] = costs
        s = self.state
        kpso.tell(s.position, s.cost, s.best_position, s.best_cost)
        self.iteration += 1
        self._asked = False

    @property
    def best(self) -> tuple[np.ndarray, float]:
        i = self.state.best
        return self.state.best_position[i].copy(), float(self.state.best_cost[i])


def gain_below(ref: float, ftol: float) -> float:
    """The cost a new best must be under to count as a gain over ``ref`` for the stall
    termination: a relative improvement above ``ftol``."""
    return ref - ftol * max(abs(ref), 1e-12)


def run(problem, opts: PsoOptions, *, seeds: list[np.ndarray] = (), state: SwarmState | None
        = None, it0: int = 0, schedule_iter: int | None = None,
        callback: Callable[[dict], bool | None] | None = None, stop: StopToken | None = None,
        budget: Budget | None = None) -> tuple[PsoOutcome, SwarmState]:
    """Run the fused swarm until a termination; returns the outcome and the final state.

    ``callback(info)`` is called after every chunk of iterations with ``iteration``,
    ``evaluations``, ``best``, ``x`` (the best particle) and ``elapsed``; returning True
    cancels the run. ``stop``, when set, ends the run before the next chunk (its reason is the
    message). ``budget``, the whole run's, is charged the swarm's evaluations and told its
    best cost after every chunk; its termination ends the run too (a chunk is shortened to
    the evaluations it has left).
    ``state`` and ``it0`` continue an earlier run (islands use this between migrations);
    ``schedule_iter`` is the length of the whole run, over which the inertia falls (default:
    ``it0 + max_iter``).
    """
    t0 = time.perf_counter()
    params = _Params(opts)
    halt_on(problem, stop, budget.token if budget is not None else None)

    def ended() -> bool:
        return ((stop is not None and stop.stopped) or (budget is not None and budget.done())
                or (opts.time_limit is not None and time.perf_counter() - t0 >= opts.time_limit))

    if state is None:
        state, nfev = initial_swarm(problem, opts, seeds, ended)
        if budget is not None:
            budget.spend(nfev)
            budget.record(float(state.best_cost.min()))
    else:
        nfev = 0
    history: list[tuple[int, float]] = []
    best = float(state.best_cost.min())
    ref = best  # the best the stall termination last counted as a gain
    last_gain_it, it, message = it0, it0, ""
    if schedule_iter is None:
        schedule_iter = it0 + (opts.max_iter if opts.max_iter is not None else SCHEDULE_ITER)
    while True:
        if stop is not None and stop.stopped:
            message = stop.reason
            break
        if budget is not None and (why := budget.reason()) is not None:
            message = why
            break
        if opts.max_iter is not None and it - it0 >= opts.max_iter:
            message = "max_iter"
            break
        if opts.max_evals is not None and nfev + opts.swarm_size > opts.max_evals:
            message = "max_evals"
            break
        if opts.time_limit is not None and time.perf_counter() - t0 >= opts.time_limit:
            message = "time_limit"
            break
        n = opts.chunk
        if opts.max_iter is not None:
            n = min(n, opts.max_iter - (it - it0))
        if opts.max_evals is not None:
            n = min(n, (opts.max_evals - nfev) // opts.swarm_size)
        if budget is not None and budget.max_evals is not None:
            n = min(n, int(budget.evals_left() // opts.swarm_size))
            if n < 1:
                message = "max_evals"
                break
        if hasattr(problem, "iterate"):
            hist = problem.iterate(state, it, n, schedule_iter, params)
            evaluated = n * opts.swarm_size
        else:
            hist, evaluated = _iterate_generic(problem, state, it, n, schedule_iter, params,
                                               ended)
            n = hist.size  # an iteration cut short is the last
        it += n
        nfev += evaluated
        if opts.history:
            history.extend((it - n + j + 1, float(h)) for j, h in enumerate(hist))
        best = float(hist[-1])
        gain = gain_below(ref, opts.ftol)
        if best < gain:
            last_gain_it = it - n + 1 + int(np.argmax(hist < gain))
            ref = best
        if budget is not None:
            budget.spend(evaluated)
            budget.record(best)
        if callback is not None and callback({"iteration": it, "evaluations": nfev, "best": best,
                                              "x": state.best_position[state.best].copy(),
                                              "elapsed": time.perf_counter() - t0}):
            message = "cancelled"
            break
        if opts.stall_iter is not None and it - last_gain_it >= opts.stall_iter:
            message = "stall"
            break
    i = state.best
    out = PsoOutcome(x=state.best_position[i].copy(), cost=float(state.best_cost[i]),
                     nit=it - it0, nfev=nfev, wall_s=time.perf_counter() - t0, message=message,
                     history=history)
    return out, state


def _move(state: SwarmState, p: _Params, iteration: int, schedule_iter: int) -> None:
    """One swarm step outside the fused loop (neighbourhood bests, then the update), with the
    inertia the fused loop uses at that iteration."""
    kpso.neighbour_best(state.best_cost, p.topology_code, p.ring_k, state.neighbour)
    w = p.w0 + (p.w1 - p.w0) * min(1.0, iteration / max(1, schedule_iter - 1))
    kpso.update(state.position, state.velocity, state.best_position, state.neighbour, p.seed,
                iteration, w, p.c1, p.c2, p.chi, p.vmax, p.boundary_code)


def _iterate_generic(problem, state: SwarmState, it0: int, n_iter: int, max_iter: int,
                     p: _Params, ended: Callable[[], bool] | None = None
                     ) -> tuple[np.ndarray, int]:
    """The fused loop's steps for a problem that only offers ``evaluate``: the best cost
    after each iteration made and the particles evaluated. An iteration whose evaluation
    ``ended`` cut short (:func:`evaluate_until`) is the last."""
    hist = np.empty(n_iter)
    evaluated = 0
    for j in range(n_iter):
        _move(state, p, it0 + j, max_iter)
        cost, reached = evaluate_until(problem, state.position, ended)
        state.cost[:] = cost
        evaluated += reached
        kpso.tell(state.position, state.cost, state.best_position, state.best_cost)
        hist[j] = state.best_cost.min()
        if reached < len(cost):
            return hist[:j + 1], evaluated
    return hist, evaluated
