"""`invswarm serve`: the demo starts in one command, prints and writes the tokens, serves
the API; bad options exit 2 naming them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import httpx
import pytest

from .live import free_port, wait_healthy

INVSWARM = [sys.executable, "-m", "invswarm.engine.launch"]


@pytest.mark.slow
def test_serve_demo(tmp_path):
    port = free_port()
    tokens = tmp_path / "tokens.json"
    proc = subprocess.Popen(INVSWARM + ["serve", "--demo", "--port", str(port), "--db",
                                        f"sqlite:///{tmp_path / 'demo.db'}", "--tokens",
                                        str(tokens), "--method", "greedy", "--debounce",
                                        "0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        t0 = time.monotonic()
        wait_healthy(base, proc)
        doc = json.loads(tokens.read_text())
        assert set(doc["firms"]) == {"Aurora", "Borealis", "Cobalt", "Delta", "Echo"}
        op = {"Authorization": f"Bearer {doc['operator']}"}
        assert httpx.get(f"{base}/openapi.json").status_code == 200
        assert httpx.get(f"{base}/firms", headers=op).json()["total"] == 5
        # the worker plans the demo: proposals appear
        aurora = {"Authorization": f"Bearer {doc['firms']['Aurora']}"}
        while not httpx.get(f"{base}/transfers", headers=aurora).json()["total"]:
            assert time.monotonic() - t0 < 120
            time.sleep(0.2)
        metrics = httpx.get(f"{base}/metrics").text
        assert 'invswarm_planning_runs_total{status="done"}' in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}" in out and doc["firms"]["Echo"] in out


@pytest.mark.parametrize("args, field", [
    (["--db", "mysql://x/y"], "db"),
    (["--time-limit", "0"], "time_limit"),
    (["--operator-token", "short"], "operator_token"),
])
def test_bad_options_exit_2_naming_them(args, field, tmp_path):
    r = subprocess.run(INVSWARM + ["serve", "--port", str(free_port())] + args,
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2, r.stderr
    assert f"error: {field}:" in r.stderr
