"""The model builder and HiGHS (engine/milp.py)."""

from __future__ import annotations

import numpy as np
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


def _rows_model(n_rows: int) -> ModelBuilder:
    b = ModelBuilder()
    xs = [b.col(cost=1.0) for _ in range(4)]
    for r in range(n_rows):
        # lists and arrays, of different lengths, as the models' builds give them
        idx = xs[:1 + r % 4] if r % 2 else np.array(xs[:1 + r % 4])
        b.row(idx, [float(r + k) for k in range(len(idx))], lo=1.0)
    return b


def test_the_hand_off_gives_the_columns_and_rows_as_added():
    b = _rows_model(11)
    b.fix(1, 2.0)
    (n_cols, n_rows, nnz, _, _, _, cost, lb, ub, rlo, rhi, starts, idx, val,
     integrality) = b.arrays()
    assert (n_cols, n_rows, nnz) == (4, 11, sum(1 + r % 4 for r in range(11)))
    assert cost.tolist() == [1.0] * 4 and lb.tolist() == [0.0, 2.0, 0.0, 0.0]
    assert ub[1] == 2.0 and integrality.tolist() == [0] * 4
    assert rlo.tolist() == [1.0] * 11 and starts.dtype == idx.dtype == np.int32
    assert starts.tolist() == [0, *np.cumsum([1 + r % 4 for r in range(11)])]
    assert idx.tolist() == [j for r in range(11) for j in range(1 + r % 4)]
    assert val.tolist() == [float(r + k) for r in range(11) for k in range(1 + r % 4)]
    b.row([0, 0], [1.0, 1.0])  # the builder grows on after a hand-off
    assert b.arrays()[2] == nnz + 2


@pytest.mark.parametrize("field,value", [("time_limit", 0.0), ("gap", 1.0), ("threads", -1),
                                         ("complete", 1.0), ("complete", -0.1)])
def test_options_out_of_range_name_their_field(field, value):
    with pytest.raises(ValueError, match=f"^{field}: must"):
        MilpOptions(**{field: value})
