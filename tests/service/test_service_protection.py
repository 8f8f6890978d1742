"""Donor protection on approval: a donor whose data changed after a proposal may not approve
it when its plan would now be penalized; the refusal names the rule, material and period."""

from __future__ import annotations

from .conftest import OP
from .world import ok, propose, setup


def test_approval_refused_after_the_donors_requirements_grow(client):
    w = setup(client)
    aid, ah = w["firms"]["Aurora"]
    mcu = w["materials"]["MCU"]
    first = propose(client, w, qty=100.0, period=1)
    second = propose(client, w, qty=100.0, period=2)
    ok(client.post(f"/transfers/{first['id']}/approve", headers=ah,
                   json={"version": first["version"]}))
    st = ok(client.get(f"/firms/{aid}/stock/{mcu}", headers=ah))
    ok(client.patch(f"/firms/{aid}/stock/{mcu}", headers=ah,
                    json={"requirements": [90.0] * 6, "version": st["version"]}))
    r = client.post(f"/transfers/{second['id']}/approve", headers=ah,
                    json={"version": second["version"]})
    assert r.status_code == 409, r.text
    why = r.json()["detail"]
    # 500.01 on hand, 90 a period, 200 given away by the end of period 2: the donor runs
    # out in period 4, which it would not without sharing
    assert (why["rule"], why["material"], why["period"]) == ("donor_backlog", "MCU", 4)
    assert "Aurora" in why["message"] and "period 4" in why["message"]
    assert ok(client.get(f"/transfers/{second['id']}", headers=OP))["state"] == "proposed"
    # the donor may still decline it, with a reason
    ok(client.post(f"/transfers/{second['id']}/decline", headers=ah,
                   json={"version": second["version"], "reason": "needed now"}))


def test_approval_passes_when_the_donor_is_protected(client):
    w = setup(client)
    ah = w["firms"]["Aurora"][1]
    tr = propose(client, w, qty=100.0, period=1)
    out = ok(client.post(f"/transfers/{tr['id']}/approve", headers=ah,
                         json={"version": tr["version"]}))
    assert out["state"] == "approved"


def test_a_transfer_the_donor_cannot_cover_is_refused(client):
    w = setup(client)
    bh = w["firms"]["Borealis"][1]
    tr = propose(client, w, donor="Borealis", receiver="Cobalt", qty=1000.0)
    r = client.post(f"/transfers/{tr['id']}/approve", headers=bh,
                    json={"version": tr["version"]})
    assert r.status_code == 409
    assert r.json()["detail"]["rule"] == "coverage"
    assert r.json()["detail"]["material"] == "MCU"
