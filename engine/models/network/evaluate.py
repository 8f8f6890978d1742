"""Costs, KPIs and the donor-protection check of network plans, through the Numba kernel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ....kernels import network as knet
from ....kernels.network_data import Costs, MoveArrays, Stock
from ...errors import InputError
from .instance import Instance
from .plan import PAYBACK, Moves, Plan, batch_moves

#: Absolute tolerance (units) of the feasibility checks: coverage and donor protection.
FEAS_TOL = 1e-6
BREAKDOWN = ("holding", "shortage", "waste", "transfer_unit", "transfer_fixed")
KPIS = ("backlog_unit_periods", "delays", "waste_units", "met_in_period", "transfers",
        "transferred_units", "loans", "loaned_units")


@dataclass(frozen=True, eq=False)
class Baseline:
    """Every (firm, material) with no sharing.

    Attributes
    ----------
    traj : ndarray, shape (N, M, T, 4)
        End stock, backlog, waste and units met in period.
    fm : ndarray, shape (N, M, 7)
        Kernel accumulators per pair; ``firm`` (N, 7) their sums over materials.
    floor : ndarray, shape (N, M, T)
        ``min(S, baseline end stock)``: what a donor must keep.
    """

    traj: np.ndarray
    fm: np.ndarray
    firm: np.ndarray
    floor: np.ndarray


class KernelData:
    """An instance's records for the kernels (``stock`` and ``costs``,
    :data:`invswarm.kernels.network_data.Stock` and ``Costs``), and its baseline."""

    def __init__(self, inst: Instance):
        self.inst = inst
        N, M, T = inst.requirements.shape
        self.rbucket = np.array([[inst.receipt_bucket(m, t) for t in range(T)]
                                 for m in range(M)], np.int64)
        traj = np.zeros((N, M, T, 4))
        fm = np.zeros((N, M, knet.N_ACC))
        # The baseline reads no protection: zeros of the same types stand in.
        knet.baseline(self._stock(inst, np.zeros((N, M, T)), np.zeros((N, M, T))),
                      inst.listed, fm, traj)
        floor = np.minimum(inst.protected[:, :, None], traj[:, :, :, knet.TR_STOCK])
        self.base = Baseline(traj=traj, fm=fm, firm=fm.sum(axis=1), floor=floor)
        #: The baseline's backlog (N, M, T): the most a donor may backlog.
        self.base_back = np.ascontiguousarray(traj[:, :, :, knet.TR_BACKLOG])
        self.stock = self._stock(inst, floor, self.base_back)
        self.costs = Costs(inst.unit_cost, inst.fixed_cost, inst.price, float(inst.loan_fee), fm,
                           self.base.firm.copy(), FEAS_TOL)

    def _stock(self, inst: Instance, floor, base_back) -> Stock:
        return Stock(inst.lots, inst.receipts, inst.requirements, self.rbucket, inst.link_from,
                     inst.link_to, inst.lead, inst.hold, inst.shortage, inst.value, floor,
                     base_back)


@dataclass(frozen=True, eq=False)
class BatchCosts:
    """Kernel outputs of a batch of ``P`` plans (shapes as in ``network_costs``)."""

    cost: np.ndarray
    flags: np.ndarray
    breakdown: np.ndarray
    kpis: np.ndarray
    firm: np.ndarray


def batch_costs(data: KernelData, ptr, link, mat, dep, qty, kind, dur,
                prepaid: np.ndarray | None = None) -> BatchCosts:
    """Run the batch kernel on moves in CSR form (``ptr`` of shape (P + 1,)); ``prepaid``
    (L, T) marks link-periods whose fixed cost is paid elsewhere."""
    P = ptr.size - 1
    if prepaid is None:
        prepaid = np.zeros((data.inst.n_links, data.inst.n_periods), np.bool_)
    N = data.inst.n_firms
    out = BatchCosts(np.zeros(P), np.zeros(P, np.int64), np.zeros((P, knet.N_BREAK)),
                     np.zeros((P, knet.N_KPI)), np.zeros((P, N, knet.N_FIRM)))
    knet.network_costs(ptr, MoveArrays(link, mat, dep, qty, kind, dur), data.stock,
                       data.costs, prepaid, out.cost, out.flags, out.breakdown, out.kpis,
                       out.firm)
    return out


def plan_costs(data: KernelData, plans: list[Plan], prepaid: np.ndarray | None = None
               ) -> BatchCosts:
    """Kernel outputs of a list of plans."""
    ptr = np.zeros(len(plans) + 1, np.int64)
    ptr[1:] = np.cumsum([p.n_shipments for p in plans])

    def cat(name, dtype):
        parts = [getattr(p, name) for p in plans]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    return rows_costs(data, ptr, cat("link", np.int64), cat("material", np.int64),
                      cat("period", np.int64), cat("qty", np.float64), cat("kind", np.int64),
                      cat("ret", np.int64), prepaid)


def rows_costs(data: KernelData, ptr, link, material, period, qty, kind, ret,
               prepaid: np.ndarray | None = None) -> BatchCosts:
    """Kernel outputs of many plans given as shipment arrays in CSR form (plan ``p``:
    ``ptr[p]:ptr[p + 1]``)."""
    mptr, mv = batch_moves(data.inst, ptr, link, material, period, qty, kind, ret)
    return batch_costs(data, mptr, mv.link, mv.material, mv.dep, mv.qty, mv.kind, mv.dur,
                       prepaid)


@dataclass(frozen=True, eq=False)
class Detail:
    """One plan simulated in full: trajectories (N, M, T, 4), move shortfalls, flags, and
    the batch outputs for ``P = 1``."""

    moves: Moves
    traj: np.ndarray
    move_short: np.ndarray
    flags: int
    costs: BatchCosts


def detail(data: KernelData, plan: Plan) -> Detail:
    inst = data.inst
    mv = plan.moves(inst)
    traj = data.base.traj.copy()
    short = np.zeros(mv.link.size)
    out = BatchCosts(np.zeros(1), np.zeros(1, np.int64), np.zeros((1, knet.N_BREAK)),
                     np.zeros((1, knet.N_KPI)), np.zeros((1, inst.n_firms, knet.N_FIRM)))
    flags = knet.plan_detail(MoveArrays(mv.link, mv.material, mv.dep, mv.qty, mv.kind, mv.dur),
                             data.stock, data.costs, traj, short, out.breakdown, out.kpis,
                             out.firm)
    out.cost[0] = out.breakdown[0].sum()
    out.flags[0] = flags
    return Detail(moves=mv, traj=traj, move_short=short, flags=int(flags), costs=out)


def material_traj(data: KernelData, plan: Plan, m: int) -> np.ndarray:
    """Trajectories (N, T, 4) of material ``m`` under ``plan``'s shipments of it (end stock,
    backlog, waste, units met in period)."""
    inst = data.inst
    mv = plan.moves(inst)
    sel = mv.material == m
    traj = np.ascontiguousarray(data.base.traj[:, m:m + 1])
    touched = np.zeros(inst.n_firms, np.bool_)
    touched[inst.link_from[mv.link[sel]]] = True
    touched[inst.link_to[mv.link[sel]]] = True
    knet.material(m, mv.link[sel], mv.dep[sel], mv.qty[sel], mv.kind[sel], 0, int(sel.sum()),
                  touched, data.stock, False, 0.0, np.zeros((inst.n_firms, knet.N_ACC)),
                  traj, 0, np.zeros(0))
    return traj[:, 0]


@dataclass(frozen=True)
class Refusal:
    """Why a plan may not be carried out.

    Attributes
    ----------
    rule : {"coverage", "donor_backlog", "donor_stock", "role", "structure"}
    firm, material : int
        The donor (or sender) concerned (-1 for a plan that breaks the format's rules).
    period : int
        1-based period, or 0 when the rule is not tied to one.
    message : str
    """

    rule: str
    firm: int
    material: int
    period: int
    message: str


@dataclass(frozen=True, eq=False)
class Authorization:
    """The verdict on a plan: ``ok`` and, when refused, every reason."""

    ok: bool
    refusals: tuple[Refusal, ...]

    def to_json(self) -> dict:
        return {"authorized": self.ok,
                "refusals": [r.__dict__ for r in self.refusals]}


def authorize(inst: Instance, plan: Plan, proposed: Plan | None = None,
              data: KernelData | None = None) -> Authorization:
    """Authorize or refuse a plan (or the plan with ``proposed`` shipments added).

    Refuses when a shipment is not covered by its sender's stock usable on arrival, when a
    firm is both donor and receiver of a material, or when a donor's backlog exceeds, or its
    end stock falls below ``min(S, baseline stock)`` of, its baseline in any period.
    """
    data = data or KernelData(inst)
    if proposed is not None:
        plan = Plan.joined([plan, proposed])
    try:
        # plans built as arrays must obey the rules a plan document is read by
        Plan.from_json(plan.to_json(inst), inst)
    except InputError as exc:
        return Authorization(ok=False, refusals=(Refusal("structure", -1, -1, 0, str(exc)),))
    d = detail(data, plan)
    names = inst.firm_names
    mnames = inst.material_names
    out: list[Refusal] = []
    mv = d.moves
    for k in np.flatnonzero(d.move_short > FEAS_TOL):
        i = int(inst.link_from[mv.link[k]])
        m = int(mv.material[k])
        what = "payback" if mv.kind[k] == PAYBACK else "shipment"
        out.append(Refusal("coverage", i, m, int(mv.dep[k]) + 1,
                           f"{what} of {mv.qty[k]:g} {mnames[m]} from {names[i]} in period "
                           f"{mv.dep[k] + 1}: {d.move_short[k]:g} units not covered by stock "
                           f"usable on arrival"))
    regular = mv.kind != PAYBACK
    donors = {(int(inst.link_from[lk]), int(m)) for lk, m in zip(mv.link[regular],
                                                                  mv.material[regular])}
    receivers = {(int(inst.link_to[lk]), int(m)) for lk, m in zip(mv.link[regular],
                                                                   mv.material[regular])}
    for f, m in sorted(donors & receivers):
        out.append(Refusal("role", f, m, 0, f"{names[f]} both gives and receives "
                           f"{mnames[m]}"))
    base = data.base
    for f, m in sorted(donors):
        back = d.traj[f, m, :, knet.TR_BACKLOG]
        stock = d.traj[f, m, :, knet.TR_STOCK]
        bb = base.traj[f, m, :, knet.TR_BACKLOG]
        for t in np.flatnonzero(back > bb + FEAS_TOL):
            out.append(Refusal("donor_backlog", f, m, int(t) + 1,
                               f"donor {names[f]} would backlog {back[t]:g} {mnames[m]} in "
                               f"period {t + 1}, against {bb[t]:g} without sharing"))
        for t in np.flatnonzero(stock < base.floor[f, m] - FEAS_TOL):
            out.append(Refusal("donor_stock", f, m, int(t) + 1,
                               f"donor {names[f]} would end period {t + 1} with {stock[t]:g} "
                               f"{mnames[m]}, below its floor {base.floor[f, m, t]:g}"))
    if bool(out) != bool(d.flags):
        raise AssertionError("kernel flags and the detailed check disagree")
    return Authorization(ok=not out, refusals=tuple(out))


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Cost, breakdown, per-firm figures and KPIs of one plan, against no sharing."""

    cost: float
    feasible: bool
    breakdown: dict
    kpis: dict
    firms: list

    def to_json(self) -> dict:
        return {"cost": self.cost, "feasible": self.feasible, "breakdown": self.breakdown,
                "kpis": self.kpis, "firms": self.firms}


def evaluate(inst: Instance, plan: Plan, data: KernelData | None = None) -> Evaluation:
    """Evaluate one plan; KPIs compare it with the no-sharing baseline."""
    data = data or KernelData(inst)
    both = plan_costs(data, [plan, Plan.empty()])
    cost = float(both.cost[0])
    k, k0 = both.kpis[0], both.kpis[1]
    demand = inst.requirements.sum(axis=(1, 2))
    total = float(demand.sum())
    kpis = dict(zip(KPIS, map(float, k)))
    kpis.update({
        "backlog_unit_periods_avoided": float(k0[0] - k[0]),
        "delays_avoided": float(k0[1] - k[1]),
        "waste_avoided": float(k0[2] - k[2]),
        "plan_adherence": float(k[3] / total) if total > 0 else 1.0,
        "plan_adherence_no_sharing": float(k0[3] / total) if total > 0 else 1.0,
        "cost_no_sharing": float(both.cost[1]),
    })
    firms = []
    for f, name in enumerate(inst.firm_names):
        own, paid, net, met = both.firm[0, f]
        own0 = both.firm[1, f, 0]
        firms.append({"firm": name, "own_cost": float(own), "transfer_paid": float(paid),
                      "payments_net": float(net),
                      "cost_change": float(own + paid + net - own0),
                      "plan_adherence": float(met / demand[f]) if demand[f] > 0 else 1.0})
    return Evaluation(cost=cost, feasible=bool(both.flags[0] == 0),
                      breakdown=dict(zip(BREAKDOWN, map(float, both.breakdown[0]))), kpis=kpis,
                      firms=firms)
