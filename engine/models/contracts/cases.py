"""The shipped case (the seed's two manufacturers and two retailers) and a seeded generator.

The seed gives players, decisions and costs but no data: every number of the shipped case is
chosen, and ``docs/models/contracts.md`` says why.
"""

from __future__ import annotations

import numpy as np

from ...errors import InputError
from .instance import MODES, Instance

#: Periods per year and horizon of the shipped case: weekly periods, two years.
N_CASE, T_CASE = 52, 104
#: The period in which the shipped case's disruptions start (week 27: mid-year).
START = 27


def _turns(length: int) -> list[dict]:
    """Manufacturer 0 loses half its capacity for ``length`` periods, then manufacturer 1."""
    return [{"manufacturer": 0, "start": START, "length": length, "share": 0.5},
            {"manufacturer": 1, "start": START + length, "length": length, "share": 0.5}]


def disruption_scenarios() -> list[dict]:
    """The seed question's scenarios: none; manufacturer 0 losing 50 % for 4 and for 12
    periods; both in turn, 4 and 12 periods each."""
    one = [{"manufacturer": 0, "start": START, "share": 0.5}]
    return [
        {"name": "none", "weight": 0.6, "events": []},
        {"name": "M1 -50% 4p", "weight": 0.1, "events": [dict(one[0], length=4)]},
        {"name": "M1 -50% 12p", "weight": 0.1, "events": [dict(one[0], length=12)]},
        {"name": "both -50% 4p in turn", "weight": 0.1, "events": _turns(4)},
        {"name": "both -50% 12p in turn", "weight": 0.1, "events": _turns(12)},
    ]


def seed_case_doc(mode: str = "guaranteed", paths: int = 200) -> dict:
    """The seed's network: manufacturers M1, M2 (the seed's 3 and 4) and retailers R1, R2.

    Chosen data: retail intercepts 2,000 and 1,800 (R1 has the stronger market); annual
    regular capacities 300 and 260, tight enough that both manufacturers sell their whole
    capacity at the market-clearing price (a pure equilibrium then exists); unit costs 400 and
    420 within capacity, 600 and 620 in overtime, overtime up to 25 % of a week's capacity;
    lead times of 2 and 3 weeks; holding 5 (retailers) and 3 (manufacturers) per unit-week,
    backlog ten times that; demand noise 25 % of the mean at both retailers (equal: with
    unequal noise guaranteed supply has no pure equilibrium, see the page), AR(1) 0.3,
    correlation 0.3; safety factor 1.65. ``paths`` demand paths under each of the five
    disruption scenarios.
    """
    if mode not in MODES:
        raise InputError("mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
    return {
        "model": "contracts",
        "name": "seed-2x2",
        "periods_per_year": N_CASE,
        "periods": T_CASE,
        "mode": mode,
        "safety_factor": 1.65,
        "price_cap": 2000.0,
        "retailers": [
            {"name": "R1", "market_power": 2000.0, "lead_time": 2, "hold": 5.0,
             "backlog": 50.0, "cv": 0.25, "phi": 0.3},
            {"name": "R2", "market_power": 1800.0, "lead_time": 3, "hold": 5.0,
             "backlog": 50.0, "cv": 0.25, "phi": 0.3},
        ],
        "manufacturers": [
            {"name": "M1", "capacity": 300.0, "overtime": 0.25, "unit_cost": 400.0,
             "overtime_cost": 600.0, "lead_time": 2, "hold": 3.0, "backlog": 30.0},
            {"name": "M2", "capacity": 260.0, "overtime": 0.25, "unit_cost": 420.0,
             "overtime_cost": 620.0, "lead_time": 3, "hold": 3.0, "backlog": 30.0},
        ],
        "demand": {"correlation": 0.3, "paths": paths, "seed": 2},
        "disruptions": disruption_scenarios(),
    }


def seed_case(mode: str = "guaranteed", paths: int = 200) -> Instance:
    return Instance.from_json(seed_case_doc(mode, paths))


def generate(retailers: int = 2, manufacturers: int = 2, periods: int = 52,
             periods_per_year: int = 52, scenarios: int = 3, paths: int = 100,
             mode: str = "guaranteed", seed: int = 0) -> dict:
    """A random contracts instance document.

    Parameters
    ----------
    retailers, manufacturers : int
    periods, periods_per_year : int
    scenarios : int
        Disruption scenarios: ``none`` (weight 1/2) and ``scenarios - 1`` random ones, each
        one or two events (a manufacturer losing 30 to 100 % of its capacity for 1 to
        ``periods / 4`` periods).
    paths : int
        Demand paths.
    mode : {"guaranteed", "flexible"}
    seed : int
    """
    for name, v, low in (("retailers", retailers, 1), ("manufacturers", manufacturers, 1),
                         ("periods", periods, 1), ("periods_per_year", periods_per_year, 1),
                         ("scenarios", scenarios, 1), ("paths", paths, 1), ("seed", seed, 0)):
        if v < low:
            raise InputError(name, f"must be >= {low}, got {v}")
    if mode not in MODES:
        raise InputError("mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
    rng = np.random.default_rng(seed)
    R, M, T = retailers, manufacturers, periods
    z = rng.uniform(1500, 2500, R)
    # capacities of the order of the manufacturers' Cournot quantities: often binding
    q = R * (z.mean() - 450) / (R + 1) / (M + 1)
    rets = [{"name": f"R{i + 1}", "market_power": round(float(z[i]), 2),
             "lead_time": int(rng.integers(1, 5)), "hold": round(float(h), 2),
             "backlog": round(float(h * rng.uniform(5, 15)), 2),
             "cv": round(float(rng.uniform(0.1, 0.4)), 3),
             "phi": round(float(rng.uniform(0.0, 0.6)), 3)}
            for i, h in enumerate(rng.uniform(2, 6, R))]
    mans = []
    for j in range(M):
        ca = float(rng.uniform(300, 500))
        mans.append({"name": f"M{j + 1}", "capacity": round(float(q * rng.uniform(0.6, 1.4)), 2),
                     "overtime": round(float(rng.uniform(0.1, 0.4)), 3),
                     "unit_cost": round(ca, 2),
                     "overtime_cost": round(ca * float(rng.uniform(1.3, 1.6)), 2),
                     "lead_time": int(rng.integers(1, 5)),
                     "hold": round(float(rng.uniform(1, 4)), 2),
                     "backlog": round(float(rng.uniform(10, 40)), 2)})
    scen = [{"name": "none", "weight": 0.5, "events": []}]
    for d in range(1, scenarios):
        events = []
        for _ in range(int(rng.integers(1, 3))):
            events.append({"manufacturer": int(rng.integers(0, M)),
                           "start": int(rng.integers(1, T + 1)),
                           "length": int(rng.integers(1, max(1, T // 4) + 1)),
                           "share": round(float(rng.uniform(0.3, 1.0)), 3)})
        scen.append({"name": f"disruption {d}", "weight": 0.5 / (scenarios - 1),
                     "events": events})
    return {"model": "contracts", "name": f"random-{R}x{M}-{T}-s{seed}",
            "periods_per_year": periods_per_year, "periods": T, "mode": mode,
            "safety_factor": round(float(rng.uniform(1.0, 2.0)), 3),
            "retailers": rets, "manufacturers": mans,
            "demand": {"correlation": round(float(rng.uniform(0, 0.5)), 3), "paths": paths,
                       "seed": int(rng.integers(0, 2**31))},
            "disruptions": scen}
