"""Methods side by side on one instance: costs, gaps, times and KPIs, as rows and Markdown."""

from __future__ import annotations

import math
import platform
import statistics
from dataclasses import replace
from pathlib import Path

from .errors import InputError
from .jsonio import write_atomic
from .models.sfi.peers import PEERS
from .solve import SolveOptions, model_of, solve

BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"


def compare(inst, methods: list[str], opts: SolveOptions, seeds: list[int],
            swarm_time: float = 10.0) -> list[dict]:
    """Solve ``inst`` with each method (``pso`` once per seed, ``swarm_time`` seconds each;
    ``exact`` with ``opts``); one row each."""
    rows = []
    for method in methods:
        for seed in (seeds if method == "pso" else [opts.seed]):
            o = replace(opts, seed=seed)
            if method in ("pso", "per-period", *PEERS):
                o = replace(o, time_limit=swarm_time)
            res = solve(inst, method, o)
            rows.append({"method": method, "seed": seed if method == "pso" else None,
                         "cost": res.cost, "bound": res.bound, "status": res.status,
                         "wall_s": res.wall_s, "kpis": res.evaluation["kpis"],
                         "firms": res.evaluation.get("firms", [])})
    exact = [r for r in rows if r["method"] == "exact"]
    ref = min(r["cost"] for r in rows)
    for r in rows:
        r["gap_best"] = (r["cost"] - ref) / abs(ref) if ref else 0.0
        r["gap_exact"] = ((r["cost"] - exact[0]["cost"]) / abs(exact[0]["cost"])
                          if exact else math.nan)
    return rows


def markdown(inst, rows: list[dict], command: str) -> str:
    """The rows as Markdown tables, with the command and the machine that produced them."""
    model = model_of(inst)
    out = [f"Produced by `{command}` on {platform.machine()} "
           f"({platform.system()}, Python {platform.python_version()}).", ""]
    if model == "network":
        out += ["| method | seed | cost | gap to exact | time (s) | backlog unit-periods | "
                "delays | waste (units) | plan adherence | transfers (loans) | units moved |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            k = r["kpis"]
            out.append(
                f"| {r['method']} | {'' if r['seed'] is None else r['seed']} | "
                f"{r['cost']:,.2f} | {_pct(r['gap_exact'])} | {r['wall_s']:.1f} | "
                f"{k['backlog_unit_periods']:,.0f} | {k['delays']:.0f} | "
                f"{k['waste_units']:,.0f} | {100 * k['plan_adherence']:.1f} % | "
                f"{k['transfers']:.0f} ({k['loans']:.0f}) | {k['transferred_units']:,.0f} |")
        pso = [r["gap_exact"] for r in rows if r["method"] == "pso"]
        if pso and not math.isnan(pso[0]):
            out += ["", f"PSO over {len(pso)} seeds: median gap to exact "
                        f"{_pct(statistics.median(pso))}, worst {_pct(max(pso))}."]
        firms = [f["firm"] for f in rows[0]["firms"]]
        out += ["", "Cost change per firm against no sharing, payments included "
                    "(negative: the firm gains):", "",
                "| method | seed | " + " | ".join(firms) + " |",
                "|---|---|" + "---:|" * len(firms)]
        for r in rows:
            cells = " | ".join(f"{f['cost_change']:,.2f}" for f in r["firms"])
            out.append(f"| {r['method']} | {'' if r['seed'] is None else r['seed']} | "
                       f"{cells} |")
    else:
        out += ["| method | seed | cost | gap to exact | time (s) | status |",
                "|---|---|---:|---:|---:|---|"]
        for r in rows:
            out.append(f"| {r['method']} | {'' if r['seed'] is None else r['seed']} | "
                       f"{r['cost']:,.2f} | {_pct(r['gap_exact'])} | {r['wall_s']:.1f} | "
                       f"{r['status']} |")
    return "\n".join(out) + "\n"


def into(path: str, text: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the text between two markers of a Markdown file (atomically)."""
    p = Path(path)
    try:
        doc = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(p), f"cannot read file ({exc.strerror or exc})") from None
    if begin not in doc or end not in doc:
        raise InputError(str(p), f"has no {begin} ... {end} section to replace")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    write_atomic(p, f"{head}{begin}\n{text}{end}{tail}")


def _pct(x: float) -> str:
    return "" if math.isnan(x) else f"{100 * x:.3f} %"
