"""The shipped electronics case and a seeded generator of network instances.

The case's data are chosen, not taken from the seed (which gives none); docs/models/network.md
explains each choice.
"""

from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...limits import MAX_CELLS, MAX_FIRMS, MAX_MATERIALS, MAX_PERIODS
from .instance import Instance

T_CASE = 12


def electronics_doc() -> dict:
    """The electronics case: five manufacturers, three shared materials, twelve periods.

    - MCU-32 microcontrollers do not expire. Aurora over-bought before a redesign (600 on
      hand, 20 a period needed); Borealis and Cobalt run short until their receipts arrive.
    - FLUX-7 solder flux keeps 4 periods. Cobalt holds two lots that expire in periods 3 and
      6; Delta and Echo need flux before their own deliveries.
    - EPOXY-2 resin keeps 3 periods and is costly. Echo's resin arrives in period 7 but its
      plan needs it from period 2; Delta's receipt in period 1 exceeds its use.
    """
    T = T_CASE

    def series(pairs: dict[int, float], default: float = 0.0) -> list[float]:
        return [float(pairs.get(t, default)) for t in range(1, T + 1)]

    stock = [
        # MCU-32
        dict(firm=0, material=0, lots=[{"qty": 600, "last_period": None}],
             requirements=series({}, 20), protected=60, hold=0.02, shortage=2.5),
        dict(firm=1, material=0, lots=[{"qty": 40, "last_period": None}],
             receipts=series({7: 300}), requirements=series({}, 45), protected=30, hold=0.02,
             shortage=3.0),
        dict(firm=2, material=0, lots=[{"qty": 20, "last_period": None}],
             receipts=series({5: 200}), requirements=series({}, 30), protected=20, hold=0.02,
             shortage=2.0),
        dict(firm=3, material=0, lots=[{"qty": 150, "last_period": None}],
             receipts=series({6: 120}), requirements=series({}, 25), protected=50, hold=0.02,
             shortage=2.0),
        # FLUX-7
        dict(firm=2, material=1, lots=[{"qty": 220, "last_period": 3},
                                       {"qty": 180, "last_period": 6}],
             receipts=series({7: 100}), requirements=series({}, 25), protected=40, hold=0.05,
             shortage=6.0),
        dict(firm=3, material=1, lots=[{"qty": 30, "last_period": 2}],
             receipts=series({5: 120, 9: 120}), requirements=series({}, 30), protected=20,
             hold=0.05, shortage=8.0),
        dict(firm=4, material=1, lots=[],
             receipts=series({4: 90, 8: 90}), requirements=series({}, 20), protected=10,
             hold=0.05, shortage=7.0),
        dict(firm=0, material=1, lots=[{"qty": 60, "last_period": 4}],
             receipts=series({5: 60, 9: 60}), requirements=series({}, 12), protected=10,
             hold=0.05, shortage=5.0),
        # EPOXY-2
        dict(firm=3, material=2, lots=[{"qty": 40, "last_period": 2}],
             receipts=series({1: 160, 7: 60}), requirements=series({}, 15), protected=15,
             hold=0.3, shortage=25.0),
        dict(firm=4, material=2, lots=[],
             receipts=series({7: 120}), requirements=series({1: 0}, 18), protected=10,
             hold=0.3, shortage=30.0),
        dict(firm=1, material=2, lots=[{"qty": 50, "last_period": 3}],
             receipts=series({4: 50, 8: 50}), requirements=series({}, 12), protected=5,
             hold=0.3, shortage=20.0),
    ]
    links = [
        dict(to=1, lead_time=1, unit_cost=[0.15, 0.4, 1.0], fixed_cost=30, **{"from": 0}),
        dict(to=0, lead_time=1, unit_cost=[0.15, 0.4, 1.0], fixed_cost=30, **{"from": 1}),
        dict(to=2, lead_time=2, unit_cost=[0.25, 0.5, 1.2], fixed_cost=40, **{"from": 0}),
        dict(to=0, lead_time=2, unit_cost=[0.25, 0.5, 1.2], fixed_cost=40, **{"from": 2}),
        dict(to=3, lead_time=1, unit_cost=[0.1, 0.3, 0.8], fixed_cost=25, **{"from": 2}),
        dict(to=2, lead_time=1, unit_cost=[0.1, 0.3, 0.8], fixed_cost=25, **{"from": 3}),
        dict(to=4, lead_time=1, unit_cost=[0.2, 0.35, 0.9], fixed_cost=35, **{"from": 2}),
        dict(to=4, lead_time=1, unit_cost=[0.2, 0.3, 0.7], fixed_cost=20, **{"from": 3}),
        dict(to=3, lead_time=1, unit_cost=[0.2, 0.3, 0.7], fixed_cost=20, **{"from": 4}),
        dict(to=1, lead_time=2, unit_cost=[0.3, 0.6, 1.5], fixed_cost=45, **{"from": 3}),
        dict(to=3, lead_time=2, unit_cost=[0.3, 0.6, 1.5], fixed_cost=45, **{"from": 1}),
    ]
    return {
        "model": "network",
        "name": "electronics-5x3",
        "periods": T,
        "materials": [{"name": "MCU-32", "life": None, "value": 4.2},
                      {"name": "FLUX-7", "life": 4, "value": 12.0},
                      {"name": "EPOXY-2", "life": 3, "value": 30.0}],
        "firms": [{"name": n} for n in ("Aurora", "Borealis", "Cobalt", "Delta", "Echo")],
        "stock": stock,
        "links": links,
        "loans": {"durations": [2, 4, 6], "fee": 0.05},
    }


def electronics_case() -> Instance:
    return Instance.from_json(electronics_doc())


def generate(firms: int = 10, materials: int = 5, periods: int = 12, density: float = 0.3,
             life: tuple[int, int] = (3, 8), expiring: float = 0.5, seed: int = 0) -> Instance:
    """A random network with excess, expiring lots and shortages.

    Parameters
    ----------
    firms, materials, periods : int
    density : float
        Probability that a directed link exists between two firms (links come in pairs, so
        loans are possible on every link).
    life : (int, int)
        Range of shelf lives (periods) of the expiring materials.
    expiring : float
        Share of materials that expire.
    seed : int
    """
    for name, v, lo, hi in (("firms", firms, 2, MAX_FIRMS),
                            ("materials", materials, 1, MAX_MATERIALS),
                            ("periods", periods, 2, MAX_PERIODS), ("seed", seed, 0, 2**63 - 1)):
        if not lo <= v <= hi:
            raise InputError(name, f"must lie in {lo}..{hi}, got {v}")
    # The stock of every firm and material, and the unit costs of every link there could be.
    if firms * materials * (periods + 1) > MAX_CELLS or \
            firms * (firms - 1) * materials > MAX_CELLS:
        raise InputError("firms", f"{firms} firms x {materials} materials x {periods} periods: "
                                  f"more than {MAX_CELLS:,} stock entries or unit costs")
    if not 0 < density <= 1:
        raise InputError("density", f"must lie in (0, 1], got {density}")
    if not 0 <= expiring <= 1:
        raise InputError("expiring", f"must lie in [0, 1], got {expiring}")
    if not 1 <= life[0] <= life[1] <= MAX_PERIODS:
        raise InputError("life", f"must be a range 1 <= low <= high <= {MAX_PERIODS}, got "
                                 f"{life}")
    rng = np.random.default_rng(seed)
    N, M, T = firms, materials, periods
    mats = []
    for m in range(M):
        lf = int(rng.integers(life[0], life[1] + 1)) if rng.random() < expiring else None
        mats.append({"name": f"M{m}", "life": lf, "value": round(float(rng.uniform(1, 40)), 2)})
    stock = []
    for m in range(M):
        users = rng.choice(N, size=int(rng.integers(2, min(N, 8) + 1)), replace=False)
        lf = mats[m]["life"]
        for f in sorted(users.tolist()):
            rate = float(rng.uniform(5, 50))
            req = np.round(rate * rng.uniform(0.6, 1.4, T), 1)
            kind = rng.random()
            # a third in excess, a third short for a while, a third balanced
            cover = 2.5 if kind < 1 / 3 else (0.2 if kind < 2 / 3 else 1.0)
            qty = round(float(cover * req[: T // 2].sum()), 1)
            last = None if lf is None else int(rng.integers(1, lf + 1))
            rec = np.zeros(T)
            for t in rng.choice(T, size=max(1, T // 4), replace=False):
                rec[t] = round(float(rate * rng.uniform(1, 4)), 1)
            if kind >= 1 / 3 and kind < 2 / 3:
                rec[: T // 3] = 0.0
            stock.append({"firm": f, "material": m,
                          "lots": [{"qty": qty, "last_period": last}] if qty > 0 else [],
                          "receipts": rec.tolist(), "requirements": req.tolist(),
                          "protected": round(float(rate * rng.uniform(0.5, 2)), 1),
                          "hold": round(float(mats[m]["value"] * rng.uniform(0.005, 0.02)), 4),
                          "shortage": round(float(mats[m]["value"] * rng.uniform(0.2, 1.0)),
                                            3)})
    links = []
    for i in range(N):
        for j in range(i + 1, N):
            if rng.random() < density:
                lead = int(rng.integers(1, 3))
                uc = np.round(rng.uniform(0.01, 0.1, M) * [m_["value"] for m_ in mats], 3)
                fc = round(float(rng.uniform(10, 80)), 1)
                links.append({"from": i, "to": j, "lead_time": lead, "unit_cost": uc.tolist(),
                              "fixed_cost": fc})
                links.append({"from": j, "to": i, "lead_time": lead, "unit_cost": uc.tolist(),
                              "fixed_cost": fc})
    doc = {"model": "network", "name": f"network-{N}x{M}x{T}-s{seed}", "periods": T,
           "materials": mats, "firms": [{"name": f"F{f}"} for f in range(N)], "stock": stock,
           "links": links, "loans": {"durations": [2, 4], "fee": 0.0}}
    return Instance.from_json(doc)
