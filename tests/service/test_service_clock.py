"""The period schedule: the configured interval ends periods as the operator's call does."""

from __future__ import annotations

import time

import pytest

from invswarm.engine.service import ServiceConfig

from . import world
from .conftest import OP, OPERATOR, make_client


def _wait_for(predicate, timeout: float = 30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        out = predicate()
        if out:
            return out
        time.sleep(0.05)
    raise AssertionError("the schedule did not advance the period in time")


def test_the_schedule_ends_periods_and_audits_them_as_its_own(db_url):
    with make_client(db_url) as setup_client:
        w = world.setup(setup_client)
        fid, h = w["firms"]["Borealis"]
        before = setup_client.get(f"/firms/{fid}/stock", headers=h).json()
    with make_client(db_url, period_seconds=0.3) as c:
        _wait_for(lambda: c.get("/settings", headers=OP).json()["current_period"] >= 3)
    # the app is closed: its clock has stopped, so what is stored now stays
    with make_client(db_url) as c:
        now = c.get("/settings", headers=OP).json()["current_period"]
        log = c.get("/audit", headers=OP, params={"limit": 1000}).json()["items"]
        advances = [e for e in log if e["action"] == "period.advance"]
        assert len(advances) == now - 1 and {e["actor"] for e in advances} == {"schedule"}
        # each advance moved every firm's stock, as the operator's call does
        assert sum(e["action"] == "stock.advance" for e in log) == 6 * (now - 1)
        after = c.get(f"/firms/{fid}/stock", headers=h).json()
        assert after != before
        time.sleep(0.6)
        assert c.get("/settings", headers=OP).json()["current_period"] == now


def test_a_schedule_of_no_time_is_refused():
    with pytest.raises(ValueError, match="period_seconds: must be > 0"):
        ServiceConfig(operator_token=OPERATOR, period_seconds=0)
