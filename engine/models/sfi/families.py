"""Families of generated SFI instances that span the model, not only the steel line.

:func:`~invswarm.engine.models.sfi.cases.generate` perturbs the steel line's costs; the
families here draw every feature of an instance from ranges that reach far from it: the
number of stages, how processing time and value grow along the line, setup against holding
costs, tight to slack capacity, homogeneous to heterogeneous demand, demand scenarios,
priorities, service levels, disposal, initial stock and make-to-order capacity. Each family
stresses a few of these and keeps the others in the ``balanced`` ranges; ``wide`` draws every
feature from the union of the families' ranges. ``docs/models/sfi.md`` ("Instance families")
lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from ...errors import InputError
from .cases import check_size

Range = tuple[float, float]


@dataclass(frozen=True)
class Family:
    """The ranges one family draws an instance's features from (each ``(low, high)``,
    uniform; a range whose ends are equal fixes the feature).

    Attributes
    ----------
    stages : (int, int)
        Number of stages, raw material and finished product included.
    line_hours : Range
        Processing time of the whole line, ``tau`` of the finished stage (h).
    time_growth, value_growth : Range
        Exponents ``g`` of ``tau_s = line_hours (s / S)^g`` and of the unit value's growth
        from raw to finished: above 1 most of the time (value) is added downstream.
    value_ratio : Range
        Finished unit value over raw unit value.
    hold_rate : Range
        Holding cost per unit-hour as a share of the stage's unit value.
    setup_weight : Range
        A setup's cost as a share of holding a mean product's orders at that stage for one
        fulfilment window: near 0 holding dominates, near 1 and above setups do.
    reuse_share : Range
        Re-setup of carried stock as a share of the dedicated setup.
    delay_to_hold : Range
        Delay penalty per unit-hour over the finished stage's holding rate.
    lead_share : Range
        A product's lead time as a share of the line's processing time.
    service_level : Range
    service_penalty, lost_sale : Range
        Per unit, as shares of the finished unit value.
    capacity : Range
        Preparation capacity of a period over its forecast orders (all products).
    mto_share : Range
        Make-to-order capacity over the period's forecast orders.
    demand_spread : float
        Standard deviation of the log of the products' mean orders (0: all alike).
    period_variation : float
        Relative spread of a product's orders from period to period around its mean.
    scenarios : (int, int)
        Number of equally weighted order scenarios.
    forecast_error : Range
        Relative standard deviation of scenario orders around the forecast.
    shuffled_priority : bool
        Priorities in a random order, not in the list's.
    disposal_rate : Range
    initial_stock : Range
        Stock carried into period 1 as a share of period 1's orders (0: none).
    prep_hours, fulfil_hours : Range
        Lengths of the preparation and fulfilment windows of a period (h).
    """

    description: str
    stages: tuple[int, int] = (5, 9)
    line_hours: Range = (40.0, 80.0)
    time_growth: Range = (0.8, 1.25)
    value_growth: Range = (0.8, 1.25)
    value_ratio: Range = (3.0, 8.0)
    hold_rate: Range = (5e-5, 1.5e-4)
    setup_weight: Range = (0.05, 0.3)
    reuse_share: Range = (0.3, 0.6)
    delay_to_hold: Range = (4.0, 12.0)
    lead_share: Range = (0.3, 0.8)
    service_level: Range = (0.8, 0.95)
    service_penalty: Range = (0.03, 0.07)
    lost_sale: Range = (0.5, 0.8)
    capacity: Range = (0.9, 1.05)
    mto_share: Range = (0.05, 0.1)
    demand_spread: float = 0.15
    period_variation: float = 0.1
    scenarios: tuple[int, int] = (1, 1)
    forecast_error: Range = (0.2, 0.2)
    shuffled_priority: bool = False
    disposal_rate: Range = (0.4, 0.8)
    initial_stock: Range = (0.0, 0.0)
    prep_hours: Range = (36.0, 60.0)
    fulfil_hours: Range = (96.0, 144.0)


BALANCED = Family("every feature in moderate ranges around the steel line's proportions")

FAMILIES: dict[str, Family] = {
    "balanced": BALANCED,
    "setup-heavy": replace(BALANCED, description="setups cost as much as holding a period's "
                                                 "orders, or more", setup_weight=(0.5, 2.0)),
    "holding-heavy": replace(BALANCED, description="holding dominates, setups are cheap",
                             hold_rate=(2e-4, 5e-4), setup_weight=(0.005, 0.03)),
    "tight": replace(BALANCED, description="capacity well below the orders, little "
                                           "make-to-order capacity",
                     capacity=(0.7, 0.85), mto_share=(0.02, 0.05)),
    "slack": replace(BALANCED, description="capacity well above the orders, ample "
                                           "make-to-order capacity",
                     capacity=(1.15, 1.5), mto_share=(0.1, 0.25)),
    "heterogeneous": replace(BALANCED, description="products' orders a factor of ten apart "
                                                   "and uneven over time, service levels "
                                                   "and priorities mixed",
                             demand_spread=1.0, period_variation=0.4,
                             service_level=(0.6, 0.99), lead_share=(0.1, 1.0),
                             shuffled_priority=True),
    "long-line": replace(BALANCED, description="9 or 10 stages, time spent downstream, value "
                                               "added upstream",
                         stages=(9, 10), time_growth=(1.3, 2.0), value_growth=(0.5, 0.8)),
    "short-line": replace(BALANCED, description="4 or 5 stages, time spent upstream, value "
                                                "added downstream",
                          stages=(4, 5), time_growth=(0.5, 0.8), value_growth=(1.3, 2.0)),
    "uncertain": replace(BALANCED, description="3 to 6 demand scenarios, stock carried in, "
                                               "disposal from cheap to dear",
                         scenarios=(3, 6), forecast_error=(0.2, 0.5),
                         initial_stock=(0.1, 0.5), disposal_rate=(0.1, 0.9)),
}


def _union(families) -> Family:
    """The family whose every range covers the given families' ranges."""
    kw = {}
    for f in fields(Family):
        vals = [getattr(fam, f.name) for fam in families]
        if f.name == "description":
            continue
        if isinstance(vals[0], tuple):
            kw[f.name] = (min(v[0] for v in vals), max(v[1] for v in vals))
        elif isinstance(vals[0], bool):
            kw[f.name] = any(vals)
        else:
            kw[f.name] = max(vals)
    return Family("every feature drawn from the union of the other families' ranges", **kw)


FAMILIES["wide"] = _union(list(FAMILIES.values()))


def _stage_rows(rng: np.random.Generator, fam: Family, mean_orders: float,
                fulfil: float) -> list[dict]:
    n = int(rng.integers(fam.stages[0], fam.stages[1] + 1))
    S = n - 1
    frac = np.arange(n) / S
    tau = rng.uniform(*fam.line_hours) * frac ** rng.uniform(*fam.time_growth)
    # whole hours that still rise strictly along the line
    tau = np.maximum(np.round(tau), np.arange(n)).astype(float)
    for s in range(1, n):
        tau[s] = max(tau[s], tau[s - 1] + 1)
    raw_value = 100.0
    ratio = rng.uniform(*fam.value_ratio)
    value = raw_value * (1 + (ratio - 1) * frac ** rng.uniform(*fam.value_growth))
    rate = rng.uniform(*fam.hold_rate)
    hold = np.maximum.accumulate(np.round(value * rate, 6))
    weight = rng.uniform(*fam.setup_weight)
    reuse = rng.uniform(*fam.reuse_share)
    rows = []
    for s in range(n):
        inner = 0 < s < S
        dedicated = round(weight * hold[s] * mean_orders * fulfil, 2) if inner else 0.0
        rows.append({"name": f"stage{s}", "tau": float(tau[s]),
                     "value": round(float(value[s]), 2), "hold": float(hold[s]),
                     "setup_generic": round(0.85 * dedicated, 2),
                     "setup_dedicated": dedicated,
                     "setup_reuse": round(reuse * dedicated, 2)})
    return rows


def generate_family(family: str, *, periods: int, categories: int,
                    products_per_category: int, seed: int) -> dict:
    """A random instance of one family, as an instance document.

    Parameters
    ----------
    family : str
        A key of :data:`FAMILIES`.
    periods, categories, products_per_category : int
        Size of the instance.
    seed : int
        The same family, size and seed give the same instance.

    Notes
    -----
    Each category has 2 to 4 PDP candidates among the SFI stages, each product 2 to 5 CODP
    candidates at or after its category's lowest PDP candidate (fewer where the line is
    short). Orders are whole units.
    """
    if family not in FAMILIES:
        raise InputError("family", f"unknown family {family!r} (choose from "
                                   f"{', '.join(FAMILIES)})")
    fam = FAMILIES[family]
    # sized for the most scenarios the family may draw
    P = check_size(periods, categories, products_per_category, fam.scenarios[1], seed)
    # one stream per family and seed, so that families of one seed are unrelated draws
    rng = np.random.default_rng([seed, sum(map(ord, family))])
    mean = 4000.0 * np.exp(rng.normal(-fam.demand_spread**2 / 2, fam.demand_spread, size=P))
    forecast = np.maximum(1.0, np.round(mean[:, None] * rng.uniform(
        1 - fam.period_variation, 1 + fam.period_variation, size=(P, periods))))
    prep = round(float(rng.uniform(*fam.prep_hours)))
    fulfil = round(float(rng.uniform(*fam.fulfil_hours)))
    stages = _stage_rows(rng, fam, float(forecast.mean()), fulfil)
    S = len(stages) - 1
    line = stages[-1]["tau"]
    hold_finished = stages[-1]["hold"]
    v_fin = stages[-1]["value"]
    cats, prods = [], []
    priority = rng.permutation(P) if fam.shuffled_priority else np.arange(P)
    for c in range(categories):
        n_pdp = int(rng.integers(min(2, S - 1), min(4, S - 1) + 1))
        pdp = sorted(int(k) for k in rng.choice(np.arange(1, S), size=n_pdp, replace=False))
        cats.append({"name": f"cat{c}", "pdp_candidates": pdp})
        allowed = np.arange(pdp[0], S)
        for j in range(products_per_category):
            n_codp = int(rng.integers(min(2, allowed.size), min(5, allowed.size) + 1))
            codp = sorted(int(k) for k in rng.choice(allowed, size=n_codp, replace=False))
            p = len(prods)
            prods.append({
                "name": f"p{c}-{j}",
                "category": c,
                "codp_candidates": codp,
                "lead_time": float(round(line * rng.uniform(*fam.lead_share))),
                "delay_penalty": round(float(hold_finished * rng.uniform(*fam.delay_to_hold)), 6),
                "service_level": round(float(rng.uniform(*fam.service_level)), 3),
                "service_penalty": round(float(v_fin * rng.uniform(*fam.service_penalty)), 2),
                "lost_sale_penalty": round(float(v_fin * rng.uniform(*fam.lost_sale)), 2),
                "priority": int(priority[p]),
            })
    n_scen = int(rng.integers(fam.scenarios[0], fam.scenarios[1] + 1))
    if n_scen == 1:
        orders: object = forecast.tolist()
    else:
        err = rng.uniform(*fam.forecast_error)
        sigma = np.sqrt(np.log1p(err**2))
        noise = rng.lognormal(-sigma**2 / 2, sigma, size=(n_scen, P, periods))
        orders = {"scenarios": np.round(forecast[None] * noise).tolist(),
                  "weights": [1.0 / n_scen] * n_scen}
    total = forecast.sum(axis=0)
    doc = {
        "model": "sfi",
        "name": f"{family}-c{categories}-k{products_per_category}-t{periods}-seed{seed}",
        "disposal_rate": round(float(rng.uniform(*fam.disposal_rate)), 3),
        "stages": stages,
        "categories": cats,
        "products": prods,
        "periods": {
            "prep": [prep] * periods,
            "fulfil": [fulfil] * periods,
            "capacity": np.round(total * rng.uniform(*fam.capacity, size=periods)).tolist(),
            "mto_capacity": np.round(total * rng.uniform(*fam.mto_share,
                                                         size=periods)).tolist(),
        },
        "orders": orders,
    }
    share = rng.uniform(*fam.initial_stock)
    if share > 0:
        first = forecast[:, 0] * share
        generic = [{"stage": cat["pdp_candidates"][0],
                    "qty": float(np.round(first[c * products_per_category:
                                                (c + 1) * products_per_category].sum() / 2))}
                   for c, cat in enumerate(cats)]
        dedicated = [{"stage": pr["codp_candidates"][0], "qty": float(np.round(first[p] / 2))}
                     for p, pr in enumerate(prods)]
        doc["initial"] = {"generic": generic, "dedicated": dedicated, "backlog": [0.0] * P}
    return doc
