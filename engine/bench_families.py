"""The ``families`` experiment of ``invswarm bench``: our PSO and the exact solver on the SFI
instance families (``engine/models/sfi/families.py``), each instance against the best plan
known for it.

The exact solver's runs are the expensive part (``exact_time`` per instance, 600 s by
default), so they are kept in a cache file keyed by the instance document's digest and the
time limit: a later run reuses a cached run after scoring its plan again with the kernel
(a plan that no longer costs what was recorded, after a model change, is solved again). The
report says which figures came from the cache.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .bench_format import generated_note
from .errors import NoSolution
from .jsonio import read_json, write_json_atomic
from .models import sfi
from .models.sfi.families import FAMILIES, generate_family
from .solve import SolveOptions, load_instance, read_plan, solve


@dataclass(frozen=True)
class FamiliesOptions:
    """What the experiment runs.

    Attributes
    ----------
    families : tuple of str
        Keys of :data:`~invswarm.engine.models.sfi.families.FAMILIES`.
    sizes : tuple of (int, int)
        Categories and products per category.
    periods : int
    seeds : tuple of int
        Generator seeds reported (docs/models/sfi.md: tuning uses seeds 100 and up).
    pso_time : float
        Seconds of our PSO per instance (PSO seed 0, one worker).
    exact_time, early_time : float
        The exact solver's time limit, and the earlier moment whose incumbent and bound the
        report also gives (read from the same run's trace).
    cache : str or None
        JSON file of the exact runs (None: always solve).
    """

    families: tuple = tuple(FAMILIES)
    sizes: tuple = ((3, 3), (4, 3))
    periods: int = 24
    seeds: tuple = (1, 2, 3, 4, 5)
    pso_time: float = 10.0
    exact_time: float = 600.0
    early_time: float = 60.0
    cache: str | None = "docs/bench/families_exact.json"

    def __post_init__(self):
        check_options(self, ("pso_time", "exact_time", "early_time"))


def check_options(o, positive: tuple) -> None:
    """Raise ValueError naming the field when ``o.families`` names an unknown family or one
    of the fields ``positive`` is not above zero (the families' and the peers' options)."""
    for f in o.families:
        if f not in FAMILIES:
            raise ValueError(f"families: unknown family {f!r}")
    for name in positive:
        if not getattr(o, name) > 0:
            raise ValueError(f"{name}: must be > 0, got {getattr(o, name)}")


def _digest(doc: dict) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def gap(cost: float | None, ref: float | None) -> float | None:
    """Relative distance of ``cost`` above ``ref`` (None when either is missing)."""
    if cost is None or ref is None or not math.isfinite(cost) or not math.isfinite(ref):
        return None
    return max(0.0, cost - ref) / max(abs(cost), 1e-12)


def _at(trace: list, t: float) -> tuple[float | None, float | None]:
    """Incumbent and bound of an exact run's trace at ``t`` seconds (None: not yet)."""
    inc = bound = None
    for when, i, b in trace:
        if when > t:
            break
        inc, bound = i, b
    return inc, bound


def exact_run(inst, doc: dict, time_limit: float, cache: dict, cache_path: str | None,
              log: Callable) -> dict:
    """The exact solver on ``inst`` (made from ``doc``) for ``time_limit`` seconds, or its
    run in ``cache`` (its plan scored again), which a new run joins (and ``cache_path``, when
    given): ``cost`` and ``plan`` (None: no plan of the solver's), ``bound``, ``status``,
    ``wall_s``, ``trace`` (time, incumbent, bound), ``cached``."""
    key = f"{_digest(doc)}:{time_limit:g}"
    hit = cache.get(key)
    if hit is not None:
        if hit["plan"] is None:
            return {**hit, "cached": True}
        cost = sfi.evaluate(inst, read_plan(inst, hit["plan"])).cost
        if abs(cost - hit["cost"]) <= 1e-9 * max(1.0, abs(cost)):
            return {**hit, "cached": True}
        log(f"  cached exact plan of {doc['name']} now costs {cost:,.2f}, not "
            f"{hit['cost']:,.2f}: solving again")
    try:
        r = solve(inst, "exact", SolveOptions(time_limit=time_limit, gap=1e-6))
        trace = r.extra["history"]["exact"]
        # out of time before HiGHS reported a plan, solve returns the constructive plan:
        # not a plan of the exact solver's
        found = any(inc is not None for _, inc, _ in trace)
        run = {"cost": r.cost if found else None,
               "bound": r.bound if math.isfinite(r.bound) else None,
               "status": r.status if found else f"{r.status}, no plan",
               "wall_s": r.wall_s, "plan": r.plan if found else None, "trace": trace}
    except NoSolution as exc:
        run = {"cost": None, "bound": None, "status": str(exc), "wall_s": time_limit,
               "plan": None, "trace": []}
    cache[key] = run
    if cache_path:
        write_json_atomic(cache_path, cache)
    return {**run, "cached": False}


def run(o: FamiliesOptions, log: Callable = print) -> dict:
    """Every family, size and seed: our PSO, the exact solver, and the gaps to the best plan
    known (the cheaper of the two plans) and to the exact solver's bound."""
    cache = read_json(o.cache) if o.cache and Path(o.cache).exists() else {}
    rows = []
    for fam in o.families:
        for C, K in o.sizes:
            for seed in o.seeds:
                doc = generate_family(fam, periods=o.periods, categories=C,
                                      products_per_category=K, seed=seed)
                inst = load_instance(doc)
                ex = exact_run(inst, doc, o.exact_time, cache, o.cache, log)
                pso = solve(inst, "pso", SolveOptions(time_limit=o.pso_time, seed=0))
                best = min(c for c in (ex["cost"], pso.cost) if c is not None)
                inc, bound = _at(ex["trace"], o.early_time)
                row = {"family": fam, "size": f"{C} x {K} x {o.periods}", "seed": seed,
                       "pso": pso.cost, "exact": ex["cost"], "best": best,
                       "pso_gap": gap(pso.cost, best),
                       "exact_gap": gap(ex["cost"], ex["bound"]),
                       "exact_early_gap": gap(inc, bound),
                       "exact_status": ex["status"], "cached": ex["cached"]}
                rows.append(row)
                log(f"families {fam} {row['size']} seed {seed}: pso {100 * row['pso_gap']:.3f} "
                    f"% above the best known; exact gap {_pct(row['exact_gap'])}")
    return {"options": asdict(o), "rows": rows, "summary": summary(rows)}


def summary(rows: list[dict]) -> list[dict]:
    """Per family and size: median and worst PSO gap, median exact gaps."""
    out = []
    keys = sorted({(r["family"], r["size"]) for r in rows},
                  key=lambda k: (list(FAMILIES).index(k[0]), k[1]))
    for fam, size in keys:
        rs = [r for r in rows if r["family"] == fam and r["size"] == size]

        def med(name, rs=rs):
            vals = [r[name] for r in rs if r[name] is not None]
            return statistics.median(vals) if vals else None

        out.append({"family": fam, "size": size, "instances": len(rs),
                    "pso_median": med("pso_gap"),
                    "pso_worst": max(r["pso_gap"] for r in rs),
                    "exact_early_median": med("exact_early_gap"),
                    "exact_median": med("exact_gap"),
                    "exact_without_plan": sum(r["exact"] is None for r in rs)})
    return out


#: The goal for our PSO on each family and size: median and worst gap above the best plan
#: known.
GOAL_MEDIAN, GOAL_WORST = 0.005, 0.01


def _met(s: dict) -> bool:
    return s["pso_median"] <= GOAL_MEDIAN and s["pso_worst"] <= GOAL_WORST


def headline_lines(res: dict) -> list[str]:
    """The README headline's paragraph on the families (none when they were not run)."""
    if "families" not in res:
        return []
    r = res["families"]
    o, summ = r["options"], r["summary"]
    medians = [s["pso_median"] for s in summ]
    worst = max(s["pso_worst"] for s in summ)
    sizes = " and ".join(f"{C} x {K} x {o['periods']}" for C, K in o["sizes"])
    return ["", f"SFI instance families ({len(o['families'])} families of {sizes}, seeds "
            f"{', '.join(map(str, o['seeds']))}): our PSO at "
            f"{o['pso_time']:g} s ends a median {_pct(min(medians))} to {_pct(max(medians))} "
            f"above the best plan known (its own or the exact solver's after "
            f"{o['exact_time']:g} s) per family and size, {_pct(worst)} "
            f"at the worst seed; the goal (median {_pct(GOAL_MEDIAN)}, worst {_pct(GOAL_WORST)}) "
            f"is met on {sum(map(_met, summ))} of {len(summ)}."]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.3f} %"


def report_section(res: dict) -> list[str]:
    """The report's lines: one summary table, then a table per family."""
    o = res["options"]
    early = o["early_time"] < o["exact_time"]  # else the early column repeats the last
    L = ["## SFI instance families", "", *generated_note(res),
         f"Generator seeds {', '.join(map(str, o['seeds']))} of each family "
         f"(docs/models/sfi.md, \"Instance families\"), {o['periods']} periods; our PSO "
         f"{o['pso_time']:g} s (seed 0, one worker); the exact solver {o['exact_time']:g} s"
         + (f", its gap to its own bound also at {o['early_time']:g} s (the same run's trace). "
            if early else ". ") +
         "*Best known*: the cheaper of the two plans. Cached exact runs: "
         f"{sum(r['cached'] for r in res['rows'])} of {len(res['rows'])} "
         f"(`{o['cache']}`, each plan scored again).", "",
         "| family | size | PSO median above best known | PSO worst | "
         + (f"exact gap at {o['early_time']:g} s (median) | " if early else "")
         + f"exact gap at {o['exact_time']:g} s (median) | exact without a plan |",
         "|---|---|---|---|" + ("---|" if early else "") + "---|---|"]
    for s in res["summary"]:
        L.append(f"| {s['family']} | {s['size']} | {_pct(s['pso_median'])} | "
                 f"{_pct(s['pso_worst'])} | "
                 + (f"{_pct(s['exact_early_median'])} | " if early else "")
                 + f"{_pct(s['exact_median'])} | {s['exact_without_plan']} of "
                 f"{s['instances']} |")
    L += ["", f"Goal (our PSO's median at most {_pct(GOAL_MEDIAN)} above the best plan known, "
          f"its worst seed at most {_pct(GOAL_WORST)}) met on "
          f"{sum(map(_met, res['summary']))} of {len(res['summary'])} families and sizes.", ""]
    for fam in dict.fromkeys(r["family"] for r in res["rows"]):
        L += [f"### {fam}", "", "| size | seed | PSO | exact | PSO above best known | "
              "exact gap | exact status |", "|---|---|---|---|---|---|---|"]
        for r in (r for r in res["rows"] if r["family"] == fam):
            exact = "–" if r["exact"] is None else f"{r['exact']:,.0f}"
            L.append(f"| {r['size']} | {r['seed']} | {r['pso']:,.0f} | {exact} | "
                     f"{_pct(r['pso_gap'])} | {_pct(r['exact_gap'])} | {r['exact_status']} |")
        L.append("")
    return L
