"""What ``invswarm solve`` shows of a run while it runs: a progress bar on a terminal
(:class:`ProgressBar`) or the run's events as JSON lines (:class:`JsonLines`, ``--progress
jsonl``); both take the run's progress reports and lifecycle events (docs/embedding.md).
"""

from __future__ import annotations

import json
import sys


class ProgressBar:
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


class JsonLines:
    """The run's events as JSON lines on stderr: ``start``, ``compiling`` and ``compiled``
    (with its ``seconds``) on the first run after an install, ``progress`` (elapsed seconds,
    evaluations, best cost, bound, phase, time and evaluations left, iteration), then one of
    ``end`` (with the status) or ``failed``."""

    def __call__(self, info: dict) -> None:
        self.event("progress", **info)

    def event(self, kind: str, **fields) -> None:
        sys.stderr.write(json.dumps({"event": kind, **fields}) + "\n")
        sys.stderr.flush()
