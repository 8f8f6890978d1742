"""Other libraries' optimizers on our encoding: budgets, seeds, the start, a missing library."""

from __future__ import annotations

import sys

import pytest

from invswarm.engine import solve as api
from invswarm.engine.errors import InputError
from invswarm.engine.models import sfi
from invswarm.engine.models.sfi.peers import PEERS
from invswarm.engine.models.sfi.start import heuristic_plan


@pytest.mark.parametrize("peer", PEERS)
def test_a_peer_keeps_to_its_evaluations_repeats_with_its_seed_and_starts_from_the_plan(peer):
    inst = sfi.load_steel(6)
    opts = api.SolveOptions(max_evals=300, seed=4)
    first, again = (api.solve(inst, peer, opts) for _ in range(2))
    assert first.status == "max_evals"
    assert first.extra["swarm"]["nfev"] <= 300
    assert first.plan == again.plan
    plan = sfi.Plan.from_json(first.plan, inst)
    sfi.check_feasible(inst, plan)
    assert first.cost == pytest.approx(sfi.evaluate(inst, plan).cost, rel=1e-12)
    # the constructive plan is among the first points evaluated
    assert first.cost <= sfi.evaluate(inst, heuristic_plan(inst)).cost + 1e-6
    other = api.solve(inst, peer, api.SolveOptions(max_evals=300, seed=5))
    assert other.extra["swarm"]["nfev"] <= 300


def test_a_warm_start_is_where_a_peer_starts():
    """Given the exact optimum as its warm start, a peer returns a plan as cheap."""
    inst = sfi.load_steel(6)
    best = api.solve(inst, "exact", api.SolveOptions(time_limit=60))
    for peer in PEERS:
        res = api.solve(inst, peer, api.SolveOptions(max_evals=200), warm_start=best.plan)
        assert res.cost <= best.cost * (1 + 1e-9), peer


def test_a_peer_whose_library_is_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "nevergrad", None)  # import raises ImportError
    with pytest.raises(InputError) as err:
        api.solve(sfi.load_steel(6), "nevergrad", api.SolveOptions(max_evals=10))
    assert err.value.field == "method" and "invswarm[peers]" in str(err.value)


@pytest.mark.parametrize("peer", PEERS)
def test_an_iteration_budget_alone_ends_a_peer(peer):
    """With ``max_iter`` and no time limit, each peer ends by it: pyswarms' iterations,
    pymoo's generations (of its own population), NGOpt's evaluations (swarms' worth)."""
    inst = sfi.load_steel(6)
    res = api.solve(inst, peer, api.SolveOptions(max_iter=3, swarm_size=8, seed=2))
    assert res.status == "max_iter"
    population = {"pymoo-ga": 100, "pymoo-pso": 25}.get(peer, 8)
    assert res.extra["swarm"]["nfev"] <= 3 * population
