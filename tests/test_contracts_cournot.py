"""The retailers' Cournot equilibrium under caps: every retailer's optimality conditions, an
independent active-set enumeration of the LCP, a brute-force grid of deviations."""

from __future__ import annotations

import numpy as np
import pytest

from invswarm.engine.models.contracts.cournot import (
    equilibria,
    equilibrium,
    kkt_residual,
    retailer_profit,
)
from tests.reference.contracts import lcp_by_active_sets


def _random(rng, R, M, ties=False):
    z = rng.uniform(500, 2500, R)
    w = rng.uniform(100, 2000, M)
    if ties and M > 1:
        w[rng.integers(0, M)] = w[0]
    k = rng.uniform(0, 800, (R, M)) * (rng.random((R, M)) > 0.2)
    return w, k, z


@pytest.mark.parametrize("R,M", [(1, 1), (2, 2), (3, 2), (2, 4), (5, 3), (8, 5)])
def test_every_retailer_optimality_conditions(R, M):
    rng = np.random.default_rng(R * 10 + M)
    worst = 0.0
    for c in range(300):
        w, k, z = _random(rng, R, M, ties=c % 4 == 0)
        y, S = equilibrium(w, k, z)
        assert S == pytest.approx(y.sum(), rel=1e-12, abs=1e-9)
        assert (y >= 0).all() and (y <= k * (1 + 1e-15)).all()
        worst = max(worst, kkt_residual(y, w, k, z))
    assert worst <= 1e-9


def test_matches_the_active_set_enumeration():
    rng = np.random.default_rng(5)
    checked = 0
    for R, M in [(1, 2), (2, 1), (2, 2), (3, 2), (2, 3)]:
        for _ in range(40):
            w, k, z = _random(rng, R, M)
            sols = lcp_by_active_sets(w, k, z)
            y, _ = equilibrium(w, k, z)
            assert sols, "the enumeration finds the equilibrium"
            for s in sols:  # distinct prices: the solution is unique
                assert np.allclose(s, y, rtol=0, atol=1e-9 * max(1.0, np.abs(y).max()))
            checked += 1
    assert checked == 200


def test_no_retailer_gains_on_a_grid_of_deviations():
    rng = np.random.default_rng(8)
    grid = np.linspace(0.0, 1.0, 41)
    for _ in range(30):
        w, k, z = _random(rng, 2, 2)
        y, _ = equilibrium(w, k, z)
        for i in range(2):
            best = retailer_profit(i, y, w, z)
            for a in grid:
                for b in grid:
                    dev = y.copy()
                    dev[i] = (a * k[i, 0], b * k[i, 1])
                    assert retailer_profit(i, dev, w, z) <= best + 1e-9 * max(1.0, abs(best))


def test_uncapped_closed_form_and_cheapest_source_first():
    z = np.array([2000.0, 1800.0, 1500.0])
    w = np.array([900.0, 700.0])
    k = np.full((3, 2), 1e6)
    y, S = equilibrium(w, k, z)
    # everyone buys only from the cheaper source: z_i - S - Y_i = 700
    assert S == pytest.approx((z.sum() - 3 * 700) / 4, rel=1e-13)
    assert (y[:, 0] == 0).all()
    assert y[:, 1] == pytest.approx(z - S - 700, rel=1e-13)
    # a binding cap at the cheaper source sends the rest to the dearer one
    k[0, 1] = 100.0
    y, S = equilibrium(w, k, z)
    assert y[0, 1] == 100.0 and y[0, 0] > 0
    assert z[0] - S - y[0].sum() == pytest.approx(900.0, rel=1e-12)


def test_equal_prices_split_in_proportion_to_the_caps():
    z = np.array([2000.0])
    w = np.array([800.0, 800.0, 1200.0])
    k = np.array([[100.0, 300.0, 50.0]])
    y, S = equilibrium(w, k, z)
    # wants (2000 - 800) / 2 = 600 > 400 at 800, then 1200 binds: z - 2Y = 1200 -> Y = 400
    assert S == pytest.approx(400.0, rel=1e-13)
    assert y[0] == pytest.approx([100.0, 300.0, 0.0])
    k = np.array([[1000.0, 3000.0, 50.0]])
    y, S = equilibrium(w, k, z)
    assert y[0] == pytest.approx([150.0, 450.0, 0.0], rel=1e-13)


def test_batch_equals_one_by_one():
    rng = np.random.default_rng(9)
    W, K, Z = zip(*[_random(rng, 3, 2) for _ in range(20)])
    z = Z[0]
    y, S = equilibria(np.array(W), np.array(K), z)
    for p in range(20):
        y1, s1 = equilibrium(W[p], K[p], z)
        assert np.array_equal(y[p], y1) and S[p] == s1
