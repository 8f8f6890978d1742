"""One margin decides when a cost is lower (engine/improvement.py)."""

from __future__ import annotations

import math

from invswarm.engine.improvement import below, improves, margin


def test_round_off_is_no_improvement_and_anything_finite_beats_a_broken_plan():
    assert margin(0.5) == 1e-9 and margin(-2e6) == 2e-3
    assert improves(1e6 - 2e-3, 1e6) and not improves(1e6 - 5e-4, 1e6)
    assert not improves(1.0, 1.0) and not improves(2.0, 1.0)
    assert improves(-1.0 - 2e-9, -1.0) and not improves(-1.0 - 5e-10, -1.0)
    assert below(math.inf) == math.inf
    assert improves(1e300, math.inf) and not improves(math.inf, math.inf)
