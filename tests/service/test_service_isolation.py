"""Isolation: every route of the app, called by every firm against every other firm's
resources, shows nothing of them and changes nothing.

The routes are read from the app's OpenAPI document, so a new route is walked without editing
this test;
a route with a path parameter this test does not know fails it (say which resource it names).
"""

from __future__ import annotations

import itertools
import re

import pytest

from .conftest import OP
from .world import FIRMS, ok, private, propose, setup

#: Parameters that name a resource of one firm (its data, or a transfer it is party to):
#: another firm must get 404.
OWNED = ("firm_id", "transfer_id")
#: Parameters that name a resource of the operator only: every firm gets 404.
OPERATORS = ("run_id",)
#: Parameters that name shared data (every party may read it; writes are the operator's).
SHARED = ("material_id",)


def snapshot(client) -> str:
    """Everything the operator sees but the audit log (which the walk's refusals do not
    change either, but whose reads are its own business)."""
    parts = [client.get(p, headers=OP).text for p in (
        "/firms?limit=1000", "/materials?limit=1000", "/links?limit=1000", "/settings",
        "/transfers?limit=1000", "/runs?limit=1000")]
    for f in client.get("/firms?limit=1000", headers=OP).json()["items"]:
        parts.append(client.get(f"/firms/{f['id']}/stock?limit=1000", headers=OP).text)
    return "\n".join(parts)


def routes(client):
    """(method, path) of every operation of the app's OpenAPI document."""
    doc = client.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        for method in ops:
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path


def test_no_firm_reaches_another_firms_resources(client):
    w = setup(client)
    ids = {n: w["firms"][n][0] for n in FIRMS}
    mcu = w["materials"]["MCU"]
    # a transfer for every ordered pair of firms, each with a quantity of its own
    transfers = {}
    for k, (d, r) in enumerate(itertools.permutations(FIRMS, 2)):
        transfers[d, r] = propose(client, w, donor=d, receiver=r, qty=11.0 + 0.0271 * (k + 1))
    run_id = client.app.state.planner.plan("isolation test")
    assert run_id is not None
    before = snapshot(client)
    everything = ok(client.get("/transfers?limit=1000", headers=OP))["items"]
    seen = set()
    for (method, path), (ai, attacker), victim in itertools.product(
            routes(client), enumerate(FIRMS), FIRMS):
        if attacker == victim:
            continue
        seen.add((method, path))
        third = next(f for f in FIRMS if f not in (attacker, victim))
        values = {"firm_id": ids[victim], "transfer_id": transfers[victim, third]["id"],
                  "material_id": mcu, "run_id": run_id}
        names = re.findall(r"{(\w+)(?::\w+)?}", path)
        unknown = [n for n in names if n not in values]
        assert not unknown, f"{method} {path}: path parameter {unknown} unknown to this test"
        url = path
        for n in names:
            url = re.sub(rf"{{{n}(?::\w+)?}}", str(values[n]), url)
        headers = w["firms"][attacker][1]
        kw = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        r = client.request(method, url, headers=headers, **kw)
        where = f"{attacker} on {victim}'s {method} {url}"
        assert r.status_code < 500, where
        if any(n in OWNED + OPERATORS for n in names):
            assert r.status_code == 404, (where, r.status_code, r.text[:200])
        # other firms' private numbers, and the quantities of transfers the attacker is no
        # party to, unless they are also the quantity of a transfer it is party to (a
        # planned transfer may well move exactly a partner's requirement)
        secret = [t for k in range(len(FIRMS)) if k != ai for t in private(k)]
        secret += [repr(t["qty"]) for t in everything if attacker not in (t["donor"],
                                                                         t["receiver"])]
        mine = {repr(t["qty"]) for t in everything if attacker in (t["donor"], t["receiver"])}
        # a secret counts as shown only as a whole number: /metrics carries latency sums
        # whose digits may hold a short quantity's text by chance
        leaked = [t for t in secret if t not in mine
                  and re.search(rf"(?<![\d.]){re.escape(t)}(?!\d)", r.text)]
        assert not leaked, (where, leaked)
    assert len(seen) >= 25
    assert snapshot(client) == before


def test_without_a_token_only_health_and_documents(client):
    public = {"/health", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect",
              "/redoc"}
    for method, path in routes(client):
        url = re.sub(r"{(\w+)(?::\w+)?}", "1", path)
        r = client.request(method, url, json={} if method != "GET" else None)
        if path in public:
            assert r.status_code == 200
        elif not path.startswith("/ui"):
            assert r.status_code == 401, (method, path, r.status_code)
        r = client.request(method, url, headers={"Authorization": "Bearer not-a-token"})
        if path not in public and not path.startswith("/ui"):
            assert r.status_code == 401


@pytest.mark.parametrize("how", ["revoke", "rotate"])
def test_a_revoked_or_rotated_token_stops_working(client, how):
    w = setup(client)
    fid, h = w["firms"]["Cobalt"]
    assert client.get(f"/firms/{fid}", headers=h).status_code == 200
    if how == "revoke":
        ok(client.delete(f"/firms/{fid}/token", headers=OP))
    else:
        new = ok(client.post(f"/firms/{fid}/token", headers=h))["token"]
        assert client.get(f"/firms/{fid}",
                          headers={"Authorization": f"Bearer {new}"}).status_code == 200
    assert client.get(f"/firms/{fid}", headers=h).status_code == 401
    log = ok(client.get("/audit?limit=1000", headers=OP))["items"]
    assert all("ivs_" not in str(e) and "token_hash" not in str(e) for e in log)
