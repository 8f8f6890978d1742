"""What each ``invswarm`` subcommand does, given its parsed arguments (``cli.py`` parses them):
read the input, run, write the result atomically, return the exit code.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .compiled import compile_kernels, is_compiled
from .errors import InputError, NoSolution
from .jsonio import read_json, write_json_atomic
from .models import contracts, network, sfi
from .models.sfi.families import generate_family
from .progress import JsonLines, ProgressBar
from .solve import DEFAULT_METHOD, SolveOptions, evaluate, load_instance, model_of, solve


def _emit(doc: Any, out: str | None) -> None:
    if out:
        write_json_atomic(out, doc)
    else:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")


def _solve_options(args) -> SolveOptions:
    return SolveOptions(time_limit=args.time_limit, gap=args.gap, threads=args.threads,
                        max_iter=args.max_iter, max_evals=args.max_evals,
                        stall_iter=args.stall_iter, target=args.target,
                        swarm_size=args.swarm_size, seed=args.seed,
                        jobs=args.jobs, islands=args.islands,
                        migrate_every=args.migrate_every, topology=args.topology,
                        backend=args.backend,
                        verbose=args.verbose, checkpoint=args.checkpoint)


def run_solve(args) -> int:
    inst = load_instance(read_json(args.instance))
    warm = read_json(args.warm_start) if args.warm_start else None
    pins = read_json(args.pins) if args.pins else None
    return _solve_and_write(args, inst, warm, pins)


def run_roll(args) -> int:
    from .roll import roll

    inst = load_instance(read_json(args.instance))
    warm, pins = roll(inst, read_json(args.previous), args.shift, release=args.release)
    return _solve_and_write(args, inst, warm, pins)


def _solve_and_write(args, inst, warm, pins) -> int:
    progress = JsonLines() if args.progress == "jsonl" else ProgressBar(args.bound)
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


def run_bench(args) -> int:
    from .bench import main_args

    return main_args(args)


def run_compare(args) -> int:
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


def run_serve(args) -> int:
    try:  # the service's dependencies are an extra; the engine runs without them
        from .service.serve import serve
    except ImportError as exc:
        print(f"invswarm serve: needs the service extra (pip install 'invswarm[service]'): "
              f"{exc}", file=sys.stderr)
        return 1
    return serve(args)


def run_evaluate(args) -> int:
    inst = load_instance(read_json(args.instance))
    _emit(evaluate(inst, read_json(args.plan)), args.out)
    return 0


def run_plot(args) -> int:
    from .plot import plot_result

    plot_result(read_json(args.result), args.out)
    return 0


def run_generate_network(args) -> int:
    inst = network.generate(firms=args.firms, materials=args.materials, periods=args.periods,
                            density=args.density, life=(args.life_min, args.life_max),
                            expiring=args.expiring, seed=args.seed)
    _emit(inst.to_json(), args.out)
    return 0


def run_generate_contracts(args) -> int:
    _emit(contracts.generate(retailers=args.retailers, manufacturers=args.manufacturers,
                             periods=args.periods, periods_per_year=args.periods_per_year,
                             scenarios=args.scenarios, paths=args.paths, mode=args.mode,
                             seed=args.seed), args.out)
    return 0


def run_case_contracts(args) -> int:
    _emit(contracts.seed_case_doc(args.mode, args.paths), args.out)
    return 0


def run_case_electronics(args) -> int:
    _emit(network.electronics_doc(), args.out)
    return 0


def run_generate(args) -> int:
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


def run_case(args) -> int:
    _emit(sfi.steel_case(args.periods), args.out)
    return 0


def relation(cost: float, ref: float, scale: float) -> str:
    """``"x.xxx % above"`` or ``"x.xxx % below"``: ``cost`` against ``ref``, relative to
    ``scale``; equal at the printed precision reads ``0.000 % above``, not ``-0.000``."""
    pct = 100 * (cost - ref) / abs(scale)
    if abs(pct) < 5e-4:
        pct = 0.0
    return f"{abs(pct):.3f} % {'below' if pct < 0 else 'above'}"


def run_demo(args) -> int:
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


def _cluster(args):
    """A dask client for ``--backend dask`` (joblib's dask backend needs one), else nothing."""
    from contextlib import nullcontext

    if getattr(args, "backend", "loky") != "dask":
        return nullcontext()
    from .cluster import dask_client

    return dask_client(args.scheduler, args.jobs)
