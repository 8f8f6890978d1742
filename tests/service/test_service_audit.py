"""The audit log: every state change has its entry (who, what, before, after), replaying the
entries gives the stored state, refused requests leave none, each firm reads its own."""

from __future__ import annotations

from .conftest import OP
from .world import ok, propose, setup

STOCK_FIELDS = ("lots", "receipts", "requirements", "protected", "hold", "shortage",
                "version")


def replay(log: list[dict]) -> dict[str, dict]:
    """The state of every resource by the log alone: the last entry's ``after``."""
    state: dict[str, dict] = {}
    for e in log:
        if e["after"] is not None:
            state[e["resource"]] = e["after"]
    return state


def test_every_change_is_logged_and_the_log_replays_to_the_state(client):
    w = setup(client)
    (aid, ah), (bid, bh) = w["firms"]["Aurora"], w["firms"]["Borealis"]
    mcu = w["materials"]["MCU"]
    tr = propose(client, w, qty=30.0)
    for name, h in (("approve", ah), ("accept", bh), ("commit", OP), ("ship", ah),
                    ("receive", bh)):
        tr = ok(client.post(f"/transfers/{tr['id']}/{name}", headers=h,
                            json={"version": tr["version"]}))
    st = ok(client.get(f"/firms/{bid}/stock/{mcu}", headers=bh))
    ok(client.patch(f"/firms/{bid}/stock/{mcu}", headers=bh,
                    json={"protected": 3.5, "version": st["version"]}))
    refused = client.patch(f"/firms/{bid}/stock/{mcu}", headers=bh,
                           json={"protected": 4.5, "version": st["version"]})
    assert refused.status_code == 409
    settings = ok(client.get("/settings", headers=OP))
    ok(client.post("/period/advance", headers=OP,
                   json={"current_period": settings["current_period"]}))
    log = ok(client.get("/audit?limit=1000", headers=OP))["items"]
    assert [e["id"] for e in log] == sorted(e["id"] for e in log)
    actions = [e["action"] for e in log]
    for a in ("firm.create", "material.create", "link.create", "settings.update",
              "stock.put", "transfer.propose", "transfer.approve", "transfer.accept",
              "transfer.commit", "transfer.ship", "stock.ship", "transfer.receive",
              "stock.receive", "stock.patch", "stock.advance", "period.advance"):
        assert a in actions, a
    assert all(e["at"] and e["actor"] for e in log)
    ship = next(e for e in log if e["action"] == "transfer.ship")
    assert ship["actor"] == f"firm:{aid}"
    assert (ship["before"]["state"], ship["after"]["state"]) == ("committed", "shipped")
    assert not any(e["action"] == "stock.patch" and e["after"]["protected"] == 4.5
                   for e in log)
    state = replay(log)
    for f in client.get("/firms", headers=OP).json()["items"]:
        for s in client.get(f"/firms/{f['id']}/stock", headers=OP).json()["items"]:
            logged = state[f"stock/{f['id']}/{s['material_id']}"]
            for key in STOCK_FIELDS:
                if key in ("receipts", "requirements"):
                    assert logged[key][:len(s[key])] == s[key]
                else:
                    assert logged[key] == s[key], key
    for t in client.get("/transfers?limit=1000", headers=OP).json()["items"]:
        logged = state[f"transfers/{t['id']}"]
        assert (logged["state"], logged["payback"], logged["version"]) == \
            (t["state"], t["payback"], t["version"])
    assert state["settings/1"] == ok(client.get("/settings", headers=OP))


def test_each_firm_reads_only_its_own_records(client):
    w = setup(client)
    (aid, _), (bid, _), (cid, ch) = (w["firms"][n] for n in ("Aurora", "Borealis", "Cobalt"))
    propose(client, w, qty=12.0)  # Aurora -> Borealis
    mine = ok(client.get("/audit?limit=1000", headers=ch))
    assert mine["total"] > 0
    for e in mine["items"]:
        if e["resource"].startswith("stock/"):
            assert e["resource"].startswith(f"stock/{cid}/")
        if e["resource"].startswith("transfers/"):
            assert "Cobalt" in (e["after"]["donor"], e["after"]["receiver"])
            assert "donor_id" not in e["after"]
    resources = {e["resource"] for e in mine["items"]}
    assert f"stock/{aid}/{w['materials']['MCU']}" not in resources
    everything = ok(client.get("/audit?limit=1000", headers=OP))
    assert everything["total"] > mine["total"]
