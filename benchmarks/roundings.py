"""The experiments behind two decisions about the rounded relaxation that seeds our PSO.

``python -m benchmarks.roundings seeds``: the unpooled rounding alone as the relaxed seed (what
``solve_pso`` does) against both roundings (the pooled one added as the warm start), on the
scaling instances (9.5 s, PSO seeds 0 to 2) and on three 30 x 10 x 52 instances (60 s).
``python -m benchmarks.roundings scenarios``: with several order scenarios, our PSO from the
pooled rounding against from the unpooled one (each as the only relaxed seed, 9.5 s).

Each line prints the flow relaxation's bound and the costs (gaps above that bound). The runs
are time-limited, so the figures move a little from run to run. The results and the decisions
are in docs/pso.md ("Both roundings as seeds") and docs/models/sfi.md ("Unpooling").
"""

from __future__ import annotations

import argparse

from invswarm.engine.bench_experiments import timed_pso
from invswarm.engine.models import sfi
from invswarm.engine.models.sfi.milp import round_relaxed, solve_relaxation


def _instance(T: int, C: int, K: int, scenarios: int, seed: int) -> sfi.Instance:
    return sfi.Instance.from_json(sfi.generate(periods=T, categories=C, products_per_category=K,
                                               scenarios=scenarios, seed=seed))


def _relaxation(inst: sfi.Instance):
    """The flow relaxation's LP over the whole horizon: its optimum and both roundings."""
    bound, model, x = solve_relaxation(inst, None, rules=False)
    return bound, {u: round_relaxed(model, inst, x, unpool=u) for u in (False, True)}


def _pso(inst: sfi.Instance, seconds: float, seed: int, **kwargs) -> float:
    """The cost of the bench's PSO run (``engine/bench_experiments.py: timed_pso``)."""
    return timed_pso(inst, seconds, seed, **kwargs)[0]


def _gap(cost: float, bound: float) -> str:
    return f"{cost:,.0f} ({100 * (cost - bound) / bound:.3f} %)"


def seeds() -> None:
    """Unpooled rounding only (the default) against both roundings as seeds."""
    runs = [((T, C, K), 1, (0, 1, 2), 9.5) for T, C, K in
            ((12, 3, 3), (26, 3, 3), (52, 3, 3), (12, 5, 6), (12, 10, 10))]
    runs += [((52, 30, 10), g, (0,), 60.0) for g in (1, 2, 3)]
    for (T, C, K), g, pso_seeds, seconds in runs:
        inst = _instance(T, C, K, 1, g)
        bound, plans = _relaxation(inst)
        for s in pso_seeds:
            alone = _pso(inst, seconds, s)
            both = _pso(inst, seconds, s, warm_start=plans[False])
            print(f"{C} x {K} x {T}, generator seed {g}, PSO seed {s}: bound {bound:,.0f}; "
                  f"unpooled only {_gap(alone, bound)}, both {_gap(both, bound)}", flush=True)


def scenarios() -> None:
    """With several scenarios: our PSO from the pooled rounding against from the unpooled."""
    for T, C, K, S, g in ((12, 3, 3, 8, 1), (12, 3, 3, 8, 2), (12, 5, 6, 8, 1),
                          (12, 3, 3, 16, 1)):
        inst = _instance(T, C, K, S, g)
        bound, plans = _relaxation(inst)
        rounded = {u: sfi.evaluate(inst, p).cost for u, p in plans.items()}
        for s in (0, 1):
            after = {u: _pso(inst, 9.5, s, warm_start=p, relaxed_seed=False)
                     for u, p in plans.items()}
            print(f"{C} x {K} x {T}, {S} scenarios, generator seed {g}, PSO seed {s}: bound "
                  f"{bound:,.0f}; rounded pooled {rounded[False]:,.0f}, unpooled "
                  f"{rounded[True]:,.0f}; our PSO from pooled {_gap(after[False], bound)}, "
                  f"from unpooled {_gap(after[True], bound)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=("seeds", "scenarios"))
    {"seeds": seeds, "scenarios": scenarios}[parser.parse_args().experiment]()


if __name__ == "__main__":
    main()
