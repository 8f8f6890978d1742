"""The peers experiment: equal budgets, gaps to the best plan known, the ratios."""

from __future__ import annotations

import pytest

from invswarm.engine.bench_peers import (
    PeersOptions,
    headline_lines,
    report_section,
    run,
    summary,
)


@pytest.mark.slow  # exact solves
def test_each_peer_gets_our_budget_and_we_get_each_peers_evaluations(tmp_path):
    o = PeersOptions(families=("tight",), size=(2, 2), periods=6, seeds=(1,), time=1.0,
                     peers=("pyswarms", "nevergrad"), exact_time=20.0,
                     cache=str(tmp_path / "exact.json"))
    res = run(o, log=lambda s: None)
    (row,) = res["rows"]
    ours = row["ours"]
    costs = [ours["cost"], row["exact"]]
    for p in o.peers:
        peer, at = row["peers"][p], row["ours_at"][p]
        assert peer["evaluations"] <= ours["evaluations"] + 1e-9
        assert peer["wall_s"] < o.time + 0.5
        if peer["evaluations"] < ours["evaluations"]:
            # bounded by the peer's evaluations (past them by at most its first swarms)
            assert at["evaluations"] < ours["evaluations"]
            assert f"({at['evaluations']:,.0f})" in "\n".join(report_section(res))
        else:
            assert at is ours or at == ours
        costs += [peer["cost"], at["cost"]]
    assert row["best"] == min(c for c in costs if c is not None)
    assert row["ours_gap"] == pytest.approx((ours["cost"] - row["best"]) / ours["cost"])
    text = "\n".join(report_section(res))
    (s,) = res["summary"]
    met = int(all(r is None or r >= 5 for r in (s["ratio"], s["ratio_at_evaluations"])))
    assert "| tight | 1 |" in text and f"Goal met (both ratios at least 5) on {met} of 1" in text
    assert f"evaluations, on {met} of 1 families." in headline_lines({"peers": res})[1]
    assert headline_lines({}) == []


def _row(family, ours, peers, ours_at):
    return {"family": family, "ours_gap": ours, "peer_gaps": peers, "ours_at_gaps": ours_at}


def test_the_ratio_is_the_best_peers_median_over_ours():
    rows = [_row("a", 0.01, {"x": 0.2, "y": 0.06}, {"x": 0.01, "y": 0.02}),
            _row("a", 0.02, {"x": 0.4, "y": 0.10}, {"x": 0.02, "y": 0.03}),
            _row("a", 0.03, {"x": 0.6, "y": 0.14}, {"x": 0.03, "y": 0.04}),
            _row("b", 0.0, {"x": 0.1, "y": 0.2}, {"x": 0.0, "y": 0.0})]
    a, b = summary(rows, ("x", "y"))
    assert a["best_peer"] == "y" and a["ratio"] == pytest.approx(0.10 / 0.02)
    assert a["ratio_at_evaluations"] == pytest.approx(min(0.4 / 0.02, 0.10 / 0.03))
    # ours is the best plan known: no finite ratio (None, which JSON keeps)
    assert b["ratio"] is None and b["ratio_at_evaluations"] is None


def test_options_name_the_bad_field():
    with pytest.raises(ValueError, match="peers: unknown peer"):
        PeersOptions(peers=("scipy",))
    with pytest.raises(ValueError, match="families: unknown family"):
        PeersOptions(families=("nope",))
    with pytest.raises(ValueError, match="time"):
        PeersOptions(time=0)
