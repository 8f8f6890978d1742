"""Saving and resuming the swarms of a long run (engine/checkpoint.py, --checkpoint)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from invswarm.engine.cli import main
from invswarm.engine.models import sfi


@pytest.fixture
def case(tmp_path):
    path = tmp_path / "steel3.json"
    path.write_text(json.dumps(sfi.steel_case(3)))
    return path


def test_a_checkpoint_of_another_run_or_no_checkpoint_at_all_is_refused(tmp_path, case,
                                                                        capsys):
    ck = tmp_path / "run.ckpt"
    out = tmp_path / "r.json"
    args = ["solve", str(case), "--method", "pso", "--max-iter", "30", "--swarm-size", "4",
            "--checkpoint", str(ck), "--out", str(out)]
    # a stopped run keeps its checkpoint; here one made by another seed
    from invswarm.engine.checkpoint import Checkpoint

    Checkpoint(str(ck), "another run").save([None], [None], {})
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "checkpoint" in err and "another run" in err and not out.exists()
    ck.write_bytes(b"not a checkpoint")
    assert main(args) == 2
    assert "is not a checkpoint file" in capsys.readouterr().err
    ck.unlink()
    assert main(args) == 0 and out.exists()
    assert not ck.exists()  # ended by its budget: nothing to resume
    assert main(["solve", str(case), "--method", "exact", "--checkpoint", str(ck)]) == 2
    assert "only the pso method" in capsys.readouterr().err


@pytest.mark.slow
def test_a_run_killed_and_resumed_ends_with_the_uninterrupted_plan(tmp_path, case):
    common = [sys.executable, "-m", "invswarm.engine.launch", "solve", str(case), "--method",
              "pso", "--max-iter", "600", "--swarm-size", "4"]
    plain = tmp_path / "plain.json"
    subprocess.run([*common, "--out", str(plain)], check=True, capture_output=True)
    ck = tmp_path / "run.ckpt"
    out = tmp_path / "resumed.json"
    cmd = [*common, "--checkpoint", str(ck), "--out", str(out), "--progress", "jsonl"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    # the first migration (250 iterations) saves the swarms
    for line in proc.stderr:
        event = json.loads(line)
        if event["event"] == "progress" and event.get("iteration", 0) >= 250:
            break
    deadline = time.monotonic() + 60
    while not ck.exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert not out.exists() and ck.exists()
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # it went on from the checkpoint: its first epoch ends at the second migration or later
    first = next(e for e in map(json.loads, done.stderr.splitlines())
                 if e["event"] == "progress")
    assert first["iteration"] >= 500
    resumed, uninterrupted = json.loads(out.read_text()), json.loads(plain.read_text())
    assert resumed["plan"] == uninterrupted["plan"] and resumed["cost"] == uninterrupted["cost"]
    assert resumed["status"] == "max_iter" and not ck.exists()
