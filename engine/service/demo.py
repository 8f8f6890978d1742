"""Loading a network instance into a running service through its own API, as firms would."""

from __future__ import annotations

from typing import Any


def _ok(response, what: str) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{what}: HTTP {response.status_code}: {response.text}")
    return response.json()


def load_instance_doc(client, operator_token: str, doc: dict) -> dict[str, str]:
    """Post an instance document (the network format) through the API: the operator sets the
    horizon and loan rules and creates the materials, firms and links; each firm then puts
    its own data with its own token. ``client`` is an HTTP client on the service
    (``httpx.Client`` or FastAPI's ``TestClient``). Returns each firm's token by name."""
    op = {"Authorization": f"Bearer {operator_token}"}
    st = _ok(client.get("/settings", headers=op), "settings")
    loans = doc.get("loans", {})
    _ok(client.put("/settings", headers=op, json={
        "periods": doc["periods"], "loan_durations": loans.get("durations", []),
        "loan_fee": loans.get("fee", 0.0), "version": st["version"]}), "settings")
    mids = []
    for m in doc["materials"]:
        body = {k: m[k] for k in ("name", "life", "value", "price") if k in m}
        mids.append(_ok(client.post("/materials", headers=op, json=body), "material")["id"])
    fids, tokens = [], {}
    for f in doc["firms"]:
        out = _ok(client.post("/firms", headers=op, json={"name": f["name"]}), "firm")
        fids.append(out["firm_id"])
        tokens[f["name"]] = out["token"]
    names = [m["name"] for m in doc["materials"]]
    for ln in doc.get("links", []):
        uc = ln["unit_cost"]
        body = {"from_firm": fids[ln["from"]], "to_firm": fids[ln["to"]],
                "lead_time": ln["lead_time"], "fixed_cost": ln.get("fixed_cost", 0.0)}
        if isinstance(uc, list):
            body.update(unit_cost=0.0, unit_costs=dict(zip(names, uc)))
        else:
            body.update(unit_cost=uc)
        _ok(client.post("/links", headers=op, json=body), "link")
    for sd in doc["stock"]:
        name = doc["firms"][sd["firm"]]["name"]
        body = {k: v for k, v in sd.items() if k not in ("firm", "material")}
        _ok(client.put(f"/firms/{fids[sd['firm']]}/stock/{mids[sd['material']]}",
                       headers={"Authorization": f"Bearer {tokens[name]}"}, json=body),
            "stock")
    return tokens
