"""The shipped steel case and a seeded generator of larger SFI instances.

The seed paper gives the case's structure, orders and capacities but not its stage times and
costs; the figures below are chosen for a plausible integrated steel line and documented in
``docs/models/sfi.md`` ("The shipped steel case").
"""

from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...limits import MAX_CATEGORIES, MAX_CELLS, MAX_PERIODS, MAX_PRODUCTS, MAX_SCENARIOS
from .instance import Instance

#: Stages of the steel line: name, cumulative time (h), unit value, holding per unit-hour,
#: setup of a generic / dedicated buffer, re-setup (reheating) of carried stock.
STEEL_STAGES = (
    ("raw", 0, 100, 0.010, 0, 0, 0),
    ("ironmaking", 6, 200, 0.020, 1200, 1500, 600),
    ("steelmaking", 10, 260, 0.026, 1300, 1600, 600),
    ("refining", 14, 300, 0.030, 1400, 1700, 700),
    ("casting", 20, 340, 0.034, 1500, 1800, 800),
    ("hot-rolling", 32, 420, 0.042, 1800, 2000, 900),
    ("pickling", 40, 460, 0.046, 2000, 2200, 900),
    ("cold-rolling", 52, 530, 0.053, 2200, 2500, 1000),
    ("finished", 64, 600, 0.060, 0, 0, 0),
)
STEEL_CATEGORIES = ("plate", "hot-rolled-coil", "cold-rolled-sheet")
#: Orders of the seed's first two periods (its Tables of periods 1 and 2), per product.
SEED_ORDERS = (
    (3800, 4000, 4300, 4000, 4000, 4000, 4100, 3900, 4000),
    (4300, 4000, 4000, 3900, 4200, 4000, 4000, 4000, 3800),
)
SHIPPED_PERIODS = (6, 8, 12, 24)


def _stage_docs(rows) -> list[dict]:
    keys = ("name", "tau", "value", "hold", "setup_generic", "setup_dedicated", "setup_reuse")
    return [dict(zip(keys, row)) for row in rows]


def steel_case(periods: int = 24) -> dict:
    """The steel case of the seed paper for ``periods`` periods, as an instance document.

    Three categories of three products, five PDP candidates (stages 1-5) per category, six CODP
    candidates (stages 2-7) per product, orders of 3,800 to 4,300 units per product and period
    (the seed's two periods, then a seeded draw from the same range in steps of 100),
    preparation capacity 39,000 units in period 1 and 37,000 after.
    """
    if not isinstance(periods, int) or not 1 <= periods <= MAX_PERIODS:
        raise InputError("periods", f"must be an integer in 1..{MAX_PERIODS}, got {periods!r}")
    rng = np.random.default_rng(20251008)
    orders = np.empty((9, periods))
    for t in range(periods):
        if t < len(SEED_ORDERS):
            orders[:, t] = SEED_ORDERS[t]
        else:
            orders[:, t] = 3800 + 100 * rng.integers(0, 6, size=9)
    lead = (24, 36, 48)
    products = []
    for c in range(3):
        for j in range(3):
            products.append({
                "name": f"{STEEL_CATEGORIES[c]}-{'ABC'[j]}",
                "category": c,
                "codp_candidates": [2, 3, 4, 5, 6, 7],
                "lead_time": lead[j],
                "delay_penalty": 0.5,
                "service_level": 0.9,
                "service_penalty": 30,
                "lost_sale_penalty": 400,
                "priority": 3 * c + j,
            })
    return {
        "model": "sfi",
        "name": f"steel-case-{periods}",
        "disposal_rate": 0.6,
        "stages": _stage_docs(STEEL_STAGES),
        "categories": [{"name": n, "pdp_candidates": [1, 2, 3, 4, 5]} for n in STEEL_CATEGORIES],
        "products": products,
        "periods": {
            "prep": [48] * periods,
            "fulfil": [120] * periods,
            "capacity": [39000] + [37000] * (periods - 1),
            "mto_capacity": [3000] * periods,
        },
        "orders": orders.astype(int).tolist(),
        # The seed's stock left at the end of its first period, carried into our first.
        "initial": {
            "generic": [{"stage": 1, "qty": q} for q in (700, 1500, 400)],
            "dedicated": [{"stage": 2, "qty": q} for q in (200, 0, 0, 0, 0, 0, 0, 100, 0)],
            "backlog": [0] * 9,
        },
    }


def check_size(periods, categories, products_per_category, scenarios, seed) -> int:
    """Check a generator's size arguments (``InputError`` naming the one at fault); returns
    the number of products."""
    for name, v, high in (("periods", periods, MAX_PERIODS),
                          ("categories", categories, MAX_CATEGORIES),
                          ("products_per_category", products_per_category, MAX_PRODUCTS),
                          ("scenarios", scenarios, MAX_SCENARIOS), ("seed", seed, 2**63 - 1)):
        low = 0 if name == "seed" else 1
        if not isinstance(v, (int, np.integer)) or not low <= v <= high:
            raise InputError(name, f"must be an integer in {low}..{high}, got {v!r}")
    P = categories * products_per_category
    if P > MAX_PRODUCTS:
        raise InputError("products_per_category", f"{categories} categories x "
                                                  f"{products_per_category} products: more "
                                                  f"than {MAX_PRODUCTS:,} products")
    if scenarios * P * periods > MAX_CELLS:
        raise InputError("periods", f"{scenarios} scenarios x {P} products x {periods} periods: "
                                    f"more than {MAX_CELLS:,} orders")
    return P


def generate(
    *,
    periods: int,
    categories: int,
    products_per_category: int,
    scenarios: int = 1,
    seed: int = 0,
    forecast_error: float = 0.2,
) -> dict:
    """A random instance on the steel line's stages, as an instance document.

    Parameters
    ----------
    periods, categories, products_per_category : int
        Size of the instance.
    scenarios : int
        Number of equally weighted order scenarios; each multiplies the forecast by independent
        lognormal noise of relative size ``forecast_error``.
    seed : int
        The same seed gives the same instance.
    forecast_error : float
        Relative standard deviation of scenario orders around the forecast.

    Notes
    -----
    Stage costs are the steel line's, scaled by a random factor in [0.8, 1.2] per stage
    (holding kept non-decreasing). Each category draws 2 to 5 PDP candidates among stages 1-5,
    each product 2 to 6 CODP candidates among the stages at or below 7 that lie at or after its
    category's lowest PDP candidate. Preparation capacity is 0.9 to 1.05 times the forecast
    demand of the period; make-to-order capacity 5 to 10 %.
    """
    check_size(periods, categories, products_per_category, scenarios, seed)
    if not 0 <= forecast_error <= 2:
        raise InputError("forecast_error", f"must lie in [0, 2], got {forecast_error!r}")
    rng = np.random.default_rng(seed)
    rows = []
    hold_prev = 0.0
    for st in STEEL_STAGES:
        f = rng.uniform(0.8, 1.2)
        hold_prev = max(hold_prev, round(st[3] * f, 4))
        rows.append((st[0], st[1], round(st[2] * f, 2), hold_prev,
                     round(st[4] * f), round(st[5] * f), round(st[6] * f)))
    cats, prods = [], []
    P = categories * products_per_category
    for c in range(categories):
        kg = sorted(rng.choice(np.arange(1, 6), size=rng.integers(2, 6), replace=False).tolist())
        cats.append({"name": f"cat{c}", "pdp_candidates": kg})
        allowed = np.arange(kg[0], 8)
        for j in range(products_per_category):
            n_kd = int(rng.integers(min(2, allowed.size), min(6, allowed.size) + 1))
            kd = sorted(rng.choice(allowed, size=n_kd, replace=False).tolist())
            prods.append({
                "name": f"p{c}-{j}",
                "category": c,
                "codp_candidates": kd,
                "lead_time": float(rng.choice([12, 24, 36, 48])),
                "delay_penalty": round(float(rng.uniform(0.3, 0.8)), 3),
                "service_level": round(float(rng.uniform(0.8, 0.95)), 3),
                "service_penalty": round(float(rng.uniform(20, 40)), 2),
                "lost_sale_penalty": round(float(rng.uniform(300, 500)), 1),
                "priority": len(prods),
            })
    base = rng.uniform(3000, 5000, size=P)
    forecast = np.round(base[:, None] * rng.uniform(0.9, 1.1, size=(P, periods)))
    if scenarios == 1:
        orders: object = forecast.tolist()
    else:
        sigma = np.sqrt(np.log1p(forecast_error**2))
        noise = rng.lognormal(-sigma**2 / 2, sigma, size=(scenarios, P, periods))
        orders = {"scenarios": np.round(forecast[None] * noise).tolist(),
                  "weights": [1.0 / scenarios] * scenarios}
    total = forecast.sum(axis=0)
    return {
        "model": "sfi",
        "name": f"generated-c{categories}-k{products_per_category}-t{periods}-s{scenarios}-"
                f"seed{seed}",
        "disposal_rate": 0.6,
        "stages": _stage_docs(rows),
        "categories": cats,
        "products": prods,
        "periods": {
            "prep": [48] * periods,
            "fulfil": [120] * periods,
            "capacity": np.round(total * rng.uniform(0.9, 1.05, size=periods)).tolist(),
            "mto_capacity": np.round(total * rng.uniform(0.05, 0.1, size=periods)).tolist(),
        },
        "orders": orders,
    }


def load_steel(periods: int = 24) -> Instance:
    """The steel case as an :class:`Instance`."""
    return Instance.from_json(steel_case(periods))
