"""Planning: the electronics case posted through the API plans as `invswarm solve` does; the
worker re-plans after a change, within its budget; runs are stored and replay."""

from __future__ import annotations

import time

import numpy as np
import pytest

from invswarm.engine.models.network import Instance, electronics_doc
from invswarm.engine.service.demo import load_instance_doc
from invswarm.engine.solve import SolveOptions, solve

from .conftest import OP, OPERATOR, make_client
from .world import ok, propose, setup

ARRAYS = ("life", "value", "price", "listed", "lots", "receipts", "requirements", "protected",
          "hold", "shortage", "link_from", "link_to", "lead", "unit_cost", "fixed_cost",
          "durations")


def _plan_through_the_api(db_url, method, **config):
    with make_client(db_url, method=method, **config) as client:
        load_instance_doc(client, OPERATOR, electronics_doc())
        run_id = client.app.state.planner.plan("test")
        run = ok(client.get(f"/runs/{run_id}", headers=OP))
        transfers = ok(client.get("/transfers?limit=1000", headers=OP))
    return run, transfers


def _same_instance(run):
    case = Instance.from_json(electronics_doc())
    served = Instance.from_json(run["instance"])
    for name in ARRAYS:
        assert np.array_equal(getattr(case, name), getattr(served, name)), name
    return case


def test_electronics_through_the_api_plans_as_solve_does(db_url):
    run, transfers = _plan_through_the_api(db_url, "greedy")
    case = _same_instance(run)
    direct = solve(case, "greedy")
    assert run["status"] == "done" and run["cost"] == direct.cost
    # every shipment of the plan is now a proposed transfer
    assert transfers["total"] == len(direct.plan["shipments"]) > 0
    assert all(t["state"] == "proposed" for t in transfers["items"])


@pytest.mark.slow
def test_electronics_pso_through_the_api_gives_the_cost_of_solve(db_url):
    case = Instance.from_json(electronics_doc())
    solve(case, "pso", SolveOptions(max_iter=1))  # compiles the kernels: no run is cut short
    direct = solve(case, "pso", SolveOptions(max_iter=40, seed=3))
    run, _ = _plan_through_the_api(db_url, "pso", max_iter=40, seed=3)
    _same_instance(run)
    assert (run["method"], run["seed"]) == ("pso", 3)
    assert run["cost"] == direct.cost


def test_the_worker_replans_after_a_change_within_its_budget(db_url):
    with make_client(db_url, planning=True, debounce=0.05, time_limit=5.0) as client:
        w = setup(client)
        _wait_for_runs(client, 1)
        aid, ah = w["firms"]["Aurora"]
        mcu = w["materials"]["MCU"]
        st = ok(client.get(f"/firms/{aid}/stock/{mcu}", headers=ah))
        t0 = time.monotonic()
        ok(client.patch(f"/firms/{aid}/stock/{mcu}", headers=ah,
                        json={"requirements": [30.0] * 6, "version": st["version"]}))
        log = ok(client.get("/audit", headers=OP))
        seq = ok(client.get(f"/audit?offset={log['total'] - 1}", headers=OP))["items"][0]["id"]
        newest = _wait_for_run_after(client, seq)
        assert newest["status"] == "done" and newest["wall_s"] <= 5.0
        assert time.monotonic() - t0 < 5.0 + 5 * 0.05 + 5.0  # budget, debounce, slack
        detail = ok(client.get(f"/runs/{newest['id']}", headers=OP))
        assert [30.0] * 6 in [s["requirements"] for s in detail["instance"]["stock"]]


def _wait_for_run(client, run_id: int, timeout: float = 60.0) -> dict:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        run = ok(client.get(f"/runs/{run_id}", headers=OP))
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def _wait_for_run_after(client, seq: int, timeout: float = 60.0) -> dict:
    """The first finished run of data that include audit entry ``seq``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        for r in ok(client.get("/runs", headers=OP))["items"][::-1]:
            if r["audit_seq"] >= seq and r["status"] not in ("queued", "running"):
                return r
        time.sleep(0.05)
    raise AssertionError(f"no planning run of the data at audit entry {seq}")


def _wait_for_runs(client, n: int, timeout: float = 60.0) -> dict:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        runs = ok(client.get("/runs", headers=OP))
        done = [r for r in runs["items"] if r["status"] not in ("queued", "running")]
        if len(done) >= n and runs["items"][0]["status"] not in ("queued", "running"):
            return runs
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} planning runs after {timeout} s")


def test_a_run_replays_to_the_same_plan(db_url):
    with make_client(db_url, planning=True, debounce=0.05) as client:
        load_instance_doc(client, OPERATOR, electronics_doc())
        runs = _wait_for_runs(client, 1)
        first = runs["items"][0]
        replay = ok(client.post(f"/runs/{first['id']}/replay", headers=OP), 202)
        assert replay["replay_of"] == first["id"]
        again = _wait_for_run(client, replay["id"])
        assert again["status"] == "done" and again["cost"] == first["cost"]
        a = ok(client.get(f"/runs/{first['id']}", headers=OP))
        b = ok(client.get(f"/runs/{again['id']}", headers=OP))
        assert a["plan"] == b["plan"] and a["instance"] == b["instance"]


def test_advancing_the_period_rolls_the_data_and_replans_warm(db_url):
    with make_client(db_url, planning=True, debounce=0.05) as client:
        w = setup(client)
        _wait_for_runs(client, 1)
        aid, ah = w["firms"]["Aurora"]
        mcu = w["materials"]["MCU"]
        before = ok(client.get(f"/firms/{aid}/stock/{mcu}", headers=ah))
        s = ok(client.post("/period/advance", headers=OP, json={"current_period": 1}))
        assert s["current_period"] == 2
        stale = client.post("/period/advance", headers=OP, json={"current_period": 1})
        assert stale.status_code == 409
        after = ok(client.get(f"/firms/{aid}/stock/{mcu}", headers=ah))
        used = before["requirements"][0]
        assert after["lots"][0]["qty"] == pytest.approx(before["lots"][0]["qty"] - used)
        assert after["requirements"] == before["requirements"][1:] + [0.0]
        log = ok(client.get("/audit", headers=OP))
        seq = ok(client.get(f"/audit?offset={log['total'] - 1}", headers=OP))["items"][0]["id"]
        newest = _wait_for_run_after(client, seq)
        assert newest["current_period"] == 2 and "period advanced" in newest["trigger"]
        assert newest["warm_started"]
        proposals = ok(client.get("/transfers?state=proposed&limit=1000", headers=OP))
        assert all(t["period"] >= 2 for t in proposals["items"])


def test_committed_transfers_are_kept_and_declined_ones_not_proposed_again(client):
    w = setup(client)
    planner = client.app.state.planner
    ah, bh = w["firms"]["Aurora"][1], w["firms"]["Borealis"][1]
    tr = propose(client, w, qty=15.0, period=2)
    for name, h in (("approve", ah), ("accept", bh), ("commit", OP)):
        tr = ok(client.post(f"/transfers/{tr['id']}/{name}", headers=h,
                            json={"version": tr["version"]}))
    run = ok(client.get(f"/runs/{planner.plan('test')}", headers=OP))
    assert run["pinned"] == 1 and run["status"] == "done"
    kept = [s for s in run["plan"]["shipments"] if s["qty"] == 15.0 and s["period"] == 2]
    assert len(kept) == 1
    proposals = ok(client.get("/transfers?state=proposed&limit=1000", headers=OP))["items"]
    assert proposals, "the plan proposes transfers"
    first = proposals[0]
    donor = next(h for n, (_, h) in w["firms"].items() if n == first["donor"])
    ok(client.post(f"/transfers/{first['id']}/decline", headers=donor,
                   json={"version": first["version"], "reason": "not this one"}))
    planner.plan("test")
    again = ok(client.get("/transfers?limit=1000", headers=OP))["items"]
    same = [t for t in again if (t["donor"], t["receiver"], t["material"], t["period"]) ==
            (first["donor"], first["receiver"], first["material"], first["period"])
            and t["state"] == "proposed"]
    assert not same
