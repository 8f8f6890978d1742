"""The contracts experiment of ``invswarm bench``: the seed's question (flexible production
network or guaranteed supply, under disruption) answered on the shipped case.

For each mode and each overtime allowance, the manufacturers' equilibrium contract
(:func:`invswarm.engine.models.contracts.equilibrium.equilibrium`), then every party's profit,
the retailers' fill rates and the bullwhip under each disruption scenario at that contract.
Then the case with unequal demand noise, where guaranteed supply has no pure equilibrium: the
search's verdict there, and the gains left along the whole family of market-clearing contracts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .bench_format import generated_note
from .models.contracts import MODES
from .models.contracts.cases import seed_case_doc
from .models.contracts.equilibrium import EquilibriumOptions, deviation_gains, equilibrium
from .models.contracts.evaluate import KernelData, evaluate
from .models.contracts.instance import Instance
from .models.contracts.plan import Plan
from .models.contracts.problem import clearing_plans


@dataclass(frozen=True)
class ContractsBenchOptions:
    """What the contracts experiment runs.

    Attributes
    ----------
    paths : int
        Demand paths under each of the shipped case's five disruption scenarios.
    overtime : tuple of float
        Overtime allowances (share of a period's regular capacity) of both manufacturers;
        the full table is for the shipped case's own allowance, ``SHIPPED_OVERTIME``.
    scan_points : int
        Market-clearing contracts on the segment between the two north-west corner ones
        (the whole family of clearing contracts of a 2 x 2 case), at which every
        manufacturer's structured deviations are evaluated.
    """

    paths: int = 200
    overtime: tuple = (0.0, 0.25, 0.5)
    scan_points: int = 19

    def __post_init__(self):
        if self.paths < 1:
            raise ValueError(f"paths: must be >= 1, got {self.paths}")
        if not self.overtime or any(not 0 <= o <= 10 for o in self.overtime):
            raise ValueError(f"overtime: must be shares in [0, 10], got {self.overtime}")


#: The shipped case's overtime allowance (``engine/models/contracts/cases.py``).
SHIPPED_OVERTIME = 0.25
#: The second retailer's demand noise (coefficient of variation) in the unequal-noise variant
#: of the shipped case (the shipped case has 0.25 at both retailers).
UNEQUAL_NOISE_CV = 0.30


def _case(mode: str, overtime: float, paths: int, noise_r2: float | None = None) -> Instance:
    """The shipped case with both manufacturers' overtime allowance ``overtime``, and the
    second retailer's demand noise ``noise_r2`` when given."""
    doc = seed_case_doc(mode, paths=paths)
    if noise_r2 is not None:
        doc["retailers"][1]["cv"] = float(noise_r2)
    inst = Instance.from_json(doc)
    return replace(inst, overtime=np.full(inst.n_manufacturers, float(overtime)))


def _row(inst, ev) -> list[dict]:
    """Per scenario: every party's profit, each retailer's fill rate, the bullwhip."""
    rows = []
    for sc in ev.scenarios:
        row = {"scenario": sc["scenario"], "weight": sc["weight"],
               "chain_profit": sc["chain_profit"],
               "bullwhip_retailers": sc["bullwhip_retailers"],
               "bullwhip_manufacturers": sc["bullwhip_manufacturers"]}
        for p in sc["parties"]:
            row[f"profit {p['party']}"] = p["profit"]
            if p["role"] == "retailer":
                row[f"fill {p['party']}"] = p["fill_rate"]
            else:
                row[f"overtime {p['party']}"] = p["overtime_per_period"]
                row[f"pooled {p['party']}"] = p["pooled_per_period"]
        rows.append(row)
    return rows


def clearing_scan(mode: str, o: ContractsBenchOptions) -> list[dict]:
    """On the unequal-noise variant, along the clearing contracts from ``smallest first`` to
    ``largest first``: the caps and each manufacturer's largest relative gain from its
    structured deviations (all paths)."""
    inst = _case(mode, SHIPPED_OVERTIME, o.paths, UNEQUAL_NOISE_CV)
    data = KernelData(inst)
    plans = dict(clearing_plans(inst))
    lo, hi = plans.get("smallest first"), plans.get("largest first")
    if lo is None or hi is None:
        return []
    rows = []
    for t in np.linspace(0.0, 1.0, o.scan_points):
        plan = Plan.from_arrays(hi.w, (1 - t) * lo.k + t * hi.k)
        gains, _ = deviation_gains(data, plan)
        rows.append({"k": plan.k.tolist(), "gains": gains.tolist()})
    return rows


def run(log: Callable, o: ContractsBenchOptions | None = None,
        eq_opts: EquilibriumOptions | None = None) -> dict:
    """Equilibria and their figures for every mode and overtime allowance."""
    o = o or ContractsBenchOptions()
    runs = []
    for overtime in o.overtime:
        for mode in MODES:
            inst = _case(mode, overtime, o.paths)
            data = KernelData(inst)
            t0 = time.perf_counter()
            eq = equilibrium(inst, eq_opts, data=data)
            wall = time.perf_counter() - t0
            ev = evaluate(inst, eq.plan, data)
            R = inst.n_retailers
            runs.append({"mode": mode, "overtime": overtime, "wall_s": wall,
                         "converged": eq.converged, "start": eq.start,
                         "largest_relative_gain": float(eq.relative_gains.max()),
                         "w": eq.plan.w.tolist(), "k": eq.plan.k.tolist(),
                         "y": ev.contract["y"],
                         "expected": dict(ev.breakdown["profit"],
                                          chain=ev.breakdown["chain_profit"]),
                         "fill": ev.kpis["fill_rate"],
                         "scenarios": _row(inst, ev),
                         "parties": inst.retailer_names + inst.manufacturer_names,
                         "retailers": inst.retailer_names, "manufacturers": inst.manufacturer_names,
                         "equilibrium_profits": eq.profits[R:].tolist()})
            log(f"contracts {mode}, overtime {overtime:g}: equilibrium in {wall:.1f} s "
                f"({'converged' if eq.converged else 'not converged'}, largest gain left "
                f"{100 * eq.relative_gains.max():.3f} %), chain profit "
                f"{ev.breakdown['chain_profit']:,.0f}")
    unequal, scans = [], {}
    for mode in MODES:
        inst = _case(mode, SHIPPED_OVERTIME, o.paths, UNEQUAL_NOISE_CV)
        eq = equilibrium(inst, eq_opts)
        unequal.append({"mode": mode, "converged": eq.converged, "start": eq.start,
                        "w": eq.plan.w.tolist(),
                        "largest_relative_gain": float(eq.relative_gains.max()),
                        "wall_s": eq.wall_s})
        scans[mode] = clearing_scan(mode, o)
        log(f"contracts {mode}, unequal noise: {'converged' if eq.converged else 'not converged'}"
            f", largest gain left {100 * eq.relative_gains.max():.3f} %")
        if scans[mode]:
            best = min(max(r["gains"]) for r in scans[mode])
            log(f"contracts {mode}, unequal noise: along the clearing contracts, the smallest "
                f"largest gain of a structured deviation is {100 * best:.3f} %")
    return {"options": {"paths": o.paths, "overtime": list(o.overtime),
                        "unequal_noise_cv": UNEQUAL_NOISE_CV},
            "runs": runs, "unequal_noise": unequal, "scan": scans}


def _f(x, fmt="{:,.0f}") -> str:
    return "n/a" if x is None else fmt.format(x)


def _find(res: dict, mode: str, overtime: float) -> dict | None:
    return next((r for r in res["runs"] if r["mode"] == mode
                 and abs(r["overtime"] - overtime) < 1e-12), None)


def report_section(res: dict) -> list[str]:
    """The Markdown section of the report: tables, the plot, and what they say."""
    runs = res["runs"]
    ot = SHIPPED_OVERTIME if any(abs(r["overtime"] - SHIPPED_OVERTIME) < 1e-12
                                 for r in runs) else runs[0]["overtime"]
    base = [r for r in (_find(res, m, ot) for m in MODES) if r]
    parties = base[0]["parties"]
    rets = base[0]["retailers"]
    L = ["## Contracts: flexible network or guaranteed supply under disruption", "",
         *generated_note(res)]
    L += [f"The shipped seed case (`invswarm case contracts`; docs/models/contracts.md), "
         f"{res['options']['paths']} demand paths under each disruption scenario, 104 weeks. "
         "In each mode the contract is that mode's equilibrium between the manufacturers "
         "(best responses by our PSO, the largest unilateral gain left shown); the figures "
         "are each party's profit over the two years (mean over the paths), the retailers' "
         "fill rates and the bullwhip of the two echelons (variance of orders over variance "
         "of consumer demand).", "",
         "| mode | overtime | equilibrium | w | largest gain left | time |",
         "|---|---:|---|---|---:|---:|"]
    for r in runs:
        L.append(f"| {r['mode']} | {100 * r['overtime']:.0f} % | "
                 f"{'converged' if r['converged'] else 'not converged'} from "
                 f"{r['start']} | {', '.join(f'{w:,.2f}' for w in r['w'])} | "
                 f"{100 * r['largest_relative_gain']:.3f} % | {r['wall_s']:.0f} s |")
    L += ["", f"Overtime allowance {100 * ot:.0f} % (the shipped case):", "",
          "| mode | scenario | " + " | ".join(f"profit {p}" for p in parties) + " | "
          + " | ".join(f"fill {p}" for p in rets) + " | bullwhip retailers | "
          "bullwhip manufacturers |",
          "|---|---|" + "---:|" * (len(parties) + len(rets) + 2)]
    for r in base:
        for s in r["scenarios"]:
            L.append(f"| {r['mode']} | {s['scenario']} | "
                     + " | ".join(_f(s[f'profit {p}']) for p in parties) + " | "
                     + " | ".join(_f(s[f'fill {p}'], '{:.2%}') for p in rets) + " | "
                     + f"{_f(s['bullwhip_retailers'], '{:.2f}')} | "
                     + f"{_f(s['bullwhip_manufacturers'], '{:.2f}')} |")
        e = r["expected"]
        L.append(f"| {r['mode']} | **expected** | "
                 + " | ".join(f"**{_f(e[p])}**" for p in parties) + " | "
                 + " | ".join(_f(r['fill'][p], '{:.2%}') for p in rets) + " | | |")
    L += ["", "![contracts](bench/contracts.png)", "",
          "Chain profit (all four parties) by scenario, flexible minus guaranteed, each at its "
          "own equilibrium contract, for each overtime allowance:", "",
          "| overtime | " + " | ".join(s["scenario"] for s in base[0]["scenarios"])
          + " | expected |", "|---:|" + "---:|" * (len(base[0]["scenarios"]) + 1)]
    for o in res["options"]["overtime"]:
        g, f = _find(res, "guaranteed", o), _find(res, "flexible", o)
        if not (g and f):
            continue
        diffs = [sf["chain_profit"] - sg["chain_profit"]
                 for sg, sf in zip(g["scenarios"], f["scenarios"])]
        L.append(f"| {100 * o:.0f} % | " + " | ".join(f"{d:+,.0f}" for d in diffs)
                 + f" | {f['expected']['chain'] - g['expected']['chain']:+,.0f} |")
    L += [""] + _verdict(res, base) + [""] + _scan_table(res, parties, rets) + [""]
    return L


def _scan_table(res: dict, parties: list, rets: list) -> list[str]:
    """The unequal-noise variant: the search's verdict in each mode, and the gains of the
    structured deviations along the clearing contracts."""
    scans = res.get("scan") or {}
    if not all(scans.get(m) for m in MODES):
        return []
    mans = parties[len(rets):]
    cv = res["options"].get("unequal_noise_cv", UNEQUAL_NOISE_CV)
    L = [f"**Unequal demand noise: no pure equilibrium under guaranteed supply.** The same "
         f"case with {rets[1]}'s demand noise {100 * cv:.0f} % of its mean instead of 25 % "
         "(overtime 25 %):", "",
         "| mode | equilibrium | w | largest gain left | time |", "|---|---|---|---:|---:|"]
    for r in res.get("unequal_noise", []):
        L.append(f"| {r['mode']} | {'converged' if r['converged'] else 'not converged'} from "
                 f"{r['start']} | {', '.join(f'{w:,.2f}' for w in r['w'])} | "
                 f"{100 * r['largest_relative_gain']:.3f} % | {r['wall_s']:.0f} s |")
    L += ["", "Every market-clearing contract (common clearing price, "
          "all capacity offered and bought) of that case lies on the segment between "
          "its two north-west corner contracts; along it, each manufacturer's largest gain "
          "from concentrating its capacity on one retailer at its rival's price or a tick "
          "below (`engine/models/contracts/problem.py: concentrations`; all paths):", "",
         f"| cap of {rets[0]} at {mans[0]} | "
         + " | ".join(f"{m}: gain, {mode}" for mode in MODES for m in mans) + " |",
         "|---:|" + "---:|" * (len(mans) * len(MODES))]
    for a, row in enumerate(scans[MODES[0]]):
        cells = [f"{100 * g:.3f} %" for mode in MODES for g in scans[mode][a]["gains"]]
        L.append(f"| {row['k'][0][0]:,.1f} | " + " | ".join(cells) + " |")
    for mode in MODES:
        best = min(scans[mode], key=lambda r: max(r["gains"]))
        L.append("")
        L.append(f"- {mode}: the smallest largest gain along the family is "
                 f"{100 * max(best['gains']):.3f} %, at a cap of {best['k'][0][0]:,.1f}.")
    return L


def _diffs(res: dict, overtime: float) -> dict | None:
    """Flexible minus guaranteed, per scenario: chain profit and each party's profit."""
    g, f = _find(res, "guaranteed", overtime), _find(res, "flexible", overtime)
    if not (g and f):
        return None
    out = {}
    for sg, sf in zip(g["scenarios"], f["scenarios"]):
        out[sg["scenario"]] = {"chain": sf["chain_profit"] - sg["chain_profit"],
                               **{p: sf[f"profit {p}"] - sg[f"profit {p}"]
                                  for p in g["parties"]}}
    out["expected"] = {"chain": f["expected"]["chain"] - g["expected"]["chain"],
                       **{p: f["expected"][p] - g["expected"][p] for p in g["parties"]}}
    return out


def _verdict(res: dict, base: list[dict]) -> list[str]:
    """Where flexibility pays and where guarantees do, read off this run's figures
    (differences are flexible minus guaranteed, each mode at its own equilibrium)."""
    g = next((r for r in base if r["mode"] == "guaranteed"), None)
    if g is None or len(base) < 2:
        return []
    out = ["What the figures say (generated from this run's figures; differences are flexible "
           "minus guaranteed, each at its own equilibrium contract):", ""]
    for o in res["options"]["overtime"]:
        d = _diffs(res, o)
        if d is None:
            continue
        scen = [n for n in d if n != "expected"]
        pays = [n for n in scen if d[n]["chain"] > 0]
        loses = [n for n in scen if d[n]["chain"] <= 0]
        gainers = [p for p in g["parties"] if d["expected"][p] > 0]
        out.append(f"- Overtime {100 * o:.0f} %: flexibility pays the chain in "
                   f"{', '.join(pays) or 'no scenario'}; guarantees pay in "
                   f"{', '.join(loses) or 'no scenario'} (expected "
                   f"{d['expected']['chain']:+,.0f}). In expectation flexibility is better for "
                   f"{', '.join(gainers) or 'nobody'}.")
        for short in scen:
            long_ = short.replace("4p", "12p")
            if long_ != short and long_ in d:
                out.append(f"  - Longer disruption ({short} -> {long_}): the chain's difference "
                           f"moves from {d[short]['chain']:+,.0f} to {d[long_]['chain']:+,.0f}.")
    return out


def plot(res: dict, save: Callable) -> None:
    """Expected and per-scenario chain profit and fill rates of both modes
    (``contracts.png``), via ``save(fig, name)``."""
    import matplotlib.pyplot as plt

    runs = res["runs"]
    ots = res["options"]["overtime"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    base = [r for r in (_find(res, m, SHIPPED_OVERTIME) for m in MODES) if r] or runs[:2]
    names = [s["scenario"] for s in base[0]["scenarios"]]
    x = np.arange(len(names))
    for a, r in enumerate(base):
        axes[0].bar(x + (a - 0.5) * 0.4, [s["chain_profit"] / 1e3 for s in r["scenarios"]],
                    0.4, label=r["mode"])
        for p in r["retailers"]:
            axes[1].plot(x, [100 * (s[f"fill {p}"] or 0) for s in r["scenarios"]],
                         "o-" if r["mode"] == "flexible" else "s--",
                         label=f"{r['mode']} {p}")
    for ax, title, unit in ((axes[0], "chain profit by scenario", "thousand"),
                            (axes[1], "retailers' fill rate", "%")):
        ax.set_xticks(x, names, rotation=20, ha="right", fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(unit)
        ax.legend(fontsize=8)
    for mode in MODES:
        pts = [(o, _find(res, mode, o)) for o in ots]
        axes[2].plot([100 * o for o, r in pts if r],
                     [r["expected"]["chain"] / 1e3 for o, r in pts if r], "o-", label=mode)
    axes[2].set_xlabel("overtime allowance, % of a week's capacity")
    axes[2].set_ylabel("thousand")
    axes[2].set_title("expected chain profit at equilibrium")
    axes[2].legend(fontsize=8)
    save(fig, "contracts.png")
