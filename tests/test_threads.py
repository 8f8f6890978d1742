"""The thread budget: the CPUs this process may use, and each run's share of them
(engine/threads.py)."""

from __future__ import annotations

import os
import threading

import numba
import pytest

from invswarm.engine import threads
from invswarm.engine.errors import InputError
from invswarm.engine.jobs import submit
from invswarm.engine.models import sfi
from invswarm.engine.solve import SolveOptions, solve


def test_the_cpus_follow_the_affinity_and_the_cgroup_quota(tmp_path):
    mine = min(len(os.sched_getaffinity(0)), numba.config.NUMBA_NUM_THREADS)
    quota = tmp_path / "cpu.max"
    for text, expected in (("max 100000\n", mine), ("50000 100000\n", 1),
                           ("150000 100000\n", min(mine, 2)), ("garbage", mine)):
        quota.write_text(text)
        assert threads.available_cpus(str(quota)) == expected
    assert threads.available_cpus(str(tmp_path / "none")) == mine


def test_runs_side_by_side_share_the_cpus():
    cpus = threads.available_cpus()
    a = threads.claim(None)
    try:
        assert a.count == cpus
        b = threads.claim(0)
        assert a.count == b.count == max(1, cpus // 2)
        one = threads.claim(1)
        assert one.count == 1 and a.count == max(1, cpus // 3)
        one.release()
        b.release()
        assert a.count == cpus
    finally:
        a.release()
    with pytest.raises(ValueError, match="threads"):
        threads.claim(-1)
    with pytest.raises(InputError, match="threads"):
        solve(sfi.load_steel(6), "pso", SolveOptions(max_iter=2, threads=-2))


@pytest.mark.slow
def test_two_jobs_in_one_process_do_not_oversubscribe():
    cpus = threads.available_cpus()
    before = numba.get_num_threads()
    seen, lock = [], threading.Lock()

    def watcher(name):
        def on_event(event):
            # called from the job's own thread: its Numba threads
            if event["event"] == "progress":
                with lock:
                    seen.append((name, numba.get_num_threads()))
        return on_event

    inst = sfi.load_steel(12)
    first = submit(inst, "pso", SolveOptions(time_limit=4), on_event=watcher("first"))
    while not any(name == "first" for name, _ in seen):
        assert not first.wait(0.05)
    alone = [n for name, n in seen if name == "first"]
    second = submit(inst, "pso", SolveOptions(time_limit=2, seed=1),
                    on_event=watcher("second"))
    second.result(timeout=60)
    with lock:
        both = list(seen)
    first.result(timeout=60)
    assert alone[0] == cpus
    # once the second job reported, the first had shrunk to its share at its next look
    k = next(i for i, (name, _) in enumerate(both) if name == "second")
    assert all(n <= max(1, cpus // 2) for _, n in both[k + 1:])
    assert numba.get_num_threads() == before  # the caller's thread is untouched
