"""The ``invswarm`` command: solve, roll, evaluate, generate, case, demo, serve.

Bad input exits with code 2 and one line naming the field; results are written atomically.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import commands
from .errors import InputError, NoSolution
from .models import contracts
from .models.sfi.families import FAMILIES
from .solve import METHODS, SolveOptions
from .termination import StopToken


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
    p.set_defaults(func=commands.run_solve)

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
    p.set_defaults(func=commands.run_roll)

    p = sub.add_parser("bench", help="the benchmark suite: results.json, plots, a Markdown "
                                     "report")
    p.add_argument("--experiments", default="all",
                   help="all (every experiment but families), or some of: seed_table, "
                        "scaling, large_sfi, scenarios, network, network_cluster, contracts, "
                        "peers, families")
    p.add_argument("--instances", nargs="*", help="your instance files: each gets a table of "
                                                  "--methods")
    p.add_argument("--methods", default="exact,pso", help="for --instances (exact,pso)")
    p.add_argument("--seeds", type=int, default=5, help="PSO seeds per instance (5)")
    p.add_argument("--swarm-time", type=float, default=9.5,
                   help="seconds per swarm run (9.5)")
    p.add_argument("--exact-time", type=float, default=600.0,
                   help="exact solver's time limit on the seed table, the SFI families and "
                        "your instances (600)")
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
    p.set_defaults(func=commands.run_bench)

    p = sub.add_parser("compare", help="methods side by side on one instance (Markdown)")
    p.add_argument("instance")
    p.add_argument("--methods", default="exact,pso,greedy,none",
                   help="comma-separated methods (exact,pso,greedy,none)")
    p.add_argument("--seeds", type=int, default=5, help="pso: seeds 0..N-1 (5)")
    p.add_argument("--time-limit", type=float, default=600.0,
                   help="exact: seconds (600)")
    p.add_argument("--swarm-time", type=float, default=10.0,
                   help="pso, per-period and the peers: seconds per run (10)")
    p.add_argument("--gap", type=float, default=0.0, help="exact: relative MIP gap (0)")
    p.add_argument("--islands", type=int, default=2, help="pso: swarms (2)")
    p.add_argument("--into", help="Markdown file whose compare section is replaced")
    p.add_argument("--out", help="also write the rows as JSON here")
    p.add_argument("--command-line", help=argparse.SUPPRESS)
    p.set_defaults(func=commands.run_compare)

    p = sub.add_parser("evaluate", help="cost, breakdown and KPIs of a plan")
    p.add_argument("instance")
    p.add_argument("plan", help="plan JSON file, or result file of 'invswarm solve' (its plan)")
    p.add_argument("--out")
    p.set_defaults(func=commands.run_evaluate)

    p = sub.add_parser("plot", help="convergence and plan of a result, as PNG")
    p.add_argument("result", help="result JSON file of 'invswarm solve'")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=commands.run_plot)

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
    g.set_defaults(func=commands.run_generate)
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
    g.set_defaults(func=commands.run_generate_network)
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
    g.set_defaults(func=commands.run_generate_contracts)

    p = sub.add_parser("case", help="write a shipped case")
    csub = p.add_subparsers(dest="case", required=True)
    c = csub.add_parser("steel", help="the seed paper's steel case")
    c.add_argument("--periods", type=int, default=24, metavar="T")
    c.add_argument("--out")
    c.set_defaults(func=commands.run_case)
    c = csub.add_parser("electronics", help="the shipped network case: 5 firms, 3 materials, "
                                            "12 periods")
    c.add_argument("--out")
    c.set_defaults(func=commands.run_case_electronics)
    c = csub.add_parser("contracts", help="the seed's contracts case: 2 manufacturers, "
                                          "2 retailers, 104 weeks, 5 disruption scenarios")
    c.add_argument("--mode", choices=contracts.MODES, default="guaranteed")
    c.add_argument("--paths", type=int, default=200, help="demand paths (200)")
    c.add_argument("--out")
    c.set_defaults(func=commands.run_case_contracts)

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
    p.set_defaults(func=commands.run_serve)

    p = sub.add_parser("demo", help="solve the shipped steel case and print the result")
    p.add_argument("--periods", type=int, default=24)
    p.add_argument("--time-limit", type=float, default=100.0, help="exact: seconds (100)")
    p.add_argument("--gap", type=float, default=1e-4)
    p.add_argument("--pso-time", type=float, default=10.0, help="pso: seconds (10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out")
    p.set_defaults(func=commands.run_demo)
    return ap


def _solve_arguments(p: argparse.ArgumentParser) -> None:
    """The options of a solve, shared by ``solve`` and ``roll``."""
    p.add_argument("--method", choices=METHODS, default=None,
                   help="sfi: exact, pso, per-period, relax-round, and other libraries on "
                        "our encoding: pyswarms, nevergrad, pymoo-ga, pymoo-pso; network: "
                        "exact, pso, decompose, greedy, none (exact); contracts: "
                        "equilibrium, system (equilibrium)")
    p.add_argument("--time-limit", type=float, default=None,
                   help="seconds (exact, relax-round, decompose: default 60; swarms without "
                        "--max-iter: default 10)")
    d = SolveOptions  # the defaults of a solve, stated there
    p.add_argument("--gap", type=float, default=d.gap, help=f"exact: relative MIP gap ({d.gap:g})")
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
    p.add_argument("--swarm-size", type=int, default=d.swarm_size,
                   help=f"swarms: particles ({d.swarm_size})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"swarms: seed ({d.seed})")
    p.add_argument("--jobs", type=int, default=d.jobs, help=f"pso, decompose: workers ({d.jobs})")
    p.add_argument("--islands", type=int, default=d.islands,
                   help=f"pso: swarms ({d.islands}; not tied to --jobs, so results do not "
                        "depend on it)")
    p.add_argument("--migrate-every", type=int, default=d.migrate_every,
                   help="pso: iterations between two migrations of the islands' bests "
                        f"({d.migrate_every})")
    p.add_argument("--topology", choices=("gbest", "ring"), default=d.topology,
                   help="pso, per-period: particles follow the swarm's best or their ring "
                        f"neighbours' ({d.topology})")
    p.add_argument("--backend", choices=("loky", "dask"), default=d.backend,
                   help=f"pso, decompose: where workers run ({d.backend})")
    p.add_argument("--scheduler", help="--backend dask: scheduler address (default: "
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
