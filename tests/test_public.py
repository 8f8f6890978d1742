"""The package's face: ``import invswarm`` gives the entry points of docs/embedding.md."""

from __future__ import annotations

import pytest

import invswarm
from invswarm.engine.models import sfi


def test_the_face_solves_a_document_end_to_end():
    inst = invswarm.load_instance(sfi.steel_case(3))
    assert invswarm.model_of(inst) == "sfi"
    res = invswarm.solve(inst, "pso", invswarm.SolveOptions(max_iter=3, swarm_size=6, seed=1))
    assert isinstance(res, invswarm.Result)
    assert res.status in invswarm.STATUSES and res.success
    assert invswarm.evaluate(inst, res.plan)["cost"] == pytest.approx(res.cost, rel=1e-12)
    job = invswarm.submit(inst, "pso", invswarm.SolveOptions(max_iter=3, swarm_size=6, seed=1))
    assert job.result(timeout=120).cost == res.cost


def test_the_default_method_is_the_models():
    inst = invswarm.load_instance(sfi.steel_case(3))
    assert invswarm.solve(inst).method == invswarm.DEFAULT_METHOD["sfi"] == "exact"


def test_a_document_in_place_of_an_instance_is_named():
    with pytest.raises(invswarm.InputError, match="instance: expected an instance"):
        invswarm.solve(sfi.steel_case(3), "pso")


def test_every_name_of_the_face_is_there():
    for name in invswarm.__all__:
        assert getattr(invswarm, name) is not None


def test_the_face_imports_the_engine_only_when_used():
    # the exact solver's child process runs ``python -m invswarm.engine.milp_process``, which
    # imports the package ``invswarm`` first
    import subprocess
    import sys

    code = ("import sys, invswarm; print('invswarm.engine.solve' in sys.modules); "
            "invswarm.solve; print('invswarm.engine.solve' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]
