"""When a cost counts as lower: one margin for every phase that keeps the better of two plans.

Kernel sums are floating-point: a candidate that differs from the current plan by round-off
only must not pass for an improvement (a search would then cycle between equal plans).
"""

from __future__ import annotations

import math

#: Relative margin by which a cost must fall to count as lower (at least this much in
#: absolute terms for costs below 1).
REL_MARGIN = 1e-9


def margin(cost: float) -> float:
    """How much a candidate must undercut ``cost`` to improve on it (same unit as the cost)."""
    return REL_MARGIN * max(1.0, abs(cost))


def below(cost: float) -> float:
    """The cost a candidate must be under to improve on ``cost``; from ``inf`` (a plan that
    breaks a rule) any finite cost improves."""
    return cost - margin(cost) if cost < math.inf else math.inf


def improves(candidate: float, cost: float) -> bool:
    """``candidate`` is lower than ``cost`` by more than round-off."""
    return candidate < below(cost)
