"""The service's options."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceConfig:
    """Options of one service instance.

    Attributes
    ----------
    db_url : str
        ``sqlite:///path`` or ``postgresql://user@host/db`` (optionally
        ``?options=-csearch_path%3Dschema``).
    operator_token : str
        The operator's bearer token (kept only as its hash once the app is built).
    method : {"pso", "exact", "greedy", "none"}
        The planning method.
    time_limit : float
        Seconds each planning run may take (the budget).
    max_iter : int or None
        With ``pso``: an iteration budget instead of the time limit; the run is then a
        function of its inputs and seed (a replay gives the same plan).
    seed : int
        Seed of the planning runs.
    debounce : float
        Seconds the worker waits after a change for more changes before it plans.
    planning : bool
        Run the background planning worker (off: plans are made only by an explicit call).
    period_seconds : float or None
        End the current period every this many seconds (None: only the operator's call
        does).
    """

    db_url: str = "sqlite:///invswarm.db"
    operator_token: str = ""
    method: str = "pso"
    time_limit: float = 10.0
    max_iter: int | None = None
    seed: int = 0
    debounce: float = 1.0
    planning: bool = True
    period_seconds: float | None = None

    def __post_init__(self):
        if self.method not in ("pso", "exact", "greedy", "none"):
            raise ValueError(f"method: unknown planning method {self.method!r}")
        if not self.time_limit > 0:
            raise ValueError(f"time_limit: must be > 0, got {self.time_limit!r}")
        if self.debounce < 0:
            raise ValueError(f"debounce: must be >= 0, got {self.debounce!r}")
        if self.period_seconds is not None and not self.period_seconds > 0:
            raise ValueError(f"period_seconds: must be > 0, got {self.period_seconds!r}")
        if len(self.operator_token) < 16:
            raise ValueError("operator_token: must have at least 16 characters")
