"""The transfer workflow: the right party for each step, no skipping, idempotent retries,
409 on a stale version, stock moved by shipping and receiving."""

from __future__ import annotations

from .conftest import OP
from .world import ok, propose, setup


def step(client, tr, name, headers, **body):
    return client.post(f"/transfers/{tr['id']}/{name}", headers=headers,
                       json={"version": tr["version"], **body})


def test_the_whole_way_and_stock_moves(client):
    w = setup(client)
    (a, ah), (b, bh) = w["firms"]["Aurora"], w["firms"]["Borealis"]
    mcu = w["materials"]["MCU"]
    before_a = ok(client.get(f"/firms/{a}/stock/{mcu}", headers=ah))
    before_b = ok(client.get(f"/firms/{b}/stock/{mcu}", headers=bh))
    tr = propose(client, w, qty=25.0)
    assert tr["state"] == "proposed" and tr["donor"] == "Aurora"
    for name, h, state in (("approve", ah, "approved"), ("accept", bh, "accepted"),
                           ("commit", OP, "committed"), ("ship", ah, "shipped"),
                           ("receive", bh, "received")):
        tr = ok(step(client, tr, name, h))
        assert tr["state"] == state
    after_a = ok(client.get(f"/firms/{a}/stock/{mcu}", headers=ah))
    after_b = ok(client.get(f"/firms/{b}/stock/{mcu}", headers=bh))
    qty = lambda s: sum(lot["qty"] for lot in s["lots"])  # noqa: E731
    assert qty(after_a) == qty(before_a) - 25.0
    assert qty(after_b) == qty(before_b) + 25.0


def test_only_the_right_party_and_no_skipping(client):
    w = setup(client)
    ah, bh = w["firms"]["Aurora"][1], w["firms"]["Borealis"][1]
    tr = propose(client, w)
    assert step(client, tr, "approve", bh).status_code == 403   # the receiver
    assert step(client, tr, "approve", OP).status_code == 403   # the operator
    assert step(client, tr, "accept", bh).status_code == 409    # skips approval
    assert step(client, tr, "ship", ah).status_code == 409
    assert step(client, tr, "commit", OP).status_code == 409
    assert step(client, tr, "decline", ah).status_code == 422   # no reason
    cobalt = w["firms"]["Cobalt"][1]
    assert step(client, tr, "approve", cobalt).status_code == 404  # not a party
    assert ok(client.get(f"/transfers/{tr['id']}", headers=OP))["state"] == "proposed"
    tr = ok(step(client, tr, "decline", ah, reason="needed for a rush order"))
    assert tr["state"] == "declined" and tr["reason"] == "needed for a rush order"
    assert step(client, tr, "approve", ah).status_code == 409


def test_stale_version_is_409(client):
    w = setup(client)
    ah = w["firms"]["Aurora"][1]
    tr = propose(client, w)
    ok(step(client, tr, "approve", ah))
    r = step(client, tr, "accept", w["firms"]["Borealis"][1])  # tr holds the old version
    assert r.status_code == 409 and "stale" in r.json()["detail"]
    fid, mid = w["firms"]["Aurora"][0], w["materials"]["MCU"]
    st = ok(client.get(f"/firms/{fid}/stock/{mid}", headers=ah))
    ok(client.patch(f"/firms/{fid}/stock/{mid}", headers=ah,
                    json={"protected": 1.0, "version": st["version"]}))
    r = client.patch(f"/firms/{fid}/stock/{mid}", headers=ah,
                     json={"protected": 2.0, "version": st["version"]})
    assert r.status_code == 409
    assert ok(client.get(f"/firms/{fid}/stock/{mid}", headers=ah))["protected"] == 1.0


def test_a_retry_with_the_same_key_applies_once(client):
    w = setup(client)
    fid, h = w["firms"]["Aurora"]
    mid = w["materials"]["MCU"]
    st = ok(client.get(f"/firms/{fid}/stock/{mid}", headers=h))
    lots = [{"qty": 321.0, "last_period": None}]
    key = {**h, "Idempotency-Key": "k-1"}
    body = {"lots": lots, "version": st["version"]}
    first = client.patch(f"/firms/{fid}/stock/{mid}", headers=key, json=body)
    again = client.patch(f"/firms/{fid}/stock/{mid}", headers=key, json=body)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert ok(client.get(f"/firms/{fid}/stock/{mid}", headers=h))["version"] == \
        st["version"] + 1
    other = client.patch(f"/firms/{fid}/stock/{mid}", headers=key,
                         json={"lots": [], "version": st["version"] + 1})
    assert other.status_code == 422
    tr = propose(client, w)
    hk = {**h, "Idempotency-Key": "approve-1"}
    r1 = client.post(f"/transfers/{tr['id']}/approve", headers=hk,
                     json={"version": tr["version"]})
    r2 = client.post(f"/transfers/{tr['id']}/approve", headers=hk,
                     json={"version": tr["version"]})
    assert r1.status_code == r2.status_code == 200 and r1.json() == r2.json()
    log = ok(client.get("/audit?limit=1000", headers=OP))["items"]
    assert sum(e["action"] == "transfer.approve" for e in log) == 1


def test_a_loan_owes_its_payback_until_returned(client):
    w = setup(client)
    ah, bh = w["firms"]["Aurora"][1], w["firms"]["Borealis"][1]
    tr = propose(client, w, kind="loan", return_period=4, qty=10.0)
    for name, h in (("approve", ah), ("accept", bh), ("commit", OP), ("ship", ah),
                    ("receive", bh)):
        tr = ok(step(client, tr, name, h))
    assert tr["payback"] == "owed"
    assert step(client, tr, "receive-payback", ah).status_code == 409
    assert step(client, tr, "ship-payback", ah).status_code == 403
    tr = ok(step(client, tr, "ship-payback", bh))
    tr = ok(step(client, tr, "receive-payback", ah))
    assert tr["payback"] == "returned"


def test_malformed_data_is_422_naming_the_field(client):
    w = setup(client, periods=6)
    fid, h = w["firms"]["Aurora"]
    mid = w["materials"]["FLUX"]
    st = ok(client.get(f"/firms/{fid}/stock/{mid}", headers=h))
    cases = [({"requirements": [1.0] * 5}, ["body", "requirements"], "length 6"),
             ({"lots": [{"qty": -1.0}]}, ["body", "lots", 0, "qty"], ""),
             ({"hold": "cheap"}, ["body", "hold"], ""),
             ({"holdd": 1.0}, ["body", "holdd"], ""),
             ({"lots": [{"qty": 1.0, "last_period": 0}]}, ["body", "lots", 0, "last_period"],
              "")]
    for change, loc, msg in cases:
        r = client.patch(f"/firms/{fid}/stock/{mid}", headers=h,
                         json={**change, "version": st["version"]})
        assert r.status_code == 422, r.text
        detail = r.json()["detail"][0]
        assert detail["loc"] == loc and msg in detail["msg"], detail


def test_a_null_series_is_all_zeros(client):
    w = setup(client)
    fid, h = w["firms"]["Borealis"]
    mid = w["materials"]["MCU"]
    st = ok(client.get(f"/firms/{fid}/stock/{mid}", headers=h))
    assert any(st["requirements"])
    out = ok(client.patch(f"/firms/{fid}/stock/{mid}", headers=h,
                          json={"requirements": None, "version": st["version"]}))
    assert out["requirements"] == [0.0] * w["periods"]
    assert out["receipts"] == st["receipts"]
