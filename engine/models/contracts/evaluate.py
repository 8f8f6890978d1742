"""Contracts through the kernels: the retailers' equilibrium, the OUT simulation of every
scenario and path, profits and indicators per party."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ....kernels import contracts as kc
from .cournot import equilibria
from .instance import Instance
from .plan import Plan

MONEY = ("revenue", "purchase", "holding", "backlog_cost")


def demand_noise(inst: Instance) -> np.ndarray:
    """The standardized demand noise ``u`` (paths, R, T) of the model page: an AR(1) per
    retailer, correlated innovations, started in its stationary distribution; drawn from
    ``default_rng(demand.seed)``."""
    R, T, S = inst.n_retailers, inst.n_periods, inst.paths
    rng = np.random.default_rng(inst.demand_seed)
    Z = rng.standard_normal((S, T + 1, R))
    C = np.full((R, R), inst.correlation)
    np.fill_diagonal(C, 1.0)
    phi = inst.phi
    C0 = C / (1.0 - np.outer(phi, phi))
    eta = Z[:, 1:, :] @ np.linalg.cholesky(C).T
    u = np.empty((S, R, T))
    prev = Z[:, 0, :] @ np.linalg.cholesky(C0).T
    for t in range(T):
        prev = phi * prev + eta[:, t, :]
        u[:, :, t] = prev
    return u


class KernelData:
    """An instance's record for the kernel (``chain``,
    :data:`invswarm.kernels.contracts.Chain`), its demand noise and correlation."""

    def __init__(self, inst: Instance, u: np.ndarray | None = None):
        self.inst = inst
        self.u = demand_noise(inst) if u is None else np.ascontiguousarray(u, np.float64)
        C = np.full((inst.n_retailers,) * 2, inst.correlation)
        np.fill_diagonal(C, 1.0)
        self.corr = C
        self.mode = kc.GUARANTEED if inst.mode == "guaranteed" else kc.FLEXIBLE
        self.chain = kc.Chain(
            float(inst.periods_per_year), inst.lead_r, inst.lead_m, inst.capacity,
            inst.overtime, inst.unit_cost, inst.overtime_cost, inst.hold_r, inst.back_r,
            inst.hold_m, inst.back_m, inst.cv, self.u, inst.cap_factor)


@dataclass(frozen=True, eq=False)
class Batch:
    """Kernel outputs of ``P`` contracts under ``D`` scenarios (means over paths).

    Attributes
    ----------
    y : ndarray, shape (P, R, M)
        Contract quantities; ``price`` (P, R) the retail prices.
    money : ndarray, shape (P, D, R + M, 4)
        Revenue, purchases or production cost, holding and backlog cost over the horizon.
    units : ndarray, shape (P, D, R + M, 6)
        Columns ``kc.SERVED .. kc.SHIPPED``.
    var_o, var_d : ndarray, shape (P, D, R + M + 2)
    profit : ndarray, shape (P, D, R + M)
    expected : ndarray, shape (P, R + M)
        Profits weighted over the scenarios.
    """

    y: np.ndarray
    price: np.ndarray
    money: np.ndarray
    units: np.ndarray
    var_o: np.ndarray
    var_d: np.ndarray
    profit: np.ndarray
    expected: np.ndarray


def safety_stocks(inst: Instance, y: np.ndarray, corr: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """OUT safety stocks ``tns`` of retailers (P, R) and manufacturers (P, M)."""
    n = inst.periods_per_year
    Y = y.sum(axis=2)
    sigma = inst.cv * (Y / n) / np.sqrt(1.0 - inst.phi**2)
    tns_r = inst.safety_factor * sigma * np.sqrt(inst.lead_r)
    share = np.divide(y, Y[:, :, None], out=np.zeros_like(y), where=Y[:, :, None] > 0)
    a = share * sigma[:, :, None]                       # (P, R, M)
    var_m = np.einsum("pim,ik,pkm->pm", a, corr, a)
    tns_m = inst.safety_factor * np.sqrt(np.maximum(var_m, 0.0)) * np.sqrt(inst.lead_m)
    return tns_r, tns_m


def run(data: KernelData, w: np.ndarray, k: np.ndarray, mode: int | None = None) -> Batch:
    """Simulate contracts ``w`` (P, M), ``k`` (P, R, M)."""
    inst = data.inst
    w = np.ascontiguousarray(w, np.float64)
    k = np.ascontiguousarray(k, np.float64)
    y, S = equilibria(w, k, inst.z)
    price = inst.z[None, :] - S[:, None]
    tns_r, tns_m = safety_stocks(inst, y, data.corr)
    P, D = w.shape[0], inst.n_scenarios
    R, M = inst.n_retailers, inst.n_manufacturers
    money = np.zeros((P, D, R + M, kc.N_MONEY))
    units = np.zeros((P, D, R + M, kc.N_UNITS))
    var_o = np.zeros((P, D, R + M + 2))
    var_d = np.zeros((P, D, R + M + 2))
    kc.simulate(data.mode if mode is None else mode, y, np.ascontiguousarray(price), w,
                np.ascontiguousarray(tns_r), np.ascontiguousarray(tns_m), data.chain, money,
                units, var_o, var_d)
    profit = money[..., kc.REVENUE] - money[..., kc.PURCHASE] - money[..., kc.HOLDING] \
        - money[..., kc.BACKLOG_COST]
    expected = np.einsum("pdq,d->pq", profit, inst.weights)
    return Batch(y=y, price=price, money=money, units=units, var_o=var_o, var_d=var_d,
                 profit=profit, expected=expected)


def plans_arrays(plans: list[Plan]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([p.w for p in plans]), np.array([p.k for p in plans])


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 1e-12 * max(1.0, abs(a)) else None


@dataclass(frozen=True, eq=False)
class Evaluation:
    """One contract: expected profits and every scenario's figures.

    ``cost`` is minus the expected profit of the whole chain (the quantity solves minimize).
    """

    cost: float
    breakdown: dict
    kpis: dict
    scenarios: list
    contract: dict

    def to_json(self) -> dict:
        return {"cost": self.cost, "breakdown": self.breakdown, "kpis": self.kpis,
                "scenarios": self.scenarios, "contract": self.contract}


def _scenario_figures(inst: Instance, out: Batch, d: int) -> dict:
    R, M, T = inst.n_retailers, inst.n_manufacturers, inst.n_periods
    names = inst.retailer_names + inst.manufacturer_names
    parties = []
    for q, name in enumerate(names):
        m = out.money[0, d, q]
        u = out.units[0, d, q]
        row = {"party": name, "role": "retailer" if q < R else "manufacturer",
               "profit": float(out.profit[0, d, q]),
               **{c: float(m[c_]) for c_, c in enumerate(MONEY)},
               "backlog": float(u[kc.BACKLOG_UNITS] / T),
               "bullwhip": _ratio(out.var_o[0, d, q], out.var_d[0, d, q])}
        if q < R:
            row["fill_rate"] = _ratio(u[kc.SERVED], u[kc.DEMAND])
        else:
            row["overtime_per_period"] = float(u[kc.OVERTIME] / T)
            row["pooled_per_period"] = float(u[kc.POOLED] / T)
        parties.append(row)
    return {"scenario": inst.scenario_names[d], "weight": float(inst.weights[d]),
            "chain_profit": float(out.profit[0, d].sum()), "parties": parties,
            "bullwhip_retailers": _ratio(out.var_o[0, d, R + M], out.var_d[0, d, R + M]),
            "bullwhip_manufacturers": _ratio(out.var_o[0, d, R + M + 1],
                                             out.var_d[0, d, R + M + 1])}


def evaluate(inst: Instance, plan: Plan, data: KernelData | None = None) -> Evaluation:
    """Evaluate one contract in the instance's mode."""
    data = data or KernelData(inst)
    out = run(data, plan.w[None, :], plan.k[None, :, :])
    R = inst.n_retailers
    names = inst.retailer_names + inst.manufacturer_names
    exp = out.expected[0]
    chain = float(exp.sum())
    wts = inst.weights
    fill = {}
    for i, name in enumerate(inst.retailer_names):
        served = float(wts @ out.units[0, :, i, kc.SERVED])
        dem = float(wts @ out.units[0, :, i, kc.DEMAND])
        fill[name] = _ratio(served, dem)
    breakdown = {"chain_profit": chain,
                 "profit": {nm: float(v) for nm, v in zip(names, exp)},
                 "retailers_profit": float(exp[:R].sum()),
                 "manufacturers_profit": float(exp[R:].sum())}
    kpis = {"fill_rate": fill,
            "backlog": {nm: float(wts @ out.units[0, :, q, kc.BACKLOG_UNITS]) /
                        inst.n_periods for q, nm in enumerate(names)}}
    contract = {"y": out.y[0].tolist(), "retail_price": out.price[0].tolist(),
                "w": plan.w.tolist(), "mode": inst.mode}
    scen = [_scenario_figures(inst, out, d) for d in range(inst.n_scenarios)]
    return Evaluation(cost=-chain if math.isfinite(chain) else math.inf, breakdown=breakdown,
                      kpis=kpis, scenarios=scen, contract=contract)
