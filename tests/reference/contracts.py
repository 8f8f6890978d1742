"""A plain, slow reference of the contracts model, written for clarity from
docs/models/contracts.md.

The retailers' equilibrium is found by enumerating the LCP's active sets (every contract
quantity at zero, at its cap, or free), not by the kernel's aggregative method. The simulation
keeps each party's state in dictionaries and lists of (arrival period, units) and follows the
page's order of events period by period.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


# ---------------------------------------------------------------- retailers' equilibrium
def lcp_by_active_sets(w, k, z, tol=1e-9):
    """Every solution of the retailers' KKT system, by enumerating for each ``(i, j)`` with a
    positive cap whether ``y[i,j]`` is 0, free or at its cap. Returns the list of solutions
    (R, M) found (one, when prices are distinct)."""
    w, k, z = (np.asarray(a, float) for a in (w, k, z))
    R, M = k.shape
    cells = [(i, j) for i in range(R) for j in range(M) if k[i, j] > 0]
    found = []
    for states in itertools.product((0, 1, 2), repeat=len(cells)):
        y = np.zeros((R, M))
        free = []
        for (i, j), st in zip(cells, states):
            if st == 2:
                y[i, j] = k[i, j]
            elif st == 1:
                free.append((i, j))
        if free:
            # z[i] - S - Y[i] - w[j] = 0 for every free (i, j), linear in the free y
            A = np.zeros((len(free), len(free)))
            b = np.zeros(len(free))
            fixed_total = y.sum()
            for r, (i, j) in enumerate(free):
                b[r] = z[i] - w[j] - fixed_total - y[i].sum()
                for c, (i2, _) in enumerate(free):
                    A[r, c] = 1.0 + (1.0 if i2 == i else 0.0)
            sol, *_ = np.linalg.lstsq(A, b, rcond=None)
            if np.abs(A @ sol - b).max() > tol * max(1.0, np.abs(b).max()):
                continue
            for (i, j), v in zip(free, sol):
                y[i, j] = v
        S = y.sum()
        ok = True
        for (i, j), st in zip(cells, states):
            mr = z[i] - S - y[i].sum() - w[j]
            scale = tol * max(1.0, abs(z[i]))
            if st == 0 and mr > scale:
                ok = False
            elif st == 1 and not (-scale <= y[i, j] <= k[i, j] + scale):
                ok = False
            elif st == 2 and mr < -scale:
                ok = False
        if ok:
            found.append(y)
    return found


# ---------------------------------------------------------------- demand noise
def demand_noise(paths, T, z_seed, cv_phi, corr):
    """The page's draw, written with loops: ``cv_phi`` is the list of ``phi[i]``."""
    phi = list(cv_phi)
    R = len(phi)
    rng = np.random.default_rng(z_seed)
    Z = rng.standard_normal((paths, T + 1, R))
    C = [[1.0 if i == k else corr for k in range(R)] for i in range(R)]
    C0 = [[C[i][k] / (1.0 - phi[i] * phi[k]) for k in range(R)] for i in range(R)]
    L = np.linalg.cholesky(np.array(C))
    L0 = np.linalg.cholesky(np.array(C0))
    u = np.zeros((paths, R, T))
    for s in range(paths):
        prev = [sum(L0[i, k] * Z[s, 0, k] for k in range(R)) for i in range(R)]
        for t in range(T):
            eta = [sum(L[i, k] * Z[s, t + 1, k] for k in range(R)) for i in range(R)]
            prev = [phi[i] * prev[i] + eta[i] for i in range(R)]
            for i in range(R):
                u[s, i, t] = prev[i]
    return u


# ---------------------------------------------------------------- the OUT simulation
def targets(inst, y):
    """Mean demands and safety stocks of retailers and manufacturers."""
    R, M, n = inst.n_retailers, inst.n_manufacturers, inst.periods_per_year
    Y = [sum(y[i][j] for j in range(M)) for i in range(R)]
    mu_r = [Y[i] / n for i in range(R)]
    mu_m = [sum(y[i][j] for i in range(R)) / n for j in range(M)]
    sigma = [inst.cv[i] * mu_r[i] / math.sqrt(1 - inst.phi[i] ** 2) for i in range(R)]
    tns_r = [inst.safety_factor * sigma[i] * math.sqrt(inst.lead_r[i]) for i in range(R)]
    tns_m = []
    for j in range(M):
        a = [y[i][j] / Y[i] * sigma[i] if Y[i] > 0 else 0.0 for i in range(R)]
        var = sum(a[i] * a[k] * (1.0 if i == k else inst.correlation)
                  for i in range(R) for k in range(R))
        tns_m.append(inst.safety_factor * math.sqrt(max(var, 0.0))
                     * math.sqrt(inst.lead_m[j]))
    return Y, mu_r, mu_m, tns_r, tns_m


def simulate_path(inst, mode, y, price, w, u_path, capf):
    """One contract, one scenario (capacity factors ``capf`` (M, T)), one demand path.

    Returns per party (retailers, then manufacturers) dicts of horizon sums, and the series
    of orders and demands for the bullwhip.
    """
    R, M, T, n = inst.n_retailers, inst.n_manufacturers, inst.n_periods, inst.periods_per_year
    Y, mu_r, mu_m, tns_r, tns_m = targets(inst, y)
    ret = [dict(ns=tns_r[i], transit=[], revenue=0.0, purchase=0.0, holding=0.0,
                backlog_cost=0.0, served=0.0, demand=0.0, backlog=0.0, shipped=0.0,
                orders=[], demands=[]) for i in range(R)]
    man = [dict(stock=tns_m[j] + mu_m[j], work=[], revenue=0.0, purchase=0.0, holding=0.0,
                backlog_cost=0.0, demand=0.0, backlog=0.0, overtime=0.0, pooled=0.0,
                shipped=0.0, orders=[], demands=[]) for j in range(M)]
    open_orders = {(i, j): y[i][j] / n for i in range(R) for j in range(M)}
    owed = {(i, j): 0.0 for i in range(R) for j in range(M)}
    for i in range(R):
        for a in range(inst.lead_r[i] - 1):
            ret[i]["transit"].append([a, mu_r[i]])
    for j in range(M):
        for a in range(inst.lead_m[j]):
            man[j]["work"].append([a, mu_m[j]])
    echelon = {"ret_orders": [], "production": [], "consumer": []}
    for t in range(T):
        # 1. production arrives
        for j in range(M):
            man[j]["stock"] += sum(q for a, q in man[j]["work"] if a == t)
            man[j]["work"] = [[a, q] for a, q in man[j]["work"] if a != t]
        # 2. manufacturers ship
        ship = {(i, j): 0.0 for i in range(R) for j in range(M)}   # by shipper j
        if mode == "guaranteed":
            for key in owed:
                owed[key] += y[key[0]][key[1]] / n
            for j in range(M):
                prio = [min(open_orders[i, j], owed[i, j]) for i in range(R)]
                rest = [open_orders[i, j] - prio[i] for i in range(R)]
                stock = man[j]["stock"]
                give_p = _share(prio, stock)
                if sum(prio) <= stock:
                    left = stock - sum(prio)
                    give_r = _share(rest, left)
                    man[j]["stock"] = left - sum(rest) if sum(rest) <= left else 0.0
                else:
                    give_r = [0.0] * R
                    man[j]["stock"] = 0.0
                for i in range(R):
                    q = give_p[i] + give_r[i]
                    ship[i, j] = q
                    open_orders[i, j] -= q
                    owed[i, j] = max(0.0, owed[i, j] - q)
        else:
            for j in range(M):
                mine = [open_orders[i, j] for i in range(R)]
                give = _share(mine, man[j]["stock"])
                man[j]["stock"] = man[j]["stock"] - sum(mine) if sum(mine) <= man[j]["stock"] \
                    else 0.0
                for i in range(R):
                    ship[i, j] = give[i]
                    open_orders[i, j] -= give[i]
            donors = sorted(range(M), key=lambda j: (w[j], j))
            for jd in donors:
                if man[jd]["stock"] <= 0:
                    continue
                keys = [(i, j) for i in range(R) for j in range(M)]
                amounts = [open_orders[key] for key in keys]
                if sum(amounts) <= 0:
                    break
                give = _share(amounts, man[jd]["stock"])
                man[jd]["stock"] = man[jd]["stock"] - sum(amounts) \
                    if sum(amounts) <= man[jd]["stock"] else 0.0
                for (i, j), g in zip(keys, give):
                    open_orders[i, j] -= g
                    ship[i, jd] += g
                    if j != jd:
                        man[jd]["pooled"] += g
        for i in range(R):
            for j in range(M):
                q = ship[i, j]
                ret[i]["revenue"] += price[i] * q
                ret[i]["purchase"] += w[j] * q
                ret[i]["shipped"] += q
                man[j]["revenue"] += w[j] * q
                man[j]["shipped"] += q
            ret[i]["transit"].append([t + inst.lead_r[i] - 1,
                                      sum(ship[i, j] for j in range(M))])
        # 3. retailers receive and serve; 4. they order (OUT)
        received = [0.0] * M
        total_orders = 0.0
        total_demand = 0.0
        for i in range(R):
            r = ret[i]
            r["ns"] += sum(q for a, q in r["transit"] if a == t)
            r["transit"] = [[a, q] for a, q in r["transit"] if a != t]
            d = max(0.0, mu_r[i] * (1 + inst.cv[i] * u_path[i][t])) if mu_r[i] > 0 else 0.0
            r["served"] += min(d, max(0.0, r["ns"]))
            r["demand"] += d
            r["ns"] -= d
            placed = 0.0
            if Y[i] > 0:
                pipeline = sum(q for a, q in r["transit"]) + sum(open_orders[i, j]
                                                                for j in range(M))
                o = max(0.0, tns_r[i] + inst.lead_r[i] * mu_r[i] - pipeline - r["ns"])
                for j in range(M):
                    oij = o * y[i][j] / Y[i]
                    if mode == "guaranteed":
                        oij = max(oij, y[i][j] / n)
                    open_orders[i, j] += oij
                    received[j] += oij
                    placed += oij
            r["holding"] += inst.hold_r[i] * max(r["ns"], 0.0)
            r["backlog_cost"] += inst.back_r[i] * max(-r["ns"], 0.0)
            r["backlog"] += max(-r["ns"], 0.0)
            r["orders"].append(placed)
            r["demands"].append(d)
            total_orders += placed
            total_demand += d
        # 5. manufacturers produce (OUT, within capacity)
        total_prod = 0.0
        for j in range(M):
            m = man[j]
            net = m["stock"] - sum(open_orders[i, j] for i in range(R))
            work = sum(q for a, q in m["work"])
            want = max(0.0, tns_m[j] + inst.lead_m[j] * mu_m[j] - work - net)
            regular_cap = capf[j][t] * inst.capacity[j] / n
            q = min(want, (1 + inst.overtime[j]) * regular_cap)
            regular = min(q, regular_cap)
            m["work"].append([t + inst.lead_m[j], q])
            m["purchase"] += inst.unit_cost[j] * regular + inst.overtime_cost[j] * (q - regular)
            m["overtime"] += q - regular
            m["holding"] += inst.hold_m[j] * max(net, 0.0)
            m["backlog_cost"] += inst.back_m[j] * max(-net, 0.0)
            m["backlog"] += max(-net, 0.0)
            m["demand"] += received[j]
            m["orders"].append(q)
            m["demands"].append(received[j])
            total_prod += q
        echelon["ret_orders"].append(total_orders)
        echelon["production"].append(total_prod)
        echelon["consumer"].append(total_demand)
    return ret, man, echelon


def _share(amounts, stock):
    """Ship all of ``amounts`` when ``stock`` covers them, else ``stock`` in proportion."""
    total = sum(amounts)
    if total <= stock:
        return list(amounts)
    return [a * (stock / total) for a in amounts]


def _var(xs):
    m = sum(xs) / len(xs)
    return sum((x - m) ** 2 for x in xs) / len(xs)


def evaluate(inst, mode, w, k, u, y=None):
    """Profits and indicators of one contract ``(w, k)`` under every scenario, averaged over
    the paths of ``u`` (paths, R, T). ``y`` defaults to the active-set LCP's solution.

    Returns a dict of arrays with the kernel's layouts: ``money`` (D, R + M, 4), ``units``
    (D, R + M, 6), ``var_o`` and ``var_d`` (D, R + M + 2), and ``y``.
    """
    R, M, D = inst.n_retailers, inst.n_manufacturers, inst.n_scenarios
    if y is None:
        sols = lcp_by_active_sets(w, k, inst.z)
        y = sols[0]
    y = [list(map(float, row)) for row in np.asarray(y)]
    S_total = sum(map(sum, y))
    price = [inst.z[i] - S_total for i in range(R)]
    S = u.shape[0]
    money = np.zeros((D, R + M, 4))
    units = np.zeros((D, R + M, 6))
    var_o = np.zeros((D, R + M + 2))
    var_d = np.zeros((D, R + M + 2))
    for d in range(D):
        capf = inst.cap_factor[d].tolist()
        for s in range(S):
            ret, man, ech = simulate_path(inst, mode, y, price, list(map(float, w)),
                                          u[s].tolist(), capf)
            for q, p in enumerate(ret + man):
                money[d, q] += [p["revenue"], p["purchase"], p["holding"], p["backlog_cost"]]
                units[d, q] += [p.get("served", 0.0), p["demand"], p["backlog"],
                                p.get("overtime", 0.0), p.get("pooled", 0.0), p["shipped"]]
                var_o[d, q] += _var(p["orders"])
                var_d[d, q] += _var(p["demands"])
            var_o[d, R + M] += _var(ech["ret_orders"])
            var_d[d, R + M] += _var(ech["consumer"])
            var_o[d, R + M + 1] += _var(ech["production"])
            var_d[d, R + M + 1] += _var(ech["consumer"])
    return {"money": money / S, "units": units / S, "var_o": var_o / S, "var_d": var_d / S,
            "y": np.array(y)}
