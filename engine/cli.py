"""The ``invswarm`` command: solve, roll, evaluate, generate, case, demo, serve.

Bad input exits with code 2 and one line naming the field; results are written atomically.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .compiled import compile_kernels, is_compiled
from .errors import InputError, NoSolution
from .jsonio import read_json, write_json_atomic
from .models import contracts, network, sfi
from .models.sfi.families import FAMILIES, generate_family
from .solve import DEFAULT_METHOD, METHODS, SolveOptions, evaluate, load_instance, model_of, solve
from .termination import StopToken


def _emit(doc: Any, out: str | None) -> None:
    if out:
        write_json_atomic(out, doc)
    else:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")


class _Bar:
    """A progress bar (tqdm) on stderr, only when stderr is a terminal: the share of the budget
    spent (the time limit, else the evaluation budget), elapsed and left, the rate of
    evaluations, the best cost (with the gap to ``bound``, or to the exact solver's bound) and
    the phase."""

    # The run's clock and budget, not tqdm's own (which starts at the first report).
    FORMAT = "{percentage:3.0f}%|{bar}| {run}"

    def __init__(self, bound: float | None = None):
        self.on = sys.stderr.isatty()
        self.bound = bound
        self.bar = None

    def __call__(self, info: dict) -> None:
        if not self.on:
            return
        from tqdm import tqdm

        if info.get("time_left") is not None:
            done, total = info["elapsed"], info["elapsed"] + info["time_left"]
        elif info.get("evaluations_left") is not None:
            done, total = info["evaluations"], info["evaluations"] + info["evaluations_left"]
        else:
            done, total = info["elapsed"], None
        if self.bar is None:
            class Bar(tqdm):
                run = ""

                @property
                def format_dict(self):
                    return {**super().format_dict, "run": self.run}

            self.bar = Bar(total=total, file=sys.stderr, bar_format=self.FORMAT,
                           dynamic_ncols=True, leave=True)
        self.bar.total = total
        self.bar.n = done
        clock = tqdm.format_interval
        left = info.get("time_left")
        parts = [clock(info["elapsed"]) + (f"<{clock(left)}" if left is not None else "")]
        if info.get("evaluations_left") is not None:
            parts.append(f"{info['evaluations_left']:,.0f} eval left")
        if info.get("evaluations"):
            parts.append(f"{info['evaluations'] / max(info['elapsed'], 1e-9):,.0f} eval/s")
        best, bound = info.get("best"), info.get("bound")
        bound = self.bound if self.bound is not None else bound
        if best is not None:
            parts.append(f"best {best:,.2f}")
            if bound is not None and best:
                parts.append(f"gap {100 * (best - bound) / abs(best):.3f} %")
        parts.append(info.get("phase", ""))
        self.bar.run = ", ".join(p for p in parts if p)
        self.bar.refresh()

    def event(self, kind: str, **fields) -> None:
        """The run's start, the kernels' compilation and the run's end (the bar ends)."""
        if kind == "compiling":
            print("invswarm: compiling the Numba kernels (the first run after an install; "
                  "later runs load them from the cache) ...", file=sys.stderr, flush=True)
        elif kind == "compiled":
            print(f"invswarm: kernels compiled in {fields['seconds']:.1f} s", file=sys.stderr,
                  flush=True)
        elif kind != "start" and self.bar is not None:
            self.bar.close()
            self.bar = None


class _JsonLines:
    """The run's events as JSON lines on stderr: ``start``, ``compiling`` and ``compiled``
    (with its ``seconds``) on the first run after an install, ``progress`` (elapsed seconds,
    evaluations, best cost, bound, phase, time and evaluations left, iteration), then one of
    ``end`` (with the status) or ``failed``."""

    def __call__(self, info: dict) -> None:
        self.event("progress", **info)

    def event(self, kind: str, **fields) -> None:
        sys.stderr.write(json.dumps({"event": kind, **fields}) + "\n")
        sys.stderr.flush()


def _solve_options(args) -> SolveOptions:
    return SolveOptions(time_limit=args.time_limit, gap=args.gap, threads=args.threads,
                        max_iter=args.max_iter, max_evals=args.max_evals,
                        stall_iter=args.stall_iter, target=args.target,
                        swarm_size=args.swarm_size, seed=args.seed,
                        jobs=args.jobs, islands=args.islands, backend=args.backend,
                        verbose=args.verbose, checkpoint=args.checkpoint)


def _cmd_solve(args) -> int:
    inst = load_instance(read_json(args.instance))
    warm = read_json(args.warm_start) if args.warm_start else None
    pins = read_json(args.pins) if args.pins else None
    return _solve_and_write(args, inst, warm, pins)


def _cmd_roll(args) -> int:
    from .roll import roll

    inst = load_instance(read_json(args.instance))
    warm, pins = roll(inst, read_json(args.previous), args.shift, release=args.release)
    return _solve_and_write(args, inst, warm, pins)


def _solve_and_write(args, inst, warm, pins) -> int:
    progress = _JsonLines() if args.progress == "jsonl" else _Bar(args.bound)
    model = model_of(inst)
    method = args.method if args.method is not None else DEFAULT_METHOD[model]
    progress.event("start", method=method, instance=inst.name)
    if model != "contracts" and not is_compiled(model):
        # Minutes, once: said before the wait, and timed.
        progress.event("compiling", model=model)
        progress.event("compiled", model=model, seconds=compile_kernels(model))
    with _cluster(args):
        try:
            res = solve(inst, method, _solve_options(args), warm_start=warm, pins=pins,
                        callback=progress, stop=args.stop)
        except NoSolution as exc:
            progress.event("failed", message=str(exc))
            raise
    _emit(res.to_json(), args.out)
    progress.event("end", status=res.status, cost=res.cost, elapsed=res.wall_s)
    if args.out:
        bound = (f", bound {res.bound:,.2f}, gap {100 * res.gap:.4f} %"
                 if res.bound > float("-inf") else "")
        print(f"{res.instance}: {res.method} cost {res.cost:,.2f}{bound}, {res.status}, "
              f"{res.wall_s:.1f} s -> {args.out}", file=sys.stderr)
    return 0


def _cmd_bench(args) -> int:
    from .bench import main_args

    return main_args(args)


def _cmd_compare(args) -> int:
    from .compare import compare, into, markdown

    inst = load_instance(read_json(args.instance))
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    seeds = list(range(args.seeds))
    opts = SolveOptions(time_limit=args.time_limit, gap=args.gap, islands=args.islands)
    rows = compare(inst, methods, opts, seeds, args.swarm_time)
    command = "invswarm compare " + " ".join(sys.argv[2:]) if args.command_line is None \
        else args.command_line
    text = markdown(inst, rows, command)
    if args.into:
        into(args.into, text)
        print(f"table written into {args.into}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.out:
        write_json_atomic(args.out, rows)
    return 0


def _cmd_serve(args) -> int:
    try:  # the service's dependencies are an extra; the engine runs without them
        from .service.serve import serve
    except ImportError as exc:
        print(f"invswarm serve: needs the service extra (pip install 'invswarm[service]'): "
              f"{exc}", file=sys.stderr)
        return 1
    return serve(args)


def _cmd_evaluate(args) -> int:
    inst = load_instance(read_json(args.instance))
    _emit(evaluate(inst, read_json(args.plan)), args.out)
    return 0


def _cmd_plot(args) -> int:
    from .plot import plot_result

    plot_result(read_json(args.result), args.out)
    return 0


def _cmd_generate_network(args) -> int:
    inst = network.generate(firms=args.firms, materials=args.materials, periods=args.periods,
                            density=args.density, life=(args.life_min, args.life_max),
                            expiring=args.expiring, seed=args.seed)
    _emit(inst.to_json(), args.out)
    return 0


def _cmd_generate_contracts(args) -> int:
    _emit(contracts.generate(retailers=args.retailers, manufacturers=args.manufacturers,
                             periods=args.periods, periods_per_year=args.periods_per_year,
                             scenarios=args.scenarios, paths=args.paths, mode=args.mode,
                             seed=args.seed), args.out)
    return 0


def _cmd_case_contracts(args) -> int:
    _emit(contracts.seed_case_doc(args.mode, args.paths), args.out)
    return 0


def _cmd_case_electronics(args) -> int:
    _emit(network.electronics_doc(), args.out)
    return 0


def _cmd_generate(args) -> int:
    if args.family is None:
        doc = sfi.generate(periods=args.periods, categories=args.categories,
                           products_per_category=args.products_per_category,
                           scenarios=args.scenarios or 1, seed=args.seed,
                           forecast_error=0.2 if args.forecast_error is None
                           else args.forecast_error)
    else:
        for name in ("scenarios", "forecast_error"):
            if getattr(args, name) is not None:
                raise InputError(name, "is drawn by the family; leave it out with --family")
        doc = generate_family(args.family, periods=args.periods, categories=args.categories,
                              products_per_category=args.products_per_category,
                              seed=args.seed)
    _emit(doc, args.out)
    return 0


def _cmd_case(args) -> int:
    _emit(sfi.steel_case(args.periods), args.out)
    return 0


def relation(cost: float, ref: float, scale: float) -> str:
    """``"x.xxx % above"`` or ``"x.xxx % below"``: ``cost`` against ``ref``, relative to
    ``scale``; equal at the printed precision reads ``0.000 % above``, not ``-0.000``."""
    pct = 100 * (cost - ref) / abs(scale)
    if abs(pct) < 5e-4:
        pct = 0.0
    return f"{abs(pct):.3f} % {'below' if pct < 0 else 'above'}"


def _cmd_demo(args) -> int:
    doc = sfi.steel_case(args.periods)
    inst = sfi.Instance.from_json(doc)
    print(f"invswarm demo: the shipped steel case, {inst.n_periods} periods, "
          f"{inst.n_categories} categories x {inst.n_products // inst.n_categories} products, "
          f"{inst.n_stages} stages")
    print(f"solving exactly with HiGHS (time limit {args.time_limit:g} s, gap {args.gap:g}) ...",
          flush=True)
    res = solve(inst, "exact", SolveOptions(time_limit=args.time_limit, gap=args.gap))
    print(_report(inst, res))
    print(f"\nsolving with PSO (seed {args.seed}, {args.pso_time:g} s) ...", flush=True)
    pso = solve(inst, "pso", SolveOptions(time_limit=args.pso_time, seed=args.seed))
    print(f"PSO cost {pso.cost:,.2f}: {relation(pso.cost, res.cost, res.cost)} the exact "
          f"plan, {relation(pso.cost, res.bound, pso.cost)} the exact bound "
          f"[{pso.wall_s:.1f} s]")
    if args.out:
        write_json_atomic(args.out, {"exact": res.to_json(), "pso": pso.to_json()})
        print(f"results written to {args.out}")
    return 0


def _report(inst: sfi.Instance, res) -> str:
    plan = sfi.Plan.from_json(res.plan, inst)
    T = inst.n_periods
    lines = ["", "Plan (stage:quantity per period)"]
    head = "  " + " " * 22 + "".join(f"{t + 1:>11}" for t in range(T))
    lines.append(head)
    for c in range(inst.n_categories):
        cells = "".join(f"{plan.pdp[c, t]:>3}:{plan.generic[c, t]:<7.0f}" for t in range(T))
        lines.append(f"  generic {inst.category_names[c]:<14}{cells}")
    for p in range(inst.n_products):
        cells = "".join(f"{plan.codp[p, t]:>3}:{plan.dedicated[p, t]:<7.0f}" for t in range(T))
        lines.append(f"  dedicated {inst.product_names[p]:<12}{cells}")
    bd = res.evaluation["breakdown"]
    lines += ["", "Cost per period: CP (preparation) + CO (fulfilment)"]
    for t in range(T):
        lines.append(f"  t={t + 1:>3}  CP {bd['prep_cost'][t]:>12,.2f}   CO "
                     f"{bd['fulfil_cost'][t]:>12,.2f}")
    lines += ["", "Cost by component (all periods)"]
    for name, v in bd["totals"].items():
        lines.append(f"  {name:<14}{v:>14,.2f}")
    k = res.evaluation["kpis"]
    lines += ["", f"KPIs: on-time rate {100 * k['on_time_rate']:.2f} %, units late "
                  f"{k['units_late']:,.0f}, lost {k['units_lost']:,.0f}, disposed "
                  f"{k['units_disposed']:,.0f}",
              "",
              f"Total cost (kernel, re-scored) {res.cost:,.2f}",
              f"Best bound (HiGHS)             {res.bound:,.2f}",
              f"Optimality gap                 {100 * res.gap:.4f} %   [{res.status}, "
              f"{res.wall_s:.1f} s]"]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="invswarm", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="solve an instance")
    p.add_argument("instance", help="instance JSON file")
    p.add_argument("--warm-start", help="plan JSON file (or result file of 'invswarm solve') "
                                        "to start from")
    p.add_argument("--pins", help="pins JSON file: decisions every returned plan keeps or "
                                  "avoids (docs/embedding.md, Pins)")
    _solve_arguments(p)
    p.set_defaults(func=_cmd_solve)

    p = sub.add_parser("roll", help="re-plan after the horizon moved: the previous plan "
                                    "shifted onto the new instance, as warm start and pins")
    p.add_argument("instance", help="the new instance JSON file (its period 1 is the "
                                    "previous period 1 + SHIFT)")
    p.add_argument("--previous", required=True, help="plan or result JSON file of the "
                                                     "previous horizon")
    p.add_argument("--shift", type=int, required=True, help="periods the horizon moved")
    p.add_argument("--release", type=int, default=0,
                   help="periods of the shifted plan kept as they are (0)")
    _solve_arguments(p)
    p.set_defaults(func=_cmd_roll)

    p = sub.add_parser("bench", help="the benchmark suite: results.json, plots, a Markdown "
                                     "report")
    p.add_argument("--experiments", default="all",
                   help="all (every experiment but families), or some of: seed_table, "
                        "scaling, large_sfi, scenarios, network, contracts, families")
    p.add_argument("--instances", nargs="*", help="your instance files: each gets a table of "
                                                  "--methods")
    p.add_argument("--methods", default="exact,pso", help="for --instances (exact,pso)")
    p.add_argument("--seeds", type=int, default=5, help="PSO seeds per instance (5)")
    p.add_argument("--swarm-time", type=float, default=9.5,
                   help="seconds per swarm run (9.5)")
    p.add_argument("--exact-time", type=float, default=600.0,
                   help="exact solver's time limit on the seed table and your instances (600)")
    p.add_argument("--micro", help="pytest-benchmark JSON of benchmarks/ to summarise")
    p.add_argument("--out-dir", default="docs/bench",
                   help="results.json and the plots (docs/bench)")
    p.add_argument("--report", default="docs/benchmarks.md",
                   help="the Markdown report (docs/benchmarks.md)")
    p.add_argument("--readme", help="a Markdown file whose bench section gets the headline "
                                    "figures")
    p.add_argument("--from", dest="from_results",
                   help="results.json of an earlier run: rewrite its outputs, run nothing")
    p.add_argument("--merge", action="store_true",
                   help="keep the rest of --out-dir's results.json: rerun only --experiments "
                        "(and --micro's benchmarks) and rewrite the report with both")
    p.add_argument("--command-line", help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("compare", help="methods side by side on one instance (Markdown)")
    p.add_argument("instance")
    p.add_argument("--methods", default="exact,pso,greedy,none",
                   help="comma-separated methods (exact,pso,greedy,none)")
    p.add_argument("--seeds", type=int, default=5, help="pso: seeds 0..N-1 (5)")
    p.add_argument("--time-limit", type=float, default=600.0,
                   help="exact: seconds (600)")
    p.add_argument("--swarm-time", type=float, default=10.0,
                   help="pso, per-period, pyswarms: seconds per run (10)")
    p.add_argument("--gap", type=float, default=0.0, help="exact: relative MIP gap (0)")
    p.add_argument("--islands", type=int, default=2, help="pso: swarms (2)")
    p.add_argument("--into", help="Markdown file whose compare section is replaced")
    p.add_argument("--out", help="also write the rows as JSON here")
    p.add_argument("--command-line", help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("evaluate", help="cost, breakdown and KPIs of a plan")
    p.add_argument("instance")
    p.add_argument("plan", help="plan JSON file, or result file of 'invswarm solve' (its plan)")
    p.add_argument("--out")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("plot", help="convergence and plan of a result, as PNG")
    p.add_argument("result", help="result JSON file of 'invswarm solve'")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("generate", help="a seeded random instance")
    gsub = p.add_subparsers(dest="model", required=True)
    g = gsub.add_parser("sfi")
    g.add_argument("--periods", type=int, required=True)
    g.add_argument("--categories", type=int, required=True)
    g.add_argument("--products-per-category", type=int, required=True)
    g.add_argument("--scenarios", type=int, help="default 1")
    g.add_argument("--forecast-error", type=float, help="default 0.2")
    g.add_argument("--family", help="an instance family (docs/models/sfi.md, 'Instance "
                                    f"families'): {', '.join(FAMILIES)}; default: the steel "
                                    "line's stages with costs perturbed")
    g.add_argument("--seed", type=int, required=True)
    g.add_argument("--out")
    g.set_defaults(func=_cmd_generate)
    g = gsub.add_parser("network")
    g.add_argument("--firms", type=int, required=True)
    g.add_argument("--materials", type=int, required=True)
    g.add_argument("--periods", type=int, required=True)
    g.add_argument("--density", type=float, default=0.3,
                   help="probability of a link (both ways) between two firms (0.3)")
    g.add_argument("--life-min", type=int, default=3, help="shortest shelf life (3)")
    g.add_argument("--life-max", type=int, default=8, help="longest shelf life (8)")
    g.add_argument("--expiring", type=float, default=0.5,
                   help="share of materials that expire (0.5)")
    g.add_argument("--seed", type=int, required=True)
    g.add_argument("--out")
    g.set_defaults(func=_cmd_generate_network)
    g = gsub.add_parser("contracts")
    g.add_argument("--retailers", type=int, default=2)
    g.add_argument("--manufacturers", type=int, default=2)
    g.add_argument("--periods", type=int, default=52)
    g.add_argument("--periods-per-year", type=int, default=52)
    g.add_argument("--scenarios", type=int, default=3,
                   help="disruption scenarios, 'none' included (3)")
    g.add_argument("--paths", type=int, default=100, help="demand paths (100)")
    g.add_argument("--mode", choices=contracts.MODES, default="guaranteed")
    g.add_argument("--seed", type=int, required=True)
    g.add_argument("--out")
    g.set_defaults(func=_cmd_generate_contracts)

    p = sub.add_parser("case", help="write a shipped case")
    csub = p.add_subparsers(dest="case", required=True)
    c = csub.add_parser("steel", help="the seed paper's steel case")
    c.add_argument("--periods", type=int, default=24, metavar="T")
    c.add_argument("--out")
    c.set_defaults(func=_cmd_case)
    c = csub.add_parser("electronics", help="the shipped network case: 5 firms, 3 materials, "
                                            "12 periods")
    c.add_argument("--out")
    c.set_defaults(func=_cmd_case_electronics)
    c = csub.add_parser("contracts", help="the seed's contracts case: 2 manufacturers, "
                                          "2 retailers, 104 weeks, 5 disruption scenarios")
    c.add_argument("--mode", choices=contracts.MODES, default="guaranteed")
    c.add_argument("--paths", type=int, default=200, help="demand paths (200)")
    c.add_argument("--out")
    c.set_defaults(func=_cmd_case_contracts)

    p = sub.add_parser("serve", help="the redeployment service: HTTP API, pages, planning "
                                     "worker (docs/service.md)")
    p.add_argument("--demo", action="store_true",
                   help="load the electronics case as five firms and print their tokens")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000)")
    p.add_argument("--db", default="sqlite:///invswarm.db",
                   help="sqlite:///path or postgresql://... (sqlite:///invswarm.db)")
    p.add_argument("--tokens", help="write the tokens here as JSON (atomically)")
    p.add_argument("--operator-token", default=os.environ.get("INVSWARM_OPERATOR_TOKEN"),
                   help="the operator's token (default: $INVSWARM_OPERATOR_TOKEN, else a new "
                        "one, printed)")
    p.add_argument("--method", choices=("pso", "exact", "greedy", "none"), default="pso",
                   help="planning method (pso)")
    p.add_argument("--time-limit", type=float, default=10.0,
                   help="seconds per planning run (10)")
    p.add_argument("--seed", type=int, default=0, help="planning seed (0)")
    p.add_argument("--debounce", type=float, default=1.0,
                   help="seconds of quiet after a change before planning (1)")
    p.add_argument("--period-seconds", type=float,
                   help="end the current period every this many seconds (default: only the "
                        "operator's POST /period/advance does)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("demo", help="solve the shipped steel case and print the result")
    p.add_argument("--periods", type=int, default=24)
    p.add_argument("--time-limit", type=float, default=100.0, help="exact: seconds (100)")
    p.add_argument("--gap", type=float, default=1e-4)
    p.add_argument("--pso-time", type=float, default=10.0, help="pso: seconds (10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out")
    p.set_defaults(func=_cmd_demo)
    return ap


def _solve_arguments(p: argparse.ArgumentParser) -> None:
    """The options of a solve, shared by ``solve`` and ``roll``."""
    p.add_argument("--method", choices=METHODS, default=None,
                   help="sfi: exact, pso, per-period, pyswarms, relax-round; network: exact, "
                        "pso, greedy, none (exact); contracts: equilibrium, system "
                        "(equilibrium)")
    p.add_argument("--time-limit", type=float, default=None,
                   help="seconds (exact, relax-round: default 60; swarms without --max-iter: "
                        "default 10)")
    p.add_argument("--gap", type=float, default=1e-4, help="exact: relative MIP gap (1e-4)")
    p.add_argument("--threads", type=int, default=None,
                   help="the run's threads: Numba threads, workers (--jobs is cut to it) and "
                        "the exact solver's (default: the CPUs this process may use)")
    p.add_argument("--max-iter", type=int, default=None,
                   help="swarms: iterations (pso: the polish then gets as many evaluations as "
                        "the swarms)")
    p.add_argument("--max-evals", type=int, default=None,
                   help="pso: evaluations of the whole run, swarms and polish; other swarms: "
                        "of each swarm")
    p.add_argument("--stall-iter", type=int, default=None,
                   help="swarms: end a phase after this many iterations (or their worth of "
                        "evaluations) without a gain")
    p.add_argument("--target", type=float, default=None,
                   help="pso: end the run once its best cost is at most this")
    p.add_argument("--swarm-size", type=int, default=32, help="swarms: particles (32)")
    p.add_argument("--seed", type=int, default=0, help="swarms: seed (0)")
    p.add_argument("--jobs", type=int, default=1, help="pso: joblib workers (1)")
    p.add_argument("--islands", type=int, default=2,
                   help="pso: swarms (2; not tied to --jobs, so results do not depend on it)")
    p.add_argument("--backend", choices=("loky", "dask"), default="loky",
                   help="pso: joblib backend (loky)")
    p.add_argument("--scheduler", help="pso with --backend dask: scheduler address (default: "
                                       "a local cluster of --jobs workers on loopback)")
    p.add_argument("--bound", type=float, default=None,
                   help="a known lower bound (say, from an exact run): the progress bar then "
                        "shows the gap to it")
    p.add_argument("--out", help="write the result here (atomically) instead of stdout")
    p.add_argument("--checkpoint", metavar="FILE",
                   help="pso: save the swarms' state in FILE at each migration; the same "
                        "command resumes from it (removed when the run ends by its budget)")
    p.add_argument("--verbose", action="store_true", help="print the solver log")
    p.add_argument("--progress", choices=("bar", "jsonl"), default="bar",
                   help="bar: a progress bar on a terminal; jsonl: the run's events as JSON "
                        "lines on stderr (start, progress, end)")


def _cluster(args):
    """A dask client for ``--backend dask`` (joblib's dask backend needs one), else nothing."""
    from contextlib import nullcontext

    if getattr(args, "backend", "loky") != "dask":
        return nullcontext()
    from .cluster import dask_client

    return dask_client(args.scheduler, args.jobs)


def main(argv: list[str] | None = None, stop: StopToken | None = None) -> int:
    """Run one command; returns the exit code. ``stop`` ends a ``solve`` with its best plan
    (the ``invswarm`` command sets it on SIGINT and SIGTERM: :mod:`.launch`)."""
    args = build_parser().parse_args(argv)
    args.stop = stop
    try:
        return args.func(args)
    except InputError as exc:
        print(f"invswarm: error: {exc}", file=sys.stderr)
        return 2
    except NoSolution as exc:
        print(f"invswarm: {exc}", file=sys.stderr)
        return 1
    except MemoryError:
        # Sizes within the formats' ranges can still outgrow this machine (a swarm of a
        # million particles on a large instance): one line, not a traceback.
        print("invswarm: out of memory", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
