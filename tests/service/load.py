"""Clients that hammer a live service (updating data and stepping transfers at once), and the
checks that its final state is the replay of its audit log.

Used by the crash-safety test (kill -9 in the middle) and the concurrency benchmark
(``benchmarks/service_load.py``).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import httpx

from invswarm.engine.models.network import electronics_doc

STEPS = (("approve", "donor"), ("accept", "receiver"), ("commit", "operator"),
         ("ship", "donor"), ("receive", "receiver"))


@dataclass
class Tally:
    """What the clients saw: latencies (s) of every request, statuses, acknowledged writes."""

    latency: list[float] = field(default_factory=list)
    status: dict[int, int] = field(default_factory=dict)
    acked: list[tuple[str, dict]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, r: httpx.Response, seconds: float) -> None:
        with self.lock:
            self.latency.append(seconds)
            self.status[r.status_code] = self.status.get(r.status_code, 0) + 1
            if r.status_code >= 500:
                self.errors.append(f"{r.request.method} {r.request.url}: {r.status_code} "
                                   f"{r.text[:200]}")


class Load:
    """The clients, on a service at ``base`` loaded with the electronics case."""

    def __init__(self, base: str, operator: str, tokens: dict[str, str], stop_at: float,
                 seed: int = 0):
        self.base, self.stop_at = base, stop_at
        self.op = {"Authorization": f"Bearer {operator}"}
        self.firms = {n: {"Authorization": f"Bearer {t}"} for n, t in tokens.items()}
        self.tally = Tally()
        self.seed = seed
        with httpx.Client(base_url=base, headers=self.op, timeout=60) as c:
            self.ids = {f["name"]: f["id"] for f in c.get("/firms").json()["items"]}
            self.mats = [m["id"] for m in c.get("/materials").json()["items"]]
            self.stock = {n: [s["material_id"] for s in c.get(
                f"/firms/{self.ids[n]}/stock").json()["items"]] for n in self.ids}

    def _call(self, c: httpx.Client, method: str, url: str, headers: dict, **kw):
        t0 = time.perf_counter()
        r = c.request(method, url, headers=headers, **kw)
        self.tally.add(r, time.perf_counter() - t0)
        return r

    def run(self, clients: int) -> Tally:
        threads = [threading.Thread(target=self._client, args=(k,), daemon=True)
                   for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return self.tally

    def _client(self, k: int) -> None:
        rng = random.Random(self.seed * 1000 + k)
        try:
            with httpx.Client(base_url=self.base, timeout=60) as c:
                while time.monotonic() < self.stop_at:
                    if k % 2 == 0:
                        self._update(c, rng)
                    else:
                        self._transfer(c, rng)
        except httpx.TransportError:
            pass  # the server went away (the crash test kills it)

    def _update(self, c: httpx.Client, rng: random.Random) -> None:
        name = rng.choice(list(self.firms))
        mid = rng.choice(self.stock[name])
        url = f"/firms/{self.ids[name]}/stock/{mid}"
        h = self.firms[name]
        st = self._call(c, "GET", url, h)
        if st.status_code != 200:
            return
        value = round(rng.uniform(0, 100), 3)
        r = self._call(c, "PATCH", url, h, json={"protected": value,
                                                "version": st.json()["version"]})
        if r.status_code == 200:
            with self.tally.lock:
                self.tally.acked.append((f"stock/{self.ids[name]}/{mid}", r.json()))

    def _transfer(self, c: httpx.Client, rng: random.Random) -> None:
        """Propose a small transfer of MCU from a holder to another firm, and take it as far
        as it goes (a refused approval is declined)."""
        names = [n for n in self.ids if self.mats[0] in self.stock[n]]
        donor, receiver = rng.sample(names, 2)
        st = self._call(c, "GET", "/settings", self.op)
        if st.status_code != 200:
            return
        st = st.json()
        r = self._call(c, "POST", "/transfers", self.op, json={
            "donor": self.ids[donor], "receiver": self.ids[receiver],
            "material_id": self.mats[0], "period": st["current_period"],
            "qty": round(rng.uniform(0.5, 3.0), 3)})
        if r.status_code != 201:
            return
        tr = r.json()
        with self.tally.lock:
            self.tally.acked.append((f"transfers/{tr['id']}", tr))
        for step, who in STEPS:
            if time.monotonic() >= self.stop_at:
                return
            h = self.op if who == "operator" else self.firms[donor if who == "donor"
                                                             else receiver]
            r = self._call(c, "POST", f"/transfers/{tr['id']}/{step}", h,
                           json={"version": tr["version"]})
            if r.status_code != 200:
                if step == "approve":
                    self._call(c, "POST", f"/transfers/{tr['id']}/decline", h,
                               json={"version": tr["version"], "reason": "protected"})
                return
            tr = r.json()
            with self.tally.lock:
                self.tally.acked.append((f"transfers/{tr['id']}", tr))


def load_demo(base: str, operator: str) -> dict[str, str]:
    from invswarm.engine.service.demo import load_instance_doc

    with httpx.Client(base_url=base, timeout=60) as c:
        return load_instance_doc(c, operator, electronics_doc())


def all_items(c: httpx.Client, path: str) -> list[dict]:
    """Every item of a paginated list route, a thousand at a time."""
    items: list[dict] = []
    while True:
        page = c.get(f"{path}?limit=1000&offset={len(items)}").json()
        items += page["items"]
        if not page["items"] or len(items) >= page["total"]:
            return items


def check_replay(base: str, operator: str) -> dict:
    """The final state against the audit log: each resource's entries chain (every change
    starts from the state the previous one left: no lost update), and the last entry is the
    stored state. Returns counts."""
    h = {"Authorization": f"Bearer {operator}"}
    with httpx.Client(base_url=base, headers=h, timeout=120) as c:
        log = all_items(c, "/audit")
        last: dict[str, dict] = {}
        for e in log:
            prev = last.get(e["resource"])
            assert e["before"] == prev, f"entry {e['id']} of {e['resource']} does not " \
                                        f"start where the previous one ended"
            last[e["resource"]] = e["after"]
        firms = c.get("/firms?limit=1000").json()["items"]
        pairs = 0
        for f in firms:
            for s in c.get(f"/firms/{f['id']}/stock?limit=1000").json()["items"]:
                logged = last[f"stock/{f['id']}/{s['material_id']}"]
                for key in ("lots", "protected", "hold", "shortage", "version"):
                    assert logged[key] == s[key], (f["name"], s["material"], key)
                pairs += 1
        transfers = all_items(c, "/transfers")
        for t in transfers:
            logged = last[f"transfers/{t['id']}"]
            assert (logged["state"], logged["version"]) == (t["state"], t["version"])
    return {"audit_entries": len(log), "pairs": pairs, "transfers": len(transfers)}


def check_acknowledged(base: str, operator: str, acked: list[tuple[str, dict]]) -> int:
    """Every acknowledged write is in the audit log (its resource reached that version with
    those values)."""
    h = {"Authorization": f"Bearer {operator}"}
    with httpx.Client(base_url=base, headers=h, timeout=120) as c:
        log = all_items(c, "/audit")
    seen = {(e["resource"], e["after"]["version"]): e["after"] for e in log if e["after"]}
    for resource, body in acked:
        after = seen.get((resource, body["version"]))
        assert after is not None, f"acknowledged {resource} version {body['version']} lost"
        for key in ("protected", "state", "qty"):
            if key in body and key in after:
                assert after[key] == body[key], (resource, key)
    return len(acked)
