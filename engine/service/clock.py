"""The period schedule: a thread that ends the current period every configured interval."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from .db import begin_write
from .period import advance_period

#: The actor the audit log names for the schedule's changes.
ACTOR = "schedule"


class PeriodClock:
    """Ends the current period every ``seconds`` (as the operator's ``POST /period/advance``
    does, audited as ``schedule``), then nudges the planner.

    Parameters
    ----------
    sessions : sessionmaker
    seconds : float
        Wall-clock seconds per period.
    after : callable
        Called after each committed advance (the planner's nudge).
    """

    def __init__(self, sessions: sessionmaker[Session], seconds: float, after):
        self._sessions = sessions
        self._seconds = seconds
        self._after = after
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="invswarm-period-clock",
                                        daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._closing.wait(self._seconds):
            with self._sessions() as s:
                begin_write(s)
                advance_period(s, ACTOR)
                s.commit()
            self._after()
