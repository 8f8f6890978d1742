"""Other libraries' optimizers on our encoding and decoder: pyswarms' GlobalBestPSO, nevergrad's
NGOpt, pymoo's GA and PSO.

Each searches the unit cube of :class:`~.problem.SfiProblem` (every point decodes to a feasible
plan) with the run's :class:`~invswarm.engine.termination.Budget`: the objective it calls
charges the budget with the points it evaluates and ends the run, from inside, when the budget
has ended (time limit, evaluations, target, stall, stop). None of these libraries has a stop
of its own that a time limit or another thread could reach, so this is the one way to give
them the same budgets as our PSO. nevergrad and pymoo come with the ``peers`` extra.
"""

from __future__ import annotations

import importlib
import inspect
import math
import time
import warnings

import numpy as np

from ...errors import InputError
from ...pso import PsoOptions
from ...termination import Budget
from .evaluate import evaluate
from .instance import Instance
from .plan import Plan
from .problem import SfiProblem
from .swarm import make_problem

#: The peers, by method name (``invswarm solve --method``).
PEERS = ("pyswarms", "nevergrad", "pymoo-ga", "pymoo-pso")

# Generations or iterations for libraries that need a number: the budget ends them first.
_ENDLESS = 2**31 - 1
#: Points whose evaluation time gives NGOpt's budget in a run with only a time limit.
RATE_SAMPLE = 64


# What each peer imports when it runs.
_MODULES = ("pyswarms", "nevergrad", "pymoo.optimize", "pymoo.core.problem",
            "pymoo.algorithms.soo.nonconvex.ga", "pymoo.algorithms.soo.nonconvex.pso")


def load_libraries() -> None:
    """Import every peer's library now: a run's time limit counts from its call, so the
    first run in a process would otherwise pay the import (nevergrad's takes seconds)."""
    for module in _MODULES:
        importlib.import_module(module)


class _Ended(Exception):
    """The run's budget ended a peer's run from inside its objective."""


class _Objective:
    """Costs of a batch of points ``X`` (N, n_var) in the unit cube, shape (N,), charged to the
    run's budget, with the best point evaluated so far.

    Points beyond what is left of an evaluation budget are not evaluated: they get the worst
    cost of the batch (a peer needs a cost for each), and the next call ends the run. The
    best starts as the run's start plan, at its kernel cost (its point may decode to a
    dearer plan: the encoding cannot express every plan), so that no peer returns a plan
    dearer than its start; with no start, as the cube's centre, at no cost known.
    """

    def __init__(self, problem: SfiProblem, budget: Budget, start: Plan | None):
        self.problem, self.budget, self.start = problem, budget, start
        self.cost = math.inf if start is None else float(evaluate(problem.inst, start).cost)
        self.x = None  # the best point evaluated, once one beats the start

    def best(self) -> Plan:
        """The best plan so far."""
        if self.x is not None:
            return self.problem.decode(self.x)
        if self.start is not None:
            return self.start
        return self.problem.decode(np.full(self.problem.n_var, 0.5))

    def __call__(self, X) -> np.ndarray:
        if (why := self.budget.reason()) is not None:
            raise _Ended(why)
        X = np.clip(np.atleast_2d(np.asarray(X, dtype=np.float64)), 0.0, 1.0)
        n = len(X)
        if self.budget.max_evals is not None:
            if (left := int(self.budget.evals_left())) == 0:  # a fraction of one is left
                raise _Ended("max_evals")
            X = X[:left]
        costs = self.problem.evaluate(X)
        self.budget.spend(len(X))
        b = int(np.argmin(costs))
        if costs[b] < self.cost:
            self.cost, self.x = float(costs[b]), X[b].copy()
        self.budget.record(self.cost, self.best)
        return np.concatenate([costs, np.full(n - len(costs), costs.max())])

    def run(self, search) -> tuple[Plan, dict]:
        """``search()`` until it returns or the budget ends it; the best plan and figures."""
        t0 = time.perf_counter()
        try:
            search()
            message = self.budget.reason() or "max_iter"
        except _Ended as ended:
            message = str(ended)
        return self.best(), {
            "nfev": int(self.budget.evaluations), "pso_s": time.perf_counter() - t0,
            "cost": self.cost, "message": message}


def solve_peer(method: str, inst: Instance, opts: PsoOptions, budget: Budget | None = None,
               start: Plan | None = None) -> tuple[Plan, dict]:
    """Run one peer (a name of :data:`PEERS`) within ``budget`` (default: ``opts.time_limit``).

    Settings are each library's defaults, apart from what the encoding needs (bounds [0, 1])
    and pyswarms', which has none (``c1 = c2 = 1.49445``, ``w = 0.729``, ``opts.swarm_size``
    particles). ``opts.seed`` seeds each; ``opts.max_iter`` bounds pyswarms' iterations,
    pymoo's generations and NGOpt's evaluations (``max_iter`` swarms' worth). Some
    termination of ``budget`` or ``max_iter`` must end the run.
    ``start``: a plan among the first points (a particle of pyswarms' first swarm, of pymoo's
    first population, NGOpt's first point), the others drawn at random as each library does;
    the plan returned is never dearer than it.

    Returns
    -------
    plan : Plan
        The decoded best point evaluated, or the start where none is cheaper.
    info : dict
        ``nfev`` (evaluations), ``pso_s`` (seconds of search), ``cost``, ``message`` (why
        the run ended).
    """
    runs = {"pyswarms": _pyswarms, "nevergrad": _nevergrad, "pymoo-ga": _pymoo,
            "pymoo-pso": _pymoo}
    if method not in runs:
        raise ValueError(f"unknown peer {method!r}")
    problem = make_problem(inst)
    first = None if start is None else np.clip(problem.encode(start), 0.0, 1.0)
    objective = _Objective(problem, budget or Budget(opts.time_limit), start)
    return objective.run(lambda: runs[method](method, objective, opts, first))


def _first_swarm(first: np.ndarray | None, size: int, n: int, seed: int) -> np.ndarray | None:
    """``size`` points of the unit cube, uniform at random but for ``first`` (None: let the
    library draw them all)."""
    if first is None:
        return None
    X = np.random.default_rng(seed).random((size, n))
    X[0] = first
    return X


def _library(name: str):
    try:
        return __import__(name)
    except ImportError:
        raise InputError("method", f"needs the {name} library: pip install "
                                   "'invswarm[peers]'") from None


def _pyswarms(method: str, objective: _Objective, opts: PsoOptions, first) -> None:
    ps = _library("pyswarms")
    n = objective.problem.n_var
    np.random.seed(opts.seed % 2**32)  # noqa: NPY002 - pyswarms reads the legacy generator
    optimizer = ps.single.GlobalBestPSO(
        n_particles=opts.swarm_size, dimensions=n,
        options={"c1": 1.49445, "c2": 1.49445, "w": 0.729},
        bounds=(np.zeros(n), np.ones(n)),
        init_pos=_first_swarm(first, opts.swarm_size, n, opts.seed))
    optimizer.optimize(objective, iters=opts.max_iter or _ENDLESS, verbose=False)


def _nevergrad(method: str, objective: _Objective, opts: PsoOptions, first) -> None:
    ng = _library("nevergrad")
    n = objective.problem.n_var
    param = ng.p.Array(shape=(n,), lower=0.0, upper=1.0)
    param.random_state = np.random.RandomState(opts.seed % 2**32)
    told = _evaluations_for_ngopt(objective, opts)
    optimizer = ng.optimizers.NGOpt(parametrization=param, num_workers=1, budget=told)
    # an evaluation budget or a time limit ends the run from the objective; max_iter alone
    # through the evaluations it told NGOpt
    asks = told if objective.budget.max_evals is None and opts.max_iter is not None else None
    if first is not None:
        optimizer.suggest(first)
    with warnings.catch_warnings():
        # scipy's COBYLA, which NGOpt may run, warns about a setting NGOpt passes it
        warnings.filterwarnings("ignore", message="COBYLA", category=UserWarning)
        while asks is None or optimizer.num_ask < asks:
            candidate = optimizer.ask()
            optimizer.tell(candidate, float(objective(candidate.value[None])[0]))


def _evaluations_for_ngopt(objective: _Objective, opts: PsoOptions) -> int:
    """The evaluations NGOpt is told it will get (it picks its algorithm by them, and needs
    a number): the run's evaluation budget; else ``opts.max_iter`` swarms' worth; else, with
    a time limit alone, as many as the time left allows at the kernel's rate on a first batch
    of random points (part of the run). The rate leaves out nevergrad's own time, so NGOpt
    is told more than it will get."""
    budget = objective.budget
    if budget.max_evals is not None:
        return max(1, int(budget.max_evals))
    if opts.max_iter is not None:
        return max(1, opts.max_iter * opts.swarm_size)
    rng = np.random.default_rng(opts.seed)
    t0 = time.perf_counter()
    objective(rng.random((RATE_SAMPLE, objective.problem.n_var)))
    rate = RATE_SAMPLE / max(time.perf_counter() - t0, 1e-9)
    return max(1, int(rate * min(budget.left(), _ENDLESS)))


def _pymoo(method: str, objective: _Objective, opts: PsoOptions, first) -> None:
    _library("pymoo")
    from pymoo.algorithms.soo.nonconvex.ga import GA
    from pymoo.algorithms.soo.nonconvex.pso import PSO
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    class Cube(Problem):
        def __init__(self):
            super().__init__(n_var=objective.problem.n_var, n_obj=1, xl=0.0, xu=1.0)

        def _evaluate(self, X, out, *args, **kwargs):
            out["F"] = objective(X)[:, None]

    kind = GA if method == "pymoo-ga" else PSO
    # the library's population size, and its own first population when there is no start
    size = inspect.signature(kind).parameters["pop_size"].default
    X = _first_swarm(first, size, objective.problem.n_var, opts.seed)
    algorithm = kind() if X is None else kind(sampling=X)
    minimize(Cube(), algorithm, ("n_gen", opts.max_iter or _ENDLESS), seed=opts.seed % 2**32,
             verbose=False)
