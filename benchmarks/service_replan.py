"""The warm re-plan after a period advance against a cold plan (docs/service.md, "Planning").

``python -m benchmarks.service_replan --cold 10 --seeds 0 1 2``: for each seed, a service (in
process, SQLite) loaded with the electronics case through its API plans with pso within
``cold / 5`` seconds, the operator advances the period, and the service re-plans within
``cold / 5`` seconds, warm-started from its rolled plan. The same advanced instance is then
solved cold (no warm start) within ``cold`` seconds and within ``cold / 5``. Prints the costs;
the warm re-plan reaches the cold plan's cost in a fifth of the time when its cost is at most
the cold one's.
"""

from __future__ import annotations

import argparse
import tempfile

from fastapi.testclient import TestClient

from invswarm.engine.models.network import Instance, electronics_doc
from invswarm.engine.service import ServiceConfig, create_app
from invswarm.engine.service.demo import load_instance_doc
from invswarm.engine.solve import SolveOptions, solve

OPERATOR = "benchmark-operator-token"


def one(seed: int, cold: float) -> dict:
    with tempfile.TemporaryDirectory() as d:
        cfg = ServiceConfig(db_url=f"sqlite:///{d}/replan.db", operator_token=OPERATOR,
                            method="pso", time_limit=cold / 5, seed=seed)
        client = TestClient(create_app(cfg, worker=False))
        op = {"Authorization": f"Bearer {OPERATOR}"}
        load_instance_doc(client, OPERATOR, electronics_doc())
        planner = client.app.state.planner
        planner.plan("first")
        client.post("/period/advance", headers=op, json={"current_period": 1})
        warm = client.get(f"/runs/{planner.plan('advanced')}", headers=op).json()
        client.app.state.engine.dispose()
    inst = Instance.from_json(warm["instance"])
    long = solve(inst, "pso", SolveOptions(time_limit=cold, seed=seed))
    short = solve(inst, "pso", SolveOptions(time_limit=cold / 5, seed=seed))
    return {"seed": seed, "warm_started": warm["warm_started"], "warm_cost": warm["cost"],
            "warm_s": warm["wall_s"], "cold_cost": long.cost, "cold_s": long.wall_s,
            "cold_short_cost": short.cost, "reached": warm["cost"] <= long.cost * (1 + 1e-9)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", type=float, default=10.0, help="seconds of the cold plan (10)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    solve(Instance.from_json(electronics_doc()), "pso", SolveOptions(max_iter=1))  # compile
    for seed in args.seeds:
        r = one(seed, args.cold)
        print(f"seed {seed}: warm re-plan ({r['warm_s']:.1f} s, warm started "
              f"{r['warm_started']}) {r['warm_cost']:,.2f}; cold {r['cold_s']:.1f} s "
              f"{r['cold_cost']:,.2f}; cold {args.cold / 5:g} s {r['cold_short_cost']:,.2f}; "
              f"warm reaches cold: {r['reached']}", flush=True)


if __name__ == "__main__":
    main()
