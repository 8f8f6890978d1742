"""A plain, slow reference of the network model, written for clarity from docs/models/network.md.

Stock is a list of lots ``[last_usable_period, qty]`` per (firm, material); every listed pair is
simulated, period by period, for the whole network. Periods are 0-based here; a lot usable to
the horizon's end has ``last_usable_period = T``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TOL = 1e-6


@dataclass
class Outcome:
    cost: float
    breakdown: dict
    feasible: bool
    reasons: list
    firm_own: list
    firm_paid: list
    firm_net: list
    firm_met: list
    kpis: dict
    stock: dict = field(default_factory=dict)   # (f, m) -> end stock per period
    backlog: dict = field(default_factory=dict)


def _take(lots, qty, usable_from):
    """Take ``qty`` first-expiry-first from lots usable in ``usable_from`` or later; returns
    the lots taken and the shortfall."""
    taken = []
    for lot in sorted(lots, key=lambda x: x[0]):
        if qty <= 0:
            break
        if lot[0] < usable_from or lot[1] <= 0:
            continue
        q = min(qty, lot[1])
        lot[1] -= q
        qty -= q
        taken.append([lot[0], q])
    return taken, max(qty, 0.0)


def simulate(inst, shipments, baseline_of=None):
    """Simulate a plan given as a list of dicts (0-based ``period`` and ``ret``; ``kind`` is
    'permanent' or 'loan'); ``baseline_of`` is the no-sharing outcome (for donor protection).
    """
    N, M, T = inst.n_firms, inst.n_materials, inst.n_periods
    link_of = {(int(i), int(j)): k for k, (i, j) in enumerate(zip(inst.link_from, inst.link_to))}
    # Moves: each shipment, then each loan's payback on the reverse link.
    moves = []
    for s in shipments:
        k = link_of[s["from"], s["to"]]
        moves.append(dict(src=s["from"], dst=s["to"], m=s["material"],
                          dep=s["period"], lead=int(inst.lead[k]), link=k, qty=s["qty"],
                          kind=s["kind"], dur=(s["ret"] - s["period"]) if s["kind"] == "loan"
                          else 0))
    for s in shipments:
        if s["kind"] == "loan":
            k = link_of[s["to"], s["from"]]
            moves.append(dict(src=s["to"], dst=s["from"], m=s["material"],
                              dep=s["ret"] - int(inst.lead[k]), lead=int(inst.lead[k]), link=k,
                              qty=s["qty"], kind="payback", dur=0))
    # The moves leaving one firm in one period leave paybacks first, then by arrival, then
    # by the receiver's next period with a requirement, then by receiver; the order the plan
    # lists its shipments in plays no part (moves alike in all of these are interchangeable).
    for mv in moves:
        arrival = mv["dep"] + mv["lead"]
        nxt = arrival
        while nxt < T and inst.requirements[mv["dst"], mv["m"], nxt] <= 0:
            nxt += 1
        mv["order"] = (mv["kind"] != "payback", arrival, nxt, mv["dst"])
    moves.sort(key=lambda mv: mv["order"])
    lots = {}
    for f in range(N):
        for m in range(M):
            if inst.listed[f, m]:
                lots[f, m] = [[e, float(q)] for e, q in enumerate(inst.lots[f, m]) if q > 0]
    backlog = {key: 0.0 for key in lots}
    in_transit = []   # (arrival period, dst, m, lots)
    hold = short = waste_cost = 0.0
    waste_units = back_units = delays = met_units = 0.0
    own = [0.0] * N
    met_f = [0.0] * N
    stock_traj = {key: [] for key in lots}
    back_traj = {key: [] for key in lots}
    shortfalls = []
    for t in range(T):
        for (f, m), ls in lots.items():
            q = inst.receipts[f, m, t]
            if q > 0:
                life = int(inst.life[m])
                ls.append([T if life == 0 else min(t + life - 1, T), float(q)])
        for arr, dst, m, got in in_transit:
            if arr == t:
                lots[dst, m].extend([list(x) for x in got])
        for mv in moves:
            if mv["dep"] != t:
                continue
            got, missing = _take(lots[mv["src"], mv["m"]], mv["qty"], t + mv["lead"])
            if missing > TOL:
                shortfalls.append((mv["src"], mv["m"], t, missing))
            in_transit.append((t + mv["lead"], mv["dst"], mv["m"], got))
        for (f, m), ls in lots.items():
            need = backlog[f, m] + inst.requirements[f, m, t]
            _, missing = _take(ls, need, t)
            used = need - missing
            met = min(inst.requirements[f, m, t], max(0.0, used - backlog[f, m]))
            backlog[f, m] = missing
            wasted = sum(q for e, q in ls if e == t)
            ls[:] = [x for x in ls if x[0] > t and x[1] > 0]
            held = sum(q for _, q in ls)
            c = (inst.hold[f, m] * held + inst.shortage[f, m] * missing
                 + inst.value[m] * wasted)
            hold += inst.hold[f, m] * held
            short += inst.shortage[f, m] * missing
            waste_cost += inst.value[m] * wasted
            own[f] += c
            waste_units += wasted
            back_units += missing
            met_units += met
            met_f[f] += met
            if met < inst.requirements[f, m, t] - 1e-6:
                delays += 1
            stock_traj[f, m].append(held)
            back_traj[f, m].append(missing)
    # Transfer costs: unit cost on every move, fixed cost per link and period used, shared by
    # the payers (the receiver of a shipment, the borrower of a payback) by units.
    unit = 0.0
    paid = [0.0] * N
    net = [0.0] * N
    per_link = {}
    for mv in moves:
        c = inst.unit_cost[mv["link"], mv["m"]] * mv["qty"]
        unit += c
        payer = mv["src"] if mv["kind"] == "payback" else mv["dst"]
        paid[payer] += c
        per_link.setdefault((mv["link"], mv["dep"]), {}).setdefault(payer, 0.0)
        per_link[mv["link"], mv["dep"]][payer] += mv["qty"]
        if mv["kind"] == "permanent":
            pay = inst.price[mv["m"]] * mv["qty"]
        elif mv["kind"] == "loan":
            pay = inst.loan_fee * mv["qty"] * mv["dur"]
        else:
            pay = 0.0
        net[mv["dst"]] += pay
        net[mv["src"]] -= pay
    fixed = 0.0
    for (k, _), payers in per_link.items():
        tot = sum(payers.values())
        if tot > 0:
            fixed += inst.fixed_cost[k]
            for f, q in payers.items():
                paid[f] += inst.fixed_cost[k] * q / tot
    reasons = [("coverage",) + s for s in shortfalls]
    regular = [mv for mv in moves if mv["kind"] != "payback"]
    donors = {(mv["src"], mv["m"]) for mv in regular}
    receivers = {(mv["dst"], mv["m"]) for mv in regular}
    reasons += [("role", f, m) for f, m in donors & receivers]
    if baseline_of is not None:
        for f, m in donors:
            for t in range(T):
                if back_traj[f, m][t] > baseline_of.backlog[f, m][t] + TOL:
                    reasons.append(("donor_backlog", f, m, t))
                floor = min(inst.protected[f, m], baseline_of.stock[f, m][t])
                if stock_traj[f, m][t] < floor - TOL:
                    reasons.append(("donor_stock", f, m, t))
    n_loans = sum(1 for mv in regular if mv["kind"] == "loan")
    kpis = dict(backlog_unit_periods=back_units, delays=delays, waste_units=waste_units,
                met_in_period=met_units, transfers=len(regular),
                transferred_units=sum(mv["qty"] for mv in regular), loans=n_loans,
                loaned_units=sum(mv["qty"] for mv in regular if mv["kind"] == "loan"))
    breakdown = dict(holding=hold, shortage=short, waste=waste_cost, transfer_unit=unit,
                     transfer_fixed=fixed)
    return Outcome(cost=sum(breakdown.values()), breakdown=breakdown, feasible=not reasons,
                   reasons=reasons, firm_own=own, firm_paid=paid, firm_net=net, firm_met=met_f,
                   kpis=kpis, stock=stock_traj, backlog=back_traj)


def evaluate(inst, shipments):
    """Cost and feasibility of a plan, with the baseline simulated first."""
    base = simulate(inst, [])
    return simulate(inst, shipments, base)
