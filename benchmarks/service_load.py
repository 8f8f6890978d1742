"""The service under concurrent load: 50 clients updating firms' data and stepping transfers
at once, on SQLite and on PostgreSQL (docs/service.md, "Concurrency").

``python -m benchmarks.service_load --db sqlite --clients 50 --seconds 60`` starts
``invswarm serve`` (one process) on a fresh database, loads the electronics case through the
API, runs the clients, and then checks the final state against the audit log (every resource's
entries chain, the last is the stored state: no lost update) and that no response was a 5xx.
Prints requests, throughput and latency percentiles; ``--out`` writes them as JSON.
``--db postgresql`` uses the project's server (``$INVSWARM_TEST_PG``, default
postgresql://postgres@127.0.0.1:5432/test) in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from urllib.parse import quote

import numpy as np

from invswarm.engine.jsonio import write_json_atomic
from tests.service.live import free_port, wait_healthy
from tests.service.load import Load, check_replay, load_demo

OPERATOR = "benchmark-operator-token"
PG = os.environ.get("INVSWARM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def database(kind: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as d:
            yield f"sqlite:///{d}/load.db"
        return
    import psycopg

    schema = f"bench_{secrets.token_hex(6)}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(kind: str, clients: int, seconds: float) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with database(kind) as url:
        proc = subprocess.Popen(
            [sys.executable, "-m", "invswarm.engine.launch", "serve", "--port", str(port),
             "--db", url, "--method", "greedy", "--debounce", "1"],
            env={**os.environ, "INVSWARM_OPERATOR_TOKEN": OPERATOR},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_healthy(base, proc)
            tokens = load_demo(base, OPERATOR)
            load = Load(base, OPERATOR, tokens, stop_at=time.monotonic() + seconds)
            t1 = time.monotonic()
            tally = load.run(clients)
            wall = time.monotonic() - t1
            counts = check_replay(base, OPERATOR)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    lat = np.array(tally.latency) * 1000
    return {"db": kind, "clients": clients, "seconds": round(wall, 1),
            "requests": int(lat.size), "per_second": round(lat.size / wall, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p99_ms": round(float(np.percentile(lat, 99)), 1),
            "server_errors": len(tally.errors),
            "status": {str(k): v for k, v in sorted(tally.status.items())},
            "acknowledged_writes": len(tally.acked), **counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql"), nargs="+",
                    default=["sqlite", "postgresql"])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--out", help="write the figures here as JSON")
    args = ap.parse_args()
    rows = []
    for kind in args.db:
        row = run(kind, args.clients, args.seconds)
        rows.append(row)
        print(f"{kind:<10} {row['clients']} clients {row['seconds']} s: {row['requests']} "
              f"requests ({row['per_second']}/s), p50 {row['p50_ms']} ms, p99 "
              f"{row['p99_ms']} ms, 5xx {row['server_errors']}, audit replay ok "
              f"({row['audit_entries']} entries, {row['transfers']} transfers); "
              f"statuses {row['status']}", flush=True)
        assert row["server_errors"] == 0
    if args.out:
        write_json_atomic(args.out, rows)


if __name__ == "__main__":
    main()
