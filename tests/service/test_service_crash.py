"""Crash safety: the server killed with -9 in the middle of a burst of writes. After a
restart every acknowledged write is there, every transfer's state is the one its audit trail
ends in (no step half-applied), and no unit of stock was made or lost by a half-done ship."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from .live import free_port, wait_healthy
from .load import Load, all_items, check_acknowledged, check_replay, load_demo

OPERATOR = "crash-test-operator-token"


def _start(db_url: str, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "invswarm.engine.launch", "serve", "--port", str(port),
         "--db", db_url, "--method", "greedy", "--debounce", "0.2"],
        env={**os.environ, "INVSWARM_OPERATOR_TOKEN": OPERATOR},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_healthy(f"http://127.0.0.1:{port}", proc)
    return proc


def _units(base: str) -> float:
    """MCU on hand everywhere plus MCU in transit (shipped, not yet received)."""
    h = {"Authorization": f"Bearer {OPERATOR}"}
    with httpx.Client(base_url=base, headers=h, timeout=60) as c:
        mcu = c.get("/materials").json()["items"][0]["id"]
        total = 0.0
        for f in c.get("/firms").json()["items"]:
            r = c.get(f"/firms/{f['id']}/stock/{mcu}")
            if r.status_code == 200:
                total += sum(lot["qty"] for lot in r.json()["lots"])
        entries = all_items(c, "/audit")
    last = {}
    for e in entries:
        if e["resource"].startswith("transfers/"):
            last[e["resource"]] = e["after"]
    return total + sum(sum(lot["qty"] for lot in t["carried"]) for t in last.values()
                       if t["state"] == "shipped")


@pytest.mark.slow
def test_kill_9_during_a_burst_of_writes(db_url):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(db_url, port)
    try:
        tokens = load_demo(base, OPERATOR)
        before = _units(base)
        load = Load(base, OPERATOR, tokens, stop_at=time.monotonic() + 60)
        clients = threading.Thread(target=load.run, args=(16,), daemon=True)
        clients.start()
        time.sleep(3.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        clients.join(90)
    finally:
        if proc.poll() is None:
            proc.kill()
    tally = load.tally
    assert not tally.errors, tally.errors[:3]
    assert len(tally.acked) > 20, "the burst acknowledged too few writes to mean anything"
    proc = _start(db_url, port)
    try:
        check_acknowledged(base, OPERATOR, tally.acked)
        check_replay(base, OPERATOR)
        assert abs(_units(base) - before) < 1e-6
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
