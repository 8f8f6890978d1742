"""The rolling re-plan: the previous plan moved onto a new horizon, as a warm start and pins.

A host re-plans every period (or every few): the new instance holds the current data, its
period 1 is the previous instance's period ``1 + shift``. :func:`roll` moves the previous
plan back by ``shift`` periods onto it and pins what the host has released; then
:func:`~invswarm.engine.solve.solve` (``warm_start``, ``pins``) optimizes the rest
(``invswarm roll`` does both).
"""

from __future__ import annotations

from typing import Any

from .errors import InputError
from .fields import inside, integer
from .limits import MAX_PERIODS
from .models.network import roll as net_roll
from .models.network.pins import Pins as NetworkPins
from .models.sfi import roll as sfi_roll
from .result import plan_in
from .solve import model_of


def roll(inst, previous: Any, shift: int, *, release: int = 0) -> tuple[dict, dict]:
    """The previous plan on the new instance ``inst``, as ``(warm_start, pins)`` documents.

    Parameters
    ----------
    inst : network.Instance or sfi.Instance
        The new instance; its period 1 is the previous horizon's period ``1 + shift``.
    previous : dict
        A plan document or a result document of the previous horizon.
    shift : int
        Periods the horizon moved (>= 0).
    release : int
        The first ``release`` periods of the moved plan become pins (decisions already
        released to the floor or to the partners), >= 0.

    Returns
    -------
    (dict, dict)
        The warm start (a plan document of ``inst``) and the pins document for
        :func:`~invswarm.engine.solve.solve`. What each model drops or carries is a
        **Decision** of its page ("Rolling horizon").

    Raises
    ------
    InputError
        Naming the field (``shift``, ``release``, ``previous...``, ``pins.keep[k]`` when the
        released decisions may not be carried out on ``inst``).
    """
    shift = integer(shift, "shift", low=0, high=MAX_PERIODS)
    release = integer(release, "release", low=0, high=MAX_PERIODS)
    model = model_of(inst)
    if model == "contracts":
        raise InputError("instance", "the contracts model has no rolling re-plan")
    with inside("previous"):
        plan_doc, where = plan_in(previous, model)
        if model == "sfi":
            tables = sfi_roll.read(inst, plan_doc, where)
        else:
            warm, pins = net_roll.shifted(inst, plan_doc, where, shift, release)
    if model == "sfi":
        return sfi_roll.shifted(inst, tables, f"previous.{where}" if where else "previous",
                                shift, release)
    NetworkPins.from_json(pins, inst)  # released decisions that cannot stand: named now
    return warm, pins
