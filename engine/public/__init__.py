"""invswarm: plans of inventory transfers in manufacturing, by batched Numba cost kernels, a
particle swarm and an exact MILP (HiGHS).

This is what ``import invswarm`` gives (``pyproject.toml`` maps the package ``invswarm`` to
this folder; the rest lives in ``invswarm.engine`` and ``invswarm.kernels``)::

    import invswarm

    inst = invswarm.load_instance(doc)               # a JSON document (dict); bad input:
                                                     # InputError naming the field
    res = invswarm.solve(inst, "pso", invswarm.SolveOptions(time_limit=30, seed=1))
    res.cost, res.status, res.success, res.plan      # res.to_json(): the CLI's output

    job = invswarm.submit(inst, "pso", opts)         # returns at once (docs/embedding.md)
    job.best(); job.stop(); job.result()

    warm, pins = invswarm.roll(new_inst, res.to_json(), shift=1, release=1)
    res = invswarm.solve(new_inst, "pso", opts, warm_start=warm, pins=pins)

The models are the instance's ``model``: ``sfi``, ``network`` and ``contracts``;
:data:`MODEL_METHODS` lists each one's methods and :data:`STATUSES` how a run may end.
"""

from invswarm.engine.errors import InputError, NoSolution
from invswarm.engine.jobs import Job, submit
from invswarm.engine.result import STATUSES, Result
from invswarm.engine.roll import roll
from invswarm.engine.run_setup import SolveOptions
from invswarm.engine.solve import (
    DEFAULT_METHOD,
    MODEL_METHODS,
    evaluate,
    load_instance,
    model_of,
    read_plan,
    solve,
)
from invswarm.engine.termination import StopToken

__all__ = [
    "DEFAULT_METHOD",
    "MODEL_METHODS",
    "STATUSES",
    "InputError",
    "Job",
    "NoSolution",
    "Result",
    "SolveOptions",
    "StopToken",
    "evaluate",
    "load_instance",
    "model_of",
    "read_plan",
    "roll",
    "solve",
    "submit",
]
