"""The model builder and HiGHS (engine/milp.py)."""

from __future__ import annotations

import pytest

from invswarm.engine.milp import BuildStopped, MilpOptions, ModelBuilder, run


def _model(coefficient: float) -> ModelBuilder:
    b = ModelBuilder()
    x = b.col(ub=10.0, cost=-1.0)
    b.row([x], [coefficient], hi=5.0)
    return b


def test_a_model_highs_accepts_is_solved():
    out = run(_model(2.0).to_highs(), MilpOptions(time_limit=10))
    assert out.optimal and out.objective == pytest.approx(-2.5)


def test_a_model_highs_refuses_is_an_error_not_an_empty_model():
    # HiGHS refuses matrix entries of 1e15 or more and keeps an empty model, whose optimum 0
    # would be a wrong answer
    with pytest.raises(RuntimeError, match="HiGHS refused the model"):
        _model(1e16).to_highs()


def test_a_build_ends_at_the_first_look_after_it_is_asked_to():
    asks = []

    def ended() -> bool:
        asks.append(None)
        return len(asks) > 2  # the third look

    b = ModelBuilder(ended)
    with pytest.raises(BuildStopped, match="at 512 columns"):
        for _ in range(10_000):
            b.col()
    assert b.n_cols == 2 * ModelBuilder.LOOK_EVERY
