"""Planning in the background: a worker thread that re-plans after changes, never a request.

Changes nudge the worker (:meth:`Planner.nudge`); it waits until no nudge came for
``debounce`` seconds (at most ``5 * debounce`` after the first), assembles the instance of the
latest data, and solves it through :func:`invswarm.engine.jobs.submit` within the configured
budget, warm-started from the last plan. Each run is stored with its inputs (the instance,
the audit sequence number it was assembled at, the warm start), method, seed, budget, status,
cost, bound and wall time; a stored run can be replayed. The plan's shipments become proposed
transfers: the planner's un-approved proposals that the new plan does not repeat are
superseded (proposals made by hand stay), declined and rejected ones are never proposed
again.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..errors import InputError
from ..jobs import submit
from ..models.network import Instance
from ..roll import roll
from ..solve import SolveOptions
from .assemble import Assembled, assemble, shipment
from .audit import record
from .config import ServiceConfig
from .db import begin_write
from .metrics import Metrics
from .tables import PlanningRun, Transfer
from .workflow import audit_view, new_transfer

log = logging.getLogger("invswarm.service")
#: States whose shipments a new plan must not propose again.
REFUSED = ("declined", "rejected")


class Planner:
    def __init__(self, sessions: sessionmaker[Session], config: ServiceConfig,
                 metrics: Metrics):
        self.sessions = sessions
        self.config = config
        self.metrics = metrics
        self._wake = threading.Condition()
        self._first_nudge: float | None = None
        self._last_nudge = 0.0
        self._triggers: list[str] = []
        self._closing = False
        self._job = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ the thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="invswarm-planner",
                                        daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._closing = True
            self._wake.notify_all()
        job = self._job
        if job is not None:
            job.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def nudge(self, trigger: str) -> None:
        """Data changed: plan again once the changes settle."""
        with self._wake:
            t = time.monotonic()
            self._first_nudge = self._first_nudge or t
            self._last_nudge = t
            self._triggers.append(trigger)
            self._wake.notify_all()

    def wake(self) -> None:
        """Look for queued runs now (a replay), without planning the data again."""
        with self._wake:
            self._first_nudge = self._first_nudge or time.monotonic()
            self._wake.notify_all()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._closing and self._first_nudge is None:
                    self._wake.wait(1.0)
                    if self._queued():
                        break
                if self._closing:
                    return
                while self._first_nudge is not None and not self._closing:
                    t = time.monotonic()
                    quiet = self._last_nudge + self.config.debounce - t
                    cap = self._first_nudge + 5 * self.config.debounce - t
                    if min(quiet, cap) <= 0:
                        break
                    self._wake.wait(min(quiet, cap))
                if self._closing:
                    return
                triggers, self._triggers = self._triggers, []
                self._first_nudge = None
            try:
                for run_id in self._queued():
                    self.execute(run_id)
                if triggers:
                    self.plan(", ".join(sorted(set(triggers)))[:60])
            except Exception:  # the worker outlives a failed run; the run row says why
                log.exception("planning failed")

    def _queued(self) -> list[int]:
        with self.sessions() as s:
            return list(s.scalars(select(PlanningRun.id).where(PlanningRun.status == "queued")
                                  .order_by(PlanningRun.id)))

    # ------------------------------------------------------------ one run
    def plan(self, trigger: str) -> int | None:
        """Assemble the latest data and plan it now (in the calling thread); returns the run's
        id, or None when there is nothing to plan."""
        with self.sessions() as s:
            begin_write(s)
            a = assemble(s)
            if a is None:
                return None
            last = s.scalar(select(PlanningRun).where(PlanningRun.plan.is_not(None))
                            .order_by(PlanningRun.id.desc()).limit(1))
            warm = _warm_start(a, last)
            run = PlanningRun(trigger=trigger, audit_seq=a.audit_seq,
                              current_period=a.settings.current_period,
                              method=self.config.method, seed=self.config.seed,
                              time_limit=self.config.time_limit,
                              max_iter=self.config.max_iter, instance=a.doc, index=a.index,
                              warm_start=warm, pins=_pins(s, a), status="queued")
            s.add(run)
            s.commit()
            run_id = run.id
        self.execute(run_id)
        return run_id

    def execute(self, run_id: int) -> None:
        """Solve a stored run's instance and store its result; a plan run (not a replay) of
        the still-current data then proposes its transfers."""
        with self.sessions() as s:
            begin_write(s)
            run = s.get(PlanningRun, run_id)
            run.status = "running"
            s.commit()
            inst = Instance.from_json(run.instance)
            # an iteration budget makes a swarm's run a function of its seed (repeatable);
            # then the time limit does not cut it short
            iterations = run.max_iter is not None and run.method == "pso"
            opts = SolveOptions(time_limit=None if iterations else run.time_limit,
                                max_iter=run.max_iter, seed=run.seed)
            warm, pins = run.warm_start, run.pins
        t0 = time.perf_counter()
        plan_doc = None
        try:
            self._job = submit(inst, run.method, opts, warm_start=warm, pins=pins)
            res = self._job.result()
            status, cost, plan_doc = res.status, res.cost, res.plan
            bound = res.bound if res.bound > float("-inf") else None
            error = None
        except Exception as exc:  # NoSolution, a solver failure: stored, not raised
            status, cost, bound, error = "failed", None, None, f"{type(exc).__name__}: {exc}"
        finally:
            self._job = None
        wall = time.perf_counter() - t0
        self.metrics.run(status if status == "failed" else "done", wall)
        with self.sessions() as s:
            begin_write(s)
            run = s.get(PlanningRun, run_id)
            run.status, run.cost, run.bound, run.wall_s = status, cost, bound, wall
            run.plan, run.error = plan_doc, error
            run.finished_at = datetime.now(timezone.utc)
            if plan_doc is not None and run.replay_of is None:
                a = assemble(s)
                if a is not None and a.audit_seq == run.audit_seq:
                    self._propose(s, a, run)
            s.commit()

    def replay(self, session: Session, run_id: int) -> PlanningRun | None:
        """Queue a run with the inputs of run ``run_id`` (same instance, warm start, method,
        seed, budget); the worker executes it. None when there is no such run."""
        old = session.get(PlanningRun, run_id)
        if old is None or old.status == "queued":
            return None
        run = PlanningRun(trigger=f"replay of run {run_id}", audit_seq=old.audit_seq,
                          current_period=old.current_period, method=old.method,
                          seed=old.seed, time_limit=old.time_limit, max_iter=old.max_iter,
                          instance=old.instance, index=old.index, warm_start=old.warm_start,
                          pins=old.pins, status="queued", replay_of=run_id)
        session.add(run)
        return run

    def _propose(self, s: Session, a: Assembled, run: PlanningRun) -> None:
        now = a.settings.current_period
        fids, mids = a.index["firms"], a.index["materials"]
        wanted = []
        for sh in run.plan["shipments"]:
            ret = sh.get("return_period")
            wanted.append((fids[sh["from"]], fids[sh["to"]], mids[sh["material"]],
                           sh["period"] + now - 1, round(sh["qty"], 6), sh["kind"],
                           None if ret is None else ret + now - 1))
        existing = s.scalars(select(Transfer).where(Transfer.state.in_(
            ("proposed", "approved", "accepted", "committed") + REFUSED))).all()
        keep = set()
        for tr in existing:
            key = (tr.donor_id, tr.receiver_id, tr.material_id, tr.period, round(tr.qty, 6),
                   tr.kind, tr.return_period)
            if tr.state in REFUSED:
                keep.add(key[:4])
            elif key in wanted and tr.state != "proposed":
                wanted.remove(key)  # already on its way through the workflow
            elif key in wanted:
                wanted.remove(key)
            elif tr.state == "proposed" and tr.run_id is not None:
                # only its own proposals: one the operator made by hand stays
                before = audit_view(tr)
                tr.state = "superseded"
                s.flush()
                record(s, "planner", "transfer.supersede", f"transfers/{tr.id}", before,
                       audit_view(tr), (tr.donor_id, tr.receiver_id))
        for d, r, m, t, q, kind, ret in wanted:
            if (d, r, m, t) in keep:
                continue
            try:
                tr = new_transfer(s, a, d, r, m, t, q, kind, ret, run_id=run.id)
            except InputError:  # a plan of the current data always fits it; skip if not
                log.warning("planned shipment does not fit the data: %s", (d, r, m, t))
                continue
            record(s, "planner", "transfer.propose", f"transfers/{tr.id}", None,
                   audit_view(tr), (d, r))


def _warm_start(a: Assembled, last: PlanningRun | None) -> dict | None:
    """The last plan carried onto the current instance: its firms and materials found again
    by id, then :func:`~invswarm.engine.roll.roll` moves it by the periods advanced since,
    dropping shipments that no longer fit (left in the past, arrive after the horizon, lost
    their link or pair)."""
    if last is None or not last.plan:
        return None
    fids, mids = last.index["firms"], last.index["materials"]
    shipments = []
    for sh in last.plan["shipments"]:
        try:
            shipments.append(dict(sh, **{"from": a.firm(fids[sh["from"]]),
                                         "to": a.firm(fids[sh["to"]]),
                                         "material": a.material(mids[sh["material"]])}))
        except ValueError:  # a firm or material that is gone
            continue
    shift = a.settings.current_period - last.current_period
    warm, _ = roll(a.inst, {"shipments": shipments}, shift)
    return warm


def _pins(s: Session, a: Assembled) -> dict:
    """Committed transfers (every plan keeps them) and declined or rejected ones (no plan
    makes them again), as the network pins document ``{"keep": [shipments], "forbid":
    [{"from", "to", "material", "period"}]}``."""
    keep = [sh for sh in (shipment(a, t) for t in s.scalars(
        select(Transfer).where(Transfer.state == "committed"))) if sh]
    now, T = a.settings.current_period, a.inst.n_periods
    forbid = []
    for t in s.scalars(select(Transfer).where(Transfer.state.in_(REFUSED))):
        if now <= t.period <= now + T - 1:
            forbid.append({"from": a.firm(t.donor_id), "to": a.firm(t.receiver_id),
                           "material": a.material(t.material_id), "period": t.period - now + 1})
    return {"keep": keep, "forbid": forbid}
