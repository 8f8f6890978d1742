"""A small world of firms for the service's tests: three firms, two materials, links both
ways, every firm with data; figures chosen so each firm's private numbers are unique."""

from __future__ import annotations

from .conftest import OP, bearer

FIRMS = ("Aurora", "Borealis", "Cobalt")


def setup(client, periods: int = 6) -> dict:
    """Create the world; returns ids and tokens: ``firms[name] = (id, headers)``,
    ``materials[name] = id``."""
    st = client.get("/settings", headers=OP).json()
    ok(client.put("/settings", headers=OP, json={"periods": periods, "loan_durations": [2, 3],
                                                 "loan_fee": 0.5, "version": st["version"]}))
    mats = {}
    for name, life, value in (("MCU", None, 4.0), ("FLUX", 4, 2.0)):
        mats[name] = ok(client.post("/materials", headers=OP,
                                    json={"name": name, "life": life, "value": value}))["id"]
    firms = {}
    for name in FIRMS:
        out = ok(client.post("/firms", headers=OP, json={"name": name}))
        firms[name] = (out["firm_id"], bearer(out["token"]))
    ids = [firms[n][0] for n in FIRMS]
    for i in ids:
        for j in ids:
            if i != j:
                ok(client.post("/links", headers=OP, json={
                    "from_firm": i, "to_firm": j, "lead_time": 1, "unit_cost": 0.1}))
    for k, name in enumerate(FIRMS):
        fid, h = firms[name]
        for m, mid in enumerate(mats.values()):
            ok(client.put(f"/firms/{fid}/stock/{mid}", headers=h, json=pair(k, m, periods)))
    return {"firms": firms, "materials": mats, "periods": periods}


def pair(k: int, m: int, periods: int) -> dict:
    """Aurora holds a surplus, Borealis runs short, Cobalt has what it needs. Every number
    ends in digits of its own (``private(k)`` lists them), so that a response that shows
    another firm's data can be caught by its text."""
    u = unique(k, m)
    surplus = k == 0
    return {"lots": [{"qty": (500.0 if surplus else 5.0) + u, "last_period": None}],
            "receipts": [0.0] * (periods - 1) + [1.0 + u],
            "requirements": [(40.0 if k == 1 else 10.0) + u] * periods,
            "protected": 7.0 + u, "hold": 0.01 + u / 100, "shortage": 3.0 + u}


def unique(k: int, m: int) -> float:
    return round(0.0137 * (1 + 3 * k + m) + 0.000071, 6)


def private(k: int, materials: int = 2, periods: int = 6) -> list[str]:
    """The texts of firm ``k``'s own numbers, as JSON writes them."""
    out = []
    for m in range(materials):
        d = pair(k, m, periods)
        out += [repr(d["lots"][0]["qty"]), repr(d["receipts"][-1]),
                repr(d["requirements"][0]), repr(d["protected"]), repr(d["hold"]),
                repr(d["shortage"])]
    return out


def ok(response, status: int | None = None) -> dict:
    assert response.status_code < 300 if status is None else response.status_code == status, \
        (response.status_code, response.text)
    return response.json()


def propose(client, world, donor="Aurora", receiver="Borealis", material="MCU", qty=20.0,
            period=1, **extra) -> dict:
    return ok(client.post("/transfers", headers=OP, json={
        "donor": world["firms"][donor][0], "receiver": world["firms"][receiver][0],
        "material_id": world["materials"][material], "period": period, "qty": qty, **extra}),
        201)
