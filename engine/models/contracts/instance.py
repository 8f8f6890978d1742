"""Contracts instances: the JSON interchange format, its validation, and the array form.

Symbols as in ``docs/models/contracts.md``. Periods are 1-based in JSON and 0-based in arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...errors import InputError
from ...fields import array, field, integer, join, number, only, text, unique_names
from ...limits import MAX_MONEY, MAX_QUANTITY, MAX_SCENARIOS

MODES = ("guaranteed", "flexible")
TOP_FIELDS = ("model", "name", "periods_per_year", "periods", "mode", "safety_factor",
              "price_cap", "retailers", "manufacturers", "demand", "disruptions")
RETAILER_FIELDS = ("name", "market_power", "lead_time", "hold", "backlog", "cv", "phi")
MANUFACTURER_FIELDS = ("name", "capacity", "overtime", "unit_cost", "overtime_cost",
                       "lead_time", "hold", "backlog")
#: The most demand paths an instance may ask for (memory: paths x retailers x periods).
MAX_PATHS = 100_000
#: Most retailers, and most manufacturers (a market of a hundred of each is far beyond the
#: seed's two and two; the equilibrium's cost grows with their product).
MAX_PARTIES = 100
#: Most periods of the horizon (two thousand years of weeks).
MAX_HORIZON = 100_000


@dataclass(frozen=True, eq=False)
class Instance:
    """One contracts instance as contiguous arrays.

    ``R`` retailers, ``M`` manufacturers, ``T`` periods, ``D`` disruption scenarios.
    Quantities in units (contract quantities and capacities per year), money in currency
    units, times in periods.

    Attributes
    ----------
    z : ndarray, shape (R,)
        Market power: retail price intercept.
    lead_r, lead_m : ndarray of int64, shape (R,), (M,)
        Lead times (periods >= 1).
    hold_r, back_r, hold_m, back_m : ndarray, shapes (R,), (M,)
        Cost per unit of net stock above / below zero per period.
    cv, phi : ndarray, shape (R,)
        Demand noise: innovation sd as a share of mean demand; AR(1) coefficient.
    capacity, overtime, unit_cost, overtime_cost : ndarray, shape (M,)
        ``K``, ``ot`` (share of ``K/n`` per period), ``ca``, ``ck``.
    weights : ndarray, shape (D,)
        Scenario weights, normalized to sum 1.
    cap_factor : ndarray, shape (D, M, T)
        Share of capacity left in each period (``1 - share`` while disrupted).
    events : tuple of tuples of dict
        The scenarios' events as read (1-based), for the JSON form.
    """

    name: str
    retailer_names: tuple[str, ...]
    manufacturer_names: tuple[str, ...]
    periods_per_year: int
    n_periods: int
    mode: str
    safety_factor: float
    price_cap: float
    z: np.ndarray
    lead_r: np.ndarray
    hold_r: np.ndarray
    back_r: np.ndarray
    cv: np.ndarray
    phi: np.ndarray
    capacity: np.ndarray
    overtime: np.ndarray
    unit_cost: np.ndarray
    overtime_cost: np.ndarray
    lead_m: np.ndarray
    hold_m: np.ndarray
    back_m: np.ndarray
    correlation: float
    paths: int
    demand_seed: int
    scenario_names: tuple[str, ...]
    weights: np.ndarray
    cap_factor: np.ndarray
    events: tuple

    @property
    def n_retailers(self) -> int:
        return len(self.retailer_names)

    @property
    def n_manufacturers(self) -> int:
        return len(self.manufacturer_names)

    @property
    def n_scenarios(self) -> int:
        return len(self.scenario_names)

    def with_mode(self, mode: str) -> Instance:
        """The same instance in another mode."""
        if mode not in MODES:
            raise InputError("mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
        return replace(self, mode=mode)

    def with_paths(self, paths: int) -> Instance:
        """The same instance with another number of demand paths."""
        return replace(self, paths=integer(paths, "demand.paths", low=1, high=MAX_PATHS))

    def with_scenarios(self, keep: list[int]) -> Instance:
        """The same instance with only some disruption scenarios (weights renormalized)."""
        w = self.weights[keep]
        if not w.sum() > 0:
            w = np.full(len(keep), 1.0 / len(keep))
        return replace(self, scenario_names=tuple(self.scenario_names[d] for d in keep),
                        weights=w / w.sum(),
                        cap_factor=np.ascontiguousarray(self.cap_factor[keep]),
                        events=tuple(self.events[d] for d in keep))

    # ------------------------------------------------------------------ JSON
    @classmethod
    def from_json(cls, doc: Any) -> Instance:
        """Validate an instance document; raises :class:`InputError` naming the field."""
        only(doc, "", TOP_FIELDS)
        if field(doc, "model", "") != "contracts":
            raise InputError("model", f"must be 'contracts', got {doc.get('model')!r}")
        name = text(field(doc, "name", "", "contracts"), "name")
        n = integer(field(doc, "periods_per_year", ""), "periods_per_year", low=1, high=10_000)
        T = integer(field(doc, "periods", ""), "periods", low=1, high=MAX_HORIZON)
        mode = text(field(doc, "mode", ""), "mode")
        if mode not in MODES:
            raise InputError("mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
        zs = number(field(doc, "safety_factor", "", 0.0), "safety_factor", low=0, high=10)

        rets = array(field(doc, "retailers", ""), "retailers", nonempty=True, most=MAX_PARTIES)
        R = len(rets)
        z, hold_r, back_r, cv, phi = (np.zeros(R) for _ in range(5))
        lead_r = np.zeros(R, np.int64)
        rnames = []
        for i, rd in enumerate(rets):
            p = join("retailers", i)
            only(rd, p, RETAILER_FIELDS)
            rnames.append(text(field(rd, "name", p), join(p, "name")))
            z[i] = number(field(rd, "market_power", p), join(p, "market_power"), low=0,
                          low_open=True, high=MAX_MONEY)
            lead_r[i] = integer(field(rd, "lead_time", p), join(p, "lead_time"), low=1,
                                high=1000)
            hold_r[i] = number(field(rd, "hold", p), join(p, "hold"), low=0, high=MAX_MONEY)
            back_r[i] = number(field(rd, "backlog", p), join(p, "backlog"), low=0,
                               high=MAX_MONEY)
            cv[i] = number(field(rd, "cv", p, 0.0), join(p, "cv"), low=0, high=5)
            phi[i] = number(field(rd, "phi", p, 0.0), join(p, "phi"), low=-0.99, high=0.99)
        unique_names(rnames, "retailers")

        mans = array(field(doc, "manufacturers", ""), "manufacturers", nonempty=True,
                     most=MAX_PARTIES)
        M = len(mans)
        cap, ot, ca, ck, hold_m, back_m = (np.zeros(M) for _ in range(6))
        lead_m = np.zeros(M, np.int64)
        mnames = []
        for j, md in enumerate(mans):
            p = join("manufacturers", j)
            only(md, p, MANUFACTURER_FIELDS)
            mnames.append(text(field(md, "name", p), join(p, "name")))
            cap[j] = number(field(md, "capacity", p), join(p, "capacity"), low=0,
                            high=MAX_QUANTITY)
            ot[j] = number(field(md, "overtime", p, 0.0), join(p, "overtime"), low=0, high=10)
            ca[j] = number(field(md, "unit_cost", p), join(p, "unit_cost"), low=0,
                           high=MAX_MONEY)
            ck[j] = number(field(md, "overtime_cost", p), join(p, "overtime_cost"), low=0,
                           high=MAX_MONEY)
            if ck[j] < ca[j]:
                raise InputError(join(p, "overtime_cost"), f"must be >= unit_cost "
                                 f"({ca[j]:g}), got {ck[j]:g}")
            lead_m[j] = integer(field(md, "lead_time", p), join(p, "lead_time"), low=1,
                                high=1000)
            hold_m[j] = number(field(md, "hold", p), join(p, "hold"), low=0, high=MAX_MONEY)
            back_m[j] = number(field(md, "backlog", p), join(p, "backlog"), low=0,
                               high=MAX_MONEY)
        unique_names(mnames, "manufacturers")

        w_max = number(field(doc, "price_cap", "", float(z.max())), "price_cap", low=0,
                       high=MAX_MONEY)
        for j in range(M):
            if ca[j] > w_max:
                raise InputError("price_cap", f"must be >= every unit_cost, got {w_max:g} "
                                 f"below manufacturers[{j}].unit_cost ({ca[j]:g})")

        dem = field(doc, "demand", "", {})
        only(dem, "demand", ("correlation", "paths", "seed"))
        corr = number(field(dem, "correlation", "demand", 0.0), "demand.correlation", low=0)
        if corr >= 1:
            raise InputError("demand.correlation", f"must be < 1, got {corr:g}")
        paths = integer(field(dem, "paths", "demand", 200), "demand.paths", low=1,
                        high=MAX_PATHS)
        seed = integer(field(dem, "seed", "demand", 0), "demand.seed", low=0, high=2**63 - 1)

        scen = field(doc, "disruptions", "", None)
        if scen is None:
            scen = [{"name": "none", "weight": 1.0, "events": []}]
        array(scen, "disruptions", nonempty=True, most=MAX_SCENARIOS)
        D = len(scen)
        weights = np.zeros(D)
        capf = np.ones((D, M, T))
        snames, events = [], []
        for d, sd in enumerate(scen):
            p = join("disruptions", d)
            only(sd, p, ("name", "weight", "events"))
            snames.append(text(field(sd, "name", p), join(p, "name")))
            weights[d] = number(field(sd, "weight", p, 1.0), join(p, "weight"), low=0,
                                high=MAX_MONEY)
            evs = []
            for e, ed in enumerate(array(field(sd, "events", p, []), join(p, "events"),
                                         most=MAX_HORIZON)):
                ep = join(join(p, "events"), e)
                only(ed, ep, ("manufacturer", "start", "length", "share"))
                j = integer(field(ed, "manufacturer", ep), join(ep, "manufacturer"))
                if not 0 <= j < M:
                    raise InputError(join(ep, "manufacturer"), f"unknown manufacturer {j} "
                                     f"(there are {M}, numbered from 0)")
                t0 = integer(field(ed, "start", ep), join(ep, "start"), low=1, high=T)
                ln = integer(field(ed, "length", ep), join(ep, "length"), low=1,
                             high=MAX_HORIZON)
                share = number(field(ed, "share", ep), join(ep, "share"), low=0, high=1)
                # overlapping events take the largest share; the horizon clips the event
                seg = capf[d, j, t0 - 1:min(T, t0 - 1 + ln)]
                np.minimum(seg, 1.0 - share, out=seg)
                evs.append({"manufacturer": j, "start": t0, "length": ln, "share": share})
            events.append(tuple(evs))
        unique_names(snames, "disruptions")
        if not weights.sum() > 0:
            raise InputError("disruptions", "the weights must have a positive sum")
        return cls(name=name, retailer_names=tuple(rnames), manufacturer_names=tuple(mnames),
                   periods_per_year=n, n_periods=T, mode=mode, safety_factor=zs,
                   price_cap=w_max, z=z, lead_r=lead_r, hold_r=hold_r, back_r=back_r, cv=cv,
                   phi=phi, capacity=cap, overtime=ot, unit_cost=ca, overtime_cost=ck,
                   lead_m=lead_m, hold_m=hold_m, back_m=back_m, correlation=corr, paths=paths,
                   demand_seed=seed, scenario_names=tuple(snames),
                   weights=weights / weights.sum(), cap_factor=capf, events=tuple(events))

    def to_json(self) -> dict:
        """The interchange form (``Instance.from_json(inst.to_json())`` gives the same arrays;
        scenario weights come back normalized)."""
        return {
            "model": "contracts", "name": self.name,
            "periods_per_year": self.periods_per_year, "periods": self.n_periods,
            "mode": self.mode, "safety_factor": self.safety_factor,
            "price_cap": self.price_cap,
            "retailers": [{"name": nm, "market_power": float(z), "lead_time": int(le),
                           "hold": float(h), "backlog": float(b), "cv": float(c),
                           "phi": float(f)}
                          for nm, z, le, h, b, c, f in zip(
                              self.retailer_names, self.z, self.lead_r, self.hold_r,
                              self.back_r, self.cv, self.phi)],
            "manufacturers": [{"name": nm, "capacity": float(k), "overtime": float(o),
                               "unit_cost": float(a), "overtime_cost": float(c),
                               "lead_time": int(le), "hold": float(h), "backlog": float(b)}
                              for nm, k, o, a, c, le, h, b in zip(
                                  self.manufacturer_names, self.capacity, self.overtime,
                                  self.unit_cost, self.overtime_cost, self.lead_m,
                                  self.hold_m, self.back_m)],
            "demand": {"correlation": self.correlation, "paths": self.paths,
                       "seed": self.demand_seed},
            "disruptions": [{"name": nm, "weight": float(w), "events": list(ev)}
                            for nm, w, ev in zip(self.scenario_names, self.weights,
                                                 self.events)],
        }
