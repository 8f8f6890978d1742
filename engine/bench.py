"""``invswarm bench``: a suite of methods over a suite of instances, with fixed seeds and a time
budget per run; writes ``results.json``, PNG plots and a Markdown report.

The default suite reproduces the seed paper's table on the steel case, measures scaling in
periods and products, the scenario benchmark, and the network model's cases; user instance
files get the compare table of each (see :mod:`invswarm.engine.compare`). The micro-benchmarks
of ``benchmarks/`` (kernels, driver, workers) run under pytest-benchmark; their JSON, when given,
is summarised in the report.
"""

from __future__ import annotations

import math
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from . import bench_contracts, bench_families, bench_peers
from .bench_experiments import (
    BenchOptions,
    large_sfi,
    scaling,
    scenarios,
    seed_table,
    user_instances,
)
from .bench_network import network_cases, network_cluster
from .bench_report import headline, plots, report
from .compare import into
from .errors import InputError
from .jsonio import read_json, write_atomic, write_json_atomic


def run_suite(o: BenchOptions, *, experiments: tuple[str, ...], instances: list[str] = (),
              methods: list[str] = ("exact", "pso"), micro: str | None = None,
              out_dir: str = "docs/bench", report_path: str | None = "docs/benchmarks.md",
              readme: str | None = None, command: str = "invswarm bench",
              log: Callable = print, merge: bool = False) -> dict:
    """Run the experiments (and the user's instances), write ``results.json``, the plots, the
    report and (when given) the README's headline section; returns the results. ``merge``:
    keep everything else of the ``results.json`` already in ``out_dir`` (its date and
    machine included), replacing only the experiments run and the micro-benchmarks named;
    each experiment run then records its own command and date."""
    t0 = time.perf_counter()
    from .models.network.problem import warmup as net_warmup
    from .models.sfi.warmup import warmup as sfi_warmup

    sfi_warmup()
    net_warmup()
    runners = {"seed_table": seed_table, "scaling": scaling, "large_sfi": large_sfi,
               "scenarios": scenarios, "network": network_cases,
               "network_cluster": network_cluster,
               "contracts": lambda o, log: bench_contracts.run(log, o.contracts),
               "peers": lambda o, log: bench_peers.run(o.peers, log),
               "families": lambda o, log: bench_families.run(o.families, log)}
    res: dict = {"date": time.strftime("%Y-%m-%d"), "command": command, "options": asdict(o),
                 "machine": {"cpus": _cpus(), "cpu": _cpu_model(), "machine": platform.machine(),
                             "system": platform.system(), "python": platform.python_version()}}
    for name in experiments:
        t1 = time.perf_counter()
        res[name] = runners[name](o, log)
        if merge:
            res[name]["generated"] = {"command": command, "date": res["date"],
                                      "wall_s": time.perf_counter() - t1}
    if instances:
        res["user"] = user_instances(list(instances), list(methods), o, log)
    if micro:
        res["micro"] = [{"name": b["name"], "extra_info": b.get("extra_info", {})}
                        for b in read_json(micro).get("benchmarks", [])]
    res["total_s"] = time.perf_counter() - t0
    old = Path(out_dir) / "results.json"
    if merge and old.exists():
        new, res = res, read_json(old)
        res.setdefault("command", _report_command(report_path))
        for name in (*experiments, *(["user"] if instances else [])):
            res[name] = new[name]
        if micro:
            fresh = {b["name"] for b in new["micro"]}
            for b in new["micro"]:
                b["generated"] = {"command": command, "date": new["date"]}
            res["micro"] = [b for b in res.get("micro", []) if b["name"] not in fresh] \
                + new["micro"]
    write_outputs(res, out_dir, report_path, readme, command)
    return res


def write_outputs(res: dict, out_dir: str, report_path: str | None, readme: str | None,
                  command: str) -> None:
    """``results.json``, plots, report and README section of a bench run's results."""
    # rendered before anything is written, so that results that cannot be rendered leave
    # the earlier outputs as they were
    text, head = report(res, res.get("command", command)), headline(res)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots(res, out)
    write_json_atomic(out / "results.json", _jsonable(res))
    if report_path:
        write_atomic(report_path, text)
    if readme:
        into(readme, head, begin="<!-- bench:begin -->", end="<!-- bench:end -->")


EXPERIMENTS = ("seed_table", "scaling", "large_sfi", "scenarios", "network",
               "network_cluster", "contracts", "peers", "families")
#: What ``all`` runs. ``families`` gives the exact solver 600 s on each of its 100 instances
#: (about 17 hours before its cache fills), so it runs on its own: ``make bench-families``.
DEFAULT_EXPERIMENTS = EXPERIMENTS[:-1]


def _report_command(report_path: str | None) -> str:
    """The command an existing report names as its generator (results saved before the
    command was recorded): what a merged report's header keeps."""
    import re

    try:
        m = re.search(r"Generated by `([^`]+)`", Path(report_path).read_text())
    except (OSError, TypeError):
        m = None
    return m.group(1) if m else "invswarm bench"


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _cpu_model() -> str:
    """The processor's model name: the timings depend on it more than on anything else here."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown processor"


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def options_of(args) -> BenchOptions:
    """The experiments' options from ``invswarm bench``'s arguments: ``--exact-time`` is the
    exact solver's time limit on the seed table and on the SFI families (whose earlier
    moment stays at 60 s, or at the limit when it is shorter)."""
    families = bench_families.FamiliesOptions()
    return BenchOptions(seeds=args.seeds, swarm_time=args.swarm_time,
                        exact_time=args.exact_time,
                        families=replace(families, exact_time=args.exact_time,
                                         early_time=min(families.early_time, args.exact_time)))


def main_args(args) -> int:
    """The ``invswarm bench`` command (``--from``: rewrite the outputs of an earlier run)."""
    command = args.command_line or "invswarm bench " + " ".join(sys.argv[2:])
    if args.from_results:
        res = read_json(args.from_results)
        if not isinstance(res, dict) or not isinstance(res.get("machine"), dict):
            raise InputError("from", "is not the results.json of an invswarm bench run")
        try:
            write_outputs(res, args.out_dir, args.report, args.readme, command)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise InputError("from", f"is not a complete results.json of an invswarm bench "
                                     f"run ({type(exc).__name__}: {exc})") from None
        return 0
    o = options_of(args)
    experiments = DEFAULT_EXPERIMENTS if args.experiments == "all" else tuple(
        e.strip() for e in args.experiments.split(",") if e.strip())
    for e in experiments:
        if e not in EXPERIMENTS:
            raise InputError("experiments", f"unknown experiment {e!r} (choose from "
                                            f"{', '.join(EXPERIMENTS)} or 'all')")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    run_suite(o, experiments=experiments, instances=args.instances or [], methods=methods,
              micro=args.micro, out_dir=args.out_dir, report_path=args.report,
              readme=args.readme, command=command,
              log=lambda s: print(s, file=sys.stderr, flush=True),
              merge=bool(getattr(args, "merge", False)))
    return 0


__all__ = ["EXPERIMENTS", "BenchOptions", "run_suite"]
