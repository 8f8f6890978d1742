"""The application: routes, error bodies, metrics, the database and the planning worker."""

from __future__ import annotations

import re
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse

from ..errors import InputError
from . import api_audit, api_parties, api_shared, api_stock, api_transfers, pages
from .assemble import settings_out
from .audit import record
from .auth import token_hash
from .clock import PeriodClock
from .config import ServiceConfig
from .db import make_engine, migrate, session_factory
from .metrics import Metrics
from .planner import Planner
from .tables import Setting

#: The horizon of a new service (the operator changes it with PUT /settings).
DEFAULT_PERIODS = 12


def _loc(field: str) -> list[str | int]:
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", field):
        parts.append(int(index) if index else name)
    if not parts or parts[0] not in ("body", "query", "path", "header"):
        parts.insert(0, "body")
    return parts


def create_app(config: ServiceConfig, *, worker: bool | None = None) -> FastAPI:
    """The service's ASGI app. The database is migrated here; the planning worker starts
    with the app's lifespan (``worker``: default ``config.planning``)."""
    engine = make_engine(config.db_url)
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as s:
        if s.get(Setting, 1) is None:
            st = Setting(id=1, periods=DEFAULT_PERIODS, current_period=1, loan_durations=[],
                         loan_fee=0.0)
            s.add(st)
            s.flush()
            record(s, "service", "settings.create", "settings/1", None, settings_out(st))
            s.commit()
    metrics = Metrics()
    planner = Planner(sessions, config, metrics)
    run_worker = config.planning if worker is None else worker
    clock = None
    if config.period_seconds is not None:
        clock = PeriodClock(sessions, config.period_seconds,
                            lambda: planner.nudge("period advanced (schedule)"))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if run_worker:
            planner.start()
        if clock is not None:
            clock.start()
        try:
            yield
        finally:
            if clock is not None:
                clock.close()
            planner.close()
            engine.dispose()

    app = FastAPI(title="invswarm redeployment service", version="1", lifespan=lifespan,
                  description="Firms post their own data; the engine plans transfers in the "
                              "background; donors approve. See docs/service.md.")
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.config = config
    app.state.operator_hash = token_hash(config.operator_token)
    app.state.metrics = metrics
    app.state.planner = planner

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError):
        return JSONResponse({"detail": [{"loc": _loc(exc.field), "msg": exc.problem,
                                         "type": "value_error"}]}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": [{"loc": list(e["loc"]), "msg": e["msg"],
                                         "type": e["type"]} for e in exc.errors()]},
                            status_code=422)

    @app.middleware("http")
    async def _measure(request: Request, call_next):
        t0 = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        name = getattr(route, "path", "unmatched")
        metrics.request(request.method, name, response.status_code, time.perf_counter() - t0)
        return response

    @app.get("/health", tags=["service"])
    def health() -> dict:
        """200 while the service runs (no token needed)."""
        return {"status": "ok"}

    @app.get("/metrics", tags=["service"], response_class=PlainTextResponse)
    def prometheus() -> str:
        """Requests, latencies and planning runs in Prometheus' text format."""
        return metrics.text()

    for module in (api_parties, api_shared, api_stock, api_transfers, api_audit, pages):
        app.include_router(module.router)
    return app
