"""The ``peers`` experiment of ``invswarm bench``: our PSO against other libraries' optimizers
(``engine/models/sfi/peers.py``) on the SFI instance families, at equal budgets.

Each peer gets our PSO's wall time and at most the evaluations our PSO spent in it, whichever
ends first; where a peer spent fewer evaluations than ours (its own overhead per point), our
PSO runs again with the peer's evaluations, so each comparison is also made at equal
evaluations. The yardstick is the best plan known for the instance: the cheapest of every
plan here and the exact solver's after ``exact_time`` (cached as in the ``families``
experiment).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .bench_families import check_options, exact_run, gap
from .bench_format import generated_note, med, pct
from .jsonio import read_json
from .models.sfi.families import FAMILIES, generate_family
from .models.sfi.peers import PEERS, load_libraries
from .solve import SolveOptions, load_instance, solve


@dataclass(frozen=True)
class PeersOptions:
    """What the experiment runs.

    Attributes
    ----------
    families : tuple of str
        Keys of :data:`~invswarm.engine.models.sfi.families.FAMILIES`.
    size : (int, int)
        Categories and products per category.
    periods : int
    seeds : tuple of int
        Generator seeds (reporting seeds: docs/models/sfi.md).
    time : float
        Seconds of each run (seed 0, one worker).
    peers : tuple of str
        Names of :data:`~invswarm.engine.models.sfi.peers.PEERS`.
    exact_time : float
        The exact solver's time limit for the best plan known.
    cache : str or None
        JSON file of the exact runs (shared with the ``families`` experiment; None: always
        solve).
    """

    families: tuple = tuple(FAMILIES)
    size: tuple = (3, 3)
    periods: int = 24
    seeds: tuple = (1, 2, 3)
    time: float = 10.0
    peers: tuple = PEERS
    exact_time: float = 60.0
    cache: str | None = "docs/bench/families_exact.json"

    def __post_init__(self):
        check_options(self, ("time", "exact_time"))
        for p in self.peers:
            if p not in PEERS:
                raise ValueError(f"peers: unknown peer {p!r}")


def _run(inst, method: str, o: PeersOptions, max_evals: float | None = None) -> dict:
    r = solve(inst, method, SolveOptions(time_limit=o.time, max_evals=max_evals, seed=0,
                                         jobs=1))
    evals = r.extra["swarm"]["evaluations" if method == "pso" else "nfev"]
    return {"cost": r.cost, "evaluations": evals, "wall_s": r.wall_s, "status": r.status}


def run(o: PeersOptions, log: Callable = print) -> dict:
    """Every family and seed: our PSO, each peer at our budget, our PSO at each peer's
    evaluations, and each one's gap to the best plan known."""
    cache = read_json(o.cache) if o.cache and Path(o.cache).exists() else {}
    # before the first run's clock starts, as our kernels are compiled before it
    load_libraries()
    C, K = o.size
    rows = []
    for fam in o.families:
        for seed in o.seeds:
            doc = generate_family(fam, periods=o.periods, categories=C,
                                  products_per_category=K, seed=seed)
            inst = load_instance(doc)
            ex = exact_run(inst, doc, o.exact_time, cache, o.cache, log)
            ours = _run(inst, "pso", o)
            peers, ours_at = {}, {}
            for p in o.peers:
                peers[p] = _run(inst, p, o, max_evals=ours["evaluations"])
                if peers[p]["evaluations"] < ours["evaluations"]:
                    ours_at[p] = _run(inst, "pso", o,
                                      max_evals=max(1, peers[p]["evaluations"]))
                else:
                    ours_at[p] = ours
            costs = [ours["cost"], *(r["cost"] for r in (*peers.values(), *ours_at.values()))]
            best = min(c for c in (*costs, ex["cost"]) if c is not None)
            row = {"family": fam, "seed": seed, "best": best, "exact": ex["cost"],
                   "exact_cached": ex["cached"], "ours": ours, "peers": peers,
                   "ours_at": ours_at, "ours_gap": gap(ours["cost"], best),
                   "peer_gaps": {p: gap(r["cost"], best) for p, r in peers.items()},
                   "ours_at_gaps": {p: gap(r["cost"], best) for p, r in ours_at.items()}}
            rows.append(row)
            log(f"peers {fam} seed {seed}: ours {pct(row['ours_gap'])}, "
                + ", ".join(f"{p} {pct(g)}" for p, g in row["peer_gaps"].items()))
    return {"options": asdict(o), "rows": rows, "summary": summary(rows, o.peers)}


def summary(rows: list[dict], peers: tuple) -> list[dict]:
    """Per family: the median gap of our PSO and of each peer at our budget, of our PSO at
    each peer's evaluations, and how many times the best peer's median is ours."""
    out = []
    for fam in dict.fromkeys(r["family"] for r in rows):
        rs = [r for r in rows if r["family"] == fam]
        ours = med([r["ours_gap"] for r in rs])
        peer = {p: med([r["peer_gaps"][p] for r in rs]) for p in peers}
        at = {p: med([r["ours_at_gaps"][p] for r in rs]) for p in peers}
        best_peer = min(peers, key=lambda p: peer[p])
        at_evaluations = [r for r in (_ratio(peer[p], at[p]) for p in peers) if r is not None]
        out.append({"family": fam, "instances": len(rs), "ours": ours, "peers": peer,
                    "ours_at": at, "best_peer": best_peer,
                    "ratio": _ratio(peer[best_peer], ours),
                    "ratio_at_evaluations": min(at_evaluations, default=None)})
    return out


def _ratio(theirs: float, ours: float) -> float | None:
    """How many times ``theirs`` is ``ours``; None when ours is 0 and theirs is not (no
    finite ratio: ours is the best plan known)."""
    if ours > 0:
        return theirs / ours
    return None if theirs > 0 else 1.0


def _met(s: dict) -> bool:
    """Both ratios of a family's summary at least 5 (None: no finite ratio, ours best)."""
    return all(r is None or r >= 5 for r in (s["ratio"], s["ratio_at_evaluations"]))


def _times(x: float | None) -> str:
    return "ours is best known" if x is None else f"x{x:,.1f}"


def report_section(res: dict) -> list[str]:
    """The report's lines: a summary table per family, then every instance."""
    o = res["options"]
    peers = o["peers"]
    L = ["## Peers at equal budgets", "", *generated_note(res),
         f"SFI families (docs/models/sfi.md, \"Instance families\"), {o['size'][0]} x "
         f"{o['size'][1]} x {o['periods']}, generator seeds "
         f"{', '.join(map(str, o['seeds']))}. Our PSO runs {o['time']:g} s (seed 0, one "
         "worker); each peer (`engine/models/sfi/peers.py`: the same encoding and decoder, "
         "started from the same constructive plan, each library's default settings) gets "
         "the same wall time and at most the evaluations our PSO spent, whichever ends "
         "first. Where a peer spent fewer evaluations, our PSO ran again with the peer's "
         "evaluations (*ours at its evaluations*). Evaluations are the run's currency "
         "(a plan decoded and costed; a move of our local search a fraction of one). Gaps "
         "are above the best plan known: the cheapest of all these plans and the exact "
         f"solver's after {o['exact_time']:g} s. *Ratio*: the best peer's median gap over "
         "ours (goal: at least 5), at equal time, and the smallest over the peers at equal "
         "evaluations.", "",
         "| family | ours | " + " | ".join(peers) + " | best peer | ratio | ratio at equal "
         "evaluations |", "|---|" + "---:|" * (len(peers) + 1) + "---|---:|---:|"]
    for s in res["summary"]:
        L.append(f"| {s['family']} | {pct(s['ours'])} | "
                 + " | ".join(pct(s["peers"][p]) for p in peers)
                 + f" | {s['best_peer']} | {_times(s['ratio'])} | "
                 f"{_times(s['ratio_at_evaluations'])} |")
    met = sum(map(_met, res["summary"]))
    L += ["", f"Goal met (both ratios at least 5) on {met} of {len(res['summary'])} "
          "families. Medians over the seeds.", "",
          "Every instance: gap of ours, then of each peer, and after the slash ours at the "
          "peer's evaluations, each with the evaluations it spent (our PSO overruns a small "
          "evaluation budget by its first swarms and a block of local-search moves, "
          "docs/embedding.md):", "",
          "| family | seed | ours (evaluations) | " + " | ".join(peers) + " |",
          "|---|---:|---:|" + "---:|" * len(peers)]
    for r in res["rows"]:
        cells = [f"{pct(r['peer_gaps'][p])} ({r['peers'][p]['evaluations']:,.0f}) / "
                 f"{pct(r['ours_at_gaps'][p])} ({r['ours_at'][p]['evaluations']:,.0f})"
                 for p in peers]
        L.append(f"| {r['family']} | {r['seed']} | {pct(r['ours_gap'])} "
                 f"({r['ours']['evaluations']:,.0f}) | " + " | ".join(cells) + " |")
    L.append("")
    return L


def headline_lines(res: dict) -> list[str]:
    """The README headline's paragraph on the peers (none when they were not run)."""
    if "peers" not in res:
        return []
    r = res["peers"]
    o, summ = r["options"], r["summary"]
    met = sum(map(_met, summ))
    ours = [s["ours"] for s in summ]
    best = [s["peers"][s["best_peer"]] for s in summ]
    return ["", f"Peers at equal budgets (pyswarms, nevergrad's NGOpt, pymoo's GA and PSO on "
            f"our encoding, from the same start; {len(summ)} SFI families of {o['size'][0]} x "
            f"{o['size'][1]} x {o['periods']}, {len(o['seeds'])} seeds, {o['time']:g} s and "
            "at most our evaluations): our PSO's median gap to the best plan known per family "
            f"{pct(min(ours))} to {pct(max(ours))}, the best peer's {pct(min(best))} to "
            f"{pct(max(best))}; ours at least 5 times smaller, at equal time and at equal "
            f"evaluations, on {met} of {len(summ)} families."]
