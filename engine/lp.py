"""Linear programs (the relaxations of our models) solved by HiGHS: options and the solve."""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from .milp import interrupt_on
from .termination import StopToken


@dataclass(frozen=True)
class LpOptions:
    """Options of a linear program's solve.

    Attributes
    ----------
    time_limit : float or None
        HiGHS's time limit in seconds (None: none).
    threads : int
        HiGHS threads (0: HiGHS decides).
    max_simplex : int or None
        Simplex iterations at most (None: no bound): a bound on the work that holds no clock.
    """

    time_limit: float | None = None
    threads: int = 0
    max_simplex: int | None = None


@dataclass(frozen=True, eq=False)
class LpSolution:
    """An optimal solution: the objective and the column values, shape (n_cols,)."""

    objective: float
    x: np.ndarray


def run_lp(h: highspy.Highs, opts: LpOptions, stop: StopToken | None = None
           ) -> LpSolution | None:
    """Solve the LP held by ``h``; None unless it is solved to optimality within ``opts``
    (or when ``stop`` was set meanwhile: HiGHS looks for it between its iterations)."""
    if opts.time_limit is not None:
        h.setOptionValue("time_limit", float(opts.time_limit))
    if opts.threads:
        h.setOptionValue("threads", int(opts.threads))
    if opts.max_simplex is not None:
        h.setOptionValue("simplex_iteration_limit", int(opts.max_simplex))
    interrupt_on(h, stop)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return LpSolution(float(h.getInfo().objective_function_value),
                      np.asarray(h.getSolution().col_value))
