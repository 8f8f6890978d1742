"""A plain-Python SFI model, written for clarity from docs/models/sfi.md, not for speed.

The batched kernel is tested against this. It walks one plan through one scenario event by
event, with one small object per buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

#: An amount made or used pays its setup only above this many units (docs/models/sfi.md,
#: "Setups and round-off"); written here from the page, not imported from the kernels.
SETUP_EPS = 1e-6

COMPONENTS = (
    "setup_new", "setup_reuse", "hold_prep", "hold_carried", "hold_new", "delay_carried",
    "delay_new", "delay_mto", "shortfall", "disposal", "lost",
)


@dataclass
class Buffer:
    """A stock of SFI at one stage; ``left`` shrinks as orders draw from it."""

    stage: int
    qty: float
    carried: bool
    left: float = 0.0

    def __post_init__(self):
        self.left = self.qty

    @property
    def used(self) -> float:
        return self.qty - self.left


def simulate(inst, plan, scenario: int, units=float) -> dict:
    """Play ``plan`` through one order scenario.

    ``units`` makes the quantities (stock, orders, backlog, capacity) of the play from the
    instance's and plan's numbers: ``float``, or a function returning ``fractions.Fraction``
    for a play without round-off (the costs stay floats).

    Returns ``{"cost": float, "periods": [dict component -> cost], "kpis": dict}``.
    """
    T = inst.n_periods
    P = inst.n_products
    C = inst.n_categories
    r = [inst.tau[-1] - x for x in inst.tau]
    service_order = sorted(range(P), key=lambda p: (inst.priority[p], p))

    carried_generic = [Buffer(int(inst.init_generic_stage[c]), units(inst.init_generic_qty[c]),
                              True) for c in range(C)]
    carried_dedicated = [Buffer(int(inst.init_dedicated_stage[p]),
                                units(inst.init_dedicated_qty[p]), True) for p in range(P)]
    backlog = [units(x) for x in inst.init_backlog]
    kpis = dict(units_on_time=0.0, units_ordered=0.0, units_late=0.0, units_lost=0.0,
                units_disposed=0.0)
    periods = []
    # Units drawn from each new buffer, and demand a product's own dedicated stock left unmet.
    use = {"generic": [[0.0] * T for _ in range(C)], "dedicated": [[0.0] * T for _ in range(P)],
           "unmet": [[0.0] * T for _ in range(P)]}

    for t in range(T):
        A, B = inst.prep[t], inst.fulfil[t]
        lam_prev = inst.prep[t - 1] + inst.fulfil[t - 1] if t > 0 else inst.prep[0] + inst.fulfil[0]
        cost = dict.fromkeys(COMPONENTS, 0.0)

        # Preparation phase: carried stock waits; new stock is made.
        for buf in carried_generic + carried_dedicated:
            cost["hold_prep"] += inst.hold[buf.stage] * buf.qty * A
        new_generic = [Buffer(int(plan.pdp[c, t]), units(plan.generic[c, t]), False)
                       for c in range(C)]
        new_dedicated = [Buffer(int(plan.codp[p, t]), units(plan.dedicated[p, t]), False)
                         for p in range(P)]
        mto_left = units(inst.mto_capacity[t])

        # Fulfilment phase: products in priority order, backlog before new orders.
        new_backlog = [0.0] * P
        for p in service_order:
            c = inst.category[p]
            L, beta = inst.lead_time[p], inst.delay_penalty[p]
            for is_new in (False, True):
                demand = units(inst.orders[scenario, p, t]) if is_new else backlog[p]
                if is_new:
                    kpis["units_ordered"] += demand
                extra = 0.0 if is_new else lam_prev
                on_time = 0.0
                sources = [(carried_dedicated[p], "delay_carried"),
                           (new_dedicated[p], "delay_new"),
                           (carried_generic[c], "delay_carried"),
                           (new_generic[c], "delay_new"),
                           (None, "delay_mto")]
                for j, (buf, component) in enumerate(sources):
                    stock = mto_left if buf is None else buf.left
                    take = min(demand, stock)
                    if take <= 0:
                        continue
                    stage = 0 if buf is None else buf.stage
                    if buf is None:
                        mto_left -= take
                    else:
                        buf.left -= take
                    demand -= take
                    if j >= 2:
                        use["unmet"][p][t] += take
                    lateness = max(0.0, r[stage] - L) + extra
                    cost[component] += beta * lateness * take
                    if lateness > 0:
                        kpis["units_late"] += take
                    elif is_new:
                        on_time += take
                use["unmet"][p][t] += demand
                if is_new:
                    new_backlog[p] = demand
                    kpis["units_on_time"] += on_time
                    target = inst.service_level[p] * inst.orders[scenario, p, t]
                    cost["shortfall"] += inst.service_penalty[p] * max(0.0, target - on_time)
                else:
                    cost["lost"] += inst.lost_penalty[p] * demand
                    kpis["units_lost"] += demand

        # Holding over the fulfilment phase, setups, disposal of what was carried.
        for buf in carried_generic + carried_dedicated:
            cost["hold_carried"] += inst.hold[buf.stage] * (buf.used * B / 2 + buf.left * B)
            if buf.used > SETUP_EPS:
                cost["setup_reuse"] += inst.setup_reuse[buf.stage]
            cost["disposal"] += inst.disposal_rate * inst.value[buf.stage] * buf.left
            kpis["units_disposed"] += buf.left
        for buf in new_generic + new_dedicated:
            cost["hold_new"] += inst.hold[buf.stage] * (buf.used * B / 2 + buf.left * B)
        for buf in new_generic:
            if buf.qty > SETUP_EPS:
                cost["setup_new"] += inst.setup_generic[buf.stage]
        for buf in new_dedicated:
            if buf.qty > SETUP_EPS:
                cost["setup_new"] += inst.setup_dedicated[buf.stage]

        for c, buf in enumerate(new_generic):
            use["generic"][c][t] = buf.used
        for p, buf in enumerate(new_dedicated):
            use["dedicated"][p][t] = buf.used

        # End of period: new leftovers carry over once; at the horizon they are disposed.
        carried_generic = [Buffer(b.stage, b.left, True) for b in new_generic]
        carried_dedicated = [Buffer(b.stage, b.left, True) for b in new_dedicated]
        backlog = new_backlog
        if t == T - 1:
            for buf in carried_generic + carried_dedicated:
                cost["disposal"] += inst.disposal_rate * inst.value[buf.stage] * buf.qty
                kpis["units_disposed"] += buf.qty
            for p in range(P):
                cost["lost"] += inst.lost_penalty[p] * backlog[p]
                kpis["units_lost"] += backlog[p]
        periods.append(cost)

    return {"cost": sum(sum(c.values()) for c in periods), "periods": periods, "kpis": kpis,
            "use": use}


def expected(inst, plan) -> dict:
    """Weighted mean over scenarios of :func:`simulate`'s cost, per-period costs and KPIs."""
    runs = [simulate(inst, plan, s) for s in range(inst.n_scenarios)]
    w = [float(x) for x in inst.weights]
    T = inst.n_periods
    return {
        "cost": sum(wi * run["cost"] for wi, run in zip(w, runs)),
        "periods": [{k: sum(wi * run["periods"][t][k] for wi, run in zip(w, runs))
                     for k in COMPONENTS} for t in range(T)],
        "kpis": {k: sum(wi * run["kpis"][k] for wi, run in zip(w, runs))
                 for k in runs[0]["kpis"]},
        "use": {k: [[sum(wi * run["use"][k][r][t] for wi, run in zip(w, runs))
                     for t in range(T)] for r in range(len(runs[0]["use"][k]))]
                for k in runs[0]["use"]},
    }
