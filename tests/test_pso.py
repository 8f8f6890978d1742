"""The PSO driver: seeded determinism, fused loop equals ask/tell, terminations, options."""

import numpy as np
import pytest

from invswarm.engine.models.sfi import load_steel, violations
from invswarm.engine.models.sfi.problem import SfiProblem
from invswarm.engine.pso import PsoOptions, Swarm, evaluate_until, initial_swarm, run
from invswarm.engine.termination import StopToken
from invswarm.kernels import pso as kpso

from .sfi_random import random_instance


@pytest.fixture(scope="module")
def problem():
    return SfiProblem(load_steel(6))


class _EvaluateOnly:
    """The same problem seen through ``evaluate`` alone (the driver's generic path)."""

    def __init__(self, problem):
        self.n_var = problem.n_var
        self.evaluate = problem.evaluate


def test_same_seed_same_result_and_fused_equals_generic(problem):
    opts = PsoOptions(swarm_size=16, max_iter=25, seed=3, topology="ring", ring_k=1)
    a, sa = run(problem, opts)
    b, sb = run(problem, opts)
    c, sc = run(_EvaluateOnly(problem), opts)
    assert a.cost == b.cost == c.cost
    np.testing.assert_array_equal(sa.best_position, sb.best_position)
    np.testing.assert_array_equal(sa.best_position, sc.best_position)
    d, _ = run(problem, PsoOptions(swarm_size=16, max_iter=25, seed=4, topology="ring",
                                   ring_k=1))
    assert d.cost != a.cost


def _splitmix_finaliser(z):
    m = (1 << 64) - 1
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


@pytest.mark.parametrize("seed, iteration, particle", [(0, 0, 0), (7, 123, 45), (2**62, 9, 1)])
def test_random_stream_is_the_documented_hash(seed, iteration, particle):
    """Pair j is the two halves of splitmix64's finaliser of key ^ (j * golden + j), over 2**32
    (plain Python integers here)."""
    golden, m = 0x9E3779B97F4A7C15, (1 << 64) - 1
    key = _splitmix_finaliser((seed + golden) & m)
    key = _splitmix_finaliser(key ^ ((iteration * golden) & m))
    key = _splitmix_finaliser(key ^ ((particle * 0xBF58476D1CE4E5B9) & m))
    assert int(kpso.stream_key(seed, iteration, particle)) == key
    out = np.empty((2, 4000))
    kpso.uniform_pairs(np.uint64(key), out)
    for j in (0, 1, 2, 999, 3999):
        z = _splitmix_finaliser(key ^ ((j * golden + j) & m))
        assert out[0, j] == (z >> 32) / 2**32
        assert out[1, j] == (z & 0xFFFFFFFF) / 2**32
    assert 0.0 <= out.min() and out.max() < 1.0
    # 8,000 uniforms: mean within 5 standard errors of 1/2, halves uncorrelated.
    assert abs(out.mean() - 0.5) < 5 * (1 / 12 / out.size) ** 0.5
    assert abs(np.corrcoef(out[0], out[1])[0, 1]) < 5 / out.shape[1] ** 0.5


@pytest.mark.parametrize("topology, k", [(kpso.GBEST, 0), (kpso.RING, 1), (kpso.RING, 3)])
def test_social_copies_each_neighbourhood_best_once(topology, k):
    """The fused loop's steps read the neighbourhood bests from these copies."""
    rng = np.random.default_rng(topology + k)
    PB = rng.random((12, 5))
    PBf = rng.permutation(12).astype(float)
    nbr = np.empty(12, np.int64)
    kpso.neighbour_best(PBf, topology, k, nbr)
    G = np.full_like(PB, np.nan)
    gnbr = np.empty(12, np.int64)
    m = kpso.social(PB, nbr, G, gnbr)
    assert m == np.unique(nbr).size
    assert m == 1 if topology == kpso.GBEST else m > 1
    np.testing.assert_array_equal(G[gnbr], PB[nbr])
    assert np.isnan(G[m:]).all()


def test_ask_tell_follows_the_fused_run(problem):
    opts = PsoOptions(swarm_size=12, max_iter=15, seed=11)
    out, state = run(problem, opts)
    init, evaluated = initial_swarm(problem, opts)
    assert evaluated == opts.swarm_size
    sw = Swarm(problem.n_var, opts, init.position, init.cost)
    sw.state.velocity[:] = init.velocity
    for _ in range(15):
        sw.tell(problem.evaluate(sw.ask()))
    x, cost = sw.best
    assert cost == out.cost
    np.testing.assert_array_equal(x, out.x)
    with pytest.raises(RuntimeError):
        sw.tell(np.zeros(12))


def test_history_and_terminations(problem):
    out, _ = run(problem, PsoOptions(swarm_size=8, max_iter=30, history=True, chunk=7))
    assert out.nit == 30 and out.nfev == 8 * 31
    assert [it for it, _ in out.history] == list(range(1, 31))
    best = [b for _, b in out.history]
    assert all(b <= a for a, b in zip(best, best[1:]))
    out, _ = run(problem, PsoOptions(swarm_size=8, max_iter=None, max_evals=100))
    assert out.message == "max_evals" and out.nfev <= 100
    out, _ = run(problem, PsoOptions(swarm_size=8, max_iter=None, stall_iter=5, chunk=1,
                                     ftol=0.5))
    assert out.message == "stall"
    calls = []
    out, _ = run(problem, PsoOptions(swarm_size=8, max_iter=100, chunk=2),
                 callback=lambda info: calls.append(info) or len(calls) == 3)
    assert out.message == "cancelled" and out.nit == 6


@pytest.mark.parametrize("seed", range(40))
def test_every_particle_decodes_to_a_feasible_plan(seed):
    rng = np.random.default_rng(seed)
    inst = random_instance(rng)
    prob = SfiProblem(inst)
    X = rng.random((25, prob.n_var))
    X[:5] = np.round(X[:5])  # corners of the cube
    for x in X:
        assert violations(inst, prob.decode(x)) == []


def test_encode_decode_round_trip():
    # Without snapping: a decoded quantity near a snap point would snap when decoded again.
    problem = SfiProblem(load_steel(6), snap_tol=0.0)
    rng = np.random.default_rng(0)
    for x in rng.random((20, problem.n_var)):
        plan = problem.decode(x)
        again = problem.decode(problem.encode(plan))
        np.testing.assert_array_equal(plan.pdp, again.pdp)
        np.testing.assert_array_equal(plan.codp, again.codp)
        np.testing.assert_allclose(plan.generic, again.generic, atol=1.0)
        np.testing.assert_allclose(plan.dedicated, again.dedicated, atol=1.0)


def test_quantities_snap_to_the_orders_they_may_serve(problem):
    inst = problem.inst
    x = np.full(problem.n_var, 0.5)
    x[problem.encoding.slice("generic")] = 0.0
    sl = problem.encoding.slice("dedicated")
    x[sl] = (inst.orders[0] * 1.01 / problem.ub_q).ravel()  # 1 % above the orders
    plan = problem.decode(x)
    np.testing.assert_array_equal(plan.dedicated, inst.orders[0])


@pytest.mark.parametrize("bad", [dict(swarm_size=1), dict(max_iter=None),
                                 dict(topology="star"), dict(vmax=0),
                                 dict(ring_k=40, topology="ring")])
def test_options_are_validated(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        PsoOptions(**bad)


@pytest.mark.parametrize("subspace", ["one period", "every variable, shuffled"])
def test_restricted_problem_fused_equals_generic(problem, subspace):
    rng = np.random.default_rng(2)
    base = rng.random(problem.n_var)
    idx = (np.arange(3, problem.n_var, problem.inst.n_periods) if subspace == "one period"
           else rng.permutation(problem.n_var))
    sub = problem.restricted(base, idx)

    class Generic:
        n_var = sub.n_var
        evaluate = sub.evaluate

    opts = PsoOptions(swarm_size=10, max_iter=12, seed=8)
    a, sa = run(sub, opts)
    b, sb = run(Generic(), opts)
    assert a.cost == b.cost
    np.testing.assert_array_equal(sa.best_position, sb.best_position)
    full = sub.expand(a.x[None])[0]
    assert problem.evaluate(full[None])[0] == a.cost


def test_solve_pso_counts_swarms_and_kicks_and_can_be_cancelled_in_either_phase():
    from invswarm.engine.models.sfi.swarm import solve_pso

    inst = load_steel(6)
    opts = PsoOptions(swarm_size=6, max_iter=4, seed=1)
    _, info = solve_pso(inst, opts, sweeps=1)
    assert info["nit"] == 4
    assert info["nfev"] == 6 * 5  # the initial swarm included
    assert info["kicks"] == inst.n_periods
    calls = []
    # the swarm's report cancels the swarm, the polish's the kicks before they start
    _, info = solve_pso(inst, opts, sweeps=5, callback=lambda i: calls.append(i) or True)
    assert info["message"] == "cancelled" and info["sweeps"] == 0 and len(calls) == 2
    calls = []
    # cancelled after the first pass of kicks
    _, info = solve_pso(inst, opts, sweeps=5,
                        callback=lambda i: calls.append(i) or len(calls) >= 3)
    assert info["message"] == "cancelled" and info["sweeps"] == 1 and len(calls) == 3


@pytest.mark.parametrize("seed", range(4))
def test_solve_pso_keeps_what_the_relaxation_seed_gives(seed):
    """With an iteration budget every seed plan is polished, so the result is never worse than
    the rounded relaxation it was seeded with (and without the seed it may be)."""
    from invswarm.engine.models.sfi import evaluate
    from invswarm.engine.models.sfi.milp import relaxation
    from invswarm.engine.models.sfi.swarm import solve_pso

    inst = random_instance(np.random.default_rng(900 + seed))
    _, relaxed = relaxation(inst, rules=False)
    opts = PsoOptions(swarm_size=6, max_iter=3, seed=seed)
    plan, info = solve_pso(inst, opts, sweeps=1)
    assert violations(inst, plan) == []
    assert info["cost"] == pytest.approx(evaluate(inst, plan).cost, rel=1e-12)
    assert info["cost"] <= evaluate(inst, relaxed).cost * (1 + 1e-12)


_COMPILES_AFTER_WARMUP = """
import json
from numba.core.registry import CPUDispatcher
from invswarm.kernels import pso, sfi, sfi_lanes, sfi_local, sfi_moves
from invswarm.engine.models.sfi import load_steel
from invswarm.engine.models.sfi.warmup import warmup
from invswarm.engine.models.sfi.swarm import solve_pso
from invswarm.engine.pso import PsoOptions

def signatures():
    return {f"{m.__name__}.{name}": len(f.signatures)
            for m in (pso, sfi, sfi_lanes, sfi_local, sfi_moves)
            for name, f in vars(m).items() if isinstance(f, CPUDispatcher)}

warmup()
before = signatures()
solve_pso(load_steel(6), PsoOptions(swarm_size=8, max_iter=None, time_limit=2.0, seed=0))
after = signatures()
print(json.dumps(sorted(k for k in after if after[k] != before[k])))
"""


def test_warmup_compiles_every_kernel_a_swarm_solve_uses():
    """A kernel compiled inside ``solve_pso`` spends its time budget on compiling (20 s and
    more with an empty cache). In a fresh process, nothing may be compiled or loaded after
    ``warmup()``."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _COMPILES_AFTER_WARMUP], capture_output=True,
                         text=True, check=True, timeout=600)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


class _Slow(_EvaluateOnly):
    """A problem evaluated a few particles at a time (``slice``) that asks its run to stop
    when it has evaluated ``stop_after`` particles, as a stop from another thread would
    while a slow swarm is evaluated."""

    slice = 3

    def __init__(self, problem, token: StopToken, stop_after: int):
        super().__init__(problem)
        self.calls, self.seen = [], 0
        inner = self.evaluate

        def evaluate(X):
            self.calls.append(len(X))
            self.seen += len(X)
            if self.seen >= stop_after:
                token.stop()
            return inner(X)

        self.evaluate = evaluate


def test_a_slow_problem_is_evaluated_a_slice_at_a_time_until_the_run_ends(problem):
    X = np.random.default_rng(0).random((8, problem.n_var))
    full = problem.evaluate(X)
    slow = _Slow(problem, StopToken(), stop_after=10**9)
    cost, reached = evaluate_until(slow, X, ended=lambda: slow.seen >= 6)
    assert reached == 6 and slow.calls == [3, 3]
    np.testing.assert_array_equal(cost[:6], full[:6])
    assert np.isinf(cost[6:]).all()
    # without an end to look at, the whole swarm in one call
    assert evaluate_until(slow, X)[1] == 8 and slow.calls[-1] == 8


@pytest.mark.parametrize("stop_after", [3, 20, 40])
def test_a_stop_ends_a_slow_swarm_within_a_slice(problem, stop_after):
    token = StopToken()
    slow = _Slow(problem, token, stop_after)
    opts = PsoOptions(swarm_size=16, max_iter=50, seed=3)
    out, state = run(slow, opts, stop=token)
    # the slice that saw the stop was the last evaluated; the count is what was evaluated
    assert stop_after <= slow.seen < stop_after + _Slow.slice
    assert out.nfev == slow.seen and out.message == token.reason
    assert np.isfinite(out.cost) and out.cost == state.best_cost.min()
