"""Saving and resuming the swarm phase of a long run.

A :class:`Checkpoint` holds the islands' state between two epochs: every swarm (positions,
velocities, personal bests), the migrants on their way, the iteration and evaluation counts,
the best-cost history and the run's budget figures. :func:`invswarm.engine.parallel.
run_islands` saves it after every epoch (at each migration) and when the swarms end, and
starts from it when the file is there: the epochs that follow are those the uninterrupted
run would have made, so an iteration-budgeted run resumed after a crash (or a ``kill -9``)
ends with the same plan. The phases after the swarms (local search, kicks) are not saved:
they start again from the swarms' end, which gives the same plan with an iteration or
evaluation budget.

The file is a NumPy ``.npz`` archive read without pickles (a checkpoint from elsewhere cannot
run code), written atomically (a kill while saving leaves the previous one). It names the run
it belongs to (a digest of the instance and of the options that shape the search); another
run's file is refused with an error naming it.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .errors import InputError
from .jsonio import write_atomic
from .pso import SwarmState

_FIELDS = ("position", "velocity", "best_position", "best_cost", "cost", "neighbour")


def run_key(*parts) -> str:
    """A digest of what makes a run's search (instance document, method, options)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Checkpoint:
    """The checkpoint file ``path`` of the run named ``key`` (:func:`run_key`)."""

    def __init__(self, path: str, key: str):
        self.path = Path(path)
        self.key = key

    def save(self, states: list[SwarmState | None], migrants: list, meta: dict) -> None:
        """Write the islands' ``states``, the ``migrants`` they are to receive and ``meta``
        (JSON numbers and lists) atomically."""
        arrays = {"meta": np.array(json.dumps({"key": self.key, **meta}))}
        for i, state in enumerate(states):
            if state is not None:
                arrays.update({f"{name}_{i}": getattr(state, name) for name in _FIELDS})
        for i, migrant in enumerate(migrants):
            if migrant is not None:
                arrays[f"migrant_x_{i}"] = np.asarray(migrant[0])
                arrays[f"migrant_f_{i}"] = np.array(float(migrant[1]))
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        write_atomic(self.path, buf.getvalue())

    def load(self, islands: int) -> tuple[list[SwarmState | None], list, dict] | None:
        """The saved ``(states, migrants, meta)``, or None when there is no file. Raises
        :class:`InputError` on ``checkpoint`` when the file is not a checkpoint of this run."""
        if not self.path.exists():
            return None
        try:
            with np.load(self.path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
            meta = json.loads(str(data.pop("meta")))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise InputError("checkpoint", f"{self.path} is not a checkpoint file "
                                           f"({type(exc).__name__})") from None
        if meta.get("key") != self.key:
            raise InputError("checkpoint", f"{self.path} was saved by another run (its "
                                           "instance or search options differ); remove it "
                                           "or give another file")
        try:
            states = [SwarmState(**{name: data[f"{name}_{i}"] for name in _FIELDS})
                      if f"X_{i}" in data else None for i in range(islands)]
            migrants = [(data[f"migrant_x_{i}"], float(data[f"migrant_f_{i}"]))
                        if f"migrant_x_{i}" in data else None for i in range(islands)]
        except KeyError as exc:
            raise InputError("checkpoint", f"{self.path}: {exc.args[0]} is missing") from None
        return states, migrants, meta

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
