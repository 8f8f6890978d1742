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

from __future__ import annotations

import importlib

#: Each name of the face and the module it comes from. They are imported on first use: the
#: engine's child processes (``python -m invswarm.engine.milp_process``) import the package
#: ``invswarm`` first, and must not pull in the whole engine with it.
_FROM = {
    "InputError": "invswarm.engine.errors",
    "NoSolution": "invswarm.engine.errors",
    "Job": "invswarm.engine.jobs",
    "submit": "invswarm.engine.jobs",
    "STATUSES": "invswarm.engine.result",
    "Result": "invswarm.engine.result",
    "roll": "invswarm.engine.roll",
    "SolveOptions": "invswarm.engine.run_setup",
    "DEFAULT_METHOD": "invswarm.engine.solve",
    "MODEL_METHODS": "invswarm.engine.solve",
    "evaluate": "invswarm.engine.solve",
    "load_instance": "invswarm.engine.solve",
    "model_of": "invswarm.engine.solve",
    "read_plan": "invswarm.engine.solve",
    "solve": "invswarm.engine.solve",
    "StopToken": "invswarm.engine.termination",
}
__all__ = sorted(_FROM)


def __getattr__(name: str):
    if name not in _FROM:
        raise AttributeError(f"module 'invswarm' has no attribute {name!r}")
    value = getattr(importlib.import_module(_FROM[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM})
