"""Prometheus-style counters of the service: requests, latencies, planning runs."""

from __future__ import annotations

import threading
from collections import defaultdict

#: Latency histogram bounds, seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], list[float]] = {}
        self.latency_sum: dict[tuple[str, str], float] = defaultdict(float)
        self.runs: dict[str, int] = defaultdict(int)
        self.run_seconds = 0.0

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[method, route, status] += 1
            counts = self.latency.setdefault((method, route), [0] * (len(BUCKETS) + 1))
            for k, b in enumerate(BUCKETS):
                if seconds <= b:
                    counts[k] += 1
            counts[-1] += 1
            self.latency_sum[method, route] += seconds

    def run(self, status: str, seconds: float) -> None:
        with self._lock:
            self.runs[status] += 1
            self.run_seconds += seconds

    def text(self) -> str:
        """The exposition format, version 0.0.4."""
        out = ["# HELP invswarm_requests_total HTTP requests by method, route and status.",
               "# TYPE invswarm_requests_total counter"]
        with self._lock:
            for (m, r, s), n in sorted(self.requests.items()):
                out.append(f'invswarm_requests_total{{method="{m}",route="{_q(r)}",'
                           f'status="{s}"}} {n}')
            out += ["# HELP invswarm_request_seconds Request latency.",
                    "# TYPE invswarm_request_seconds histogram"]
            for (m, r), counts in sorted(self.latency.items()):
                lab = f'method="{m}",route="{_q(r)}"'
                for b, n in zip(BUCKETS, counts):
                    out.append(f'invswarm_request_seconds_bucket{{{lab},le="{b}"}} {n}')
                out.append(f'invswarm_request_seconds_bucket{{{lab},le="+Inf"}} {counts[-1]}')
                out.append(f"invswarm_request_seconds_sum{{{lab}}} "
                           f"{self.latency_sum[m, r]:.6f}")
                out.append(f"invswarm_request_seconds_count{{{lab}}} {counts[-1]}")
            out += ["# HELP invswarm_planning_runs_total Planning runs by final status.",
                    "# TYPE invswarm_planning_runs_total counter"]
            for s, n in sorted(self.runs.items()):
                out.append(f'invswarm_planning_runs_total{{status="{_q(s)}"}} {n}')
            out += ["# HELP invswarm_planning_seconds_total Wall time of planning runs.",
                    "# TYPE invswarm_planning_seconds_total counter",
                    f"invswarm_planning_seconds_total {self.run_seconds:.6f}"]
        return "\n".join(out) + "\n"


def _q(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
